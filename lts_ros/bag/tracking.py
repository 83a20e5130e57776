"""How well the answers follow one object over an episode (lock-on, ``runtime.lock_on``), from per-frame answers
and ground truth alone (no model, no ROS): what ``lts bag eval`` reports for tracking episodes.

A frame's answer is *on the object* when it gives an object (found, tracking, reacquired) and at least half of its
mask lies on the named object's ground-truth mask; *wrong* when it gives an object that is not. The object is
*visible* where it shows at least half of what it would unoccluded, *hidden* where it shows nothing."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lts_ros.runtime.result import FOUND, LOST, SEEN

ON_OBJECT_SHARE = 0.5  # of the answer's mask on the object's ground truth
VISIBLE_SHARE = 0.5  # of the object's unoccluded pixels: visible; "half visible again" after an occlusion
REACQUIRE_FRAMES = 3  # an occlusion counts as re-acquired when the object is answered within this many frames


@dataclass(frozen=True)
class TrackedFrame:
    """One frame's answer against the ground truth."""

    status: str
    on_object: bool
    on_lookalike: bool  # the answer's mask lies mostly on the object's look-alike (when the episode has one)
    visible_share: float  # the object's visible pixels / those it would show unoccluded

    @property
    def wrong(self) -> bool:
        return self.status in SEEN and not self.on_object


def judge(status: str, answer: np.ndarray | None, target: np.ndarray, visible_share: float,
          lookalike: np.ndarray | None = None) -> TrackedFrame:
    """A frame's TrackedFrame: ``answer`` the published mask (None or empty where no object is given), ``target``
    and ``lookalike`` ground-truth masks of the same shape."""
    given = status in SEEN and answer is not None and answer.any()

    def share_on(mask: np.ndarray | None) -> float:
        return float(mask[answer].mean()) if given and mask is not None else 0.0
    return TrackedFrame(status, share_on(target) >= ON_OBJECT_SHARE, share_on(lookalike) >= ON_OBJECT_SHARE,
                        visible_share)


@dataclass
class TrackingFigures:
    """Counts over episodes. The lock is judged on the episodes whose first ``found`` answer was the named object
    (a wrong first answer is the command reader's or the model's, not the lock's: counted apart)."""

    episodes: int = 0
    frames: int = 0
    locked: int = 0  # episodes whose command was answered found (and the track started)
    locked_on_object: int = 0  # ... with the named object
    wrong_frames: int = 0  # all frames, from every episode
    wrong_after_lock: int = 0  # frames after a lock on the named object that give another object
    visible_after_lock: int = 0  # from here on: episodes locked on the named object, from that frame
    on_object_after_lock: int = 0
    hidden_frames: int = 0  # the object fully hidden
    hidden_lost: int = 0  # ... answered lost
    occlusions: int = 0  # the object below half visible and then half visible again
    reacquired_in_time: int = 0
    lookalike_frames: int = 0  # frames answered with the look-alike, every episode
    reacquire_latencies: list[int] = field(default_factory=list)  # frames, per occlusion (-1: never)

    def add(self, frames: list[TrackedFrame]) -> None:
        """Count one episode's frames."""
        self.episodes += 1
        self.frames += len(frames)
        self.wrong_frames += sum(f.wrong for f in frames)
        self.lookalike_frames += sum(f.on_lookalike for f in frames)
        lock = next((i for i, f in enumerate(frames) if f.status == FOUND), None)
        if lock is None:
            return
        self.locked += 1
        if not frames[lock].on_object:
            return
        self.locked_on_object += 1
        after = frames[lock:]
        self.wrong_after_lock += sum(f.wrong for f in after)
        visible = [f for f in after if f.visible_share >= VISIBLE_SHARE]
        self.visible_after_lock += len(visible)
        self.on_object_after_lock += sum(f.on_object for f in visible)
        hidden = [f for f in after if f.visible_share == 0.0]
        self.hidden_frames += len(hidden)
        self.hidden_lost += sum(f.status == LOST for f in hidden)
        latencies = _reacquire_latencies(after)
        self.reacquire_latencies += latencies
        self.occlusions += len(latencies)
        self.reacquired_in_time += sum(0 <= latency < REACQUIRE_FRAMES for latency in latencies)

    def as_dict(self) -> dict:
        def share(part: int, whole: int) -> float | None:
            return part / whole if whole else None

        frames_after = self.visible_after_lock
        return {
            "episodes": self.episodes, "frames": self.frames, "locked": self.locked,
            "locked_on_object": self.locked_on_object,
            "identity_consistency": share(self.on_object_after_lock, frames_after),
            "wrong_object_frames": share(self.wrong_frames, self.frames),
            "wrong_object_frames_after_lock": self.wrong_after_lock,
            "hidden_frames": self.hidden_frames, "hidden_answered_lost": share(self.hidden_lost, self.hidden_frames),
            "occlusions": self.occlusions,
            "reacquired_within_3": share(self.reacquired_in_time, self.occlusions),
            "lookalike_frames": self.lookalike_frames,
            "reacquire_latencies": self.reacquire_latencies,
        }


def _reacquire_latencies(frames: list[TrackedFrame]) -> list[int]:
    """Per occlusion (the object under half visible, then half visible again): frames from the first half-visible
    one to the first answered on the object (-1 where it never is)."""
    latencies, hidden = [], False
    for i, frame in enumerate(frames):
        if frame.visible_share < VISIBLE_SHARE:
            hidden = True
        elif hidden:
            hidden = False
            later = [j for j in range(i, len(frames)) if frames[j].on_object]
            latencies.append(later[0] - i if later else -1)
    return latencies
