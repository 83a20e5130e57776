"""Lock-on without a model: synthetic frames (a textured table, coloured boxes) and the model's answers made from
their masks, so that each rule is tested on its own: following a moved object, lost when hidden (never another
object), re-acquired where it was, a look-alike elsewhere refused, a new command a new track."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from lts_ros.runtime.image_motion import ImageMotion, apply, zoom
from lts_ros.runtime.lock_on import LockOn
from lts_ros.runtime.postprocess import candidates_of
from lts_ros.runtime.result import FOUND, LOST, NOT_FOUND, REACQUIRED, TRACKING, Result

H, W = 240, 320
RED, GREEN = (200, 30, 30), (30, 170, 40)
THRESHOLD = 0.5
PAN = 80  # the most a test pans the table, px


def table(shift: tuple[int, int] = (0, 0)) -> np.ndarray:
    """A textured table (smoothed noise), moved by ``shift`` (dx, dy) pixels: a camera panning over it."""
    rng = np.random.default_rng(0)
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, (H + 2 * PAN, W + 2 * PAN, 3)), (0, 0), 5.0)
    big = np.clip(128 + 60 * noise / noise.std(), 0, 255).astype(np.uint8)
    dx, dy = shift
    return np.ascontiguousarray(big[PAN - dy:PAN - dy + H, PAN - dx:PAN - dx + W])


def draw(frame: np.ndarray, boxes: list[tuple[int, int, tuple[int, int, int]]], size: int = 24) -> np.ndarray:
    """``frame`` with square objects of ``size`` px centred at (x, y), in their colour."""
    frame = frame.copy()
    for x, y, colour in boxes:
        frame[y - size // 2:y + size // 2, x - size // 2:x + size // 2] = colour
    return frame


def answer(frame: np.ndarray, boxes: list[tuple[int, int, tuple[int, int, int]]], score: float = 0.9,
           size: int = 24) -> Result:
    """The model's answer for a description that fits every box drawn: found where one, ambiguous where more."""
    logits = np.full((H, W), -5.0, np.float32)
    for x, y, _ in boxes:
        logits[y - size // 2:y + size // 2, x - size // 2:x + size // 2] = 5.0
    candidates = candidates_of(logits)
    mask = logits > 0
    if len(candidates) == 1 and score >= THRESHOLD:
        one = candidates[0]
        return Result(FOUND, mask, score, 0.1, candidates, one.bbox, one.centroid_px, None)
    status = NOT_FOUND if not candidates or score < THRESHOLD else "ambiguous"
    return Result(status, mask, score, 0.1, candidates, None, None, None)


def run(lock: LockOn, frame: np.ndarray, boxes, t: float, score: float = 0.9) -> Result:
    result = answer(frame, boxes, score)
    if not lock.locked:
        return lock.start(result, frame, t)
    return lock.follow(result, frame, t, THRESHOLD)


def centre_of(result: Result) -> tuple[float, float]:
    return result.centroid_px


def test_follows_the_first_object_while_another_comes_first_in_the_phrase():
    lock = LockOn()
    first = run(lock, draw(table(), [(100, 120, RED)]), [(100, 120, RED)], 0.0)
    assert first.status == FOUND and first.track.track_id == 1
    # a second red box appears left of it: "the leftmost red box" would now name it; the track keeps the first
    for step in range(1, 6):
        x = 100 + 4 * step
        boxes = [(x, 120, RED), (40, 120, RED)]
        result = run(lock, draw(table(), boxes), boxes, step / 15)
        assert result.status == TRACKING
        assert abs(centre_of(result)[0] - x) < 2
        assert result.track.last_seen_s == pytest.approx(step / 15)


def test_hidden_is_lost_with_the_last_place_and_then_reacquired_where_it_was():
    lock = LockOn()
    run(lock, draw(table(), [(160, 120, RED)]), [(160, 120, RED)], 0.0)
    run(lock, draw(table(), [(160, 120, RED)]), [(160, 120, RED)], 0.1)
    hidden = run(lock, draw(table(), []), [], 0.2, score=0.05)
    assert hidden.status == LOST and not hidden.found
    assert hidden.bbox is None and hidden.centroid_px is None and not hidden.mask.any()
    assert hidden.track.last_bbox[0] < 160 < hidden.track.last_bbox[2]
    assert hidden.track.unseen_s == pytest.approx(0.1)
    back = run(lock, draw(table(), [(162, 121, RED)]), [(162, 121, RED)], 0.5)
    assert back.status == REACQUIRED and back.track.track_id == 1
    assert run(lock, draw(table(), [(163, 121, RED)]), [(163, 121, RED)], 0.6).status == TRACKING


def test_a_lookalike_elsewhere_while_hidden_is_not_taken():
    lock = LockOn()
    run(lock, draw(table(), [(80, 120, RED)]), [(80, 120, RED)], 0.0)
    for step in range(1, 5):  # the object hidden, a copy of it on the far side of the table
        result = run(lock, draw(table(), [(250, 120, RED)]), [(250, 120, RED)], step / 10)
        assert result.status == LOST, step
    both = [(80, 120, RED), (250, 120, RED)]
    back = run(lock, draw(table(), both), both, 0.5)
    assert back.status == REACQUIRED and abs(back.centroid_px[0] - 80) < 2


def test_another_colour_where_it_was_is_not_taken():
    lock = LockOn()
    run(lock, draw(table(), [(120, 120, RED)]), [(120, 120, RED)], 0.0)
    result = run(lock, draw(table(), [(120, 120, GREEN)]), [(120, 120, GREEN)], 0.1)
    assert result.status == LOST


def test_the_camera_pans_while_the_object_is_hidden():
    """Image motion moves the predicted place: after a 60 px pan the object is re-acquired where it now is, and
    a look-alike where it used to be is not taken."""
    lock = LockOn()
    run(lock, draw(table(), [(100, 120, RED)]), [(100, 120, RED)], 0.0)
    for step in range(1, 3):  # hidden while the view pans right by 30 px a frame
        shift = (30 * step, 0)
        stay = [(100, 120, RED)]  # a look-alike at the old image place
        result = run(lock, draw(table(shift), stay), stay, step / 10)
        assert result.status == LOST, step
    boxes = [(160, 120, RED), (100, 120, RED)]
    back = run(lock, draw(table((60, 0)), boxes), boxes, 0.3)
    assert back.status == REACQUIRED and abs(back.centroid_px[0] - 160) < 2


def test_two_candidates_where_it_should_be_is_not_a_guess():
    lock = LockOn()
    run(lock, draw(table(), [(160, 120, RED)]), [(160, 120, RED)], 0.0)
    run(lock, draw(table(), []), [], 0.1, score=0.05)
    twins = [(145, 120, RED), (175, 120, RED)]
    assert run(lock, draw(table(), twins), twins, 0.2).status == LOST


def test_reset_starts_a_new_track():
    lock = LockOn()
    run(lock, draw(table(), [(160, 120, RED)]), [(160, 120, RED)], 0.0)
    lock.reset()
    again = run(lock, draw(table(), [(60, 60, GREEN)]), [(60, 60, GREEN)], 1.0)
    assert again.status == FOUND and again.track.track_id == 2 and again.track.age_s == 0.0


def test_image_motion_measures_a_pan_and_a_zoom():
    motion = ImageMotion()
    assert np.array_equal(motion.update(table()), np.eye(2, 3))
    pan = motion.update(table((12, -8)))
    assert pan[:, :2] == pytest.approx(np.eye(2), abs=0.02) and pan[:, 2] == pytest.approx([12, -8], abs=1.0)
    motion.reset()
    motion.update(table())
    closer = cv2.resize(table(), None, fx=1.1, fy=1.1)[12:12 + H, 16:16 + W]  # 10 % closer, about the centre
    zoomed = motion.update(np.ascontiguousarray(closer))
    assert zoom(zoomed) == pytest.approx(1.1, abs=0.02)
    assert apply(zoomed, (W / 2, H / 2)) == pytest.approx((W / 2, H / 2), abs=2.0)


def test_a_new_frame_size_scales_the_predicted_place():
    """The camera switches to twice the resolution (a driver reconfigured): the object where it now is stays the
    tracked one, a look-alike where its old pixel coordinates point does not."""
    lock = LockOn()
    run(lock, draw(table(), [(200, 60, RED)]), [(200, 60, RED)], 0.0)
    big = cv2.resize(table(), (2 * W, 2 * H))
    boxes = [(400, 120, RED), (200, 60, RED)]
    frame = big.copy()
    for x, y, colour in boxes:
        frame[y - 24:y + 24, x - 24:x + 24] = colour
    logits = np.full((2 * H, 2 * W), -5.0, np.float32)
    for x, y, _ in boxes:
        logits[y - 24:y + 24, x - 24:x + 24] = 5.0
    result = Result("ambiguous", logits > 0, 0.9, 0.1, candidates_of(logits), None, None, None)
    followed = lock.follow(result, frame, 0.1, THRESHOLD)
    assert followed.status == TRACKING and abs(followed.centroid_px[0] - 400) < 2


def test_a_large_objects_colours_are_read_on_a_grid_and_keep_their_histogram(monkeypatch):
    from lts_ros.runtime import colour_signature as signatures

    def object_in(frame: np.ndarray, rows: slice, cols: slice):
        mask = np.zeros((H, W), bool)
        mask[rows, cols] = True
        (candidate,) = candidates_of(np.where(mask, 8.0, -8.0))
        return signatures.colour_signature(frame, candidate)

    frame = table()
    frame[40:120, 40:280], frame[120:200, 40:280] = RED, GREEN  # one big two-coloured object: 38,400 px
    frame[210:230, 290:310] = RED  # and a small red one: 400 px, every pixel read
    sampled = object_in(frame, slice(40, 200), slice(40, 280))
    monkeypatch.setattr(signatures, "SAMPLED_PX", 10**9)
    every = object_in(frame, slice(40, 200), slice(40, 280))
    assert signatures.similarity(sampled, every) > 0.999 and abs(sampled.sum() - 1) < 1e-5
    assert signatures.similarity(every, object_in(frame, slice(210, 230), slice(290, 310))) < 0.8
