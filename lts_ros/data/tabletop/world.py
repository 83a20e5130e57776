"""Random RGB-D tabletop scenes built with pybullet, with instance masks and object ground truth.

``render_scene(seed)`` puts named objects (and a few unnamed distractor shapes, ``assets.py``) on
``table/table.urdf``, lets them settle under gravity and renders RGB, z-depth and instance ids from a random
robot-head-like viewpoint under random lighting. How objects, table and neighbours look is an appearance family
(``appearance.py``; ``flat``, the default, is one flat colour per object on a tinted table). It renders with
pybullet's CPU TinyRenderer: the only renderer that honours the lighting arguments, and the same pixels on every
machine. Every random choice comes from ``numpy.random.default_rng(seed)``, so a seed always gives one scene.
"""
from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass, replace

import numpy as np
import pybullet as pb

from lts_ros.geometry import project
from lts_ros.data.tabletop.assets import (ASSETS, DATA, DISTRACTOR_SIZE_M, SEEN_SHAPES, UNSEEN_SHAPES, Asset,
                                          PybulletClient, extents, spawn)
from lts_ros.data.tabletop.robot_view import place_arm
from lts_ros.data.tabletop.appearance import (SEEN_NEIGHBOURS, Family, family, jittered, load_texture,
                                              object_texture, table_texture)
from lts_ros.data.tabletop.scene import (CATEGORIES, COLORS, DISTRACTOR, PALETTE, TABLE_TOP_Z, Camera,
                                         Scene)
from lts_ros.data.tabletop.view import NEAR, Tabletop, camera_at, sample_light, sample_pose
from lts_ros.errors import LtsError

TABLE_HALF_XY = np.array([0.75, 0.5])
ATTEMPTS = 5  # scene builds per seed before SceneError
PLACE_TRIES = 256  # candidate positions per object
GAP_M = 0.01  # free space between footprints
TOUCH_GAP_M = 0.002  # between footprints placed touching (appearance families with ``touching``)
EDGE_M = 0.03  # free space to the table edge
DROP_M = 0.003  # dynamic objects start this far above the table
SETTLE_STEPS = 480  # at most 2 s at 240 Hz
MOVED_M = 0.08  # an object whose center moved farther than this while settling is removed (teddies lean)
IMAGE_MARGIN = 0.03  # objects must lie this fraction of the image size inside its border


class SceneError(LtsError):
    """No scene could be built for a seed (objects did not fit or did not settle): skip that seed."""


@dataclass
class _Item:
    category: str
    color: str | None
    asset: Asset
    scale: float
    extents: np.ndarray  # object-frame AABB extents at this scale, meters
    yaw: float
    rgb: tuple[float, float, float]
    xy: np.ndarray | None = None
    body: int = -1
    texture: np.ndarray | None = None  # RGB drawn over the object (its colour baked in); None: the flat colour
    against: "_Item | None" = None  # placed to touch this one (appearance families with ``touching``)
    on: "_Item | None" = None  # stands on this one's top (appearance families with ``stacked``)

    @property
    def radius(self) -> float:
        """Radius of a footprint circle that holds the object at any yaw."""
        return 0.5 * float(np.hypot(*self.extents[:2]))


def render_scene(seed: int, n_objects: tuple[int, int] = (2, 7), width: int = 640, height: int = 480,
                 exclude: Set[tuple[str, str]] = frozenset(), categories: Sequence[str] = CATEGORIES,
                 colors: Sequence[str] = COLORS, appearance: str = "flat") -> Scene:
    """Render the scene of ``seed``: ``n_objects`` (inclusive range) named objects plus the unnamed neighbours
    of the ``appearance`` family, looking as that family says (``flat``: as the world was first built).

    ``exclude`` holds (color, category) pairs that never appear. Raises SceneError when the scene
    cannot be built, and LtsError for unknown names or when nothing is left to draw from.
    """
    return render_episode(seed, [CameraMotion()], n_objects, width, height, exclude, categories, colors,
                          appearance)[0]


@dataclass(frozen=True)
class CameraMotion:
    """A camera pose relative to the scene's sampled one: orbit angles in degrees, distance in metres."""
    azim_deg: float = 0.0
    elev_deg: float = 0.0
    dist_m: float = 0.0


def render_episode(seed: int, motions: Sequence[CameraMotion], n_objects: tuple[int, int] = (2, 7),
                   width: int = 640, height: int = 480, exclude: Set[tuple[str, str]] = frozenset(),
                   categories: Sequence[str] = CATEGORIES, colors: Sequence[str] = COLORS,
                   appearance: str = "flat") -> list[Scene]:
    """The scene of ``seed`` (as ``render_scene`` builds it) seen from each of ``motions``, under one light:
    a camera moving over a settled table. The first view with ``CameraMotion()`` is ``render_scene``'s."""
    allowed = _allowed_colors(exclude, categories, colors)
    look = family(appearance)
    if not 1 <= n_objects[0] <= n_objects[1]:
        raise LtsError(f"n_objects must be a range (min, max) with 1 <= min <= max, got {n_objects}")
    rng = np.random.default_rng(seed)
    for _ in range(ATTEMPTS):
        client = PybulletClient()
        try:
            scenes = _build(client, rng, seed, n_objects, width, height, allowed, motions, look)
        finally:
            client.disconnect()
        if scenes is not None:
            return scenes
    raise SceneError(f"could not build tabletop scene {seed} in {ATTEMPTS} attempts")


def build_tabletop(seed: int, camera: Camera, n_objects: tuple[int, int] = (2, 7),
                   categories: Sequence[str] = CATEGORIES, colors: Sequence[str] = COLORS,
                   region: tuple[np.ndarray, np.ndarray] | None = None, appearance: str = "flat") -> Tabletop:
    """A settled tabletop for ``seed`` in view of a fixed ``camera``, objects' centres inside ``region``
    (world (lo_xy, hi_xy)) when given, looking as the ``appearance`` family says, kept live for a simulation to
    act in: close it when done."""
    allowed = _allowed_colors(frozenset(), categories, colors)
    look = family(appearance)
    rng = np.random.default_rng(seed)
    for _ in range(ATTEMPTS):
        client = PybulletClient()
        tabletop = _settled(client, rng, seed, n_objects, allowed, camera, region, look)
        if tabletop is not None:
            return tabletop
        client.disconnect()
    raise SceneError(f"could not build tabletop {seed} in {ATTEMPTS} attempts")


def add_lookalike(tabletop: Tabletop, of: int, xy: np.ndarray, yaw: float) -> int:
    """A copy of object ``of`` (same asset, size, colour and pattern) standing at world ``xy``, turned to ``yaw``;
    its instance id (the next one)."""
    item = replace(tabletop.items[of], xy=np.asarray(xy, float), yaw=yaw, body=-1, against=None, on=None)
    _spawn_on_table(tabletop.client, item)
    tabletop.items.append(item)
    return len(tabletop.items) - 1


def add_occluder(tabletop: Tabletop, half_extents_m: tuple[float, float, float],
                 rgb: tuple[float, float, float]) -> int:
    """An unnamed box, static (moved by resetting its pose, pushing nothing), put out of sight below the floor
    until it is moved; its instance id (the next one)."""
    client, half = tabletop.client, list(half_extents_m)
    body = client.createMultiBody(0, client.createCollisionShape(pb.GEOM_BOX, halfExtents=half),
                                  client.createVisualShape(pb.GEOM_BOX, halfExtents=half, rgbaColor=[*rgb, 1.0]),
                                  [0.0, 0.0, -5.0])
    extents_m = 2 * np.array(half)
    tabletop.items.append(_Item(DISTRACTOR, None, Asset("box", (extents_m.max(),) * 2), 1.0, extents_m, 0.0, rgb,
                                body=body))
    return len(tabletop.items) - 1


def _allowed_colors(exclude: Set[tuple[str, str]], categories: Sequence[str],
                    colors: Sequence[str]) -> dict[str, list[str]]:
    """Category -> colors it may take; categories with none left are dropped."""
    unknown = ({c for c in categories if c not in ASSETS} | {c for c in colors if c not in PALETTE}
               | {n for pair in exclude for n in pair if n not in PALETTE and n not in ASSETS})
    if unknown:
        raise LtsError(f"unknown tabletop categories/colors: {', '.join(sorted(unknown))}")
    allowed = {cat: [c for c in colors if (c, cat) not in exclude] for cat in categories}
    allowed = {cat: cols for cat, cols in allowed.items() if cols}
    if not allowed:
        raise LtsError("no (color, category) combination is left after exclusions")
    return allowed


def _build(client: PybulletClient, rng: np.random.Generator, seed: int, n_objects: tuple[int, int],
           width: int, height: int, allowed: dict[str, list[str]], motions: Sequence[CameraMotion],
           look: Family) -> list[Scene] | None:
    """One try at the scene, seen from each of ``motions``; None when the objects did not fit in view or fell
    off the table."""
    pose = sample_pose(rng)
    camera = camera_at(pose, width, height)
    tabletop = _settled(client, rng, seed, n_objects, allowed, camera, look=look)
    if tabletop is None:
        return None
    if look.robot_in_view:  # after settling: the arm is posed, not simulated
        place_arm(client, np.random.default_rng([seed, 5]), camera, tabletop.bodies)
    light = sample_light(rng)  # one light for every view
    return [tabletop.render(camera_at(pose.moved(motion), width, height), light) for motion in motions]


def _settled(client: PybulletClient, rng: np.random.Generator, seed: int, n_objects: tuple[int, int],
             allowed: dict[str, list[str]], camera: Camera,
             region: tuple[np.ndarray, np.ndarray] | None = None, look: Family = family("flat")) -> Tabletop | None:
    """Objects placed in view of ``camera`` (their centres inside ``region``, world (lo_xy, hi_xy), when given)
    in a room, settled by physics, looking as ``look`` says; None when they did not fit or too few stayed on the
    table. The looks are drawn from a stream of their own: a ``flat`` scene is the same whatever families exist."""
    client.setGravity(0, 0, -9.81)
    items = _sample_items(rng, int(rng.integers(n_objects[0], n_objects[1] + 1)), allowed, look)
    if not _place(rng, items, camera, region, look.touching, look.cut_by_frame, look.stacked):
        return None
    looks = np.random.default_rng([seed, 3])
    _dress(items, look, looks)
    _setup_room(client, rng, table_texture(look.tables[looks.integers(len(look.tables))], looks))
    for item in sorted(items, key=lambda it: it.on is not None):  # a support before what stands on it
        _spawn_on_table(client, item)
    _close_in(client, items)
    _settle(client, [item.body for item in items])
    items = _drop_strays(client, items)
    if sum(item.color is not None for item in items) < n_objects[0]:
        return None
    return Tabletop(client, seed, items)


def _sample_items(rng: np.random.Generator, n: int, allowed: dict[str, list[str]], look: Family) -> list[_Item]:
    """``n`` named objects (a category/color pair repeats only once all its colors are used), then ``look``'s
    unnamed neighbours."""
    cats = list(allowed)
    items: list[_Item] = []
    for _ in range(n):
        cat = cats[rng.integers(len(cats))]
        used = {item.color for item in items if item.category == cat}
        options = [c for c in allowed[cat] if c not in used] or allowed[cat]
        items.append(_item(rng, cat, options[rng.integers(len(options))], ASSETS[cat]))
    for _ in range(rng.integers(look.neighbours[0], look.neighbours[1] + 1)):
        if look.neighbour_shapes == SEEN_NEIGHBOURS:
            name = SEEN_SHAPES[rng.integers(len(SEEN_SHAPES))]
            asset = Asset(f"random_urdfs/{name}/{name}.urdf", DISTRACTOR_SIZE_M)
        else:
            asset = UNSEEN_SHAPES[rng.integers(len(UNSEEN_SHAPES))]
        items.append(_item(rng, DISTRACTOR, None, asset))
    return items


def _dress(items: list[_Item], look: Family, looks: np.random.Generator) -> None:
    """Each named object's colour varied within its name and a surface pattern over it, as ``look`` draws them."""
    for item in items:
        if item.color is None:
            continue
        if look.jitter:
            item.rgb = jittered(item.rgb, looks)
        pattern = look.patterns[looks.integers(len(look.patterns))]
        if pattern != "flat":
            item.texture = object_texture(pattern, item.rgb, looks)


def _item(rng: np.random.Generator, category: str, color: str | None, asset: Asset) -> _Item:
    """An object of random size and yaw; distractors get a random greyish color."""
    nominal = extents(asset)
    if not np.all(np.isfinite(nominal)) or nominal.max() < 1e-3:  # a few random_urdfs shapes are degenerate
        raise SceneError(f"asset {asset.path} has no usable extent")
    scale = rng.uniform(*asset.size_m) / nominal.max()
    yaw = rng.uniform(-np.pi, np.pi)
    rgb = PALETTE[color] if color else tuple(rng.uniform(0.35, 0.65) + rng.uniform(-0.04, 0.04, 3))
    return _Item(category, color, asset, scale, nominal * scale, yaw, rgb)


def _place(rng: np.random.Generator, items: list[_Item], camera: Camera,
           region: tuple[np.ndarray, np.ndarray] | None = None, touching: float = 0.0,
           cut_by_frame: float = 0.0, stacked: float = 0.0) -> bool:
    """Non-overlapping footprints on the table, fully in view, centres inside ``region`` when given; biggest
    first. With probability ``touching`` a named object is set against one already placed (footprints
    TOUCH_GAP_M apart), with probability ``cut_by_frame`` it straddles the image border (its centre in view), and
    with probability ``stacked`` it stands on a flat-topped one already placed (``_supports``), where it fits.
    False if one does not fit."""
    camera_from_world = np.linalg.inv(camera.world_from_camera)
    size = np.array([camera.width, camera.height])
    lo, hi = IMAGE_MARGIN * size, (1 - IMAGE_MARGIN) * size - 1
    placed: list[_Item] = []

    def fits(item: _Item, xy: np.ndarray, lo_xy: np.ndarray, hi_xy: np.ndarray, gap: float,
             cut: bool = False, on: _Item | None = None) -> np.ndarray:
        """Which candidate centres ``xy`` fit: on the table (or on ``on``'s top), clear of the other placed
        objects, in front of the camera, and wholly in view (``cut``: the centre in view, some of the rim
        outside the image)."""
        r, h = item.radius, item.extents[2]
        base = 0.0 if on is None else on.extents[2]
        ok = np.all((xy >= lo_xy) & (xy <= hi_xy), axis=1)
        for other in placed:
            if other is not on:
                ok &= np.linalg.norm(xy - other.xy, axis=1) > r + other.radius + gap
        rim = np.array([[dx * r, dy * r, base + z] for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1), (0, 0))
                        for z in (0, h)])
        pts = np.concatenate([xy[:, None, :], np.full((len(xy), 1, 1), TABLE_TOP_Z)], axis=2) + rim
        cam = pts.reshape(-1, 3) @ camera_from_world[:3, :3].T + camera_from_world[:3, 3]
        uv = project(cam, camera.K).reshape(len(xy), -1, 2)
        inside = ((uv >= lo) & (uv <= hi)).all(axis=2)  # (candidates, rim points); the centre's last
        ok &= (cam[:, 2] > NEAR).reshape(len(xy), -1).all(1)
        return ok & (inside[:, -2:].all(1) & ~inside[:, :-2].all(1) if cut else inside.all(1))

    for item in sorted(items, key=lambda it: -it.radius):
        half = TABLE_HALF_XY - item.radius - EDGE_M
        lo_xy, hi_xy = (-half, half) if region is None else (np.maximum(-half, region[0]), np.minimum(half, region[1]))
        if np.any(lo_xy >= hi_xy):
            return False
        xy = rng.uniform(lo_xy, hi_xy, size=(PLACE_TRIES, 2))
        ok = fits(item, xy, lo_xy, hi_xy, GAP_M)
        supports = _supports(item, placed) if stacked and item.color is not None else []
        if supports and rng.random() < stacked:
            support = supports[rng.integers(len(supports))]
            on_top = support.xy + rng.uniform(-0.004, 0.004, size=(PLACE_TRIES, 2))
            top_ok = fits(item, on_top, lo_xy, hi_xy, GAP_M, on=support)
            if top_ok.any():
                xy, ok, item.on = on_top, top_ok, support
        elif touching and placed and item.color is not None and rng.random() < touching:
            other = placed[rng.integers(len(placed))]
            angle = rng.uniform(-np.pi, np.pi, PLACE_TRIES)
            against = other.xy + (item.radius + other.radius + TOUCH_GAP_M) * np.stack([np.cos(angle), np.sin(angle)], 1)
            touch_ok = fits(item, against, lo_xy, hi_xy, TOUCH_GAP_M / 2)
            if touch_ok.any():  # otherwise anywhere it fits
                xy, ok, item.against = against, touch_ok, other
        elif cut_by_frame and item.color is not None and rng.random() < cut_by_frame:
            cut_ok = fits(item, xy, lo_xy, hi_xy, GAP_M, cut=True)
            if cut_ok.any():
                ok = cut_ok
        if not ok.any():
            return False
        item.xy = xy[np.argmax(ok)]
        placed.append(item)
    return True


FLAT_TOPS = ("block", "lego", "jenga", "tray")  # categories with a top another object can stand on


def _supports(item: _Item, placed: list[_Item]) -> list[_Item]:
    """Placed named objects ``item`` can stand on: a flat top at least about as wide as ``item``, nothing on it
    yet, and standing on the table itself."""
    return [o for o in placed if o.category in FLAT_TOPS and o.on is None and not any(p.on is o for p in placed)
            and item.extents[:2].max() <= 1.3 * o.extents[:2].min()]


def _setup_room(client: PybulletClient, rng: np.random.Generator, table: np.ndarray | None = None) -> None:
    """Floor, walls behind and beside the table, each in a random muted tint, and the table: tinted, or covered
    with the ``table`` texture."""
    floor = client.loadURDF(str(DATA / "plane.urdf"))
    client.changeVisualShape(floor, -1, rgbaColor=[*rng.uniform(0.25, 0.6, 3), 1.0], textureUniqueId=-1)
    back, side = rng.uniform(1.0, 2.0), rng.uniform(1.2, 2.0)
    walls = client.createVisualShapeArray(
        [pb.GEOM_BOX] * 3, halfExtents=[[side, 0.05, 1.5], [0.05, 3.0, 1.5], [0.05, 3.0, 1.5]],
        visualFramePositions=[[0.0, back, 1.5], [-side, 0.0, 1.5], [side, 0.0, 1.5]])
    wall_rgb = rng.uniform(0.55, 0.9) * (1 - rng.uniform(0.0, 0.15, 3))
    client.changeVisualShape(client.createMultiBody(0, -1, walls), -1, rgbaColor=[*wall_rgb, 1.0])
    table_body = client.loadURDF(str(DATA / "table/table.urdf"))
    tint = rng.uniform(0.75, 1.0) * np.array([1.0, *rng.uniform(0.8, 1.0, 2)])
    if table is None:
        client.changeVisualShape(table_body, -1, rgbaColor=[*tint, 1.0])
    else:
        texture = load_texture(client, table)
        client.changeVisualShape(table_body, -1, rgbaColor=[1.0, 1.0, 1.0, 1.0], textureUniqueId=texture)


def _spawn_on_table(client: PybulletClient, item: _Item) -> None:
    """Load the item with its AABB center over ``item.xy``, just above the table, and color it."""
    body = spawn(client, item.asset, item.scale, (*item.xy, TABLE_TOP_Z + 1.0), item.yaw)
    lo, hi = np.array(client.getAABB(body))
    drop = DROP_M if client.getDynamicsInfo(body, -1)[0] > 0 else 0.0
    floor = TABLE_TOP_Z if item.on is None else client.getAABB(item.on.body)[1][2]  # the table, or its support's top
    pos, orn = client.getBasePositionAndOrientation(body)
    pos = np.array(pos) + [*(item.xy - (lo[:2] + hi[:2]) / 2), floor + drop - lo[2]]
    client.resetBasePositionAndOrientation(body, pos, orn)
    texture = -1 if item.texture is None else load_texture(client, item.texture)
    rgba = [*item.rgb, 1.0] if item.texture is None else [1.0, 1.0, 1.0, 1.0]  # a texture carries its colour
    for link in range(-1, client.getNumJoints(body)):
        client.changeVisualShape(body, link, rgbaColor=rgba, textureUniqueId=texture)
    item.body = body


def _close_in(client: PybulletClient, items: list[_Item]) -> None:
    """Slide each object placed ``against`` another towards it, until TOUCH_GAP_M separates their shapes (not just
    their footprint circles); never farther than the nearest other object allows, so nothing interpenetrates."""
    for item in (i for i in items if i.against is not None):
        for _ in range(4):
            gaps = {other.body: min((p[8] for p in client.getClosestPoints(item.body, other.body, 1.0)), default=1.0)
                    for other in items if other is not item}
            step = min(gaps[item.against.body], min(gaps.values()) + TOUCH_GAP_M) - TOUCH_GAP_M
            if step <= 1e-4:
                break
            pos, orn = client.getBasePositionAndOrientation(item.body)
            direction = np.append(item.against.xy - item.xy, 0.0)
            pos = np.array(pos) + step * direction / np.linalg.norm(direction)
            client.resetBasePositionAndOrientation(item.body, pos, orn)
            item.xy = item.xy + step * direction[:2] / np.linalg.norm(direction)


def _settle(client: PybulletClient, bodies: list[int]) -> None:
    """Step at 240 Hz until every body is nearly still, at most SETTLE_STEPS."""
    for step in range(1, SETTLE_STEPS + 1):
        client.stepSimulation()
        if step % 12 == 0 and step >= 24 and all(
                np.linalg.norm(lin) < 0.005 and np.linalg.norm(ang) < 0.05
                for lin, ang in map(client.getBaseVelocity, bodies)):
            return


def _drop_strays(client: PybulletClient, items: list[_Item]) -> list[_Item]:
    """Remove objects that fell off the table or moved far from where they were placed."""
    kept = []
    for item in items:
        center = np.mean(client.getAABB(item.body), axis=0)
        if center[2] > TABLE_TOP_Z and np.linalg.norm(center[:2] - item.xy) < MOVED_M:
            kept.append(item)
        else:
            client.removeBody(item.body)
    return kept
