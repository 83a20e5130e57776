"""lts_node's parameters as the ROS tools see them: a params file and the launch file's overrides passed the way
launch_ros passes them (``--params-file`` for the file, then one for the overrides' dict), read back with
``ros2 param get``'s service; types kept through ``ros2 param set`` of a wrong type or an integer for a float.
The node runs with autostart false (no model is loaded: parameters are served from construction)."""
import sys
from pathlib import Path

import pytest
import yaml
from rcl_interfaces.msg import ParameterType

from lts_ros.ros.launch_arguments import node_overrides

from ros_graph import NodeProcess, Probe, describe_parameter, get_parameter, isolated_env, set_parameter

LTS_NODE = str(Path(sys.executable).parent / "lts_node")  # the console script launch_ros runs
USER_FILE = {"backend": "onnxruntime", "command": "the red block", "threshold": 0.4, "max_rate": 5,
             "autostart": False}


def launched_like_launch_ros(tmp_path: Path, given: dict[str, str]) -> list[str]:
    """The command line launch_ros builds for ``ros2 launch lts_ros lts.launch.py params_file:=user.yaml`` plus
    the launch arguments ``given``: the file, then the overrides dict written to a file of their own."""
    user = tmp_path / "user.yaml"
    user.write_text(yaml.safe_dump({"/**/lts_node": {"ros__parameters": USER_FILE}}))
    files = [user]
    if overrides := node_overrides(given):
        files.append(tmp_path / "overrides.yaml")
        files[-1].write_text(yaml.safe_dump({"/**": {"ros__parameters": overrides}}))
    return ["--params-file" if i % 2 == 0 else str(files[i // 2]) for i in range(2 * len(files))]


@pytest.fixture
def graph():
    env = isolated_env()
    probe = Probe(env)
    yield env, probe
    probe.close()


def start(graph, tmp_path: Path, given: dict[str, str]) -> NodeProcess:
    env, probe = graph
    node = NodeProcess(env, tmp_path / "lts_node.log",
                       command=[LTS_NODE, "--ros-args", *launched_like_launch_ros(tmp_path, given)])
    assert probe.spin_until(lambda: "lts_node" in probe.node.get_node_names(), 60), node.text()
    return node


def test_a_params_file_alone_is_what_param_get_returns(graph, tmp_path):
    probe = graph[1]
    node = start(graph, tmp_path, {})
    try:
        got = {name: get_parameter(probe, name) for name in USER_FILE}
        assert got == {**USER_FILE, "max_rate": 5.0}  # the YAML integer 5 for a float is the float 5.0
        assert get_parameter(probe, "use_sim_time") is False
    finally:
        assert node.stop() == 0, node.text()


def test_launch_arguments_given_win_over_the_file_and_only_they(graph, tmp_path):
    probe = graph[1]
    node = start(graph, tmp_path, {"backend": "torch", "command": "the blue mug", "use_sim_time": "true"})
    try:
        assert get_parameter(probe, "backend") == "torch" and get_parameter(probe, "command") == "the blue mug"
        assert get_parameter(probe, "use_sim_time") is True
        assert get_parameter(probe, "threshold") == 0.4 and get_parameter(probe, "autostart") is False  # the file's
    finally:
        assert node.stop() == 0, node.text()


def test_parameters_keep_their_declared_type(graph, tmp_path):
    """``ros2 param describe`` says double before and after a refused ``ros2 param set threshold abc``; the value
    is unchanged; ``ros2 param set threshold 1`` stores the double 1.0."""
    probe = graph[1]
    node = start(graph, tmp_path, {})
    try:
        assert describe_parameter(probe, "threshold").type == ParameterType.PARAMETER_DOUBLE
        bad = set_parameter(probe, "threshold", "abc")
        assert not bad.successful and bad.reason == "threshold must be a number, got a string 'abc'"
        assert describe_parameter(probe, "threshold").type == ParameterType.PARAMETER_DOUBLE
        assert get_parameter(probe, "threshold") == 0.4
        assert set_parameter(probe, "threshold", 1).successful
        value = get_parameter(probe, "threshold")
        assert value == 1.0 and type(value) is float
        assert describe_parameter(probe, "input_size").type == ParameterType.PARAMETER_INTEGER
        assert not set_parameter(probe, "input_size", 320.0).successful  # a float for an integer is refused
        assert get_parameter(probe, "input_size") == 0
        assert describe_parameter(probe, "command").type == ParameterType.PARAMETER_STRING
        assert not set_parameter(probe, "command", 3).successful
    finally:
        assert node.stop() == 0, node.text()
