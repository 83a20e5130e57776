"""Per-pixel helpers shared by the mask stages: the logistic of logits and the box around the fired pixels."""
from __future__ import annotations

import numpy as np


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Numerically stable logistic: exp(-log(1 + exp(-x))) never overflows. float32 out."""
    return np.exp(-np.logaddexp(np.float32(0.0), -logits.astype(np.float32, copy=False)))


def fired_box(fired: np.ndarray) -> tuple[int, int, int, int] | None:
    """The smallest box holding every True pixel of ``fired`` (H, W) as (top, left, bottom, right), bottom and
    right exclusive; None when nothing fired."""
    rows, columns = np.flatnonzero(fired.any(1)), np.flatnonzero(fired.any(0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(columns[0]), int(rows[-1]) + 1, int(columns[-1]) + 1
