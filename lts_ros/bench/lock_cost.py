"""Lock-on's own cost per frame (``runtime.lock_on``; ``Result.timings_ms["lock"]``), measured for ``lts bench``
and ``python -m lts_ros.bench.ros_load``: a command that names an object in a frame, then that frame panned a
few pixels further each time, as a camera turning slowly, so the track follows through the image motion,
association and appearance checks it runs on a moving camera."""
from __future__ import annotations

import cv2
import numpy as np

from lts_ros.runtime.result import SEEN

PAN_PX = 3  # camera pan per frame, image pixels (a slow head turn at 30 FPS)
LOCK_FRAMES = 20  # timed frames after the first (found) answer


def panned(image: np.ndarray, shift_px: float) -> np.ndarray:
    """``image`` shifted ``shift_px`` to the left, the border repeated (rgb or depth alike)."""
    height, width = image.shape[:2]
    matrix = np.float32([[1, 0, -shift_px], [0, 1, 0]])
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)


def lock_cost(segmenter, rgb: np.ndarray, command: str, depth=None, K=None,
              frames: int = LOCK_FRAMES) -> dict[str, float | int]:
    """Lock-on's time on ``frames`` panned frames after ``command`` is answered on ``rgb``: p50/p90 in ms and
    how many of them the track saw (``tracking``/``reacquired``). The segmenter's lock-on setting is restored;
    ``lock_tracked`` 0 means the command was not found, and the time is then the idle check's only."""
    was_on = segmenter.lock_on
    segmenter.lock_on = True
    segmenter.set_command(command)
    try:
        lock_ms, seen = [], 0
        for i in range(frames + 1):  # frame 0 starts the track (its time is the start's, not timed)
            shift = i * PAN_PX
            result = segmenter.segment(panned(rgb, shift), None if depth is None else panned(depth, shift), K,
                                       stamp_s=i / 30)
            if i:
                lock_ms.append(result.timings_ms["lock"])
                seen += result.status in SEEN
    finally:
        segmenter.lock_on = was_on
    p50, p90 = np.percentile(lock_ms, [50, 90])
    return {"lock_ms_p50": float(p50), "lock_ms_p90": float(p90), "lock_tracked": seen, "lock_frames": frames}
