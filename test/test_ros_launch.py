"""The launch file and config/lts.yaml, checked statically against the node's parameter table (launch and
launch_ros have no wheel here, so the launch file is parsed, not run), its rule for what overrides the params file
(lts_ros.ros.launch_arguments) run with and without each argument, and the installed data files."""
import ast
import xml.etree.ElementTree as ElementTree

import pytest
import yaml

from lts_ros.ros.launch_arguments import OVERRIDES, LaunchArgumentError, node_overrides, params_file
from lts_ros.ros.params import BY_NAME, PARAMS

from conftest import REPO

LAUNCH = REPO / "launch" / "lts.launch.py"


def launch_tree() -> ast.Module:
    return ast.parse(LAUNCH.read_text(), filename=str(LAUNCH))


def launch_arguments() -> dict[str, ast.Call]:
    calls = [n for n in ast.walk(launch_tree()) if isinstance(n, ast.Call) and getattr(n.func, "id", "") ==
             "DeclareLaunchArgument"]
    return {c.args[0].value: c for c in calls}


def test_the_launch_file_parses_and_documents_every_argument():
    arguments = launch_arguments()
    assert {"namespace", "image", "depth", "camera_info", "command_topic", "params_file", "backend", "command",
            "use_sim_time", "use_lifecycle"} <= arguments.keys()
    for name, call in arguments.items():
        keywords = {k.arg: k.value for k in call.keywords}
        assert "description" in keywords and len(ast.unparse(keywords["description"])) > 10, name
    assert OVERRIDES.keys() <= arguments.keys()


def test_the_launch_file_notes_what_was_given_before_any_default_is_set():
    """An OpaqueFunction that runs before every DeclareLaunchArgument sees only what the user (or an including
    launch file) gave; the node's parameters are the params file plus node_overrides of just those."""
    description = next(n for n in ast.walk(launch_tree()) if isinstance(n, ast.Call)
                       and getattr(n.func, "id", "") == "LaunchDescription")
    entities = description.args[0].elts
    assert ast.unparse(entities[0]) == "OpaqueFunction(function=note_given)"
    assert isinstance(entities[1], ast.Starred) and ast.unparse(entities[1].value) == "arguments"
    assert ("parameters=[params_file(arg('params_file').perform(context)), node_overrides(given)]"
            in ast.unparse(launch_tree()))


def test_arguments_left_at_their_defaults_override_nothing():
    assert node_overrides({}) == {}
    assert node_overrides({"image": "/camera/color/image_raw", "namespace": "left"}) == {}  # not parameters


@pytest.mark.parametrize("given, expected", [
    ({"backend": "onnxruntime"}, {"backend": "onnxruntime"}),
    ({"command": "the red block: the left one"}, {"command": "the red block: the left one"}),  # not YAML
    ({"command": ""}, {"command": ""}),  # given empty: no command, whatever the file says
    ({"command": "1"}, {"command": "1"}),
    ({"use_sim_time": "true"}, {"use_sim_time": True}),
    ({"use_sim_time": "False"}, {"use_sim_time": False}),
    ({"use_lifecycle": "true"}, {"autostart": False}),
    ({"use_lifecycle": "false"}, {"autostart": True}),
    ({"backend": "torch", "use_sim_time": "1", "use_lifecycle": "true"},
     {"backend": "torch", "use_sim_time": True, "autostart": False}),
])
def test_each_argument_given_overrides_its_parameter_alone(given, expected):
    assert node_overrides(given) == expected
    assert all(BY_NAME[name].validate(value) is None for name, value in expected.items() if name in BY_NAME)


@pytest.mark.parametrize("given, reason", [
    ({"backend": "tensorflow"}, "launch argument backend: backend must be one of auto, torch, onnxruntime, openvino, "
                                "tensorrt, got 'tensorflow'"),
    ({"use_sim_time": "maybe"}, "launch argument use_sim_time must be true or false, got 'maybe'"),
    ({"use_lifecycle": ""}, "launch argument use_lifecycle must be true or false, got ''"),
])
def test_a_bad_argument_stops_the_launch_with_the_reason(given, reason):
    with pytest.raises(LaunchArgumentError) as error:
        node_overrides(given)
    assert str(error.value) == reason


def test_a_params_file_that_is_not_there_stops_the_launch(tmp_path):
    """launch_ros itself only warns and runs the node on its defaults: a typo must not do that silently."""
    with pytest.raises(LaunchArgumentError, match="params_file: no such file '.*my_typo.yaml'"):
        params_file(str(tmp_path / "my_typo.yaml"))
    assert params_file(str(REPO / "config" / "lts.yaml")) == str(REPO / "config" / "lts.yaml")


def test_config_yaml_sets_every_parameter_with_a_valid_default():
    data = yaml.safe_load((REPO / "config" / "lts.yaml").read_text())
    (key, section), = data.items()
    assert key == "/**/lts_node"
    values = section["ros__parameters"]
    assert values.keys() == BY_NAME.keys()  # each declared, and none forgotten
    for name, value in values.items():
        assert BY_NAME[name].validate(value) is None, name
        assert value == BY_NAME[name].default, f"{name}: config/lts.yaml and the node disagree on the default"


def test_every_parameter_has_a_description():
    assert all(len(p.description) > 15 for p in PARAMS)


def test_the_fastdds_profile_enlarges_shared_memory():
    root = ElementTree.parse(REPO / "config" / "fastdds.xml").getroot()
    ns = {"d": "http://www.eprosima.com"}
    assert int(root.find(".//d:transport_descriptor/d:segment_size", ns).text) >= 16 * 2**20
    assert root.find(".//d:participant", ns).get("is_default_profile") == "true"


def test_setup_installs_launch_config_and_the_node():
    setup = (REPO / "setup.py").read_text()
    assert 'data("launch")' in setup and 'data("config")' in setup
    assert "lts_node = lts_ros.ros.node:main" in setup
