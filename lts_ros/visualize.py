"""Prediction grids: what the model segments for a handful of samples, next to the ground truth."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from lts_ros.data.datasets import SampleSource
from lts_ros.model.lts import LTS
from lts_ros.plots import Panel, save_grid
from lts_ros.predict import predict_probability


def spread(count: int, total: int) -> list[int]:
    """``count`` indices spread evenly over ``range(total)``."""
    return sorted(set(np.linspace(0, total - 1, min(count, total)).round().astype(int).tolist()))


def prediction_grid(model: LTS, source: SampleSource, indices: Sequence[int], out_png: Path) -> Path:
    """PNG grid: expression, predicted mask (magenta), GT outline (yellow), predicted centroid (cyan)."""
    panels = []
    for index in indices:
        sample = source[index]
        pred = predict_probability(model, sample.image, sample.text) > 0.5
        v, u = np.nonzero(pred)
        kind = f" [{sample.kind}]" if hasattr(sample, "kind") else ""
        panels.append(Panel(sample.image, f'"{sample.text}"{kind}', pred=pred, gt=sample.mask,
                            centroid_px=(u.mean(), v.mean()) if len(u) else None))
    return save_grid(panels, out_png,
                     legend="predicted mask: magenta; ground truth: yellow outline; predicted centroid: cyan")
