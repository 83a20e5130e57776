"""lts_node when the clocks disagree: under use_sim_time with a bag's /clock stopped, /diagnostics keeps its 1 Hz
(its timer is on the steady clock) and latency reads n/a with the reason when image stamps are on another clock;
the no-frame warning counts from when a camera publisher appeared, not from the node's start (ros.silence)."""
import re
import time

import numpy as np
from builtin_interfaces.msg import Time
from rosgraph_msgs.msg import Clock

from lts_ros.ros.harness.camera import CameraPublisher, frame_messages
from lts_ros.ros.silence import CameraSilence
from lts_ros.ros.stats import NodeStats

from ros_graph import DRIVER_QOS, NodeProcess, Probe, isolated_env


def test_silence_counts_from_the_oldest_publisher_still_there():
    silence = CameraSilence(active_since=0.0)
    assert silence.silent_for([], now=60.0, last_frame_at=None) is None  # nobody publishes: not silence
    assert silence.silent_for([b"a"], now=61.0, last_frame_at=None) == 0.0  # appeared just now
    assert silence.silent_for([b"a"], now=65.0, last_frame_at=None) == 4.0
    assert silence.silent_for([b"a", b"b"], now=66.0, last_frame_at=None) == 5.0  # a is still silent
    assert silence.silent_for([b"b"], now=67.0, last_frame_at=None) == 1.0  # a left: b counts from 66
    assert silence.silent_for([b"b"], now=70.0, last_frame_at=69.5) == 0.5  # a frame came


def test_latency_is_measured_only_on_a_shared_clock():
    def shown(stats: NodeStats) -> dict[str, str]:
        return {kv.key: kv.value for kv in stats.diagnostic_status("lts_node", "cpu", None).values}
    stats = NodeStats()
    assert shown(stats)["latency_p50_ms"] == shown(stats)["model_p50_ms"] == "n/a: no frame segmented yet"
    stats.frame_done(40.0, 20.0, 25.0)
    stats.frame_done(None, 20.0, 25.0)  # stamped on another clock: nothing to measure
    assert shown(stats)["latency_p50_ms"].startswith("n/a: image stamps are not on this node's clock")
    assert shown(stats)["model_p50_ms"] == "20.0"
    stats.frame_done(60.0, 20.0, 25.0)
    assert shown(stats)["latency_p50_ms"] == "50.0"  # over the frames that share the node's clock


def test_under_sim_time_diagnostics_keep_1hz_latency_is_na_and_a_new_camera_is_not_blamed(tmp_path):
    env = isolated_env()
    probe = Probe(env)  # its camera publishes on 'image'; lts_node reads 'late/image', where nobody is yet
    node = NodeProcess(env, tmp_path / "lts_node.log", {"backend": "torch", "use_sim_time": "true"},
                       remaps={"image": "late/image"})
    try:
        node.wait_for_log("active:")
        clock = probe.node.create_publisher(Clock, "/clock", 10)
        for _ in range(5):  # a bag played to 100 s, then paused: /clock stops
            clock.publish(Clock(clock=Time(sec=100)))
            probe.spin_for(0.1)
        received = len(probe.recorder.received["diagnostics"])
        probe.spin_for(4.0)
        assert len(probe.recorder.received["diagnostics"]) - received >= 3, "diagnostics stopped with /clock"
        assert "no frame" not in probe.diagnostics()["message"]

        late = CameraPublisher(probe.node, DRIVER_QOS["reliable"], "late/image", "late/depth", "late/camera_info")
        appeared, seen = time.monotonic(), len(probe.recorder.received["diagnostics"])
        probe.spin_for(1.5)
        messages = [m.status[0].message for m in probe.recorder.received["diagnostics"][seen:] if m.status]
        assert messages and not any("no frame" in m for m in messages), messages
        assert probe.spin_until(lambda: "no frame" in probe.diagnostics()["message"], 8)
        silent_s = int(re.search(r"no frame for (\d+) s", probe.diagnostics()["message"]).group(1))
        assert silent_s <= time.monotonic() - appeared + 0.5

        probe.command("the red block")
        image = frame_messages(np.full((240, 320, 3), 128, np.uint8))[0]
        assert probe.spin_until(lambda: late.pub_image.get_subscription_count() > 0, 10)
        stamps = []

        def answered() -> bool:
            stamps.append(late.publish(image))  # stamped on the probe's (wall) clock, far from the node's 100 s
            return any(probe.outputs_for("status", s) for s in stamps)
        assert probe.spin_until(answered, 30, every_s=0.2)
        assert probe.spin_until(lambda: probe.diagnostics()["latency_p50_ms"].startswith("n/a: image stamps"), 5)
        assert probe.diagnostics()["latency_p99_ms"] == probe.diagnostics()["latency_p50_ms"]
        assert int(probe.diagnostics()["errors.stamp_clock"]) >= 1
    finally:
        probe.close()
        assert node.stop() == 0, node.text()
