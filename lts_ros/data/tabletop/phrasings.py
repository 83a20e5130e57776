"""Phrasing families: the generator's meanings as people phrase them (docs/phrasing-families.md, written before the
command reader). Development families may be trained on; held-out families (``HELD_OUT``) never are: rendered
only into test roots, to measure the reader and the model on phrasings neither was built from.

Each family renders a meaning of ``expressions._options`` (or an exclusion: the target by what it is not) into
text, or returns None where it has no phrasing for that meaning. ``phrased_expressions`` gives a scene's
one-target expressions in the requested families.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lts_ros.data.tabletop.expressions import (ORDINALS, Margins, Meaning, _options, category_words, named_objects,
                                               render_meaning, resolve)
from lts_ros.data.tabletop.scene import Expression, SceneObject
from lts_ros.errors import LtsError

_RELATION_WORDS = {"left_of": "to the left of", "right_of": "to the right of", "behind": "behind",
                   "in_front_of": "in front of", "next_to": "next to"}
_SIDE_OF = {"left_of": "left", "right_of": "right"}
_NTH = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th"}


class _Say:
    """What a family may say about one meaning: the words for its object, set and anchor."""

    def __init__(self, kind: str, meaning: Meaning, objects: list[SceneObject], words: dict, rng: np.random.Generator,
                 excluded: tuple[str, ...] = ()):
        self.kind, self.m, self.rng, self.excluded = kind, meaning, rng, excluded
        word = self.pick(words[meaning.category]) if meaning.category else None
        self.B = word  # the category word alone
        self.b = f"{meaning.color} {word}" if meaning.color and word else (word or "")
        self.Bs = _plural(word) if word else ""
        self.n = len(resolve(Meaning(meaning.category, meaning.color), objects)) if meaning.category else 0
        self.generator = render_meaning(kind, meaning, objects, words, rng) if kind != "exclusion" else ""
        self.anchor = render_meaning("attribute", meaning.anchor, objects, words, rng) if meaning.anchor else ""

    def pick(self, options):
        options = [o for o in options if o is not None]
        return options[int(self.rng.integers(len(options)))] if options else None

    @property
    def middle(self) -> bool:
        return self.kind == "ordinal" and self.n % 2 == 1 and self.n >= 3 and self.m.rank == (self.n + 1) // 2

    @property
    def last(self) -> bool:
        return self.kind == "ordinal" and self.m.rank == self.n


def _plural(word: str) -> str:
    if word.endswith(("x", "s")):
        return word + "es"
    return word[:-1] + "ies" if word.endswith("y") and word[-2] not in "aeiou" else word + "s"


def _opposite(side: str) -> str:
    return "right" if side == "left" else "left"


# Development families ----------------------------------------------------------------------------------------

def _word_order(s: _Say) -> str | None:
    if s.kind != "ordinal":
        return None
    o, side = ORDINALS[s.m.rank - 1], s.m.order
    return s.pick((f"the {s.b} {o} from the {side}", f"{o} {s.b} from the {side}", f"the {o} {s.b} from {side}",
                   f"the {_NTH[s.m.rank]} {s.b} from the {side}"))


def _side_phrase(s: _Say) -> str | None:
    if s.kind != "position":
        return None
    side = s.m.order
    if side in ("left", "right"):
        return s.pick((f"the {s.b} on the {side} side", f"the {s.b} on the far {side}", f"the {side}-most {s.b}",
                       f"the {s.b} farthest {side}", f"{side}most {s.b}", f"the {s.b} furthest to the {side}"))
    return s.pick((f"the {s.b} nearest to me", f"the {s.b} at the front") if side == "near" else
                  (f"the {s.b} furthest away", f"the {s.b} in the back"))


def _first_last_middle(s: _Say) -> str | None:
    if s.kind != "ordinal":
        return None
    if s.middle:
        return s.pick((f"the {s.b} in the middle", f"the middle {s.b}"))
    if s.m.rank == 1:
        return f"the first {s.b} on the {s.m.order}"
    return f"the last {s.b} on the {_opposite(s.m.order)}" if s.last else None


def _of_the(s: _Say) -> str | None:
    if not s.B:
        return None
    if s.kind == "ordinal":
        return f"the {ORDINALS[s.m.rank - 1]} of the {s.Bs} from the {s.m.order}"
    if s.kind == "position" and s.m.order in ("left", "right") and not s.m.color:
        return f"the {s.m.order}most of the {s.Bs}"
    if s.kind == "attribute" and s.m.color and s.n == 1:
        return f"the {s.m.color} one of the {s.Bs}"
    return None


def _polite(s: _Say) -> str | None:
    if not s.generator:
        return None
    return s.pick((f"could you please hand me {s.generator}", f"I want {s.generator}", f"grab {s.generator}, thanks",
                   f"please get {s.generator} for me"))


def _relative_clause(s: _Say) -> str | None:
    if s.kind == "attribute" and s.m.color and s.B:
        return f"the {s.B} that is {s.m.color}"
    if s.kind == "relation":
        return f"the {s.b} {s.pick(('that is', 'which is'))} {_RELATION_WORDS[s.m.relation]} {s.anchor}"
    return None


def _correction(s: _Say) -> str | None:
    if s.kind != "exclusion":
        return None
    other = s.pick(s.excluded)
    return s.pick((f"not the {other} {s.B}, the {s.m.color} one", f"the {s.m.color} {s.B}, not the {other} one"))


def _negation(s: _Say) -> str | None:
    if s.kind != "exclusion":
        return None
    if len(s.excluded) == 2:
        return f"the {s.B} that is neither {s.excluded[0]} nor {s.excluded[1]}"
    return f"the {s.B} that is not {s.excluded[0]}"


def _case_punct(s: _Say) -> str | None:
    if not s.generator:
        return None
    words = s.generator.split()
    shouted = [w.upper() if i == len(words) - 2 else w for i, w in enumerate(words)]
    return s.pick((" ".join(shouted) + "!", s.generator.capitalize() + ".", s.generator + "?"))


# Held-out families (docs/phrasing-families.md, fixed 2026-12-06) ---------------------------------------------

def _ho_counting(s: _Say) -> str | None:
    if s.kind != "ordinal":
        return None
    o, side = ORDINALS[s.m.rank - 1], s.m.order
    return s.pick((f"counting from the {side}, the {o} {s.B}", f"the {s.B} that is {o} from the {side}",
                   f"the {o} one of the {s.Bs} from the {side}"))


def _ho_side_locative(s: _Say) -> str | None:
    if s.kind != "position" or s.m.order not in ("left", "right"):
        return None
    side = s.m.order
    return s.pick((f"the {s.b} at the {side} end", f"the {s.b} all the way on the {side}",
                   f"the {s.b} that is furthest {side}", f"the {s.b} at the far {side} end of the row"))


def _ho_request(s: _Say) -> str | None:
    if not s.generator or s.kind == "command":
        return None
    x = s.generator
    return s.pick((f"would you pass me {x}", f"I'd like {x} please", f"{x} please", f"go ahead and take {x}",
                   f"can I have {x}?", f"fetch {x}"))


def _ho_exclusion(s: _Say) -> str | None:
    if s.kind != "exclusion":
        return None
    if len(s.excluded) == 2:
        c1, c2 = s.excluded
        return s.pick((f"any {s.B} except the {c1} and the {c2} ones", f"the {s.B} which isn't {c1} or {c2}"))
    c1 = s.excluded[0]
    return s.pick((f"the {s.m.color} {s.B}, not the {c1} one", f"the {s.B} but not the {c1} one"))


def _ho_relation(s: _Say) -> str | None:
    if s.kind != "relation":
        return None
    r, a = s.m.relation, s.anchor
    options = [f"the {s.b} that's beside {a}" if r == "next_to" else None,
               f"the {s.b} placed behind {a}" if r == "behind" else None,
               f"the {s.b} just in front of {a}" if r == "in_front_of" else None]
    if r in _SIDE_OF:
        options += [f"the {s.b} sitting to the {_SIDE_OF[r]} of {a}", f"the {s.b} on the {_SIDE_OF[r]} side of {a}"]
    return s.pick(options)


def _ho_middle(s: _Say) -> str | None:
    if not s.middle or s.n != 3:
        return None
    return s.pick((f"the centre {s.B}", f"the {s.B} in the center", f"the {s.B} between the other two"))


def _ho_size(s: _Say) -> str | None:
    if s.kind != "size" or s.m.color:
        return None
    if s.m.order == "big":
        return s.pick((f"the {s.B} that is biggest", f"the largest one of the {s.Bs}"))
    return s.pick((f"the {s.B} that is the smallest", f"the tinier of the two {s.Bs}" if s.n == 2 else None))


Family = Callable[[_Say], "str | None"]
DEVELOPMENT: dict[str, Family] = {
    "word_order": _word_order, "side_phrase": _side_phrase, "first_last_middle": _first_last_middle,
    "of_the": _of_the, "polite": _polite, "relative_clause": _relative_clause, "correction": _correction,
    "negation": _negation, "case_punct": _case_punct}
HELD_OUT: dict[str, Family] = {
    "ho_counting": _ho_counting, "ho_side_locative": _ho_side_locative, "ho_request": _ho_request,
    "ho_exclusion": _ho_exclusion, "ho_relation": _ho_relation, "ho_middle": _ho_middle, "ho_size": _ho_size}
FAMILIES = {**DEVELOPMENT, **HELD_OUT}


def check_families(names) -> tuple[str, ...]:
    """``names`` checked against the families; "development" / "held_out" / "all" name groups."""
    groups = {"development": tuple(DEVELOPMENT), "held_out": tuple(HELD_OUT), "all": tuple(FAMILIES)}
    out: list[str] = []
    for name in names:
        if name not in groups and name not in FAMILIES:
            raise LtsError(f"unknown phrasing family {name!r}; known: {', '.join([*groups, *FAMILIES])}")
        out += groups.get(name, (name,))
    return tuple(dict.fromkeys(out))


def _exclusions(target: SceneObject, objects: list[SceneObject]) -> tuple[str, ...] | None:
    """The colours of the target's category mates, where excluding them leaves the target: all differ from its
    colour, and the mates are one or two."""
    mates = [o for o in named_objects(objects) if o.category == target.category and o is not target]
    colors = tuple(dict.fromkeys(o.color for o in mates))
    if not 1 <= len(mates) <= 2 or len(colors) != len(mates) or target.color in colors:
        return None
    return colors


def phrased_expressions(objects: list[SceneObject], rng: np.random.Generator, families: tuple[str, ...],
                        per_family: int = 2, min_visible_px: int = 400, margins: Margins = Margins()
                        ) -> list[Expression]:
    """Up to ``per_family`` one-target expressions per target and family (each a different meaning where the
    scene has them), from the meanings the generator finds unambiguous and the exclusions that leave one."""
    targets = [o for o in named_objects(objects) if o.visible_px >= min_visible_px]
    words = category_words(objects)
    out: list[Expression] = []
    for target in targets:
        meanings = [(kind, m, ()) for kind, ms in _options(target, objects, targets, margins).items() for m in ms]
        excluded = _exclusions(target, objects)
        if excluded:
            meanings.append(("exclusion", Meaning(target.category, target.color), excluded))
        for family in families:
            texts: dict[str, str] = {}
            for index in rng.permutation(len(meanings)):
                kind, meaning, exclusion = meanings[int(index)]
                text = FAMILIES[family](_Say(kind, meaning, objects, words, rng, exclusion))
                if text and kind not in texts:
                    texts[kind] = text
                if len(texts) == per_family:
                    break
            out += [Expression(text, (target.instance_id,), kind, family) for kind, text in texts.items()]
    return out
