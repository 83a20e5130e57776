"""What a driver says about its camera, checked before it is used for 3D: intrinsics (scaled to the frame),
lens distortion, depth registration. Plain numbers in, (value, reason) out: the node and the bag tools decide
what to do with a reason; nothing here knows ROS."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# camera_info distortion models OpenCV's undistortPoints applies with the same coefficient order
OPENCV_MODELS = ("plumb_bob", "rational_polynomial")


def intrinsics_problem(K: np.ndarray) -> str | None:
    """Why ``K`` is not a usable pinhole matrix (shape, non-finite entries, fx or fy <= 0), or None."""
    K = np.asarray(K, dtype=np.float64)
    if K.shape != (3, 3):
        return f"K must be a 3x3 camera matrix, got shape {K.shape}"
    if not np.isfinite(K).all():
        return "K has non-finite entries (NaN or inf)"
    if K[0, 0] <= 0 or K[1, 1] <= 0:
        return f"K needs fx, fy > 0, got fx={K[0, 0]}, fy={K[1, 1]} (camera not calibrated?)"
    return None


@dataclass(frozen=True)
class CameraModel:
    """A camera_info's numbers: K (3x3), distortion model and coefficients, and the size they are for
    (0 x 0 = unknown: taken to be the frame's)."""

    K: np.ndarray
    distortion_model: str = ""
    D: tuple[float, ...] = ()
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class Intrinsics:
    K: np.ndarray  # (3, 3) float64, for the frame's resolution
    D: np.ndarray | None  # OpenCV distortion coefficients; None = none (or all zero)


def intrinsics_for(camera: CameraModel | None, shape: tuple[int, int]) -> tuple[Intrinsics | None, str | None]:
    """Intrinsics for a frame of ``shape`` (H, W): K scaled when the camera model is for another resolution of
    the same aspect ratio. (None, reason) when there is none, K is unusable, the aspect ratio differs or the
    distortion model is one this cannot apply."""
    if camera is None:
        return None, "no camera_info received"
    K = np.asarray(camera.K, np.float64).reshape(3, 3)
    if (reason := intrinsics_problem(K)) is not None:
        return None, f"camera_info {reason}"
    D = np.asarray(camera.D, np.float64)
    if not np.isfinite(D).all():
        return None, "camera_info distortion has non-finite coefficients"
    if D.size and np.any(D):
        if camera.distortion_model not in OPENCV_MODELS:
            return None, (f"camera_info distortion model '{camera.distortion_model}' is not supported (use "
                          f"{' or '.join(OPENCV_MODELS)}, or rectified images with zero distortion)")
    else:
        D = None
    height, width = shape
    if (camera.width, camera.height) in ((width, height), (0, 0)):
        return Intrinsics(K, D), None
    sx, sy = width / camera.width, height / camera.height
    if abs(sx - sy) > 1e-3:
        return None, f"camera_info is {camera.width}x{camera.height}, the image {width}x{height} (other aspect ratio)"
    return Intrinsics(np.diag([sx, sy, 1.0]) @ K, D), None


def aligned_depth(depth: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray | None, str | None]:
    """Depth at the colour frame's size: as is, resized (nearest) from the same aspect ratio, else refused."""
    if depth.shape == shape:
        return depth, None
    (dh, dw), (h, w) = depth.shape, shape
    if abs(dw / dh - w / h) > 1e-3:
        return None, f"depth {dw}x{dh} and image {w}x{h} differ in aspect ratio: not registered to the colour camera"
    return cv2.resize(depth, (w, h), interpolation=cv2.INTER_NEAREST), None


def registration_problem(color_frame: str, depth_frame: str) -> str | None:
    """Depth in another optical frame than the colour image is not registered to it (e.g. RealSense
    ``depth/image_rect_raw``): its pixels are not the colour pixels, so a 3D centroid from it would be wrong."""
    if color_frame == depth_frame:
        return None
    return (f"depth frame_id '{depth_frame}' differs from the image's '{color_frame}': the depth is not registered "
            "to the colour camera (use the driver's aligned depth, e.g. aligned_depth_to_color/image_raw)")
