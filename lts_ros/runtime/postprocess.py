"""Model outputs at the letterboxed input size -> a Result at the source resolution."""
from __future__ import annotations

import cv2
import numpy as np

from lts_ros.data.transforms import Letterbox
from lts_ros.geometry import robust_centroid
from lts_ros.runtime.result import Result


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Numerically stable logistic: exp(-log(1 + exp(-x))) never overflows. float32 out."""
    return np.exp(-np.logaddexp(np.float32(0.0), -logits.astype(np.float32, copy=False)))


def bbox_of(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), inclusive, of a boolean mask; None when empty."""
    cols, rows = mask.any(axis=0), mask.any(axis=1)
    if not rows.any():
        return None
    x0, y0 = int(cols.argmax()), int(rows.argmax())
    x1, y1 = len(cols) - 1 - int(cols[::-1].argmax()), len(rows) - 1 - int(rows[::-1].argmax())
    return x0, y0, x1, y1


def centroid_of(mask: np.ndarray) -> tuple[float, float] | None:
    """(u, v): mean column and row of the mask pixels; None when empty."""
    moments = cv2.moments(mask.astype(np.uint8), binaryImage=True)
    if moments["m00"] == 0:
        return None
    return moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]


def prior_heatmap(prior_logits: np.ndarray, box: Letterbox) -> np.ndarray:
    """Prior logits (S/8, S/8) -> probability (H, W) float32: upsample to S x S, then undo the letterbox."""
    full = cv2.resize(prior_logits.astype(np.float32, copy=False), (box.size, box.size),
                      interpolation=cv2.INTER_LINEAR)
    return sigmoid(box.invert(full))


def build_result(mask_logits: np.ndarray, box: Letterbox, threshold: float,
                 depth_m: np.ndarray | None = None, K: np.ndarray | None = None,
                 prior_logits: np.ndarray | None = None, D: np.ndarray | None = None) -> Result:
    """``mask_logits``: (S, S) at the model input. Logits are resized (bilinear) and thresholded at 0
    (probability 0.5), so the mask edge lands where the interpolated logit crosses 0; the sigmoid runs
    only over the mask's pixels, for the score. ``D``: lens distortion for the 3D centroid."""
    logits = box.invert(mask_logits.astype(np.float32, copy=False))
    mask = logits > 0
    empty = not mask.any()
    score = 0.0 if empty else float(sigmoid(logits[mask]).mean())
    return Result(
        mask=mask,
        score=score,
        found=not empty and score >= threshold,
        bbox=bbox_of(mask),
        centroid_px=centroid_of(mask),
        centroid_3d=None if depth_m is None or empty else robust_centroid(depth_m, K, mask, D=D),
        prior=None if prior_logits is None else prior_heatmap(prior_logits, box),
    )
