"""A top-down grasp from what the node reports: the target's mask points in the camera optical frame (REP-103),
moved to the world frame (z up) with the camera's pose, give the grasp position, the gripper's yaw and the
closing height. Plain numpy and OpenCV: no simulator, no ROS."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


MAX_OPENING_M = 0.08  # the Panda's two fingers open 0.04 m each
TOP_PERCENTILE = 95.0  # the object's top: robust to a few stray depth pixels above it
CLOSE_BELOW_TOP_M = 0.02  # fingertips this far below the top, or half-way down for flat objects
MIN_ABOVE_TABLE_M = 0.008  # never close lower than this above the table
ON_TABLE_M = 0.004  # mask points this close to the table are the table (a mask's edge bleeds onto it)


@dataclass(frozen=True)
class Grasp:
    position: np.ndarray  # (3,) world metres: where the fingertips' midpoint closes
    yaw: float  # rad about world z, in (-pi/2, pi/2]: the direction the fingers close along
    width_m: float  # the object's extent along the closing direction (what the fingers must span)
    top_z: float  # world z of the object's top

    @property
    def fits(self) -> bool:
        return self.width_m < MAX_OPENING_M


def camera_to_world(world_from_camera: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 3) optical-frame points -> world points with the (4, 4) camera pose (what TF gives a real robot)."""
    points = np.atleast_2d(np.asarray(points, np.float64))
    return points @ world_from_camera[:3, :3].T + world_from_camera[:3, 3]


def footprint(points_xy: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(centre, yaw, width) of the points' minimum-area rectangle seen from above: the fingers close across its
    narrow side (for an elongated object that is its minor principal axis; for a square block it is a pair of
    faces, where the principal axes are undefined and a diagonal would be wider), ``width`` is the points'
    extent along it. Yaw is defined modulo pi (a two-finger grasp is symmetric) and returned in (-pi/2, pi/2]."""
    (cx, cy), (w, h), angle = cv2.minAreaRect(np.asarray(points_xy, np.float32))
    yaw = np.radians(angle) + (0.0 if w <= h else np.pi / 2)  # angle: the direction of side ``w``
    yaw = float(np.arctan2(np.sin(yaw), np.cos(yaw)))
    yaw = yaw - np.pi if yaw > np.pi / 2 else yaw + np.pi if yaw <= -np.pi / 2 else yaw
    direction = np.array([np.cos(yaw), np.sin(yaw)])
    projected = (points_xy - points_xy.mean(axis=0)) @ direction
    return np.array([cx, cy], np.float64), yaw, float(projected.max() - projected.min())


def plan_top_down(points_world: np.ndarray, table_z: float) -> Grasp:
    """A top-down grasp of the object whose visible surface points are ``points_world`` (N, 3). x, y: the
    centre of the points' footprint (``footprint``), not their centroid: a camera sees the top and the near
    sides, so the visible surface's centroid lies towards the camera (measured in docs/grasp.md); z:
    CLOSE_BELOW_TOP_M below the object's top, no lower than half its height nor MIN_ABOVE_TABLE_M above the
    table. Points on the table are left out: they are where a mask overflows the object's outline."""
    points_world = np.asarray(points_world, np.float64)
    points_world = points_world[points_world[:, 2] > table_z + ON_TABLE_M]
    if len(points_world) < 3:
        raise ValueError(f"need at least 3 points above the table to plan a grasp, got {len(points_world)}")
    top_z = float(np.percentile(points_world[:, 2], TOP_PERCENTILE))
    height = top_z - table_z
    z = max(top_z - CLOSE_BELOW_TOP_M, table_z + height / 2, table_z + MIN_ABOVE_TABLE_M)
    centre, yaw, width = footprint(points_world[:, :2])
    return Grasp(np.array([centre[0], centre[1], z]), yaw, width, top_z)
