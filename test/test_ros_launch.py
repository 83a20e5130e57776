"""The launch file and config/lts.yaml, checked statically against the node's parameter table (launch and
launch_ros have no wheel here, so the launch file is parsed, not run), and the installed data files."""
import ast
import xml.etree.ElementTree as ElementTree

import yaml

from lts_ros.ros.params import BY_NAME, PARAMS

from conftest import REPO

LAUNCH = REPO / "launch" / "lts.launch.py"


def launch_tree() -> ast.Module:
    return ast.parse(LAUNCH.read_text(), filename=str(LAUNCH))


def launch_arguments() -> dict[str, ast.Call]:
    calls = [n for n in ast.walk(launch_tree()) if isinstance(n, ast.Call) and getattr(n.func, "id", "") ==
             "DeclareLaunchArgument"]
    return {c.args[0].value: c for c in calls}


def launch_parameter_keys() -> set[str]:
    """Keys of the dict literal passed among the node's parameters."""
    for node in ast.walk(launch_tree()):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "parameters":
            dicts = [e for e in node.value.elts if isinstance(e, ast.Dict)]
            return {k.value for d in dicts for k in d.keys}
    raise AssertionError("no 'parameters = [...]' in the launch file")


def test_the_launch_file_parses_and_documents_every_argument():
    arguments = launch_arguments()
    assert {"namespace", "image", "depth", "camera_info", "command_topic", "params_file", "backend", "command",
            "use_lifecycle"} <= arguments.keys()
    for name, call in arguments.items():
        keywords = {k.arg: k.value for k in call.keywords}
        assert "description" in keywords and len(keywords["description"].value) > 10, name


def test_every_parameter_the_launch_file_sets_is_declared_by_the_node():
    assert launch_parameter_keys() <= BY_NAME.keys()
    backend = {k.arg: k.value for k in launch_arguments()["backend"].keywords}["choices"]
    assert [e.value for e in backend.elts] == list(BY_NAME["backend"].choices)


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
