"""The grasp client's per-command report round-trips through its files, with and without a mask."""
from __future__ import annotations

import numpy as np

from lts_ros.sim.attempt import Attempt, mask_path, read_attempt


def test_a_grasped_attempt_reads_back_with_its_mask(tmp_path):
    mask = np.zeros((48, 64), bool)
    mask[10:20, 30:40] = True
    path = tmp_path / "episodes" / "003.json"
    Attempt("the red mug", state="found", score=0.93, mask=mask).ended("grasped", "lifted 12 cm").write(path)
    attempt, read = read_attempt(path)
    assert attempt["decision"] == "grasped" and attempt["score"] == 0.93
    assert read is not None and np.array_equal(read, mask)


def test_a_refused_attempt_reads_back_without_asking_for_a_mask(tmp_path, capfd):
    path = tmp_path / "episodes" / "057.json"
    Attempt("the purple duck", state="not_found", score=0.04).ended("refused", "lts_node: not_found").write(path)
    assert not mask_path(path).exists()
    attempt, read = read_attempt(path)
    assert attempt["decision"] == "refused" and read is None
    assert "imread" not in capfd.readouterr().err  # OpenCV warns on stderr when asked for a missing file
