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

    def solve(self, position: Sequence[float], yaw: float, seed: Sequence[float], tilt: float = 0.0
              ) -> np.ndarray | None:
        return panda.solve_ik(self.client, self.robot, position, yaw, seed, tilt)

    def solve_leaning(self, position: Sequence[float], yaw: float, seed: Sequence[float], tilt: float
                      ) -> tuple[np.ndarray | None, float]:
        """``solve`` leant by ``tilt``, or, where that lean is out of reach (near the robot's base, the workspace's
        far corners), by less: half of it, then straight down. (joints or None, the lean they have)."""
        for lean in dict.fromkeys((tilt, tilt / 2, 0.0)):
            arm = self.solve(position, yaw, seed, lean)
            if arm is not None:
                return arm, lean
        return None, tilt

    def grasp_frame(self, arm: Sequence[float]) -> np.ndarray:
        """The grasp frame's pose (4x4, world) with the arm's joints at ``arm``: forward kinematics."""
        from lts_ros.sim.wrist_camera import world_from_grasp

        panda.set_joints(self.client, self.robot, arm, panda.FINGER_OPEN_M)
        return world_from_grasp(self.client, self.robot)


def plan_pick(grasp: Grasp, kinematics: Kinematics, current: Sequence[float]) -> list[Waypoint]:
    """The pick's waypoints from the arm's ``current`` joints; PlanError when it cannot be done."""
    if not grasp.fits:
        raise PlanError(f"the object is {grasp.width_m * 100:.1f} cm across its narrow side: wider than the "
                        f"fingers' {MAX_OPENING_M * 100:.0f} cm opening")
    x, y, z = grasp.position
    seed = np.asarray(current[:7], np.float64)
    waypoints = []
    heights = [("above", z + ABOVE_M)] + [("descend", z + ABOVE_M * (1 - k / DESCENT_STEPS))
                                         for k in range(1, DESCENT_STEPS + 1)]
    for name, height in heights:
        q = kinematics.solve((x, y, height), grasp.yaw, seed)
        if q is None:
            raise PlanError(f"no joint solution for the grasp point at ({x:.3f}, {y:.3f}, {height:.3f}) m: "
                            f"out of the arm's reach")
        waypoints.append(Waypoint(name, q, panda.FINGER_OPEN_M, "arm"))
        seed = q
    waypoints.append(Waypoint("close", None, 0.0, "fingers"))
    lift = kinematics.solve((x, y, z + LIFT_M), grasp.yaw, seed)
    if lift is None:
        raise PlanError(f"no joint solution to lift from ({x:.3f}, {y:.3f}) m")
    waypoints.append(Waypoint("lift", lift, 0.0, "arm"))
    return waypoints
