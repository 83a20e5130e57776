"""How far the image moved between consecutive frames, as one translation: the median optical flow of corners
in small grey copies (pyramidal Lucas-Kanade). No camera motion is known here (no TF), so a tracked object's
predicted place is where it was last seen moved by the image motion since; the median follows the table and what
stands on it, not the minority that moves of itself (an arm passing, an object pushed)."""
from __future__ import annotations

import cv2
import numpy as np

WIDTH_PX = 160  # the grey copy's width (about 1 ms a frame); shifts resolved to a fraction of 4 px at 640
MAX_CORNERS = 120
MIN_TRACKED = 20  # fewer corners followed is no estimate (a frame unlike the last: a cut, a flash, a blank wall)
AGREEING = 0.6  # share of the corners that must move with the median (within AGREE_PX): else no one motion
AGREE_PX = 1.0  # in the grey copy


class ImageMotion:
    """Frame-to-frame image translation, in pixels of the frame given."""

    def __init__(self):
        self._last: np.ndarray | None = None

    def reset(self) -> None:
        self._last = None

    def update(self, rgb: np.ndarray) -> tuple[float, float]:
        """(dx, dy) pixels by which the content of ``rgb`` moved since the previous frame given (0, 0 for the
        first, after a size change, or where the estimate is unsure: too few corners, or no motion most share)."""
        height, width = rgb.shape[:2]
        scale = WIDTH_PX / width
        grey = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (WIDTH_PX, max(8, round(height * scale))),
                          interpolation=cv2.INTER_AREA)
        last, self._last = self._last, grey
        if last is None or last.shape != grey.shape:
            return 0.0, 0.0
        corners = cv2.goodFeaturesToTrack(last, MAX_CORNERS, qualityLevel=0.01, minDistance=5)
        if corners is None or len(corners) < MIN_TRACKED:
            return 0.0, 0.0
        moved, ok, _ = cv2.calcOpticalFlowPyrLK(last, grey, corners, None, winSize=(15, 15), maxLevel=3)
        flow = (moved - corners)[ok.ravel() == 1].reshape(-1, 2)
        if len(flow) < MIN_TRACKED:
            return 0.0, 0.0
        median = np.median(flow, axis=0)
        if np.mean(np.linalg.norm(flow - median, axis=1) <= AGREE_PX) < AGREEING:
            return 0.0, 0.0  # several motions (an arm across a bare table): none is surely the camera's
        return float(median[0]) / scale, float(median[1]) / scale
