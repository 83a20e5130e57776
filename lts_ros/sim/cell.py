"""The simulated robot cell, plain pybullet (no ROS): a settled tabletop of graspable objects, the Panda fixed at
the table's left edge and an RGB-D camera: a fixed head camera in front of the table, looking down at the
workspace, or one on the Panda's wrist (``sim/wrist_camera.py``), the arm then parked over the workspace with the
camera looking down.

World frame: the tabletop world's (z up, table top at TABLE_TOP_Z). The camera's pose in it is what TF would give
a real robot; the grasp client gets it as a parameter (no tf2 message package is installable here)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pybullet as pb

from lts_ros.data.tabletop.scene import TABLE_TOP_Z, Camera, Scene
from lts_ros.data.tabletop.view import camera_looking_at, sample_light
from lts_ros.data.tabletop.world import build_tabletop
from lts_ros.sim import panda
from lts_ros.sim.cameras import check_camera
from lts_ros.sim.wrist_camera import CAMERA_YAW, PARK_TILT_DEG, park_position, world_from_grasp, wrist_camera

# Named categories that fit the Panda's 8 cm opening across their narrow side (measured with ground-truth masks,
# see docs/grasp.md): blocks and balls 4-7 cm, lego bricks, jenga planks (2.5-5 cm wide), ducks. Mugs (10-13 cm,
# 8-10 cm across the body), teddies, rings (up to 9 cm across) and trays do not fit.
GRASPABLE = ("block", "ball", "lego", "jenga", "duck")
ROBOT_BASE = (-0.62, 0.0, TABLE_TOP_Z)
WORKSPACE = (np.array([-0.35, -0.22]), np.array([0.15, 0.22]))  # object centres, world x/y: within top-down reach
HEAD_CAMERA = camera_looking_at((-0.08, 0.0, TABLE_TOP_Z), dist_m=0.75, elev_deg=55.0, azim_deg=0.0, fov_deg=48.0)
OBJECTS = (3, 5)  # named objects per scene, inclusive
WORKSPACE_CENTRE = (float((WORKSPACE[0][0] + WORKSPACE[1][0]) / 2), float((WORKSPACE[0][1] + WORKSPACE[1][1]) / 2),
                    TABLE_TOP_Z)
STEP_HZ = 240.0
ARM_GAIN = 0.05  # position-control gain: a smooth move rather than a jump


class Cell:
    """The cell of scene ``seed``: objects at rest, looking as the ``appearance`` family says
    (data/tabletop/appearance.py), seen by the ``camera`` (head or wrist); the Panda with open fingers at home, or
    with the wrist camera over the workspace (``start``: its joints)."""

    def __init__(self, seed: int, objects: tuple[int, int] = OBJECTS, appearance: str = "flat",
                 camera: str = "head"):
        check_camera(camera, occlusion=False)
        self.tabletop = build_tabletop(seed, HEAD_CAMERA, objects, GRASPABLE, region=WORKSPACE,
                                       appearance=appearance)
        self.client = self.tabletop.client
        self.robot = panda.load(self.client, ROBOT_BASE)
        self.camera_name = camera
        self.light = replace(sample_light(np.random.default_rng(seed)), shadow=False)  # half the render time
        self.sim_time_s = 0.0
        self.start = np.array(panda.HOME)
        if camera == "wrist":
            self.start = panda.solve_ik(self.client, self.robot, park_position(WORKSPACE_CENTRE), CAMERA_YAW,
                                        panda.HOME, np.radians(PARK_TILT_DEG), exact_yaw=True)
            panda.set_joints(self.client, self.robot, self.start, panda.FINGER_OPEN_M)
        self.command(self.start, panda.FINGER_OPEN_M)

    def close(self) -> None:
        self.tabletop.close()

    @property
    def camera(self) -> Camera:
        """The camera as it is now (the wrist camera moves with the hand)."""
        if self.camera_name == "wrist":
            return wrist_camera(world_from_grasp(self.client, self.robot))
        return HEAD_CAMERA

    def view(self) -> Scene:
        """What the camera sees now, with the objects' ground truth."""
        return self.tabletop.render(self.camera, self.light)

    def command(self, arm: np.ndarray | tuple | None, finger_m: float | None) -> None:
        """New position targets for the arm's seven joints and/or each finger (None keeps the current target)."""
        if arm is not None:
            self.client.setJointMotorControlArray(
                self.robot, list(panda.ARM_JOINTS), pb.POSITION_CONTROL, targetPositions=[float(q) for q in arm],
                forces=list(panda.ARM_TORQUE_NM), positionGains=[ARM_GAIN] * len(panda.ARM_JOINTS))
        if finger_m is not None:
            finger_m = float(np.clip(finger_m, 0.0, panda.FINGER_OPEN_M))
            self.client.setJointMotorControlArray(
                self.robot, list(panda.FINGER_JOINTS), pb.POSITION_CONTROL, targetPositions=[finger_m] * 2,
                forces=[panda.FINGER_FORCE_N] * 2)

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            self.client.stepSimulation()
        self.sim_time_s += n / STEP_HZ

    def joints(self) -> tuple[np.ndarray, np.ndarray]:
        """(positions, velocities) of the arm's seven joints then the two fingers."""
        states = self.client.getJointStates(self.robot, [*panda.ARM_JOINTS, *panda.FINGER_JOINTS])
        return np.array([s[0] for s in states]), np.array([s[1] for s in states])

    def object_positions(self) -> dict[int, np.ndarray]:
        """Each object's base position (world, metres), by instance id."""
        return {i: np.array(self.client.getBasePositionAndOrientation(b)[0])
                for i, b in enumerate(self.tabletop.bodies)}

    def object_bottoms(self) -> dict[int, float]:
        """Each object's lowest point (world z), by instance id."""
        return {i: float(self.client.getAABB(b)[0][2]) for i, b in enumerate(self.tabletop.bodies)}
