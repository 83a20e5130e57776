"""Model outputs back to the source frame (runtime/postprocess.py)."""
import warnings

import numpy as np
import pytest

from lts_ros.data.transforms import Letterbox
from lts_ros.geometry import robust_centroid
from lts_ros.runtime.pixels import sigmoid
from lts_ros.runtime.postprocess import build_result, candidates_of, prior_heatmap

K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])
PRESENT, ABSENT = 4.0, -4.0  # presence logits: probability 0.98 and 0.02
ONE, SEVERAL = -4.0, 4.0  # several-targets logits


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
    result = build_result(logits, PRESENT, ONE, box, threshold=0.5)
    assert result.mask.shape == (src_h, src_w) and result.mask.dtype == bool
    expected = np.zeros((src_h, src_w), bool)
    expected[200:350, 100:300] = True  # model pixels / 0.2
    np.testing.assert_allclose(result.bbox, (100, 200, 299, 349), atol=2)
    assert iou(result.mask, expected) > 0.97
    np.testing.assert_allclose(result.centroid_px, (199.5, 274.5), atol=1.0)
    assert result.found and result.status == "found" and len(result.candidates) == 1
    assert result.score == pytest.approx(1 / (1 + np.exp(-PRESENT)), abs=1e-6)
    assert result.prior is None and result.centroid_3d is None


def test_empty_mask_is_not_found():
    result = build_result(np.full((128, 128), -5.0, np.float32), PRESENT, ONE, Letterbox.fit(480, 640, 128), 0.5,
                          np.ones((480, 640), np.float32), K)
    assert result.status == "not_found" and not result.found and not result.candidates
    assert result.bbox is None and result.centroid_px is None and result.centroid_3d is None


def test_a_mask_without_presence_is_not_found_and_publishes_nothing():
    logits = np.full((640, 640), -8.0, np.float32)
    logits[200:300, 200:300] = 8.0
    result = build_result(logits, ABSENT, ONE, Letterbox.fit(640, 640, 640), 0.5, np.ones((640, 640), np.float32), K)
    assert result.status == "not_found" and result.score < 0.05
    assert not result.mask.any() and result.centroid_3d is None and result.bbox is None
    assert len(result.candidates) == 1  # what the mask held is still there to inspect


def test_two_separate_objects_are_ambiguous_with_no_centroid():
    logits = np.full((640, 640), -8.0, np.float32)
    logits[100:200, 100:200] = 8.0
    logits[300:380, 400:480] = 8.0  # 64 % of the first: another object, not an island
    result = build_result(logits, PRESENT, ONE, Letterbox.fit(640, 640, 640), 0.5, np.ones((640, 640), np.float32), K)
    assert result.status == "ambiguous" and not result.found
    assert [c.bbox for c in result.candidates] == [(100, 100, 199, 199), (400, 300, 479, 379)]  # largest first
    assert [c.centroid_px for c in result.candidates] == [(149.5, 149.5), (439.5, 339.5)]
    assert all(c.centroid_3d is not None for c in result.candidates)
    assert result.centroid_3d is None and result.bbox is None and result.centroid_px is None
    assert result.mask.sum() == 100 * 100 + 80 * 80


def test_a_stray_island_is_dropped_from_a_found_mask():
    logits = np.full((640, 640), -8.0, np.float32)
    logits[100:200, 100:200] = 8.0
    logits[400:420, 400:420] = 8.0  # 4 % of the object: an island
    result = build_result(logits, PRESENT, ONE, Letterbox.fit(640, 640, 640), 0.5)
    assert result.found and result.mask.sum() == 100 * 100 and result.bbox == (100, 100, 199, 199)
    np.testing.assert_allclose(result.centroid_px, (149.5, 149.5))


def test_candidates_of_small_masks():
    logits = np.full((5, 7), -1.0, np.float32)
    logits[0:3, 1:4] = 1.0
    logits[4, 6] = 1.0
    (one,) = candidates_of(logits)  # 5 x 7 frame: MIN_OBJECT_SHARE keeps any pixel; the lone pixel is an island
    assert one.bbox == (1, 0, 3, 2) and one.area_px == 9
    np.testing.assert_allclose(one.centroid_px, (2.0, 1.0))
    assert candidates_of(np.full((3, 3), -1.0, np.float32)) == []


def test_centroid_3d_of_a_box_on_a_plane_ignores_holes_and_the_boundary():
    depth = np.full((480, 640), 2.0, np.float32)  # a plane 2 m away
    depth[200:281, 300:381] = 1.0  # an 81 x 81 px box 1 m away, centred on (u, v) = (340, 240)
    depth[220:225, 320:325], depth[256:261, 356:361] = np.nan, np.nan  # holes placed symmetrically
    depth[238:243, 300:303], depth[238:243, 378:381] = 0.0, np.inf
    box = Letterbox.fit(480, 640, 640)  # scale 1: the mask below reaches the source unchanged
    logits = np.full((640, 640), -8.0, np.float32)
    logits[box.pad_y + 198: box.pad_y + 283, 298:383] = 8.0  # 2 px too big: its rim sees the plane
    result = build_result(logits, PRESENT, ONE, box, 0.5, depth, K)
    np.testing.assert_allclose(result.centroid_3d, [(340 - 320) / 500, 0.0, 1.0], atol=1e-6)


def test_each_candidate_worked_on_in_its_box_matches_the_whole_frame_computation():
    """Candidates are computed within their boxes: masks and 3D centroids (eroded, distorted lens) equal what the
    whole frame gives, also for objects at the frame's edges and corner."""
    rng = np.random.default_rng(3)
    depth = (1.0 + rng.random((480, 640))).astype(np.float32)
    depth[rng.random((480, 640)) < 0.05] = 0.0
    D = np.array([-0.2, 0.05, 0.001, -0.002, 0.0])
    logits = np.full((480, 640), -8.0, np.float32)
    logits[0:60, 0:70] = 8.0  # the top-left corner
    logits[200:270, 300:350] = 8.0
    logits[230:250, 320:330] = -8.0  # a hole: the region is a ring
    logits[420:480, 590:640] = 8.0  # the bottom-right corner
    candidates = candidates_of(logits, depth, K, D)
    assert len(candidates) == 3
    masks = [candidate.mask(logits.shape) for candidate in candidates]
    np.testing.assert_array_equal(np.logical_or.reduce(masks), logits > 0)
    for candidate, mask in zip(candidates, masks):
        assert mask.sum() == candidate.area_px
        np.testing.assert_allclose(candidate.centroid_3d, robust_centroid(depth, K, mask, D=D), atol=1e-9)


def test_centroid_3d_is_none_without_valid_depth():
    logits = np.full((640, 640), 8.0, np.float32)
    depth = np.zeros((480, 640), np.float32)
    assert build_result(logits, PRESENT, ONE, Letterbox.fit(480, 640, 640), 0.5, depth, K).centroid_3d is None


def test_prior_heatmap_lands_where_the_prior_cell_is():
    box = Letterbox.fit(480, 640, 128)
    prior = np.full((16, 16), -6.0, np.float32)
    prior[7, 2] = 6.0  # model pixels 56..63 x 16..23, centre (60, 20)
    heat = prior_heatmap(prior, box)
    assert heat.shape == (480, 640) and heat.dtype == np.float32 and 0.0 <= heat.min() <= heat.max() <= 1.0
    v, u = np.unravel_index(heat.argmax(), heat.shape)
    assert abs(v - (60 - 16) / 0.2) <= 10 and abs(u - 20 / 0.2) <= 10
    result = build_result(np.zeros((128, 128), np.float32), PRESENT, ONE, box, 0.5, prior_logits=prior)
    assert result.prior.shape == (480, 640)


def test_one_object_named_as_several_is_ambiguous():
    """"The mugs" with one mug's region in the mask: the model says several objects are meant, so the robot must
    ask, not grasp the one it sees."""
    logits = np.full((640, 640), -8.0, np.float32)
    logits[100:200, 100:200] = 8.0
    result = build_result(logits, PRESENT, SEVERAL, Letterbox.fit(640, 640, 640), 0.5, np.ones((640, 640), np.float32),
                          K)
    assert result.status == "ambiguous" and result.several_score > 0.95 and len(result.candidates) == 1
    assert result.centroid_3d is None and result.bbox is None
    assert build_result(logits, PRESENT, ONE, Letterbox.fit(640, 640, 640), 0.5).found
