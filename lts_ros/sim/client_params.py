"""``lts_grasp_client``'s parameters: names, defaults and descriptions in one table, and why a set of values
cannot be used (the client then exits 2, naming each problem)."""
from __future__ import annotations

import numpy as np

from lts_ros.sim.cameras import camera_problems
from lts_ros.sim.wrist_camera import MOUNT

MOTION_CAP = 4  # times motion_timeout: the longest wait for one waypoint, however slowly the arm approaches

PARAMETERS = {  # name: (default, description)
    "command": ("", "what to pick up, e.g. 'the red block' (required)"),
    "camera_pose": ([0.0] * 6 + [1.0], "the camera optical frame in the world frame: x y z (m) qx qy qz qw"),
    "robot_base": ([0.0] * 3, "the Panda's base position in the world frame, m (its robot description)"),
    "table_z": (0.0, "world z of the table top, m"),
    "node": ("lts_node", "the lts_node whose <node>/status and <node>/mask answer the command"),
    "answer_timeout": (15.0, "s to wait for lts_node's answer to the command"),
    "motion_timeout": (8.0, "s the arm may go without coming closer to a waypoint before the client gives "
                              "up on it (a slow arm that keeps approaching is waited for, up to "
                              f"{MOTION_CAP} times this)"),
    "result_file": ("", "where to write the JSON result (and the mask beside it); empty = stdout"),
    "camera": ("head", "head: a fixed camera at camera_pose; wrist: a camera on the hand at wrist_mount, whose pose "
                       "follows the joints; the client then approaches in steps and looks again on the way down"),
    "occlusion_pass": (False, "head camera: before the grasp, stop the hand on the camera's line of sight to the "
                              "target (hiding it) and look through lts_node, then lift it clear and look again; a "
                              "look that sees the target moved re-plans from it, one that does not see it keeps "
                              "the plan (the arm passing in front of the object, as it does on a real approach)"),
    "wrist_mount": (list(MOUNT), "the wrist camera's optical frame in the grasp frame (panda_grasptarget): "
                                 "x y z (m) qx qy qz qw"),
}


def parameter_problems(values: dict) -> list[str]:
    """Why these parameter values cannot be used (empty when they can)."""
    problems = []
    for name, (default, _) in PARAMETERS.items():
        value = values[name]
        if isinstance(default, bool):
            if not isinstance(value, bool):
                problems.append(f"{name} must be true or false, got {value!r}")
        elif isinstance(default, list):
            if not (isinstance(value, (list, tuple)) and len(value) == len(default)
                    and all(isinstance(v, (int, float)) and np.isfinite(v) for v in value)):
                problems.append(f"{name} must be {len(default)} finite numbers, got {value!r}")
        elif isinstance(default, float):
            if not (isinstance(value, (int, float)) and np.isfinite(value)) or (name.endswith("timeout") and value <= 0):
                problems.append(f"{name} must be a finite number{' > 0' if name.endswith('timeout') else ''}, "
                                f"got {value!r}")
        elif not isinstance(value, str):
            problems.append(f"{name} must be a string, got {value!r}")
    if not problems:
        problems += camera_problems(values["camera"], values["occlusion_pass"])
    if not problems and not values["command"].strip():
        problems.append("command is empty: say what to pick up, e.g. -p command:='the red block'")
    for name in ("camera_pose", "wrist_mount"):
        if not problems and abs(np.linalg.norm(values[name][3:]) - 1.0) > 1e-3:
            problems.append(f"{name}'s quaternion must have unit norm, got {values[name][3:]}")
    return problems
