"""How much an export's precision variants change the masks, on labelled frames: accuracy against ground
truth and agreement with fp32, per precision, at each frame's own resolution through the Segmenter."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lts_ros.data.tabletop.dataset import TabletopSample
from lts_ros.metrics import iou


@dataclass
class PrecisionParity:
    precision: str
    expressions: int
    mean_iou_gt: float  # mIoU against the ground-truth masks
    prec_at_05: float  # fraction with IoU vs ground truth > 0.5
    iou_vs_fp32_mean: float  # agreement with the fp32 masks
    iou_vs_fp32_median: float


def compare_precisions(export_dir: str | Path, samples: Iterable[TabletopSample], precisions: Sequence[str],
                       threads: int = 0, progress: bool = True) -> list[PrecisionParity]:
    """Segment every sample with each precision of ``export_dir`` (fp32 always runs, as the reference)."""
    from lts_ros.runtime.segmenter import Segmenter

    precisions = ["fp32", *(p for p in precisions if p != "fp32")]
    segmenters = {p: Segmenter.from_onnx(export_dir, precision=p, threads=threads) for p in precisions}
    vs_gt: dict[str, list[float]] = {p: [] for p in precisions}
    vs_fp32: dict[str, list[float]] = {p: [] for p in precisions}
    for sample in tqdm(samples, desc="parity", unit="expr", disable=not progress):
        reference = None
        for precision, segmenter in segmenters.items():
            segmenter.set_command(sample.text)
            mask = segmenter.segment(sample.image).mask
            reference = mask if reference is None else reference
            vs_gt[precision].append(iou(mask, sample.mask))
            vs_fp32[precision].append(iou(mask, reference))
    return [PrecisionParity(p, len(vs_gt[p]), float(np.mean(vs_gt[p])), float(np.mean(np.array(vs_gt[p]) > 0.5)),
                            float(np.mean(vs_fp32[p])), float(np.median(vs_fp32[p]))) for p in precisions]
