"""Model outputs back to the source frame (runtime/postprocess.py)."""
import warnings

import numpy as np
import pytest

from lts_ros.data.transforms import Letterbox
from lts_ros.runtime.postprocess import bbox_of, build_result, centroid_of, prior_heatmap, sigmoid

K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return 1.0 if union == 0 else (a & b).sum() / union


def test_sigmoid_is_stable_at_extremes():
    logits = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = sigmoid(logits)
    assert p.dtype == np.float32 and np.isfinite(p).all()
    np.testing.assert_allclose(p, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-6)


@pytest.mark.parametrize("src_h, src_w", [(480, 640), (640, 480)])
def test_a_rectangle_in_logit_space_maps_back_to_the_source(src_h, src_w):
    box = Letterbox.fit(src_h, src_w, 128)  # scale 0.2; 16 px of padding on the short side
    logits = np.full((128, 128), -8.0, np.float32)
    logits[box.pad_y + 40: box.pad_y + 70, box.pad_x + 20: box.pad_x + 60] = 8.0
    result = build_result(logits, box, threshold=0.5)
    assert result.mask.shape == (src_h, src_w) and result.mask.dtype == bool
    expected = np.zeros((src_h, src_w), bool)
    expected[200:350, 100:300] = True  # model pixels / 0.2
    np.testing.assert_allclose(result.bbox, (100, 200, 299, 349), atol=2)
    assert iou(result.mask, expected) > 0.97
    np.testing.assert_allclose(result.centroid_px, (199.5, 274.5), atol=1.0)
    assert result.found and 0.9 < result.score <= 1.0 and result.prior is None and result.centroid_3d is None


def test_empty_mask_is_not_found():
    result = build_result(np.full((128, 128), -5.0, np.float32), Letterbox.fit(480, 640, 128), 0.5,
                          np.ones((480, 640), np.float32), K)
    assert not result.found and result.score == 0.0
    assert result.bbox is None and result.centroid_px is None and result.centroid_3d is None


def test_bbox_and_centroid_of_small_masks():
    mask = np.zeros((5, 7), bool)
    mask[1:3, 2] = True
    mask[4, 6] = True
    assert bbox_of(mask) == (2, 1, 6, 4)
    np.testing.assert_allclose(centroid_of(mask), ((2 + 2 + 6) / 3, (1 + 2 + 4) / 3))
    assert bbox_of(np.zeros((3, 3), bool)) is None and centroid_of(np.zeros((3, 3), bool)) is None


def test_centroid_3d_of_a_box_on_a_plane_ignores_holes_and_the_boundary():
    depth = np.full((480, 640), 2.0, np.float32)  # a plane 2 m away
    depth[200:281, 300:381] = 1.0  # an 81 x 81 px box 1 m away, centred on (u, v) = (340, 240)
    depth[220:225, 320:325], depth[256:261, 356:361] = np.nan, np.nan  # holes placed symmetrically
    depth[238:243, 300:303], depth[238:243, 378:381] = 0.0, np.inf
    box = Letterbox.fit(480, 640, 640)  # scale 1: the mask below reaches the source unchanged
    logits = np.full((640, 640), -8.0, np.float32)
    logits[box.pad_y + 198: box.pad_y + 283, 298:383] = 8.0  # 2 px too big: its rim sees the plane
    result = build_result(logits, box, 0.5, depth, K)
    np.testing.assert_allclose(result.centroid_3d, [(340 - 320) / 500, 0.0, 1.0], atol=1e-6)


def test_centroid_3d_is_none_without_valid_depth():
    logits = np.full((640, 640), 8.0, np.float32)
    depth = np.zeros((480, 640), np.float32)
    assert build_result(logits, Letterbox.fit(480, 640, 640), 0.5, depth, K).centroid_3d is None


def test_prior_heatmap_lands_where_the_prior_cell_is():
    box = Letterbox.fit(480, 640, 128)
    prior = np.full((16, 16), -6.0, np.float32)
    prior[7, 2] = 6.0  # model pixels 56..63 x 16..23, centre (60, 20)
    heat = prior_heatmap(prior, box)
    assert heat.shape == (480, 640) and heat.dtype == np.float32 and 0.0 <= heat.min() <= heat.max() <= 1.0
    v, u = np.unravel_index(heat.argmax(), heat.shape)
    assert abs(v - (60 - 16) / 0.2) <= 10 and abs(u - 20 / 0.2) <= 10
    assert build_result(np.zeros((128, 128), np.float32), box, 0.5, prior_logits=prior).prior.shape == (480, 640)
