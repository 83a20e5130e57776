"""Commands reach lts_node from any ordinary reliable publisher, and every frame is answered with the command the
rule in lts_ros/ros/commands.py gives it. Publishers are configured as stock tools configure them, their QoS
written out here: `ros2 topic pub` and `create_publisher(String, "command", 10)` (reliable, volatile, depth 10),
`ros2 topic pub --qos-durability transient_local` (latched), and a best-effort one."""
import time

import numpy as np
import pytest
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import String

from lts_ros.data.tabletop.dataset import TabletopDataset
from lts_ros.metrics import iou
from lts_ros.ros.conversions import image_to_array
from lts_ros.ros.status import FrameStatus
from lts_ros.runtime.segmenter import Segmenter

from ros_graph import LATCHED_QOS, NodeProcess, Probe, depth_mm, isolated_env, set_parameter

SWITCH_FRAMES = 240  # at RATE_HZ: 24 s
RATE_HZ = 10.0  # a camera's rate with 2x headroom over the node's time per frame here (the load bench measures 15 Hz)
ARRIVAL_SLACK_S = 0.5  # a command published this long before a frame's stamp has reached the node


@pytest.fixture(scope="module")
def pair(tabletop_root):
    """Two expressions of one scene whose targets do not overlap: a command switch changes the mask."""
    data = TabletopDataset(tabletop_root, "test")
    first = data[0]
    second = next(data[i] for i in range(1, len(data))
                  if data[i].scene_id == first.scene_id and iou(data[i].mask, first.mask) == 0)
    return first, second


@pytest.fixture(scope="module")
def graph(tmp_path_factory, edge_export):
    """lts_node on ONNX Runtime (the backend `auto` picks here), fast enough for a 10 Hz camera on two cores with headroom."""
    env = isolated_env()
    node = NodeProcess(env, tmp_path_factory.mktemp("node") / "lts_node.log",
                       {"backend": "onnxruntime", "onnx_dir": str(edge_export)})
    probe = Probe(env)
    try:
        node.wait_active()
        probe.wait_for_subscriber()
        yield node, probe
    finally:
        probe.close()
        assert node.stop() == 0, node.text()


def answered_after(probe: Probe, command: str, sample, frames: int = 10) -> list[FrameStatus | None]:
    """Frames (a camera's stream) until one is answered with ``command`` (published already), then ``frames``
    more: the statuses of those."""
    _, first = probe.first_answered(lambda named: named == command, sample.image)
    return [first] + [probe.status_for(probe.send(sample.image), timeout=10) for _ in range(frames)]


def test_a_ros2_topic_pub_publisher_gets_every_later_frame_answered(graph, pair):
    node, probe = graph
    sample = pair[0]
    stock = probe.node.create_publisher(String, "command", 10)  # what most people's code does
    assert probe.spin_until(lambda: stock.get_subscription_count() > 0, 10)
    stock.publish(String(data=sample.text))
    statuses = answered_after(probe, sample.text, sample)
    assert all(s is not None and s.command == sample.text and s.found for s in statuses), statuses
    assert probe.spin_until(lambda: all(probe.outputs_for("mask", s.stamp_ns) for s in statuses), 5)
    probe.node.destroy_publisher(stock)


def test_a_latched_publisher_gets_its_command_answered(graph, pair):
    node, probe = graph
    probe.latched_command(pair[1].text)
    statuses = answered_after(probe, pair[1].text, pair[1])
    assert all(s is not None and s.command == pair[1].text for s in statuses)


def test_a_best_effort_publisher_is_warned_about_by_name_and_counted(graph, pair):
    node, probe = graph
    best_effort = probe.node.create_publisher(String, "command", QoSProfile(
        depth=10, reliability=ReliabilityPolicy.BEST_EFFORT, durability=DurabilityPolicy.VOLATILE))
    try:
        assert probe.spin_until(lambda: int(probe.diagnostics().get("errors.command_qos", 0)) > 0, 10)
        warnings = [line for line in node.text().splitlines() if "cannot read (incompatible RELIABILITY)" in line]
        assert warnings and "/command" in warnings[0]
    finally:
        probe.node.destroy_publisher(best_effort)


def test_command_switches_at_a_camera_frame_rate_name_the_command_each_frame_was_computed_with(graph, pair,
                                                                                                 edge_export):
    """SWITCH_FRAMES frames at RATE_HZ, the command switched between two targets every 5-12 frames at a random
    phase of the frame period. Every frame gets a status; each names the command its mask was computed with (the
    mask equals that command's reference mask); and the command it names follows the rule: published before
    the frame's stamp, and no older than the newest command published ARRIVAL_SLACK_S before it."""
    node, probe = graph
    first, second = pair
    reference = Segmenter.from_onnx(edge_export)
    expected = {}
    for sample in pair:
        reference.set_command(sample.text)
        expected[sample.text] = reference.segment(first.image)
    assert iou(expected[first.text].mask, expected[second.text].mask) < 0.5  # a switch is visible in the mask
    assert set_parameter(probe, "command", first.text).successful  # synchronous: in force once it answers
    start = probe.status_for(probe.send(first.image))
    assert start is not None and start.command == first.text
    published = [(time.time_ns(), first.text)]  # command index i has the node's seq start.command_seq + i
    assert probe.spin_until(lambda: "frames_dropped" in probe.diagnostics(), 5)  # /diagnostics is 1 Hz
    dropped_before = int(probe.diagnostics()["frames_dropped"])

    rng = np.random.default_rng(0)
    switch_at = set(np.cumsum(rng.integers(5, 13, SWITCH_FRAMES)).tolist())
    period_s, stamps, t0 = 1.0 / RATE_HZ, [], time.perf_counter()
    for i in range(SWITCH_FRAMES):
        if i in switch_at:  # at a random phase between the previous frame and this one
            probe.spin_until(lambda: time.perf_counter() >= t0 + (i - 1 + rng.random()) * period_s, period_s)
            text = second.text if published[-1][1] == first.text else first.text
            probe.command(text)
            published.append((time.time_ns(), text))
        probe.spin_until(lambda: time.perf_counter() >= t0 + i * period_s, period_s)
        stamps.append(probe.send(first.image))
    probe.spin_until(lambda: all(probe.outputs_for("status", s) for s in stamps), 10)
    probe.spin_for(1.5)
    dropped = int(probe.diagnostics()["frames_dropped"]) - dropped_before

    missing = [s for s in stamps if not probe.outputs_for("status", s)]
    assert len(missing) <= dropped, f"{len(missing)} frames without a status, {dropped} dropped by load"
    assert len(stamps) - len(missing) >= 200
    wrong = []
    for stamp in (s for s in stamps if probe.outputs_for("status", s)):
        status = FrameStatus.from_msg(probe.outputs_for("status", stamp)[0])
        index = status.command_seq - start.command_seq
        assert 0 <= index < len(published), status
        sent_ns, text = published[index]
        assert status.command == text
        assert sent_ns <= stamp, "a frame was answered with a command sent after it was captured"
        delivered = [i for i, (t, _) in enumerate(published) if t + ARRIVAL_SLACK_S * 1e9 <= stamp]
        assert index >= max(delivered, default=0), "a frame was answered with an older command than the one in force"
        reference_result = expected[text]
        if status.found != reference_result.found:
            wrong.append(stamp)
        elif status.found:
            assert probe.spin_until(lambda: probe.outputs_for("mask", stamp), 5)
            mask = image_to_array(probe.outputs_for("mask", stamp)[0]) > 0
            if iou(mask, reference_result.mask) < 0.99:
                wrong.append(stamp)
    assert not wrong, f"{len(wrong)} outputs not computed with the command they name"
    assert len(published) > 15


def test_a_node_started_5_s_after_a_latched_command_and_camera_info_uses_both(tmp_path, tabletop_root):
    sample = TabletopDataset(tabletop_root, "test")[0]
    env = isolated_env()
    probe = Probe(env)
    node = None
    try:
        probe.latched_command(sample.text)
        info = probe.node.create_publisher(CameraInfo, "camera_info", LATCHED_QOS)  # a driver that latches it
        info.publish(CameraInfo(width=640, height=480, k=sample.K.reshape(-1).tolist()))
        probe.spin_for(5.0)
        node = NodeProcess(env, tmp_path / "lts_node.log", {"backend": "torch"})
        node.wait_active()
        probe.wait_for_subscriber()
        for _ in range(20):  # depth with every frame, camera_info never again
            status = probe.status_for(probe.send(sample.image, depth_mm(sample.depth_m)), timeout=10)
            if status is not None:
                break
        assert status is not None and status.command == sample.text and status.found
        assert status.centroid_m is not None, status.no_centroid_reason
        assert "command 1 (latched)" in node.text()
    finally:
        probe.close()
        if node is not None:
            assert node.stop() == 0, node.text()

