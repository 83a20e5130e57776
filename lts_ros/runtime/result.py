"""What ``Segmenter.segment`` returns, and what its two halves hand each other (``infer`` -> ``finish``)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from lts_ros.data.transforms import Letterbox

if TYPE_CHECKING:
    from lts_ros.language.query import Query
    from lts_ros.runtime.lock_on import TrackInfo


FOUND, NOT_FOUND, AMBIGUOUS = "found", "not_found", "ambiguous"
# With lock-on (runtime/lock_on.py), after the first found answer: the same object seen, not seen, seen again.
TRACKING, LOST, REACQUIRED = "tracking", "lost", "reacquired"
STATUSES = (FOUND, NOT_FOUND, AMBIGUOUS, TRACKING, LOST, REACQUIRED)
SEEN = (FOUND, TRACKING, REACQUIRED)  # the object is in this frame: mask, box and centroids are current


def answer_of(status: str) -> str:
    """What a status answers in the frame, as found / not_found / ambiguous: the object is seen (found, tracking,
    reacquired), not seen (not_found, lost) or "which one?"."""
    return FOUND if status in SEEN else NOT_FOUND if status == LOST else status


@dataclass
class Candidate:
    """One separate object in the predicted mask (a connected region, stray islands dropped)."""

    region: np.ndarray  # (y1 - y0 + 1, x1 - x0 + 1) bool: its pixels within ``bbox``
    area_px: int
    score: float  # mean mask probability over its pixels
    bbox: tuple[int, int, int, int]  # (x0, y0, x1, y1) pixels, inclusive
    centroid_px: tuple[float, float]  # (u, v) mean pixel
    centroid_3d: np.ndarray | None  # (3,) metres, camera optical frame; with depth + K and valid depth

    def mask(self, shape: tuple[int, int]) -> np.ndarray:
        """Its pixels in a (H, W) bool frame of ``shape``."""
        return paste([self], shape)


def paste(candidates: list[Candidate], shape: tuple[int, int]) -> np.ndarray:
    """The union of the candidates' pixels in a (H, W) bool frame of ``shape``."""
    mask = np.zeros(shape, bool)
    for candidate in candidates:
        x0, y0, x1, y1 = candidate.bbox
        mask[y0:y1 + 1, x0:x1 + 1] |= candidate.region
    return mask


@dataclass
class Result:
    """The referred object in one frame, at the frame's (source) resolution.

    ``status``: ``found`` (the object is there and the mask holds exactly one object), ``ambiguous`` (it is there,
    but the expression names several objects or the mask holds several: "which one?") or ``not_found``; with
    lock-on, after the first found answer, ``tracking`` / ``reacquired`` (the same object, seen) or ``lost``.
    ``mask``, ``bbox`` and the centroids are the object's where it is seen (``found``); for ambiguous the mask is
    the union of the candidates and there are no centroids or box; for not_found and lost all are empty (``track``
    keeps where a lost object was last seen)."""

    status: str  # one of STATUSES
    mask: np.ndarray  # (H, W) bool
    score: float  # the model's probability that the named object is in the image (presence)
    several_score: float  # its probability that the expression names more than one object (if any)
    candidates: list[Candidate]
    bbox: tuple[int, int, int, int] | None  # (x0, y0, x1, y1) pixels, inclusive; found only
    centroid_px: tuple[float, float] | None  # (u, v); found only
    centroid_3d: np.ndarray | None  # (3,) metres, camera optical frame; found with depth + K and valid depth
    prior: np.ndarray | None = None  # (H, W) float32 position-prior probability, only when requested
    timings_ms: dict[str, float] = field(default_factory=dict)  # pre, infer, post
    reason: str = ""  # why "which one?", or not found where the reader or a rule says ("" otherwise)
    track: TrackInfo | None = None  # with lock-on, once locked: the track and where it was last seen

    @property
    def found(self) -> bool:
        """The object is seen in this frame (``found``, ``tracking`` or ``reacquired``)."""
        return self.status in SEEN

    def found_as(self, candidate: Candidate) -> "Result":
        """This result, answered found with ``candidate`` (one of its candidates) as the object."""
        return replace(self, status=FOUND, mask=candidate.mask(self.mask.shape), bbox=candidate.bbox,
                       centroid_px=candidate.centroid_px, centroid_3d=candidate.centroid_3d, reason="")

    def ambiguous_among(self, candidates: list[Candidate], reason: str) -> "Result":
        """This result, answered "which one?" among ``candidates`` (their union the mask; no box or centroid)."""
        return replace(self, status=AMBIGUOUS, mask=paste(candidates, self.mask.shape), bbox=None, centroid_px=None,
                       centroid_3d=None, candidates=candidates, reason=reason)


@dataclass(frozen=True)
class Inference:
    """The model's output for one frame, before postprocessing: logits at the model input and the letterbox that
    maps them back to the frame."""

    mask_logits: np.ndarray  # (S, S)
    prior_logits: np.ndarray  # (S/8, S/8)
    presence_logit: float
    several_logit: float
    box: Letterbox
    frame: np.ndarray  # (H, W, 3) uint8, the source RGB (the mask's edges are snapped to it)
    timings_ms: dict[str, float]  # pre, infer
    reading: Query | None = None  # how the command was read (``language``); None: the model reads it whole
    tracking: bool = False  # locked on: the model segmented the description alone, for the track to follow

    @property
    def frame_shape(self) -> tuple[int, int]:
        """(H, W) of the source frame."""
        return self.frame.shape[:2]
