"""Executing a ``language.Query`` over the model's answers: which text the model segments first, which further
passes a frame's answer needs (the anchor and the described set of a relation; each excluded description; with depth,
the first text again on a crop around each object a found rank's count may have missed), and the answer they
settle. ``Segmenter`` and ``lts eval`` both run a query through these steps, so the figures ``lts eval`` reports
are the answers the node gives.

Refusals are answered "which one?" (``ambiguous``) with the reader's reason, however the frame looks: the model
reads the command whole, its mask is shown but no object, box or centroid is given; where it sees nothing of what
was said the answer stays ``not_found``.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from lts_ros.language.query import Query, Selection
from lts_ros.runtime import missed_member
from lts_ros.runtime.missed_member import Uncounted
from lts_ros.runtime.rank_select import pick_member
from lts_ros.runtime.relation import (SAME_OBJECT_SHARE, check_relation, needs_anchor, settle_relation,
                                     share_inside)
from lts_ros.runtime.result import NOT_FOUND, Result


def first_text(query: Query, command: str) -> str:
    """The text the model segments first: the query's, or the command itself where the reader refused it."""
    return command if query.refusal else query.model_text()


def tracking_text(query: Query | None, command: str) -> str:
    """The text the model segments once locked on (``runtime.lock_on``): the description alone, every object
    that fits it, among which the track is followed; the command itself where the model reads it whole."""
    if query is None or query.verbatim or query.refusal:
        return command
    return query.description.text()


def first_selection(query: Query) -> Selection | None:
    """The selection the first answer applies; with exclusions it waits until they are known (``conclude``)."""
    return None if query.exclusions else query.selection


def follow_ups(query: Query, result: Result) -> list[Query]:
    """The queries the model must answer too before ``result`` (the first answer) is settled: for a relation the
    anchor and the described set, where its answer holds several objects or one (to settle or check it against
    the geometry); each exclusion (as its description) unless the set is not there."""
    if query.refusal or result.status == NOT_FOUND:
        return []
    if query.relation is not None:
        if needs_anchor(result) or result.found:
            return [query.relation.anchor, Query(query.description)]
        return []
    return [Query(description) for description in query.exclusions]


def conclude(query: Query, result: Result, answers: list[Result]) -> Result:
    """The answer to ``query``: ``result`` settled by the ``answers`` to its ``follow_ups`` (same order)."""
    if query.refusal:
        return refused(result, query.refusal)
    if query.relation is not None and answers:
        members = answers[1] if len(answers) > 1 else None
        settle = check_relation if result.found else settle_relation
        return settle(result, query.relation.kind, answers[0], members)
    if not query.exclusions or result.status == NOT_FOUND:
        return result
    excluded = [answer.mask for answer in answers if answer.status != NOT_FOUND]
    kept = [c for c in result.candidates if all(share_inside(c, mask) < SAME_OBJECT_SHARE for mask in excluded)]
    if not kept:
        return replace(result, status=NOT_FOUND, mask=np.zeros_like(result.mask), reason="only excluded objects fit")
    one = pick_member(kept, query.selection, result.mask.shape)
    if one is None:
        return result.ambiguous_among(kept, f"{len(kept)} objects fit after the exclusions")
    return result.found_as(one)


def refused(result: Result, reason: str) -> Result:
    """``result`` answered "which one?" with ``reason`` (no object, box or centroid); ``not_found`` stays."""
    if result.status == NOT_FOUND:
        return replace(result, reason=reason)
    return result.ambiguous_among(result.candidates, reason)


def missed_member_checks(query: Query, result: Result, depth_m: np.ndarray | None,
                         K: np.ndarray | None) -> list[Uncounted]:
    """Where a rank was answered found and the frame has depth: the objects standing outside the set's mask that
    would come before the pick, each to be shown to the model up close, asked the first pass's text (the set,
    ``query.model_text()``) again (``runtime.missed_member``)."""
    selection = first_selection(query)
    if (query.refusal or query.relation is not None or selection is None or not result.found or depth_m is None
            or K is None):
        return []
    return missed_member.members_to_check(result, selection, depth_m, K)


def settle_count(query: Query, result: Result, checked: list[Uncounted], answers: list[Result]) -> Result:
    """``result`` unless the model's ``answers`` on the crops of ``checked`` show a member the count missed."""
    return missed_member.settle(result, query.description.text(), checked, answers)
