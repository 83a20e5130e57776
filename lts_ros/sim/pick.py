"""A top-down pick as joint-space waypoints: above the object, down to the closing height with open fingers,
close, lift. Plain Python over a kinematic model of the Panda (its own pybullet DIRECT client), as a robot
stack plans on its robot description; the cell only follows the targets."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lts_ros.data.tabletop.assets import PybulletClient
from lts_ros.errors import LtsError
from lts_ros.sim import panda
from lts_ros.sim.grasp_plan import MAX_OPENING_M, Grasp

ABOVE_M = 0.12  # the approach starts this far above the closing height
DESCENT_STEPS = 3  # waypoints on the way down (IK along a straight line, so the fingers go straight down)
LIFT_M = 0.15
# A joint turning more than this per metre between two waypoints of the straight way down or up: IK jumped to
# another branch (0.1-0.2 rad over a 4 cm step seen, 2.3 rad in one near the base, 2026-12-06)
TURN_RAD_PER_M = 10.0


class PlanError(LtsError):
    """No motion for this grasp: the object is too wide for the fingers, or a pose is out of reach."""


@dataclass(frozen=True)
class Waypoint:
    name: str  # above | descend | close | lift
    arm: np.ndarray | None  # seven joint targets (rad); None = keep the arm where it is
    finger_m: float  # each finger's target opening
    wait_for: str  # "arm": until the arm is there; "fingers": until the fingers stop moving


class Kinematics:
    """A Panda at ``base_xyz`` in a pybullet client of its own, for IK only."""

    def __init__(self, base_xyz: Sequence[float]):
        self.client = PybulletClient()
        self.robot = panda.load(self.client, base_xyz)

    def close(self) -> None:
        self.client.disconnect()

    def solve(self, position: Sequence[float], yaw: float, seed: Sequence[float], tilt: float = 0.0,
              exact_yaw: bool = False) -> np.ndarray | None:
        return panda.solve_ik(self.client, self.robot, position, yaw, seed, tilt, exact_yaw)

    def solve_leaning(self, position: Sequence[float], yaw: float, seed: Sequence[float], tilt: float,
                      exact_yaw: bool = False) -> tuple[np.ndarray | None, float]:
        """``solve`` leant by ``tilt``, or, where that lean is out of reach (near the robot's base, the workspace's
        far corners), by less: half of it, then straight down. (joints or None, the lean they have)."""
        for lean in dict.fromkeys((tilt, tilt / 2, 0.0)):
            arm = self.solve(position, yaw, seed, lean, exact_yaw)
            if arm is not None:
                return arm, lean
        return None, tilt

    def grasp_frame(self, arm: Sequence[float]) -> np.ndarray:
        """The grasp frame's pose (4x4, world) with the arm's joints at ``arm``: forward kinematics."""
        from lts_ros.sim.wrist_camera import world_from_grasp

        panda.set_joints(self.client, self.robot, arm, panda.FINGER_OPEN_M)
        return world_from_grasp(self.client, self.robot)


def plan_pick(grasp: Grasp, kinematics: Kinematics, current: Sequence[float]) -> list[Waypoint]:
    """The pick's waypoints from the arm's ``current`` joints; PlanError when it cannot be done. IK is local: where
    the chain solved from ``current`` has no solution, or IK jumped on the straight way down or up (a joint turning
    more than TURN_RAD_PER_M per metre between two waypoints), the whole chain is solved again from HOME and taken
    if it solves without a jump; otherwise the first chain that solves."""
    if not grasp.fits:
        raise PlanError(f"the object is {grasp.width_m * 100:.1f} cm across its narrow side: wider than the "
                        f"fingers' {MAX_OPENING_M * 100:.0f} cm opening")
    first, problem = None, None
    for seed in (current, panda.HOME):
        try:
            waypoints, turn = _pick_from(grasp, kinematics, np.asarray(seed[:7], np.float64))
        except PlanError as e:
            problem = problem or e
            continue
        if turn <= TURN_RAD_PER_M:
            return waypoints
        first = first or waypoints
    if first is None:
        raise problem
    return first


def _pick_from(grasp: Grasp, kinematics: Kinematics, seed: np.ndarray) -> tuple[list[Waypoint], float]:
    """The pick's waypoints with IK seeded at ``seed``, and the largest joint turn per metre on its straight way
    down and up; PlanError where a waypoint has no solution."""
    x, y, z = grasp.position
    heights = [("above", z + ABOVE_M)] + [("descend", z + ABOVE_M * (1 - k / DESCENT_STEPS))
                                         for k in range(1, DESCENT_STEPS + 1)] + [("lift", z + LIFT_M)]
    waypoints, last, turn = [], None, 0.0
    for name, height in heights:
        q = kinematics.solve((x, y, height), grasp.yaw, seed)
        if q is None and name == "lift":
            raise PlanError(f"no joint solution to lift from ({x:.3f}, {y:.3f}) m")
        if q is None:
            raise PlanError(f"no joint solution for the grasp point at ({x:.3f}, {y:.3f}, {height:.3f}) m: out of "
                            f"the arm's reach")
        if last is not None:
            turn = max(turn, float(np.abs(q - seed).max()) / abs(height - last))
        if name == "lift":
            waypoints.append(Waypoint("close", None, 0.0, "fingers"))
        waypoints.append(Waypoint(name, q, 0.0 if name == "lift" else panda.FINGER_OPEN_M, "arm"))
        seed, last = q, height
    return waypoints, turn
