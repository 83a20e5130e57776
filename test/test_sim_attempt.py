"""The grasp client's per-command report: it round-trips through its files, with and without a mask, and says why
it refused."""
from __future__ import annotations

import dataclasses

import numpy as np

from lts_ros.ros.status import FrameStatus
from lts_ros.sim.attempt import Attempt, mask_path, read_attempt
from lts_ros.sim.grasp_client import refusal


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


def status(state: str, several: float, candidates: int) -> FrameStatus:
    boxes = tuple((10 * i, 0, 10 * i + 5, 5) for i in range(candidates))
    return FrameStatus(0, "camera_color_optical_frame", "the bigger ball", 1, state, 0.99, several, None, None, None,
                       "", boxes, 30.0, 25.0)


def test_a_refusal_says_why_the_answer_was_ambiguous():
    said_several = refusal(status("ambiguous", 0.83, 1))
    assert "names several: 0.83" in said_several and "objects in the mask: 1" in said_several
    assert "objects in the mask: 2" in refusal(status("ambiguous", 0.10, 2))
    assert refusal(status("not_found", 0.01, 0)) == "lts_node: not_found (score 0.99)"
    read = dataclasses.replace(status("ambiguous", 0.1, 2), reason="did not understand: 'between the cup and'")
    assert refusal(read).endswith(": did not understand: 'between the cup and'")
