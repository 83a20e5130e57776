"""gRefCOCO metrics (gIoU, cIoU, N-acc, T-acc), the presence score's calibration, and split masks (metrics.py)."""
import math

import numpy as np
import pytest

from lts_ros.metrics import GroundingAccumulator, expected_calibration_error, is_split, reliability_bins


def test_grounding_metrics_by_hand():
    acc = GroundingAccumulator()
    acc.add("none", "not_found", 0, 0)  # right: IoU 1
    acc.add("none", "found", 0, 50)  # a mask for nothing: IoU 0
    acc.add("one", "found", 80, 100)
    acc.add("one", "not_found", 0, 100)  # missed
    acc.add("several", "ambiguous", 150, 200)
    acc.add("several", "found", 50, 200)  # only one of the two
    m = acc.result()
    assert m.giou == pytest.approx((1 + 0 + 0.8 + 0 + 0.75 + 0.25) / 6)
    assert m.ciou == pytest.approx((80 + 150 + 50) / (50 + 100 + 100 + 200 + 200))
    assert m.n_acc == 0.5 and m.t_acc == 0.75 and m.ambiguous_acc == 0.5 and m.found_acc == 0.5
    assert m.counts == {"none": 2, "one": 2, "several": 2}
    assert m.as_dict()["n_acc"] == 0.5 and "N-acc" in m.table()


def test_grounding_metrics_without_negatives_are_nan_not_perfect():
    acc = GroundingAccumulator()
    acc.add("one", "found", 1, 1)
    m = acc.result()
    assert math.isnan(m.n_acc) and math.isnan(m.ambiguous_acc) and m.t_acc == 1.0
    assert m.as_dict()["n_acc"] is None


def test_ece_is_zero_when_calibrated_and_large_when_overconfident():
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 1, 200_000)
    labels = rng.uniform(0, 1, scores.size) < scores  # positive with exactly the stated probability
    assert expected_calibration_error(scores, labels) < 0.01
    assert expected_calibration_error(np.full(1000, 0.95), np.arange(1000) < 500) == pytest.approx(0.45)
    rows = reliability_bins(scores, labels)
    assert len(rows) == 10 and all(abs(mean - share) < 0.02 for mean, share, _ in rows)
    assert math.isnan(expected_calibration_error(np.array([]), np.array([])))


def test_a_mask_is_split_only_by_two_substantial_regions():
    mask = np.zeros((100, 100), bool)
    mask[10:40, 10:40] = True
    assert not is_split(mask)
    mask[80:82, 80:82] = True  # 4 px of 904: an island under 5 %
    assert not is_split(mask)
    mask[60:80, 60:80] = True  # 400 px: a second object
    assert is_split(mask)
    assert not is_split(np.zeros((10, 10), bool))


def test_presence_temperature_undoes_overconfidence():
    from lts_ros.evaluate import EvalResult, fit_presence_temperature

    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2, 20_000)
    labels = rng.uniform(0, 1, true_logits.size) < 1 / (1 + np.exp(-true_logits))
    samples = [{"presence_logit": 3 * z, "score": float(1 / (1 + np.exp(-3 * z))),
                "target_set": "one" if y else "none"} for z, y in zip(true_logits, labels)]
    assert fit_presence_temperature(EvalResult(samples)) == pytest.approx(3.0, rel=0.08)
