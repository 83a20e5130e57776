"""Referring expressions for tabletop scenes, unambiguous by construction.

Each expression comes from a `Meaning`, a small structured description. `resolve` returns every object
a listener might pick for a meaning, with margins wide enough that people would agree; an expression is
emitted only if that is its target alone and the target fits clearly. Only named objects with visible
pixels count as possible referents: distractors and fully hidden objects never do, while barely visible
named objects do (they can make a description ambiguous) but are never targets or anchors.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from lts_ros.data.tabletop.scene import CATEGORIES, CATEGORY_WORDS, COLORS, DISTRACTOR, Expression, SceneObject
from lts_ros.errors import LtsError

KINDS = ("attribute", "size", "position", "relation", "ordinal", "command")
OVERSAMPLED_KINDS = ("ordinal", "size")  # need 2-3 objects of a category, so rare; chosen first where possible
RELATIONS = ("left_of", "right_of", "behind", "in_front_of", "next_to")
ORDINALS = ("first", "second", "third", "fourth", "fifth")
COMMANDS = ("pick up", "please pick up", "grab", "take", "hand me", "give me", "bring me", "can you get",
            "point at", "show me")

# Rank orders: a key (smaller = earlier) per object; relations reuse them against their anchor.
_KEYS: dict[str, Callable[[SceneObject], float]] = {
    "left": lambda o: o.centroid_px[0],
    "right": lambda o: -o.centroid_px[0],
    "near": lambda o: o.center_camera[2],
    "far": lambda o: -o.center_camera[2],
    "big": lambda o: -math.log(o.size_m),
    "small": lambda o: math.log(o.size_m),
}
_RELATION_ORDER = {"left_of": "left", "right_of": "right", "in_front_of": "near", "behind": "far"}

# Templates per order: (for a group of exactly two, for more). {b}: "[color] word".
_RANK_TEMPLATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "big": (("the big {b}", "the bigger {b}", "the larger {b}", "the biggest {b}"),
            ("the biggest {b}", "the largest {b}")),
    "small": (("the small {b}", "the smaller {b}", "the smallest {b}"), ("the smallest {b}", "the tiniest {b}")),
    "left": (("the {b} on the left", "the left {b}", "the leftmost {b}"),
             ("the leftmost {b}", "the {b} on the far left")),
    "right": (("the {b} on the right", "the right {b}", "the rightmost {b}"),
              ("the rightmost {b}", "the {b} on the far right")),
    "near": (("the {b} in front", "the nearer {b}", "the closest {b}", "the {b} closest to the camera"),
             ("the closest {b}", "the nearest {b}", "the {b} nearest to the camera", "the {b} closest to the camera")),
    "far": (("the {b} at the back", "the farther {b}", "the farthest {b}", "the {b} farthest from the camera"),
            ("the farthest {b}", "the furthest {b}", "the {b} farthest from the camera")),
}
_ORDINAL_TEMPLATES = ("the {o} {b} from the {side}", "the {o} {b} counting from the {side}")
_RELATION_WORDS = {"left_of": ("left of", "to the left of"), "right_of": ("right of", "to the right of"),
                   "behind": ("behind",), "in_front_of": ("in front of",), "next_to": ("next to", "beside")}


@dataclass(frozen=True)
class Margins:
    """How clearly a description must hold; the horizontal margin scales with the image width."""

    horizontal_px: float = 30.0  # between visible centroids, at 640 px image width
    image_width: int = 640
    depth_m: float = 0.05  # camera-frame z, for near/far and behind/in front of
    size_ratio: float = 1.25  # largest extent, for biggest/smallest
    next_to_ratio: float = 1.5  # "next to": the nearest object to the anchor vs the runner-up (3D centers)
    next_to_m: float = 0.25  # and at most this far from the anchor

    def gap(self, order: str) -> float:
        """How much smaller an object's key must be to clearly come before another in `order`."""
        if order in ("left", "right"):
            return self.horizontal_px * self.image_width / 640
        return self.depth_m if order in ("near", "far") else math.log(self.size_ratio)


@dataclass(frozen=True)
class Meaning:
    """Named objects of `category` and/or `color`, narrowed by a rank in `order` or by a `relation`."""

    category: str | None = None
    color: str | None = None
    order: str | None = None  # a key of _KEYS
    rank: int = 1  # with order: 1 = leftmost / nearest / biggest, 2 = second ...
    relation: str | None = None  # one of RELATIONS, to what `anchor` resolves to
    anchor: Meaning | None = None


def named_objects(objects: Iterable[SceneObject]) -> list[SceneObject]:
    """The objects a description can match: named, with some visible pixels."""
    return [o for o in objects if o.category != DISTRACTOR and o.visible_px > 0 and o.centroid_px is not None]


def _rank_fits(key: float, keys: list[float], gap: float, rank: int, clearly: bool) -> bool:
    """Whether an object with `key` among `keys` is surely (`clearly`) or possibly at `rank`: its rank lies
    between 1 + how many clearly come before it and len(keys) - how many clearly come after it."""
    first = 1 + sum(k <= key - gap for k in keys)
    last = len(keys) - sum(k >= key + gap for k in keys)
    return first == last == rank if clearly else first <= rank <= last


def _related(x: SceneObject, anchor: SceneObject, group: list[SceneObject], relation: str, margins: Margins,
             clearly: bool) -> bool:
    """Whether `relation` holds (clearly, or possibly) from `x` to `anchor`; "next to" ranks `group`."""
    if relation == "next_to":
        def dist(o: SceneObject) -> float:
            return max(math.dist(o.center_camera, anchor.center_camera), 1e-6)
        fits = _rank_fits(math.log(dist(x)), [math.log(dist(o)) for o in group],
                          math.log(margins.next_to_ratio), 1, clearly)
        return fits and (not clearly or dist(x) <= margins.next_to_m)
    order = _RELATION_ORDER[relation]
    key, gap = _KEYS[order], margins.gap(order)
    if not clearly:
        return key(x) - key(anchor) < gap
    dx = abs(x.center_camera[0] - anchor.center_camera[0])
    dz = abs(x.center_camera[2] - anchor.center_camera[2])
    sideways = order in ("near", "far") and dx > dz  # not "behind" the mug when far off to its side
    return key(anchor) - key(x) >= gap and not sideways


def resolve(meaning: Meaning, objects: list[SceneObject], margins: Margins = Margins(),
            clearly: bool = False) -> list[SceneObject]:
    """The objects a listener might pick for `meaning`; with `clearly`, those that fit it beyond the margins.

    A relation fits possibly if it possibly holds to some object its anchor resolves to, and clearly if it
    clearly holds to all of them.
    """
    base = [o for o in named_objects(objects)
            if meaning.category in (None, o.category) and meaning.color in (None, o.color)]
    if meaning.relation is not None:
        anchors = resolve(meaning.anchor, objects, margins)
        group = [o for o in base if all(o is not a for a in anchors)]
        quantifier = all if clearly else any
        return [o for o in group if anchors and quantifier(
            _related(o, a, group, meaning.relation, margins, clearly) for a in anchors)]
    if meaning.order is None:
        return base
    key, gap = _KEYS[meaning.order], margins.gap(meaning.order)
    keys = [key(o) for o in base]
    return [o for o, k in zip(base, keys) if _rank_fits(k, keys, gap, meaning.rank, clearly)]


def _options(target: SceneObject, objects: list[SceneObject], anchors: list[SceneObject],
             margins: Margins) -> dict[str, list[Meaning]]:
    """The unambiguous meanings for `target`, by kind (all but command)."""
    def refers(meaning: Meaning, obj: SceneObject) -> bool:
        return all([o.instance_id for o in resolve(meaning, objects, margins, clearly)] == [obj.instance_id]
                   for clearly in (False, True))

    c, color = target.category, target.color
    found: dict[str, list[Meaning]] = {kind: [] for kind in KINDS[:-1]}
    found["attribute"] = [Meaning(c), Meaning(c, color), Meaning(color=color)]
    for base in (Meaning(c), Meaning(c, color)):
        n = len(resolve(base, objects, margins))
        if n >= 2:
            found["size"] += [Meaning(c, base.color, order) for order in ("big", "small")]
            found["position"] += [Meaning(c, base.color, order) for order in ("left", "right", "near", "far")]
        if n >= 3:
            found["ordinal"] += [Meaning(c, base.color, side, k) for side in ("left", "right")
                                 for k in range(1, min(n, len(ORDINALS)) + 1)]
    anchor_meanings = [m for a in anchors if a is not target
                       for m in (Meaning(a.category), Meaning(a.category, a.color)) if refers(m, a)]
    found["relation"] = [Meaning(c, relation=r, anchor=m) for m in anchor_meanings for r in RELATIONS]
    return {kind: [m for m in meanings if refers(m, target)] for kind, meanings in found.items()}


def category_words(objects: list[SceneObject]) -> dict[str, tuple[str, ...]]:
    """Category words, without those another present category's word ends with ("block": "wooden block")."""
    present = {o.category for o in named_objects(objects)}
    return {c: tuple(w for w in words if not any(v.endswith(" " + w) for d in present - {c}
                                                 for v in CATEGORY_WORDS[d])) or words
            for c, words in CATEGORY_WORDS.items()}


def render_meaning(kind: str, meaning: Meaning, objects: list[SceneObject], words: dict[str, tuple[str, ...]],
                   rng: np.random.Generator) -> str:
    def pick(options: tuple[str, ...]) -> str:
        return options[int(rng.integers(len(options)))]

    m = meaning
    if m.category is None:
        return pick((f"the {m.color} one", f"the {m.color} object"))
    word = pick(words[m.category])
    b = f"{m.color} {word}" if m.color else word
    if kind == "attribute":
        return pick((f"the {b}", f"the {word} that is {m.color}")) if m.color else f"the {b}"
    if kind == "relation":
        anchor = render_meaning("attribute", m.anchor, objects, words, rng)
        return f"the {b} {pick(_RELATION_WORDS[m.relation])} {anchor}"
    if kind == "ordinal":
        return pick(_ORDINAL_TEMPLATES).format(o=ORDINALS[m.rank - 1], b=b, side=m.order)
    pair, more = _RANK_TEMPLATES[m.order]
    return pick(pair if len(resolve(Meaning(m.category, m.color), objects)) == 2 else more).format(b=b)


def generate_expressions(objects: list[SceneObject], rng: np.random.Generator, per_object: int = 3,
                         min_visible_px: int = 400, kinds: tuple[str, ...] = KINDS,
                         margins: Margins = Margins()) -> list[Expression]:
    """Up to `per_object` unambiguous expressions, of varied kinds, for each named object with at least
    `min_visible_px` visible pixels, in a shuffled order. Deterministic given `rng`'s state."""
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise LtsError(f"unknown expression kind {unknown[0]!r}; known: {', '.join(KINDS)}")
    targets = [o for o in named_objects(objects) if o.visible_px >= min_visible_px]
    words = category_words(objects)
    exprs: list[Expression] = []
    for target in targets:
        options = _options(target, objects, targets, margins)
        pool = {kind: [(kind, m) for m in options[kind]] for kind in kinds if kind != "command"}
        if "command" in kinds:
            pool["command"] = [(kind, m) for kind, meanings in options.items() for m in meanings]
        order = [str(k) for k in rng.permutation([k for k in pool if pool[k]])]
        unique_category = len([o for o in named_objects(objects) if o.category == target.category]) == 1
        # The rare kinds first, where the scene has them; a relation is redundant when the category is unique.
        order.sort(key=lambda k: (k not in OVERSAMPLED_KINDS, unique_category and k == "relation"))
        chosen: list[Expression] = []
        while len(chosen) < per_object and any(pool.values()):
            for kind in [k for k in order if pool[k]][:per_object - len(chosen)]:
                inner, meaning = pool[kind].pop(int(rng.integers(len(pool[kind]))))
                text = render_meaning(inner, meaning, objects, words, rng)
                if kind == "command":
                    text = f"{COMMANDS[int(rng.integers(len(COMMANDS)))]} {text}"
                chosen.append(Expression(text, (target.instance_id,), kind))
        exprs += chosen
    return [exprs[i] for i in rng.permutation(len(exprs))]


def expression_counts(exprs: Iterable[Expression]) -> dict[str, int]:
    """How many expressions there are of each kind (every kind listed)."""
    counts = Counter(e.kind for e in exprs)
    return {kind: counts[kind] for kind in KINDS}


def check_vocabulary(categories: Iterable[str] = (), colors: Iterable[str] = ()) -> None:
    """Raise LtsError for a category or color the generator does not know (e.g. from --categories)."""
    for what, values, known in (("category", categories, CATEGORIES), ("color", colors, COLORS)):
        for value in values:
            if value not in known:
                raise LtsError(f"unknown {what} {value!r}; known: {', '.join(known)}")
