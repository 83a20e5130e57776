"""Mask edges snapped to the frame (runtime/refine.py): a coarse, shifted mask of a coloured object comes back on
the object's edges; nothing changes away from what the model fired on; a frame of another size is refused."""
import cv2
import numpy as np
import pytest

from lts_ros.metrics import intersection_union
from lts_ros.runtime.refine import REGION_LOGIT, guided_filter, refine_logits


def scene(height: int = 240, width: int = 320) -> tuple[np.ndarray, np.ndarray]:
    """A red disc and a blue box on a grey table with sensor noise; the disc is the target."""
    rng = np.random.default_rng(0)
    rgb = np.full((height, width, 3), 150, np.uint8)
    cv2.circle(rgb, (120, 120), 40, (200, 30, 30), -1)
    cv2.rectangle(rgb, (170, 90), (230, 160), (30, 40, 190), -1)  # a neighbour touching the disc's window
    rgb = np.clip(rgb + rng.normal(0, 4, rgb.shape), 0, 255).astype(np.uint8)
    target = np.zeros((height, width), np.uint8)
    cv2.circle(target, (120, 120), 40, 1, -1)
    return rgb, target.astype(bool)


def coarse_logits(target: np.ndarray) -> np.ndarray:
    """What a stride-4 mask head gives: the target at a quarter of the size, shifted a pixel, upsampled."""
    h, w = target.shape
    small = cv2.resize(target.astype(np.float32), (w // 4, h // 4), interpolation=cv2.INTER_AREA)
    small = np.roll(small, 1, axis=1)
    probability = np.clip(cv2.resize(cv2.GaussianBlur(small, (5, 5), 1.0), (w, h)), 1e-3, 1 - 1e-3)
    return np.log(probability / (1 - probability)).astype(np.float32)


def test_refined_edges_follow_the_object():
    rgb, target = scene()
    logits = coarse_logits(target)
    before = np.divide(*intersection_union(logits > 0, target))
    after = np.divide(*intersection_union(refine_logits(logits, rgb) > 0, target))
    assert before < 0.95 and after > before + 0.02 and after > 0.96, (before, after)


def test_only_the_window_around_the_object_changes():
    rgb, target = scene()
    logits = coarse_logits(target)
    logits[:, 250:] = -9.0  # the right of the frame: the model fired nowhere near it
    refined = refine_logits(logits, rgb)
    assert np.array_equal(refined[:, 250:], logits[:, 250:])
    nothing = np.full(target.shape, REGION_LOGIT - 1, np.float32)
    assert np.array_equal(refine_logits(nothing, rgb), nothing)


def test_a_flat_guide_keeps_the_source():
    """Where the frame has no edges the filter is a smoothing of the model's map, not a new shape."""
    source = np.zeros((60, 80), np.float32)
    source[20:40, 30:50] = 1.0
    flat = np.full((60, 80, 3), 0.5, np.float32)
    out = guided_filter(flat, source, 2, 0.01)
    assert abs(out.sum() - source.sum()) < 0.05 * source.sum() and out[30, 40] > 0.9 and out[5, 5] < 0.01


def test_a_frame_of_another_size_is_refused():
    rgb, target = scene()
    with pytest.raises(ValueError, match="the frame is 160x120 but the mask 320x240"):
        refine_logits(coarse_logits(target), rgb[::2, ::2])
