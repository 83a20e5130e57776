"""The grasp client's looks during the approach, through lts_node (which follows the object it first found, so
the command is never sent again on the way): the wrist camera's way down in small steps, and the head camera's
occlusion pass, the hand stopped between the camera and the target. Each takes the client's first sight of the
target (status, mask, depth, camera pose) and returns the sight the grasp is planned from."""
from __future__ import annotations

from typing import Protocol

import numpy as np

from lts_ros.sim import panda
from lts_ros.sim.attempt import Attempt
from lts_ros.sim.grasp_plan import camera_to_world
from lts_ros.sim.pick import Kinematics, PlanError
from lts_ros.sim.wrist_camera import CAMERA_YAW

LOOK_OUT_M = 0.20  # wrist camera: the grasp frame this high over the table, over the target, for the last look
APPROACH_STEP_M = 0.03  # wrist camera: the hand moves at most this far between two looks
APPROACH_STEPS = 30  # wrist camera: at most (the target's estimate moves as the view comes closer)
IN_SIGHT_M = 0.25  # occlusion pass: the hand stops this far from the target along the camera's line of sight,
HAND_BODY_M = 0.10  # with its body there: the grasp point (between the open fingers, which the camera sees through)
#                     this far below the line
CLEAR_M = 0.30  # occlusion pass: then this high over the target (a 55 deg head camera sees past it)
MOVED_M = 0.02  # occlusion pass: a look whose centroid is this far from the planned one re-plans from that look


class Looker(Protocol):
    """What the approaches need of the grasp client."""
    values: dict

    def arm_joints(self) -> np.ndarray: ...

    def look_from(self, name: str, arm: np.ndarray, command: str, kinematics: Kinematics,
                  attempt: Attempt) -> tuple | None: ...


def target_of(sight: tuple) -> np.ndarray:
    """Where a sight puts the target: its 3D centroid in the world frame."""
    return camera_to_world(sight[3], sight[0].centroid_m)[0]


def seen(sight: tuple | None) -> bool:
    """The look saw the target, with a 3D centroid."""
    return sight is not None and sight[0].found and sight[0].centroid_m is not None


def wrist_way_down(client: Looker, command: str, sight: tuple, attempt: Attempt) -> tuple:
    """Wrist camera: from the first look (oblique) down towards the look-out over the target (straight down) in
    steps of at most APPROACH_STEP_M, turning a share of the way each, looking again after each (small steps keep
    lts_node's image motion small), aiming at where the last sight put the target; that last sight is what the
    grasp is planned from. A step where the object is lost keeps the previous sight; a step the arm cannot reach,
    even leaning less, ends the way down there (the pick goes lower than the look-out and may still be in reach)."""
    kinematics = Kinematics(client.values["robot_base"])
    try:
        frame = kinematics.grasp_frame(client.arm_joints())
        hand, tilt = frame[:3, 3], panda.tilt_of(frame)
        for _ in range(APPROACH_STEPS):
            target = target_of(sight)
            step = np.array([target[0], target[1], client.values["table_z"] + LOOK_OUT_M]) - hand
            if np.linalg.norm(step) < 1e-3:
                return sight
            share = min(1.0, APPROACH_STEP_M / np.linalg.norm(step))
            hand, tilt = hand + share * step, (1 - share) * tilt  # straight down by the look-out
            arm, tilt = kinematics.solve_leaning(hand, CAMERA_YAW, client.arm_joints(), tilt, exact_yaw=True)
            if arm is None:  # the look-out is out of reach (far corners): the last sight is the closest
                attempt.look("out_of_reach", None)
                return sight
            looked = client.look_from("step", arm, command, kinematics, attempt)
            if seen(looked):
                sight = looked
        return sight
    finally:
        kinematics.close()


def occlusion_pass(client: Looker, command: str, sight: tuple, attempt: Attempt) -> tuple:
    """Head camera: the hand stops with its body on the camera's line of sight to the target, IN_SIGHT_M from it
    (the target hidden), and the client looks; then CLEAR_M over the target, out of the camera's way, and it looks
    again. Hidden, lts_node answers lost, not another object. A look that sees the target MOVED_M or more from
    where the plan has it gives the sight the grasp is planned from (the object was pushed); a lost look, or one
    that agrees, keeps the first sight, seen unobstructed."""
    kinematics = Kinematics(client.values["robot_base"])
    try:
        target = target_of(sight)
        toward_camera = sight[3][:3, 3] - target
        in_sight = target + IN_SIGHT_M * toward_camera / np.linalg.norm(toward_camera) - [0.0, 0.0, HAND_BODY_M]
        for name, hand in (("in_sight", in_sight), ("clear", target + np.array([0.0, 0.0, CLEAR_M]))):
            arm = kinematics.solve(hand, 0.0, client.arm_joints())
            if arm is None:
                raise PlanError(f"no joint solution for the occlusion pass's '{name}' stop at ({hand[0]:.3f}, "
                                f"{hand[1]:.3f}, {hand[2]:.3f}) m")
            looked = client.look_from(name, arm, command, kinematics, attempt)
            if seen(looked):
                now = target_of(looked)
                if np.linalg.norm(now - target) >= MOVED_M:
                    sight, target = looked, now
        return sight
    finally:
        kinematics.close()
