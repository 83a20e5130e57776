"""Relations settled by their anchor where the model's answer holds several objects (runtime/relation.py)."""
import numpy as np
import pytest

from lts_ros.data.tabletop.expressions import RELATIONS, Meaning, category_words, render_meaning
from lts_ros.data.tabletop.scene import SceneObject
from lts_ros.data.transforms import Letterbox
from lts_ros.runtime.phrases import Reading, read_command
from lts_ros.runtime.postprocess import build_result
from lts_ros.runtime.rank_phrase import RankPhrase
from lts_ros.runtime.relation import RelationPhrase, needs_anchor, parse_relation_phrase, settle_relation

K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])
BOX = Letterbox.fit(480, 640, 640)
PRESENT, ABSENT, ONE, SEVERAL = 4.0, -4.0, -4.0, 4.0


@pytest.mark.parametrize("command, expected", [
    ("the mug left of the ball", RelationPhrase("left_of", "the ball")),
    ("grab the red mug to the right of the blue ball", RelationPhrase("right_of", "the blue ball")),
    ("The cup behind the duck.", RelationPhrase("behind", "the duck")),
    ("the cup in front of the tray", RelationPhrase("in_front_of", "the tray")),
    ("the block beside the biggest mug", RelationPhrase("next_to", "the biggest mug")),
])
def test_relations_are_read_with_their_anchor(command, expected):
    assert parse_relation_phrase(command) == expected


@pytest.mark.parametrize("command", ["the red mug", "the mug on the left", "the mug behind", "the mug near",
                                     "the ball next to it", "the second mug from the left"])
def test_commands_without_a_relation_and_anchor(command):
    assert parse_relation_phrase(command) is None


def test_a_rank_is_read_before_a_relation_and_the_model_alone_reads_neither():
    assert read_command("the leftmost mug") == Reading("the mug", rank=RankPhrase("the mug", "left", 1))
    assert read_command("the mug next to the ball") == Reading("the mug next to the ball",
                                                              relation=RelationPhrase("next_to", "the ball"))
    assert read_command("the mug next to the ball", resolve_phrases=False) == Reading("the mug next to the ball")


def test_every_relation_the_tabletop_generator_writes_is_read_back():
    objects = [SceneObject(i, c, "red", 0.1, (0.0,) * 3, (0.0, 0.0, 0.0, 1.0), (0.0, 0.0, 0.5), 1000,
                           (100.0 * i, 200.0)) for i, c in enumerate(("mug", "ball"))]
    words = category_words(objects)
    for seed in range(20):
        rng = np.random.default_rng(seed)
        for relation in RELATIONS:
            for anchor in (Meaning("ball"), Meaning("ball", "red")):
                text = render_meaning("relation", Meaning("mug", relation=relation, anchor=anchor), objects, words, rng)
                phrase = parse_relation_phrase(text)
                assert phrase is not None and phrase.relation == relation, text
                assert phrase.anchor.startswith("the ") and text.endswith(" " + phrase.anchor), text
                assert any(word in phrase.anchor for word in words["ball"]) and "mug" not in phrase.anchor, text


def squares(*placed: tuple[int, int, int]) -> np.ndarray:
    logits = np.full((640, 640), -8.0, np.float32)
    for x, y, side in placed:
        logits[BOX.pad_y + y:BOX.pad_y + y + side, x:x + side] = 8.0
    return logits


def answer(logits, presence=PRESENT, several=ONE, depth=None):
    return build_result(logits, presence, several, BOX, 0.5, depth, None if depth is None else K)


TWO_MUGS = squares((100, 200, 60), (450, 200, 60))  # the model's split answer: one mug each side of the ball
BALL = squares((280, 210, 40))


@pytest.mark.parametrize("relation, left_x", [("left_of", 100), ("right_of", 450)])
def test_the_candidate_in_the_relation_to_the_anchor_is_found(relation, left_x):
    split = answer(TWO_MUGS)
    assert needs_anchor(split, RelationPhrase(relation, "the ball"))
    settled = settle_relation(split, RelationPhrase(relation, "the ball"), answer(BALL))
    assert settled.found and settled.bbox[0] == left_x and settled.mask.sum() == 60 * 60
    assert settled.centroid_px is not None and len(settled.candidates) == 2


def test_no_anchor_or_no_single_fit_leaves_the_question_open():
    split = answer(TWO_MUGS)
    phrase = RelationPhrase("left_of", "the ball")
    assert settle_relation(split, phrase, answer(BALL, presence=ABSENT)).status == "ambiguous"
    assert settle_relation(split, phrase, answer(squares((600, 210, 30)))).status == "ambiguous"  # both left of it
    assert settle_relation(split, RelationPhrase("next_to", "the ball"), answer(BALL)).status == "ambiguous"  # tie


def test_only_answers_that_split_against_the_model_ask_for_the_anchor():
    phrase = RelationPhrase("left_of", "the ball")
    assert not needs_anchor(answer(squares((100, 200, 60))), phrase)  # found already
    assert not needs_anchor(answer(TWO_MUGS, several=SEVERAL), phrase)  # the model says several: a plural
    assert not needs_anchor(answer(TWO_MUGS, presence=ABSENT), phrase)
    assert not needs_anchor(answer(TWO_MUGS), None)


def test_the_anchor_itself_in_the_answer_is_not_a_candidate():
    with_ball = answer(squares((100, 200, 60), (280, 210, 40)))  # the mug, and the ball the model leaked into
    settled = settle_relation(with_ball, RelationPhrase("left_of", "the ball"), answer(BALL))
    assert settled.found and settled.bbox[0] == 100
    # "next to" compares candidates: the one object beside the anchor is not evidence that it is the one meant
    assert settle_relation(with_ball, RelationPhrase("next_to", "the ball"), answer(BALL)).status == "ambiguous"


def test_behind_and_next_to_use_depth():
    depth = np.full((480, 640), 0.7, np.float32)
    depth[:, 400:] = 1.2  # the right mug is 50 cm further than the ball and the left mug
    split = answer(TWO_MUGS, depth=depth)
    ball = answer(BALL, depth=depth)
    assert settle_relation(split, RelationPhrase("behind", "the ball"), ball).bbox[0] == 450
    assert settle_relation(split, RelationPhrase("in_front_of", "the ball"), ball).status == "ambiguous"  # level
    assert settle_relation(split, RelationPhrase("next_to", "the ball"), ball).bbox[0] == 100  # 3D: far one
