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
    iou_vs_fp32_mean: float  # agreement with the fp32 masks of ONNX Runtime
    iou_vs_fp32_median: float
    backend: str = "onnxruntime"


def _segmenter(export_dir: str | Path, backend: str, precision: str, threads: int):
    from lts_ros.runtime.segmenter import Segmenter

    if backend == "openvino":
        return Segmenter.from_openvino(export_dir, threads=threads, precision=precision)
    return Segmenter.from_onnx(export_dir, precision=precision, threads=threads)


def compare_precisions(export_dir: str | Path, samples: Iterable[TabletopSample], precisions: Sequence[str],
                       threads: int = 0, progress: bool = True, backend: str = "onnxruntime") -> list[PrecisionParity]:
    """Segment every sample that has a target with each precision of ``export_dir`` on ``backend`` (onnxruntime or
    openvino); ONNX Runtime fp32 always runs first, as the reference."""
    cases = [("onnxruntime", "fp32"), *((backend, p) for p in precisions if (backend, p) != ("onnxruntime", "fp32"))]
    segmenters = {case: _segmenter(export_dir, *case, threads) for case in cases}
    vs_gt: dict[tuple[str, str], list[float]] = {case: [] for case in cases}
    vs_fp32: dict[tuple[str, str], list[float]] = {case: [] for case in cases}
    for sample in tqdm(samples, desc="parity", unit="expr", disable=not progress):
        if getattr(sample, "target_set", "one") == "none":
            continue  # two empty masks would agree perfectly and say nothing about the precision
        reference = None
        for case, segmenter in segmenters.items():
            segmenter.set_command(sample.text)
            mask = segmenter.segment(sample.image).mask
            reference = mask if reference is None else reference
            vs_gt[case].append(iou(mask, sample.mask))
            vs_fp32[case].append(iou(mask, reference))
    return [PrecisionParity(p, len(vs_gt[b, p]), float(np.mean(vs_gt[b, p])),
                            float(np.mean(np.array(vs_gt[b, p]) > 0.5)), float(np.mean(vs_fp32[b, p])),
                            float(np.median(vs_fp32[b, p])), b) for b, p in cases]
