"""``lts bag eval --live``: replay a bag onto real topics at its recorded rate (or a multiple), through lts_node
in its own process over DDS, record what the node publishes and score it by stamp against the bag's ground
truth. Latency is end to end: publish here -> status received here.

Like ``ros2 bag play --clock``, the replay publishes ``/clock`` (the bag's log time) and the node runs with
``use_sim_time``: its command rule (lts_ros/ros/commands.py) then compares each frame's recorded stamp with the
bag time at which its command arrived, so the frames after a command are segmented with it without pausing
the replay, and a frame still in flight when the next command arrives keeps the command it was recorded with."""
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
from lts_ros.ros.harness.domain import isolated_env
from lts_ros.ros.harness.node_process import NodeProcess
from lts_ros.errors import LtsError
from lts_ros.ros.conversions import stamp_ns
from lts_ros.runtime.result import NOT_FOUND

DRAIN_S = 3.0  # after the last frame: outputs still on their way
MATCH_TIMEOUT_S = 30.0  # DDS discovery between this process and the node
# Start-up handshake, once per input topic (as `ros2 bag play --wait-for-all-acked`): this side may see the node's
# reader before the node's reader has matched this writer, and frames sent meanwhile are lost. So the first
# message on each topic waits until the node acknowledged it (at most FIRST_ACK_S), and the schedule shifts by
# that wait. Commands get no pause of their own: the node's command rule makes them race-free.
FIRST_ACK_S = 3.0


class Replay:
    """The replaying side in this process: publishers for the bag's inputs and ``/clock`` on a harness participant,
    and a recorder of lts_node's status, mask and centroid by stamp (ns)."""

    def __init__(self, env: dict[str, str], topics: BagTopics, color_type: str):
        from rosgraph_msgs.msg import Clock
        from sensor_msgs.msg import CameraInfo, CompressedImage, Image
        from std_msgs.msg import String

        from lts_ros.ros.harness.participant import Participant
        from lts_ros.ros.harness.recorder import Recorder
        from lts_ros.ros.qos import camera_qos

        self.topics = topics
        self.types = {fmt.IMAGE: Image, fmt.COMPRESSED_IMAGE: CompressedImage, fmt.CAMERA_INFO: CameraInfo,
                      fmt.STRING: String}
        self.sent_ns: dict[int, int] = {}  # colour frame stamp -> when it was published (this node's clock)
        self.participant = Participant(env, "lts_bag_replay")
        self.ros = self.participant.node
        self.recorder = Recorder(self.ros, ("status", "mask", "centroid"))
        inputs = (topics.color, topics.depth, topics.camera_info, topics.command)
        # commands as `ros2 topic pub` sends them (reliable, volatile); camera topics like a driver
        self.publishers = {topic: self.ros.create_publisher(self.types[msgtype], topic, 10
                                                            if topic == topics.command else camera_qos("reliable"))
                           for topic, msgtype in topics.types(color_type).items() if topic in inputs}
        self._clock_msg = Clock()
        self.clock = self.ros.create_publisher(Clock, "/clock", 10)

    def node_problems(self) -> dict[str, int]:
        """Why frames got no output, as lts_node counted it (from a /diagnostics message published after the last
        frame): those it dropped because a newer one arrived first (it was busy: load, not the command rule)."""
        diagnostics = self.recorder.received["diagnostics"]
        seen = len(diagnostics)
        self.participant.spin_until(lambda: len(diagnostics) >= seen + 2, 2.5)  # diagnostics come at 1 Hz
        dropped = int(self.recorder.diagnostics().get("frames_dropped", 0))
        return {"lts_node was busy and took a newer frame (dropped under load)": dropped} if dropped else {}

    def wait_matched(self, node_log: Path) -> None:
        """Every input matched by the node before the first message: one still in discovery arrives late."""
        def unmatched() -> list[str]:
            return [t for t, p in self.publishers.items() if p.get_subscription_count() == 0]

        if not self.participant.spin_until(lambda: not unmatched(), MATCH_TIMEOUT_S):
            raise LtsError(f"lts_node never subscribed to {', '.join(unmatched())} (log: {node_log})")

    def play(self, bag: str | Path, rate: float, progress: bool) -> float:
        """Publish the bag's inputs on its log-time schedule / ``rate``, each after ``/clock`` at its log time,
        then wait for the last outputs; the seconds it took."""
        from rclpy.serialization import deserialize_message
        from rosbags.rosbag2 import Reader

        with Reader(bag) as reader:
            connections = [c for c in reader.connections if c.topic in self.publishers]
            first_log, start, acknowledged = None, time.perf_counter(), set()
            for connection, log_ns, raw in tqdm(reader.messages(connections=connections), desc="replay",
                                                unit="msg", total=sum(c.msgcount for c in connections),
                                                disable=not progress):
                first_log = log_ns if first_log is None else first_log
                self.participant.spin_for(start + (log_ns - first_log) / 1e9 / rate - time.perf_counter(), 0.01)
                msg = deserialize_message(bytes(raw), self.types[connection.msgtype])
                if connection.topic == self.topics.color:
                    self.sent_ns[stamp_ns(msg.header)] = self.ros.get_clock().now().nanoseconds
                self.publish_clock(log_ns)
                publisher = self.publishers[connection.topic]
                publisher.publish(msg)
                if connection.topic not in acknowledged:
                    acknowledged.add(connection.topic)
                    start += self.wait_acked(publisher)
        statuses = self.recorder.arrived_ns["status"]
        self.participant.spin_until(lambda: len(statuses) >= len(self.sent_ns), DRAIN_S)
        self.participant.spin_for(0.2, 0.01)  # a status is published last: its mask and centroid are here by now
        return time.perf_counter() - start

    def wait_acked(self, publisher) -> float:
        """Until the node acknowledged what ``publisher`` sent (at most FIRST_ACK_S); the seconds waited."""
        from rclpy.duration import Duration

        begin = time.perf_counter()
        publisher.wait_for_all_acked(Duration(seconds=FIRST_ACK_S))
        return time.perf_counter() - begin

    def publish_clock(self, log_ns: int) -> None:
        self._clock_msg.clock.sec, self._clock_msg.clock.nanosec = divmod(log_ns, 10**9)
        self.clock.publish(self._clock_msg)


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
    params = {"sync_tolerance": tolerance_s, "image_transport": "compressed" if compressed else "raw",
              "use_sim_time": True, **(params or {})}
    node = NodeProcess(env, out_dir / "lts_node.log", params, remaps)
    try:
        replay = Replay(env, topics, color_type)
        try:
            node.wait_active()
            replay.wait_matched(node.log)
            wall_s = replay.play(bag, rate, progress)
            node_problems = replay.node_problems()
        finally:
            replay.participant.close()
    finally:
        node.stop()
    with output:
        return _score(bag, topics, tolerance_s, replay, wall_s, output, node_problems)


def _score(bag, topics: BagTopics, tolerance_s: float, replay: Replay, wall_s: float,
           output: OutputBag, node_problems: dict[str, int]) -> Evaluation:
    """Match the node's outputs to the bag's frames and ground truth by stamp; write them to ``output``."""
    from lts_ros.ros.conversions import image_to_array
    from lts_ros.ros.status import FrameStatus

    stats, results, samples = FrameStats(), [], []
    for frame in read_frames(bag, topics, tolerance_s, stats):
        output.write_inputs(frame)
        recorder, stamp = replay.recorder, frame.stamp_ns
        if (status_msg := recorder.first("status", stamp)) is None:
            results.append(FrameResult(stamp, frame.command, NOT_FOUND, 0.0, 0.0, frame.target_set, frame.appearance,
                                       has_output=False))
            continue
        status = FrameStatus.from_msg(status_msg)
        mask_msg = recorder.first("mask", stamp) if status.found else None
        mask = np.zeros(frame.rgb.shape[:2], bool) if mask_msg is None else image_to_array(mask_msg) > 0
        point = recorder.first("centroid", stamp)
        centroid = None if point is None else np.array([point.point.x, point.point.y, point.point.z])
        at = recorder.arrived_ns["status"][stamp]
        result = score(frame, status.state, mask, status.score, (at - replay.sent_ns.get(stamp, at)) / 1e6, centroid)
        result.wrong_command = status.command != (frame.command or "").strip()
        results.append(result)
        output.write_outputs(frame, mask, centroid)
        if len(results) % 10 == 1:
            samples.append((frame, mask))
    if not results:
        raise LtsError(f"{bag} holds no colour frames on {topics.color}")
    return Evaluation(results, stats, wall_s, samples, node_problems,
                      "end-to-end latency (published → status received)")
