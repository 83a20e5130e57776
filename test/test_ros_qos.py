"""Camera QoS over real DDS between processes: the four reliability pairings at 640x480 with the shipped
FastDDS profile in the publisher, a stock (profile-less) reliable driver at 640x480 and 1280x720 against
the default subscription, and the node's warning when publishers exist but no frame arrives. Publishers
run in processes of their own: FastDDS reads its profile once per process."""
import struct
import subprocess
import sys

import cv2
import numpy as np
import pytest
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
from sensor_msgs.msg import CompressedImage

from lts_ros.ros.harness.domain import without_profile

from ros_graph import OPTICAL_FRAME, NodeProcess, Probe, call, isolated_env, set_parameter

FRAMES = 5


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    env = isolated_env()  # the node runs with the profile, as lts.launch.py starts it
    process = NodeProcess(env, tmp_path_factory.mktemp("node") / "lts_node.log",
                          {"backend": "torch", "command": "the red block"})
    process.wait_for_log("active:")
    yield process, env
    assert process.stop() == 0, process.text()


def switch_reliability(env: dict, reliability: str) -> None:
    reactivate_with(env, "image_reliability", reliability)


def reactivate_with(env: dict, name: str, value: str) -> None:
    """Deactivate, set ``name``, activate: the subscriptions are recreated with it."""
    probe = Probe(env)
    try:
        for transition in (Transition.TRANSITION_DEACTIVATE, None, Transition.TRANSITION_ACTIVATE):
            if transition is None:
                assert set_parameter(probe, name, value).successful
                continue
            request = ChangeState.Request(transition=Transition(id=transition))
            assert call(probe, ChangeState, "/lts_node/change_state", request, timeout=30).success
    finally:
        probe.close()


def delivered(env: dict, publisher: str, size: tuple[int, int], profile: bool = True) -> tuple[int, list[str]]:
    """Frames lts_node receives (its frames_received counter) from FRAMES frames of ``size`` sent by a
    ``publisher``-reliability publisher in a process of its own, with or without config/fastdds.xml; and the
    diagnostics messages the node published meanwhile."""
    probe = Probe(env)
    try:
        before = frames_received(probe)
        publisher_env = env if profile else without_profile(env)
        sender = subprocess.Popen([sys.executable, "-m", "lts_ros.bench.dds", "--publish", publisher,
                                   f"{size[1]}x{size[0]}", str(FRAMES)], env=publisher_env)
        messages = []
        while sender.poll() is None:
            probe.spin_for(0.2)
            messages.append(probe.diagnostics().get("message", ""))
        assert sender.returncode == 0
        return frames_received(probe) - before, messages
    finally:
        probe.close()


def frames_received(probe: Probe) -> int:
    """The node's frames_received counter, from a diagnostics message published after this call."""
    count = len(probe.received["diagnostics"])
    assert probe.spin_until(lambda: len(probe.received["diagnostics"]) > count + 1, 10), "no /diagnostics"
    return int(probe.diagnostics()["frames_received"])


@pytest.mark.parametrize("subscriber", ["reliable", "best_effort"])
@pytest.mark.parametrize("publisher", ["reliable", "best_effort"])
def test_the_four_reliability_pairings_at_640x480(node, publisher, subscriber):
    process, env = node
    switch_reliability(env, subscriber)
    count, messages = delivered(env, publisher, (480, 640))
    if (publisher, subscriber) == ("best_effort", "reliable"):  # incompatible QoS: DDS never matches them
        assert count == 0
        assert any("best_effort publisher cannot serve" in m for m in messages), messages
    elif subscriber == "best_effort":  # best effort does not resend: one 640x480 frame was lost once in CI
        assert count >= FRAMES - 1, f"{count}/{FRAMES} frames received"
    else:
        assert count == FRAMES, f"{count}/{FRAMES} frames received"


@pytest.mark.parametrize("size", [(480, 640), (720, 1280)])
def test_a_stock_reliable_driver_works_with_the_default_subscription(node, size):
    """No profile in the publisher (a camera driver as installed) and image_reliability left at reliable."""
    process, env = node
    switch_reliability(env, "reliable")
    count, _ = delivered(env, "reliable", size, profile=False)
    assert count == FRAMES, f"{count}/{FRAMES} frames received"


def test_compressed_transport_reads_image_compressed(node):
    process, env = node
    reactivate_with(env, "image_transport", "compressed")
    probe = Probe(env)
    try:
        publisher = probe.node.create_publisher(CompressedImage, "image/compressed", 2)
        assert probe.spin_until(lambda: publisher.get_subscription_count() > 0, 10)
        rgb = np.random.default_rng(1).integers(0, 255, (480, 640, 3), dtype=np.uint8)
        msg = CompressedImage(format="jpeg", data=cv2.imencode(".jpg", rgb)[1].tobytes())
        msg.header.stamp.sec, msg.header.frame_id = 42, OPTICAL_FRAME
        publisher.publish(msg)
        assert probe.spin_until(lambda: probe.outputs_for("status", 42 * 10**9), 10)
        assert probe.outputs_for("status", 42 * 10**9)[0].header.frame_id == OPTICAL_FRAME
        # a decompression bomb: a 64x48 PNG whose header declares 100000 x 100000, refused before decoding
        png = bytearray(cv2.imencode(".png", rgb[:48, :64])[1].tobytes())
        png[16:24] = struct.pack(">II", 100_000, 100_000)
        before = int(probe.diagnostics().get("errors.size", 0))
        msg = CompressedImage(format="png", data=bytes(png))
        msg.header.stamp.sec, msg.header.frame_id = 43, OPTICAL_FRAME
        publisher.publish(msg)
        assert probe.spin_until(lambda: int(probe.diagnostics().get("errors.size", 0)) > before, 10)
        assert not probe.outputs_for("status", 43 * 10**9)
        assert "declared as 100000x100000" in process.text()
    finally:
        probe.close()
        reactivate_with(env, "image_transport", "raw")
