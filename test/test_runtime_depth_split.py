"""Objects that touch in the image told apart by depth (runtime/depth_split.py, candidates_of)."""
import numpy as np

from lts_ros.data.transforms import Letterbox
from lts_ros.language.query import LEFT, Selection
from lts_ros.runtime.depth_split import cut_at_depth_edges, objects_apart
from lts_ros.runtime.postprocess import build_result, candidates_of

K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])
TABLE_M = 0.8  # a camera looking straight down at a table 0.8 m away
ROWS = slice(200, 260)


def table(*boxes) -> np.ndarray:
    """Depth of the table with boxes (first column, last column + 1, height in m) standing on it, rows 200-259."""
    depth = np.full((480, 640), TABLE_M, np.float32)
    for x0, x1, height in boxes:
        depth[ROWS, x0:x1] = TABLE_M - height
    return depth


def mask_of(*columns) -> np.ndarray:
    mask = np.zeros((480, 640), bool)
    for x0, x1 in columns:
        mask[ROWS, x0:x1] = True
    return mask


def split(mask: np.ndarray, depth: np.ndarray) -> list[np.ndarray]:
    """``objects_apart`` over the mask's one region, each object back in a frame-sized mask."""
    ys, xs = np.nonzero(mask)
    corner = (int(xs.min()), int(ys.min()))
    region = mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    frames = []
    for part, (x, y) in objects_apart(region, corner, depth, K, mask, 92):
        frame = np.zeros(mask.shape, bool)
        frame[y:y + part.shape[0], x:x + part.shape[1]] = part
        frames.append(frame)
    return frames


def test_a_tall_box_against_a_short_one_is_two_objects_each_whole():
    depth = table((100, 160, 0.05), (160, 220, 0.12))  # touching in the image, 7 cm apart in depth at the seam
    mask = mask_of((100, 220))
    objects = split(mask, depth)
    assert len(objects) == 2
    assert sorted((np.nonzero(o)[1].min(), np.nonzero(o)[1].max()) for o in objects) == [(100, 159), (160, 219)]
    assert sum(o.sum() for o in objects) == mask.sum()  # the seam's pixels are given out, none lost


def test_a_step_on_one_object_under_the_jump_keeps_it_whole():
    depth = table((100, 160, 0.05), (160, 220, 0.07))  # a 2 cm ledge: under JUMP_M
    assert len(split(mask_of((100, 220)), depth)) == 1


def test_a_mask_spilling_onto_the_table_behind_is_one_object():
    depth = table((100, 160, 0.05))
    mask = mask_of((100, 190))  # a third of it is table: past PIECE_SHARE, but lying on the table
    assert len(cut_at_depth_edges(mask[ROWS, 100:190], depth[ROWS, 100:190])) == 2  # depth alone cuts it
    (whole,) = split(mask, depth)
    assert (whole == mask).all()  # counted as before: the mask is the model's to answer for


def test_a_small_overhang_is_not_an_object():
    depth = table((100, 200, 0.05))
    depth[ROWS, 190:200] = TABLE_M - 0.12  # a 10 px lip standing 7 cm higher: 10 % of the region
    assert len(split(mask_of((100, 200)), depth)) == 1


def test_without_depth_along_the_seam_nothing_is_split():
    depth = table((100, 160, 0.05), (160, 220, 0.12))
    depth[ROWS, 156:164] = 0.0  # a real sensor's shadow beside the edge: no measurement
    assert len(split(mask_of((100, 220)), depth)) == 1
    depth[ROWS, 156:164] = np.nan
    assert len(split(mask_of((100, 220)), depth)) == 1


def test_a_rank_counts_the_two_objects_of_one_region():
    box = Letterbox.fit(480, 640, 640)
    logits = np.full((640, 640), -8.0, np.float32)
    logits[box.pad_y + 200:box.pad_y + 260, 100:220] = 8.0  # the model's set: two boxes as one region
    logits[box.pad_y + 200:box.pad_y + 260, 400:460] = 8.0  # and a third, apart
    depth = table((100, 160, 0.05), (160, 220, 0.12), (400, 460, 0.05))
    leftmost = build_result(logits, 4.0, -4.0, box, 0.5, depth, K, selection=Selection(LEFT))
    assert leftmost.found and leftmost.bbox == (100, 200, 159, 259)  # the leftmost box, not the pair
    assert len(leftmost.candidates) == 3
    np.testing.assert_allclose(leftmost.centroid_3d[2], TABLE_M - 0.05, atol=1e-6)
    flat = box.invert(logits)
    assert len(candidates_of(flat)) == 2  # without depth, the pair is one object, as before
    assert len(candidates_of(flat, depth, K)) == 3
