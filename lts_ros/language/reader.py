"""Command text -> ``Query``, by word class rather than by template.

The reader strips what people put around a command ("could you please hand me ...", "..., thanks"), splits off
what it excludes ("not the red block, the green one"; "the duck that is neither white nor black"), finds a
relation to an anchor ("... to the left of the duck", "... on the duck's left"), and collects the cues of a
selection wherever they stand ("the second cube from the left", "second from left, the cube", "the cube that is
second from the left"): a rank, a counting side or a place, an order word, "last", "middle". What is left is
the description: colours, category words (the user's own), and open-class words that select nothing.

Every word that can change which object is meant must be accounted for: one the reader could not place (a
relation it does not execute, "the other", "tallest", "between the mug and ...", a plural) makes the query a
refusal with the words it could not read, which the runtime answers "which one?" instead of guessing.
"""
from __future__ import annotations

import re

from lts_ros.language.lexicon import (ARTICLES, CARDINALS, CATEGORY_OF, CLAUSE_WORDS, COLOR_WORDS, DIRECTIONS,
                                      INTENSIFIERS, LAST_WORDS, MIDDLE_WORDS, MODALS, NOUNS, ORDER_ADJECTIVES, ORDINALS,
                                      PRONOUN_NOUNS, QUANTITIES, REQUEST_WORDS, RESTARTS, SEQUENCE_WORDS, SIDE_GLUE,
                                      SIDE_WORDS, SURFACES, TRAILING_PHRASES, selects, singular, tokenize)
from lts_ros.language.query import (BEHIND, FAR, IN_FRONT_OF, LEFT, LEFT_OF, NEAR, NEXT_TO, OPPOSITE, RIGHT,
                                    RIGHT_OF, Description, Query, Relation, Selection)


class Unread(Exception):
    """The command cannot be read without a guess; the message is the refusal's reason."""


def read_command(command: str) -> Query:
    """How ``command`` is read (see the module docstring); a refusal where it cannot be read for sure."""
    try:
        return _read(tokenize(command))
    except Unread as exc:
        return Query(refusal=str(exc))


def _read(tokens: list[str]) -> Query:
    positive, excluded = _split_exclusions(tokens)
    if excluded:
        positive = _without_the_other(positive)
    if not positive and not excluded:
        raise Unread("did not understand: no object named")
    query = _read_phrase(positive, allow_relation=True) if positive else Query()
    exclusions = tuple(_read_description(item) for item in excluded)
    if not exclusions:
        return _named(query)
    if query.relation is not None:
        raise Unread("did not understand: a relation together with an exclusion")
    nouns = [e.noun for e in exclusions if e.noun is not None]
    description = query.description.with_noun(nouns[0] if nouns else None)
    exclusions = tuple(e.with_noun(description.noun) for e in exclusions)
    return _named(Query(description, query.selection, None, exclusions))


def _without_the_other(words: list[str]) -> list[str]:
    """The positive phrase of a command that excludes something, "the other" in it dropped: "not the red block,
    the other one" is the block that is not red; that this leaves one object is the runtime's to check."""
    for i, word in enumerate(words):
        if word == "other" and (i == 0 or words[i - 1] in ARTICLES) and words[i + 1:] \
                and not any(selects(w) for w in words[i + 1:]):  # "the other one", "the other coffee cup"
            return words[:i] + words[i + 1:]
    return words


def _named(query: Query) -> Query:
    if query.description.empty:
        raise Unread("did not understand: no object named (which kind of object?)")
    return query


# Requests, politeness and clauses --------------------------------------------------------------------------

def _strip_request(clause: list[str]) -> list[str]:
    """``clause`` without the request before the object's phrase and the politeness after it. Words before the
    first article that select nothing are a request too ("yank the mug": an unknown verb)."""
    words = list(clause)
    while words and words[0] in REQUEST_WORDS:
        words.pop(0)
    articles = [i for i, w in enumerate(words) if w in ("the", "a", "an")]
    if articles and articles[0] > 0 and not any(selects(w) or w in COLOR_WORDS or _noun_at(words, i)
                                                for i, w in enumerate(words[:articles[0]])):
        words = words[articles[0]:]
    stripped = True
    while stripped and words:
        stripped = False
        for phrase in TRAILING_PHRASES:
            if phrase == ("right", "now") and len(words) > 2 and words[-3] in SIDE_GLUE:
                continue  # "the box on the far right now": the side stays, "now" goes
            if len(words) > len(phrase) - 1 and tuple(words[-len(phrase):]) == phrase:
                words, stripped = words[:-len(phrase)], True
                break
        if len(words) > 2 and words[-2] in MODALS and not selects(words[-1]):  # "..., would ya"
            words, stripped = words[:-2], True
    for i in range(len(words) - 1):  # "for me" anywhere: "pick up the second duck for me from the left"
        if words[i] == "for" and words[i + 1] in ("me", "us"):
            words = words[:i] + words[i + 2:]
            break
    if "if" in words:  # a condition that names nothing: "the blue mug, if you see one"
        i = words.index("if")
        if not any(_noun_at(words, j) or words[j] in COLOR_WORDS or selects(words[j]) for j in range(i + 1, len(words))):
            return words[:i]
    return words


_CLAUSE_NEGATIONS = (("not",), ("except", "for"), ("except",), ("excluding",), ("other", "than"),
                     ("rather", "than"), ("instead", "of"), ("apart", "from"), ("never",), ("neither",))
_INLINE_NEGATIONS = tuple((*lead, *marker) for marker in (("not",), ("neither",))
                          for lead in (("that", "is"), ("which", "is"), ("that", "are"), ("is",), ("but",),
                                       ("and",), ())) + _CLAUSE_NEGATIONS[1:-2]


def _split_exclusions(tokens: list[str]) -> tuple[list[str], list[list[str]]]:
    """The positive phrase (its clauses joined) and the items excluded, each a list of words."""
    positive: list[str] = []
    excluded: list[list[str]] = []
    clauses = " ".join(tokens).split(",")
    for clause in (c.split() for c in clauses):
        while clause and clause[0] in RESTARTS:
            clause = clause[1:]
        if len(clause) == 1 and clause[0] in SEQUENCE_WORDS:  # "next, the red cube"
            continue
        clause = _strip_request(clause)
        if not clause:
            continue
        marker = _negation_at(clause, 0, _CLAUSE_NEGATIONS)
        if marker:
            excluded += [_strip_request(item) for item in _items(clause[marker:])]
            continue
        for i in range(1, len(clause)):
            marker = _negation_at(clause, i, _INLINE_NEGATIONS)
            if marker:
                excluded += [_strip_request(item) for item in _items(clause[i + marker:])]
                clause = clause[:i]
                break
        while "non" in clause[:-1]:  # "the non-red block"
            i = clause.index("non")
            excluded.append([clause[i + 1]])
            clause = clause[:i] + clause[i + 2:]
        positive += clause
    return positive, excluded


def _negation_at(words: list[str], i: int, markers: tuple[tuple[str, ...], ...]) -> int:
    """The length of the negation marker at ``words[i]`` (0: none)."""
    for marker in sorted(markers, key=len, reverse=True):
        if tuple(words[i:i + len(marker)]) == marker and i + len(marker) < len(words):
            return len(marker)
    return 0


def _items(words: list[str]) -> list[list[str]]:
    """Excluded items: "white nor black", "the white and the black ones" -> [["white"], ["black"]]."""
    items, current = [], []
    for word in words:
        if word in ("nor", "or", "and"):
            items.append(current)
            current = []
        elif word not in ("neither", "either") and not (word == "not" and not current):  # "not A and not B"
            current.append(word)
    return [item for item in [*items, current] if item]


# Relations -------------------------------------------------------------------------------------------------

# Who sees the objects: not an anchor ("the ball closest to you"), the reference of a near / far order.
_VIEWERS = (("the", "camera"), ("the", "robot"), ("the", "viewer"), ("me",), ("you",), ("us",))
_VIEWER = {" ".join(v) for v in _VIEWERS} | {v[-1] for v in _VIEWERS}
_RELATION_RE = re.compile(
    r"(?:^| )(?:(?:" + "|".join(INTENSIFIERS) + r") )?(?P<words>"
    r"(?:(?:to|on|at) the )?(?P<side>left|right)(?: side)? of|(?:in|at the|to the) back of|back of|behind"
    r"|(?:in|at the|to the) front of|ahead of|next to|beside|by the side of|at the side of|alongside|adjacent to"
    r"|close to|near to|near|by|(?:nearest|closest) to|nearest|closest)"
    r" (?P<anchor>\S.*)$")
_POSSESSIVE_RE = re.compile(r"(?:^| )(?:on|to|at) (?P<anchor>\S.*?) 's (?P<side>left|right)(?: side)?$")
_KIND_OF = {"behind": BEHIND, "back": BEHIND, "front": IN_FRONT_OF, "ahead": IN_FRONT_OF}


def _find_relation(tokens: list[str]) -> tuple[list[str], str, list[str]] | None:
    """(target words, relation kind, anchor words) where ``tokens`` name their object by a relation."""
    text = " ".join(tokens)
    for pattern in (_POSSESSIVE_RE, _RELATION_RE):
        for match in _matches(pattern, text):
            target = text[:match.start()].split()
            anchor = match["anchor"]
            if anchor in _VIEWER or anchor.split()[0] in LAST_WORDS or _is_surface(anchor.split()) \
                    or not any(w not in ARTICLES and w not in CLAUSE_WORDS for w in target):
                continue
            side = match["side"]
            if side is not None:
                kind = LEFT_OF if side == "left" else RIGHT_OF
            else:
                kind = next((k for word, k in _KIND_OF.items() if word in match["words"].split()), NEXT_TO)
            return target, kind, anchor.split()
    return None


def _is_surface(words: list[str]) -> bool:
    """"the table", "the desk": where the objects stand, a side of the workspace rather than an anchor."""
    named = [w for w in words if w not in ARTICLES]
    return len(named) == 1 and named[0] in SURFACES


def _matches(pattern: re.Pattern, text: str):
    """Every match of ``pattern`` in ``text``, from each word start, leftmost first."""
    for start in [0] + [m.start() for m in re.finditer(" ", text)]:
        match = pattern.match(text, start)
        if match:
            yield match


def _read_phrase(tokens: list[str], allow_relation: bool) -> Query:
    relation = _find_relation(tokens)
    if relation is None:
        description, selection = _read_target(tokens)
        return Query(description, selection)
    if not allow_relation:
        raise Unread(f"did not understand: an anchor described by another relation ('{' '.join(tokens)}')")
    target, kind, anchor_words = relation
    anchor = _named(_read_phrase(anchor_words, allow_relation=False))
    description, selection = _read_target(target)
    if selection is not None:
        raise Unread(f"did not understand: a rank together with a relation ('{' '.join(tokens)}')")
    return Query(description, relation=Relation(kind, anchor))


# Selections ------------------------------------------------------------------------------------------------

def _read_target(tokens: list[str]) -> tuple[Description, Selection | None]:
    """The description and the selection its cues make, wherever they stand in ``tokens``."""
    words = list(tokens)
    used = [False] * len(words)
    cues = _Cues()
    _between_the_others(words, used, cues)
    _counting_sides(words, used, cues)
    _ranks(words, used, cues)
    _directions(words, used, cues)
    _order_adjectives(words, used, cues)
    _middles(words, used, cues)
    rest = [w for w, u in zip(words, used) if not u]
    return _read_description(rest), cues.selection(" ".join(tokens))


class _Cues:
    """What the selection words of one phrase said."""

    def __init__(self):
        self.rank: int | None = None
        self.last = self.middle = False
        self.orders: set[str] = set()
        self.origin: str | None = None  # the side counted from ("from the left")

    def selection(self, phrase: str) -> Selection | None:
        if len(self.orders | ({self.origin} if self.origin else set())) > 1:
            raise Unread(f"did not understand: two orders in '{phrase}'")
        order = self.origin or next(iter(self.orders), None)
        if self.middle:
            if self.rank is not None or self.last or order not in (None, LEFT, RIGHT):
                raise Unread(f"did not understand: 'middle' with a rank in '{phrase}'")
            return Selection(LEFT, middle=True)
        if self.rank is None and not self.last:
            return None if order is None else Selection(order)
        if order is None:
            raise Unread(f"did not understand: count from which side? ('{phrase}')")
        rank = self.rank or 1
        if self.last and self.origin is not None:  # "the last one from the left", "second to last from the left"
            return Selection(OPPOSITE[order], rank)
        return Selection(order, rank)


def _take(used: list[bool], start: int, end: int) -> None:
    for i in range(start, end):
        used[i] = True


_FORWARD_GLUE = SIDE_GLUE - {"of", "the", "that", "is", "which", "from", "counting", "starting"}


def _glue(words: list[str], used: list[bool], start: int, end: int) -> None:
    """Take the side glue around words[start:end] ("on the far left side", "that is second")."""
    while start > 0 and not used[start - 1] and words[start - 1] in SIDE_GLUE:
        start -= 1
    while end < len(words) and not used[end] and words[end] in _FORWARD_GLUE:
        end += 1
    if words[end:end + 2] == ["of", "the"] and end + 2 < len(words) and words[end + 2] in ("row", "line", *SURFACES):
        end += 3
    _take(used, start, end)


def _between_the_others(words: list[str], used: list[bool], cues: _Cues) -> None:
    """"between the other two", "in between the others": the middle one."""
    for i, word in enumerate(words):
        if word == "between":
            rest = words[i + 1:]
            others = 0
            while others < len(rest) and rest[others] in ("the", "other", "others", "two", "ones", "both"):
                others += 1
            if others == len(rest) and {"other", "others"} & set(rest):  # the phrase ends there
                cues.middle = True
                _take(used, i - (i > 0 and words[i - 1] == "in"), i + 1 + others)


def _ranks(words: list[str], used: list[bool], cues: _Cues) -> None:
    """Ordinals ("second", "2nd", "number two"), "last", and "second to last" / "next to last" / "penultimate"."""
    for i, word in enumerate(words):
        if used[i]:
            continue
        rank = ORDINALS.get(word)
        if word == "number" and i + 1 < len(words) and words[i + 1] in CARDINALS:
            rank = CARDINALS[words[i + 1]]
            _take(used, i, i + 2)
        if word == "next" and tuple(words[i + 1:i + 3]) == ("to", "last"):
            rank = 2
        if word == "penultimate":
            cues.rank, cues.last = _one_rank(cues, 2), True
            _glue(words, used, i, i + 1)
            continue
        if rank is None and word not in LAST_WORDS:
            continue
        end = i + 1
        if rank is not None and end < len(words) and words[end] in LAST_WORDS:
            end += 1
        elif rank is not None and tuple(words[end:end + 2]) in (("to", "last"), ("from", "last")):
            end += 2
        if word in LAST_WORDS or words[end - 1] in LAST_WORDS:
            cues.last = True
        if rank is not None:
            cues.rank = _one_rank(cues, rank)
        _glue(words, used, i, end)


def _one_rank(cues: _Cues, rank: int) -> int:
    if cues.rank is not None and cues.rank != rank:
        raise Unread("did not understand: two ranks")
    return rank


def _counting_sides(words: list[str], used: list[bool], cues: _Cues) -> None:
    """"from the left", "counting from the right", "starting at the left", "from the camera"."""
    for i, word in enumerate(words):
        if used[i] or word != "from":
            continue
        j = i + 1 + (i + 1 < len(words) and words[i + 1] == "the")
        if j < len(words) and words[j] in SIDE_WORDS and not used[j]:
            cues.origin = SIDE_WORDS[words[j]]
            start = i - (i > 0 and words[i - 1] in ("counting", "starting"))
            start -= start < i and start > 0 and words[start - 1] == "when"  # "third when counting from the left"
            end = j + 1 + (j + 1 < len(words) and words[j + 1] in ("side", "end", "edge"))  # "from the left side"
            _take(used, start, end)
    for i, word in enumerate(words):
        if word == "starting" and tuple(words[i + 1:i + 3]) == ("at", "the") and i + 3 < len(words) \
                and words[i + 3] in SIDE_WORDS:
            cues.origin = SIDE_WORDS[words[i + 3]]
            _take(used, i, i + 4)


def _directions(words: list[str], used: list[bool], cues: _Cues) -> None:
    """Sides and places: "leftmost", "on the far left side", "at the back", "the front one", "in front". Not a
    side: "left" as what remains ("the cube that is left", "left over") or a direction a verb takes ("the duck
    looking right", "turned to the left"): refusals."""
    for i, word in enumerate(words):
        if used[i] or word not in DIRECTIONS:
            continue
        if word == "left" and (words[i + 1:i + 2] == ["over"] or i + 1 == len(words) and i > 0
                               and words[i - 1] in ("is", "are", "was", "remains")):
            raise Unread(f"did not understand: '{' '.join(words[max(i - 1, 0):i + 2])}' (left as in remaining?)")
        verb = _word_before_glue(words, i)
        if verb is not None and _looks_like_verb(words, verb):
            raise Unread(f"did not understand: '{' '.join(words[verb:i + 1])}'")
        cues.orders.add(DIRECTIONS[word])
        _glue(words, used, i, i + 1)


def _word_before_glue(words: list[str], i: int) -> int | None:
    """The index of the word before ``words[i]`` and the side glue in front of it ("turned" in "turned to the
    left"), None at the start."""
    j = i - 1
    while j >= 0 and words[j] in SIDE_GLUE:
        j -= 1
    return j if j >= 0 else None


def _looks_like_verb(words: list[str], i: int) -> bool:
    """Whether ``words[i]`` reads as a participle ("looking", "turned"): not a placing word ("sitting"), an object
    word ("ring") or a colour."""
    word = words[i]
    return len(word) > 5 and word.endswith(("ing", "ed")) and word not in CLAUSE_WORDS \
        and word not in COLOR_WORDS and _noun_at(words, i) is None


# The viewer said after a near / far order: "closest to the camera", "nearest the robot", "farthest away".
_VIEWER_TAILS = tuple(sorted({(*lead, *viewer) for viewer in _VIEWERS for lead in (("to",), ("from",), ())}
                             | {("away",)}, key=len, reverse=True))


def _order_adjectives(words: list[str], used: list[bool], cues: _Cues) -> None:
    """"the biggest", "the bigger", "the cube that is smallest", "closest to the camera", "farthest away"."""
    for i, word in enumerate(words):
        if used[i] or word not in ORDER_ADJECTIVES:
            continue
        cues.orders.add(ORDER_ADJECTIVES[word])
        end = i + 1
        for tail in _VIEWER_TAILS:
            if tuple(words[end:end + len(tail)]) == tail:
                end += len(tail)
                break
        start = i
        while start > 0 and words[start - 1] in ("that", "is", "which", "the", "most") and not used[start - 1]:
            start -= 1
        _take(used, start, end)
    if cues.orders & {NEAR, FAR}:  # the viewer after the noun: "the closest duck to me"
        for j in range(len(words)):
            tail = next((t for t in _VIEWER_TAILS if t[0] in ("to", "from") and tuple(words[j:j + len(t)]) == t
                         and not any(used[j:j + len(t)])), None)
            if tail is not None:
                _take(used, j, j + len(tail))


def _middles(words: list[str], used: list[bool], cues: _Cues) -> None:
    """"the middle cup", "the cup in the middle", "the centre cube", "the cube in the center of the row"."""
    for i, word in enumerate(words):
        if not used[i] and word in MIDDLE_WORDS:
            cues.middle = True
            _glue(words, used, i, i + 1)
            if tuple(words[i + 1:i + 4]) in (("of", "the", "row"), ("of", "the", "line"), ("of", "the", "group")):
                _take(used, i + 1, i + 4)


# Descriptions ----------------------------------------------------------------------------------------------

def _noun_at(words: list[str], i: int) -> str | None:
    """The category word (as said, singular) that starts at ``words[i]``, taking its words, else None."""
    for noun in NOUNS:
        parts = noun.split()
        said = words[i:i + len(parts)]
        if len(said) == len(parts) and said[:-1] == parts[:-1] and said[-1] in (parts[-1], *_plurals(parts[-1])):
            return noun
    return None


def _says_what(words: list[str]) -> bool:
    """Whether ``words`` describe an object by more than pointing: a word that is not an article, a pronoun noun or
    a selecting word ("that one", "this thing" point, and a robot cannot see where)."""
    return any(w not in PRONOUN_NOUNS and w not in ARTICLES and not selects(w) for w in words)


def _plurals(word: str) -> tuple[str, ...]:
    return tuple(p for p in (word + "s", word + "es", word[:-1] + "ies") if singular(p) == word)


def _read_description(tokens: list[str]) -> Description:
    """Colours, a category word and open-class words from ``tokens``; "of the cubes" names the set a selection
    or "one" picks from. A plural outside that, or a selecting word left over, is a refusal."""
    words = list(tokens)
    if words and words[0] in ("this", "that") and _says_what(words[1:]):
        words[0] = "the"  # "grab that white cube": a demonstrative before a description is its article
    if words and words[0] in ("this", "that", "these", "those", "it", "them"):
        raise Unread(f"did not understand: '{words[0]}' (which one is that?)")
    head, partitive = words, []
    if "of" in words:
        i = words.index("of")
        head, partitive = words[:i], words[i + 1:]
    noun, attributes, unread, named = None, [], [], []
    plural_outside = False
    for part, is_partitive in ((head, False), (partitive, True)):
        i = 0
        while i < len(part):
            word = part[i]
            said = _noun_at(part, i)
            if said is not None:
                named.append(said)
                length = len(said.split())
                if part[i + length - 1] != said.split()[-1]:  # said in the plural
                    plural_outside |= not is_partitive
                elif is_partitive:
                    unread.append(word)  # "of the cube": not a set
                noun = said if noun is None or not is_partitive else noun
                i += length
                continue
            if word == "on" and tuple(part[i + 1:i + 2]) == ("the",) and i + 2 < len(part) and part[i + 2] in SURFACES:
                i += 3
                continue
            if word == "in" and i + 1 < len(part) and part[i + 1] in COLOR_WORDS:  # "the cup in red"
                attributes.insert(0, part[i + 1])  # before the words, so an unknown last word stays the noun
                i += 2
                continue
            if word in ARTICLES or word in CLAUSE_WORDS or word in PRONOUN_NOUNS \
                    or (is_partitive and word in ("all", "those", "these", *CARDINALS)):
                i += 1
                continue
            if word in COLOR_WORDS:
                attributes.append(word)
            elif selects(word) or word == "'s":
                unread.append(word)
            else:
                attributes.append(word)
            i += 1
    if partitive and noun is None:
        unread.insert(0, "of")
    if any(w not in QUANTITIES for w in unread):  # quoted from the first word it could not place to the end
        raise Unread(f"did not understand: '{' '.join(words[words.index(unread[0]):])}'")
    if plural_outside or unread:
        raise Unread(f"asks for several objects ('{' '.join(tokens)}'); name one")
    if len({CATEGORY_OF[said] for said in named}) > 1:  # "the ball left to the block": which is meant is not read
        raise Unread(f"did not understand: two kinds of object named ({', '.join(repr(n) for n in named)})")
    if noun is None:  # head-final: an unknown last word is the noun ("the bowl")
        open_words = [w for w in attributes if w not in COLOR_WORDS]
        if open_words and attributes[-1] == open_words[-1]:
            noun, attributes = attributes[-1], attributes[:-1]
    return Description(noun, tuple(attributes))
