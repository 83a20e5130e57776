"""lts_ros bags: what is written reads back message for message (types, stamps, data) with rosbags, and
deserializes with rclpy's own CDR code; bad bags and options are one-line errors."""
import numpy as np
import pytest
from rclpy.serialization import deserialize_message
from rosbags.rosbag2 import Reader
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from lts_ros.bag.format import BagTopics
from lts_ros.bag.frames import read_frames
from lts_ros.bag.io import BagWriter, bag_topics, read_messages
from lts_ros.data.tabletop.dataset import TabletopDataset
from lts_ros.errors import LtsError
from lts_ros.ros.conversions import depth_from_image, image_to_array, rgb_from_compressed, rgb_from_image, stamp_ns

T0 = 1_700_000_000_000_000_000


@pytest.fixture(scope="module")
def samples(tabletop_root):
    data = TabletopDataset(tabletop_root, "test")
    return [data[i] for i in range(3)]


@pytest.mark.parametrize("storage, depth_encoding", [("mcap", "16UC1"), ("sqlite3", "32FC1")])
def test_a_written_bag_reads_back_message_for_message(tmp_path, samples, storage, depth_encoding):
    path = tmp_path / "episode"
    stamps = [T0 + i * 66_666_667 for i in range(len(samples))]
    with BagWriter(path, storage=storage) as bag:
        bag.write_command(stamps[0] - 1, samples[0].text)
        for stamp, s in zip(stamps, samples):
            bag.write_frame(stamp, s.image, s.depth_m, s.K, depth_encoding, s.mask, s.centroid_3d)
    topics = BagTopics()
    assert bag_topics(path) == topics.types()
    messages = list(read_messages(path))
    assert [m for m in messages if m[0] == topics.command][0][2].data == samples[0].text
    for topic in (topics.color, topics.depth, topics.camera_info, topics.gt_mask, topics.gt_centroid):
        got = [(stamp, msg) for t, stamp, msg in messages if t == topic]
        assert [stamp for stamp, _ in got] == stamps, topic
        assert all(stamp_ns(msg.header) == stamp for stamp, msg in got)
    with Reader(path) as reader:  # the same bytes through rclpy: what ros2 bag play would publish
        raw = {(c.topic, t): data for c, t, data in reader.messages()}
    for stamp, s in zip(stamps, samples):
        color = deserialize_message(bytes(raw[topics.color, stamp]), Image)
        assert color.header.frame_id == "camera_color_optical_frame"
        assert np.array_equal(rgb_from_image(color), s.image)
        depth = depth_from_image(deserialize_message(bytes(raw[topics.depth, stamp]), Image))
        tolerance = 0.0006 if depth_encoding == "16UC1" else 1e-6  # millimetre rounding
        assert np.allclose(depth, s.depth_m, atol=tolerance)
        mask = image_to_array(deserialize_message(bytes(raw[topics.gt_mask, stamp]), Image)) > 0
        assert np.array_equal(mask, s.mask)
        info = deserialize_message(bytes(raw[topics.camera_info, stamp]), CameraInfo)
        assert np.allclose(np.reshape(info.k, (3, 3)), s.K) and (info.width, info.height) == (640, 480)


@pytest.mark.parametrize("color_format, max_error", [("png", 0), ("jpeg", 8)])
def test_compressed_colour_reads_back_like_image_transport_writes_it(tmp_path, samples, color_format, max_error):
    path, topics = tmp_path / color_format, BagTopics().with_overrides(["color=/camera/color/image_raw/compressed"])
    with BagWriter(path, topics, color_format=color_format) as bag:
        for i, s in enumerate(samples):
            bag.write_frame(T0 + i, s.image, s.depth_m, s.K)
    assert bag_topics(path)[topics.color] == "sensor_msgs/msg/CompressedImage"
    frames = list(read_frames(path, topics))
    with Reader(path) as reader:
        raw = [data for c, _, data in reader.messages() if c.topic == topics.color]
    for frame, data, s in zip(frames, raw, samples, strict=True):
        msg = deserialize_message(bytes(data), CompressedImage)
        assert msg.format == f"rgb8; {color_format} compressed bgr8"
        decoded = rgb_from_compressed(msg)
        assert np.array_equal(decoded, frame.rgb)
        assert np.abs(decoded.astype(int) - s.image).mean() <= max_error  # jpeg: lossy, a few levels on average
    with pytest.raises(LtsError, match="unknown colour format 'webp'"):
        BagWriter(tmp_path / "webp", color_format="webp")


def test_topics_can_be_renamed_by_role():
    topics = BagTopics().with_overrides(["color=/cam/rgb", "depth=/cam/depth"])
    assert (topics.color, topics.depth, topics.command) == ("/cam/rgb", "/cam/depth", "/lts/command")
    for bad in ("colour=/x", "color", "color=relative", "depth=/lts/command"):
        with pytest.raises(LtsError, match="--topics"):
            BagTopics().with_overrides([bad])


def test_bad_bags_are_one_line_errors(tmp_path):
    with pytest.raises(LtsError, match="bag not found"):
        list(read_messages(tmp_path / "missing"))
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "metadata.yaml").write_text("not: a bag\n")
    with pytest.raises(LtsError, match="is not a readable rosbag2 bag"):
        bag_topics(tmp_path / "junk")
    with pytest.raises(LtsError, match="already exists"):
        BagWriter(tmp_path / "junk")
    with pytest.raises(LtsError, match="unknown bag storage 'rosbag1'"):
        BagWriter(tmp_path / "new", storage="rosbag1")


def test_a_truncated_bag_is_a_clear_error(tmp_path, samples):
    path = tmp_path / "episode"
    with BagWriter(path) as bag:
        for i, s in enumerate(samples):
            bag.write_frame(T0 + i, s.image, s.depth_m, s.K)
    data = next(path.glob("*.mcap"))
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    with pytest.raises(LtsError, match="episode"):
        list(read_messages(path))
