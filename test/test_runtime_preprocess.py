"""Frame validation and letterboxing before the model (runtime/preprocess.py)."""
import numpy as np
import pytest

from lts_ros.errors import LtsError
from lts_ros.runtime.preprocess import check_depth, check_depth_and_intrinsics, check_intrinsics, prepare_image

K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])


@pytest.mark.parametrize("rgb, named", [
    (np.zeros((48, 64, 3), np.float32), "float32"),
    (np.zeros((48, 64), np.uint8), "(48, 64)"),
    (np.zeros((48, 64, 4), np.uint8), "(48, 64, 4)"),
    (np.zeros((0, 64, 3), np.uint8), "empty"),
    ([[0, 0, 0]], "list"),
])
def test_bad_rgb_is_named(rgb, named):
    with pytest.raises(LtsError, match="rgb") as info:
        prepare_image(rgb, 128)
    assert named in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("height, width, short_px", [(1, 2000, 0), (2000, 1, 0), (1, 640, 0)])
def test_a_frame_too_thin_for_the_model_input_is_named(height, width, short_px):
    """The short side scales to round(short * 320 / long) px (0.5 rounds to even: 0); below 1 px, refused."""
    with pytest.raises(LtsError) as info:
        prepare_image(np.zeros((height, width, 3), np.uint8), 320)
    assert str(info.value) == (f"image {width}x{height} is too thin for the 320 px model input: "
                               f"its short side would be {short_px} px")


def test_the_thinnest_frame_that_rounds_to_one_pixel_is_letterboxed():
    image, box = prepare_image(np.full((1, 639, 3), 255, np.uint8), 320)
    assert box.inner == (1, 320) and image.shape == (1, 3, 320, 320) and image.sum() == 3 * 320


def test_letterbox_places_the_frame_in_the_model_input():
    rgb = np.zeros((480, 640, 3), np.uint8)
    rgb[200:350, 100:300] = (255, 0, 0)  # a red rectangle
    image, box = prepare_image(rgb, 128)
    assert image.shape == (1, 3, 128, 128) and image.dtype == np.float32
    assert (box.scale, box.pad_x, box.pad_y) == (0.2, 0, 16)
    red = image[0, 0] > 0.5
    rows, cols = np.nonzero(red)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (16 + 40, 16 + 69, 20, 59)
    assert image[0, 1:].max() == 0.0 and 0.0 <= image.min() and image.max() == 1.0


def test_depth_uint16_millimetres_become_float32_metres():
    depth = np.array([[0, 1000], [1500, 65535]], np.uint16)
    metres = check_depth(depth, (2, 2))
    assert metres.dtype == np.float32
    np.testing.assert_allclose(metres, [[0.0, 1.0], [1.5, 65.535]], rtol=1e-6)
    assert check_depth(np.ones((2, 2), np.float64), (2, 2)).dtype == np.float32


@pytest.mark.parametrize("depth, named", [
    (np.ones((240, 320), np.float32), "does not match"),
    (np.ones((480, 640, 1), np.float32), "(H, W)"),
    (np.ones((480, 640), np.int32), "int32"),
])
def test_bad_depth_is_named(depth, named):
    with pytest.raises(LtsError, match="depth") as info:
        check_depth(depth, (480, 640))
    assert named in str(info.value)


@pytest.mark.parametrize("bad, named", [(np.zeros((3, 3)), "fx=0.0"), (np.eye(4), "3x3"),
                                        (np.full((3, 3), np.nan), "finite")])
def test_bad_intrinsics_are_named(bad, named):
    with pytest.raises(LtsError, match="K") as info:
        check_intrinsics(bad)
    assert named in str(info.value)


def test_depth_and_intrinsics_go_together():
    depth = np.ones((4, 4), np.float32)
    with pytest.raises(LtsError, match="go together"):
        check_depth_and_intrinsics(depth, None, (4, 4))
    assert check_depth_and_intrinsics(None, None, (4, 4)) == (None, None)
    _, k = check_depth_and_intrinsics(depth, K.tolist(), (4, 4))
    assert k.dtype == np.float64 and k.shape == (3, 3)
