"""Appearance families (data/tabletop/appearance.py): patterns keep the named colour dominant, a colour varies within
its name, a family changes looks and neighbours but not the named objects' ground truth, held-out families only in
the test split, and lts eval reports every figure per family."""
import colorsys
import json

import numpy as np
import pytest

from lts_ros.data.tabletop.appearance import (DOMINANT_SHARE, FAMILIES, HELD_OUT, OBJECT_PATTERNS, TABLE_SURFACES,
                                              family, jittered, object_texture, table_texture)
from lts_ros.data.tabletop.dataset import TabletopDataset
from lts_ros.data.tabletop.scene import DISTRACTOR, PALETTE, TABLE_TOP_Z
from lts_ros.data.tabletop.store import render_split
from lts_ros.data.tabletop.robot_view import place_arm
from lts_ros.data.tabletop.view import camera_looking_at, sample_light
from lts_ros.data.tabletop.world import build_tabletop, render_scene
from lts_ros.errors import LtsError
from lts_ros.evaluate import EvalResult


def nearest_palette_colour(rgb) -> str:
    """The palette name a person would give ``rgb``: by hue for colours, by lightness for greys."""
    h, s, v = colorsys.rgb_to_hsv(*rgb)
    if s < 0.2:
        return "white" if v > 0.5 else "black"
    hues = {name: colorsys.rgb_to_hsv(*c)[0] for name, c in PALETTE.items() if colorsys.rgb_to_hsv(*c)[1] >= 0.2}
    return min(hues, key=lambda name: min(abs(hues[name] - h), 1 - abs(hues[name] - h)))


@pytest.mark.parametrize("name", list(PALETTE))
def test_a_varied_colour_keeps_its_name(name):
    rng = np.random.default_rng(0)
    varied = [jittered(PALETTE[name], rng) for _ in range(300)]
    assert all(nearest_palette_colour(c) == name for c in varied)
    assert len({tuple(np.round(c, 3)) for c in varied}) > 200  # it does vary


@pytest.mark.parametrize("pattern", [p for p in OBJECT_PATTERNS if p != "flat"])
def test_the_named_colour_dominates_every_pattern(pattern):
    rng = np.random.default_rng(1)
    for name, rgb in PALETTE.items():
        texture = object_texture(pattern, rgb, rng)
        base = np.all(np.abs(texture.astype(int) - np.round(np.array(rgb) * 255)) <= 1, axis=-1)
        assert DOMINANT_SHARE <= base.mean() < 1.0, (pattern, name, base.mean())


def test_every_table_surface_is_an_rgb_texture_or_the_tint():
    rng = np.random.default_rng(2)
    for surface in TABLE_SURFACES:
        texture = table_texture(surface, rng)
        assert texture is None if surface == "tint" else (texture.dtype == np.uint8 and texture.shape[-1] == 3)
    with pytest.raises(LtsError, match="unknown table surface"):
        table_texture("marble", rng)
    with pytest.raises(LtsError, match="unknown appearance family 'shiny'"):
        family("shiny")


def test_a_family_changes_the_looks_not_the_named_objects_or_their_masks():
    flat, patterned = render_scene(5), render_scene(5, appearance="ho_pattern")
    assert np.array_equal(flat.rgb, render_scene(5, appearance="flat").rgb)  # flat is the world as it was
    assert np.array_equal(flat.instances, patterned.instances)
    assert [(o.category, o.color, o.center_world) for o in flat.objects] == \
        [(o.category, o.color, o.center_world) for o in patterned.objects]
    named = np.isin(flat.instances, [o.instance_id for o in flat.objects if o.category != DISTRACTOR])
    assert np.abs(flat.rgb[named].astype(int) - patterned.rgb[named].astype(int)).mean() > 3  # they look different
    crowded = [render_scene(seed, appearance="ho_neighbours") for seed in (5, 6, 7)]
    assert np.mean([sum(o.category == DISTRACTOR for o in s.objects) for s in crowded]) >= 3


def test_the_cell_family_shows_the_robot_arm_and_objects_set_against_each_other():
    """``cell``: a Panda reaches over the table with its hand in view, clear of every object and of the table top;
    it renders as background (no object's mask); named objects stand against each other where flat scenes keep
    them a centimetre apart, and some straddle the image border, which flat scenes never do."""
    camera = camera_looking_at((0.0, 0.0, TABLE_TOP_Z), 0.7, 50.0, 0.0, 50.0)  # a head camera over the table
    light = sample_light(np.random.default_rng(0))
    seeds, arms, touching, apart = range(20, 28), 0, [], []
    for seed in seeds:
        for appearance, gaps in (("cell", touching), ("flat", apart)):
            tabletop = build_tabletop(seed, camera, appearance=appearance)
            client, named = tabletop.client, [i.body for i in tabletop.items if i.color is not None]
            try:
                gaps.append(min(min((p[8] for p in client.getClosestPoints(a, b, 1.0)), default=1.0)
                                for k, a in enumerate(named) for b in named[k + 1:]))
                arm = place_arm(client, np.random.default_rng([seed, 5]), camera, tabletop.bodies) \
                    if appearance == "cell" else None
                if arm is None:
                    continue
                arms += 1
                assert not any(client.getClosestPoints(arm, body, 0.01) for body in tabletop.bodies)
                seen = tabletop.render(camera, light)
                client.removeBody(arm)
                unseen = tabletop.render(camera, light)
                arm_px = (seen.depth_m != unseen.depth_m) & (seen.instances == -1)
                assert arm_px.sum() > 500  # the arm is in the image, as background
            finally:
                tabletop.close()
    assert arms >= len(seeds) // 2
    assert sum(gap < 0.005 for gap in touching) >= len(seeds) // 2 and min(apart) > 0.005

    def cut_by_the_frame(appearance: str, seed: int) -> int:
        scene = render_scene(seed, appearance=appearance)
        border = np.concatenate([scene.instances[[0, -1]].ravel(), scene.instances[:, [0, -1]].ravel()])
        return sum(o.instance_id in border for o in scene.objects if o.category != DISTRACTOR)

    assert sum(cut_by_the_frame("cell", seed) for seed in seeds) >= 2
    assert sum(cut_by_the_frame("flat", seed) for seed in seeds) == 0


def test_the_busy_cell_family_stacks_objects_on_flat_tops():
    """``busy_cell``: some named objects stand on another's flat top (a block, a tray), their lowest point well above
    the table; flat scenes never stack."""
    camera = camera_looking_at((0.0, 0.0, TABLE_TOP_Z), 0.7, 50.0, 0.0, 50.0)

    def raised(appearance: str, seed: int) -> list[str]:
        tabletop = build_tabletop(seed, camera, appearance=appearance)
        try:
            return [item.category for item in tabletop.items
                    if item.color is not None and tabletop.client.getAABB(item.body)[0][2] > TABLE_TOP_Z + 0.01]
        finally:
            tabletop.close()

    assert sum(bool(raised("busy_cell", seed)) for seed in range(25, 35)) >= 2
    assert not any(raised("flat", seed) for seed in (25, 28, 32, 34))


def test_held_out_families_are_rendered_only_into_test_and_evaluated_per_family(tmp_path):
    assert set(HELD_OUT) == {"ho_pattern", "ho_table", "ho_neighbours"} and not FAMILIES["randomized"].held_out
    for split in ("train", "val"):
        with pytest.raises(LtsError, match="held-out appearance families"):
            render_split(tmp_path, split, 1, appearances=("randomized", "ho_table"), progress=False)
    summary = render_split(tmp_path, "test", 4, workers=1, per_object=1, appearances=("flat", "ho_table"),
                           progress=False)
    assert summary.scenes == 4
    manifest = json.loads((tmp_path / "test" / "manifest.json").read_text())
    assert manifest["appearances"] == ["flat", "ho_table"]
    tables = TabletopDataset(tmp_path, "test", appearance="ho_table")
    assert {s["appearance"] for s in tables.scenes} == {"ho_table"} and len(tables.scenes) == 2
    assert tables[0].appearance == "ho_table"
    with pytest.raises(LtsError, match="no scene of appearance family 'ho_pattern' .*has: flat, ho_table"):
        TabletopDataset(tmp_path, "test", appearance="ho_pattern")


def sample(appearance: str, answer: str, iou: float, target_set: str = "one", status: str = "found") -> dict:
    union = 100
    return {"appearance": appearance, "target_set": target_set, "status": status, "score": 0.9, "answer": answer,
            "intersection": int(iou * union), "union": union, "iou": iou, "split": False}


def test_the_report_gives_every_figure_per_family():
    result = EvalResult([sample("flat", "correct", 0.9), sample("flat", "correct", 0.8),
                         sample("ho_table", "wrong_object", 0.1), sample("ho_table", "correct", 0.7),
                         sample("ho_table", "", 0.0, target_set="none", status="not_found")])
    parts = result.by_appearance()
    assert parts["flat"].answers()["all"]["correct"] == 1.0
    assert parts["ho_table"].answers()["all"]["wrong_object"] == 0.5 and parts["ho_table"].grounding().n_acc == 1.0
    table = result.appearance_table()
    assert table.splitlines()[0].split()[:6] == ["count", "mIoU", "N-acc", "T-acc", "split", "3D"]
    assert [line.split()[0] for line in table.splitlines()[1:]] == ["flat", "ho_table"]
    assert "by appearance family" in result.report()
    assert set(result.as_dict()["by_appearance"]) == {"flat", "ho_table"}
