"""Pick the member a query's selection names among the separate objects the model found for its set
(``language.query.Selection``): by image column for left / right, by camera depth (or, without depth, by how low the
object reaches in the image) for near / far, and by apparent size (times depth, where given) for big / small.

The answer is ``ambiguous`` when the named member is not clearly apart from the next one in the order (two mugs
of about the same size for "the bigger mug") and when the model found fewer objects than the rank counts to
(two mugs for "the third mug": one may be hidden, or two touching mugs read as one): "which one?" is the safe
question then; ``not_found`` stays the model's answer for the set itself. "The middle one" is the middle of an odd
number of objects from the left, clearly apart from both neighbours.
"""
from __future__ import annotations

import math

from lts_ros.language.query import BIG, FAR, LEFT, NEAR, RIGHT, SMALL, Selection
from lts_ros.runtime.result import Candidate

# How far apart two objects' keys must be for one to come clearly before the other.
COLUMN_GAP = 0.015  # of the image width (10 px at 640): separate objects' centroids are further apart
DEPTH_GAP_M = 0.02
ROW_GAP = 0.015  # of the image height, for near / far without depth
SIZE_RATIO = 1.1  # of the linear size; the tabletop generator says "the bigger" at 1.25 or more


def order_keys(candidates: list[Candidate], order: str, shape: tuple[int, int]) -> tuple[list[float], float]:
    """Per candidate the key (smaller = earlier in ``order``) and the gap that makes a difference clear."""
    height, width = shape
    with_depth = all(c.centroid_3d is not None for c in candidates)
    if order in (LEFT, RIGHT):
        sign, gap = (1.0 if order == LEFT else -1.0), COLUMN_GAP * width
        return [sign * c.centroid_px[0] for c in candidates], gap
    if order in (NEAR, FAR):
        sign = 1.0 if order == NEAR else -1.0
        if with_depth:
            return [sign * float(c.centroid_3d[2]) for c in candidates], DEPTH_GAP_M
        return [-sign * c.bbox[3] for c in candidates], ROW_GAP * height  # lower in the image: nearer
    if order in (BIG, SMALL):
        sign = -1.0 if order == BIG else 1.0
        sizes = [math.sqrt(c.area_px) * (float(c.centroid_3d[2]) if with_depth else 1.0) for c in candidates]
        return [sign * math.log(max(size, 1e-9)) for size in sizes], math.log(SIZE_RATIO)
    raise ValueError(f"unknown order {order!r}")


def select_ranked(candidates: list[Candidate], selection: Selection, shape: tuple[int, int]) -> Candidate | None:
    """The candidate ``selection`` names, or None where that is not clear (see the module docstring)."""
    if _too_few(len(candidates), selection):
        return None
    rank = (len(candidates) + 1) // 2 if selection.middle else selection.rank
    keys, gap = order_keys(candidates, selection.order, shape)
    ranked = sorted(range(len(candidates)), key=keys.__getitem__)
    chosen = keys[ranked[rank - 1]]
    neighbours = [keys[i] for i in ranked[max(0, rank - 2):rank + 1] if i != ranked[rank - 1]]
    if any(abs(chosen - key) < gap for key in neighbours):
        return None
    return candidates[ranked[rank - 1]]


def pick_member(candidates: list[Candidate], selection: Selection | None, shape: tuple[int, int],
                several: bool = False) -> Candidate | None:
    """The candidate ``selection`` names; without a selection the sole candidate, unless ``several`` (the model
    says the command names more than one object)."""
    if selection is not None:
        return select_ranked(candidates, selection, shape)
    return candidates[0] if len(candidates) == 1 and not several else None


def why_none(candidates: list[Candidate], selection: Selection | None) -> str:
    """Why ``pick_member`` named none of ``candidates`` (at least one), in words for the status's ``reason``."""
    count = len(candidates)
    if selection is None:
        return f"{count} objects fit" if count > 1 else "the model reads the command as naming several objects"
    seen = f"{count} object{'s' if count > 1 else ''} seen"
    if _too_few(count, selection):
        if selection.middle:
            return f"{seen}, none in the middle"
        return f"only {seen}, too few to tell the '{selection.describe()}'"
    return f"{seen}, too close together to tell the '{selection.describe()}'"


def _too_few(count: int, selection: Selection) -> bool:
    """Whether ``count`` objects are too few for ``selection`` to pick one: a selection picks among several, a rank
    counts to its place, "the middle one" needs an odd number, at least three."""
    if selection.middle:
        return count < 3 or count % 2 == 0
    return count < max(selection.rank, 2)
