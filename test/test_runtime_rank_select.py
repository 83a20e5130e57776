"""The member a query's selection names, among the objects the model found for its set (runtime/rank_select.py, through
postprocess.build_result as the runtime calls it)."""
import numpy as np
import pytest

from lts_ros.data.transforms import Letterbox
from lts_ros.runtime.postprocess import build_result
from lts_ros.language.query import Selection

K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])
PRESENT, ABSENT, ONE, SEVERAL = 4.0, -4.0, -4.0, 4.0
BOX = Letterbox.fit(480, 640, 640)  # the model's 640 x 640 input: 80 px of padding above and below


def scene(*squares: tuple[int, int, int]) -> np.ndarray:
    """Mask logits (640, 640) with a square of side s at frame pixel (x, y) for each (x, y, s)."""
    logits = np.full((640, 640), -8.0, np.float32)
    for x, y, side in squares:
        logits[BOX.pad_y + y:BOX.pad_y + y + side, x:x + side] = 8.0
    return logits


THREE = scene((400, 200, 60), (100, 220, 60), (250, 150, 60))  # left to right: x 100, 250, 400


def answer(logits, phrase, presence=PRESENT, several=SEVERAL, depth=None):
    return build_result(logits, presence, several, BOX, 0.5, depth, K if depth is not None else None, selection=phrase)


@pytest.mark.parametrize("phrase, left_x", [
    (Selection("left", 1), 100), (Selection("left", 2), 250),
    (Selection("left", 3), 400), (Selection("right", 1), 400),
    (Selection("right", 3), 100),
])
def test_ordinals_count_the_objects_from_their_side(phrase, left_x):
    result = answer(THREE, phrase)  # the model says "several" for the set: the rank still picks one
    assert result.found and result.bbox[0] == left_x and result.mask.sum() == 60 * 60
    assert len(result.candidates) == 3


def test_a_rank_past_the_objects_found_asks_which_one():
    result = answer(THREE, Selection("left", 4))
    assert result.status == "ambiguous" and result.centroid_px is None and result.mask.sum() == 3 * 60 * 60
    assert result.reason == "only 3 objects seen, too few to tell the '4th from left'"


def test_a_set_the_model_does_not_find_is_not_found_whatever_the_rank():
    result = answer(THREE, Selection("left", 1), presence=ABSENT)
    assert result.status == "not_found" and not result.mask.any()
    assert answer(scene(), Selection("big", 1)).status == "not_found"


def test_the_biggest_object_is_measured_in_metres_where_there_is_depth():
    logits = scene((100, 200, 50), (400, 200, 80))  # the right one looks bigger...
    assert answer(logits, Selection("big", 1)).bbox[0] == 400  # (without depth: by its pixels)
    depth = np.full((480, 640), 1.0, np.float32)
    depth[:, 320:] = 0.5  # ...but it is twice as near: 0.04 m across against 0.05 m
    biggest = answer(logits, Selection("big", 1), depth=depth)
    smallest = answer(logits, Selection("small", 1), depth=depth)
    assert biggest.found and biggest.bbox[0] == 100 and biggest.centroid_3d[2] == pytest.approx(1.0)
    assert smallest.found and smallest.bbox[0] == 400


def test_two_objects_of_about_the_same_size_are_ambiguous_for_the_bigger():
    result = answer(scene((100, 200, 60), (400, 200, 62)), Selection("big", 1))
    assert result.status == "ambiguous" and len(result.candidates) == 2
    assert result.reason == "2 objects seen, too close together to tell the 'biggest'"


def test_nearest_by_depth_or_else_by_how_low_it_reaches_in_the_image():
    logits = scene((100, 300, 60), (400, 100, 60))  # the left one lower in the image
    assert answer(logits, Selection("near", 1)).bbox[0] == 100
    assert answer(logits, Selection("far", 1)).bbox[0] == 400
    depth = np.full((480, 640), 0.8, np.float32)
    depth[:, 320:] = 0.6  # but the right one is nearer the camera
    near = answer(logits, Selection("near", 1), depth=depth)
    assert near.found and near.bbox[0] == 400 and near.centroid_3d[2] == pytest.approx(0.6)


def test_side_by_side_within_the_column_gap_is_ambiguous():
    result = answer(scene((100, 100, 40), (105, 300, 40)), Selection("left", 1))
    assert result.status == "ambiguous"


def test_without_a_rank_several_objects_stay_ambiguous():
    several = answer(THREE, None, several=ONE)
    assert several.status == "ambiguous" and several.reason == "3 objects fit"
    one_of_several = answer(scene((100, 200, 60)), None, several=SEVERAL)  # "the mugs": the model says several
    assert one_of_several.status == "ambiguous" and "several objects" in one_of_several.reason
    assert answer(scene((100, 200, 60)), None, several=ONE).reason == ""  # found: nothing to explain


def test_the_middle_one_of_an_odd_row_and_which_one_otherwise():
    middle = Selection("left", middle=True)
    assert answer(THREE, middle).bbox[0] == 250
    two = answer(scene((100, 200, 60), (400, 200, 60)), middle)
    assert two.status == "ambiguous" and two.reason == "2 objects seen, none in the middle"
    assert answer(scene((100, 200, 60), (250, 200, 60), (400, 200, 60), (550, 200, 60)), middle).status == \
        "ambiguous"


def test_one_object_found_for_a_selection_is_counted_again_at_a_lower_probability():
    """"The leftmost mug" where the mask holds one mug: a faint second mug (probability 0.27) to its left is found
    on the recount and named; with nothing faint there it is "which one?"."""
    logits = scene((400, 200, 60))
    logits[BOX.pad_y + 200:BOX.pad_y + 260, 100:160] = -1.0  # faint: under 0.5, over sigmoid(-2)
    recounted = answer(logits, Selection("left"))
    assert recounted.found and recounted.bbox[0] == 100 and len(recounted.candidates) == 2
    assert answer(logits, Selection("right")).bbox[0] == 400  # the crisp object keeps its own mask
    assert answer(logits, Selection("right")).mask.sum() == 60 * 60
    alone = answer(scene((400, 200, 60)), Selection("left"))
    assert alone.status == "ambiguous" and alone.bbox is None
