"""A member the set's mask missed, found with depth and asked about again up close.

A rank ("the second mug from the left", "the biggest ball") picks among the objects the model segments for its
set ("the mug"). Where the set's mask leaves out a member (most often a white or black one), the count lands on a
neighbour and the robot would be sent to the wrong object. Depth sees what the model did not count: the objects
standing on the table outside the set's mask. Each one that would come before the pick in the order is shown to
the model again on a zoomed crop around it, asking for the set's description; where the model then segments that
object, the set was missing a member and the answer is "which one?".

The crop is what makes the second look differ from the first: the model's input is 320 px, so a crop of a few
hundred pixels around a small object shows it two or three times larger, and with fewer neighbours to compete with.
Plain numpy / OpenCV; the model's passes are the caller's (``Segmenter``, ``lts eval``).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lts_ros.language.query import BIG, FAR, LEFT, NEAR, RIGHT, SMALL, Selection
from lts_ros.runtime.depth_split import cut_at_depth_edges, shared_out
from lts_ros.runtime.result import AMBIGUOUS, FOUND, Candidate, Result, paste
from lts_ros.runtime.support_plane import STAND_M, heights_above_support

MIN_AREA_SHARE = 0.25  # of the set's median member: smaller uncounted objects are not asked about
CROP_ZOOM = 4.0  # the crop's side, times the object's larger box side
CROP_MIN_PX = 160  # and at least this (a tight crop is out of what the model was trained on)
MEMBER_SHARE = 0.6  # the model's answer on the crop covers this share of the object: it is a member
PAINT_SCALE = 4  # the painting is done at this fraction of the crop's size
PAINT_RADIUS_PX = 3  # the neighbourhood a painted-out pixel is filled from, at that size
GROW_PX = 9  # the set's mask grown by this (square side) so a member's rim is not another object, nor left in a crop


@dataclass(frozen=True)
class Uncounted:
    """An object standing on the table that the set's mask does not hold, and the crop to ask about it in."""
    region: np.ndarray  # (H, W) bool, frame-sized
    crop: tuple[int, int, int, int]  # (x0, y0, x1, y1), exclusive ends, inside the frame
    counted: np.ndarray  # (H, W) bool: the set's members (grown a little), painted out of the crop


def crop_view(frame: np.ndarray, uncounted: Uncounted) -> np.ndarray:
    """The crop of ``frame`` (H, W, 3) uint8 to show the model, the members it counted painted out (filled in from
    their surroundings): asked for the set on a crop that still shows a counted member, the model answers with that
    member and says nothing about the uncounted object."""
    x0, y0, x1, y1 = uncounted.crop
    crop = frame[y0:y1, x0:x1].copy()  # painted on: never the frame itself
    counted = uncounted.counted[y0:y1, x0:x1]
    if not counted.any():
        return crop
    # Filled in at a quarter of the size (50 ms -> 3 ms for a crop with two mugs in it): only a smooth fill is needed.
    small = (max(1, crop.shape[1] // PAINT_SCALE), max(1, crop.shape[0] // PAINT_SCALE))
    shrunk = cv2.resize(counted.view(np.uint8), small, interpolation=cv2.INTER_AREA)
    shrunk = cv2.dilate(shrunk, np.ones((3, 3), np.uint8))  # every pixel a member touches, not only whole ones
    filled = cv2.inpaint(cv2.resize(crop, small, interpolation=cv2.INTER_AREA), shrunk, PAINT_RADIUS_PX,
                         cv2.INPAINT_TELEA)
    crop[counted] = cv2.resize(filled, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_LINEAR)[counted]
    return crop


def members_to_check(result: Result, selection: Selection, depth_m: np.ndarray, K: np.ndarray) -> list[Uncounted]:
    """The uncounted objects that would come before ``result``'s pick in ``selection``'s order (every one for a
    size or "the middle one"), each with its crop; [] where the frame shows no supporting plane."""
    shape = result.mask.shape
    counted = grown_members(result.candidates, shape)
    standing = objects_standing(result.candidates, counted, depth_m, K)
    return [Uncounted(region, crop_around(region), counted) for region in standing
            if comes_before(region, result, selection, depth_m)]


def grown_members(candidates: list[Candidate], shape: tuple[int, int]) -> np.ndarray:
    """The candidates' pixels, grown by ``GROW_PX``."""
    return cv2.dilate(paste(candidates, shape).view(np.uint8), np.ones((GROW_PX, GROW_PX), np.uint8)).astype(bool)


def objects_standing(candidates: list[Candidate], counted: np.ndarray, depth_m: np.ndarray,
                     K: np.ndarray) -> list[np.ndarray]:
    """Regions standing above the plane the set's members stand on, in the band of rows around them, outside
    ``counted`` (the set's mask grown, ``grown_members``: a member's rim is not another object), at least
    ``MIN_AREA_SHARE`` of the median member; objects that touch in the image told apart by depth
    (``depth_split``), so that each is asked about on its own."""
    shape = counted.shape
    height = shape[0]
    top = min(c.bbox[1] for c in candidates)
    bottom = max(c.bbox[3] for c in candidates)
    rows = (max(0, 2 * top - bottom), min(height, 2 * bottom - top + 1))
    members = paste(candidates, shape)
    heights = heights_above_support(depth_m, K, rows, members)
    if heights is None:
        return []
    above = np.zeros(shape, bool)
    above[rows[0]:rows[1]] = heights > STAND_M
    rest = cv2.morphologyEx((above & ~counted).view(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8)
    smallest = MIN_AREA_SHARE * float(np.median([c.area_px for c in candidates]))
    regions = []
    for label in range(1, count):
        if stats[label, cv2.CC_STAT_AREA] < smallest:
            continue
        x, y, w, h = (int(v) for v in stats[label, :4])
        standing = labels[y:y + h, x:x + w] == label
        pieces = cut_at_depth_edges(standing, depth_m[y:y + h, x:x + w], smallest)  # every one stands already
        for piece in shared_out(standing, pieces) if len(pieces) > 1 else [standing]:
            region = np.zeros(shape, bool)
            region[y:y + h, x:x + w] = piece
            regions.append(region)
    return regions


def comes_before(region: np.ndarray, result: Result, selection: Selection, depth_m: np.ndarray) -> bool:
    """Whether an object at ``region`` would come before ``result``'s pick in the order (always, for sizes and
    "the middle one": a missed member changes those whatever its place)."""
    if selection.middle or selection.order in (BIG, SMALL):
        return True
    if selection.order in (LEFT, RIGHT):
        sign = 1.0 if selection.order == LEFT else -1.0
        return sign * float(np.nonzero(region)[1].mean()) < sign * result.centroid_px[0]
    if selection.order in (NEAR, FAR) and result.centroid_3d is not None:
        depths = depth_m[region & (depth_m > 0)]
        if not len(depths):
            return False
        sign = 1.0 if selection.order == NEAR else -1.0
        return sign * float(np.median(depths)) < sign * float(result.centroid_3d[2])
    return True


def crop_around(region: np.ndarray) -> tuple[int, int, int, int]:
    """A square window ``CROP_ZOOM`` times the region's box (at least ``CROP_MIN_PX``) centred on it, cut at the
    frame's edges."""
    height, width = region.shape
    vs, us = np.nonzero(region)
    half = max(CROP_MIN_PX, CROP_ZOOM * max(np.ptp(us) + 1, np.ptp(vs) + 1)) / 2
    centre_u, centre_v = (us.min() + us.max()) / 2, (vs.min() + vs.max()) / 2
    return (int(max(0.0, centre_u - half)), int(max(0.0, centre_v - half)), int(min(width, centre_u + half)),
            int(min(height, centre_v + half)))


def is_member(answer: Result, uncounted: Uncounted) -> bool:
    """Whether the model's ``answer`` on the crop (at the crop's size) segments the uncounted object: found or
    "which one?" with its mask over ``MEMBER_SHARE`` of the object."""
    if answer.status not in (FOUND, AMBIGUOUS):
        return False
    x0, y0, x1, y1 = uncounted.crop
    inside = uncounted.region[y0:y1, x0:x1]
    return float((answer.mask & inside).sum()) >= MEMBER_SHARE * max(1, int(inside.sum()))


def settle(result: Result, description: str, checked: list[Uncounted], answers: list[Result]) -> Result:
    """``result`` unless the model, asked up close, sees one of ``checked`` as a member of the set: then "which
    one?" with where that object is."""
    for uncounted, answer in zip(checked, answers):
        if is_member(answer, uncounted):
            vs, us = np.nonzero(uncounted.region)
            return result.ambiguous_among(result.candidates, f"the count missed {description} at pixel "
                                                              f"({us.mean():.0f}, {vs.mean():.0f})")
    return result
