"""Pixels + depth -> 3D points in the camera optical frame (REP-103: x right, y down, z forward), and depth's
units (millimetre integers <-> metres)."""
from __future__ import annotations

import cv2
import numpy as np


def project(points_camera: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(N, 2) pixel coordinates (u, v) of (N, 3) camera-frame points in front of the camera
    (OpenCV convention: u = fx * x / z + cx, column index)."""
    uvw = np.asarray(points_camera, np.float64) @ np.asarray(K, np.float64).T
    return uvw[:, :2] / uvw[:, 2:3]


MM_PER_M = 1000.0  # integer depth (ROS 16UC1, RealSense, OpenNI, the tabletop PNGs) is millimetres


def depth_in_metres(depth: np.ndarray) -> np.ndarray:
    """A depth image as float32 metres: uint16 is millimetres (0 = no measurement), floats are metres already."""
    if depth.dtype == np.uint16:
        return depth.astype(np.float32) / np.float32(MM_PER_M)
    return depth.astype(np.float32, copy=False)


def depth_in_mm(depth_m: np.ndarray) -> np.ndarray:
    """Depth in metres (0 = none) as uint16 millimetres (16UC1), rounded and clipped to 0..65535."""
    return np.clip(np.round(depth_m * MM_PER_M), 0, 65535).astype(np.uint16)


def valid_depth(depth_m: np.ndarray) -> np.ndarray:
    """Pixels with usable depth: finite and > 0 (0, NaN and inf mean 'no measurement')."""
    return np.isfinite(depth_m) & (depth_m > 0)


def deproject(depth_m: np.ndarray, K: np.ndarray, mask: np.ndarray, D: np.ndarray | None = None) -> np.ndarray:
    """(N, 3) camera-frame points of the ``mask`` pixels that have valid depth. With OpenCV distortion
    coefficients ``D`` (camera_info's plumb_bob k1 k2 p1 p2 k3) the pixels are undistorted first: the depth
    image is registered to the distorted colour image, so z is read at the pixel as seen."""
    v, u = np.nonzero(mask & valid_depth(depth_m))
    z = depth_m[v, u].astype(np.float64)
    if D is None:
        fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
        x, y = (u - cx) / fx, (v - cy) / fy
    else:
        pixels = np.stack([u, v], axis=1).astype(np.float64).reshape(-1, 1, 2)
        x, y = cv2.undistortPoints(pixels, np.asarray(K, np.float64), np.asarray(D, np.float64)).reshape(-1, 2).T
    return np.stack([x * z, y * z, z], axis=1)


def visible_surface_centroid(depth_m: np.ndarray, K: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """Mean of the deprojected mask pixels (the ground-truth definition); None without valid depth."""
    points = deproject(depth_m, K, mask)
    return points.mean(axis=0) if len(points) else None


CENTROID_ERODE_PX = 3  # robust_centroid's erosion: boundary pixels often carry the background's depth


def shifted_intrinsics(K: np.ndarray, x0: int, y0: int) -> np.ndarray:
    """K of the crop whose top-left pixel is (x0, y0) of the full image (the principal point moves; with the
    same distortion coefficients, undistortion of the crop's pixels is unchanged)."""
    shifted = np.array(K, np.float64)
    shifted[0, 2] -= x0
    shifted[1, 2] -= y0
    return shifted


def robust_centroid(depth_m: np.ndarray, K: np.ndarray, mask: np.ndarray, erode_px: int = CENTROID_ERODE_PX,
                    D: np.ndarray | None = None) -> np.ndarray | None:
    """Per-axis median of the deprojected pixels of ``mask`` eroded by ``erode_px`` (boundary pixels
    often carry the background's depth); falls back to the full mask when erosion empties it. ``D``: lens
    distortion, as in ``deproject``. None without valid depth."""
    if erode_px > 0:
        kernel = np.ones((2 * erode_px + 1, 2 * erode_px + 1), np.uint8)
        eroded = cv2.erode(mask.astype(np.uint8), kernel).astype(bool)
        if (eroded & valid_depth(depth_m)).any():
            mask = eroded
    points = deproject(depth_m, K, mask, D)
    return np.median(points, axis=0) if len(points) else None


def pose_matrix(pose: list[float] | tuple[float, ...]) -> np.ndarray:
    """(4, 4) transform from a TF-style pose: x y z qx qy qz qw."""
    x, y, z, qx, qy, qz, qw = (float(v) for v in pose)
    n = np.sqrt(qx * qx + qy * qy + qz * qz + qw * qw)
    qx, qy, qz, qw = qx / n, qy / n, qz / n, qw / n
    matrix = np.eye(4)
    matrix[:3, :3] = [[1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - qz * qw), 2 * (qx * qz + qy * qw)],
                      [2 * (qx * qy + qz * qw), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - qx * qw)],
                      [2 * (qx * qz - qy * qw), 2 * (qy * qz + qx * qw), 1 - 2 * (qx * qx + qy * qy)]]
    matrix[:3, 3] = (x, y, z)
    return matrix


def pose_vector(matrix: np.ndarray) -> list[float]:
    """The TF-style pose (x y z qx qy qz qw) of a (4, 4) rigid transform."""
    r = np.asarray(matrix, np.float64)[:3, :3]
    trace = np.trace(r)
    if trace > 0:
        s = 2 * np.sqrt(trace + 1)
        q = ((r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s, s / 4)
    elif r[0, 0] > r[1, 1] and r[0, 0] > r[2, 2]:
        s = 2 * np.sqrt(1 + r[0, 0] - r[1, 1] - r[2, 2])
        q = (s / 4, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s, (r[2, 1] - r[1, 2]) / s)
    elif r[1, 1] > r[2, 2]:
        s = 2 * np.sqrt(1 + r[1, 1] - r[0, 0] - r[2, 2])
        q = ((r[0, 1] + r[1, 0]) / s, s / 4, (r[1, 2] + r[2, 1]) / s, (r[0, 2] - r[2, 0]) / s)
    else:
        s = 2 * np.sqrt(1 + r[2, 2] - r[0, 0] - r[1, 1])
        q = ((r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, s / 4, (r[1, 0] - r[0, 1]) / s)
    return [*np.asarray(matrix, np.float64)[:3, 3].tolist(), *(float(v) for v in q)]
