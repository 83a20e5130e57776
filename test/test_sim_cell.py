"""The simulated cell with real pybullet physics, no ROS: what the head camera sees, a pick planned from the
camera's ground truth executed by the arm, plans that must be refused, and how episodes are chosen and judged."""
import dataclasses

import numpy as np
import pytest

from lts_ros.data.tabletop.scene import CATEGORY_WORDS, COLORS, TABLE_TOP_Z
from lts_ros.errors import LtsError
from lts_ros.geometry import deproject
from lts_ros.sim import panda
from lts_ros.sim.cell import GRASPABLE, Cell
from lts_ros.sim.episodes import Episode, _schedule, choose_command, classify
from lts_ros.sim.grasp_plan import Grasp, camera_to_world, plan_top_down
from lts_ros.sim.judge import judge
from lts_ros.sim.pick import TURN_RAD_PER_M, Kinematics, PlanError, plan_pick
from lts_ros.sim.report import metrics

SEED = 11


@pytest.fixture
def cell():
    cell = Cell(SEED)
    yield cell
    cell.close()


@pytest.fixture(scope="module")
def kinematics():
    from lts_ros.sim.cell import ROBOT_BASE, WORKSPACE_CENTRE
    model = Kinematics(ROBOT_BASE)
    yield model
    model.close()


def test_the_arm_at_home_is_out_of_the_head_cameras_view(cell):
    with_arm = cell.view().rgb
    cell.client.removeBody(cell.robot)
    assert np.array_equal(cell.view().rgb, with_arm)  # so lts_node sees only the table at the start


def test_scenes_hold_graspable_objects_in_view(cell):
    scene = cell.view()
    named = [o for o in scene.objects if o.color]
    assert 3 <= len(named) <= 5 and all(o.category in GRASPABLE and o.visible_px > 0 for o in named)


def run_pick(cell: Cell, kinematics: Kinematics, target: int) -> str:
    """Plan from the camera's ground-truth mask and depth, drive the arm through the waypoints, judge."""
    scene = cell.view()
    points = camera_to_world(cell.camera.world_from_camera,
                             deproject(scene.depth_m, cell.camera.K, scene.instances == target))
    waypoints = plan_pick(plan_top_down(points, TABLE_TOP_Z), kinematics, panda.HOME)
    before = cell.object_positions()
    for waypoint in waypoints:
        cell.command(waypoint.arm, waypoint.finger_m)
        cell.step(360)  # 1.5 s simulated: the position controller has settled
    return judge(target, cell.object_bottoms(), before, cell.object_positions(), TABLE_TOP_Z).result


def test_a_pick_planned_from_the_camera_lifts_the_named_object(cell, kinematics):
    target = max((o for o in cell.view().objects if o.color), key=lambda o: o.visible_px).instance_id
    assert run_pick(cell, kinematics, target) == "success"


def test_plans_the_arm_cannot_do_are_refused(kinematics):
    wide = Grasp(np.array([-0.1, 0.0, TABLE_TOP_Z + 0.03]), 0.0, 0.09, TABLE_TOP_Z + 0.05)
    with pytest.raises(PlanError, match="wider than the fingers"):
        plan_pick(wide, kinematics, panda.HOME)
    far = Grasp(np.array([0.6, 0.0, TABLE_TOP_Z + 0.03]), 0.0, 0.04, TABLE_TOP_Z + 0.05)
    with pytest.raises(PlanError, match="out of the arm's reach"):
        plan_pick(far, kinematics, panda.HOME)


def test_a_pick_whose_ik_breaks_from_where_the_wrist_way_down_left_the_arm_is_solved_again_from_home(kinematics):
    """pybullet's IK is local: from the joints a wrist camera's way down ended in (lts sim grasp --camera wrist,
    seed 0), the straight way down near the base jumped 2.3 rad in one 4 cm step (the arm then never got there),
    and a grasp at the far side had no solution at all; both solve smoothly from HOME."""
    near_base = Grasp(np.array([-0.3176, -0.0448, 0.68]), -0.5043, 0.0562, 0.7)
    left_near_base = (-0.60, -0.63, 0.55, -2.96, 0.45, 2.35, 1.89)
    far_side = Grasp(np.array([0.0302, 0.0506, 0.657]), -0.1108, 0.0521, 0.677)
    left_far_side = (-0.66, 0.64, 0.87, -1.76, -0.56, 2.13, 2.78)
    for grasp, left in ((near_base, left_near_base), (far_side, left_far_side)):
        waypoints = plan_pick(grasp, kinematics, left)
        straight = [w for w in waypoints if w.name in ("descend", "lift")]
        steps = [waypoints[0], *straight]
        for before, after in zip(steps, steps[1:]):
            rise = abs(kinematics.grasp_frame(after.arm)[2, 3] - kinematics.grasp_frame(before.arm)[2, 3])
            assert np.abs(after.arm - before.arm).max() <= TURN_RAD_PER_M * rise + 1e-6
        assert np.linalg.norm(kinematics.grasp_frame(straight[-2].arm)[:3, 3] - grasp.position) < 0.006


def test_a_lean_out_of_reach_is_relaxed_towards_straight_down(kinematics):
    lean = np.radians(35)
    near_base = (-0.403, -0.063, TABLE_TOP_Z + 0.29)  # the wrist client's way down near the base (docs/grasp.md)
    assert kinematics.solve(near_base, 0.0, panda.HOME, lean) is None
    arm, kept = kinematics.solve_leaning(near_base, 0.0, panda.HOME, lean)
    assert arm is not None and kept == 0.0
    frame = kinematics.grasp_frame(arm)
    assert np.linalg.norm(frame[:3, 3] - near_base) < 0.01 and abs(panda.tilt_of(frame)) < np.radians(2)
    over_centre = (-0.1, 0.0, TABLE_TOP_Z + 0.3)  # within reach leant: the lean is kept
    arm, kept = kinematics.solve_leaning(over_centre, 0.0, panda.HOME, lean)
    assert arm is not None and kept == lean and abs(panda.tilt_of(kinematics.grasp_frame(arm)) - lean) < np.radians(2)
    assert kinematics.solve_leaning((0.6, 0.0, TABLE_TOP_Z + 0.03), 0.0, panda.HOME, lean)[0] is None


def test_commands_are_unique_expressions_or_name_an_absent_object(cell):
    scene = cell.view()
    present = {(o.color, o.category) for o in scene.objects if o.color}
    absent = {f"the {c} {CATEGORY_WORDS[k][0]}" for k in GRASPABLE for c in COLORS if (c, k) not in present}
    for k in range(10):
        text, kind, target, family = choose_command(scene, np.random.default_rng(k), no_target=True)
        assert kind == "no_target" and target is None and text in absent and family == "generator"
        text, kind, target, family = choose_command(scene, np.random.default_rng(k), no_target=False)
        assert kind != "no_target" and scene.objects[target].color and scene.objects[target].visible_px >= 400
        text, kind, target, family = choose_command(scene, np.random.default_rng(k), False, ("polite", "of_the"))
        assert family in ("polite", "of_the") and scene.objects[target].visible_px >= 400, text


def test_an_absent_object_is_not_one_that_a_present_objects_name_covers(cell):
    scene = cell.view()
    red_plank = dataclasses.replace(scene.objects[0], category="jenga", color="red")  # a red "wooden block"
    scene = dataclasses.replace(scene, objects=[red_plank])
    texts = {choose_command(scene, np.random.default_rng(k), no_target=True)[0] for k in range(300)}
    assert "the red block" not in texts and "the red jenga block" not in texts and "the red ball" in texts


def test_no_target_episodes_are_spread_among_the_others():
    for unique, negative in ((10, 2), (50, 10), (1, 1), (3, 0), (0, 2)):
        marks = [i for i, m in enumerate(_schedule(unique, negative)) if m]
        assert len(marks) == negative and len(list(_schedule(unique, negative))) == unique + negative
    assert [i for i, m in enumerate(_schedule(10, 2)) if m] == [3, 9]


def episode(index: int, outcome: str, target: int | None = 0, moved: bool = True) -> Episode:
    return Episode(index, index, "the red block", "attribute" if target is not None else "no_target", target,
                   "block" if target is not None else None, outcome=outcome, arm_moved=moved,
                   timings={"episode_s": 10.0 + index})


def test_outcomes_and_rates():
    assert classify({"decision": "refused"}, False, None, False) == "not_found"
    assert classify({"decision": "grasped"}, False, "wrong_object", True) == "wrong_object"
    assert classify({"decision": "motion_failed"}, False, "grasp_missed", True) == "ik_or_motion"
    assert classify({"decision": "killed"}, False, "grasp_missed", False) == "timeout"
    assert classify({"decision": "refused"}, True, None, False) == "refused"
    assert classify({"decision": "grasped"}, True, None, True) == "moved"
    assert classify({"decision": "plan_failed"}, True, None, False) == "not_moved"
    figures = metrics([episode(0, "success"), episode(1, "success"), episode(2, "wrong_object"),
                       episode(3, "not_found", moved=False), episode(4, "refused", None, False),
                       episode(5, "moved", None, True)])
    assert figures["success_rate"] == 0.5 and figures["wrong_object_rate"] == 0.25
    assert figures["refusal_rate"] == 0.5 and figures["no_target_arm_still_rate"] == 0.5
    assert figures["failures"]["not_found"] == 1 and figures["per_category"]["block"]["episodes"] == 4
    assert figures["per_family"]["generator"] == {"episodes": 4, "success_rate": 0.5, "wrong_object_rate": 0.25}
    assert figures["seconds_median"]["episode_s"] == 12.5


def test_the_cell_takes_an_appearance_family_with_the_same_objects():
    """``lts sim grasp --appearance``: the cell of a seed holds the same graspable objects at the same places in
    every family that keeps the flat neighbours; only how they and the table look changes."""
    flat, patterned = Cell(4), Cell(4, appearance="ho_pattern")
    try:
        a, b = flat.view(), patterned.view()
        assert [(o.category, o.color, o.center_world) for o in a.objects] == \
            [(o.category, o.color, o.center_world) for o in b.objects]
        assert np.array_equal(a.instances, b.instances) and not np.array_equal(a.rgb, b.rgb)
    finally:
        flat.close()
        patterned.close()


def test_the_wrist_camera_is_where_the_clients_kinematics_put_it_and_sees_the_table():
    """The cell renders from the hand (its joints, the mount), parked so that the camera looks at the workspace
    obliquely (55 deg, as the head camera); the client's own model of the Panda, given the same joints, puts the
    camera at the same pose; the object pixels it sees deproject onto the objects."""
    from lts_ros.sim.cell import ROBOT_BASE, WORKSPACE_CENTRE
    from lts_ros.geometry import pose_matrix
    from lts_ros.sim.wrist_camera import MOUNT

    cell = Cell(SEED, camera="wrist")
    model = Kinematics(ROBOT_BASE)
    try:
        scene = cell.view()
        assert np.abs(cell.start - np.array(panda.HOME)).max() > 0.1  # parked over the workspace, not at home
        client_pose = model.grasp_frame(cell.start) @ pose_matrix(list(MOUNT))
        assert np.allclose(client_pose, scene.camera.world_from_camera, atol=1e-6)
        pose = scene.camera.world_from_camera
        eye, axis = pose[:3, 3], pose[:3, 2]  # looking down at the table and away from the robot (+x)
        assert axis[2] == pytest.approx(-np.sin(np.radians(55)), abs=0.02) and axis[0] > 0.5
        centre = np.array(WORKSPACE_CENTRE)  # the optical axis through the workspace's centre (it was 20 cm beside)
        assert np.linalg.norm(eye + np.dot(centre - eye, axis) * axis - centre) < 0.01
        assert pose[0, 1] < -0.5  # image rows run towards the robot: the far side at the top, upright
        seen = [o for o in scene.objects if o.color and o.visible_px >= 400]
        assert len(seen) >= 2
        for obj in seen:
            points = camera_to_world(scene.camera.world_from_camera,
                                     deproject(scene.depth_m, scene.camera.K, scene.instances == obj.instance_id))
            assert np.linalg.norm(np.median(points, axis=0)[:2] - np.array(obj.center_world[:2])) < 0.03
    finally:
        model.close()
        cell.close()
    with pytest.raises(LtsError, match="camera must be head or wrist"):
        Cell(SEED, camera="shoulder")
