"""Camera data checked before 3D (lts_ros.runtime.camera) and lens distortion in the back-projection
(lts_ros.geometry), on synthetic cameras: no ROS needed."""
import cv2
import numpy as np
import pytest

from lts_ros.geometry import deproject, robust_centroid
from lts_ros.runtime.camera import CameraModel, aligned_depth, intrinsics_for, registration_problem

K = np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]])
PLUMB_BOB = (-0.28, 0.09, 0.001, -0.0005, -0.01)  # a wide-angle webcam's order of magnitude


def test_depth_of_another_resolution_is_resized_only_with_the_same_aspect_ratio():
    resized, reason = aligned_depth(np.ones((240, 320), np.float32), (480, 640))
    assert resized.shape == (480, 640) and reason is None
    refused, reason = aligned_depth(np.ones((240, 240), np.float32), (480, 640))
    assert refused is None and "differ in aspect ratio" in reason


def test_intrinsics_are_scaled_to_the_frame_or_refused_with_a_reason():
    intrinsics, reason = intrinsics_for(CameraModel(K, width=640, height=480), (240, 320))
    assert reason is None and intrinsics.D is None
    assert np.allclose(intrinsics.K, [[250, 0, 160], [0, 250, 120], [0, 0, 1]])
    assert intrinsics_for(None, (480, 640)) == (None, "no camera_info received")
    assert "fx, fy > 0" in intrinsics_for(CameraModel(np.zeros((3, 3)), width=640, height=480), (480, 640))[1]
    assert "non-finite" in intrinsics_for(CameraModel(np.full((3, 3), np.nan)), (480, 640))[1]
    assert "other aspect ratio" in intrinsics_for(CameraModel(K, width=640, height=640), (480, 640))[1]
    assert "non-finite" in intrinsics_for(CameraModel(K, "plumb_bob", (np.nan, 0, 0, 0, 0)), (480, 640))[1]
    assert "'equidistant' is not supported" in intrinsics_for(CameraModel(K, "equidistant", (0.1, 0, 0, 0)),
                                                             (480, 640))[1]
    zero, _ = intrinsics_for(CameraModel(K, "plumb_bob", (0.0,) * 5), (480, 640))
    assert zero.D is None  # rectified images: no undistortion to run
    distorted, _ = intrinsics_for(CameraModel(K, "plumb_bob", PLUMB_BOB), (480, 640))
    assert np.allclose(distorted.D, PLUMB_BOB)


def test_depth_in_another_optical_frame_is_named_as_unregistered():
    assert registration_problem("camera_color_optical_frame", "camera_color_optical_frame") is None
    reason = registration_problem("camera_color_optical_frame", "camera_depth_optical_frame")
    assert "camera_depth_optical_frame" in reason and "camera_color_optical_frame" in reason


def distorted_box_scene(center_m: np.ndarray, half_m: float = 0.05):
    """A fronto-parallel square patch at ``center_m`` seen by a camera with PLUMB_BOB distortion: its mask and a
    depth image (registered to the distorted image), rendered by projecting a dense grid of its points."""
    xs = np.linspace(-half_m, half_m, 400)
    grid = np.stack(np.meshgrid(xs, xs), -1).reshape(-1, 2)
    points = np.column_stack([grid + center_m[:2], np.full(len(grid), center_m[2])])
    pixels, _ = cv2.projectPoints(points, np.zeros(3), np.zeros(3), K, np.array(PLUMB_BOB))
    u, v = np.round(pixels.reshape(-1, 2)).astype(int).T
    inside = (u >= 0) & (u < 640) & (v >= 0) & (v < 480)
    mask, depth = np.zeros((480, 640), bool), np.zeros((480, 640), np.float32)
    mask[v[inside], u[inside]] = True
    depth[v[inside], u[inside]] = center_m[2]
    return mask, depth


@pytest.mark.parametrize("center", [(0.25, 0.18, 0.8), (-0.3, -0.2, 1.0)])
def test_plumb_bob_distortion_is_undone_when_back_projecting(center):
    """Near the image corners a -0.28 k1 pulls pixels inwards by tens of pixels: ignoring it puts the centroid
    over a centimetre off; undistorting recovers it within millimetres."""
    center = np.array(center)
    mask, depth = distorted_box_scene(center)
    undistorted = robust_centroid(depth, K, mask, D=np.array(PLUMB_BOB))
    naive = robust_centroid(depth, K, mask)
    assert np.linalg.norm(undistorted - center) < 0.003
    assert np.linalg.norm(naive - center) > 0.01
    assert np.allclose(deproject(depth, K, mask, D=None)[:, 2], center[2])
