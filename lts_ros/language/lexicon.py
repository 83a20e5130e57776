"""The reader's words, by class: how commands are normalized into tokens, the closed classes of words that pick
an object among others (sides, ordinals, sizes, negation, quantities, places), the fillers people put around a
command, and the object words the tabletop world names. Open-class words (an unknown adjective or noun) are not
listed: they describe the object and go to the model. A word that selects but is not read is caught by
``selects``, which knows the closed classes and their morphology (superlatives in -est and -most)."""
from __future__ import annotations

import re

from lts_ros.data.tabletop.scene import CATEGORY_WORDS, COLORS
from lts_ros.language.query import BIG, FAR, LEFT, NEAR, ORDINAL_WORDS, RIGHT, SMALL

ARTICLES = frozenset({"the", "a", "an", "any", "some", "whatever", "whichever"})
PRONOUN_NOUNS = frozenset({"one", "ones", "object", "objects", "thing", "things", "item", "items", "toy", "toys"})
# Words of a relative clause or a copula that carry no meaning of their own ("the duck that is purple").
CLAUSE_WORDS = frozenset({"that", "which", "who", "is", "are", "was", "being", "colored", "coloured",
                          "sitting", "standing", "lying", "placed", "located", "positioned", "situated", "resting",
                          "sits", "stands", "lies", "kept", "set", "put", "you", "see", "can", "whose", "color", "has",
                          "comes", "appears", "seems", "looks", "be"})
SURFACES = frozenset({"table", "desk", "tabletop", "counter", "surface", "workspace", "bench", "floor"})
COLOR_WORDS = frozenset(COLORS) | {"gray", "brown", "pink", "cyan", "magenta", "beige", "gold", "silver", "violet"}
# Multi-word and single category words, longest first, with the plural people say ("teddies", "boxes").
NOUNS = tuple(sorted({w for words in CATEGORY_WORDS.values() for w in words}, key=lambda w: (-len(w.split()), w)))
CATEGORY_OF = {word: category for category, words in CATEGORY_WORDS.items() for word in words}

# Requests and politeness around the object's phrase: stripped from its start and its end.
REQUEST_WORDS = frozenset({
    "please", "pls", "kindly", "could", "can", "would", "will", "you", "u", "i", "we", "want", "need", "like", "me",
    "us", "love", "give", "hand", "pass", "bring", "get", "grab", "take", "pick", "up", "fetch", "show", "point", "at",
    "to", "find", "select", "choose", "locate", "segment", "look", "go", "ahead", "and", "now", "ok", "okay", "hey",
    "robot", "just", "have", "mind", "passing", "handing", "over", "lift", "move", "hold", "touch", "retrieve",
    "collect", "lets", "let", "try", "grasp", "reach", "for", "then", "so", "well", "do", "there", "is", "where",
    "highlight", "mark", "identify", "uh", "uhh", "um", "umm", "erm", "er", "hmm", "hm"})
TRAILING_PHRASES = tuple(tuple(p.split()) for p in sorted((
    "please", "thanks", "thank you", "thank you very much", "thx", "now", "for me", "for us", "quickly", "asap",
    "if you can", "if you could", "if possible", "right now", "ok", "okay", "up", "over", "will you", "would you",
    "could you", "can you", "there", "here", "please and thank you", "cheers"), key=len, reverse=True))

# Sides and orders. A direction word names the order it ranks first in.
DIRECTIONS = {"left": LEFT, "leftmost": LEFT, "right": RIGHT, "rightmost": RIGHT, "front": NEAR, "frontmost": NEAR,
              "foremost": NEAR, "back": FAR, "rear": FAR, "backmost": FAR, "rearmost": FAR, "hindmost": FAR}
SIDE_WORDS = {"left": LEFT, "right": RIGHT, "front": NEAR, "back": FAR}  # what "from the ..." counts from
ORDER_ADJECTIVES = {
    "nearest": NEAR, "closest": NEAR, "nearer": NEAR, "closer": NEAR, "near": NEAR, "close": NEAR,
    "farthest": FAR, "farther": FAR, "far": FAR, "distant": FAR,
    "biggest": BIG, "largest": BIG, "bigger": BIG, "larger": BIG, "big": BIG, "large": BIG, "huge": BIG,
    "greatest": BIG, "giant": BIG,
    "smallest": SMALL, "smaller": SMALL, "small": SMALL, "tiniest": SMALL, "tinier": SMALL, "tiny": SMALL,
    "little": SMALL, "littlest": SMALL}
ORDINALS = {word: rank for rank, word in enumerate(ORDINAL_WORDS, 1)} | \
    {f"{n}{s}": n for n, s in ((1, "st"), (2, "nd"), (3, "rd"), (4, "th"), (5, "th"), (6, "th"), (7, "th"),
                              (8, "th"), (9, "th"), (10, "th"))}
CARDINALS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
             "ten": 10} | {str(n): n for n in range(1, 11)}
LAST_WORDS = frozenset({"last", "final"})
MIDDLE_WORDS = frozenset({"middle", "center", "central", "midmost", "centered"})
# Glue that belongs to a side or rank phrase when next to one ("on the far left side", "all the way to the right").
SIDE_GLUE = frozenset({"on", "at", "to", "the", "in", "far", "very", "most", "all", "way", "over", "extreme", "dead",
                       "smack", "exactly", "precisely", "squarely",
                       "end", "side", "hand", "edge", "of", "row", "line", "farthest", "furthest", "from", "counting",
                       "starting", "toward", "towards", "that", "is", "which", "position", "place", "spot"})
INTENSIFIERS = frozenset({"just", "directly", "right", "immediately", "straight", "closely", "exactly"})

NEGATIONS = frozenset({"not", "no", "neither", "nor", "except", "excluding", "without", "non", "other", "others",
                       "else", "another", "instead", "rather", "besides", "apart", "but", "different", "never"})
QUANTITIES = frozenset({"all", "both", "every", "each", "several", "many", "few", "pair", "couple", "those",
                        "these", "them", "they", "and", "or"} | set(CARDINALS) - {"one"})
DEIXIS = frozenset({"this", "that", "it", "there", "here", "same", "previous", "again", "earlier", "before",
                    "after", "then", "other"})
# Whose side or object: the speaker's left is the camera's right when they face it ("the ball on my left").
POSSESSIVES = frozenset({"my", "your", "our", "his", "her", "their", "mine", "yours"})
PLACES = frozenset({"top", "bottom", "above", "below", "under", "underneath", "over", "on", "in", "inside",
                    "within", "beneath", "atop", "upper", "lower", "up", "down", "high", "higher", "highest", "low",
                    "lowest", "tall", "taller", "tallest", "short", "shorter", "shortest", "edge", "corner", "end",
                    "side", "opposite", "across", "facing", "against", "around", "beyond", "past", "ahead",
                    "toward", "towards", "near", "by", "beside", "next", "adjacent", "alongside", "between",
                    "among", "amongst", "behind", "row", "line", "order", "position", "number", "count", "counting",
                    "from", "with", "holding", "outside", "into", "onto", "of", "away", "closer", "further",
                    "nearby", "off", "out"})
MIDDLE_SIZES = frozenset({"medium", "mid", "average", "intermediate"})  # "the medium cube": not read
# An object picked by its neighbours or by what the others are not: "the lone duck", "the remaining cube", "the mug
# by itself". Not read: which one is alone depends on what the speaker groups together.
ISOLATION = frozenset({"lone", "alone", "single", "solitary", "isolated", "remaining", "leftover", "rest", "itself",
                       "themselves", "separate", "odd", "only", "stacked", "piled"})
COMPASS = frozenset({"north", "south", "east", "west", "northern", "southern", "eastern", "western"})
SELECTING = (frozenset(DIRECTIONS) | frozenset(ORDER_ADJECTIVES) | frozenset(ORDINALS) | LAST_WORDS | MIDDLE_WORDS
             | NEGATIONS | QUANTITIES | DEIXIS | POSSESSIVES | MIDDLE_SIZES | ISOLATION | PLACES | COMPASS
             | {"penultimate", "centre", "most", "least", "more", "less", "which", "either", "to", "than"})
MODALS = frozenset({"would", "could", "can", "will", "wouldja", "couldja"})  # "..., would ya": a request's tail
# Clause openers that restart or correct a command ("wait, the red cube", "sorry, I meant the red one").
RESTARTS = frozenset({"and", "but", "so", "no", "nope", "sorry", "oops", "i", "mean", "meant", "wait", "actually",
                      "oh", "ah", "correction"})

# Words that order a dialogue, not the objects, when a clause is nothing else ("next, the red cube"; "then" and
# "now" are requests, stripped anyway).
SEQUENCE_WORDS = frozenset({"next", "finally", "first", "lastly"})

_SPELLING = {"centre": "center", "grey": "gray", "colour": "color", "coloured": "colored", "furthest": "farthest",
             "further": "farther", "lefthand": "left", "righthand": "right"}
_CONTRACTIONS = ((r"n't\b", " not"), (r"\b(that|it|there|what|which|who|here|where)'s\b", r"\1 is"),
                 (r"'d\b", " would"), (r"'ll\b", " will"), (r"'re\b", " are"), (r"'m\b", " am"),
                 (r"\blet's\b", "let us"), (r"(?<=[a-z])'s\b", " 's"))


def tokenize(command: str) -> list[str]:
    """Lower-case words of ``command``, contractions expanded ("isn't" -> "is not", possessive "'s" kept as a
    token), hyphens opened ("left-most" -> "leftmost", "second-to-last" -> "second to last"), British and
    variant spellings unified, and "," kept as a token where a clause ends."""
    text = command.lower().replace("\u2019", "'").replace("\u2018", "'")
    for pattern, replacement in _CONTRACTIONS:
        text = re.sub(pattern, replacement, text)
    text = re.sub(r"\b(left|right|front|back|rear|fore|hind)[- ]most\b", r"\1most", text)
    text = re.sub(r"\b(left|right)[- ]hand\b", r"\1", text)
    text = re.sub(r"\bup front\b", "in front", text)
    text = re.sub(r"(?<=[a-z0-9])-(?=[a-z0-9])", " ", text)
    text = re.sub(r"[,;:]+", " , ", text)
    text = re.sub(r"[^a-z0-9' ,]+", " ", text)
    text = re.sub(r"'(?!s\b)", "", text)  # stray quotes; the possessive "'s" stays a token
    return [w for word in text.split() for w in _SPELLING.get(word, word).split()]


def selects(word: str) -> bool:
    """Whether ``word`` can change which object is meant (a side, rank, size, place, negation, quantity, or a
    superlative or direction the reader does not know: "tallest", "uppermost", "leftward", "western")."""
    return word in SELECTING or word.endswith(("most", "ward", "wards")) \
        or (len(word) > 5 and word.endswith("est") and word not in COLOR_WORDS) or word.isdigit()


def singular(word: str) -> str | None:
    """The category word a plural names ("cubes" -> "cube", "boxes" -> "box"), else None."""
    for ending, replacement in (("ies", "y"), ("es", ""), ("s", "")):
        if word.endswith(ending) and word[:-len(ending)] + replacement in _SINGLE_NOUNS:
            return word[:-len(ending)] + replacement
    return None


_SINGLE_NOUNS = frozenset(w.split()[-1] for w in NOUNS)
