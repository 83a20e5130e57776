"""Referring image segmentation metrics: overall IoU, mean IoU and Prec@X.

Conventions:
- A sample whose prediction and ground truth are both empty has IoU 1.0 (a correct
  "nothing here"); if exactly one of them is empty its IoU is 0.0.
- Prec@X counts samples with IoU strictly greater than X, as in the LTS / MCN
  evaluation code, so an IoU of exactly 0.5 does not count for Prec@0.5.
- Overall IoU is the cumulative ΣI / ΣU over all samples (Hu et al., 2016).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

PRECISION_THRESHOLDS: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9)


def intersection_union(pred: np.ndarray, gt: np.ndarray) -> tuple[int, int]:
    """Pixel counts of ``pred & gt`` and ``pred | gt`` (non-zero means foreground)."""
    if pred.shape != gt.shape:
        raise ValueError(
            f"prediction shape {tuple(pred.shape)} != ground-truth shape {tuple(gt.shape)}"
        )
    p = pred.astype(bool, copy=False)
    g = gt.astype(bool, copy=False)
    return int(np.count_nonzero(p & g)), int(np.count_nonzero(p | g))


def iou_from_counts(inter: int, union: int) -> float:
    """IoU from counts; ``union == 0`` (both masks empty) gives 1.0."""
    if inter < 0 or union < 0 or inter > union:
        raise ValueError(f"invalid counts: intersection {inter}, union {union}")
    return 1.0 if union == 0 else inter / union


def iou(pred: np.ndarray, gt: np.ndarray) -> float:
    """Per-expression IoU; both empty → 1.0, exactly one empty → 0.0."""
    return iou_from_counts(*intersection_union(pred, gt))


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else value


@dataclass(frozen=True)
class RisMetrics:
    """Aggregate metrics over ``count`` samples (NaN when ``count == 0``)."""

    overall_iou: float
    mean_iou: float
    precision_at: dict[float, float] = field(default_factory=dict)
    count: int = 0

    def as_dict(self) -> dict[str, float | int | None]:
        """JSON-friendly dict (keys like ``"prec@0.5"``; NaN becomes ``None``)."""
        out: dict[str, float | int | None] = {
            "overall_iou": _json_float(self.overall_iou),
            "mean_iou": _json_float(self.mean_iou),
        }
        for threshold, value in self.precision_at.items():
            out[f"prec@{threshold:g}"] = _json_float(value)
        out["count"] = self.count
        return out

    def table(self) -> str:
        """Aligned two-column text table, values in percent."""
        rows = [("overall IoU", self.overall_iou), ("mean IoU", self.mean_iou)]
        rows += [(f"Prec@{t:g}", v) for t, v in self.precision_at.items()]
        cells = [(name, f"{100.0 * value:.2f}") for name, value in rows]
        cells.append(("samples", str(self.count)))
        left = max(len(name) for name, _ in cells)
        right = max(len(value) for _, value in cells)
        return "\n".join(f"{name:<{left}}  {value:>{right}}" for name, value in cells)


class RisAccumulator:
    """Collects per-sample intersection/union counts and reduces them to ``RisMetrics``."""

    def __init__(self, thresholds: tuple[float, ...] = PRECISION_THRESHOLDS) -> None:
        self.thresholds = tuple(thresholds)
        self._ious: list[float] = []
        self._inter_total = 0
        self._union_total = 0

    def __len__(self) -> int:
        return len(self._ious)

    def add(self, pred: np.ndarray, gt: np.ndarray) -> float:
        """Add one sample from masks; returns its IoU."""
        return self.add_counts(*intersection_union(pred, gt))

    def add_counts(self, inter: int, union: int) -> float:
        """Add one sample from precomputed counts (e.g. reduced on GPU); returns its IoU."""
        inter, union = int(inter), int(union)
        value = iou_from_counts(inter, union)
        self._ious.append(value)
        self._inter_total += inter
        self._union_total += union
        return value

    def result(self) -> RisMetrics:
        """Metrics so far; an empty accumulator gives ``count == 0`` and NaN values."""
        count = len(self._ious)
        if count == 0:
            nan = float("nan")
            return RisMetrics(nan, nan, {t: nan for t in self.thresholds}, 0)
        ious = np.asarray(self._ious)
        return RisMetrics(
            overall_iou=iou_from_counts(self._inter_total, self._union_total),
            mean_iou=float(ious.mean()),
            precision_at={t: float(np.mean(ious > t)) for t in self.thresholds},
            count=count,
        )
