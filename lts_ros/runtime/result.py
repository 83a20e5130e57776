"""What ``Segmenter.segment`` returns, and what its two halves hand each other (``infer`` -> ``finish``)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lts_ros.data.transforms import Letterbox


@dataclass
class Result:
    """The referred object in one frame, at the frame's (source) resolution."""

    mask: np.ndarray  # (H, W) bool: probability > 0.5
    score: float  # mean probability inside the mask; 0.0 when the mask is empty
    found: bool  # mask non-empty and score >= the Segmenter's threshold
    bbox: tuple[int, int, int, int] | None  # (x0, y0, x1, y1) pixels, inclusive; None when empty
    centroid_px: tuple[float, float] | None  # (u, v) mean mask pixel; None when empty
    centroid_3d: np.ndarray | None  # (3,) metres, camera optical frame; needs depth + K and valid depth
    prior: np.ndarray | None = None  # (H, W) float32 position-prior probability, only when requested
    timings_ms: dict[str, float] = field(default_factory=dict)  # pre, infer, post


@dataclass(frozen=True)
class Inference:
    """The model's output for one frame, before postprocessing: logits at the model input and the letterbox that
    maps them back to the frame."""

    mask_logits: np.ndarray  # (S, S)
    prior_logits: np.ndarray  # (S, S)
    box: Letterbox
    frame_shape: tuple[int, int]  # (H, W) of the source frame
    timings_ms: dict[str, float]  # pre, infer
