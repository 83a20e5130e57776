"""Regression: the shipped edge model on a small fixed held-out tabletop set (the first 64 expressions
of the official test split, seed 2, re-rendered here deterministically)."""
import numpy as np
import pytest

from lts_ros.checkpoint import load_checkpoint, read_metadata, shipped_checkpoint
from lts_ros.data.tabletop.dataset import TabletopDataset
from lts_ros.evaluate import evaluate

# Measured on these 64 expressions when the model was shipped (see models/README.md). The bounds
# leave a margin for numerical differences across machines; falling below them is a regression.
MEASURED = {"mean_iou": 0.780, "prec@0.5": 0.844, "centroid_median_m": 0.0052}
MARGIN_IOU, MARGIN_CENTROID_M = 0.05, 0.01


@pytest.fixture(scope="module")
def held_out(tabletop_root):
    return TabletopDataset(tabletop_root, "test")


def test_shipped_checkpoint_is_small_and_safe():
    path = shipped_checkpoint()
    assert path.stat().st_size <= 25 * 2**20
    metadata = read_metadata(path)  # a safetensors file with the lts_ros header: no pickle anywhere
    assert "efficientnet_lite0" in metadata["config"] and "minilm" in metadata["config"]
    assert "lts train" in (path.parent / "README.md").read_text()  # the model card says how it was made


def test_shipped_model_accuracy_on_fixed_held_out_set(held_out):
    result = evaluate(load_checkpoint(shipped_checkpoint()), held_out, limit=64, progress=False)
    metrics = result.metrics.as_dict()
    assert metrics["count"] == 64
    assert metrics["mean_iou"] >= MEASURED["mean_iou"] - MARGIN_IOU, result.report()
    assert metrics["prec@0.5"] >= MEASURED["prec@0.5"] - MARGIN_IOU, result.report()
    median = float(np.median(result.centroid_errors_m()))
    assert median <= MEASURED["centroid_median_m"] + MARGIN_CENTROID_M, result.report()
