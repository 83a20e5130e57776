"""How the tabletop world looks beyond flat colours: appearance families (docs/appearance-families.md).

A family says which surfaces objects get (flat, or a pattern over the named colour), whether the named colour
varies within its name, which table surfaces the scene draws from, and how many unnamed neighbours stand among the
named objects and of which shapes. ``flat`` is the world as it was first built; held-out families are rendered
only into the test split and never trained on.

The colour a person names on a patterned object is its dominant colour: the base colour covers at least
``DOMINANT_SHARE`` of every pattern texture, and the marks are another shade or a neutral. Textures are baked
with the colour in them and drawn with a white ``rgbaColor`` (pybullet multiplies the two). Every draw comes from
the generator passed in, so a seed always gives one look.
"""
from __future__ import annotations

import colorsys
import functools
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lts_ros.errors import LtsError

DOMINANT_SHARE = 0.7  # at least this share of a pattern texture is the named colour
TEXTURE_PX = 128
OBJECT_PATTERNS = ("flat", "checker", "stripes", "noise", "dots", "text")
TABLE_SURFACES = ("tint", "wood", "cloth", "plastic", "print", "real_texture", "photo")
REAL_TEXTURES = ("brick", "grass", "gravel")  # scikit-image samples, CC0 (CC0Textures)
PHOTOS = ("chelsea", "astronaut", "rocket", "hubble_deep_field")  # scikit-image samples, CC0 / public domain; none
# shows an object the world names (coffee shows a cup: a photo of a cup on the table would make "the cup" ambiguous)
SEEN_NEIGHBOURS = "random_urdfs"  # pybullet_data's procedurally generated shapes (the flat world's distractors)
UNSEEN_NEIGHBOURS = "unseen"  # shapes no training family shows: the bunny, a stone, cylinders and capsules


@dataclass(frozen=True)
class Family:
    name: str
    patterns: tuple[str, ...]  # object surfaces, one drawn per object
    jitter: bool  # the named colour varied in hue, saturation and brightness within its name
    tables: tuple[str, ...]  # table surfaces, one drawn per scene
    neighbours: tuple[int, int]  # unnamed objects per scene (inclusive range)
    neighbour_shapes: str  # SEEN_NEIGHBOURS or UNSEEN_NEIGHBOURS
    held_out: bool = False
    robot_in_view: bool = False  # the robot's own arm reaches over the table, its hand in view (robot_view.py)
    touching: float = 0.0  # share of named objects placed against one already placed
    cut_by_frame: float = 0.0  # share of named objects straddling the image border (their centre in view)
    stacked: float = 0.0  # share of named objects standing on a flat-topped one (a block, a tray)


FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("flat", ("flat",), False, ("tint",), (0, 2), SEEN_NEIGHBOURS),
    Family("randomized", ("flat", "checker", "stripes", "noise"), True,
           ("tint", "wood", "cloth", "plastic", "print", "real_texture"), (0, 5), SEEN_NEIGHBOURS),
    Family("cell", ("flat",), False, ("tint",), (0, 2), SEEN_NEIGHBOURS, robot_in_view=True, touching=0.4,
           cut_by_frame=0.3),
    Family("busy_cell", ("flat", "checker", "stripes", "noise"), True,
           ("tint", "wood", "cloth", "plastic", "print", "real_texture"), (0, 4), SEEN_NEIGHBOURS,
           robot_in_view=True, touching=0.3, cut_by_frame=0.3, stacked=0.5),
    Family("ho_pattern", ("dots", "text"), True, ("tint",), (0, 2), SEEN_NEIGHBOURS, held_out=True),
    Family("ho_table", ("flat",), False, ("photo",), (0, 2), SEEN_NEIGHBOURS, held_out=True),
    Family("ho_neighbours", ("flat",), False, ("tint",), (3, 6), UNSEEN_NEIGHBOURS, held_out=True),
)}
HELD_OUT = tuple(name for name, f in FAMILIES.items() if f.held_out)


def family(name: str) -> Family:
    """The family called ``name``; LtsError naming the choices otherwise."""
    if name not in FAMILIES:
        raise LtsError(f"unknown appearance family '{name}' (choose from {', '.join(FAMILIES)})")
    return FAMILIES[name]


def check_appearances(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` checked (``family``), in order; ``flat`` alone when there are none."""
    return tuple(family(name).name for name in names) or ("flat",)


def jittered(rgb: tuple[float, float, float], rng: np.random.Generator) -> tuple[float, float, float]:
    """``rgb`` varied within what a person still calls that colour: hue by up to 6 degrees, saturation and
    brightness by up to 15 %; greys (white, black) keep their lightness band and stay unsaturated."""
    h, s, v = colorsys.rgb_to_hsv(*rgb)
    if s < 0.2:  # white or black: lightness only, a faint tint at most
        v = float(np.clip(v * rng.uniform(0.88, 1.06), 0.02, 0.97)) if v > 0.5 else float(rng.uniform(0.03, 0.14))
        s = float(rng.uniform(0.0, 0.06))
    else:
        h = (h + rng.uniform(-6, 6) / 360) % 1.0
        s = float(np.clip(s * rng.uniform(0.85, 1.1), 0.5, 1.0))
        v = float(np.clip(v * rng.uniform(0.85, 1.1), 0.45, 1.0))
    return tuple(float(c) for c in colorsys.hsv_to_rgb(h, s, v))


def object_texture(pattern: str, rgb: tuple[float, float, float], rng: np.random.Generator) -> np.ndarray:
    """A (TEXTURE_PX, TEXTURE_PX, 3) uint8 RGB texture: ``pattern``'s marks over the base colour ``rgb``, the base
    covering at least DOMINANT_SHARE. The marks are a darker or lighter shade, or a neutral that contrasts."""
    n = TEXTURE_PX
    base = np.array(rgb) * 255
    marks = _marks(pattern, n, rng)
    while marks.mean() > 1 - DOMINANT_SHARE:  # thin the marks until the base dominates
        marks &= rng.random((n, n)) < 0.8
    lightness = float(np.mean(rgb))
    choices = [base * 0.35, base + (255 - base) * 0.6, np.full(3, 20.0 if lightness > 0.4 else 235.0)]
    mark_rgb = choices[rng.integers(len(choices))]
    texture = np.empty((n, n, 3), np.float64)
    texture[:] = base
    texture[marks] = mark_rgb
    return np.clip(texture, 0, 255).astype(np.uint8)


def _marks(pattern: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Where ``pattern`` puts its marks on an n x n texture (bool)."""
    y, x = np.mgrid[0:n, 0:n]
    if pattern == "checker":
        cell = int(rng.choice([8, 16, 32]))
        return (x // cell + y // cell) % 2 == 1
    if pattern == "stripes":
        period, width = int(rng.choice([12, 16, 24])), int(rng.integers(3, 6))
        return ((x if rng.random() < 0.5 else y) % period) < width
    if pattern == "noise":
        blur = cv2.GaussianBlur(rng.random((n, n)), (0, 0), float(rng.uniform(2, 5)))
        return blur > np.quantile(blur, rng.uniform(0.72, 0.85))
    if pattern == "dots":
        marks = np.zeros((n, n), np.uint8)
        step, radius = int(rng.choice([16, 24, 32])), int(rng.integers(3, 6))
        for cy in range(step // 2, n, step):
            for cx in range(step // 2, n, step):
                cv2.circle(marks, (cx, cy), radius, 1, -1)
        return marks.astype(bool)
    if pattern == "text":
        marks = np.zeros((n, n), np.uint8)
        letters = "ABCDEFGHKMNPRSTUVXYZ0123456789"
        for row in range(12, n, 28):
            word = "".join(rng.choice(list(letters), int(rng.integers(3, 6))))
            cv2.putText(marks, word, (int(rng.integers(0, 16)), row + 8), cv2.FONT_HERSHEY_SIMPLEX, 0.55, 1, 2)
        return marks.astype(bool)
    if pattern == "flat":
        return np.zeros((n, n), bool)
    raise LtsError(f"unknown object pattern '{pattern}' (choose from {', '.join(OBJECT_PATTERNS)})")


def table_texture(surface: str, rng: np.random.Generator) -> np.ndarray | None:
    """A uint8 RGB texture for the table top, or None for a plain tint (the flat world's)."""
    n = 2 * TEXTURE_PX
    if surface == "tint":
        return None
    if surface == "wood":
        y, x = np.mgrid[0:n, 0:n].astype(np.float64)
        grain = np.sin(x / rng.uniform(3, 7) + 4 * cv2.GaussianBlur(rng.random((n, n)), (0, 0), 12) * 6)
        tone = np.array(colorsys.hsv_to_rgb(rng.uniform(0.05, 0.1), rng.uniform(0.4, 0.7), rng.uniform(0.45, 0.85)))
        return np.clip(255 * tone[None, None] * (0.8 + 0.2 * grain[..., None]), 0, 255).astype(np.uint8)
    if surface == "cloth":
        y, x = np.mgrid[0:n, 0:n]
        weave = ((x // 2 + y // 2) % 2) * 0.12 + 0.88
        tone = np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.1, 0.6), rng.uniform(0.35, 0.9)))
        noise = 0.94 + 0.06 * rng.random((n, n))
        return np.clip(255 * tone[None, None] * (weave * noise)[..., None], 0, 255).astype(np.uint8)
    if surface == "plastic":  # any colour, the named ones included: an object may stand on its own colour
        tone = np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.0, 0.9), rng.uniform(0.3, 0.95)))
        return np.clip(np.full((n, n, 3), 255 * tone) + rng.normal(0, 3, (n, n, 3)), 0, 255).astype(np.uint8)
    if surface == "print":  # a printed cover: soft-edged regions of 3-6 colours of any hue, the named ones included
        return _print_texture(n, rng)
    if surface in ("real_texture", "photo"):
        names = REAL_TEXTURES if surface == "real_texture" else PHOTOS
        return _sample_image(names[rng.integers(len(names))])
    raise LtsError(f"unknown table surface '{surface}' (choose from {', '.join(TABLE_SURFACES)})")


def _print_texture(n: int, rng: np.random.Generator) -> np.ndarray:
    k = int(rng.integers(3, 7))
    colours = np.array([colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.0, 1.0), rng.uniform(0.2, 1.0))
                        for _ in range(k)])
    fields = cv2.GaussianBlur(rng.random((n, n, k)).astype(np.float32), (0, 0), rng.uniform(4, 24))
    weights = np.exp((fields - fields.max(axis=-1, keepdims=True)) * rng.uniform(200, 2000))  # soft argmax
    image = (weights / weights.sum(axis=-1, keepdims=True)) @ colours
    return np.clip(255 * image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8)


@functools.cache
def _sample_image(name: str) -> np.ndarray:
    """A scikit-image sample image (shipped in its wheel) as uint8 RGB."""
    import skimage.data

    image = getattr(skimage.data, name)()
    return np.ascontiguousarray(np.stack([image] * 3, -1) if image.ndim == 2 else image[..., :3])


def load_texture(client, texture: np.ndarray) -> int:
    """``texture`` loaded into pybullet ``client`` (which reads only files: a temporary PNG, removed once read);
    its texture id."""
    with tempfile.TemporaryDirectory(prefix="lts_texture_") as folder:
        path = Path(folder) / "texture.png"
        cv2.imwrite(str(path), cv2.cvtColor(texture, cv2.COLOR_RGB2BGR))
        return client.loadTexture(str(path))
