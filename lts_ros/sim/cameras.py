"""The grasp cell's cameras and which client mode goes with which: one place for the rule that the CLI, the
episode runner and the grasp client all check (this module imports nothing heavy, so a CLI mistake is refused
before the simulator loads)."""
from __future__ import annotations

from lts_ros.errors import LtsError

CAMERAS = ("head", "wrist")  # head: fixed in front of the table; wrist: on the Panda's hand


def camera_problems(camera: str, occlusion: bool) -> list[str]:
    """Why this camera and occlusion-pass choice cannot run (empty when it can)."""
    if camera not in CAMERAS:
        return [f"camera must be {' or '.join(CAMERAS)}, got {camera!r}"]
    if occlusion and camera != "head":
        return ["the occlusion pass is the head camera's case (the wrist camera looks on its way down)"]
    return []


def check_camera(camera: str, occlusion: bool) -> None:
    """LtsError naming the first of ``camera_problems``, if any."""
    for problem in camera_problems(camera, occlusion):
        raise LtsError(problem)
