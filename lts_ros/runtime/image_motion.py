"""How the image moved between consecutive frames, as one similarity transform (shift, turn and zoom): fitted
with RANSAC to the optical flow of corners in small grey copies (pyramidal Lucas-Kanade). No camera motion is
known here (no TF), so a tracked object's predicted place is where it was last seen moved by the image motion
since. The fit follows what most corners do, the table and what stands on it, not a minority that moves of
itself (an arm passing, an object pushed); where no one motion has most corners it is no motion."""
from __future__ import annotations

import cv2
import numpy as np

WIDTH_PX = 160  # the grey copy's width (about 1 ms a frame); motion resolved to a fraction of 4 px at 640
MAX_CORNERS = 120
MIN_TRACKED = 20  # fewer corners followed is no estimate (a frame unlike the last: a cut, a flash, a blank wall)
AGREEING = 0.6  # share of the corners the fitted motion must carry (within AGREE_PX): else no one motion
AGREE_PX = 1.0  # in the grey copy
IDENTITY = np.eye(2, 3)


def apply(motion: np.ndarray, point: tuple[float, float]) -> tuple[float, float]:
    """``point`` (x, y) moved by ``motion`` (2x3)."""
    x, y = motion @ np.array([point[0], point[1], 1.0])
    return float(x), float(y)


def then(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The motion ``first`` followed by ``second`` (both 2x3)."""
    return second[:, :2] @ first + np.hstack([np.zeros((2, 2)), second[:, 2:]])


def zoom(motion: np.ndarray) -> float:
    """How much ``motion`` scales lengths."""
    return float(np.sqrt(abs(np.linalg.det(motion[:, :2]))))


class ImageMotion:
    """Frame-to-frame image motion, in pixels of the frame given."""

    def __init__(self):
        self._last: np.ndarray | None = None

    def reset(self) -> None:
        self._last = None

    def update(self, rgb: np.ndarray) -> np.ndarray:
        """The 2x3 similarity taking points of the previous frame given to where they are in ``rgb`` (identity for
        the first, after a size change, or where the estimate is unsure: too few corners, or no motion most
        share)."""
        height, width = rgb.shape[:2]
        scale = WIDTH_PX / width
        grey = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (WIDTH_PX, max(8, round(height * scale))),
                          interpolation=cv2.INTER_AREA)
        last, self._last = self._last, grey
        if last is None or last.shape != grey.shape:
            return IDENTITY.copy()
        corners = cv2.goodFeaturesToTrack(last, MAX_CORNERS, qualityLevel=0.01, minDistance=5)
        if corners is None or len(corners) < MIN_TRACKED:
            return IDENTITY.copy()
        moved, ok, _ = cv2.calcOpticalFlowPyrLK(last, grey, corners, None, winSize=(15, 15), maxLevel=3)
        ok = ok.ravel() == 1
        if ok.sum() < MIN_TRACKED:
            return IDENTITY.copy()
        motion, inliers = cv2.estimateAffinePartial2D(corners[ok], moved[ok], method=cv2.RANSAC,
                                                      ransacReprojThreshold=AGREE_PX)
        if motion is None or inliers.mean() < AGREEING:
            return IDENTITY.copy()  # several motions (an arm across a bare table): none is surely the camera's
        motion[:, 2] /= scale  # the shift in full-size pixels; turn and zoom are the same at any size
        return motion
