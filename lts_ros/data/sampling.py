"""Pick a few items evenly from a long sequence (grids, calibration frames, previews)."""
from __future__ import annotations

import numpy as np


def spread(count: int, total: int) -> list[int]:
    """``count`` indices spread evenly over ``range(total)`` (all of them when ``count >= total``)."""
    if total <= 0 or count <= 0:
        return []
    return sorted(set(np.linspace(0, total - 1, min(count, total)).round().astype(int).tolist()))
