"""lts_node's parameters keep the type of their default (``ros.params``) under rclpy, whatever ROS tools send.

rclpy either types a parameter statically (a launch value of another type then kills the node while it is
constructed, and ``ros2 param set`` of a wrong type is refused with bare type numbers) or dynamically (then a
refused value still changes the type ``ros2 param describe`` reports). Here parameters are static, and:

- at declaration, the launch value is read through a dynamically typed declaration first: a valid one is taken
  (an integer for a float as that float), a bad one leaves the default and is returned as a problem, which
  fails configure with the reason;
- before each set (a pre-set callback), an integer for a float becomes that float, and a value of another type
  is held back (the current value stands in for it) with the node's reason, for the on-set callback to refuse."""
from __future__ import annotations

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from rclpy.parameter import Parameter

from lts_ros.ros.params import BY_NAME, PARAMS


def declare_typed(node: Node) -> dict[str, str]:
    """Declare every parameter of ``ros.params`` on ``node``; name -> why its launch value was not taken."""
    problems = {}
    for param in PARAMS:
        given = node.declare_parameter(param.name, param.default, ParameterDescriptor(dynamic_typing=True)).value
        node.undeclare_parameter(param.name)
        reason = param.validate(given)
        if reason:
            problems[param.name] = f"{reason} (launch value; {param.default!r} kept)"
        node.declare_parameter(param.name, param.default if reason else param.coerce(given), param.descriptor(),
                               ignore_override=True)
    return problems


class TypeKeeper:
    """The pre-set callback above; ``refused`` holds the reasons for the set in progress (name -> reason)."""

    def __init__(self, node: Node):
        self.node = node
        self.refused: dict[str, str] = {}

    def __call__(self, params: list[Parameter]) -> list[Parameter]:
        self.refused = {}
        kept = []
        for param in params:
            spec = BY_NAME.get(param.name)
            if spec is None:
                kept.append(param)
                continue
            reason = spec.type_problem(param.value)
            if reason:
                self.refused[param.name] = reason
            value = self.node.get_parameter(param.name).value if reason else spec.coerce(param.value)
            kept.append(Parameter(param.name, value=value))
        return kept
