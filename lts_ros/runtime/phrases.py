"""How the runtime reads a command before the model does: a rank ("the second mug from the left") goes to the
model as its set and picks the member among the objects found (``rank_phrase``, ``rank_select``); a relation
("the mug left of the ball") goes whole, and its anchor settles an answer that holds several objects
(``relation``). Anything else goes to the model as it is."""
from __future__ import annotations

from dataclasses import dataclass

from lts_ros.runtime.rank_phrase import RankPhrase, parse_rank_phrase
from lts_ros.runtime.relation import RelationPhrase, parse_relation_phrase


@dataclass(frozen=True)
class Reading:
    """The text the model segments for a command, and what then picks the object in its answer."""

    text: str
    rank: RankPhrase | None = None
    relation: RelationPhrase | None = None


def read_command(command: str, resolve_phrases: bool = True) -> Reading:
    """``command``'s reading; with ``resolve_phrases`` False the model reads it whole and alone."""
    if not resolve_phrases:
        return Reading(command)
    rank = parse_rank_phrase(command)
    if rank is not None:
        return Reading(rank.base, rank=rank)
    return Reading(command, relation=parse_relation_phrase(command))
