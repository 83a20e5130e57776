"""The node's plain-Python parts on real message classes: the image codec, stamp pairing, the latest-frame
worker, depth/intrinsics alignment and the parameter table."""
import threading
import time

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image

from lts_ros.ros import conversions
from lts_ros.ros.conversions import ImageError, depth_from_image, rgb_from_compressed, rgb_from_image
from lts_ros.ros.image_header import declared_size
from lts_ros.ros.params import BY_NAME, PARAMS, problems
from lts_ros.ros.sync import StampSync
from lts_ros.ros.worker import LatestWorker

RNG = np.random.default_rng(0)


def image_msg(array: np.ndarray, encoding: str, pad: int = 0, bigendian: bool = False) -> Image:
    """An Image with ``pad`` bytes of row padding, in the requested byte order."""
    array = array.astype(array.dtype.newbyteorder(">" if bigendian else "<"))
    rows = array.reshape(array.shape[0], -1).view(np.uint8)
    rows = np.concatenate([rows, np.full((rows.shape[0], pad), 7, np.uint8)], axis=1)
    return Image(height=array.shape[0], width=array.shape[1], encoding=encoding, is_bigendian=int(bigendian),
                 step=rows.shape[1], data=rows.tobytes())


@pytest.mark.parametrize("encoding, to_rgb", [("rgb8", lambda a: a), ("bgr8", lambda a: a[:, :, ::-1]),
                                              ("rgba8", lambda a: a[:, :, :3]), ("bgra8", lambda a: a[:, :, 2::-1])])
def test_colour_encodings_with_row_padding(encoding, to_rgb):
    channels = 4 if encoding.endswith("a8") else 3
    array = RNG.integers(0, 255, (5, 7, channels), dtype=np.uint8)
    assert np.array_equal(rgb_from_image(image_msg(array, encoding, pad=3)), to_rgb(array))


def test_mono8_becomes_grey_rgb():
    array = RNG.integers(0, 255, (4, 6), dtype=np.uint8)
    rgb = rgb_from_image(image_msg(array, "mono8", pad=2))
    assert rgb.shape == (4, 6, 3) and np.array_equal(rgb[:, :, 1], array)


@pytest.mark.parametrize("bigendian", [False, True])
def test_depth_16uc1_millimetres_in_either_byte_order(bigendian):
    mm = np.array([[0, 1000, 65535], [250, 500, 1500]], np.uint16)
    depth = depth_from_image(image_msg(mm, "16UC1", pad=2, bigendian=bigendian))
    assert depth.dtype == np.float32 and np.allclose(depth, mm / 1000.0)


def test_depth_32fc1_invalid_readings_become_zero():
    metres = np.array([[1.5, np.nan, np.inf], [-1.0, 0.0, 0.75]], np.float32)
    assert np.array_equal(depth_from_image(image_msg(metres, "32FC1")), [[1.5, 0, 0], [0, 0, 0.75]])


@pytest.mark.parametrize("change, kind, fragment", [
    ({"encoding": "yuv422"}, "encoding", "unsupported encoding 'yuv422'"),
    ({"width": 0}, "size", "empty image (0x4)"),
    ({"step": 5}, "step", "step 5 < width x channels x bytes = 18"),
    ({"data": b"\x00" * 10}, "data", "data has 10 bytes, step x height needs 72"),
])
def test_malformed_images_are_refused_with_the_reason(change, kind, fragment):
    msg = image_msg(RNG.integers(0, 255, (4, 6, 3), dtype=np.uint8), "rgb8")
    for field, value in change.items():
        setattr(msg, field, value)
    with pytest.raises(ImageError) as info:
        rgb_from_image(msg)
    assert info.value.kind == kind and fragment in str(info.value)


def test_huge_images_are_refused_before_any_copy():
    msg = Image(height=4320, width=7681, encoding="rgb8", step=7681 * 3, data=b"")  # no 100 MB needed to refuse
    with pytest.raises(ImageError, match="exceeds the 33 MP limit") as info:
        rgb_from_image(msg)
    assert info.value.kind == "size"


def test_depth_and_colour_encodings_are_not_confused():
    with pytest.raises(ImageError, match="unsupported encoding '16UC1' for colour"):
        rgb_from_image(image_msg(np.zeros((2, 2), np.uint16), "16UC1"))
    with pytest.raises(ImageError, match="unsupported encoding 'rgb8' for depth"):
        depth_from_image(image_msg(np.zeros((2, 2, 3), np.uint8), "rgb8"))


def test_compressed_images_decode_or_fail_clearly():
    rgb = RNG.integers(0, 255, (8, 10, 3), dtype=np.uint8)
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert np.array_equal(rgb_from_compressed(CompressedImage(format="png", data=png.tobytes())), rgb)
    with pytest.raises(ImageError, match="cannot decode compressed image"):
        rgb_from_compressed(CompressedImage(format="jpeg", data=b"not a jpeg"))


def encoded(ext: str, *params: int) -> bytes:
    """A 40x30 frame encoded by OpenCV (a baseline JPEG unless ``params`` say otherwise: size in SOF0)."""
    rgb = np.random.default_rng(1).integers(0, 255, (30, 40, 3), dtype=np.uint8)
    return cv2.imencode(ext, rgb, list(params))[1].tobytes()


PNG, JPEG = encoded(".png"), encoded(".jpg")
JPEG_SOF0 = JPEG.index(b"\xff\xc0")  # marker, length (2 bytes), precision (1), height, width (2 each)


@pytest.mark.parametrize("data", [PNG, JPEG, encoded(".jpg", cv2.IMWRITE_JPEG_PROGRESSIVE, 1),  # SOF2
                                  PNG[:40], JPEG[:JPEG_SOF0 + 9],
                                  JPEG[:2] + b"\xff\xff\xff\xd0\xff\xff" + JPEG[2:]])  # fill bytes, an RST
def test_declared_size_reads_png_and_jpeg_headers(data):
    assert declared_size(data) == (40, 30)


@pytest.mark.parametrize("data", [b"", b"GIF89a\x28\x00\x1e\x00", PNG[:23], JPEG[:2], JPEG[:3], JPEG[:5],
                                  JPEG[:JPEG_SOF0 + 8], b"\xff\xd8\x00\x00", b"\xff\xd8\xff\xe0\x00\x00",
                                  b"\xff\xd8\xff\xd9" + JPEG[2:], b"\xff\xd8\xff\xda" + JPEG[2:]])
def test_declared_size_gives_up_safely_on_other_or_truncated_headers(data):
    assert declared_size(data) is None


@pytest.mark.parametrize("data", [PNG[:40], JPEG[:JPEG_SOF0 + 9], b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"])
def test_truncated_compressed_images_are_still_undecodable_data(data):
    with pytest.raises(ImageError, match="cannot decode compressed image") as info:
        rgb_from_compressed(CompressedImage(format="jpeg", data=data))
    assert info.value.kind == "data"


@pytest.mark.parametrize("fmt, data, size", [
    ("png", PNG[:16] + (100000).to_bytes(4, "big") * 2 + PNG[24:], "100000x100000"),
    ("jpeg", JPEG[:JPEG_SOF0 + 5] + (60000).to_bytes(2, "big") * 2 + JPEG[JPEG_SOF0 + 9:], "60000x60000"),
])
def test_decompression_bombs_are_refused_before_decoding(fmt, data, size, monkeypatch):
    def imdecode(*args):
        raise AssertionError("a bomb reached the decoder")

    monkeypatch.setattr(conversions.cv2, "imdecode", imdecode)
    with pytest.raises(ImageError) as info:
        rgb_from_compressed(CompressedImage(format=fmt, data=data))
    assert info.value.kind == "size"
    assert str(info.value) == f"compressed image declared as {size} exceeds the 33 MP limit"


def test_fill_image_round_trips_mono8_masks():
    mask = (RNG.random((3, 5)) > 0.5).astype(np.uint8) * 255
    msg = conversions.fill_image(Image(), mask, "mono8")
    assert (msg.step, msg.encoding) == (5, "mono8") and np.array_equal(conversions.image_to_array(msg), mask)


def test_stamp_sync_pairs_the_nearest_frame_within_tolerance():
    sync = StampSync(0.02)
    for stamp in (1.00, 1.033, 1.066):
        sync.add(stamp, f"depth@{stamp}")
    assert sync.match(1.04) == "depth@1.033" and sync.match(1.20) is None
    assert sync.latest() == "depth@1.066"


def test_stamp_sync_waits_for_a_depth_frame_still_on_its_way():
    sync = StampSync(0.02)
    sync.add(1.0, "old")
    threading.Timer(0.1, sync.add, (2.0, "late")).start()
    start = time.monotonic()
    assert sync.match(2.0, wait_s=2.0) == "late" and time.monotonic() - start < 1.0
    assert sync.match(5.0, wait_s=0.05) is None  # gives up after wait_s
    assert StampSync(0.02).match(1.0, wait_s=0.05) is None  # no depth at all: waits, then goes without


def test_latest_worker_processes_the_newest_and_counts_drops():
    gate, seen = threading.Event(), []

    def process(item):
        gate.wait(5)
        seen.append(item)

    worker = LatestWorker(process, on_error=lambda exc: None)
    worker.submit(0)
    time.sleep(0.1)  # 0 is in progress, blocked on the gate
    for item in (1, 2, 3):
        worker.submit(item)
    gate.set()
    deadline = time.monotonic() + 5
    while worker.processed < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert seen == [0, 3] and worker.dropped == 2


def test_the_worker_survives_a_failing_item():
    errors, seen = [], []

    def process(item):
        if item == "bad":
            raise ValueError("boom")
        seen.append(item)

    worker = LatestWorker(process, errors.append)
    worker.submit("bad")
    time.sleep(0.1)
    worker.submit("good")
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert seen == ["good"] and str(errors[0]) == "boom"


def test_parameter_table_validates_types_ranges_and_choices():
    assert BY_NAME["threshold"].validate(1.5) == "threshold must be in [0, 1], got 1.5"
    assert "one of auto, torch, onnxruntime, openvino, tensorrt" in BY_NAME["backend"].validate("tensorflow")
    assert "multiple of 32" in BY_NAME["input_size"].validate(300)
    assert "sync_tolerance must be a number, got a string 'fast'" == BY_NAME["sync_tolerance"].validate("fast")
    assert "cpu, cuda or cuda:N" in BY_NAME["device"].validate("gpu0")
    assert all(p.validate(p.default) is None for p in PARAMS)
    assert BY_NAME["threshold"].validate(1) is None and BY_NAME["threshold"].coerce(1) == 1.0  # YAML `threshold: 1`
    assert BY_NAME["threshold"].validate(2) == "threshold must be in [0, 1], got 2.0"
    assert BY_NAME["input_size"].validate(320.0) == "input_size must be an integer, got a number 320.0"
    assert BY_NAME["refine_edges"].validate("yes") == "refine_edges must be true or false, got a string 'yes'"


def test_launch_values_are_checked_as_a_whole_with_every_reason():
    assert problems({"threshold": 1, "max_rate": 5, "backend": "auto"}) == []
    assert problems({"backend": "tensorflow", "threshold": "high", "use_sim_time": True}) == [
        "backend must be one of auto, torch, onnxruntime, openvino, tensorrt, got 'tensorflow'",
        "threshold must be a number, got a string 'high'"]
