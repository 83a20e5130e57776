"""Per-pixel helpers (runtime/pixels.py)."""
import numpy as np

from lts_ros.runtime.pixels import fired_box, sigmoid


def test_fired_box_holds_every_fired_pixel_and_nothing_more():
    fired = np.zeros((48, 64), bool)
    fired[5, 40] = fired[30, 7] = fired[12, 63] = True
    top, left, bottom, right = fired_box(fired)
    assert (top, left, bottom, right) == (5, 7, 31, 64)
    assert fired[top:bottom, left:right].sum() == fired.sum()


def test_fired_box_of_nothing_is_none():
    assert fired_box(np.zeros((4, 4), bool)) is None


def test_sigmoid_is_finite_at_extremes_and_float32():
    p = sigmoid(np.array([-1e4, -20.0, 0.0, 20.0, 1e4], np.float64))
    assert p.dtype == np.float32 and np.all(np.isfinite(p))
    np.testing.assert_allclose(p, [0.0, 2.06e-9, 0.5, 1.0, 1.0], atol=1e-9, rtol=1e-3)
