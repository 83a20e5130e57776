"""``lts bag eval --live``: replay a bag onto real topics at its recorded rate (or a multiple), through lts_node
in its own process over DDS, record what the node publishes and score it by stamp against the bag's ground
truth. Latency is end to end: publish here -> mask received here."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lts_ros.bag.evaluate import Evaluation, FrameResult, score
from lts_ros.bag import format as fmt
from lts_ros.bag.format import BagTopics
from lts_ros.bag.frames import FrameStats, check_topics, read_frames
from lts_ros.bag.output import OVERLAY_EVERY, OutputBag
from lts_ros.bench.node_process import NodeProcess, dds_environment, isolated_env
from lts_ros.errors import LtsError
from lts_ros.ros.conversions import stamp_ns

DRAIN_S = 3.0  # after the last frame: outputs still on their way
MATCH_TIMEOUT_S = 30.0  # DDS discovery between this process and the node
# After each command the replay waits until the node's reader acknowledged it (at most COMMAND_ACK_S), then
# COMMAND_SETTLE_S more for the node's executor to take it, and shifts the schedule by that pause: the bag
# means the frames after a command to be looked at with it, and a burst of frames would otherwise race it.
COMMAND_ACK_S, COMMAND_SETTLE_S = 1.0, 0.05


class Replay:
    """The replaying side in this process: publishers for the bag's inputs, subscribers for lts_node's mask and
    centroid, and the received outputs keyed by stamp (ns)."""

    def __init__(self, topics: BagTopics, color_type: str):
        import rclpy
        from geometry_msgs.msg import PointStamped
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import CameraInfo, CompressedImage, Image
        from std_msgs.msg import String

        from lts_ros.ros.qos import camera_qos, command_qos

        self.topics = topics
        self.types = {fmt.IMAGE: Image, fmt.COMPRESSED_IMAGE: CompressedImage, fmt.CAMERA_INFO: CameraInfo,
                      fmt.STRING: String}
        self.sent_at: dict[int, float] = {}  # colour frame stamp -> when it was published
        self.masks: dict[int, tuple[float, object]] = {}  # stamp -> (when received, Image)
        self.centroids: dict[int, object] = {}  # stamp -> PointStamped
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.ros = rclpy.create_node("lts_bag_replay", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.ros)
        outputs = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        self.ros.create_subscription(Image, "/lts_node/mask", self._on_mask, outputs)
        self.ros.create_subscription(PointStamped, "/lts_node/centroid",
                                     lambda m: self.centroids.setdefault(stamp_ns(m.header), m), outputs)
        inputs = (topics.color, topics.depth, topics.camera_info, topics.command)
        self.publishers = {topic: self.ros.create_publisher(self.types[msgtype], topic, command_qos()
                                                            if topic == topics.command else camera_qos("reliable"))
                           for topic, msgtype in topics.types(color_type).items() if topic in inputs}

    def _on_mask(self, msg) -> None:
        self.masks.setdefault(stamp_ns(msg.header), (time.perf_counter(), msg))

    def spin_for(self, seconds: float) -> None:
        end = time.perf_counter() + seconds
        while (left := end - time.perf_counter()) > 0:
            self.executor.spin_once(timeout_sec=min(left, 0.01))

    def wait_matched(self, node_log: Path) -> None:
        """Every input matched by the node before the first message: one still in discovery arrives late."""
        deadline = time.monotonic() + MATCH_TIMEOUT_S
        while (unmatched := [t for t, p in self.publishers.items() if p.get_subscription_count() == 0]) \
                and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.05)
        if unmatched:
            raise LtsError(f"lts_node never subscribed to {', '.join(unmatched)} (log: {node_log})")

    def play(self, bag: str | Path, rate: float, progress: bool) -> float:
        """Publish the bag's inputs on its log-time schedule / ``rate``, then wait for the last outputs; the
        seconds it took, less the pauses after commands."""
        from rclpy.serialization import deserialize_message
        from rosbags.rosbag2 import Reader

        with Reader(bag) as reader:
            connections = [c for c in reader.connections if c.topic in self.publishers]
            first_log, start = None, time.perf_counter()
            for connection, log_ns, raw in tqdm(reader.messages(connections=connections), desc="replay",
                                                unit="msg", total=sum(c.msgcount for c in connections),
                                                disable=not progress):
                first_log = log_ns if first_log is None else first_log
                self.spin_for(start + (log_ns - first_log) / 1e9 / rate - time.perf_counter())
                msg = deserialize_message(bytes(raw), self.types[connection.msgtype])
                if connection.topic == self.topics.color:
                    self.sent_at[stamp_ns(msg.header)] = time.perf_counter()
                self.publishers[connection.topic].publish(msg)
                if connection.topic == self.topics.command:
                    start += self.hand_over(self.publishers[connection.topic])
        end = time.perf_counter() + DRAIN_S
        while time.perf_counter() < end and len(self.masks) < len(self.sent_at):
            self.executor.spin_once(timeout_sec=0.05)
        return time.perf_counter() - start

    def hand_over(self, publisher) -> float:
        """Wait until the command just published has reached the node; the seconds waited."""
        from rclpy.duration import Duration

        begin = time.perf_counter()
        publisher.wait_for_all_acked(Duration(seconds=COMMAND_ACK_S))
        self.spin_for(COMMAND_SETTLE_S)
        return time.perf_counter() - begin

    def close(self) -> None:
        import rclpy

        self.executor.shutdown()
        self.ros.destroy_node()
        rclpy.shutdown(context=self.context)


def evaluate_live(bag: str | Path, out_dir: str | Path, topics: BagTopics = BagTopics(), params: dict | None = None,
                  rate: float = 1.0, tolerance_s: float = 0.05, overlay_every: int = OVERLAY_EVERY,
                  progress: bool = True) -> Evaluation:
    """Replay ``bag`` through lts_node (``params``: its parameters), score its outputs and write them with the
    inputs to ``out_dir/output_bag``."""
    if rate <= 0:
        raise LtsError(f"--rate must be > 0, got {rate}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    color_type = check_topics(bag, topics)[topics.color]
    output = OutputBag(out_dir / "output_bag", topics, overlay_every, color_type)  # a bad --out fails here
    compressed = color_type == fmt.COMPRESSED_IMAGE  # the node's compressed transport takes it
    env = isolated_env()
    remaps = {"image/compressed" if compressed else "image": topics.color, "depth": topics.depth,
              "camera_info": topics.camera_info, "command": topics.command}
    params = {"sync_tolerance": tolerance_s, "image_transport": "compressed" if compressed else "raw", **(params or {})}
    node = NodeProcess(env, out_dir / "lts_node.log", params, remaps)
    try:
        with dds_environment(env):  # rclpy.init reads the node's domain and profile
            replay = Replay(topics, color_type)
        try:
            node.wait_active()
            replay.wait_matched(node.log)
            wall_s = replay.play(bag, rate, progress)
        finally:
            replay.close()
    finally:
        node.stop()
    with output:
        return _score(bag, topics, tolerance_s, replay, wall_s, output)


def _score(bag, topics: BagTopics, tolerance_s: float, replay: Replay, wall_s: float,
           output: OutputBag) -> Evaluation:
    """Match the node's outputs to the bag's frames and ground truth by stamp; write them to ``output``."""
    from lts_ros.ros.conversions import image_to_array

    stats, results, samples = FrameStats(), [], []
    for frame in read_frames(bag, topics, tolerance_s, stats):
        output.write_inputs(frame)
        received = replay.masks.get(frame.stamp_ns)
        if received is None:
            results.append(FrameResult(frame.stamp_ns, frame.command, False, 0.0, 0.0, has_output=False))
            continue
        at, msg = received
        mask = image_to_array(msg) > 0
        point = replay.centroids.get(frame.stamp_ns)
        centroid = None if point is None else np.array([point.point.x, point.point.y, point.point.z])
        results.append(score(frame, mask, bool(mask.any()), 0.0, 1e3 * (at - replay.sent_at.get(frame.stamp_ns, at)),
                             centroid))
        output.write_outputs(frame, mask, centroid)
        if len(results) % 10 == 1:
            samples.append((frame, mask))
    if not results:
        raise LtsError(f"{bag} holds no colour frames on {topics.color}")
    return Evaluation(results, stats, wall_s, samples, {}, "end-to-end latency (published → mask received)")
