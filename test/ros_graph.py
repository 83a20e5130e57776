"""Real ROS 2 graphs for the tests, on the package's harness (lts_ros.ros.harness: lts_node in its own process, this
process's participant, a camera's publishers, a recorder of lts_node's outputs): a probe node that publishes camera
frames and commands the way stock tools and drivers do (their QoS written out here, not the project's helpers) and
records what lts_node publishes."""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from rcl_interfaces.msg import Parameter, ParameterDescriptor, ParameterType, ParameterValue
from rcl_interfaces.srv import DescribeParameters, GetParameters, SetParameters
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import String

from lts_ros.geometry import depth_in_mm as depth_mm  # noqa: F401 - the tests import them from here
from lts_ros.ros.conversions import OPTICAL_FRAME  # noqa: F401
from lts_ros.ros.harness.camera import CameraPublisher, frame_messages
from lts_ros.ros.harness.domain import isolated_env
from lts_ros.ros.harness.node_process import NodeProcess
from lts_ros.ros.harness.participant import Participant
from lts_ros.ros.harness.recorder import Recorder
from lts_ros.ros.status import FrameStatus

# `ros2 topic pub` and create_publisher(String, "command", 10): reliable, volatile, keep last 10
TOPIC_PUB_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE,
                           durability=DurabilityPolicy.VOLATILE)
# `ros2 topic pub --qos-durability transient_local`: a latched command, kept for late joiners
LATCHED_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)
# A stock camera driver: create_publisher(Image, topic, 10) (system default: reliable, volatile); some
# drivers publish best effort (sensor data QoS: keep last 5)
DRIVER_QOS = {"reliable": TOPIC_PUB_QOS,
              "best_effort": QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=5,
                                        reliability=ReliabilityPolicy.BEST_EFFORT,
                                        durability=DurabilityPolicy.VOLATILE)}


class Probe(Participant):
    """A node in the test process: publishes camera topics and commands, records lts_node's outputs."""

    def __init__(self, env: dict[str, str], reliability: str = "reliable", node: str = "lts_node"):
        super().__init__(env, "lts_probe")
        self.camera = CameraPublisher(self.node, DRIVER_QOS[reliability])
        self.pub_image, self.pub_info = self.camera.pub_image, self.camera.pub_info
        self.pub_command = self.node.create_publisher(String, "command", TOPIC_PUB_QOS)
        self.pub_latched = None
        self.recorder = Recorder(self.node, lts_node=node)
        # the recorder's views, under the names the tests use
        self.received, self.outputs_for, self.diagnostics = (self.recorder.received, self.recorder.outputs_for,
                                                             self.recorder.diagnostics)

    def wait_for_subscriber(self, timeout: float = 30) -> None:
        assert self.spin_until(lambda: self.pub_image.get_subscription_count() > 0, timeout), \
            "lts_node never subscribed to 'image'"

    def command(self, text: str) -> None:
        """Publish ``text`` as ``ros2 topic pub --once command std_msgs/String`` does."""
        self.pub_command.publish(String(data=text))

    def latched_command(self, text: str) -> None:
        """Publish ``text`` as ``ros2 topic pub --qos-durability transient_local`` does (kept for late joiners)."""
        if self.pub_latched is None:
            self.pub_latched = self.node.create_publisher(String, "command", LATCHED_QOS)
        self.pub_latched.publish(String(data=text))

    def send(self, rgb: np.ndarray | Image, depth: np.ndarray | Image | None = None, K: np.ndarray | None = None,
             stamp: int | None = None, frame_id: str = OPTICAL_FRAME, depth_frame_id: str | None = None,
             D: list[float] | None = None) -> int:
        """Publish one frame (RGB, optional depth in mm as uint16, K and plumb_bob distortion ``D``) with a
        shared header (depth in ``depth_frame_id`` if given); its stamp in ns."""
        return self.camera.publish(*frame_messages(rgb, depth, K, D), stamp, frame_id, depth_frame_id)

    def status_for(self, stamp: int, timeout: float = 30) -> FrameStatus | None:
        """lts_node's status for the frame stamped ``stamp`` (ns), waited for up to ``timeout`` s."""
        self.spin_until(lambda: self.outputs_for("status", stamp), timeout)
        found = self.outputs_for("status", stamp)
        return FrameStatus.from_msg(found[0]) if found else None

    def first_answered(self, predicate: Callable[[str], bool], rgb, depth=None, K=None, frames: int = 20,
                       every_frame_answered: bool = False) -> tuple[int, FrameStatus]:
        """Frames like a camera until one's status names a command satisfying ``predicate``; that frame's stamp
        and status. Frames captured before the node received a command are answered with the previous one, or
        not at all before the first (``every_frame_answered``: a command is in force, each must be answered)."""
        for _ in range(frames):
            stamp = self.send(rgb, depth, K)
            status = self.status_for(stamp, timeout=10 if every_frame_answered else 5)
            assert status is not None or not every_frame_answered, "the node stopped answering"
            if status is not None and predicate(status.command):
                return stamp, status
        raise AssertionError(f"no frame answered with the expected command in {frames} frames")

    def segment_stream(self, command: str, rgb, depth=None, K=None) -> tuple[int, FrameStatus]:
        """Send ``command`` once like ``ros2 topic pub``, then frames until one is answered with it."""
        self.command(command)
        return self.first_answered(lambda named: named == command, rgb, depth, K)

    def segment_again(self, command: str, previous: FrameStatus, rgb, depth=None, K=None,
                      frames: int = 20) -> tuple[int, FrameStatus]:
        """Send ``command`` (the same text as ``previous``'s, maybe) once more, then frames until one is answered
        with this sending (a later command_seq than ``previous``'s)."""
        self.command(command)
        for _ in range(frames):
            stamp = self.send(rgb, depth, K)
            status = self.status_for(stamp)
            if status is not None and status.command_seq > previous.command_seq:
                return stamp, status
        raise AssertionError(f"'{command}' sent again was never answered in {frames} frames")


@contextlib.contextmanager
def running_node(log: Path, params: dict, command: str | None = None) -> Iterator[tuple[NodeProcess, Probe]]:
    """lts_node with ``params`` in a fresh isolated domain, active, and a probe subscribed to it;
    ``command`` is published latched before the node starts (transient local hands it over later)."""
    env = isolated_env()
    probe = Probe(env)
    if command:
        probe.latched_command(command)
    node = NodeProcess(env, log, params)
    try:
        node.wait_for_log("active:")
        probe.wait_for_subscriber()
        yield node, probe
    finally:
        probe.close()
        assert node.stop() == 0, node.text()


def call(probe: Probe, kind, name: str, request, timeout: float = 10):
    client = probe.node.create_client(kind, name)
    assert client.wait_for_service(timeout_sec=timeout), f"no service {name}"
    future = client.call_async(request)
    assert probe.spin_until(future.done, timeout), f"{name} did not answer"
    probe.node.destroy_client(client)
    return future.result()


def set_parameter(probe: Probe, name: str, value: bool | int | float | str, node: str = "lts_node"):
    """``ros2 param set /lts_node name value``: the value typed as the CLI would (``1`` is an integer)."""
    if isinstance(value, str):
        typed = ParameterValue(type=ParameterType.PARAMETER_STRING, string_value=value)
    elif isinstance(value, bool):
        typed = ParameterValue(type=ParameterType.PARAMETER_BOOL, bool_value=value)
    elif isinstance(value, int):
        typed = ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=value)
    else:
        typed = ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=value)
    request = SetParameters.Request(parameters=[Parameter(name=name, value=typed)])
    return call(probe, SetParameters, f"/{node}/set_parameters", request).results[0]


def get_parameter(probe: Probe, name: str, node: str = "lts_node") -> bool | int | float | str | None:
    """``ros2 param get /lts_node name``: the value, as the type it is stored with (None: not set)."""
    value = call(probe, GetParameters, f"/{node}/get_parameters", GetParameters.Request(names=[name])).values[0]
    return {ParameterType.PARAMETER_BOOL: value.bool_value, ParameterType.PARAMETER_INTEGER: value.integer_value,
            ParameterType.PARAMETER_DOUBLE: value.double_value,
            ParameterType.PARAMETER_STRING: value.string_value}.get(value.type)


def describe_parameter(probe: Probe, name: str, node: str = "lts_node") -> ParameterDescriptor:
    """``ros2 param describe /lts_node name``."""
    request = DescribeParameters.Request(names=[name])
    return call(probe, DescribeParameters, f"/{node}/describe_parameters", request).descriptors[0]
