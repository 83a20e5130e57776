"""Lock-on: once a command is answered ``found``, that object is followed from frame to frame; the rank, relation
or exclusion that picked it is not applied again, so "the leftmost block" stays the block it first named while the
camera moves and another block comes to be leftmost.

Each later frame the model segments the command's description alone ("the block": every object that fits) and
its candidates are matched to the track by image position, predicted from where the track was last seen moved by
the camera's image motion since (``image_motion``, as no camera motion is known here), by box overlap, by colour
(``colour_signature``) and, with depth, by distance from the camera. The answer is ``tracking`` (the same object),
``lost`` (not matched in this frame: the last place it was seen is kept, never given as current) or ``reacquired``
(matched again after being lost, near where it was predicted, alone there, and looking the same: a look-alike that
appears elsewhere is not taken). Where the model misses the object in a frame (far, faint, partly hidden), it is looked
for by its look: the image patch of its last sighting by the model, matched around the predicted place
(normalised cross-correlation), for at most ``LOOK_FRAMES`` frames in a row; a bar or hand in front of it breaks
the match. A new command starts a new track.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from lts_ros.runtime.colour_signature import colour_signature, similarity
from lts_ros.runtime.image_motion import IDENTITY, ImageMotion, apply, then, zoom
from lts_ros.runtime.result import FOUND, LOST, REACQUIRED, TRACKING, Candidate, Result

# Gates, in object sizes (the square root of its last seen area in pixels): how far from its predicted place a
# candidate may be to be the tracked object. While tracking it moves little between frames; after being lost for a
# while the camera motion estimate has drifted, so the gate is wider, but still excludes a look-alike elsewhere.
TRACK_GATE = 1.0
REACQUIRE_GATE = 1.5
MIN_SIMILARITY = 0.5  # of colour signatures (Bhattacharyya coefficient, 1 = same colours): below it, another object
CLEAR_MARGIN = 0.2  # the best match must beat the second by this much (of the match score) to be taken
DEPTH_JUMP = 0.3  # between consecutive sightings, |z - z_last| / z_last above this is another object
# Candidates of a frame whose presence probability is under this share of the threshold are not looked at: a
# half-hidden object is seen with less confidence than a whole one, but nothing is taken from a frame the model
# thinks holds nothing of what was said.
PRESENCE_SHARE = 0.5
SIZE_MEMORY = 0.8  # the track's size shrinks by at most this factor a frame (a half-hidden sighting is smaller)
LOOK_MATCH = 0.8  # normalised cross-correlation of the last patch needed to follow the object by its look
LOOK_FRAMES = 15  # frames in a row (1 s at 15 Hz) it may be followed by its look alone before the model must see it
LOOK_SEARCH = 0.75  # the look is searched for this many object sizes round its predicted box
LOOK_TOLERANCE = 60  # summed over RGB: a pixel of the object that differs more from its patch is hidden
LOOK_VISIBLE = 0.3  # the share of its pixels that must still look as they did
LOOK_CONTRAST = 8.0  # grey-level standard deviation a patch needs to be matched at all (a blank one matches anything)


@dataclass(frozen=True)
class TrackInfo:
    """The tracked object as a frame's answer reports it: ``last_*`` is where it was last seen (in that frame's
    pixels and camera frame), at stamp ``last_seen_s``; current only when the answer says it is seen."""

    track_id: int
    started_s: float
    last_seen_s: float
    now_s: float
    last_bbox: tuple[int, int, int, int]
    last_centroid_px: tuple[float, float]
    last_centroid_3d: np.ndarray | None

    @property
    def age_s(self) -> float:
        return self.now_s - self.started_s

    @property
    def unseen_s(self) -> float:
        """Seconds since it was last seen (0 when seen in this frame)."""
        return self.now_s - self.last_seen_s


@dataclass
class _Track:
    track_id: int
    started_s: float
    last_seen_s: float
    bbox: tuple[int, int, int, int]
    centroid_px: tuple[float, float]
    centroid_3d: np.ndarray | None
    size_px: float  # sqrt of the area
    signature: np.ndarray
    shape: tuple[int, int]
    patch: np.ndarray | None = None  # (h, w, 3) uint8: its box in the frame it was last seen in by the model
    region: np.ndarray | None = None  # (h, w) bool: its pixels in that box
    motion: np.ndarray = field(default_factory=IDENTITY.copy)  # image motion since last seen (2x3)
    missed: int = 0  # frames since last seen
    by_look: int = 0  # frames in a row followed by its look alone

    def info(self, now_s: float) -> TrackInfo:
        return TrackInfo(self.track_id, self.started_s, self.last_seen_s, now_s, self.bbox, self.centroid_px,
                         self.centroid_3d)


class LockOn:
    """The track of the current command's object (see the module docstring)."""

    def __init__(self):
        self.track: _Track | None = None
        self._motion = ImageMotion()
        self._next_id = 1

    @property
    def locked(self) -> bool:
        return self.track is not None

    def reset(self) -> None:
        """Forget the track (a new command): the next found answer starts a new one."""
        self.track = None
        self._motion.reset()

    def start(self, result: Result, rgb: np.ndarray, stamp_s: float) -> Result:
        """The first answer: a ``found`` one starts the track (others pass unchanged)."""
        self._motion.update(rgb)
        if result.status != FOUND:
            return result
        (chosen,) = [c for c in result.candidates if c.bbox == result.bbox] or [_as_candidate(result)]
        self.track = _Track(self._next_id, stamp_s, stamp_s, chosen.bbox, chosen.centroid_px, chosen.centroid_3d,
                            math.sqrt(chosen.area_px), colour_signature(rgb, chosen), rgb.shape[:2])
        self._remember_look(chosen, rgb)
        self._next_id += 1
        return replace(result, track=self.track.info(stamp_s))

    def _remember_look(self, candidate: Candidate, rgb: np.ndarray) -> None:
        x0, y0, x1, y1 = candidate.bbox
        self.track.patch, self.track.region = rgb[y0:y1 + 1, x0:x1 + 1].copy(), candidate.region

    def follow(self, result: Result, rgb: np.ndarray, stamp_s: float, threshold: float,
               fainter: Callable[[], list[Candidate]] | None = None,
               measure: Callable[[np.ndarray, tuple[int, int]], Candidate] | None = None) -> Result:
        """A later frame: ``result`` is the model's answer for the description alone (``threshold``: the presence
        probability its status was judged at); it becomes ``tracking``, ``reacquired`` or ``lost`` (see the module
        docstring). ``fainter``: the objects of the model's mask at a lower probability, looked at where none of
        ``result``'s is the tracked one (the model may see a far or half-hidden object faintly). ``measure``: the
        candidate of pixels (region, top-left corner) in this frame, with its 3D centroid; given, a tracked
        object the model misses is followed by its look."""
        track = self.track
        track.motion = then(track.motion, self._motion.update(rgb))
        seen = result.score >= PRESENCE_SHARE * threshold
        match = self._match(result.candidates, rgb) if seen else None
        if match is None and seen and fainter is not None:
            match = self._match(fainter(), rgb)
        by_look = match is None and measure is not None and track.missed == 0 and track.by_look < LOOK_FRAMES
        if by_look:
            match = self._by_look(rgb, measure)
        if match is None:
            track.missed += 1
            return replace(result, status=LOST, mask=np.zeros_like(result.mask), bbox=None, centroid_px=None,
                           centroid_3d=None, reason="the tracked object is not seen", track=track.info(stamp_s))
        status = REACQUIRED if track.missed else TRACKING
        if by_look:
            track.by_look += 1
        else:
            self._remember_look(match, rgb)
            track.by_look = 0
        track.bbox, track.centroid_px, track.centroid_3d = match.bbox, match.centroid_px, match.centroid_3d
        track.size_px = max(math.sqrt(match.area_px), SIZE_MEMORY * track.size_px)
        track.last_seen_s, track.shape = stamp_s, rgb.shape[:2]
        track.motion, track.missed = IDENTITY.copy(), 0
        reason = "followed by its look: the model did not see it in this frame" if by_look else ""
        return replace(result.found_as(match), status=status, reason=reason, track=track.info(stamp_s))

    def _predicted(self, rgb: np.ndarray) -> tuple[tuple[float, float], tuple[float, float, float, float], float]:
        """Where the tracked object should be in ``rgb``: its centre, box and size (px), moved by the image motion
        since it was last seen (and scaled to a new frame size)."""
        track = self.track
        sy, sx = rgb.shape[0] / track.shape[0], rgb.shape[1] / track.shape[1]
        x0, y0, x1, y1 = track.bbox
        corners = [apply(track.motion, corner) for corner in ((x0, y0), (x1, y1))]
        cx, cy = apply(track.motion, track.centroid_px)
        box = (corners[0][0] * sx, corners[0][1] * sy, corners[1][0] * sx, corners[1][1] * sy)
        return (cx * sx, cy * sy), box, track.size_px * zoom(track.motion) * math.sqrt(sx * sy)

    def _by_look(self, rgb: np.ndarray, measure: Callable[[np.ndarray, tuple[int, int]], Candidate]
                 ) -> Candidate | None:
        """The tracked object found by its last patch round its predicted box (same frame size only): the whole
        patch, or one half of it where something has come in front of the other; its pixels those that still look
        as they did. None where no match is close, too little of it shows, or its colours are not the track's."""
        track = self.track
        if rgb.shape[:2] != track.shape or track.patch.std() < LOOK_CONTRAST:
            return None
        h, w = track.patch.shape[:2]
        _, box, size = self._predicted(rgb)
        margin = max(8, round(LOOK_SEARCH * size))
        left, top = max(0, round(box[0]) - margin), max(0, round(box[1]) - margin)
        window = rgb[top:top + h + 2 * margin, left:left + w + 2 * margin]
        best, corner = -1.0, None
        for y0, y1, x0, x1 in ((0, h, 0, w), (0, h, 0, w // 2), (0, h, w // 2, w), (0, h // 2, 0, w),
                               (h // 2, h, 0, w)):
            part = track.patch[y0:y1, x0:x1]
            if min(part.shape[:2]) < 4 or window.shape[0] < part.shape[0] or window.shape[1] < part.shape[1]:
                continue
            _, score, _, (x, y) = cv2.minMaxLoc(cv2.matchTemplate(window, part, cv2.TM_CCOEFF_NORMED))
            if score >= LOOK_MATCH and score > best:  # NaN (a blank window) never is
                best, corner = score, (left + x - x0, top + y - y0)
            if best >= LOOK_MATCH and y1 - y0 == h and x1 - x0 == w:
                break  # the whole patch matches
        if corner is None:
            return None
        region = self._still_looking_alike(rgb, corner)
        if region is None:
            return None
        candidate = measure(region, (max(corner[0], 0), max(corner[1], 0)))
        if similarity(colour_signature(rgb, candidate), track.signature) < MIN_SIMILARITY:
            return None
        return candidate

    def _still_looking_alike(self, rgb: np.ndarray, corner: tuple[int, int]) -> np.ndarray | None:
        """The track's pixels placed at ``corner`` (x, y) that look as in its patch and lie in the frame, cut to
        the frame (its box's top-left then at ``corner`` clipped to 0); None where under LOOK_VISIBLE of them."""
        track = self.track
        x, y = corner
        h, w = track.patch.shape[:2]
        height, width = rgb.shape[:2]
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
        if x1 <= x0 or y1 <= y0:
            return None
        now = rgb[y0:y1, x0:x1].astype(np.int16)
        then_ = track.patch[y0 - y:y1 - y, x0 - x:x1 - x].astype(np.int16)
        region = track.region[y0 - y:y1 - y, x0 - x:x1 - x] & (np.abs(now - then_).sum(axis=2) <= LOOK_TOLERANCE)
        return region if region.sum() >= LOOK_VISIBLE * track.region.sum() else None

    def _match(self, candidates: list[Candidate], rgb: np.ndarray) -> Candidate | None:
        """The candidate that is the tracked object, or None where none is or two could be."""
        track = self.track
        gate = TRACK_GATE if track.missed == 0 else REACQUIRE_GATE
        predicted, box, size = self._predicted(rgb)
        scored = []
        for candidate in candidates:
            distance = math.dist(candidate.centroid_px, predicted) / max(size, 1.0)
            overlap = _box_iou(candidate.bbox, box)
            if distance > gate and overlap == 0.0:
                continue
            if not self._same_depth(candidate):
                continue
            likeness = similarity(colour_signature(rgb, candidate), track.signature)
            if likeness < MIN_SIMILARITY:
                continue
            scored.append((overlap + max(0.0, 1.0 - distance / gate) + likeness, candidate))
        if not scored:
            return None
        scored.sort(key=lambda pair: -pair[0])
        if len(scored) > 1 and scored[0][0] - scored[1][0] < CLEAR_MARGIN * scored[0][0]:
            return None  # two objects where it should be: not a guess
        return scored[0][1]

    def _same_depth(self, candidate: Candidate) -> bool:
        """With depth: a candidate seen right after the track's last sighting is at about its distance."""
        last, now = self.track.centroid_3d, candidate.centroid_3d
        if last is None or now is None or self.track.missed:
            return True
        return abs(float(now[2]) - float(last[2])) <= DEPTH_JUMP * float(last[2])


def _box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two inclusive (x0, y0, x1, y1) boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0]) + 1
    h = min(a[3], b[3]) - max(a[1], b[1]) + 1
    if w <= 0 or h <= 0:
        return 0.0
    area_a, area_b = ((box[2] - box[0] + 1) * (box[3] - box[1] + 1) for box in (a, b))
    return w * h / (area_a + area_b - w * h)


def _as_candidate(result: Result) -> Candidate:
    """A found answer's object as a candidate (a relation's or exclusion's answer is one of its candidates)."""
    x0, y0, x1, y1 = result.bbox
    region = result.mask[y0:y1 + 1, x0:x1 + 1]
    return Candidate(region, int(region.sum()), result.score, result.bbox, result.centroid_px, result.centroid_3d)

