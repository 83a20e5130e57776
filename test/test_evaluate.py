"""Evaluation (evaluate.py): expressions of one image share its vision features within a batch, with the same
answers as one expression at a time."""
import numpy as np

from lts_ros.checkpoint import load_checkpoint
from lts_ros.data.tabletop.dataset import TabletopDataset
from lts_ros.evaluate import evaluate

from conftest import tiny_checkpoint


def test_sharing_an_image_in_a_batch_changes_no_answer(tabletop_root, tmp_path):
    with tiny_checkpoint(tmp_path / "tiny.safetensors") as path:
        model = load_checkpoint(path)
    source = TabletopDataset(tabletop_root, "test", load_depth=False)
    shared = evaluate(model, source, batch_size=12, limit=40, progress=False).samples
    alone = evaluate(model, source, batch_size=1, limit=40, progress=False).samples
    assert [s["index"] for s in shared] == [s["index"] for s in alone] == list(range(40))
    assert [s["status"] for s in shared] == [s["status"] for s in alone]
    np.testing.assert_allclose([s["presence_logit"] for s in shared], [s["presence_logit"] for s in alone],
                               atol=1e-4)
    np.testing.assert_allclose([s["iou"] for s in shared], [s["iou"] for s in alone], atol=1e-3)
