"""Phrasing families (data/tabletop/phrasings.py): the generator's meanings as people phrase them, each read back by
the command reader to the target's own meaning; held-out families only in the test split."""
import numpy as np
import pytest

from lts_ros.data.tabletop.phrasings import DEVELOPMENT, FAMILIES, HELD_OUT, check_families, phrased_expressions
from lts_ros.data.tabletop.scene import SceneObject
from lts_ros.data.tabletop.store import render_split
from lts_ros.errors import LtsError
from lts_ros.language import read_command


def obj(i: int, category: str, color: str, x: float, z: float = 0.8, size: float = 0.06) -> SceneObject:
    return SceneObject(i, category, color, size, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0),
                       ((x - 320) / 500 * z, 0.0, z), 3000, (x, 240.0))


# three mugs in a row, each its own colour and size, a duck in front of the middle one
ROW = [obj(0, "mug", "red", 100, size=0.06), obj(1, "mug", "green", 300, size=0.08), obj(2, "mug", "blue", 500,
       size=0.11), obj(3, "duck", "yellow", 310, z=0.6)]


def test_every_family_phrases_the_row_and_the_reader_reads_development_families_back():
    expressions = phrased_expressions(ROW, np.random.default_rng(0), tuple(FAMILIES), per_family=6)
    families = {e.family for e in expressions}
    assert families == set(FAMILIES), set(FAMILIES) - families
    for expression in expressions:
        assert len(expression.targets) == 1 and expression.text.strip(), expression
    for expression in (e for e in expressions if e.family in DEVELOPMENT):
        query = read_command(expression.text)
        assert query.understood, (expression.text, query.refusal)


def test_exclusions_leave_the_target_and_name_only_its_mates_colours():
    expressions = phrased_expressions(ROW, np.random.default_rng(1), ("negation", "correction"), per_family=6)
    for expression in expressions:
        assert expression.kind == "exclusion"
        target = ROW[expression.target]
        query = read_command(expression.text)
        excluded = {e.attributes[0] for e in query.exclusions}
        assert target.color not in excluded and excluded <= {o.color for o in ROW[:3]}, expression.text


def test_family_names_and_held_out_families_stay_out_of_training(tmp_path):
    assert check_families(["held_out"]) == tuple(HELD_OUT)
    assert check_families(["development", "polite"]) == tuple(DEVELOPMENT)
    with pytest.raises(LtsError, match="unknown phrasing family 'poetry'"):
        check_families(["poetry"])
    with pytest.raises(LtsError, match="only into the test split"):
        render_split(tmp_path, "train", 1, families=["ho_request"], progress=False)
