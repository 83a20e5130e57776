"""The command reader (lts_ros/language): people's phrasings of one meaning read as the same query, every
template of the tabletop generator read back, and commands it cannot read for sure refused with the reason."""
import numpy as np
import pytest

from lts_ros.data.tabletop.expressions import ORDINALS, RELATIONS, Meaning, category_words, render_meaning
from lts_ros.data.tabletop.scene import CATEGORIES, SceneObject
from lts_ros.language import Description, Query, Relation, Selection, read_command


def _object(i: int, category: str) -> SceneObject:
    return SceneObject(i, category, "red", 0.1, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0), (0.0, 0.0, 0.5), 1000,
                       (100.0 * i, 200.0))


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("group", [2, 3])
def test_every_rank_the_tabletop_generator_writes_is_read_back(category, group):
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
            query = read_command(text)
            assert query.understood and query.selection == Selection(meaning.order, meaning.rank), text
            assert query.description.noun in words[category], text
            assert query.description.attributes == ((meaning.color,) if meaning.color else ()), text


def test_every_relation_the_tabletop_generator_writes_is_read_back():
    objects = [_object(i, c) for i, c in enumerate(("mug", "ball"))]
    words = category_words(objects)
    for seed in range(20):
        rng = np.random.default_rng(seed)
        for relation in RELATIONS:
            for anchor in (Meaning("ball"), Meaning("ball", "red")):
                text = render_meaning("relation", Meaning("mug", relation=relation, anchor=anchor), objects, words, rng)
                query = read_command(text)
                assert query.relation is not None and query.relation.kind == relation, text
                assert query.relation.anchor.description.noun in words["ball"], text
                assert query.description.noun in words["mug"], text


SECOND_DUCK = Query(Description("duck"), Selection("left", 2))


@pytest.mark.parametrize("command", [
    "the second duck from the left", "second duck from the left", "the duck second from the left",
    "the second duck from left", "the 2nd duck from the left", "The 2ND duck from the LEFT!",
    "could you please hand me the second duck from the left", "grab the second duck from the left, thanks",
    "the second of the ducks from the left", "the duck that is second from the left",
    "counting from the left, the second duck", "the second duck counting from the left",
    "the second duck on the left",
])
def test_ordinal_phrasings_read_as_one_query(command):
    assert read_command(command) == SECOND_DUCK


@pytest.mark.parametrize("command, selection", [
    ("the leftmost ball", Selection("left")), ("the left-most ball", Selection("left")),
    ("the ball on the left side", Selection("left")), ("the ball on the far left", Selection("left")),
    ("the ball farthest right", Selection("right")), ("rightmost ball", Selection("right")),
    ("the ball furthest to the right", Selection("right")), ("the first ball on the left", Selection("left")),
    ("the last ball on the right", Selection("right")), ("the last ball from the left", Selection("right")),
    ("the second to last ball from the left", Selection("right", 2)),
    ("the ball in the middle", Selection("left", middle=True)), ("the middle ball", Selection("left", middle=True)),
    ("the centre ball", Selection("left", middle=True)), ("the biggest ball", Selection("big")),
    ("the larger of the two balls", Selection("big")), ("the ball closest to the camera", Selection("near")),
    ("the ball nearest to me", Selection("near")), ("the ball at the back", Selection("far")),
    ("the ball farthest away", Selection("far")), ("the smaller ball", Selection("small")),
    ("the closest ball to me", Selection("near")), ("the farthest ball from the camera", Selection("far")),
    ("the ball on the left side of the table", Selection("left")),  # the table is where it stands, not an anchor
    ("the ball at the back of the desk", Selection("far")), ("dead centre ball", Selection("left", middle=True)),
    ("could you pick up the second ball for me from the left", Selection("left", 2)),
    ("the ball that comes second from the left", Selection("left", 2)), ("the ball near me", Selection("near")),
    ("the ball nearest the robot", Selection("near")), ("the ball farthest from the robot", Selection("far")),
    ("the ball up front", Selection("near")), ("the second ball from the left-hand side", Selection("left", 2)),
    ("the ball that is third when counting from the right", Selection("right", 3)),
    ("the ball over on the far right now", Selection("right")),  # "right now" is not what is stripped here
])
def test_selections_by_meaning(command, selection):
    query = read_command(command)
    assert query.description == Description("ball") and query.selection == selection, query.describe()


@pytest.mark.parametrize("command", [
    "the cup left of the duck", "the cup to the left of the duck", "the cup that is to the left of the duck",
    "the cup on the left side of the duck", "the cup on the duck's left", "pick up the cup left of the duck",
])
def test_relation_phrasings(command):
    assert read_command(command) == Query(Description("cup"), relation=Relation("left_of", Query(Description("duck"))))


def test_a_relation_goes_to_the_model_whole_in_the_words_it_knows():
    query = read_command("the red cup which is sitting right next to the leftmost duck")
    assert query.model_text() == "the red cup next to the leftmost duck"
    assert query.relation.anchor.selection == Selection("left")
    assert query.describe() == "red cup | next to: duck | 1st from left"


@pytest.mark.parametrize("command, description, excluded", [
    ("not the red block, the green one", Description("block", ("green",)), ("red",)),
    ("the green block, not the red one", Description("block", ("green",)), ("red",)),
    ("the duck that is neither white nor black", Description("duck"), ("white", "black")),
    ("the duck that isn't white", Description("duck"), ("white",)),
    ("any duck except the white and the black ones", Description("duck"), ("white", "black")),
    ("the non-red block", Description("block"), ("red",)),
    ("not the red block", Description("block"), ("red",)),
    ("not the red block, the other one", Description("block"), ("red",)),  # "the other" is what is left
    ("no, not the red block, I want the other block", Description("block"), ("red",)),
    ("the duck that is not white and not black", Description("duck"), ("white", "black")),
    ("I don't want the red block, give me the other block", Description("block"), ("red",)),
    ("next, not the red block, the other one now", Description("block"), ("red",)),
])
def test_exclusions(command, description, excluded):
    query = read_command(command)
    assert query.description == description, query.describe()
    assert query.exclusions == tuple(Description(description.noun, (c,)) for c in excluded)
    assert query.model_text() == description.text()


@pytest.mark.parametrize("command", [
    "the red mug", "I want the red mug", "the red mug please", "can I have the red mug?", "yank the red mug",
    "the mug that is red", "the red mug on the table", "the red one of the mugs", "uhh the, um, red mug",
    "give me the red mug would ya", "the red mug, if you see one", "wait, the red mug", "whatever red mug",
    "the mug which has a red colour", "the mug that looks red", "grab me that red mug", "this red mug, please",
    "the mug in red", "I'd love the red mug", "then, the red mug",
])
def test_descriptions_around_requests_and_politeness(command):
    assert read_command(command) == Query(Description("mug", ("red",)))


@pytest.mark.parametrize("command, reason", [
    ("the second duck", "count from which side"),
    ("the tallest mug", "'tallest mug'"),
    ("the other duck", "'other duck'"),
    ("the duck on the tray", "'on the tray'"),
    ("the mug between the duck and the ball", "'between the duck and the ball'"),
    ("the mugs", "several objects"),
    ("both mugs", "several objects"),
    ("the red and the blue ball", "several objects"),
    ("the one on the left", "no object named"),
    ("that one", "'that'"),  # pointing, which a robot cannot see
    ("grab that", "'that'"),
    ("this thing here", "'this'"),
    ("the other one", "'other one'"),  # the other than which? Nothing was excluded
    ("the leftmost biggest ball", "two orders"),
    ("the ball farthest from the duck", "'from the duck'"),
    ("the ball left to the block", "two kinds of object named ('ball', 'block')"),  # not "the leftmost block"
    ("the mug, the duck", "two kinds of object named"),
    ("the ball to my right", "'to my'"),  # the speaker's right is the camera's left when they face it
    ("can you get my red mug", "'my red mug'"),
    ("the medium cube", "'medium cube'"),  # the middle size is not read: not "the cube" to the model
    ("the leftmost cup next to the duck", "rank together with a relation"),
    ("the lone duck", "'lone duck'"),  # picked by its neighbours: not "the duck" to the model
    ("the mug sitting by itself", "'itself'"),  # not "next to" an object called "itself"
    ("the remaining cube", "'remaining cube'"),
    ("the cube that's left", "left as in remaining"),  # not the leftmost cube
    ("the left over cube", "left as in remaining"),
    ("the duck looking right", "'looking right'"),  # which way it faces, not where it stands
    ("the duck turned to the left", "'turned to the left'"),
    ("the leftward ball", "'leftward ball'"),
    ("the western ball", "'western ball'"),
    ("the cube the robot is closest to", "'to'"),  # not "next to" an object called "to"
    ("the ball bigger than the red one", "'than the red one'"),  # not the biggest red ball
    ("the stacked block", "'stacked block'"),
    ("", "no object named"),
])
def test_selecting_words_it_cannot_read_are_a_refusal_with_the_reason(command, reason):
    query = read_command(command)
    assert not query.understood and reason in query.refusal, query.refusal
    assert query.describe() == query.refusal


def test_the_model_alone_reads_the_command_whole():
    assert Query(verbatim="the second duck").model_text() == "the second duck"


def test_the_reader_benchmark_reads_every_command_of_a_root_and_writes_json(tabletop_root, tmp_path):
    import json

    from lts_ros.bench.reader import main

    assert main(["--data-root", str(tabletop_root), "--out", str(tmp_path / "r.json"), "--doc", "",
                 "--repeats", "1"]) == 0
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["commands"] > 20 and 0 < result["median_us"] <= result["p99_us"] <= result["max_us"]
    assert main(["--data-root", str(tmp_path / "none"), "--doc", ""]) == 2  # a one-line error, no traceback
