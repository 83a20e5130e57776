"""No-target and several-target expressions: read back through the independent parser of
test_tabletop_expressions, a no-target text fits no object and a several-target text fits exactly its targets."""
import re

import numpy as np

from lts_ros.data.tabletop.expressions import COMMANDS, Meaning, resolve
from lts_ros.data.tabletop.scene import CATEGORY_WORDS, DISTRACTOR, Expression
from lts_ros.data.tabletop.store import describe_scene
from lts_ros.data.tabletop.target_sets import PLURALS, no_target_expressions, several_target_expressions
from test_tabletop_expressions import BLOCKS, _WORD, obj, parse, random_scene

_PLURAL_WORD = {p: _WORD[w] for w, p in PLURALS.items()}


def _strip_command(text: str) -> str:
    match = re.match(rf"({'|'.join(COMMANDS)}) (the .*|all the .*|both .*)$", text)
    return match.group(2) if match else text


def _group_meaning(text: str) -> Meaning:
    """A several-target text -> its meaning (plural, "the red ones", or a singular attribute)."""
    text = _strip_command(text)
    ones = re.fullmatch(r"the (\w+) (?:ones|objects|one)", text)
    if ones:
        return Meaning(color=ones.group(1))
    plural = re.fullmatch(r"(?:the|all the|both) (?:(\w+) )?(.+)", text)
    words = plural.group(2)
    if plural.group(1) and f"{plural.group(1)} {words}" in _PLURAL_WORD:  # "jenga blocks", "teddy bears"
        return Meaning(_PLURAL_WORD[f"{plural.group(1)} {words}"])
    if words in _PLURAL_WORD:
        return Meaning(_PLURAL_WORD[words], plural.group(1))
    return parse(text)[1]


def test_every_category_word_has_a_plural():
    assert set(PLURALS) == {w for words in CATEGORY_WORDS.values() for w in words}


def test_random_scenes_no_target_texts_fit_nothing_and_group_texts_fit_their_targets():
    rng = np.random.default_rng(1)
    none = several = 0
    for _ in range(300):
        objects = random_scene(rng)
        for e in no_target_expressions(objects, rng):
            assert e.targets == () and e.target_set == "none"
            meaning = parse(_strip_command(e.text))[1]
            assert resolve(meaning, objects) == [], e  # not even loosely
            none += 1
        for e in several_target_expressions(objects, rng):
            assert len(e.targets) >= 2 and e.target_set == "several"
            members = resolve(_group_meaning(e.text), objects)
            assert sorted(o.instance_id for o in members) == list(e.targets), e
            assert all(o.category != DISTRACTOR for o in members)
            several += 1
    assert none > 500 and several > 100, (none, several)


def test_three_red_blocks_give_groups_and_negatives():
    groups = several_target_expressions(BLOCKS, np.random.default_rng(0), count=10)
    assert {e.targets for e in groups} == {(0, 1, 2)}  # "the blocks", "the red blocks", "the red ones"
    negatives = no_target_expressions(BLOCKS, np.random.default_rng(0), count=10)
    texts = [_strip_command(e.text) for e in negatives]
    meanings = [parse(t)[1] for t in texts]
    assert {Meaning("duck", "red"), Meaning("block", "blue")} & set(meanings), texts  # present colours swapped
    assert any(m.relation for m in meanings) and any(m.category not in ("block", "duck") for m in meanings), texts


def test_a_scene_with_one_object_of_each_kind_has_no_group():
    objects = [obj(0, "mug", "red", 100), obj(1, "duck", "blue", 400)]
    assert several_target_expressions(objects, np.random.default_rng(0)) == []
    assert no_target_expressions(objects, np.random.default_rng(0))  # but there is always something absent


def test_a_scene_description_keeps_its_unique_expressions_and_adds_target_sets():
    described = describe_scene(BLOCKS, seed=7, per_object=3, width=640)
    unique = [e for e in described if len(e.targets) == 1]
    assert unique and all(isinstance(e, Expression) for e in described)
    assert {e.target_set for e in described} == {"none", "one", "several"}
    assert [e.to_dict() for e in unique] == [e.to_dict() for e in describe_scene(BLOCKS, 7, 3, 640)
                                              if len(e.targets) == 1]  # deterministic per seed
