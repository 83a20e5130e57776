"""The node's parameters in one table: default, description, range or choices, validation. ``config/lts.yaml``
and the launch file are checked against it by the tests. Each parameter keeps its default's type (``ros2 param
describe`` says so, and a value of another type is refused); an integer given for a float is taken as that float,
as people type ``threshold:=1`` (``ros.typed_params`` makes rclpy hold to this). Every value is checked here: at
launch (a bad launch value leaves the default in place and fails configure with the reason, rather than killing
the node during construction), at configure and on every change."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

from lts_ros.options import AUTO, BACKEND_CHOICES, PRECISIONS, PRESENCE_THRESHOLD, device_problem

RELIABILITY = ("reliable", "best_effort")
TYPE_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
TRANSPORTS = ("raw", "compressed")


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    description: str
    choices: tuple[str, ...] = ()
    low: float | None = None  # inclusive range for numbers
    high: float | None = None
    check: Callable[[Any], str | None] | None = None  # extra rule: the reason a value is bad, else None
    live: bool = False  # applied at once while active; the others are read at configure

    def descriptor(self) -> ParameterDescriptor:
        """Description, choices and range for ``ros2 param describe``; the type is the default's (rclpy takes it
        from the value the parameter is declared with)."""
        extra = [f"one of: {', '.join(self.choices)}"] if self.choices else []
        extra += [] if self.live else ["read at configure"]
        d = ParameterDescriptor(description=f"{self.description} ({'; '.join(extra)})" if extra else self.description)
        if self.low is not None and isinstance(self.default, float):
            d.floating_point_range = [FloatingPointRange(from_value=self.low, to_value=self.high)]
        elif self.low is not None:
            d.integer_range = [IntegerRange(from_value=int(self.low), to_value=int(self.high), step=1)]
        return d

    def coerce(self, value: Any) -> Any:
        """``value`` as the parameter's type where that is lossless: a YAML ``1`` for a float is 1.0."""
        return float(value) if isinstance(self.default, float) and type(value) is int else value

    def type_problem(self, value: Any) -> str | None:
        """Why ``value`` (after ``coerce``) is not of the parameter's type, or None."""
        value = self.coerce(value)
        if type(value) is type(self.default):
            return None
        given = TYPE_WORDS.get(type(value), type(value).__name__)
        return f"{self.name} must be {TYPE_WORDS[type(self.default)]}, got {given} {value!r}"

    def validate(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable, or None. The same rule at launch (params file, ``-p``) and at
        runtime (``ros2 param set``)."""
        if (reason := self.type_problem(value)) is not None:
            return reason
        value = self.coerce(value)
        if self.choices and value not in self.choices:
            return f"{self.name} must be one of {', '.join(self.choices)}, got '{value}'"
        if self.low is not None and not self.low <= value <= self.high:
            return f"{self.name} must be in [{self.low:g}, {self.high:g}], got {value}"
        return self.check(value) if self.check else None


def _input_size(value: int) -> str | None:
    if value != 0 and value % 32:
        return f"input_size must be 0 (the model's own) or a multiple of 32, got {value}"
    return None


PARAMS = (
    Param("model", "", "checkpoint (.safetensors); empty = the shipped edge model"),
    Param("backend", "auto", f"inference backend; {AUTO} (where each can run)", choices=BACKEND_CHOICES),
    Param("device", "cpu", "cpu, cuda or cuda:N; with backend openvino also openvino:GPU[.N] or openvino:NPU",
          check=device_problem),
    Param("precision", "fp32", "fp32; fp16/int8 need that ONNX variant (lts export onnx --precision); bf16 is "
          "torch autocast or OpenVINO's bf16 hint (AMX/AVX512-BF16 CPUs)", choices=PRECISIONS),
    Param("input_size", 0, "model input size in px; 0 = the model's own (ONNX/TensorRT exports are fixed to it)",
          low=0, high=1024, check=_input_size),
    Param("onnx_dir", "", "ONNX export dir for onnxruntime/tensorrt; empty = <checkpoint stem>-onnx beside the "
          "checkpoint; relative = under $ROS_HOME/lts_ros (~/.ros/lts_ros without ROS_HOME). A current export is "
          "used where it is, even read-only; a read-only dir without one exports once to "
          "$ROS_HOME/lts_ros/onnx/<name>-<hash>"),
    Param("engine_dir", "engines", "TensorRT engine cache, relative = under $ROS_HOME/lts_ros (the default is "
          "~/.ros/lts_ros/engines); a read-only dir is only read, builds go to $ROS_HOME/lts_ros/engines/<name>-<hash> "
          "(engines load only from these, after their manifest "
          "matches)"),
    Param("threshold", PRESENCE_THRESHOLD,
          "presence probability needed to report the object as there (found or ambiguous)",
          low=0.0, high=1.0, live=True),
    Param("refine_edges", True, "snap the mask's edges to the camera frame (a guided filter around the object, a "
          "few ms); false = the model's own, coarser edges", live=True),
    Param("resolve_phrases", True, "read commands into a query (lts_ros/language) and execute it: 'the second mug "
          "from the left' segments the mugs and picks the second; 'the mug left of the ball', where the answer "
          "holds two objects, asks the model for the ball too; 'not the red one' drops what it excludes; words "
          "that select but cannot be read are answered 'which one?' with the reason; false = the model reads every "
          "command whole"),
    Param("lock_on", True, "follow the object a command is first answered found with: later frames report it as "
          "tracking, lost (with where and when it was last seen) or reacquired, and the rank, relation or exclusion "
          "that picked it is not applied again (a new command starts a new track); false = every frame answered "
          "from scratch", live=True),
    Param("command", "", "initial command, e.g. 'the red mug'; later ones arrive on the command topic",
          live=True),
    Param("publish_overlay", False, "always compute ~/overlay (otherwise only while it has subscribers)",
          live=True),
    Param("image_transport", "raw", "raw = sensor_msgs/Image on 'image'; compressed = CompressedImage on "
          "'image/compressed'", choices=TRANSPORTS),
    Param("image_reliability", "reliable", "QoS reliability of the camera subscriptions (keep last 2). reliable "
          "receives 640x480+ frames from stock (reliable) drivers; best_effort needs the publisher to run with "
          "config/fastdds.xml for frames that large, and is required for best-effort publishers",
          choices=RELIABILITY),
    Param("sync_tolerance", 0.05, "max |RGB stamp - depth stamp| in s to pair a depth frame", low=0.0, high=1.0),
    Param("max_rate", 0.0, "max frames per second to segment; 0 = as fast as the model runs", low=0.0,
          high=1000.0, live=True),
    Param("autostart", True, "configure and activate at startup (no lifecycle manager needed)"),
)
BY_NAME = {p.name: p for p in PARAMS}


def problems(values: dict[str, Any]) -> list[str]:
    """The reasons the parameters in ``values`` (name -> value) are not acceptable; empty when all are."""
    return [reason for name, value in values.items() if name in BY_NAME
            and (reason := BY_NAME[name].validate(value)) is not None]
