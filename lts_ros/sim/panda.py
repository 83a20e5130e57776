"""The Franka Panda of the simulated cell (``pybullet_data/franka_panda/panda.urdf``): its joints, home pose and
top-down inverse kinematics. The grasp client solves IK on a model of its own, as a robot stack does with its
robot description; the cell drives the same URDF with position control."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pybullet as pb

from lts_ros.data.tabletop.assets import PANDA_FINGER_JOINTS as FINGER_JOINTS
from lts_ros.data.tabletop.assets import PANDA_GRASP_LINK as GRASP_LINK
from lts_ros.data.tabletop.assets import PANDA_URDF as URDF

ARM_JOINTS = tuple(range(7))  # panda_joint1..7
ARM_NAMES = tuple(f"panda_joint{i}" for i in range(1, 8))
FINGER_NAMES = ("panda_finger_joint1", "panda_finger_joint2")
# Arm raised over its base, hand down: out of the head camera's view
HOME = (0.0, -0.6, 0.0, -2.4, 0.0, 1.8, np.pi / 4)
FINGER_OPEN_M = 0.04
ARM_TORQUE_NM = (87.0,) * 4 + (12.0,) * 3
FINGER_FORCE_N = 40.0
IK_ITERATIONS, IK_RESIDUAL, IK_REPEATS = 200, 1e-5, 20
IK_TOLERANCE_M = 0.005  # a solution whose grasp point lands farther than this from the goal is a failure


def load(client, base_xyz: Sequence[float]) -> int:
    """The Panda fixed at ``base_xyz`` (world), at HOME with open fingers; returns its body id."""
    body = client.loadURDF(str(URDF), list(base_xyz), useFixedBase=True)
    set_joints(client, body, HOME, FINGER_OPEN_M)
    for link in FINGER_JOINTS:  # fingertips grip rather than slide
        client.changeDynamics(body, link, lateralFriction=1.5, spinningFriction=0.01)
    return body


def set_joints(client, body: int, arm: Sequence[float], finger_m: float) -> None:
    """Teleport the joints (no physics): for models and resets."""
    for joint, q in zip(ARM_JOINTS, arm):
        client.resetJointState(body, joint, q)
    for joint in FINGER_JOINTS:
        client.resetJointState(body, joint, finger_m)


def top_down(yaw: float, tilt: float = 0.0) -> tuple[float, float, float, float]:
    """The grasp frame's orientation pointing straight down with the fingers closing along world ``yaw``; with
    ``tilt`` (rad), its approach leant that far from straight down towards world +x (away from the robot)."""
    down = pb.getQuaternionFromEuler((np.pi, 0.0, yaw + np.pi / 2))
    return pb.multiplyTransforms((0, 0, 0), pb.getQuaternionFromEuler((0.0, -tilt, 0.0)), (0, 0, 0), down)[1]


def tilt_of(world_from_grasp: np.ndarray) -> float:
    """How far (rad) a grasp frame's approach leans from straight down towards world +x (``top_down``'s tilt)."""
    approach = world_from_grasp[:3, 2]
    return float(np.arctan2(approach[0], -approach[2]))


def solve_ik(client, body: int, position: Sequence[float], yaw: float, seed: Sequence[float],
             tilt: float = 0.0, exact_yaw: bool = False) -> np.ndarray | None:
    """Arm joints that put the grasp point at ``position`` pointing down (leant by ``tilt``) with the fingers closing
    along ``yaw`` (or ``yaw + pi``, the same grasp: whichever is nearer ``seed``; with ``exact_yaw`` only ``yaw``:
    a camera on the hand sees the world turned half round otherwise, from elsewhere), within the joint limits; None
    when no solution comes within IK_TOLERANCE_M (out of reach)."""
    lower, upper = np.array([client.getJointInfo(body, j)[8:10] for j in ARM_JOINTS]).T
    solutions = []
    for turn in (yaw,) if exact_yaw else (yaw, yaw + np.pi):
        set_joints(client, body, seed, FINGER_OPEN_M)
        orientation = top_down(turn, tilt)
        for _ in range(IK_REPEATS):  # pybullet's solver converges further when restarted from its own answer
            q = np.array(client.calculateInverseKinematics(body, GRASP_LINK, list(position), orientation,
                                                           maxNumIterations=IK_ITERATIONS,
                                                           residualThreshold=IK_RESIDUAL)[:7])
            set_joints(client, body, q, FINGER_OPEN_M)
            reached = np.array(client.getLinkState(body, GRASP_LINK, computeForwardKinematics=True)[4])
            if np.linalg.norm(reached - np.asarray(position)) < IK_TOLERANCE_M / 5:
                break
        if np.linalg.norm(reached - np.asarray(position)) <= IK_TOLERANCE_M and np.all((q >= lower) & (q <= upper)):
            solutions.append(q)
    set_joints(client, body, seed, FINGER_OPEN_M)
    return min(solutions, key=lambda q: float(np.abs(q - np.asarray(seed)).max()), default=None)
