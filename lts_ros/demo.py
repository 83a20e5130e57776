"""``lts demo``: the end-to-end path on generated data — make a refer-format dataset of coloured
shapes, train the tiny model on it, evaluate on held-out images, write an overlay grid PNG."""
from __future__ import annotations

import json
from pathlib import Path

from lts_ros.checkpoint import load_checkpoint
from lts_ros.data.refer import ReferDataset
from lts_ros.data.refer_fixture import write_refer_fixture
from lts_ros.evaluate import evaluate
from lts_ros.train import train, train_options
from lts_ros.visualize import prediction_grid

HELD_OUT = ("val", "testA", "testB")


def run_demo(out: Path, steps: int = 600, images: int = 48, quiet: bool = False) -> dict:
    data_root = out / "data"
    if not (data_root / "refcoco").is_dir():
        write_refer_fixture(data_root, n_images=images, seed=0)
    run = out / "run"
    opts = train_options(data_root, config="tiny", out=run, steps=steps, lr=3e-3, pretrained_lr_scale=1.0,
                         warmup=30, workers=0, checkpoint_every=steps, device="cpu", quiet=quiet)
    checkpoint = train(opts)
    model = load_checkpoint(checkpoint)
    summary = {"checkpoint": str(checkpoint), "splits": {}}
    for split in HELD_OUT:
        result = evaluate(model, ReferDataset(data_root, "refcoco", split), progress=False)
        summary["splits"][split] = result.metrics.as_dict()
        print(f"\n== held-out split '{split}' ==\n{result.metrics.table()}")
    val = ReferDataset(data_root, "refcoco", "val")
    grid = prediction_grid(model, val, range(min(8, len(val))), out / "overlays.png")
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"\noverlays: {grid}\nloss curve: {run / 'loss.png'}\nsummary: {out / 'summary.json'}")
    return summary
