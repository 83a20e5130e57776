"""lts bag record-sim: an episode of a moving camera over one scene, commands in turn, ground truth per frame."""
import numpy as np

from lts_ros.bag.format import BagTopics
from lts_ros.bag.io import read_messages
from lts_ros.geometry import project
from lts_ros.ros.conversions import depth_from_image, image_to_array, rgb_from_image

from conftest import run_lts


def test_record_sim_writes_an_episode_with_ground_truth(tmp_path):
    bag = tmp_path / "sim"
    result = run_lts("bag", "record-sim", "--out", str(bag), "--episodes", "1", "--rate", "5", "--seconds", "1.2",
                     "--commands", "2", "--quiet", "--topics", "color=/cam/rgb")
    assert result.returncode == 0, result.stderr
    assert "1 episodes, 6 frames, 2 commands" in result.stdout
    topics = BagTopics().with_overrides(["color=/cam/rgb"])
    messages = list(read_messages(bag))
    by_topic = {t: [(stamp, msg) for topic, stamp, msg in messages if topic == t] for t in topics.types()}
    commands, colors = by_topic[topics.command], by_topic[topics.color]
    assert len(commands) == 2 and commands[0][1].data != commands[1][1].data and len(colors) == 6
    assert commands[0][0] < colors[0][0] and colors[2][0] < commands[1][0] < colors[3][0]  # 3 frames each
    frames = [rgb_from_image(msg) for _, msg in colors]
    assert not np.array_equal(frames[0], frames[-1])  # the camera moves
    infos, centroids = by_topic[topics.camera_info], by_topic[topics.gt_centroid]
    assert len(centroids) == 6
    for (stamp, color), (_, mask_msg), (_, depth_msg), (_, info), (c_stamp, centroid) in zip(
            colors, by_topic[topics.gt_mask], by_topic[topics.depth], infos, centroids):
        mask = image_to_array(mask_msg) > 0
        assert stamp == c_stamp and mask.sum() >= 400  # the target stays in view
        K = np.reshape(info.k, (3, 3))
        u, v = project(np.array([[centroid.point.x, centroid.point.y, centroid.point.z]]), K)[0]
        assert mask[int(round(v)), int(round(u))] or np.hypot(*(np.argwhere(mask).mean(0) - (v, u))) < 30
        assert depth_from_image(depth_msg)[mask].min() > 0


def test_record_sim_adds_a_command_naming_nothing_and_one_naming_several_with_their_target_sets(tmp_path):
    bag = tmp_path / "sets"
    result = run_lts("bag", "record-sim", "--out", str(bag), "--episodes", "1", "--seed", "3", "--rate", "5",
                     "--seconds", "1.2", "--commands", "1", "--target-sets", "one,none,several", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "1 episodes, 6 frames, 3 commands" in result.stdout
    t = BagTopics()
    messages = list(read_messages(bag))
    commands = [(stamp, msg.data) for topic, stamp, msg in messages if topic == t.command]
    target_sets = [(stamp, msg.data) for topic, stamp, msg in messages if topic == t.gt_target_set]
    assert [s for _, s in target_sets] == ["one", "none", "several"]
    assert [stamp for stamp, _ in target_sets] == [stamp for stamp, _ in commands]  # one log time each
    appearances = [(stamp, msg.data) for topic, stamp, msg in messages if topic == t.gt_appearance]
    assert appearances == [(stamp, "flat") for stamp, _ in commands]  # the episode's family, with each command
    masks = [image_to_array(msg) > 0 for topic, _, msg in messages if topic == t.gt_mask]
    centroid_stamps = [stamp for topic, stamp, _ in messages if topic == t.gt_centroid]
    color_stamps = [stamp for topic, stamp, _ in messages if topic == t.color]
    assert all(m.sum() >= 400 for m in masks[:2]) and not masks[2].any() and not masks[3].any()  # none: empty
    assert all(m.sum() >= 800 for m in masks[4:])  # several: the union of two or more visible objects
    assert centroid_stamps == color_stamps[:2]  # a 3D centroid only for the command that names one object


def test_record_sim_rejects_bad_options_in_one_line(tmp_path):
    result = run_lts("bag", "record-sim", "--out", str(tmp_path / "x"), "--seconds", "0")
    assert result.returncode == 2 and "--seconds > 0" in result.stderr and "Traceback" not in result.stderr
    result = run_lts("bag", "record-sim", "--out", str(tmp_path / "y"), "--topics", "rgb=/x")
    assert result.returncode == 2 and "bad --topics entry 'rgb=/x'" in result.stderr
    assert not (tmp_path / "y").exists()
    result = run_lts("bag", "record-sim", "--out", str(tmp_path / "z"), "--target-sets", "one,two")
    assert result.returncode == 2 and "--target-sets takes a comma-separated list of none, one, several" \
        in result.stderr and "Traceback" not in result.stderr
