"""Validate and prepare one frame for the model: RGB -> letterboxed tensor; depth and K checked."""
from __future__ import annotations

import numpy as np

from lts_ros.data.transforms import Letterbox
from lts_ros.errors import LtsError
from lts_ros.geometry import depth_in_metres
from lts_ros.runtime.camera import intrinsics_problem


def check_rgb(rgb: np.ndarray) -> np.ndarray:
    """An (H, W, 3) uint8 RGB frame, or LtsError naming what was received."""
    if not isinstance(rgb, np.ndarray):
        raise LtsError(f"rgb must be a numpy array, got {type(rgb).__name__}")
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise LtsError(f"rgb must be (H, W, 3), got shape {rgb.shape}")
    if rgb.dtype != np.uint8:
        raise LtsError(f"rgb must be uint8, got {rgb.dtype}")
    if rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise LtsError(f"rgb is empty (shape {rgb.shape})")
    return rgb


def prepare_image(rgb: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """RGB frame -> (model input (1, 3, size, size) float32 in [0, 1], its Letterbox)."""
    rgb = check_rgb(rgb)
    box = Letterbox.fit(rgb.shape[0], rgb.shape[1], size)
    image = box.apply(rgb).transpose(2, 0, 1)[None].astype(np.float32) / np.float32(255.0)
    return np.ascontiguousarray(image), box


def check_depth(depth: np.ndarray, rgb_shape: tuple[int, int]) -> np.ndarray:
    """Depth aligned with the RGB frame -> float32 metres. Floats are metres, uint16 millimetres
    (0 = no measurement, as the ROS 16UC1 convention)."""
    if not isinstance(depth, np.ndarray):
        raise LtsError(f"depth must be a numpy array, got {type(depth).__name__}")
    if depth.ndim != 2:
        raise LtsError(f"depth must be (H, W), got shape {depth.shape}")
    if depth.shape != tuple(rgb_shape):
        raise LtsError(f"depth shape {depth.shape} does not match the rgb frame {tuple(rgb_shape)}: "
                       "register depth to the colour camera first")
    if depth.dtype in (np.uint16, np.float32, np.float64):
        return depth_in_metres(depth)
    raise LtsError(f"depth must be float32 metres or uint16 millimetres, got {depth.dtype}")


def check_intrinsics(K: np.ndarray) -> np.ndarray:
    """Pinhole camera matrix [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] -> float64 (3, 3)."""
    K = np.asarray(K, dtype=np.float64)
    if (reason := intrinsics_problem(K)) is not None:
        raise LtsError(reason)
    return K


def check_depth_and_intrinsics(depth: np.ndarray | None, K: np.ndarray | None,
                               rgb_shape: tuple[int, int]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Both or neither: a 3D centroid needs the depth frame and the camera matrix together."""
    if (depth is None) != (K is None):
        raise LtsError("depth_m and K go together: pass both to get centroid_3d, or neither")
    if depth is None:
        return None, None
    return check_depth(depth, rgb_shape), check_intrinsics(K)
