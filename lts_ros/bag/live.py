"""``lts bag eval --live``: replay a bag onto real topics at its recorded rate (or a multiple), through lts_node
in its own process over DDS, record what the node publishes and score it by stamp against the bag's ground
truth. Latency is end to end: publish here -> mask received here."""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lts_ros.bag.evaluate import Evaluation, FrameResult, score
from lts_ros.bag.format import BagTopics
from lts_ros.bag.frames import FrameStats, read_frames
from lts_ros.bag.output import OVERLAY_EVERY, OutputBag
from lts_ros.bench.node_process import NodeProcess, isolated_env
from lts_ros.errors import LtsError
from lts_ros.ros.conversions import stamp_ns

DRAIN_S = 3.0  # after the last frame: outputs still on their way
MATCH_TIMEOUT_S = 30.0  # DDS discovery between this process and the node
# After each command the replay waits until the node's reader acknowledged it (at most COMMAND_ACK_S), then
# COMMAND_SETTLE_S more for the node's executor to take it, and shifts the schedule by that pause: the bag
# means the frames after a command to be looked at with it, and a burst of frames would otherwise race it.
COMMAND_ACK_S, COMMAND_SETTLE_S = 1.0, 0.05


def _ros_types() -> dict:
    from geometry_msgs.msg import PointStamped
    from sensor_msgs.msg import CameraInfo, Image
    from std_msgs.msg import String

    return {"sensor_msgs/msg/Image": Image, "sensor_msgs/msg/CameraInfo": CameraInfo,
            "std_msgs/msg/String": String, "geometry_msgs/msg/PointStamped": PointStamped}


def evaluate_live(bag: str | Path, out_dir: str | Path, topics: BagTopics = BagTopics(), params: dict | None = None,
                  rate: float = 1.0, tolerance_s: float = 0.05, overlay_every: int = OVERLAY_EVERY,
                  progress: bool = True) -> Evaluation:
    """Replay ``bag`` through lts_node (``params``: its parameters), score its outputs and write them with the
    inputs to ``out_dir/output_bag``."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from rclpy.serialization import deserialize_message
    from rosbags.rosbag2 import Reader

    from lts_ros.ros.qos import camera_qos, command_qos

    if rate <= 0:
        raise LtsError(f"--rate must be > 0, got {rate}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    output = OutputBag(out_dir / "output_bag", topics, overlay_every)  # a bad --out or stride fails before the node
    env = isolated_env()
    remaps = {"image": topics.color, "depth": topics.depth, "camera_info": topics.camera_info,
              "command": topics.command}
    node = NodeProcess(env, out_dir / "lts_node.log", {"sync_tolerance": tolerance_s, **(params or {})}, remaps)
    saved = {k: os.environ.get(k) for k in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE",
                                            "FASTDDS_DEFAULT_PROFILES_FILE")}
    os.environ.update({k: env[k] for k in saved})
    context = rclpy.Context()
    rclpy.init(context=context)
    ros = rclpy.create_node("lts_bag_replay", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(ros)
    types = _ros_types()
    sent_at: dict[int, float] = {}
    masks: dict[int, tuple[float, object]] = {}
    centroids: dict[int, object] = {}
    outputs = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
    ros.create_subscription(types["sensor_msgs/msg/Image"], "/lts_node/mask",
                            lambda m: masks.setdefault(stamp_ns(m.header), (time.perf_counter(), m)), outputs)
    ros.create_subscription(types["geometry_msgs/msg/PointStamped"], "/lts_node/centroid",
                            lambda m: centroids.setdefault(stamp_ns(m.header), m), outputs)
    try:
        node.wait_active()
        publishers = {topic: ros.create_publisher(types[msgtype], topic,
                                                  command_qos() if topic == topics.command else camera_qos("reliable"))
                      for topic, msgtype in topics.types().items()
                      if topic in (topics.color, topics.depth, topics.camera_info, topics.command)}
        # Every input matched before the first message: a command or depth still in discovery arrives late.
        deadline = time.monotonic() + MATCH_TIMEOUT_S
        while (unmatched := [t for t, p in publishers.items() if p.get_subscription_count() == 0]) \
                and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.05)
        if unmatched:
            raise LtsError(f"lts_node never subscribed to {', '.join(unmatched)} (log: {node.log})")
        with Reader(bag) as reader:
            connections = [c for c in reader.connections if c.topic in publishers]
            first_log, start = None, time.perf_counter()
            for connection, log_ns, raw in tqdm(reader.messages(connections=connections), desc="replay",
                                                unit="msg", total=sum(c.msgcount for c in connections),
                                                disable=not progress):
                first_log = log_ns if first_log is None else first_log
                due = start + (log_ns - first_log) / 1e9 / rate
                while (wait := due - time.perf_counter()) > 0:
                    executor.spin_once(timeout_sec=min(wait, 0.01))
                msg = deserialize_message(bytes(raw), types[connection.msgtype])
                if connection.topic == topics.color:
                    sent_at[stamp_ns(msg.header)] = time.perf_counter()
                publishers[connection.topic].publish(msg)
                if connection.topic == topics.command:
                    start += hand_over(publishers[connection.topic], executor)
        end = time.perf_counter() + DRAIN_S
        while time.perf_counter() < end and len(masks) < len(sent_at):
            executor.spin_once(timeout_sec=0.05)
        wall_s = time.perf_counter() - start
    finally:
        executor.shutdown()
        ros.destroy_node()
        rclpy.shutdown(context=context)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        node.stop()
    with output:
        return _score(bag, topics, tolerance_s, sent_at, masks, centroids, wall_s, output)


def hand_over(publisher, executor) -> float:
    """Wait until the command just published has reached the node; the seconds waited."""
    from rclpy.duration import Duration

    begin = time.perf_counter()
    publisher.wait_for_all_acked(Duration(seconds=COMMAND_ACK_S))
    settled = time.perf_counter() + COMMAND_SETTLE_S
    while (left := settled - time.perf_counter()) > 0:
        executor.spin_once(timeout_sec=left)
    return time.perf_counter() - begin


def _score(bag, topics: BagTopics, tolerance_s: float, sent_at: dict, masks: dict, centroids: dict,
           wall_s: float, output: OutputBag) -> Evaluation:
    """Match the node's outputs to the bag's frames and ground truth by stamp; write them to ``output``."""
    from lts_ros.ros.conversions import image_to_array

    stats, results, samples = FrameStats(), [], []
    for frame in read_frames(bag, topics, tolerance_s, stats):
        output.write_inputs(frame)
        received = masks.get(frame.stamp_ns)
        if received is None:
            results.append(FrameResult(frame.stamp_ns, frame.command, False, 0.0, 0.0, has_output=False))
            continue
        at, msg = received
        mask = image_to_array(msg) > 0
        point = centroids.get(frame.stamp_ns)
        centroid = None if point is None else np.array([point.point.x, point.point.y, point.point.z])
        results.append(score(frame, mask, bool(mask.any()), 0.0, 1e3 * (at - sent_at.get(frame.stamp_ns, at)),
                             centroid))
        output.write_outputs(frame, mask, centroid)
        if len(results) % 10 == 1:
            samples.append((frame, mask))
    if not results:
        raise LtsError(f"{bag} holds no colour frames on {topics.color}")
    return Evaluation(results, stats, wall_s, samples, {}, "end-to-end latency (published → mask received)")
