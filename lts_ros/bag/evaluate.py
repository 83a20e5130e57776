"""``lts bag eval`` offline: every colour frame of a bag through the Segmenter in this process, with the
node's pairing rules, scored against the bag's ground truth; an output bag with the predictions."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lts_ros.bag.format import BagTopics
from lts_ros.bag.frames import BagFrame, FrameStats, check_topics, read_frames
from lts_ros.bag.output import OVERLAY_EVERY, OutputBag
from lts_ros.errors import LtsError
from lts_ros.metrics import intersection_union, iou_from_counts
from lts_ros.runtime.result import NOT_FOUND, SEEN
from lts_ros.bag.tracking import TrackedFrame, judge


@dataclass
class FrameResult:
    stamp_ns: int
    command: str | None
    status: str  # runtime.result's STATUSES (lock-on's too); not_found for a frame without output
    score: float
    latency_ms: float  # the Segmenter's pre + infer + post
    target_set: str | None = None  # the command's ground truth: none | one | several (None: not in the bag)
    appearance: str | None = None  # the scene's appearance family (None: not in the bag)
    iou: float | None = None  # of the published mask (the found object's; empty otherwise); None: no ground truth
    counts: tuple[int, int] | None = None  # (intersection, union) pixels, for the overall IoU
    centroid_error_m: float | None = None
    has_output: bool = True
    wrong_command: bool = False  # live: the node's status names another command than the bag's for this frame
    episode: str | None = None  # the tracking episode (None: not in the bag)
    lock_ms: float | None = None  # offline, with lock-on: its own time in the frame (runtime.lock_on)
    tracked: TrackedFrame | None = None  # the answer against the tracking ground truth (tracking episodes)

    @property
    def found(self) -> bool:
        """The object is seen in this frame (found, tracking or reacquired)."""
        return self.status in SEEN


@dataclass
class Evaluation:
    frames: list[FrameResult]
    stats: FrameStats
    wall_s: float  # the whole loop: bag reading, segmentation, scoring, output bag
    samples: list[tuple[BagFrame, np.ndarray]]  # a few (frame, predicted mask) for the report's grid
    errors: dict[str, int]  # why frames got no output -> how many
    latency: str = "Segmenter latency (pre + infer + post)"  # what FrameResult.latency_ms measures


def evaluate_offline(bag: str | Path, out_dir: str | Path, segmenter, topics: BagTopics = BagTopics(),
                     tolerance_s: float = 0.05, overlay_every: int = OVERLAY_EVERY, keep_every: int = 10,
                     progress: bool = True) -> Evaluation:
    """Segment every frame of ``bag`` with ``segmenter``; write ``out_dir/output_bag``. Each command, and each
    tracking episode, starts afresh (with ``segmenter.lock_on``, a new track)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stats, results, samples, errors = FrameStats(), [], [], {}
    episode = None
    color_type = check_topics(bag, topics)[topics.color]
    start = time.perf_counter()
    with OutputBag(out_dir / "output_bag", topics, overlay_every, color_type) as output:
        for frame in tqdm(read_frames(bag, topics, tolerance_s, stats), desc="eval", unit="frame",
                          disable=not progress):
            output.write_inputs(frame)
            if frame.command is None:
                results.append(FrameResult(frame.stamp_ns, None, NOT_FOUND, 0.0, 0.0, has_output=False))
                continue
            try:
                if (segmenter.command, episode) != (frame.command.strip(), frame.episode):
                    segmenter.set_command(frame.command)  # a new episode starts a new track, as a new command does
                    episode = frame.episode
                with_depth = frame.depth_m is not None and frame.K is not None  # 3D needs both, as in the node
                result = segmenter.segment(frame.rgb, frame.depth_m if with_depth else None,
                                           frame.K if with_depth else None, stamp_s=frame.stamp_ns / 1e9)
            except LtsError as exc:  # a bad frame or command is counted, the bag goes on
                errors[str(exc)] = errors.get(str(exc), 0) + 1
                results.append(FrameResult(frame.stamp_ns, frame.command, NOT_FOUND, 0.0, 0.0, frame.target_set,
                                           frame.appearance, has_output=False))
                continue
            centroid = result.centroid_3d if result.found else None
            published = result.mask if result.found else np.zeros_like(result.mask)  # as lts_node publishes it
            results.append(score(frame, result.status, published, float(result.score),
                                 sum(result.timings_ms[k] for k in ("pre", "infer", "post")), centroid))
            results[-1].lock_ms = result.timings_ms.get("lock")
            output.write_outputs(frame, published, centroid)
            if len(results) % keep_every == 1:
                samples.append((frame, published))
    if not results:
        raise LtsError(f"{bag} holds no colour frames on {topics.color}")
    return Evaluation(results, stats, time.perf_counter() - start, samples, errors)


def score(frame: BagFrame, status: str, mask: np.ndarray, confidence: float, latency_ms: float,
          centroid_3d: np.ndarray | None) -> FrameResult:
    """One frame's answer (``status``, the published ``mask``: the found object's, else empty) against its ground
    truth (where the bag has it)."""
    out = FrameResult(frame.stamp_ns, frame.command, status, confidence, latency_ms, frame.target_set,
                      frame.appearance, episode=frame.episode)
    if frame.gt_mask is not None and frame.gt_mask.shape == mask.shape:
        out.counts = intersection_union(mask, frame.gt_mask)
        out.iou = iou_from_counts(*out.counts)
    if frame.gt_mask is not None and frame.unoccluded_mask is not None and frame.gt_mask.shape == mask.shape:
        visible_share = float(frame.gt_mask.sum() / max(frame.unoccluded_mask.sum(), 1))
        out.tracked = judge(status, mask, frame.gt_mask, visible_share, frame.lookalike_mask)
    if frame.gt_centroid is not None and centroid_3d is not None:
        out.centroid_error_m = float(np.linalg.norm(np.asarray(centroid_3d) - frame.gt_centroid))
    return out
