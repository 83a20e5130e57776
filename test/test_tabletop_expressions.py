"""The tabletop referring-expression generator: every emitted expression names exactly its target.

The texts are checked through an independent parser of the generator's English (below), so a template
that says "left" for a rightmost meaning fails here, not only a wrong meaning.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from lts_ros.data.tabletop.expressions import (
    COMMANDS, KINDS, Margins, Meaning, check_vocabulary, expression_counts, generate_expressions, resolve)
from lts_ros.data.tabletop.scene import CATEGORIES, CATEGORY_WORDS, COLORS, DISTRACTOR, SceneObject
from lts_ros.errors import LtsError

# --- an independent parser: text -> (kind, Meaning, the group size its wording implies: 2, 3 (or more), 0: any) ---
_CAT = "|".join(sorted((re.escape(w) for ws in CATEGORY_WORDS.values() for w in ws), key=len, reverse=True))
_WORD = {w: c for c, ws in CATEGORY_WORDS.items() for w in ws}
_COL = "|".join(COLORS)
_B = rf"(?:(?P<color>{_COL}) )?(?P<cat>{_CAT})"
_ORDER_WORDS = {
    "biggest": "big", "largest": "big", "big": "big", "bigger": "big", "larger": "big",
    "smallest": "small", "tiniest": "small", "small": "small", "smaller": "small",
    "leftmost": "left", "left": "left", "rightmost": "right", "right": "right",
    "closest": "near", "nearest": "near", "nearer": "near", "farthest": "far", "furthest": "far", "farther": "far",
    "on the far left": "left", "on the left": "left", "on the far right": "right", "on the right": "right",
    "nearest to the camera": "near", "closest to the camera": "near", "in front": "near",
    "farthest from the camera": "far", "at the back": "far",
}
_PAIR_WORDS = {"big", "bigger", "larger", "small", "smaller", "left", "right", "on the left", "on the right",
               "in front", "at the back", "nearer", "farther"}
_RELATION_WORDS = {"left of": "left_of", "to the left of": "left_of", "right of": "right_of",
                   "to the right of": "right_of", "behind": "behind", "in front of": "in_front_of",
                   "next to": "next_to", "beside": "next_to"}
_ORD = ("first", "second", "third", "fourth", "fifth")
_PATTERNS = [
    ("attribute", rf"the (?P<color>{_COL}) (?:one|object)"),
    ("attribute", rf"the (?P<cat>{_CAT}) that is (?P<color>{_COL})"),
    ("attribute", rf"the {_B}"),
    ("size", rf"the (?P<pre>biggest|largest|big|bigger|larger|smallest|tiniest|small|smaller) {_B}"),
    ("position", rf"the (?P<pre>leftmost|left|rightmost|right|closest|nearest|nearer|farthest|furthest|farther) {_B}"),
    ("position", rf"the {_B} (?P<post>on the (?:far )?(?:left|right)|(?:nearest|closest) to the camera|in front"
                 r"|farthest from the camera|at the back)"),
    ("ordinal", rf"the (?P<ord>{'|'.join(_ORD)}) {_B} (?:counting )?from the (?P<side>left|right)"),
    ("relation", rf"the (?P<cat>{_CAT}) (?P<rel>{'|'.join(_RELATION_WORDS)}) (?P<anchor>the .+)"),
]


def parse(text: str) -> tuple[str, Meaning, int]:
    command = re.match(rf"({'|'.join(COMMANDS)}) (the .*)$", text)
    if command:
        _, meaning, group = parse(command.group(2))
        return "command", meaning, group
    matches = [(kind, m) for kind, pattern in _PATTERNS if (m := re.fullmatch(pattern, text))]
    assert len(matches) == 1, f"{text!r} parses {len(matches)} ways"
    kind, m = matches[0]
    g = m.groupdict()
    category = _WORD[g["cat"]] if g.get("cat") else None
    if kind == "attribute":
        return kind, Meaning(category, g["color"]), 0
    if kind == "relation":
        anchor_kind, anchor, _ = parse(g["anchor"])
        assert anchor_kind == "attribute" and anchor.category, text
        return kind, Meaning(category, relation=_RELATION_WORDS[g["rel"]], anchor=anchor), 0
    if kind == "ordinal":
        return kind, Meaning(category, g["color"], g["side"], _ORD.index(g["ord"]) + 1), 3
    words = g.get("pre") or g["post"]
    return kind, Meaning(category, g["color"], _ORDER_WORDS[words]), 2 if words in _PAIR_WORDS else (
        3 if "far " in words or words in ("largest", "tiniest", "nearest", "furthest") else 0)


# --- scenes ---
def obj(i: int, category: str, color: str | None, u: float, z: float = 0.8, size: float = 0.06,
        px: int = 2000, x: float | None = None) -> SceneObject:
    """An object at image column `u` (640 x 480, fx = 600) and depth `z`; x_cam follows from u unless given."""
    x = (u - 320) * z / 600 if x is None else x
    return SceneObject(i, category, color, size, (x, z, 0.65), (0, 0, 0, 1), (x, 0.1, z), px,
                       (u, 240.0) if px > 0 else None)


def random_scene(rng: np.random.Generator) -> list[SceneObject]:
    categories = rng.choice(CATEGORIES, size=int(rng.integers(1, 4)), replace=False)
    colors = rng.choice(COLORS, size=int(rng.integers(1, 4)), replace=False)
    objects = []
    for i in range(int(rng.integers(2, 9))):
        named = rng.random() > 0.15
        x, z = rng.uniform(-0.3, 0.3), rng.uniform(0.6, 1.1)
        px = int(rng.choice([0, 150, 800, 3000], p=[0.05, 0.1, 0.35, 0.5]))
        objects.append(obj(i, str(rng.choice(categories)) if named else DISTRACTOR,
                           str(rng.choice(colors)) if named else None, 320 + 600 * x / z, z,
                           float(rng.uniform(0.03, 0.12)), px, x))
    return objects


def _ids(objects):
    return [o.instance_id for o in objects]


def _by_target(objects, exprs):
    return {o.instance_id: [e for e in exprs if e.target == o.instance_id] for o in objects}


def _check(objects, exprs, margins=Margins()):
    """Every expression is well formed and resolves, possibly and clearly, to its target alone."""
    by_id = {o.instance_id: o for o in objects}
    for e in exprs:
        assert e.text == e.text.strip().lower() and "  " not in e.text and e.text[-1].isalpha(), e.text
        target = by_id[e.target]
        assert target.category != DISTRACTOR and target.visible_px >= 400
        kind, meaning, group = parse(e.text)
        assert kind == e.kind, e
        for clearly in (False, True):
            assert _ids(resolve(meaning, objects, margins, clearly)) == [e.target], (e, clearly)
        n = len(resolve(Meaning(meaning.category, meaning.color), objects))
        assert n == 2 if group == 2 else n >= group, e  # "the big ball" for two, "the far left" for more
    return exprs


def _all(objects, margins=Margins(), kinds=KINDS):
    """Every expression the generator can make (one text per meaning)."""
    exprs = generate_expressions(objects, np.random.default_rng(0), per_object=1000, kinds=kinds, margins=margins)
    return _check(objects, exprs, margins)


def _meanings(objects, exprs, kind=None):
    return {(parse(e.text)[1], e.target) for e in exprs if kind in (None, e.kind)}


BLOCKS = [obj(0, "block", "red", 100, size=0.05), obj(1, "block", "red", 300, size=0.07),
          obj(2, "block", "red", 500, size=0.10), obj(3, "duck", "blue", 420, z=0.95),
          obj(4, DISTRACTOR, None, 200, size=0.2, px=9000)]


def test_random_scenes_resolve_to_their_targets_and_cover_every_kind():
    rng = np.random.default_rng(0)
    exprs = []
    for _ in range(300):
        objects = random_scene(rng)
        exprs += _check(objects, generate_expressions(objects, rng))
    counts = expression_counts(exprs)
    print("kinds over 300 random scenes:", counts)
    assert list(counts) == list(KINDS) and sum(counts.values()) == len(exprs)
    assert all(n >= 0.04 * len(exprs) for n in counts.values()), counts


def test_three_blocks_ordinals_sizes_and_positions():
    exprs = _all(BLOCKS)
    meanings = _meanings(BLOCKS, exprs)
    left, middle, right = 0, 1, 2
    for wanted in [(Meaning("block", order="left", rank=2), middle), (Meaning("block", order="right", rank=2), middle),
                   (Meaning("block", order="left", rank=1), left), (Meaning("block", order="right", rank=3), left),
                   (Meaning("block", "red", "left", 3), right), (Meaning("block", order="big"), right),
                   (Meaning("block", order="small"), left), (Meaning("block", order="left"), left),
                   (Meaning("block", order="right"), right), (Meaning("duck"), 3), (Meaning(color="blue"), 3)]:
        assert wanted in meanings, wanted
    assert {e.target for e in exprs} == {0, 1, 2, 3}  # never the distractor
    # "the red one" is ambiguous (three red blocks); the distractor does not make "the duck" ambiguous.
    assert not any(m == Meaning(color="red") for m, _ in meanings)


def test_left_and_right_are_from_the_camera_view():
    balls = [obj(0, "ball", "green", 500, x=0.25), obj(1, "ball", "green", 100, x=-0.25)]
    assert _ids(resolve(Meaning("ball", order="left"), balls)) == [1]
    exprs = _all(balls)
    texts = {e.text: e.target for e in exprs}
    assert any(t.endswith("on the left") or t.startswith("the left") for t in texts)
    for text, target in texts.items():
        if re.search(r"\bleft", text):
            assert target == 1, text
        if re.search(r"\bright", text):
            assert target == 0, text


def test_objects_closer_than_the_margin_are_never_told_apart():
    mugs = [obj(0, "mug", "red", 300), obj(1, "mug", "red", 315), obj(2, "duck", "yellow", 500, z=0.9)]
    exprs = _all(mugs)
    assert not [e for e in exprs if e.target in (0, 1)]  # no "the left red mug", no "the mug left of the duck"
    mugs[1] = obj(1, "mug", "red", 400)  # 100 px apart now
    exprs = _all(mugs)
    assert (Meaning("mug", "red", "left"), 0) in _meanings(mugs, exprs)
    assert (Meaning("mug", order="right"), 1) in _meanings(mugs, exprs)
    # The margin scales with the image width: at 2560 px it is 120 px.
    assert not [e for e in _all(mugs, Margins(image_width=2560)) if e.kind in ("position", "ordinal")]


def test_size_needs_the_ratio_margin():
    blocks = [obj(0, "block", "red", 100, size=0.10), obj(1, "block", "red", 500, size=0.09)]
    assert not [e for e in _all(blocks) if e.kind == "size"]
    blocks[1] = obj(1, "block", "red", 500, size=0.075)
    sizes = _meanings(blocks, _all(blocks), "size")
    assert (Meaning("block", order="big"), 0) in sizes and (Meaning("block", order="small"), 1) in sizes


def test_depth_needs_the_depth_margin():
    ducks = [obj(0, "duck", "yellow", 200, z=0.80), obj(1, "duck", "yellow", 400, z=0.83)]
    assert not [m for m, _ in _meanings(ducks, _all(ducks)) if m.order in ("near", "far")]
    ducks[1] = obj(1, "duck", "yellow", 400, z=0.9)
    assert (Meaning("duck", order="near"), 0) in _meanings(ducks, _all(ducks))


def test_relations_need_a_unique_anchor():
    scene = [obj(0, "mug", "red", 150), obj(1, "mug", "red", 500), obj(2, "duck", "yellow", 320),
             obj(3, "ball", "blue", 320, z=0.65), obj(4, "ball", "blue", 330, z=1.0)]
    relations = _meanings(scene, _all(scene), "relation")
    duck = Meaning("duck")
    assert (Meaning("mug", relation="left_of", anchor=duck), 0) in relations
    assert (Meaning("mug", relation="right_of", anchor=duck), 1) in relations
    assert (Meaning("ball", relation="in_front_of", anchor=duck), 3) in relations
    assert (Meaning("ball", relation="behind", anchor=duck), 4) in relations
    # Two yellow ducks: "the duck" is no anchor, though "the mug left of" either duck would be the same mug.
    scene[1] = obj(1, "duck", "yellow", 600)
    relations = _meanings(scene, _all(scene), "relation")
    assert relations and not [m for m, _ in relations if m.anchor.category == "duck"]


def test_next_to_needs_a_clearly_nearest_object():
    scene = [obj(0, "duck", "yellow", 320, x=0.0), obj(1, "block", "red", 200, x=-0.08),
             obj(2, "block", "red", 600, x=0.3)]
    assert (Meaning("block", relation="next_to", anchor=Meaning("duck")), 1) in _meanings(scene, _all(scene))
    scene[2] = obj(2, "block", "red", 450, x=0.1)  # 0.08 vs 0.10 m from the duck: not clearly nearer
    assert not [m for m, _ in _meanings(scene, _all(scene)) if m.relation == "next_to" and m.category == "block"]


def test_hidden_and_barely_visible_objects():
    scene = [obj(0, "mug", "red", 100), obj(1, "mug", "red", 500, px=150), obj(2, "duck", "blue", 300, px=0)]
    exprs = _all(scene)
    assert {e.target for e in exprs} == {0}  # the barely visible mug and the hidden duck are never targets
    meanings = _meanings(scene, exprs)
    assert (Meaning("mug", "red"), 0) not in meanings  # the barely visible red mug still counts
    assert (Meaning("mug", order="left"), 0) in meanings
    assert not [m for m, _ in meanings if m.anchor and m.anchor.category == "duck"]  # nor an anchor
    scene[1] = obj(1, "mug", "red", 500, px=0)  # fully hidden: no longer counts
    assert (Meaning("mug"), 0) in _meanings(scene, _all(scene))


def test_distractors_are_never_referred_to_nor_matched():
    scene = [obj(0, DISTRACTOR, None, 100, px=5000), obj(1, "ring", "green", 400), obj(2, DISTRACTOR, None, 500)]
    exprs = _all(scene)
    assert {e.target for e in exprs} == {1}
    assert (Meaning(color="green"), 1) in _meanings(scene, exprs)


def test_block_word_is_avoided_next_to_a_jenga_block():
    scene = [obj(0, "block", "red", 100), obj(1, "jenga", "blue", 500)]
    texts = [e.text for e in _all(scene) if e.target == 0]
    assert texts and not [t for t in texts if re.search(r"(?<!jenga )(?<!wooden )\bblock\b", t)]


def test_kinds_are_varied_restricted_and_relations_prefer_ambiguous_categories():
    exprs = generate_expressions(BLOCKS, np.random.default_rng(3), per_object=3)
    for target, own in _by_target(BLOCKS, exprs).items():
        kinds = {e.kind for e in own}
        if target in (0, 2):  # the outer blocks: size, position, relation, ordinal, command
            assert len(own) == 3 and len(kinds) == 3, own
        if target == 1:  # the middle one is only "the second block from the left", or a command with it
            assert kinds == {"ordinal", "command"}, own
    only = generate_expressions(BLOCKS, np.random.default_rng(0), kinds=("command",))
    assert only and {e.kind for e in _check(BLOCKS, only)} == {"command"}
    for seed in range(30):  # the duck's category is unique: a relation would be redundant
        one = generate_expressions(BLOCKS, np.random.default_rng(seed), per_object=1)
        assert [e.kind for e in one if e.target == 3] != ["relation"]
    with pytest.raises(LtsError, match="unknown expression kind 'colour'"):
        generate_expressions(BLOCKS, np.random.default_rng(0), kinds=("colour",))


def test_deterministic_given_the_seed():
    scenes = [random_scene(np.random.default_rng(s)) for s in range(20)]
    run = [[e.to_dict() for e in generate_expressions(s, np.random.default_rng(7))] for s in scenes]
    assert run == [[e.to_dict() for e in generate_expressions(s, np.random.default_rng(7))] for s in scenes]
    assert run != [[e.to_dict() for e in generate_expressions(s, np.random.default_rng(8))] for s in scenes]


def test_check_vocabulary():
    check_vocabulary(["mug", "duck"], ["red"])
    with pytest.raises(LtsError, match=r"unknown category 'giraffe'; known: block, ball, mug"):
        check_vocabulary(["mug", "giraffe"], [])
    with pytest.raises(LtsError, match=r"unknown color 'magenta'; known: red, green"):
        check_vocabulary([], ["magenta"])
