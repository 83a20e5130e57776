"""lts_node under bad input, over real DDS: each bad message is warned about (throttled), counted in
/diagnostics, and the node keeps segmenting the good frames that follow."""
import numpy as np
import pytest
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from sensor_msgs.msg import CameraInfo, Image

from lts_ros.checkpoint import shipped_checkpoint
from lts_ros.data.tabletop.dataset import TabletopDataset
from lts_ros.runtime.segmenter import Segmenter
from lts_ros.ros.conversions import fill_image, image_to_array
from lts_ros.ros.status import FrameStatus

from ros_graph import OPTICAL_FRAME, NodeProcess, Probe, call, depth_mm, isolated_env, running_node, set_parameter


@pytest.fixture(scope="module")
def sample(tabletop_root):
    return TabletopDataset(tabletop_root, "test")[0]


@pytest.fixture(scope="module")
def graph(tmp_path_factory, sample):
    # The command goes out before the node exists: transient local delivers it once the node subscribes.
    with running_node(tmp_path_factory.mktemp("node") / "lts_node.log", {"backend": "torch"}, sample.text) as running:
        yield running


def good_frame(probe: Probe, sample, **send) -> int:
    """A valid frame after the bad input: the node must still answer it. Returns its stamp."""
    stamp = probe.send(sample.image, depth_mm(sample.depth_m), sample.K, **send)
    assert probe.status_for(stamp) is not None, "the node stopped answering"
    return stamp


def error_count(probe: Probe, kind: str) -> int:
    probe.spin_for(1.2)  # diagnostics are published at 1 Hz
    return int(probe.diagnostics().get(f"errors.{kind}", 0))


def raw(height: int, width: int, encoding: str, step: int, data: bytes) -> Image:
    return Image(height=height, width=width, encoding=encoding, step=step, data=data)


@pytest.mark.parametrize("kind, message", [
    ("encoding", raw(4, 4, "yuv422", 8, bytes(32))),
    ("data", raw(480, 640, "rgb8", 1920, bytes(1000))),
    ("step", raw(4, 6, "rgb8", 10, bytes(40))),
    ("size", raw(0, 640, "rgb8", 1920, b"")),
    ("size", raw(4321, 7681, "mono8", 7681, b"")),  # over 8K: refused before reading the (absent) data
    ("frame", raw(1, 2000, "rgb8", 6000, bytes(6000))),  # the letterbox would round its height to 0 px
])
def test_malformed_images_are_counted_and_the_node_goes_on(graph, sample, kind, message):
    node, probe = graph
    before = error_count(probe, kind)
    probe.send(message)
    assert probe.spin_until(lambda: error_count(probe, kind) > before, 10)
    good_frame(probe, sample)
    assert "frame dropped" in node.text()


def test_odd_sizes_are_segmented_at_their_own_resolution(graph, sample):
    node, probe = graph
    stamp = probe.send(np.ascontiguousarray(sample.image[:479, :639]))
    assert probe.spin_until(lambda: probe.outputs_for("mask", stamp), 30)
    assert image_to_array(probe.outputs_for("mask", stamp)[0]).shape == (479, 639)


def centroid_for(probe: Probe, stamp: int, timeout: float = 10):
    """The 3D centroid lts_node published for the frame (None if none), from ``~/centroid`` and its status."""
    status = probe.status_for(stamp, timeout)
    assert status is not None and status.found, status
    probe.spin_for(0.3)
    points = probe.outputs_for("centroid", stamp)
    assert bool(points) == (status.centroid_m is not None), (points, status)
    assert bool(status.no_centroid_reason) == (status.centroid_m is None), status
    return np.array([points[0].point.x, points[0].point.y, points[0].point.z]) if points else None


def test_big_endian_and_half_resolution_depth_give_the_same_centroid(graph, sample):
    node, probe = graph
    reference = centroid_for(probe, good_frame(probe, sample))
    assert reference is not None
    big = fill_image(Image(), depth_mm(sample.depth_m).astype(">u2"), "16UC1")
    assert big.is_bigendian == 1
    assert np.allclose(centroid_for(probe, probe.send(sample.image, big, sample.K)), reference, atol=1e-3)
    half = depth_mm(sample.depth_m)[::2, ::2]
    assert np.allclose(centroid_for(probe, probe.send(sample.image, half, sample.K)), reference, atol=0.01)


def test_depth_that_cannot_be_aligned_or_used_gives_no_centroid(graph, sample):
    node, probe = graph
    before = error_count(probe, "depth_size")
    square = np.full((480, 480), 800, np.uint16)  # another aspect ratio: not registered to the colour camera
    stamp = probe.send(sample.image, square, sample.K)
    assert centroid_for(probe, stamp) is None and probe.outputs_for("mask", stamp)
    assert error_count(probe, "depth_size") > before
    invalid = np.full(sample.depth_m.shape, np.nan, np.float32)
    invalid[::2] = np.inf
    stamp = probe.send(sample.image, fill_image(Image(), invalid, "32FC1"), sample.K)
    assert centroid_for(probe, stamp) is None and probe.outputs_for("mask", stamp)


@pytest.mark.parametrize("K", [np.zeros((3, 3)), np.full((3, 3), np.nan), np.diag([np.inf, 500.0, 1.0])],
                         ids=["zeros", "nan", "inf"])
def test_unusable_intrinsics_drop_only_the_3d_output(graph, sample, K):
    node, probe = graph
    before = error_count(probe, "camera_info")
    stamp = probe.send(sample.image, depth_mm(sample.depth_m), K)
    assert centroid_for(probe, stamp) is None and probe.outputs_for("mask", stamp)
    assert error_count(probe, "camera_info") > before
    assert centroid_for(probe, good_frame(probe, sample)) is not None  # the next good camera_info is used


def test_depth_in_another_frame_gives_no_centroid_and_a_warning_naming_both(graph, sample):
    """Unregistered depth (RealSense depth/image_rect_raw is in camera_depth_optical_frame)."""
    node, probe = graph
    before = error_count(probe, "depth_frame")
    stamp = probe.send(sample.image, depth_mm(sample.depth_m), sample.K, depth_frame_id="camera_depth_optical_frame")
    assert centroid_for(probe, stamp) is None and probe.outputs_for("mask", stamp)
    assert "camera_depth_optical_frame" in probe.status_for(stamp).no_centroid_reason
    assert error_count(probe, "depth_frame") > before
    warnings = [line for line in node.text().splitlines() if "depth frame_id" in line]
    assert warnings and OPTICAL_FRAME in warnings[0] and "camera_depth_optical_frame" in warnings[0]


def test_plumb_bob_distortion_in_camera_info_reaches_the_centroid(graph, sample):
    """The node passes camera_info's distortion to the back-projection: its centroid is the runtime's with that
    distortion, and differs from the pinhole one."""
    node, probe = graph
    distortion = [-0.28, 0.09, 0.001, -0.0005, -0.01]
    reference = Segmenter.from_checkpoint(shipped_checkpoint(), backend="torch")
    reference.set_command(sample.text)
    expected = reference.segment(sample.image, sample.depth_m, sample.K, distortion=np.array(distortion))
    pinhole = centroid_for(probe, good_frame(probe, sample))
    distorted = centroid_for(probe, probe.send(sample.image, depth_mm(sample.depth_m), sample.K, D=distortion))
    assert np.allclose(distorted, expected.centroid_3d, atol=2e-3)
    assert np.linalg.norm(distorted - pinhole) > 2e-3


def test_a_stale_camera_info_is_used_as_the_latest(graph, sample):
    """camera_info sent once, stamped long before the frames (drivers that publish it rarely or latched)."""
    node, probe = graph
    probe.pub_info.publish(CameraInfo(width=640, height=480, k=sample.K.reshape(-1).tolist()))  # stamp 0
    probe.spin_for(0.3)
    for _ in range(3):
        assert centroid_for(probe, probe.send(sample.image, depth_mm(sample.depth_m))) is not None


@pytest.mark.parametrize("command, kind", [("", "command"), ("   \t ", "command")])
def test_empty_commands_are_ignored_and_the_last_one_kept(graph, sample, command, kind):
    node, probe = graph
    before = error_count(probe, kind)
    probe.command(command)
    assert probe.spin_until(lambda: error_count(probe, kind) > before, 10)
    assert probe.spin_until(lambda: probe.diagnostics()["command"] == sample.text, 5)
    assert probe.status_for(good_frame(probe, sample)).command == sample.text


def answered_with(probe: Probe, sample, predicate) -> FrameStatus:
    """Good frames until one's status names a command satisfying ``predicate``; that status."""
    return probe.first_answered(predicate, sample.image, depth_mm(sample.depth_m), sample.K,
                                every_frame_answered=True)[1]


def test_a_10kb_command_is_truncated_and_used(graph, sample):
    node, probe = graph
    probe.command(sample.text + " " + "very " * 2000)
    status = answered_with(probe, sample, lambda command: command.startswith(sample.text + " very"))
    assert len(status.command) <= 512
    assert error_count(probe, "command_truncated") >= 1
    probe.command(sample.text)
    answered_with(probe, sample, lambda command: command == sample.text)


def test_non_ascii_and_emoji_commands_are_segmented(graph, sample):
    node, probe = graph
    probe.command("la tasse rouge ☕ 🤖 — bitte")
    answered_with(probe, sample, lambda command: command == "la tasse rouge ☕ 🤖 — bitte")
    probe.command(sample.text)
    answered_with(probe, sample, lambda command: command == sample.text)


def test_a_missing_model_fails_configure_and_the_node_stays_reconfigurable(tmp_path, sample):
    env = isolated_env()
    probe = Probe(env)
    node = NodeProcess(env, tmp_path / "lts_node.log", {"backend": "torch", "model": str(tmp_path / "nope.safetensors")})
    try:
        node.wait_for_log("configure failed")
        assert "nope.safetensors" in node.text() and node.proc.poll() is None
        state = call(probe, GetState, "/lts_node/get_state", GetState.Request(), timeout=30).current_state
        assert state.label == "unconfigured"
        corrupt = tmp_path / "corrupt.safetensors"
        corrupt.write_bytes(b"\x00" * 64)
        assert set_parameter(probe, "model", str(corrupt)).successful
        configure = ChangeState.Request(transition=Transition(id=Transition.TRANSITION_CONFIGURE))
        assert not call(probe, ChangeState, "/lts_node/change_state", configure, timeout=60).success
        assert set_parameter(probe, "model", "").successful  # back to the shipped model
        assert call(probe, ChangeState, "/lts_node/change_state", configure, timeout=120).success
    finally:
        probe.close()
        assert node.stop() == 0, node.text()
