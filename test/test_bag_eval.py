"""lts bag eval (offline): a recorded sim bag through the shipped model, scored against its ground truth,
with the output bag, metrics.json and report.md; bags without ground truth or without frames."""
import json

import numpy as np
import pytest

from lts_ros.bag.format import BagTopics
from lts_ros.bag.io import BagWriter, bag_topics, read_messages
from lts_ros.bag.record import record_sim

from conftest import run_lts


@pytest.fixture(scope="module")
def sim_bag(tmp_path_factory):
    path = tmp_path_factory.mktemp("bags") / "sim"
    record_sim(path, episodes=1, seed=3, rate_hz=5, seconds=2.0, commands_per_episode=2, progress=False)
    return path


def test_offline_eval_scores_the_bag_and_writes_the_report(sim_bag, tmp_path):
    out = tmp_path / "eval"
    result = run_lts("bag", "eval", str(sim_bag), "--out", str(out), "--backend", "torch", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "10 frames (10 with ground truth): mIoU" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["frames"] == 10 and metrics["frames_without_output"] == 0
    assert metrics["accuracy"]["mean_iou"] >= 0.6  # the shipped model on sim frames (mIoU ~0.8-0.9)
    assert metrics["centroid_error_m"]["median"] <= 0.03
    assert [r["frames"] for r in metrics["per_command"]] == [5, 5]
    assert metrics["latency_ms"]["p50"] <= metrics["latency_ms"]["p90"] <= metrics["latency_ms"]["p99"]
    for name in ("report.md", "iou_over_time.png", "latency.png", "overlays.png"):
        assert (out / name).is_file(), name
    assert "| mean IoU / overall IoU |" in (out / "report.md").read_text()
    outputs = bag_topics(out / "output_bag")
    assert {"/lts/mask", "/lts/overlay", "/lts/centroid", BagTopics().color} <= outputs.keys()
    masks = [m for t, _, m in read_messages(out / "output_bag", {"/lts/mask"})]
    assert len(masks) == 10


def test_a_bag_without_ground_truth_gives_outputs_and_latency(tmp_path):
    path = tmp_path / "camera_only"
    with BagWriter(path) as bag:
        bag.write_command(0, "the red mug")
        for i in range(3):
            bag.write_frame(1000 + i, np.zeros((48, 64, 3), np.uint8), None, np.diag([50.0, 50.0, 1.0]))
    result = run_lts("bag", "eval", str(path), "--out", str(tmp_path / "eval"), "--backend", "torch", "--quiet")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["accuracy"] is None and metrics["frames"] == 3 and metrics["latency_ms"]["p50"] > 0


def test_bags_that_cannot_be_evaluated_are_one_line_errors(tmp_path, sim_bag):
    result = run_lts("bag", "eval", str(sim_bag), "--out", str(tmp_path / "e"), "--topics", "color=/nope")
    assert result.returncode == 2 and "has no colour topic /nope" in result.stderr
    empty = tmp_path / "empty"
    with BagWriter(empty):
        pass
    result = run_lts("bag", "eval", str(empty), "--out", str(tmp_path / "e2"), "--backend", "torch")
    assert result.returncode == 2 and "holds no colour frames" in result.stderr and "Traceback" not in result.stderr
    result = run_lts("bag", "eval", str(tmp_path / "missing"), "--out", str(tmp_path / "e3"))
    assert result.returncode == 2 and "bag not found" in result.stderr


def test_live_replay_through_the_node_agrees_with_offline(sim_bag, tmp_path):
    offline, live = tmp_path / "offline", tmp_path / "live"
    for out, extra in ((offline, []), (live, ["--live"])):
        result = run_lts("bag", "eval", str(sim_bag), "--out", str(out), "--backend", "torch", "--quiet", *extra)
        assert result.returncode == 0, result.stderr
    a, b = (json.loads((out / "metrics.json").read_text()) for out in (offline, live))
    assert b["frames"] == 10 and b["frames_without_output"] == 0  # 5 Hz: the model keeps up, nothing dropped
    assert abs(a["accuracy"]["mean_iou"] - b["accuracy"]["mean_iou"]) <= 0.01
    assert abs(a["centroid_error_m"]["median"] - b["centroid_error_m"]["median"]) <= 0.005
    assert b["latency_ms"]["p50"] > 0 and "active:" in (live / "lts_node.log").read_text()
