"""Grasp planning and the success judge of the simulated cell, on synthetic data and hand-built states."""
import numpy as np
import pytest

from lts_ros.geometry import deproject, project
from lts_ros.geometry import pose_matrix, pose_vector
from lts_ros.sim.grasp_plan import MAX_OPENING_M, camera_to_world, footprint, plan_top_down
from lts_ros.sim.judge import DISTURBED, MISSED, SUCCESS, WRONG_OBJECT, judge

TABLE_Z = 0.625
K = np.array([[600.0, 0, 320], [0, 600, 240], [0, 0, 1]])


def looking_down(eye: tuple[float, float, float]) -> np.ndarray:
    """A camera at ``eye`` looking straight down, image x along world x (optical y = -world y, z = -world z)."""
    pose = np.eye(4)
    pose[:3, :3] = np.diag([1.0, -1.0, -1.0])
    pose[:3, 3] = eye
    return pose


def box_points(center_xy, size_xyz, yaw: float, step: float = 0.004) -> np.ndarray:
    """Points on the top face of a box standing on the table, rotated by ``yaw``."""
    sx, sy, sz = size_xyz
    u, v = np.meshgrid(np.arange(-sx / 2, sx / 2, step), np.arange(-sy / 2, sy / 2, step))
    c, s = np.cos(yaw), np.sin(yaw)
    x, y = center_xy[0] + c * u - s * v, center_xy[1] + s * u + c * v
    return np.column_stack([x.ravel(), y.ravel(), np.full(x.size, TABLE_Z + sz)])


def test_camera_points_reach_the_world_through_the_pose():
    pose = looking_down((0.1, 0.2, 1.625))
    assert np.allclose(camera_to_world(pose, [0.0, 0.0, 1.0]), [[0.1, 0.2, 0.625]])
    assert np.allclose(camera_to_world(pose, [0.05, 0.02, 0.9]), [[0.15, 0.18, 0.725]])
    # a tilted camera (the tabletop world's kind): a point on the table deprojected from its pixel lands there
    tilt = np.radians(50)
    pose = np.eye(4)
    z = np.array([0.0, np.cos(tilt), -np.sin(tilt)])  # looking forward (+y) and down
    x = np.array([1.0, 0.0, 0.0])
    pose[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    pose[:3, 3] = (0.0, -0.6, 1.3)
    target = np.array([0.05, 0.1, TABLE_Z])
    in_camera = (np.linalg.inv(pose) @ np.append(target, 1.0))[:3]
    u, v = np.round(project(in_camera[None], K)[0]).astype(int)
    depth, mask = np.zeros((480, 640), np.float32), np.zeros((480, 640), bool)
    depth[v, u], mask[v, u] = in_camera[2], True
    assert np.linalg.norm(camera_to_world(pose, deproject(depth, K, mask))[0] - target) < 0.002


@pytest.mark.parametrize("yaw", [0.0, 0.4, -1.2, np.pi / 2])
def test_the_fingers_close_across_the_narrow_side(yaw):
    points = box_points((0.0, 0.0), (0.12, 0.04, 0.03), yaw)
    closing, width = footprint(points[:, :2])[1:]
    expected = yaw + np.pi / 2  # the narrow side is the box's y, perpendicular to its long axis
    difference = (closing - expected + np.pi / 2) % np.pi - np.pi / 2  # a two-finger grasp is symmetric
    assert abs(difference) < np.radians(2)
    assert -np.pi / 2 < closing <= np.pi / 2
    assert width == pytest.approx(0.04, abs=0.006)


def test_a_square_block_is_grasped_across_its_faces_not_its_diagonal():
    points = box_points((0.0, 0.0), (0.06, 0.06, 0.05), np.pi / 4)
    closing, width = footprint(points[:, :2])[1:]
    assert width == pytest.approx(0.06, abs=0.006)  # the diagonal would be 8.5 cm: wider than the fingers open
    difference = closing % (np.pi / 2) - np.pi / 4  # 0 for either pair of faces (at 45 or -45 degrees)
    assert abs(difference) < np.radians(3)


def test_mask_pixels_that_overflow_onto_the_table_do_not_widen_the_grasp():
    block = box_points((0.0, 0.0), (0.06, 0.03, 0.04), 0.2)
    ring = np.array([[0.05 * np.cos(a), 0.05 * np.sin(a), TABLE_Z + 0.001] for a in np.linspace(0, 2 * np.pi, 60)])
    grasp = plan_top_down(np.vstack([block, ring]), TABLE_Z)
    assert grasp.width_m == pytest.approx(0.03, abs=0.006) and grasp.fits


def test_a_pose_vector_and_its_matrix_are_the_same_transform():
    rng = np.random.default_rng(0)
    for _ in range(20):
        q = rng.normal(size=4)
        pose = [*rng.uniform(-1, 1, 3), *(q / np.linalg.norm(q))]
        matrix = pose_matrix(pose)
        assert np.allclose(matrix[:3, :3] @ matrix[:3, :3].T, np.eye(3), atol=1e-12)
        assert np.allclose(pose_matrix(pose_vector(matrix)), matrix, atol=1e-9)


def test_a_top_down_grasp_closes_below_the_top_and_above_the_table():
    tall = plan_top_down(box_points((0.1, -0.05), (0.05, 0.05, 0.09), 0.3), TABLE_Z)
    assert tall.position[:2] == pytest.approx((0.1, -0.05), abs=0.003)
    assert tall.top_z == pytest.approx(TABLE_Z + 0.09, abs=1e-6)
    assert tall.position[2] == pytest.approx(TABLE_Z + 0.07, abs=1e-6) and tall.fits
    flat = plan_top_down(box_points((0.0, 0.0), (0.034, 0.034, 0.012), 0.0), TABLE_Z)
    assert flat.position[2] == pytest.approx(TABLE_Z + 0.008, abs=1e-6)  # half of 12 mm, at least 8 mm
    wide = plan_top_down(box_points((0.0, 0.0), (0.2, 0.15, 0.02), 0.0), TABLE_Z)
    assert not wide.fits and wide.width_m > MAX_OPENING_M
    # a camera sees the top and the near side: the footprint's centre, not the points' mean, is the object's
    near_side = np.array([[x, -0.025, TABLE_Z + z] for x in np.linspace(-0.025, 0.025, 20)
                          for z in np.linspace(0.005, 0.05, 20)])
    seen = np.vstack([box_points((0.0, 0.0), (0.05, 0.05, 0.05), 0.0), near_side])
    assert seen[:, :2].mean(axis=0)[1] < -0.007
    assert plan_top_down(seen, TABLE_Z).position[:2] == pytest.approx((0.0, 0.0), abs=0.003)
    with pytest.raises(ValueError, match="at least 3 points"):
        plan_top_down(np.zeros((2, 3)), TABLE_Z)


def state(positions: dict[int, tuple[float, float, float]]) -> dict[int, np.ndarray]:
    return {i: np.array(p) for i, p in positions.items()}


BEFORE = state({1: (0.0, 0.0, TABLE_Z), 2: (0.15, 0.0, TABLE_Z), 3: (-0.1, 0.1, TABLE_Z)})


def test_the_named_object_lifted_and_nothing_else_moved_is_a_success():
    after = state({1: (0.0, 0.0, TABLE_Z + 0.15), 2: (0.15, 0.01, TABLE_Z), 3: (-0.1, 0.1, TABLE_Z)})
    outcome = judge(1, {1: TABLE_Z + 0.14, 2: TABLE_Z, 3: TABLE_Z}, BEFORE, after, TABLE_Z)
    assert outcome.result == SUCCESS and outcome.success and outcome.target_lift_m == pytest.approx(0.14)


def test_another_object_lifted_is_the_wrong_object():
    after = state({1: (0.0, 0.0, TABLE_Z), 2: (0.15, 0.0, TABLE_Z + 0.15), 3: (-0.1, 0.1, TABLE_Z)})
    outcome = judge(1, {1: TABLE_Z, 2: TABLE_Z + 0.14, 3: TABLE_Z}, BEFORE, after, TABLE_Z)
    assert outcome.result == WRONG_OBJECT and outcome.lifted_other == 2 and not outcome.success


def test_a_dropped_or_barely_lifted_target_is_a_missed_grasp():
    dropped = state({1: (0.03, 0.0, TABLE_Z), 2: (0.15, 0.0, TABLE_Z), 3: (-0.1, 0.1, TABLE_Z)})
    assert judge(1, {1: TABLE_Z, 2: TABLE_Z, 3: TABLE_Z}, BEFORE, dropped, TABLE_Z).result == MISSED
    barely = judge(1, {1: TABLE_Z + 0.09, 2: TABLE_Z, 3: TABLE_Z}, BEFORE, dropped, TABLE_Z)
    assert barely.result == MISSED and barely.target_lift_m == pytest.approx(0.09)


def test_a_lift_that_knocks_another_object_away_is_not_a_success():
    after = state({1: (0.0, 0.0, TABLE_Z + 0.15), 2: (0.2, 0.0, TABLE_Z), 3: (-0.1, 0.1, TABLE_Z)})
    outcome = judge(1, {1: TABLE_Z + 0.14, 2: TABLE_Z, 3: TABLE_Z}, BEFORE, after, TABLE_Z)
    assert outcome.result == DISTURBED and set(outcome.moved) == {2} and outcome.moved[2] == pytest.approx(0.05)
