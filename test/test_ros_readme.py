"""The README's ROS lines as a user runs them: `.venv/bin/lts_node --ros-args --params-file config/lts.yaml -r
image:=...` started exactly as printed, the command sent as its `ros2 topic pub --once` line does (that QoS,
written out in ros_graph.TOPIC_PUB_QOS), `/lts_node/status` and `/lts_node/centroid` read as `ros2 topic echo`
would; and parameters given at launch checked as at runtime."""
import re
import shlex
import sys
from pathlib import Path

from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String

from lts_ros.data.tabletop.dataset import TabletopDataset
from lts_ros.ros.conversions import fill_image
from lts_ros.ros.status import FrameStatus

from conftest import REPO
from ros_graph import OPTICAL_FRAME, TOPIC_PUB_QOS, NodeProcess, Probe, isolated_env

README = (REPO / "README.md").read_text()
LTS_NODE = str(Path(sys.executable).parent / "lts_node")  # the console script, as installed


def readme_line(pattern: str) -> str:
    lines = [line.strip() for line in README.splitlines() if re.match(pattern, line.strip())]
    assert lines, f"no README line matching {pattern}"
    return lines[0]


def test_the_readme_node_line_answers_the_readme_topic_pub_line(tmp_path, tabletop_root):
    node_line = readme_line(r"\.venv/bin/lts_node --ros-args")
    pub = shlex.split(readme_line(r"ros2 topic pub --once /command"))
    topic, msg_type, payload = pub[-3:]  # ros2 topic pub --once TOPIC TYPE VALUES
    assert (topic, msg_type) == ("/command", "std_msgs/String")
    command = re.fullmatch(r"data: '(.*)'", payload).group(1)
    image_topic = re.search(r"-r image:=(\S+)", node_line).group(1)
    frame = TabletopDataset(tabletop_root, "test")[0]

    env = dict(isolated_env(), ROS_HOME=str(tmp_path / "ros_home"))
    probe = Probe(env)
    node = NodeProcess(env, tmp_path / "lts_node.log", command=shlex.split(node_line))
    try:
        node.wait_active()
        image = probe.node.create_publisher(Image, image_topic, 10)  # a stock driver's publisher
        info = probe.node.create_publisher(CameraInfo, "camera_info", 10)
        assert probe.spin_until(lambda: image.get_subscription_count() > 0, 30)
        command_pub = probe.node.create_publisher(String, topic, TOPIC_PUB_QOS)
        assert probe.spin_until(lambda: command_pub.get_subscription_count() > 0, 10)
        command_pub.publish(String(data=command))
        status = None
        for _ in range(20):  # a camera's stream, until a frame is answered with the command
            msg = fill_image(Image(), frame.image, "rgb8")
            msg.header.stamp = probe.node.get_clock().now().to_msg()
            msg.header.frame_id = OPTICAL_FRAME
            info.publish(CameraInfo(header=msg.header, width=640, height=480, k=frame.K.reshape(-1).tolist()))
            image.publish(msg)
            stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
            if probe.spin_until(lambda: probe.outputs_for("status", stamp), 10):
                status = FrameStatus.from_msg(probe.outputs_for("status", stamp)[0])
                if status.command == command:
                    break
        assert status is not None and status.command == command, node.text()
        assert status.state in ("found", "not_found") and status.frame_id == OPTICAL_FRAME
        assert "backend openvino" in node.text()  # config/lts.yaml's backend auto, on this x86 machine
    finally:
        probe.close()
        assert node.stop() == 0, node.text()


def test_launch_values_of_another_type_are_accepted_and_bad_ones_fail_configure_with_the_reason(tmp_path):
    """A YAML `threshold: 1` (an integer for a float) starts the node; `backend: tensorflow` fails configure
    with the reason and leaves the node up and reconfigurable instead of killing it during construction."""
    env = isolated_env()
    good = tmp_path / "good.yaml"
    good.write_text("/**/lts_node:\n  ros__parameters:\n    backend: torch\n    threshold: 1\n    max_rate: 30\n")
    node = NodeProcess(env, tmp_path / "good.log", command=[LTS_NODE, "--ros-args", "--params-file", str(good)])
    try:
        node.wait_active()
    finally:
        assert node.stop() == 0, node.text()
    bad = tmp_path / "bad.yaml"
    bad.write_text("/**/lts_node:\n  ros__parameters:\n    backend: tensorflow\n    input_size: big\n")
    node = NodeProcess(env, tmp_path / "bad.log", command=[LTS_NODE, "--ros-args", "--params-file", str(bad)])
    try:
        node.wait_for_log("configure failed")
        failed = [line for line in node.text().splitlines() if "configure failed" in line][0]
        assert "backend must be one of auto, torch, onnxruntime, openvino, tensorrt, got 'tensorflow'" in failed
        assert "input_size must be an integer, got a string 'big'" in failed
        assert node.alive()
    finally:
        assert node.stop() == 0, node.text()
