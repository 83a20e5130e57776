import json
import math

import numpy as np
import pytest

from lts_ros.metrics import RisAccumulator, intersection_union, iou


def _mask(shape, *boxes):
    m = np.zeros(shape, dtype=bool)
    for r0, r1, c0, c1 in boxes:
        m[r0:r1, c0:c1] = True
    return m


def test_intersection_union_counts():
    pred = _mask((4, 4), (0, 2, 0, 2))  # 4 px
    gt = _mask((4, 4), (1, 3, 1, 3))  # 4 px, overlap 1 px
    assert intersection_union(pred, gt) == (1, 7)
    assert iou(pred, gt) == pytest.approx(1 / 7)


def test_empty_cases():
    empty = np.zeros((3, 3), dtype=bool)
    full = np.ones((3, 3), dtype=bool)
    assert iou(empty, full) == 0.0  # empty prediction
    assert iou(full, empty) == 0.0  # empty ground truth
    assert iou(empty, empty) == 1.0  # both empty: documented convention


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        iou(np.zeros((2, 3), bool), np.zeros((3, 2), bool))


def test_overall_differs_from_mean():
    acc = RisAccumulator()
    # sample 1: I=1, U=2 (IoU 0.5); sample 2: I=90, U=100 (IoU 0.9)
    assert acc.add(_mask((1, 2), (0, 1, 0, 1)), _mask((1, 2), (0, 1, 0, 2))) == 0.5
    assert acc.add_counts(90, 100) == 0.9
    res = acc.result()
    assert res.count == 2
    assert res.overall_iou == pytest.approx(91 / 102)
    assert res.mean_iou == pytest.approx(0.7)
    # strictly greater: IoU 0.5 does not count for Prec@0.5, 0.9 not for Prec@0.9
    assert res.precision_at == {0.5: 0.5, 0.6: 0.5, 0.7: 0.5, 0.8: 0.5, 0.9: 0.0}


def test_threshold_edge_just_above():
    acc = RisAccumulator()
    acc.add_counts(501, 1000)
    acc.add_counts(500, 1000)
    assert acc.result().precision_at[0.5] == 0.5


def test_invalid_counts():
    with pytest.raises(ValueError):
        RisAccumulator().add_counts(3, 2)


def test_empty_accumulator_is_nan_not_crash():
    res = RisAccumulator().result()
    assert res.count == 0
    assert math.isnan(res.overall_iou) and math.isnan(res.mean_iou)
    assert all(math.isnan(v) for v in res.precision_at.values())
    d = res.as_dict()
    assert d["overall_iou"] is None and d["prec@0.5"] is None
    json.dumps(d, allow_nan=False)
    assert "samples" in res.table()


def test_as_dict_and_table():
    acc = RisAccumulator()
    acc.add_counts(3, 4)
    res = acc.result()
    d = res.as_dict()
    assert list(d) == [
        "overall_iou", "mean_iou", "prec@0.5", "prec@0.6", "prec@0.7", "prec@0.8", "prec@0.9",
        "count",
    ]
    assert d["prec@0.7"] == 1.0 and d["prec@0.8"] == 0.0 and d["count"] == 1
    json.dumps(d, allow_nan=False)
    lines = res.table().splitlines()
    assert lines[0].split() == ["overall", "IoU", "75.00"]
    assert lines[-1].split() == ["samples", "1"]
    assert len({len(line) for line in lines}) == 1  # aligned
