"""Prediction grids: what the model segments for a handful of samples, next to the ground truth."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from lts_ros.data.datasets import SampleSource
from lts_ros.model.lts import LTS
from lts_ros.plots import Panel, save_grid
from lts_ros.runtime.backends.torch_backend import TorchBackend
from lts_ros.runtime.segmenter import Segmenter


def prediction_grid(model: LTS, source: SampleSource, indices: Sequence[int], out_png: Path) -> Path:
    """PNG grid: expression and answer, predicted mask (magenta), GT outline (yellow), predicted centroid (cyan)."""
    segmenter = Segmenter(TorchBackend(model), model.tokenizer, model.cfg.input_size)
    panels = []
    for index in indices:
        sample = source[index]
        segmenter.set_command(sample.text)
        result = segmenter.segment(sample.image)
        kind = f" [{sample.kind}]" if hasattr(sample, "kind") else ""
        panels.append(Panel(sample.image, f'"{sample.text}"{kind}: {result.status}', pred=result.mask, gt=sample.mask,
                            centroid_px=result.centroid_px))
    return save_grid(panels, out_png,
                     legend="predicted mask: magenta; ground truth: yellow outline; predicted centroid: cyan")
