"""The closed loop over real DDS: the cell's drivers in this process, lts_node and lts_grasp_client in their own,
one seeded episode judged from the simulator; and the cell and the client facing bad input."""
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from lts_ros.ros.harness.domain import isolated_env
from lts_ros.ros.harness.participant import Participant
from lts_ros.sim import panda
from lts_ros.sim.cell import Cell
from lts_ros.sim.episodes import run_grasp

CLIENT = Path(sys.executable).parent / "lts_grasp_client"  # the console script, as a user runs it


def test_one_episode_end_to_end_over_dds(tmp_path, edge_export):
    out = tmp_path / "grasp"
    figures = run_grasp(out, episodes=1, no_target=1, seed=0, node_params={"onnx_dir": str(edge_export)},
                        record_episodes=1, progress=False)
    episodes = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    unique, negative = episodes
    assert unique["target"] is not None and negative["target"] is None and negative["kind"] == "no_target"
    # judged from the simulator's ground truth: the named object is up, nothing else moved
    assert unique["outcome"] == "success", (unique["decision"], unique["detail"], unique)
    assert unique["decision"] == "grasped" and unique["target_lift_m"] >= 0.10 and unique["arm_moved"]
    assert figures["success_rate"] == 1.0 and figures["unique_episodes"] == 1
    # until lts_node can say "not there", a no-target command is recorded as whatever happened
    assert negative["outcome"] in ("refused", "moved", "not_moved") and negative["decision"]
    assert figures["refusal_rate"] in (0.0, 1.0)
    client = json.loads((out / "episodes" / "000.json").read_text())
    # the answer acted on is the first with a 3D centroid: the node's first ("found") or, where lts_node had no
    # camera_info yet for that frame (its reader still matching), the next frame's on the same lock ("tracking")
    assert client["state"] in ("found", "tracking") and client["grasp"]["width_m"] < 0.08 and client["answer_s"] > 0
    assert (out / "episodes" / "000.mask.png").is_file() and (out / "episodes" / "001.png").is_file()
    assert "episodes/000.png" in (out / "report.md").read_text()
    from PIL import Image
    with Image.open(out / "grasp.gif") as gif:
        assert gif.n_frames > 4
    for log in (out / "episodes").glob("*.log"):
        assert "Traceback" not in log.read_text(), log


def test_a_wrist_camera_episode_follows_the_object_down_and_grasps_it(tmp_path, edge_export):
    """The camera on the hand: the client names from the parked arm's look, goes down in steps looking again at each
    (lts_node follows the object it first found, through the camera's motion), grasps from the last look."""
    out = tmp_path / "wrist"
    # seed 1: a development seed, its first command answered found from the first look (measured)
    figures = run_grasp(out, episodes=1, no_target=0, seed=1, node_params={"onnx_dir": str(edge_export)},
                        record_episodes=0, progress=False, camera="wrist")
    (episode,) = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    client = json.loads((out / "episodes" / "000.json").read_text())
    assert episode["outcome"] == "success", (episode["decision"], episode["detail"], episode)
    assert figures["run"]["camera"] == "wrist" and client["state"] in ("found", "tracking")
    states = {look["state"] for look in client["looks"]}
    assert len(client["looks"]) >= 3 and states <= {"tracking", "reacquired"}, client["looks"]
    assert figures["looks"]["step"] == dict(Counter(look["state"] for look in client["looks"]))


def test_the_arm_passing_in_front_of_the_target_is_answered_lost_not_another_object(tmp_path, edge_export):
    """The head camera's occlusion case: the hand stops on the camera's line of sight to the target and the client
    looks; lts_node, following the object it found (lock-on), answers lost rather than naming what else it sees,
    then sees it again once the hand is clear, and the grasp succeeds."""
    out = tmp_path / "occlusion"
    figures = run_grasp(out, episodes=1, no_target=0, seed=0, node_params={"onnx_dir": str(edge_export)},
                        record_episodes=0, progress=False, occlusion=True)
    (episode,) = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert episode["outcome"] == "success", (episode["decision"], episode["detail"], episode)
    assert [look["at"] for look in episode["looks"]] == ["in_sight", "clear"], episode["looks"]
    hidden, clear = (look["state"] for look in episode["looks"])
    assert hidden == "lost" and clear in ("tracking", "reacquired"), episode["looks"]
    assert figures["run"]["occlusion"] is True and figures["looks"] == {"in_sight": {"lost": 1}, "clear": {clear: 1}}


def test_the_grasp_client_refuses_bad_parameters_in_one_line(tmp_path):
    env = isolated_env()
    for args, message in ((["-p", "command:=''"], "command is empty"),
                          (["-p", "command:=the red block", "-p", "camera_pose:=[1.0, 2.0]"], "camera_pose must be 7"),
                          (["-p", "command:=the red block", "-p", "camera_pose:=[0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 2.0]"],
                           "unit norm"),
                          (["-p", "command:=the red block", "-p", "answer_timeout:=-1.0"], "answer_timeout must be"),
                          (["-p", "command:=the red block", "-p", "camera:=shoulder"], "camera must be head or wrist"),
                          (["-p", "command:=the red block", "-p", "occlusion_pass:=maybe"],
                           "occlusion_pass must be true or false"),
                          (["-p", "command:=the red block", "-p", "camera:=wrist", "-p", "occlusion_pass:=true"],
                           "the occlusion pass is the head camera's case")):
        done = subprocess.run([str(CLIENT), "--ros-args", *args], env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr + done.stdout and "Traceback" not in done.stderr, done.stderr


def test_the_cell_ignores_bad_joint_commands_and_follows_good_ones():
    """A stock publisher (create_publisher(JointState, "joint_command", 10)) sends what other people's code might."""
    import rclpy
    from sensor_msgs.msg import JointState

    from lts_ros.sim.cell_node import CellNode

    cell = Cell(3)
    graph = Participant(isolated_env(), lambda context: CellNode(fps=1.0, context=context))
    try:
        user = rclpy.create_node("someone_elses_code", context=graph.context)
        publisher = user.create_publisher(JointState, "joint_command", 10)
        graph.executor.add_node(user)

        def spin(seconds: float) -> None:
            graph.spin_for(seconds, 0.005)
        graph.node.attach(cell)
        graph.spin_until(lambda: publisher.get_subscription_count() > 0, 10, 0.005)
        spin(0.3)
        target = np.array(panda.HOME) + 0.3
        for bad in (JointState(name=["elbow"], position=[1.0]),  # unknown joint
                    JointState(name=list(panda.ARM_NAMES[:3]), position=[0.5, 0.5, 0.5]),  # part of the arm
                    JointState(name=list(panda.ARM_NAMES), position=[float("nan")] * 7),
                    JointState(name=list(panda.ARM_NAMES), position=[0.1] * 6)):  # names and positions disagree
            publisher.publish(bad)
        spin(1.5)
        assert np.abs(cell.joints()[0][:7] - np.array(panda.HOME)).max() < 0.02  # none of them moved the arm
        publisher.publish(JointState(name=list(panda.ARM_NAMES), position=target.tolist()))
        spin(4.0)
        assert np.abs(cell.joints()[0][:7] - target).max() < 0.02
    finally:
        cell.close()
        graph.close()


def test_the_grasp_client_without_lts_node_says_no_answer_and_moves_nothing():
    done = subprocess.run([str(CLIENT), "--ros-args", "-p", "command:=the red block", "-p", "answer_timeout:=2.0"],
                          env=isolated_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    attempt = json.loads(done.stdout.strip().splitlines()[-1])
    assert attempt["decision"] == "no_answer" and "never appeared" in attempt["detail"] and attempt["grasp"] is None
