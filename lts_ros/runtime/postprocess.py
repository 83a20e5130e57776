"""Model outputs at the letterboxed input size -> a Result at the source resolution."""
from __future__ import annotations

import cv2
import numpy as np

from lts_ros.data.transforms import Letterbox
from lts_ros.geometry import CENTROID_ERODE_PX, robust_centroid, shifted_intrinsics
from lts_ros.language.query import Selection
from lts_ros.runtime.depth_split import objects_apart
from lts_ros.runtime.pixels import fired_box, sigmoid
from lts_ros.runtime.rank_select import pick_member, select_ranked, why_none
from lts_ros.runtime.refine import refine_logits
from lts_ros.runtime.result import AMBIGUOUS, FOUND, NOT_FOUND, Candidate, Result, paste

# A region under this share of the mask's largest is a stray island, not another object. Even when the model says
# the expression names one object, a second region over it is doubt between objects, not an island: on val (the
# shipped model's fine-tune at step 500), the largest region was the target in only 71 % of the masks whose second
# region held 20-30 % of it, 53 % over all such masks; answering found there would send the arm to the wrong one.
ISLAND_SHARE = 0.2
MIN_OBJECT_SHARE = 3e-4  # of the frame's pixels (92 px at 640 x 480): smaller regions are noise
# A selection picks among several objects. Where the set's mask holds one, a member was missed or merged as often
# as not (tabletop test split: that object was the named one in 21 of 43 such answers); the objects are then
# counted again where the mask probability exceeds sigmoid(-RECOUNT_LOGIT) = 0.12, and with still one there the
# answer is "which one?". Chosen on val: position wrong objects 9.1 -> 0.9 % for 90.0 -> 84.5 % correct, size
# 15.4 -> 7.7 % at the same 80.8 % correct.
RECOUNT_LOGIT = 2.0


def prior_heatmap(prior_logits: np.ndarray, box: Letterbox) -> np.ndarray:
    """Prior logits (S/8, S/8) -> probability (H, W) float32: upsample to S x S, then undo the letterbox."""
    full = cv2.resize(prior_logits.astype(np.float32, copy=False), (box.size, box.size),
                      interpolation=cv2.INTER_LINEAR)
    return sigmoid(box.invert(full))


def candidates_of(logits: np.ndarray, depth_m: np.ndarray | None = None, K: np.ndarray | None = None,
                  D: np.ndarray | None = None) -> list[Candidate]:
    """The separate objects of the mask ``logits > 0`` ((H, W) at the frame's size), largest first: its connected
    regions (8-connected) but the stray islands, i.e. regions under ``ISLAND_SHARE`` of the largest or
    ``MIN_OBJECT_SHARE`` of the frame; with ``depth_m`` and ``K``, a region that depth shows to be several objects
    touching in the image is each of them (``runtime.depth_split``). Regions are labelled within the mask's box (a
    tenth of a full frame's cost for a tabletop object) and each is then worked on within its own box (plus the
    centroid's erosion margin)."""
    fired = logits > 0
    box = fired_box(fired)
    if box is None:
        return []
    y0, x0, y1, x1 = box
    _, labels, stats, centroids = cv2.connectedComponentsWithStats(fired[y0:y1, x0:x1].view(np.uint8),
                                                                   connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    smallest = max(ISLAND_SHARE * areas.max(), MIN_OBJECT_SHARE * logits.size)
    candidates = []
    for label in 1 + np.argsort(-areas, kind="stable"):
        if stats[label, cv2.CC_STAT_AREA] < smallest:
            break
        x, y, w, h = (int(v) for v in stats[label, :4])
        region = labels[y:y + h, x:x + w] == label
        x, y = x + x0, y + y0  # in the frame
        objects = [(region, (x, y))] if depth_m is None or K is None else objects_apart(region, (x, y), depth_m, K,
                                                                                          fired, smallest)
        for part, (left, top) in objects:  # each object its own candidate, in its own box
            h, w = part.shape
            candidates.append(candidate_at(part, (left, top), float(sigmoid(logits[top:top + h, left:left + w][part])
                                                                    .mean()), depth_m, K, D))
    candidates.sort(key=lambda c: -c.area_px)
    return candidates


def candidate_at(region: np.ndarray, corner: tuple[int, int], score: float, depth_m: np.ndarray | None = None,
                 K: np.ndarray | None = None, D: np.ndarray | None = None) -> Candidate:
    """The object of pixels ``region`` (bool, its box, inside the frame) whose box's top-left is at ``corner``
    (x, y); its 3D centroid from ``depth_m`` (within its box plus the centroid's erosion margin) where given."""
    x, y = corner
    h, w = region.shape
    vs, us = np.nonzero(region)
    centroid_3d = None
    if depth_m is not None and len(us):
        height, width = depth_m.shape
        left, top = max(0, x - CENTROID_ERODE_PX), max(0, y - CENTROID_ERODE_PX)
        bottom, right = min(height, y + h + CENTROID_ERODE_PX), min(width, x + w + CENTROID_ERODE_PX)
        padded = np.zeros((bottom - top, right - left), bool)
        padded[y - top:y - top + h, x - left:x - left + w] = region
        centroid_3d = robust_centroid(depth_m[top:bottom, left:right], shifted_intrinsics(K, left, top), padded, D=D)
    centre = (float(us.mean() + x), float(vs.mean() + y)) if len(us) else (x + w / 2, y + h / 2)
    return Candidate(region=region, area_px=int(len(us)), score=score, bbox=(x, y, x + w - 1, y + h - 1),
                     centroid_px=centre, centroid_3d=centroid_3d)


def frame_logits(mask_logits: np.ndarray, box: Letterbox, rgb: np.ndarray | None = None) -> np.ndarray:
    """Mask logits (S, S) at the model input -> (H, W) at the frame's size, edges snapped to ``rgb`` when given."""
    logits = box.invert(mask_logits.astype(np.float32, copy=False))
    return logits if rgb is None else refine_logits(logits, rgb)


def build_result(mask_logits: np.ndarray, presence_logit: float, several_logit: float, box: Letterbox,
                 threshold: float, depth_m: np.ndarray | None = None, K: np.ndarray | None = None,
                 prior_logits: np.ndarray | None = None, D: np.ndarray | None = None,
                 rgb: np.ndarray | None = None, selection: Selection | None = None) -> Result:
    """``mask_logits``: (S, S) at the model input. Logits are resized (bilinear) and thresholded at 0
    (probability 0.5), so the mask edge lands where the interpolated logit crosses 0. The object is there when
    the presence probability reaches ``threshold`` and the mask holds a candidate; ambiguous when the model says
    the expression names several objects or the mask holds several, found otherwise. ``D``: lens distortion for
    the 3D centroids. ``rgb``: the frame (H, W, 3) uint8; given, the mask's edges are snapped to it
    (``refine_logits``). ``selection``: the logits are the model's answer for a set; the object is the member the
    selection names (``runtime.rank_select``), ambiguous where that is not clear or it finds one object even when
    counted again at a lower probability (``RECOUNT_LOGIT``)."""
    logits = frame_logits(mask_logits, box, rgb)
    score, several_score = (float(sigmoid(np.float32(logit))) for logit in (presence_logit, several_logit))
    candidates = candidates_of(logits, depth_m, K, D)
    prior = None if prior_logits is None else prior_heatmap(prior_logits, box)
    if score < threshold or not candidates:
        return Result(NOT_FOUND, np.zeros(logits.shape, bool), score, several_score, candidates, None, None, None,
                      prior)
    if selection is not None and len(candidates) == 1:
        candidates, one = _recounted(logits, candidates[0], selection, depth_m, K, D)
    else:
        one = pick_member(candidates, selection, logits.shape, several=several_score >= 0.5)
    if one is None:
        return Result(AMBIGUOUS, paste(candidates, logits.shape), score, several_score, candidates, None, None, None,
                      prior, reason=why_none(candidates, selection))
    return Result(FOUND, one.mask(logits.shape), score, several_score, candidates, one.bbox, one.centroid_px,
                  one.centroid_3d, prior)


def _recounted(logits: np.ndarray, found: Candidate, selection: Selection, depth_m: np.ndarray | None,
               K: np.ndarray | None, D: np.ndarray | None) -> tuple[list[Candidate], Candidate | None]:
    """The objects of the mask counted again at the lower threshold, and the member ``selection`` names among them
    (the object ``found`` at the usual threshold where that is the one, for its crisper edges)."""
    wider = candidates_of(logits + RECOUNT_LOGIT, depth_m, K, D)
    one = select_ranked(wider, selection, logits.shape)
    if one is not None and one.mask(logits.shape)[found.mask(logits.shape)].mean() >= 0.5:
        one = found
    return wider, one
