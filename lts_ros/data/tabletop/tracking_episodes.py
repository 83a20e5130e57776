"""Episodes for following one object through a changing view (lock-on, ``runtime.lock_on``): a command names an
object in the first frame, and then

- ``orbit``: the camera swings round and pans over the table, so that ranks and sides change;
- ``approach``: a wrist-like camera closes in on the object and ends with it large, partly out of the frame;
- ``occluder``: a bar (an arm link, a moving block) passes between the camera and the object, hiding it fully;
- ``lookalike``: the same, and while the object is hidden a copy of it (same shape, colour and pattern) appears
  elsewhere in view and stays;
- ``push``: the object slides across the table.

Each frame has its ground truth (instance ids; the object's visible share, its visible pixels over those it would
show were nothing in front of it)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lts_ros.data.tabletop.expressions import KINDS as EXPRESSION_KINDS, Margins, generate_expressions
from lts_ros.data.tabletop.scene import PALETTE, TABLE_TOP_Z, TRACKING_KINDS, Camera, Scene
from lts_ros.data.tabletop.view import CameraPose, Light, Tabletop, camera_at, sample_light, sample_pose
from lts_ros.data.tabletop.world import SceneError, add_lookalike, add_occluder, build_tabletop
from lts_ros.errors import LtsError
from lts_ros.geometry import pose_vector, project

KINDS = TRACKING_KINDS
FRAMES = 36
STILL_FRAMES = 6  # at the start and the end of an episode nothing moves but the camera (orbit, approach)
MIN_TARGET_PX = 800  # the named object's visible pixels in the first frame
OCCLUDER_AT = 0.45  # of the way from the object to the camera
HIDDEN_BY = 0.6  # the bar's half-width, beyond the object's radius (seen at the bar), in those radii


@dataclass
class TrackingEpisode:
    kind: str
    seed: int
    command: str
    command_kind: str  # the tabletop generator's expression kind (attribute, position, ordinal, ...)
    target: int  # instance id of the object the command names in the first frame
    lookalike: int | None  # instance id of its copy (``lookalike`` episodes)
    views: list[Scene]
    unoccluded: list[np.ndarray]  # per frame (H, W) bool: the object's pixels were nothing in front of it

    def target_mask(self, frame: int) -> np.ndarray:
        return self.views[frame].instances == self.target

    def lookalike_mask(self, frame: int) -> np.ndarray | None:
        """The look-alike's pixels, once it is there (None before, and in episodes without one)."""
        view = self.views[frame]
        if self.lookalike is None or len(view.objects) <= self.lookalike:
            return None
        return view.instances == self.lookalike

    def visible_share(self, frame: int) -> float:
        """The object's visible pixels / those it would show unoccluded."""
        return float(self.target_mask(frame).sum() / max(self.unoccluded[frame].sum(), 1))


def check_kinds(kinds: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise LtsError(f"tracking episode kinds are {', '.join(KINDS)}, got {', '.join(kinds) or 'none'}")
    return kinds


def render_tracking_episode(seed: int, kind: str, frames: int = FRAMES, width: int = 640, height: int = 480,
                            appearance: str = "flat") -> TrackingEpisode:
    """The episode ``kind`` of ``seed`` (see the module docstring); SceneError where the scene leaves no room
    for it."""
    check_kinds((kind,))
    rng = np.random.default_rng([seed, 32, KINDS.index(kind)])
    pose = sample_pose(rng)
    tabletop = build_tabletop(seed, camera_at(pose, width, height), n_objects=(3, 7), appearance=appearance)
    try:
        light = sample_light(rng)
        first = tabletop.render(camera_at(pose, width, height), light)
        command, command_kind, target = _command(first, rng, kind)
        cameras, move = _plan(kind, tabletop, pose, target, first, rng, frames, width, height)
        views, unoccluded, lookalike = [], [], None
        for i, camera in enumerate(cameras):
            lookalike = move(i) if move is not None else None
            views.append(tabletop.render(camera, light))
            unoccluded.append(_unoccluded(tabletop, target, camera, light))
        return TrackingEpisode(kind, seed, command, command_kind, target, lookalike, views, unoccluded)
    finally:
        tabletop.close()


def _command(first: Scene, rng: np.random.Generator, kind: str) -> tuple[str, str, int]:
    """A command naming one well visible object in the first view; in ``orbit`` episodes ranks and sides (which
    the orbit changes) where the scene has them."""
    margins = Margins(image_width=first.camera.width)
    expressions = [e for e in generate_expressions(first.objects, rng, per_object=2, min_visible_px=MIN_TARGET_PX,
                                                   kinds=EXPRESSION_KINDS, margins=margins) if len(e.targets) == 1]
    if kind == "orbit":
        expressions = [e for e in expressions if e.kind in ("position", "ordinal")] or expressions
    if not expressions:
        raise SceneError(f"scene {first.seed}: no object to name")
    chosen = expressions[rng.integers(len(expressions))]
    return chosen.text, chosen.kind, chosen.target


def _ease(p: float) -> float:
    return 0.5 - 0.5 * np.cos(np.pi * p)


def _plan(kind: str, tabletop: Tabletop, pose: CameraPose, target: int, first: Scene, rng: np.random.Generator,
          frames: int, width: int, height: int):
    """The cameras of the episode, and what moves in the world before frame i is rendered (returns the
    look-alike's instance id once it is there)."""
    still = [camera_at(pose, width, height)] * frames
    moving = [min(1.0, max(0.0, (i - STILL_FRAMES) / max(frames - 2 * STILL_FRAMES - 1, 1))) for i in range(frames)]
    centre = np.array(first.objects[target].center_world)
    if kind == "orbit":
        swing, bob, dolly = rng.choice([-1, 1]) * rng.uniform(20, 35), rng.uniform(-8, 8), rng.uniform(-0.1, 0.1)
        pan = np.append(rng.uniform(-0.08, 0.08, 2), 0.0)
        return [camera_at(CameraPose(tuple(np.array(pose.target) + _ease(p) * pan), pose.dist + dolly * _ease(p),
                                     pose.elev + np.radians(bob * np.sin(np.pi * p)),
                                     pose.azim + np.radians(swing * _ease(p)), pose.fov), width, height)
                for p in np.linspace(0, 1, frames)], None
    if kind == "approach":
        size = first.objects[target].size_m
        aim = centre + np.append(size * rng.uniform(0.25, 0.5) * _unit(rng.uniform(-np.pi, np.pi)), 0.0)
        end = CameraPose(tuple(aim), rng.uniform(0.14, 0.2), np.radians(rng.uniform(60, 85)),
                         pose.azim + np.radians(rng.uniform(-15, 15)), pose.fov)
        return [camera_at(_between(pose, end, _ease(p)), width, height) for p in moving], None
    if kind in ("occluder", "lookalike"):
        return still, _occluder_pass(tabletop, still[0], first, target, moving, rng, kind == "lookalike")
    return still, _push(tabletop, still[0], target, moving, rng)


def _unit(angle: float) -> np.ndarray:
    return np.array([np.cos(angle), np.sin(angle)])


def _between(a: CameraPose, b: CameraPose, p: float) -> CameraPose:
    mix = lambda x, y: (1 - p) * x + p * y  # noqa: E731
    return CameraPose(tuple(mix(np.array(a.target), np.array(b.target))), mix(a.dist, b.dist), mix(a.elev, b.elev),
                      mix(a.azim, b.azim), a.fov)


def _occluder_pass(tabletop: Tabletop, camera: Camera, first: Scene, target: int, moving: list[float],
                   rng: np.random.Generator, with_lookalike: bool):
    """A bar facing the camera crosses the line of sight to the object, hiding it fully mid-way; with
    ``with_lookalike`` a copy of the object appears elsewhere once the object is hidden."""
    obj = first.objects[target]
    centre, radius = np.array(obj.center_world), obj.size_m / 2
    eye = camera.world_from_camera[:3, 3]
    x_axis = camera.world_from_camera[:3, 0]
    shrink = 1 - OCCLUDER_AT  # the object's radius as seen at the bar's distance
    half_width = (1 + HIDDEN_BY) * radius * shrink + 0.01
    reach = 1.3 * (half_width + radius * shrink) + 0.02  # out of the way at either end
    grey = rng.random() < 0.5
    colour = tuple(rng.uniform(0.8, 0.95, 3)) if grey else \
        PALETTE[rng.choice([c for c in PALETTE if c != obj.color])]
    bar = add_occluder(tabletop, (half_width, 0.12, 0.02), colour)
    orientation = pose_vector(camera.world_from_camera)[3:]
    side = rng.choice([-1.0, 1.0])
    state = {"lookalike": None}

    def move(i: int) -> int | None:
        offset = side * reach * (2 * moving[i] - 1)
        position = centre + OCCLUDER_AT * (eye - centre) + offset * x_axis
        tabletop.client.resetBasePositionAndOrientation(tabletop.items[bar].body, position.tolist(), orientation)
        if with_lookalike and state["lookalike"] is None and abs(offset) < 0.5 * (half_width - radius * shrink):
            state["lookalike"] = _place_lookalike(tabletop, camera, target, rng, bar)
        return state["lookalike"]

    return move


def _place_lookalike(tabletop: Tabletop, camera: Camera, target: int, rng: np.random.Generator, bar: int) -> int:
    """A copy of ``target`` at a free place in view (clear of every object on the table, ``bar`` is above it),
    at least three of its sizes from it."""
    client = tabletop.client
    centres = {i: np.mean(client.getAABB(item.body), axis=0)[:2] for i, item in enumerate(tabletop.items) if i != bar}
    radius = tabletop.items[target].radius
    camera_from_world = np.linalg.inv(camera.world_from_camera)
    for xy in rng.uniform([-0.6, -0.4], [0.6, 0.4], size=(512, 2)):
        if np.linalg.norm(xy - centres[target]) < max(0.12, 6 * radius):
            continue
        if any(np.linalg.norm(xy - c) < radius + tabletop.items[i].radius + 0.02 for i, c in centres.items()):
            continue
        point = camera_from_world[:3, :3] @ np.array([*xy, TABLE_TOP_Z]) + camera_from_world[:3, 3]
        if point[2] > 0.1 and _well_in_view(camera, point):
            return add_lookalike(tabletop, target, xy, rng.uniform(-np.pi, np.pi))
    raise SceneError(f"scene {tabletop.seed}: no free place in view for a look-alike")


def _push(tabletop: Tabletop, camera: Camera, target: int, moving: list[float], rng: np.random.Generator):
    """The object slides 6-12 cm over the table along a free, in-view path."""
    client, item = tabletop.client, tabletop.items[target]
    position, orientation = (np.array(v) for v in client.getBasePositionAndOrientation(item.body))
    centres = [np.mean(client.getAABB(other.body), axis=0)[:2] for other in tabletop.items]
    camera_from_world = np.linalg.inv(camera.world_from_camera)
    distance = rng.uniform(0.06, 0.12)
    for angle in rng.permutation(np.linspace(-np.pi, np.pi, 16, endpoint=False)):
        path = centres[target] + np.linspace(0, distance, 8)[:, None] * _unit(angle)
        clear = all(np.linalg.norm(path - c, axis=1).min() > item.radius + other.radius + 0.01
                    for other, c in zip(tabletop.items, centres) if other is not item)
        end = camera_from_world[:3, :3] @ np.array([*path[-1], TABLE_TOP_Z]) + camera_from_world[:3, 3]
        if clear and _well_in_view(camera, end):
            step = np.append(distance * _unit(angle), 0.0)

            def move(i: int) -> None:
                client.resetBasePositionAndOrientation(item.body, (position + moving[i] * step).tolist(),
                                                       orientation.tolist())
            return move
    raise SceneError(f"scene {tabletop.seed}: no free path to push the object along")


def _well_in_view(camera: Camera, point: np.ndarray) -> bool:
    """Whether the camera-frame ``point`` projects inside the image's central 80 %."""
    u, v = project(point[None], camera.K)[0]
    return 0.1 * camera.width < u < 0.9 * camera.width and 0.1 * camera.height < v < 0.9 * camera.height


def _unoccluded(tabletop: Tabletop, target: int, camera: Camera, light: Light) -> np.ndarray:
    """The object's pixels in view with every other object out of the way (the table cannot hide it)."""
    client = tabletop.client
    poses = [client.getBasePositionAndOrientation(item.body) for item in tabletop.items]
    for i, item in enumerate(tabletop.items):
        if i != target:
            client.resetBasePositionAndOrientation(item.body, [0.0, 0.0, -5.0 - i], poses[i][1])
    try:
        return tabletop.render(camera, light).instances == target
    finally:
        for item, (position, orientation) in zip(tabletop.items, poses):
            client.resetBasePositionAndOrientation(item.body, position, orientation)
