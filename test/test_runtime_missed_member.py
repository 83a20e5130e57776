"""A rank's count checked with depth and a second look up close (runtime/missed_member.py, query_plan)."""
import numpy as np
import pytest

from lts_ros.data.transforms import Letterbox
from lts_ros.language import read_command
from lts_ros.language.query import BIG, LEFT, RIGHT, Selection
from lts_ros.runtime.missed_member import CROP_MIN_PX, crop_view, members_to_check
from lts_ros.runtime.postprocess import build_result
from lts_ros.runtime.query_plan import missed_member_checks, settle_count

K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])
BOX = Letterbox.fit(480, 640, 640)
TABLE_M, BOX_HEIGHT_M = 0.8, 0.05
COLUMNS = (100, 300, 500)  # three boxes in a row, 60 px wide, rows 200-259


def table_with_boxes(columns=COLUMNS, side=60) -> np.ndarray:
    """A camera looking straight down at a table 0.8 m away, boxes 5 cm tall standing on it."""
    depth = np.full((480, 640), TABLE_M, np.float32)
    for x in columns:
        depth[200:200 + side, x:x + side] = TABLE_M - BOX_HEIGHT_M
    return depth


def set_answer(columns, selection, depth):
    """The model's answer for the set, holding the boxes at ``columns`` only, with ``selection`` applied."""
    logits = np.full((640, 640), -8.0, np.float32)
    for x in columns:
        logits[BOX.pad_y + 200:BOX.pad_y + 260, x:x + 60] = 8.0
    return build_result(logits, 4.0, -4.0, BOX, 0.5, depth, K, selection=selection)


def crop_answer(crop, covering=None):
    """The model's answer on a crop (x0, y0, x1, y1), its mask over ``covering`` (x, y, side in the frame)."""
    x0, y0, x1, y1 = crop
    box = Letterbox.fit(y1 - y0, x1 - x0, 320)
    logits = np.full((320, 320), -8.0, np.float32)
    if covering is not None:
        x, y, side = covering
        scale = 320 / (x1 - x0)
        u, v, s = int((x - x0) * scale), int((y - y0) * scale) + box.pad_y, int(side * scale)
        logits[v:v + s, u:u + s] = 8.0
    return build_result(logits, 4.0 if covering else -4.0, -4.0, box, 0.5)


def test_an_uncounted_box_before_the_pick_is_checked_and_one_after_it_is_not():
    depth = table_with_boxes()
    leftmost = set_answer((300, 500), Selection(LEFT), depth)  # the model missed the box at x = 100
    assert leftmost.found and leftmost.bbox[0] == 300
    checked = members_to_check(leftmost, Selection(LEFT), depth, K)
    assert len(checked) == 1
    region = checked[0].region
    assert abs(np.nonzero(region)[1].mean() - 130) < 3  # the missed box, not the table or a counted member
    x0, y0, x1, y1 = checked[0].crop
    assert x1 - x0 >= CROP_MIN_PX and y1 - y0 >= CROP_MIN_PX and 0 <= x0 and 0 <= y0 and x1 <= 640 and y1 <= 480
    assert region[y0:y1, x0:x1].sum() == region.sum()  # the whole box in view, with its surroundings
    rightmost = set_answer((300, 500), Selection(RIGHT), depth)
    assert members_to_check(rightmost, Selection(RIGHT), depth, K) == []  # comes after the pick: no matter
    biggest = set_answer((300, 500), Selection(BIG), depth)
    assert biggest.status == "ambiguous" or len(members_to_check(biggest, Selection(BIG), depth, K)) == 1


def test_nothing_to_check_when_every_box_is_counted_or_the_rest_is_small():
    depth = table_with_boxes()
    assert members_to_check(set_answer(COLUMNS, Selection(LEFT, rank=2), depth), Selection(LEFT, rank=2),
                            depth, K) == []
    pebble = table_with_boxes(columns=(300, 500))
    pebble[220:230, 120:130] = TABLE_M - 0.02  # 10 x 10 px: under a quarter of a member
    assert members_to_check(set_answer((300, 500), Selection(LEFT), pebble), Selection(LEFT), pebble, K) == []


def test_uncounted_objects_that_touch_in_the_image_are_asked_about_one_by_one():
    """Depth cuts a standing region where a taller object stands against a lower one (runtime/depth_split.py):
    asked about together, the model's answer on the crop covers only one of them, under MEMBER_SHARE of both."""
    depth = table_with_boxes(columns=(300, 500))
    depth[200:260, 100:160] = TABLE_M - 0.05
    depth[200:260, 160:220] = TABLE_M - 0.15  # a taller box against it, both left of the counted ones
    checked = members_to_check(set_answer((300, 500), Selection(LEFT), depth), Selection(LEFT), depth, K)
    columns = sorted((int(np.nonzero(u.region)[1].min()), int(np.nonzero(u.region)[1].max())) for u in checked)
    assert len(columns) == 2
    assert abs(columns[0][0] - 100) <= 3 and abs(columns[1][1] - 219) <= 3  # each box, with a few px of rim
    assert abs(columns[0][1] - 159) <= 3 and abs(columns[1][0] - 160) <= 3  # cut at the seam


def test_the_crop_shows_the_uncounted_box_with_the_counted_ones_painted_out():
    """Asked for "the box" on a crop that still shows a counted box, the model answers with that one; painted out
    (filled in from the table around it), it leaves the uncounted box the only box to answer with."""
    columns = (100, 200, 500)
    depth = table_with_boxes(columns)
    rgb = np.full((480, 640, 3), 120, np.uint8)
    for x in columns:
        rgb[200:260, x:x + 60] = (200, 30, 30)
    (uncounted,) = members_to_check(set_answer((200, 500), Selection(LEFT), depth), Selection(LEFT), depth, K)
    x0, y0, x1, y1 = uncounted.crop
    assert x0 < 200 < x1  # the counted box beside it is in the crop
    before = rgb.copy()
    view = crop_view(rgb, uncounted)
    assert (rgb == before).all()  # the frame itself is left as it was
    assert view.shape == (y1 - y0, x1 - x0, 3)
    assert (view[210 - y0:250 - y0, 110 - x0:150 - x0] == (200, 30, 30)).all()  # the uncounted box as it is
    assert np.abs(view[210 - y0:250 - y0, 210 - x0:min(250, x1) - x0].astype(int) - 120).max() <= 10  # table


@pytest.mark.parametrize("covering, status", [((100, 200, 60), "ambiguous"), (None, "found")])
def test_the_pick_stands_unless_the_model_sees_the_missed_box_up_close(covering, status):
    depth = table_with_boxes()
    query = read_command("the leftmost box")
    first = set_answer((300, 500), query.selection, depth)
    checked = missed_member_checks(query, first, depth, K)
    assert len(checked) == 1 and query.model_text() == "the box"  # what the crop is asked
    settled = settle_count(query, first, checked, [crop_answer(checked[0].crop, covering)])
    assert settled.status == status
    if status == "ambiguous":
        assert "missed the box" in settled.reason and settled.centroid_3d is None
    else:
        assert settled is first


def test_an_answer_elsewhere_on_the_crop_is_not_the_missed_box():
    depth = table_with_boxes()
    query = read_command("the leftmost box")
    first = set_answer((300, 500), query.selection, depth)
    checked = missed_member_checks(query, first, depth, K)
    x0, y0, _, _ = checked[0].crop
    elsewhere = crop_answer(checked[0].crop, (x0 + 5, y0 + 5, 30))  # a corner of the crop, not the box
    assert settle_count(query, first, checked, [elsewhere]).found


def test_only_found_ranks_with_depth_are_checked():
    depth = table_with_boxes()
    ranked = read_command("the leftmost box")
    first = set_answer((300, 500), ranked.selection, depth)
    assert missed_member_checks(ranked, first, None, None) == []  # no depth: nothing sees what was not counted
    plain = read_command("the red box")
    assert missed_member_checks(plain, set_answer((300,), None, depth), depth, K) == []
    refused = read_command("the box after the red mug")
    assert missed_member_checks(refused, first, depth, K) == []
