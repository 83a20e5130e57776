"""Expressions that refer to no object or to several: what a robot must answer with "it is not there" or
"which one?" instead of a wrong target.

No target: a colour x category that no object has (the hardest: a present colour on another present category),
a category that is absent, or a relation that no object of the named category satisfies even loosely. Several
targets: a plural ("the mugs", "both red blocks") or a singular that fits more than one object ("the mug" with
two mugs on the table); their ground truth is the union of the objects. Resolution is the unique generator's
(`expressions.resolve`), so "no object" means no named, visible object fits even within the margins.
"""
from __future__ import annotations

import numpy as np

from lts_ros.data.tabletop.expressions import (
    COMMANDS, RELATIONS, Margins, Meaning, category_words, named_objects, render_meaning, resolve)
from lts_ros.data.tabletop.scene import CATEGORIES, COLORS, Expression, SceneObject

# Plural of every category word (scene.CATEGORY_WORDS).
PLURALS = {"block": "blocks", "cube": "cubes", "box": "boxes", "ball": "balls", "sphere": "spheres", "mug": "mugs",
           "cup": "cups", "duck": "ducks", "rubber duck": "rubber ducks", "teddy bear": "teddy bears",
           "teddy": "teddies", "bear": "bears", "ring": "rings", "torus": "tori", "donut": "donuts",
           "lego brick": "lego bricks", "lego": "legos", "brick": "bricks", "tray": "trays",
           "jenga block": "jenga blocks", "wooden block": "wooden blocks", "plank": "planks"}
COMMAND_SHARE = 0.3  # of target-set expressions phrased as a command ("grab the purple duck")


def _pick(rng: np.random.Generator, options: list | tuple):
    return options[int(rng.integers(len(options)))]


def _as_command(text: str, kind: str, rng: np.random.Generator) -> tuple[str, str]:
    if rng.random() < COMMAND_SHARE:
        return f"{_pick(rng, COMMANDS)} {text}", "command"
    return text, kind


def no_target_meanings(objects: list[SceneObject], margins: Margins = Margins()) -> dict[str, list[Meaning]]:
    """Meanings no object fits, by source: swapped (present colour, present category, never together), absent
    colour x category, absent category, relation."""
    named = named_objects(objects)
    categories, colors = {o.category for o in named}, {o.color for o in named}
    combos = {(o.color, o.category) for o in named}
    found: dict[str, list[Meaning]] = {
        "swapped": [Meaning(c, k) for c in sorted(categories) for k in sorted(colors) if (k, c) not in combos],
        "absent_color": [Meaning(c, k) for c in sorted(categories) for k in COLORS if k not in colors],
        "absent_category": [Meaning(c) for c in CATEGORIES if c not in categories],
        "relation": [],
    }
    for anchor in named:
        anchor_meaning = Meaning(anchor.category, anchor.color)
        if [o.instance_id for o in resolve(anchor_meaning, objects, margins)] != [anchor.instance_id]:
            continue
        for category in sorted(categories):
            found["relation"] += [Meaning(category, relation=r, anchor=anchor_meaning) for r in RELATIONS
                                  if resolve(Meaning(category), objects, margins)
                                  and not resolve(Meaning(category, relation=r, anchor=anchor_meaning), objects,
                                                  margins)]
    return {source: [m for m in meanings if not resolve(m, objects, margins)] for source, meanings in found.items()}


def no_target_expressions(objects: list[SceneObject], rng: np.random.Generator, count: int = 3,
                          margins: Margins = Margins(), sources: tuple[str, ...] | None = None) -> list[Expression]:
    """Up to ``count`` expressions that fit no object, each from a different source where possible (``sources``:
    only these of ``no_target_meanings``)."""
    words = category_words(objects)
    pools = {source: list(meanings) for source, meanings in no_target_meanings(objects, margins).items()
             if meanings and (sources is None or source in sources)}
    exprs: list[Expression] = []
    while len(exprs) < count and pools:
        for source in [str(s) for s in rng.permutation(list(pools))][:count - len(exprs)]:
            meaning = pools[source].pop(int(rng.integers(len(pools[source]))))
            if not pools[source]:
                del pools[source]
            kind = "relation" if meaning.relation else "attribute"
            text, kind = _as_command(render_meaning(kind, meaning, objects, words, rng), kind, rng)
            exprs.append(Expression(text, (), kind))
    return exprs


def several_target_expressions(objects: list[SceneObject], rng: np.random.Generator, count: int = 2,
                               margins: Margins = Margins()) -> list[Expression]:
    """Up to ``count`` expressions that fit two or more objects: plurals, or singulars that do not single one out."""
    words = category_words(objects)
    named = named_objects(objects)
    groups = {Meaning(c) for c in {o.category for o in named}} | {Meaning(o.category, o.color) for o in named}
    groups |= {Meaning(color=o.color) for o in named}
    candidates = sorted(((m, resolve(m, objects, margins)) for m in groups if len(resolve(m, objects, margins)) >= 2),
                        key=lambda item: (item[0].category or "", item[0].color or ""))
    exprs: list[Expression] = []
    for index in rng.permutation(len(candidates))[:count]:
        meaning, members = candidates[index]
        text = _group_text(meaning, len(members), words, rng)
        text, kind = _as_command(text, "attribute", rng)
        exprs.append(Expression(text, tuple(sorted(o.instance_id for o in members)), kind))
    return exprs


def _group_text(meaning: Meaning, size: int, words: dict[str, tuple[str, ...]], rng: np.random.Generator) -> str:
    if meaning.category is None:
        return _pick(rng, (f"the {meaning.color} ones", f"the {meaning.color} objects", f"the {meaning.color} one"))
    word = _pick(rng, words[meaning.category])
    color = f"{meaning.color} " if meaning.color else ""
    plural = PLURALS[word]
    options = [f"the {color}{plural}", f"all the {color}{plural}", f"the {color}{word}"]
    if size == 2:
        options.append(f"both {color}{plural}")
    return _pick(rng, options)


def target_set_expressions(objects: list[SceneObject], rng: np.random.Generator, no_target: int = 3,
                           several: int = 2, margins: Margins = Margins()) -> list[Expression]:
    """The no-target and several-target expressions of a scene (see the module docstring)."""
    return (no_target_expressions(objects, rng, no_target, margins)
            + several_target_expressions(objects, rng, several, margins))
