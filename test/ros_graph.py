"""Real ROS 2 graphs for the tests: lts_node in its own process (lts_ros.bench.node_process) and a probe node
in the test process that publishes camera frames and commands the way stock tools and drivers do (their QoS
written out here, not the project's helpers) and records what lts_node publishes."""
from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PointStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String
from visualization_msgs.msg import Marker

from lts_ros.bench.node_process import NodeProcess, dds_environment, isolated_env
from lts_ros.ros.conversions import fill_image, stamp_ns
from lts_ros.ros.status import FrameStatus

OPTICAL_FRAME = "camera_color_optical_frame"
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


class Probe:
    """A node in the test process: publishes camera topics and commands, records lts_node's outputs."""

    def __init__(self, env: dict[str, str], reliability: str = "reliable", node: str = "lts_node"):
        with dds_environment(env):  # rclpy.init and the first node read the domain and profile
            self.context = rclpy.Context()
            rclpy.init(context=self.context)
            self.node = rclpy.create_node("lts_probe", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        camera = DRIVER_QOS[reliability]
        self.pub_image = self.node.create_publisher(Image, "image", camera)
        self.pub_depth = self.node.create_publisher(Image, "depth", camera)
        self.pub_info = self.node.create_publisher(CameraInfo, "camera_info", camera)
        self.pub_command = self.node.create_publisher(String, "command", TOPIC_PUB_QOS)
        self.pub_latched = None
        self.received: dict[str, list] = defaultdict(list)
        outputs = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)  # like `ros2 topic echo`
        for name, kind in (("status", DiagnosticArray), ("mask", Image), ("centroid", PointStamped),
                           ("marker", Marker), ("overlay", Image)):
            self.node.create_subscription(kind, f"/{node}/{name}", self._recorder(name), outputs)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._recorder("diagnostics"), outputs)

    def _recorder(self, name: str) -> Callable:
        return lambda msg: self.received[name].append(msg)

    def spin_until(self, predicate: Callable[[], bool], timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            self.executor.spin_once(timeout_sec=0.05)
        return predicate()

    def spin_for(self, seconds: float) -> None:
        self.spin_until(lambda: False, seconds)

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
        stamp = stamp if stamp is not None else self.node.get_clock().now().nanoseconds
        header = Image().header
        header.stamp.sec, header.stamp.nanosec = divmod(stamp, 10**9)
        header.frame_id = frame_id
        if K is not None:
            height, width = (rgb.height, rgb.width) if isinstance(rgb, Image) else rgb.shape[:2]
            self.pub_info.publish(CameraInfo(header=header, width=width, height=height, k=K.reshape(-1).tolist(),
                                             distortion_model="plumb_bob" if D else "", d=list(D or [])))
        if depth is not None:
            msg = depth if isinstance(depth, Image) else fill_image(Image(), depth, "16UC1")
            msg.header = Image().header
            msg.header.stamp, msg.header.frame_id = header.stamp, depth_frame_id or frame_id
            self.pub_depth.publish(msg)
        msg = rgb if isinstance(rgb, Image) else fill_image(Image(), rgb, "rgb8")
        msg.header = header
        self.pub_image.publish(msg)
        return stamp

    def outputs_for(self, name: str, stamp: int) -> list:
        """What lts_node published on ``name`` for the frame stamped ``stamp`` (ns)."""
        return [m for m in self.received[name] if stamp_ns(m.header) == stamp]

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

    def diagnostics(self) -> dict[str, str]:
        """The latest lts_node status, as a dict (plus 'level' and 'message')."""
        for array in reversed(self.received["diagnostics"]):
            for status in array.status:
                if status.name.startswith("lts_node"):
                    return {"level": int.from_bytes(status.level, "little") if isinstance(status.level, bytes)
                            else int(status.level), "message": status.message,
                            **{kv.key: kv.value for kv in status.values}}
        return {}

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


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


def depth_mm(depth_m: np.ndarray) -> np.ndarray:
    return np.round(depth_m * 1000).astype(np.uint16)
