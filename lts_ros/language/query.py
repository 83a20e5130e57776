"""What a command asks for, as a structure the runtime executes: the object's description (what the model
segments), a selection among the objects that fit it (a rank in an order, or the middle one), a relation to an
anchor (itself a query), descriptions it excludes, or a refusal: why the command is answered "which one?" without
a guess (a word the reader could not account for, several objects asked for, no side to count from)."""
from __future__ import annotations

from dataclasses import dataclass, replace

LEFT, RIGHT, NEAR, FAR, BIG, SMALL = "left", "right", "near", "far", "big", "small"
ORDERS = (LEFT, RIGHT, NEAR, FAR, BIG, SMALL)
OPPOSITE = {LEFT: RIGHT, RIGHT: LEFT, NEAR: FAR, FAR: NEAR, BIG: SMALL, SMALL: BIG}
LEFT_OF, RIGHT_OF, BEHIND, IN_FRONT_OF, NEXT_TO = "left_of", "right_of", "behind", "in_front_of", "next_to"
RELATIONS = (LEFT_OF, RIGHT_OF, BEHIND, IN_FRONT_OF, NEXT_TO)
# The relation words the tabletop generator (and so the model) knows best, for the text the model reads.
RELATION_TEXT = {LEFT_OF: "left of", RIGHT_OF: "right of", BEHIND: "behind", IN_FRONT_OF: "in front of",
                 NEXT_TO: "next to"}
ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def nth(rank: int) -> str:
    """1 -> "1st", 2 -> "2nd", 11 -> "11th"."""
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix}"


@dataclass(frozen=True)
class Description:
    """An object by its words: ``noun`` (a category word as said, e.g. "cube"; None for "the red one") and the
    other words that describe it (colours, and words the reader does not know but that select nothing)."""

    noun: str | None = None
    attributes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self.noun is None and not self.attributes

    def text(self) -> str:
        """The phrase the model segments: "the red mug", "the red one"."""
        return " ".join(("the", *self.attributes, self.noun or "one"))

    def with_noun(self, noun: str | None) -> "Description":
        """This description, naming ``noun`` where it names none."""
        return self if self.noun is not None or noun is None else replace(self, noun=noun)

    def brief(self) -> str:
        return " ".join((*self.attributes, self.noun or "one"))


@dataclass(frozen=True)
class Selection:
    """The member of the described set: the ``rank``-th (1 = first) in ``order``, or with ``middle`` the one in
    the middle of the set in ``order`` (an odd number of members)."""

    order: str
    rank: int = 1
    middle: bool = False

    def describe(self) -> str:
        if self.middle:
            return "middle from left" if self.order in (LEFT, RIGHT) else f"middle by {self.order}"
        if self.order in (LEFT, RIGHT):
            return f"{nth(self.rank)} from {self.order}"
        word = {NEAR: "nearest", FAR: "farthest", BIG: "biggest", SMALL: "smallest"}[self.order]
        return word if self.rank == 1 else f"{nth(self.rank)} {word}"

    def text(self, description: Description) -> str:
        """The generator's phrasing of this selection of ``description``: "the second mug from the left"."""
        b = description.brief()
        if self.middle:
            return f"the {b} in the middle"
        if self.order in (LEFT, RIGHT):
            if self.rank == 1:
                return f"the {self.order}most {b}"
            return f"the {ORDINAL_WORDS[self.rank - 1]} {b} from the {self.order}"
        word = {NEAR: "closest", FAR: "farthest", BIG: "biggest", SMALL: "smallest"}[self.order]
        return f"the {word} {b}" if self.rank == 1 else f"the {ORDINAL_WORDS[self.rank - 1]} {word} {b}"


@dataclass(frozen=True)
class Relation:
    """The object stands in ``kind`` (one of RELATIONS) to the object ``anchor`` names."""

    kind: str
    anchor: "Query"


@dataclass(frozen=True)
class Query:
    """A command as the runtime executes it (see the module docstring). ``refusal``: why it is answered
    "which one?" however the frame looks ("" when it is read)."""

    description: Description = Description()
    selection: Selection | None = None
    relation: Relation | None = None
    exclusions: tuple[Description, ...] = ()
    refusal: str = ""
    verbatim: str = ""  # the model reads this text whole and alone (the reader switched off)

    @property
    def understood(self) -> bool:
        return not self.refusal

    def model_text(self) -> str:
        """What the model segments first: the description as the set (a selection or exclusions pick the member
        among its objects), or a relation whole in the words the model knows."""
        if self.verbatim:
            return self.verbatim
        if self.relation is not None:
            return f"{self.description.text()} {RELATION_TEXT[self.relation.kind]} {self.relation.anchor.phrase()}"
        return self.description.text()

    def phrase(self) -> str:
        """The whole query in the generator's words (an anchor inside a relation): "the leftmost mug"."""
        if self.selection is not None:
            return self.selection.text(self.description)
        return self.model_text()

    def describe(self) -> str:
        """How the command was read, in one line: "mug | 2nd from left", "block | not red",
        "cup | left of: duck", "did not understand: 'between the other two'"."""
        if self.refusal:
            return self.refusal
        if self.verbatim:
            return f'"{self.verbatim}" (whole, by the model alone)'
        parts = [self.description.brief()]
        if self.selection is not None:
            parts.append(self.selection.describe())
        if self.relation is not None:
            parts.append(f"{RELATION_TEXT[self.relation.kind]}: {self.relation.anchor.describe()}")
        if self.exclusions:
            parts.append("not " + ", not ".join(e.brief() for e in self.exclusions))
        return " | ".join(parts)
