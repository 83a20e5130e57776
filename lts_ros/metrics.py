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

import cv2
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


# --- generalized referring segmentation (gRefCOCO, Liu et al. CVPR 2023) -------------------------------------
# Every expression has a target set: none, one or several objects. A no-target expression is answered correctly
# by "not found" (its IoU is then 1, else 0, as `iou_from_counts` gives for an empty ground truth).
# gIoU: the mean per-expression IoU over all expressions; cIoU: cumulative ΣI / ΣU over all of them.
# N-acc: the share of no-target expressions answered "not found"; T-acc: the share of expressions with a target
# not answered "not found". Beside them, for a robot: the share of several-target expressions answered
# "ambiguous", and of one-target expressions answered "found".


@dataclass(frozen=True)
class GroundingMetrics:
    giou: float
    ciou: float
    n_acc: float  # NaN without no-target expressions
    t_acc: float  # NaN without expressions that have a target
    ambiguous_acc: float  # NaN without several-target expressions
    found_acc: float  # NaN without one-target expressions
    counts: dict[str, int] = field(default_factory=dict)  # per target set

    def as_dict(self) -> dict[str, float | int | None | dict]:
        return {"giou": _json_float(self.giou), "ciou": _json_float(self.ciou), "n_acc": _json_float(self.n_acc),
                "t_acc": _json_float(self.t_acc), "ambiguous_acc": _json_float(self.ambiguous_acc),
                "found_acc": _json_float(self.found_acc), "counts": dict(self.counts)}

    def table(self) -> str:
        """Aligned text table, values in percent."""
        rows = [("gIoU", self.giou), ("cIoU", self.ciou), ("N-acc (no target: not found)", self.n_acc),
                ("T-acc (target: not 'not found')", self.t_acc), ("several targets: ambiguous", self.ambiguous_acc),
                ("one target: found", self.found_acc)]
        left = max(len(name) for name, _ in rows)
        lines = [f"{name:<{left}}  {100 * value:>6.2f}" for name, value in rows]
        lines.append(f"{'expressions':<{left}}  " + ", ".join(f"{k} {v}" for k, v in self.counts.items()))
        return "\n".join(lines)


class GroundingAccumulator:
    """Collects (target set, answered status, intersection, union) per expression; target sets are
    ``none``/``one``/``several`` and statuses ``found``/``not_found``/``ambiguous`` (runtime.result)."""

    def __init__(self) -> None:
        self._rows: list[tuple[str, str, int, int]] = []

    def add(self, target_set: str, status: str, inter: int, union: int) -> float:
        """One expression; returns its IoU."""
        value = iou_from_counts(int(inter), int(union))
        self._rows.append((target_set, status, int(inter), int(union)))
        return value

    def result(self) -> GroundingMetrics:
        def share(rows: list[tuple[str, str, int, int]], ok) -> float:
            return float(np.mean([ok(status) for _, status, _, _ in rows])) if rows else float("nan")

        rows = self._rows
        by_set = {name: [r for r in rows if r[0] == name] for name in ("none", "one", "several")}
        with_target = by_set["one"] + by_set["several"]
        ious = [iou_from_counts(i, u) for _, _, i, u in rows]
        return GroundingMetrics(
            giou=float(np.mean(ious)) if ious else float("nan"),
            ciou=iou_from_counts(sum(r[2] for r in rows), sum(r[3] for r in rows)) if rows else float("nan"),
            n_acc=share(by_set["none"], lambda s: s == "not_found"),
            t_acc=share(with_target, lambda s: s != "not_found"),
            ambiguous_acc=share(by_set["several"], lambda s: s == "ambiguous"),
            found_acc=share(by_set["one"], lambda s: s == "found"),
            counts={name: len(group) for name, group in by_set.items()})


def expected_calibration_error(scores: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """ECE of probabilities ``scores`` for binary ``labels``: the count-weighted mean |accuracy - confidence|
    over ``bins`` equal-width bins of the score (Guo et al., 2017). NaN without samples."""
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels, np.float64)
    if scores.size == 0:
        return float("nan")
    index = np.minimum((scores * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        chosen = index == b
        if chosen.any():
            total += chosen.sum() * abs(labels[chosen].mean() - scores[chosen].mean())
    return float(total / scores.size)


def reliability_bins(scores: np.ndarray, labels: np.ndarray, bins: int = 10) -> list[tuple[float, float, int]]:
    """Per non-empty bin: (mean score, share of positives, count), for a reliability diagram."""
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels, np.float64)
    index = np.minimum((scores * bins).astype(int), bins - 1)
    return [(float(scores[index == b].mean()), float(labels[index == b].mean()), int((index == b).sum()))
            for b in range(bins) if (index == b).any()]


SPLIT_REGION_SHARE = 0.05  # a mask is split when two or more of its regions each hold this share of it


def is_split(mask: np.ndarray, min_share: float = SPLIT_REGION_SHARE) -> bool:
    """Whether ``mask`` has two or more separate (8-connected) regions of at least ``min_share`` of its pixels
    each: its centroid then lies between objects."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    return count > 2 and int((areas >= min_share * areas.sum()).sum()) >= 2
