"""The plane objects stand on (a table), fitted to depth, and each pixel's height above it.

Plain numpy; used where depth tells what the model's mask cannot: an object the set's mask missed
(``runtime.missed_member``) and a piece of table a mask spilled onto (``runtime.depth_split``).
"""
from __future__ import annotations

import numpy as np

STAND_M = 0.012  # higher than this above the supporting plane: an object stands there
PLANE_TOLERANCE_M = 0.005  # a point this close to a plane is on it (RANSAC inlier)
PLANE_TRIALS = 150
PLANE_POINTS = 4000  # depth points the plane is fitted to, drawn at random from the band


def heights_above_support(depth_m: np.ndarray, K: np.ndarray, rows: tuple[int, int], exclude: np.ndarray,
                          points: int = PLANE_POINTS) -> np.ndarray | None:
    """Per pixel of ``rows`` (a band of the frame), its height in metres above the dominant plane there (RANSAC
    over up to ``points`` of the valid depth points outside ``exclude``, refined by least squares over its
    inliers), positive towards the camera; None where too few depth points."""
    top, bottom = rows
    depth = depth_m[top:bottom].astype(np.float64)
    x = (np.arange(depth.shape[1])[None, :] - K[0, 2]) * depth / K[0, 0]
    y = (np.arange(top, bottom)[:, None] - K[1, 2]) * depth / K[1, 1]
    valid = depth > 0
    usable = valid & ~exclude[top:bottom]
    if usable.sum() < 50:
        return None
    rng = np.random.default_rng(0)  # the same answer for the same frame
    chosen = np.flatnonzero(usable)
    if len(chosen) > points:
        chosen = np.sort(rng.choice(chosen, points, replace=False))
    sample = np.stack([x.ravel()[chosen], y.ravel()[chosen], depth.ravel()[chosen]], -1)
    a, b, c = (sample[rng.integers(0, len(sample), PLANE_TRIALS)] for _ in range(3))
    normals = np.cross(b - a, c - a)
    lengths = np.linalg.norm(normals, axis=1)
    normals /= np.maximum(lengths, 1e-12)[:, None]
    distances = np.abs(sample @ normals.T - np.einsum("ij,ij->i", a, normals))  # (points, trials)
    inlier_counts = np.where(lengths > 1e-12, (distances < PLANE_TOLERANCE_M).sum(0), -1)
    on_plane = sample[distances[:, int(np.argmax(inlier_counts))] < PLANE_TOLERANCE_M]
    if len(on_plane) < 3:
        return None
    centre = on_plane.mean(0)
    normal = np.linalg.eigh(np.cov((on_plane - centre).T))[1][:, 0]  # the least-variance direction
    if normal @ -centre < 0:
        normal = -normal  # towards the camera: up from the table
    heights = (x - centre[0]) * normal[0] + (y - centre[1]) * normal[1] + (depth - centre[2]) * normal[2]
    heights[~valid] = 0.0
    return heights
