"""``lts demo``: the best end-to-end path that exists.

With the shipped model: render a few held-out tabletop scenes, segment every expression, print the
metrics (per expression kind, 3D centroid error) and write a prediction grid. Without it (or with
``--train-tiny``): generate refer-format shapes, train the tiny model, evaluate, write a grid.
"""
from __future__ import annotations

import json
from pathlib import Path

from lts_ros.checkpoint import load_checkpoint, shipped_checkpoint
from lts_ros.data.refer import ReferDataset
from lts_ros.data.refer_fixture import write_refer_fixture
from lts_ros.data.sampling import spread
from lts_ros.data.tabletop.dataset import TabletopDataset
from lts_ros.data.tabletop.store import render_split
from lts_ros.evaluate import evaluate
from lts_ros.train import train, train_options
from lts_ros.visualize import prediction_grid

HELD_OUT = ("val", "testA", "testB")


def tabletop_demo(out: Path, checkpoint: Path, scenes: int = 8, quiet: bool = False) -> dict:
    """Segment every expression of ``scenes`` freshly rendered test-split scenes with ``checkpoint``."""
    data_root = out / "tabletop"
    if not (data_root / "test" / "scenes.jsonl").is_file():
        render_split(data_root, "test", scenes, progress=not quiet)
    data = TabletopDataset(data_root, "test")
    model = load_checkpoint(checkpoint)
    result = evaluate(model, data, progress=not quiet)
    print(f"\n{checkpoint.name} on {len(data)} expressions in {scenes} held-out tabletop scenes:\n{result.report()}")
    grid = prediction_grid(model, data, spread(12, len(data)), out / "tabletop_grid.png")
    (out / "summary.json").write_text(json.dumps({"checkpoint": str(checkpoint), **result.as_dict()}, indent=2))
    print(f"\nprediction grid: {grid}\nsummary: {out / 'summary.json'}")
    return result.as_dict()


def tiny_training_demo(out: Path, steps: int = 600, images: int = 48, quiet: bool = False) -> dict:
    """Train the tiny model on generated refer-format shapes; evaluate on held-out images."""
    data_root = out / "data"
    if not (data_root / "refcoco").is_dir():
        write_refer_fixture(data_root, n_images=images, seed=0)
    run = out / "run"
    opts = train_options(data_root, config="tiny", out=run, steps=steps, lr=3e-3, pretrained_lr_scale=1.0,
                         warmup=30, workers=0, checkpoint_every=steps, device="cpu", quiet=quiet)
    model = load_checkpoint(train(opts))
    summary = {"checkpoint": str(run / "model.safetensors"), "splits": {}}
    for split in HELD_OUT:
        result = evaluate(model, ReferDataset(data_root, "refcoco", split), progress=False)
        summary["splits"][split] = result.metrics.as_dict()
        print(f"\n== held-out split '{split}' ==\n{result.metrics.table()}")
    val = ReferDataset(data_root, "refcoco", "val")
    grid = prediction_grid(model, val, range(min(8, len(val))), out / "overlays.png")
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"\noverlays: {grid}\nloss curve: {run / 'loss.png'}\nsummary: {out / 'summary.json'}")
    return summary


def run_demo(out: Path, train_tiny: bool = False, steps: int = 600, images: int = 48, quiet: bool = False) -> dict:
    checkpoint = shipped_checkpoint()
    if checkpoint.is_file() and not train_tiny:
        return tabletop_demo(out, checkpoint, quiet=quiet)
    return tiny_training_demo(out, steps, images, quiet)
