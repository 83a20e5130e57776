"""The tabletop scene record shared by the renderer, the expression generator and the dataset.

Frames: ``world`` is pybullet's (z up, table top at z ~ 0.625 m); ``camera`` is the REP-103 optical
frame (x right, y down, z forward), meters. ``K`` maps camera-frame points to pixels.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TABLE_TOP_Z = 0.625  # world z of the table top (table.urdf at the origin)

# Named categories and the words used for them (first = canonical). Distractors have no name.
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "block": ("block", "cube", "box"),
    "ball": ("ball", "sphere"),
    "mug": ("mug", "cup"),
    "duck": ("duck", "rubber duck"),
    "teddy": ("teddy bear", "teddy", "bear"),
    "ring": ("ring", "torus", "donut"),
    "lego": ("lego brick", "lego", "brick"),
    "tray": ("tray",),
    "jenga": ("jenga block", "wooden block", "plank"),
}
CATEGORIES = tuple(CATEGORY_WORDS)
DISTRACTOR = "distractor"

# Named colors, RGB in [0, 1] (applied with changeVisualShape).
PALETTE: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.10, 0.10),
    "green": (0.10, 0.65, 0.15),
    "blue": (0.10, 0.25, 0.85),
    "yellow": (0.95, 0.85, 0.10),
    "orange": (0.95, 0.50, 0.05),
    "purple": (0.55, 0.15, 0.70),
    "white": (0.92, 0.92, 0.92),
    "black": (0.08, 0.08, 0.08),
}
COLORS = tuple(PALETTE)


@dataclass
class Camera:
    width: int
    height: int
    K: np.ndarray  # (3, 3) float64 intrinsics: fx, fy, cx, cy
    world_from_camera: np.ndarray  # (4, 4) float64: optical-frame points -> world points

    def to_dict(self) -> dict:
        return {"width": self.width, "height": self.height, "K": self.K.tolist(),
                "world_from_camera": self.world_from_camera.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Camera":
        return cls(d["width"], d["height"], np.asarray(d["K"], np.float64),
                   np.asarray(d["world_from_camera"], np.float64))


@dataclass
class SceneObject:
    instance_id: int  # its value in Scene.instances
    category: str  # a key of CATEGORY_WORDS, or DISTRACTOR
    color: str | None  # a key of PALETTE; None for distractors
    size_m: float  # largest extent of its axis-aligned bounding box, meters
    center_world: tuple[float, float, float]  # AABB center, world frame, meters
    orientation_world: tuple[float, float, float, float]  # quaternion x, y, z, w
    center_camera: tuple[float, float, float]  # AABB center in the optical frame, meters
    visible_px: int  # pixels of this object in the rendered image
    centroid_px: tuple[float, float] | None  # mean (u, v) of its visible pixels; None if not visible

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict) -> "SceneObject":
        d = dict(d)
        for key in ("center_world", "orientation_world", "center_camera"):
            d[key] = tuple(d[key])
        d["centroid_px"] = tuple(d["centroid_px"]) if d["centroid_px"] is not None else None
        return cls(**d)


@dataclass
class Expression:
    text: str
    targets: tuple[int, ...]  # instance_ids of the referred objects: none, one, or several
    kind: str  # attribute | size | position | relation | ordinal | command | exclusion
    family: str = "generator"  # the phrasing family (data/tabletop/phrasings.py); "generator": its own templates

    @property
    def target(self) -> int:
        """The one referred object (only for an expression with exactly one target)."""
        if len(self.targets) != 1:
            raise ValueError(f"{self.text!r} refers to {len(self.targets)} objects, not one")
        return self.targets[0]

    @property
    def target_set(self) -> str:
        return target_set_name(len(self.targets))

    def to_dict(self) -> dict:
        record = {"text": self.text, "targets": list(self.targets), "kind": self.kind}
        return record if self.family == "generator" else {**record, "family": self.family}


TARGET_SETS = ("none", "one", "several")
# Tracking episodes (tracking_episodes.py): what happens after a command names its object in the first frame.
TRACKING_KINDS = ("orbit", "approach", "occluder", "lookalike", "push")


def target_set_name(count: int) -> str:
    """How many objects an expression refers to, as a name: none, one or several."""
    return TARGET_SETS[min(count, 2)]


@dataclass
class Scene:
    seed: int
    rgb: np.ndarray  # (H, W, 3) uint8
    depth_m: np.ndarray  # (H, W) float32, meters along the optical axis (z), 0 where nothing was hit
    instances: np.ndarray  # (H, W) int32: SceneObject.instance_id, -1 for table/background
    camera: Camera
    objects: list[SceneObject]
    expressions: list[Expression] = field(default_factory=list)
