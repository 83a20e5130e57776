"""An object's colours, to tell the tracked object from another that the model's mask also holds: a hue-saturation
histogram of its pixels (with a bin for the greys, whose hue means nothing), compared by the Bhattacharyya
coefficient. Brightness is left out, so light and shadow on the same object change it little."""
from __future__ import annotations

import cv2
import numpy as np

from lts_ros.runtime.result import Candidate

HUE_BINS, SATURATION_BINS = 12, 3
GREY_SATURATION = 40  # of 255: under it a pixel counts as grey, whatever its hue
SAMPLED_PX = 2500  # a larger box is read on a regular grid of about this many pixels (the histogram's shape holds)


def colour_signature(rgb: np.ndarray, candidate: Candidate) -> np.ndarray:
    """The candidate's normalised colour histogram ((HUE_BINS * SATURATION_BINS + 1,) float32, sums to 1)."""
    x0, y0, x1, y1 = candidate.bbox
    step = max(1, int(np.sqrt((x1 - x0 + 1) * (y1 - y0 + 1) / SAMPLED_PX)))
    box = np.ascontiguousarray(rgb[y0:y1 + 1:step, x0:x1 + 1:step])
    pixels = cv2.cvtColor(box, cv2.COLOR_RGB2HSV)[candidate.region[::step, ::step]]
    hue, saturation = pixels[:, 0].astype(np.int32), pixels[:, 1].astype(np.int32)
    coloured = saturation >= GREY_SATURATION
    bins = (hue * HUE_BINS // 180) * SATURATION_BINS \
        + (saturation - GREY_SATURATION) * SATURATION_BINS // (256 - GREY_SATURATION)
    bins = np.where(coloured, bins, HUE_BINS * SATURATION_BINS)
    counts = np.bincount(bins, minlength=HUE_BINS * SATURATION_BINS + 1).astype(np.float32)
    return counts / max(counts.sum(), 1.0)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya coefficient of two signatures: 1 for the same colours, 0 for none in common."""
    return float(np.sqrt(a * b).sum())
