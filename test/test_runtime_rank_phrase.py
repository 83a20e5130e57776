"""Rank phrases: the set and the rank read from a command (runtime/rank_phrase.py)."""
import numpy as np
import pytest

from lts_ros.data.tabletop.expressions import ORDINALS, Meaning, category_words, render_meaning
from lts_ros.data.tabletop.scene import CATEGORIES, SceneObject
from lts_ros.runtime.rank_phrase import ORDERS, RankPhrase, parse_rank_phrase


@pytest.mark.parametrize("command, expected", [
    ("the second mug from the left", RankPhrase("the mug", "left", 2)),
    ("pick up the third red block counting from the right", RankPhrase("pick up the red block", "right", 3)),
    ("The 2nd rubber duck from the right.", RankPhrase("the rubber duck", "right", 2)),
    ("the biggest ball", RankPhrase("the ball", "big", 1)),
    ("hand me the smaller  green cup!", RankPhrase("hand me the green cup", "small", 1)),
    ("the mug on the far left", RankPhrase("the mug", "left", 1)),
    ("the left mug", RankPhrase("the mug", "left", 1)),
    ("grab the nearest teddy bear", RankPhrase("grab the teddy bear", "near", 1)),
    ("the cup closest to the camera", RankPhrase("the cup", "near", 1)),
    ("the duck at the back", RankPhrase("the duck", "far", 1)),
    ("the red one on the left", RankPhrase("the red one", "left", 1)),  # a colour names the set
])
def test_rank_phrases_are_split_into_the_set_and_the_rank(command, expected):
    assert parse_rank_phrase(command) == expected


@pytest.mark.parametrize("command", [
    "the mug", "the red mug", "grab the blue ball",
    "the mug to the left of the ball", "the mug left of the ball", "the mug in front of the ball",
    "the ball next to the leftmost mug",  # the rank names the anchor, which the model resolves
    "the ball behind the biggest cup",
    "the big one", "the one on the left",  # no set without a noun or a colour
    "the seventh mug from the left",  # not an ordinal this module reads: the model reads it whole
])
def test_commands_without_a_rank_of_their_own_go_to_the_model_whole(command):
    assert parse_rank_phrase(command) is None


def _object(i: int, category: str) -> SceneObject:
    return SceneObject(i, category, "red", 0.1, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0), (0.0, 0.0, 0.5), 1000,
                       (100.0 * i, 200.0))


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("group", [2, 3])
def test_every_rank_the_tabletop_generator_writes_is_read_back(category, group):
    """Every template and category word of the generator, for pairs ("the bigger mug") and larger groups."""
    objects = [_object(i, category) for i in range(group)]
    words = category_words(objects)
    meanings = [(kind, Meaning(category, color, order, rank)) for color in (None, "red")
                for kind, order, rank in [("size", "big", 1), ("size", "small", 1)]
                + [("position", order, 1) for order in ("left", "right", "near", "far")]
                + [("ordinal", side, k) for side in ("left", "right") for k in range(1, len(ORDINALS) + 1)]]
    for seed in range(12):
        rng = np.random.default_rng(seed)
        for kind, meaning in meanings:
            text = render_meaning(kind, meaning, objects, words, rng)
            phrase = parse_rank_phrase(text)
            assert phrase is not None and phrase.order in ORDERS, text
            assert (phrase.order, phrase.rank) == (meaning.order, meaning.rank), text
            noun = phrase.base.removeprefix("the ").removeprefix("red ")
            assert noun in words[category] and (meaning.color is None) == (noun == phrase.base[4:]), text


def test_the_rank_in_words():
    assert RankPhrase("the mug", "left", 2).describe() == "2nd from the left"
    assert RankPhrase("the ball", "big").describe() == "1st by size, biggest first"
