"""The pybullet tabletop renderer: determinism, consistent geometry and instance ground truth."""
from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

from lts_ros.geometry import deproject, project, visible_surface_centroid
from lts_ros.data.tabletop.scene import DISTRACTOR, Scene
from lts_ros.data.tabletop.world import TABLE_TOP_Z, SceneError, render_scene
from lts_ros.errors import LtsError

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def scenes() -> list[Scene]:
    return [render_scene(seed, width=320, height=240) for seed in SEEDS]


def _to_world(scene: Scene, points: np.ndarray) -> np.ndarray:
    T = scene.camera.world_from_camera
    return points @ T[:3, :3].T + T[:3, 3]


def _same(a: Scene, b: Scene) -> bool:
    return (np.array_equal(a.rgb, b.rgb) and np.array_equal(a.instances, b.instances)
            and np.array_equal(a.depth_m, b.depth_m) and a.objects == b.objects)


def test_same_seed_same_scene(scenes):
    again = render_scene(SEEDS[0], width=320, height=240)
    assert _same(again, scenes[0])
    assert not np.array_equal(scenes[0].rgb, scenes[1].rgb)


def test_objects_and_instances(scenes):
    for scene in scenes:
        named = [o for o in scene.objects if o.category != DISTRACTOR]
        assert 2 <= len(named) <= 7 and len(scene.objects) - len(named) <= 2
        assert all(o.color is not None for o in named)
        assert all(o.color is None for o in scene.objects if o.category == DISTRACTOR)
        assert [o.instance_id for o in scene.objects] == list(range(len(scene.objects)))
        assert scene.rgb.shape == (240, 320, 3) and scene.rgb.dtype == np.uint8
        assert scene.instances.dtype == np.int32 and scene.depth_m.dtype == np.float32
        ids, counts = np.unique(scene.instances[scene.instances >= 0], return_counts=True)
        assert dict(zip(ids.tolist(), counts.tolist())) == {o.instance_id: o.visible_px
                                                            for o in scene.objects if o.visible_px}
        assert sum(o.visible_px > 100 for o in named) >= 2


def test_depth_on_objects_is_plausible(scenes):
    for scene in scenes:
        on_objects = scene.depth_m[scene.instances >= 0]
        assert on_objects.min() > 0.2 and on_objects.max() < 1.5


def test_camera_model_is_consistent(scenes):
    """Table-top pixels deproject onto the table plane: K, depth and the camera pose agree to < 0.2 mm."""
    for scene in scenes:
        world = _to_world(scene, deproject(scene.depth_m, scene.camera.K, scene.instances < 0))
        top = world[(np.abs(world[:, 0]) < 0.7) & (np.abs(world[:, 1]) < 0.45)
                    & (np.abs(world[:, 2] - TABLE_TOP_Z) < 0.05)]
        assert len(top) > 0.3 * scene.depth_m.size
        assert np.abs(top[:, 2] - TABLE_TOP_Z).max() < 2e-4  # a 0.5 px error in cy gives > 0.5 mm


def test_object_geometry(scenes):
    for scene in scenes:
        K = scene.camera.K
        for o in scene.objects:
            center = np.array(o.center_camera)
            assert np.allclose(_to_world(scene, center[None])[0], o.center_world, atol=1e-6)
            assert o.center_world[2] > TABLE_TOP_Z and 0.02 < o.size_m < 0.3
            if o.visible_px < 50:
                continue
            assert np.linalg.norm(project(center[None], K)[0] - o.centroid_px) < 25
            surface = visible_surface_centroid(scene.depth_m, K, scene.instances == o.instance_id)
            assert np.linalg.norm(surface - center) < 0.05, (scene.seed, o)


def test_excluded_combinations_never_appear():
    exclude = {("red", "block"), ("green", "ball"), ("blue", "ball")}
    seen = set()
    for seed in range(6):
        scene = render_scene(seed, width=160, height=120, exclude=exclude, categories=("block", "ball"),
                             colors=("red", "green", "blue"))
        seen |= {(o.color, o.category) for o in scene.objects if o.category != DISTRACTOR}
    assert not seen & exclude
    assert {"block", "ball"} == {category for _, category in seen}


def test_palette_color_is_visible():
    scene = render_scene(3, width=160, height=120, colors=("red",), categories=("block", "jenga", "tray"))
    visible = [o for o in scene.objects if o.color == "red" and o.visible_px > 30]
    assert visible
    for o in visible:
        r, g, b = scene.rgb[scene.instances == o.instance_id].mean(axis=0)
        assert r > 100 and r > 2 * g and r > 2 * b


def test_renders_in_worker_processes():
    with multiprocessing.get_context("fork").Pool(2) as pool:
        scenes = pool.starmap(render_scene, [(4, (2, 7), 160, 120), (5, (2, 7), 160, 120)])
    assert _same(scenes[0], render_scene(4, width=160, height=120))


def test_errors():
    with pytest.raises(SceneError):
        render_scene(0, n_objects=(40, 40), width=160, height=120)
    with pytest.raises(LtsError, match="unknown"):
        render_scene(0, exclude={("red", "spoon")})
    with pytest.raises(LtsError, match="left"):
        render_scene(0, categories=("block",), colors=("red",), exclude={("red", "block")})
