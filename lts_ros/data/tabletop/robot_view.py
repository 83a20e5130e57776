"""The robot's own arm in the camera's view: a Franka Panda mounted beside the table (at either end or behind it)
reaching over the table with its hand in the image, clear of the objects and the table top. The arm is not an
object anyone names: it renders as background in the instance image."""
from __future__ import annotations

import numpy as np
import pybullet as pb

from lts_ros.data.tabletop.assets import PANDA_FINGER_JOINTS, PANDA_GRASP_LINK, PANDA_URDF, PybulletClient
from lts_ros.data.tabletop.scene import TABLE_TOP_Z, Camera
from lts_ros.geometry import project

POSE_TRIES = 40
ARM_LINKS = range(2, 12)  # the links that swing over the table (the base stays at the edge)
CLEARANCE_M = 0.015  # from every object and from the table top
HAND_MARGIN_PX = 40  # the hand lies this far inside the image border
# base (x, y) ranges and yaw: at the table's left end, right end, or behind it, facing its middle
MOUNTS = (((-0.85, -0.85), (-0.3, 0.3), 0.0), ((0.85, 0.85), (-0.3, 0.3), np.pi), ((-0.4, 0.4), (0.6, 0.6), -np.pi / 2))
# joint ranges of a reaching pose (panda_joint1..7) and the finger opening
JOINT_RANGES = ((-0.7, 0.7), (0.1, 1.2), (-0.5, 0.5), (-2.6, -0.9), (-0.5, 0.5), (1.0, 2.6), (-2.5, 2.5))
FINGER_M = (0.0, 0.04)  # finger opening range


def place_arm(client: PybulletClient, rng: np.random.Generator, camera: Camera, bodies: list[int]) -> int | None:
    """Mount a Panda beside the table and pose it with its hand in ``camera``'s view, at least CLEARANCE_M from
    ``bodies`` and the table top; its body id, or None (the arm removed) when no pose of POSE_TRIES qualifies."""
    (x_lo, x_hi), (y_lo, y_hi), yaw = MOUNTS[rng.integers(len(MOUNTS))]
    base = (rng.uniform(x_lo, x_hi), rng.uniform(y_lo, y_hi), TABLE_TOP_Z)
    arm = client.loadURDF(str(PANDA_URDF), base, pb.getQuaternionFromEuler((0.0, 0.0, yaw)), useFixedBase=True)
    camera_from_world = np.linalg.inv(camera.world_from_camera)
    lo = np.full(2, HAND_MARGIN_PX)
    hi = np.array([camera.width, camera.height]) - HAND_MARGIN_PX
    for _ in range(POSE_TRIES):
        for joint, (q_lo, q_hi) in enumerate(JOINT_RANGES):
            client.resetJointState(arm, joint, rng.uniform(q_lo, q_hi))
        opening = rng.uniform(*FINGER_M)
        for joint in PANDA_FINGER_JOINTS:
            client.resetJointState(arm, joint, opening)
        client.performCollisionDetection()
        if min(client.getAABB(arm, link)[0][2] for link in ARM_LINKS) < TABLE_TOP_Z + CLEARANCE_M:
            continue
        hand = camera_from_world[:3, :3] @ np.array(client.getLinkState(arm, PANDA_GRASP_LINK)[0]) \
            + camera_from_world[:3, 3]
        if hand[2] <= 0.1 or not np.all((lo <= (uv := project(hand[None], camera.K)[0])) & (uv <= hi)):
            continue
        if any(client.getClosestPoints(arm, body, CLEARANCE_M) for body in bodies):
            continue
        return arm
    client.removeBody(arm)
    return None
