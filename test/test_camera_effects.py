"""Camera effects (data/camera_effects.py): each changes what it should, more with severity, reproducibly."""
import numpy as np
import pytest

from lts_ros.data.camera_effects import DEPTH_EFFECTS, EFFECTS, RGB_EFFECTS, CameraEffect, RandomCameraEffects
from lts_ros.errors import LtsError


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    rgb = np.zeros((120, 160, 3), np.uint8)
    rgb[:, :] = (90, 120, 160)
    rgb[30:90, 40:120] = (200, 40, 40)  # a red box with sharp edges
    rgb = np.clip(rgb + rng.integers(-5, 6, rgb.shape), 0, 255).astype(np.uint8)
    depth = np.full((120, 160), 0.8, np.float32)
    return rgb, depth


@pytest.mark.parametrize("kind", EFFECTS)
def test_each_effect_changes_its_channel_more_with_severity(frame, kind):
    rgb, depth = frame
    changes = []
    for severity in (1, 5):
        out_rgb, out_depth = CameraEffect(kind, severity).apply(rgb, depth, np.random.default_rng(1))
        assert out_rgb.shape == rgb.shape and out_rgb.dtype == np.uint8 and out_depth.dtype == np.float32
        if kind in DEPTH_EFFECTS:
            assert np.array_equal(out_rgb, rgb)
            changes.append(float(np.abs(out_depth - depth).mean()))
        else:
            assert np.array_equal(out_depth, depth)
            changes.append(float(np.abs(out_rgb.astype(float) - rgb).mean()))
    assert 0 < changes[0] < changes[1], changes


def test_effects_are_reproducible_per_seed(frame):
    rgb, depth = frame
    a = CameraEffect("noise").apply(rgb, depth, np.random.default_rng(3))[0]
    b = CameraEffect("noise").apply(rgb, depth, np.random.default_rng(3))[0]
    assert np.array_equal(a, b)


def test_depth_holes_are_zero_depth_and_depth_effects_skip_a_missing_depth(frame):
    rgb, depth = frame
    holes = CameraEffect("depth_holes", 3).apply(rgb, depth, np.random.default_rng(0))[1]
    assert 0.03 < (holes == 0).mean() < 0.2 and np.isin(holes, [0.0, depth[0, 0]]).all()
    assert CameraEffect("depth_noise").apply(rgb, None, np.random.default_rng(0)) == (rgb, None)


@pytest.mark.parametrize("text, kind, severity", [("jpeg", "jpeg", 3), ("motion_blur:5", "motion_blur", 5)])
def test_parse(text, kind, severity):
    effect = CameraEffect.parse(text)
    assert (effect.kind, effect.severity) == (kind, severity) and str(effect) == f"{kind}:{severity}"


@pytest.mark.parametrize("text, message", [("fog", "unknown camera effect 'fog'"), ("jpeg:9", "1 to 5"),
                                           ("jpeg:high", "integer 1 to 5")])
def test_bad_effects_are_named(text, message):
    with pytest.raises(LtsError, match=message):
        CameraEffect.parse(text)


def test_random_effects_touch_about_the_share_asked(frame):
    rgb, _ = frame
    augment, rng = RandomCameraEffects(p=0.5), np.random.default_rng(0)
    changed = [not np.array_equal(augment(rgb, rng), rgb) for _ in range(200)]
    assert 0.35 < np.mean(changed) < 0.65
    assert set(RGB_EFFECTS) == {"noise", "motion_blur", "jpeg", "exposure", "white_balance"}


def test_an_evaluation_corrupts_each_frame_once_for_all_its_expressions(tabletop_root):
    """Every expression of one scene sees the same corrupted frame (the model reads it once per image and the mask
    edges snap to it); other scenes get their own draw."""
    from lts_ros.data.camera_effects import CameraEffect
    from lts_ros.data.tabletop.dataset import TabletopDataset
    from lts_ros.data.datasets import CorruptedSource

    clean = TabletopDataset(tabletop_root, "val", load_depth=False)
    corrupted = CorruptedSource(clean, CameraEffect.parse("noise:3"))
    keys = clean.image_keys()
    first, second = 0, next(i for i in range(1, len(clean)) if keys[i] == keys[0])
    other = next(i for i in range(len(clean)) if keys[i] != keys[0])
    assert np.array_equal(corrupted[first].image, corrupted[second].image)
    assert not np.array_equal(corrupted[first].image, clean[first].image)
    noise = [corrupted[i].image.astype(int) - clean[i].image.astype(int) for i in (first, other)]
    assert not np.array_equal(noise[0], noise[1])
