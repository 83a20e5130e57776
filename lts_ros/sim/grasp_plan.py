"""A top-down grasp from what the node reports: the target's mask points in the camera optical frame (REP-103),
moved to the world frame (z up) with the camera's pose, give the grasp position, the gripper's yaw and the
closing height. Plain numpy: no simulator, no ROS."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_OPENING_M = 0.08  # the Panda's two fingers open 0.04 m each
TOP_PERCENTILE = 95.0  # the object's top: robust to a few stray depth pixels above it
CLOSE_BELOW_TOP_M = 0.02  # fingertips this far below the top, or half-way down for flat objects
MIN_ABOVE_TABLE_M = 0.008  # never close lower than this above the table


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


def closing_yaw(points_xy: np.ndarray) -> tuple[float, float]:
    """(yaw, width): the fingers close along the minor principal axis of the points seen from above (the
    object's narrow side), ``width`` is the points' extent along it. Yaw is defined modulo pi (a two-finger
    grasp is symmetric) and returned in (-pi/2, pi/2]."""
    centred = points_xy - points_xy.mean(axis=0)
    _, vectors = np.linalg.eigh(np.cov(centred.T))  # ascending eigenvalues: column 0 is the minor axis
    minor = vectors[:, 0]
    yaw = float(np.arctan2(minor[1], minor[0]))
    yaw = yaw - np.pi if yaw > np.pi / 2 else yaw + np.pi if yaw <= -np.pi / 2 else yaw
    projected = centred @ minor
    return yaw, float(projected.max() - projected.min())


def plan_top_down(points_world: np.ndarray, table_z: float, centroid_world: np.ndarray | None = None) -> Grasp:
    """A top-down grasp of the object whose visible surface points are ``points_world`` (N, 3). x, y: the
    centroid when given (the node's 3D centroid), else the points' median; z: CLOSE_BELOW_TOP_M below the
    object's top, no lower than half its height nor MIN_ABOVE_TABLE_M above the table."""
    points_world = np.asarray(points_world, np.float64)
    if len(points_world) < 3:
        raise ValueError(f"need at least 3 points to plan a grasp, got {len(points_world)}")
    top_z = float(np.percentile(points_world[:, 2], TOP_PERCENTILE))
    height = top_z - table_z
    z = max(top_z - CLOSE_BELOW_TOP_M, table_z + height / 2, table_z + MIN_ABOVE_TABLE_M)
    xy = (np.median(points_world[:, :2], axis=0) if centroid_world is None
          else np.asarray(centroid_world, np.float64)[:2])
    yaw, width = closing_yaw(points_world[:, :2])
    return Grasp(np.array([xy[0], xy[1], z]), yaw, width, top_z)
