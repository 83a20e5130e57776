"""Relations settled by their anchor where the model's answer holds several objects (runtime/relation.py)."""
import numpy as np
import pytest

from lts_ros.data.transforms import Letterbox
from lts_ros.runtime.postprocess import build_result
from lts_ros.runtime.relation import check_relation, needs_anchor, settle_relation

K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])
BOX = Letterbox.fit(480, 640, 640)
PRESENT, ABSENT, ONE, SEVERAL = 4.0, -4.0, -4.0, 4.0


def squares(*placed: tuple[int, int, int]) -> np.ndarray:
    logits = np.full((640, 640), -8.0, np.float32)
    for x, y, side in placed:
        logits[BOX.pad_y + y:BOX.pad_y + y + side, x:x + side] = 8.0
    return logits


def answer(logits, presence=PRESENT, several=ONE, depth=None):
    return build_result(logits, presence, several, BOX, 0.5, depth, None if depth is None else K)


TWO_MUGS = squares((100, 200, 60), (450, 200, 60))  # the model's split answer: one mug each side of the ball
BALL = squares((280, 210, 40))


@pytest.mark.parametrize("relation, left_x", [("left_of", 100), ("right_of", 450)])
def test_the_candidate_in_the_relation_to_the_anchor_is_found(relation, left_x):
    split = answer(TWO_MUGS)
    assert needs_anchor(split)
    settled = settle_relation(split, relation, answer(BALL))
    assert settled.found and settled.bbox[0] == left_x and settled.mask.sum() == 60 * 60
    assert settled.centroid_px is not None and len(settled.candidates) == 2


def test_no_anchor_or_no_single_fit_leaves_the_question_open():
    split = answer(TWO_MUGS)
    phrase = "left_of"
    assert settle_relation(split, phrase, answer(BALL, presence=ABSENT)).status == "ambiguous"
    assert settle_relation(split, phrase, answer(squares((600, 210, 30)))).status == "ambiguous"  # both left of it
    assert settle_relation(split, "next_to", answer(BALL)).status == "ambiguous"  # tie


def test_only_members_of_the_described_set_are_weighed_where_the_set_was_asked():
    """"The cup right of the ball": the model's split answer holds a cup and a small ball beside it, both right of
    the anchor. Among the set's members ("the cup": only the first) one fits. A set the model does not find leaves
    the answer as before; otherwise what the set holds decides, whatever it is."""
    split = answer(squares((450, 200, 60), (560, 210, 30)))
    assert settle_relation(split, "right_of", answer(BALL)).status == "ambiguous"  # both right of it
    cups = answer(squares((450, 200, 60), (20, 200, 60)), several=SEVERAL)
    settled = settle_relation(split, "right_of", answer(BALL), cups)
    assert settled.found and settled.bbox[0] == 450
    assert settle_relation(split, "right_of", answer(BALL), answer(BALL, presence=ABSENT)).status == "ambiguous"
    only_the_ball_beside = answer(squares((560, 210, 30)))
    assert settle_relation(split, "right_of", answer(BALL), only_the_ball_beside).found  # the one member there


def test_only_answers_that_split_against_the_model_ask_for_the_anchor():
    assert not needs_anchor(answer(squares((100, 200, 60))))  # found already
    assert not needs_anchor(answer(TWO_MUGS, several=SEVERAL))  # the model says several: a plural
    assert not needs_anchor(answer(TWO_MUGS, presence=ABSENT))


def test_the_anchor_itself_in_the_answer_is_not_a_candidate():
    with_ball = answer(squares((100, 200, 60), (280, 210, 40)))  # the mug, and the ball the model leaked into
    settled = settle_relation(with_ball, "left_of", answer(BALL))
    assert settled.found and settled.bbox[0] == 100
    # "next to" compares candidates: the one object beside the anchor is not evidence that it is the one meant
    assert settle_relation(with_ball, "next_to", answer(BALL)).status == "ambiguous"


def test_behind_and_next_to_use_depth():
    depth = np.full((480, 640), 0.7, np.float32)
    depth[:, 400:] = 1.2  # the right mug is 50 cm further than the ball and the left mug
    split = answer(TWO_MUGS, depth=depth)
    ball = answer(BALL, depth=depth)
    assert settle_relation(split, "behind", ball).bbox[0] == 450
    assert settle_relation(split, "in_front_of", ball).status == "ambiguous"  # level
    assert settle_relation(split, "next_to", ball).bbox[0] == 100  # 3D: far one


def test_a_found_answer_is_checked_against_its_anchor_and_the_set():
    """The model read "the mug left of the ball" whole and found one mug: kept only where the geometry agrees."""
    left_mug, right_mug = squares((100, 200, 60)), squares((450, 200, 60))
    mugs = answer(TWO_MUGS)  # the model's answer for "the mug": both
    ball = answer(BALL)
    assert check_relation(answer(left_mug), "left_of", ball, mugs).found
    wrong = check_relation(answer(right_mug), "left_of", ball, mugs)
    assert wrong.status == "ambiguous" and wrong.bbox is None and "not left of" in wrong.reason
    three = answer(squares((100, 200, 60), (200, 200, 60), (450, 200, 60)))  # two mugs left of the ball
    assert check_relation(answer(left_mug), "left_of", ball, three).status == "ambiguous"
    assert check_relation(answer(left_mug), "next_to", ball, answer(squares((100, 200, 60), (340, 200, 60)))) \
        .status == "ambiguous"  # another mug is nearer the ball
    assert check_relation(answer(left_mug), "next_to", ball, mugs).found  # equally near: nothing contradicts it
    itself = check_relation(answer(BALL), "right_of", ball, mugs)
    assert itself.status == "ambiguous" and "anchor itself" in itself.reason
    assert check_relation(answer(right_mug), "left_of", answer(BALL, presence=ABSENT), mugs).found  # nothing to check


def test_next_to_is_near_not_only_nearest_where_depth_says():
    """The one mug the model found stands across the table from the ball (the mug beside it was missed): with
    depth that is "which one?" with the distance; without depth nothing says how far it is, and it stands."""
    depth = np.full((480, 640), 0.7, np.float32)
    mug, far_ball, near_ball = squares((100, 200, 60)), squares((560, 210, 40)), squares((280, 210, 40))
    lone = check_relation(answer(mug, depth=depth), "next_to", answer(far_ball, depth=depth), answer(mug, depth=depth))
    assert lone.status == "ambiguous" and "m from the anchor, not next to it" in lone.reason
    assert check_relation(answer(mug, depth=depth), "next_to", answer(near_ball, depth=depth),
                          answer(mug, depth=depth)).found  # 0.24 m: beside it
    assert check_relation(answer(mug), "next_to", answer(far_ball), answer(mug)).found
    split = answer(squares((100, 200, 60), (300, 200, 60)), depth=depth)
    assert settle_relation(split, "next_to", answer(far_ball, depth=depth)).status == "ambiguous"  # nearest, far


def test_an_anchor_left_unranked_with_one_object_in_view_is_that_object():
    """"The mug left of the little ball" with one ball in view: the anchor's own rank ("little": the smallest) has
    too few objects to rank and its answer is "which one?", yet the one ball is all the anchor can be, and the mug
    is checked against it. Two balls there: no anchor, nothing to check against."""
    ball = answer(BALL)
    unranked = ball.ambiguous_among(ball.candidates, "only 1 object seen")
    mugs = answer(TWO_MUGS)
    wrong = check_relation(answer(squares((450, 200, 60))), "left_of", unranked, mugs)
    assert wrong.status == "ambiguous" and "not left of" in wrong.reason
    assert settle_relation(mugs, "left_of", unranked).bbox[0] == 100
    two = answer(squares((280, 210, 40), (600, 210, 30)))
    two_balls = two.ambiguous_among(two.candidates, "2 objects seen")
    assert check_relation(answer(squares((450, 200, 60))), "left_of", two_balls, mugs).found


def test_a_settled_piece_of_an_object_answers_as_the_sets_whole_member():
    """"The cup right of the ball": the model's split answer holds a mug's inside (a piece) and another object;
    the set "the cup" holds the whole mug, and the answer is the whole mug, not its inside. A member that holds two
    of the answer's candidates is not one object's whole and is not taken."""
    split = answer(squares((460, 200, 40), (20, 200, 40)))  # the inside of the mug right of the ball; a cup left
    mugs = answer(np.maximum(squares((450, 190, 60)), squares((20, 200, 40))), several=SEVERAL)
    settled = settle_relation(split, "right_of", answer(BALL), mugs)
    assert settled.found and settled.bbox[0] == 450 and settled.mask.sum() == 60 * 60
    assert any(c.bbox == settled.bbox for c in settled.candidates)
    beside_and_below = answer(squares((460, 200, 40), (285, 290, 30)))  # the second one is not right of the ball
    merged = answer(squares((280, 190, 240)))  # the set's answer: one region over both
    settled = settle_relation(beside_and_below, "right_of", answer(BALL), merged)
    assert settled.found and settled.bbox[0] == 460 and settled.mask.sum() == 40 * 40
