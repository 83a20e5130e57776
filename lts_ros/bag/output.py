"""The output bag of ``lts bag eval`` (offline and live): each frame's input messages as read, the predicted
mask and 3D centroid, and an overlay (prediction tinted on the colour frame) every Nth frame, for Foxglove."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lts_ros.bag import format as fmt
from lts_ros.bag.format import BagTopics
from lts_ros.bag.frames import BagFrame
from lts_ros.bag.io import BagWriter
from lts_ros.errors import LtsError
from lts_ros.plots import overlay

MASK, CENTROID, OVERLAY = "/lts/mask", "/lts/centroid", "/lts/overlay"
OUTPUT_TOPICS = {MASK: fmt.IMAGE, CENTROID: fmt.POINT_STAMPED, OVERLAY: fmt.IMAGE}
OVERLAY_EVERY = 5  # the default stride: 3 overlays a second from a 15 Hz camera (measured in docs/benchmarks.md)


def check_overlay_every(overlay_every: int) -> int:
    """``overlay_every`` if it is a valid stride (>= 0), else LtsError."""
    if overlay_every < 0:
        raise LtsError(f"--overlay-every must be >= 0 (0 = no overlays), got {overlay_every}")
    return overlay_every


class OutputBag:
    """``with OutputBag(dir / "output_bag", topics, overlay_every=5) as out: out.write(frame, mask, xyz)``.
    ``overlay_every``: an overlay on every Nth frame written (1 = all, 0 = none); blending and storing a full
    colour image per frame is most of what the output bag costs. ``color_type``: the input bag's colour type."""

    def __init__(self, path: str | Path, topics: BagTopics = BagTopics(), overlay_every: int = 1,
                 color_type: str = fmt.IMAGE):
        self.overlay_every = check_overlay_every(overlay_every)
        self._writer = BagWriter(path, topics, extra_topics={topics.color: color_type, **OUTPUT_TOPICS})
        self._frames = 0

    def __enter__(self) -> "OutputBag":
        self._writer.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._writer.__exit__(*exc)

    def write_inputs(self, frame: BagFrame) -> None:
        """The frame's messages as read from the input bag (also for frames that got no output)."""
        for topic, stamp, msg in frame.messages:
            self._writer.write(topic, msg, stamp)

    def write_outputs(self, frame: BagFrame, mask: np.ndarray, centroid_3d: np.ndarray | None) -> None:
        """The prediction for ``frame``, stamped like it."""
        stamp = frame.stamp_ns
        self._writer.write(MASK, fmt.image(mask.astype(np.uint8) * 255, "mono8", stamp), stamp)
        if centroid_3d is not None:
            self._writer.write(CENTROID, fmt.point(centroid_3d, stamp), stamp)
        if self.overlay_every and self._frames % self.overlay_every == 0:
            self._writer.write(OVERLAY, fmt.image(overlay(frame.rgb, mask), "rgb8", stamp), stamp)
        self._frames += 1
