"""A rendered tabletop split as a sample source: one sample per expression."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lts_ros.geometry import depth_in_metres, visible_surface_centroid
from lts_ros.data.tabletop.scene import target_set_name
from lts_ros.data.tabletop.store import HELD_OUT_COMBOS, SPLITS
from lts_ros.errors import LtsError


@dataclass
class TabletopSample:
    image: np.ndarray  # (H, W, 3) uint8 RGB
    mask: np.ndarray  # (H, W) bool, the target's visible pixels
    text: str
    kind: str  # attribute | size | position | relation | ordinal | command
    K: np.ndarray  # (3, 3)
    scene_id: str
    held_out: bool  # a target's (color, category) never appears in train/val
    target_set: str = "one"  # none | one | several (scene.TARGET_SETS); the mask is their union
    depth_m: np.ndarray | None = None  # (H, W) float32 metres, 0 = invalid (None: not loaded)
    centroid_3d: np.ndarray | None = None  # GT visible-surface centroid, optical frame, metres
    family: str = "generator"  # the expression's phrasing family (data/tabletop/phrasings.py)
    appearance: str = "flat"  # the scene's appearance family (data/tabletop/appearance.py)


def read_image(path: Path, flags: int) -> np.ndarray:
    image = cv2.imread(str(path), flags)
    if image is None:
        raise LtsError(f"cannot read {path}")
    return image


class TabletopDataset:
    """``<root>/<split>`` as written by ``lts sim render``; ``load_depth=False`` skips depth and the 3D
    ground truth (training needs neither); ``appearance``: only the scenes of that appearance family."""

    def __init__(self, root: str | Path, split: str = "train", load_depth: bool = True,
                 appearance: str | None = None):
        self.load_depth = load_depth
        if split not in SPLITS:
            raise LtsError(f"unknown tabletop split '{split}' (choose from {', '.join(SPLITS)})")
        self.dir = Path(root) / split
        index = self.dir / "scenes.jsonl"
        if not index.is_file():
            raise LtsError(f"tabletop split not found: {index} (render it with 'lts sim render --split {split}')")
        self.scenes = [json.loads(line) for line in index.read_text().splitlines() if line.strip()]
        if appearance is not None:
            present = sorted({s.get("appearance", "flat") for s in self.scenes})
            self.scenes = [s for s in self.scenes if s.get("appearance", "flat") == appearance]
            if not self.scenes:
                raise LtsError(f"{index} has no scene of appearance family '{appearance}' (it has: "
                               f"{', '.join(present)})")
        self.items = [(s, e) for s in self.scenes for e in s["expressions"]]
        if not self.items:
            raise LtsError(f"{index} holds no expressions")

    def __len__(self) -> int:
        return len(self.items)

    def texts(self) -> list[str]:
        return [e["text"] for _, e in self.items]

    def image_keys(self) -> list[str]:
        """The scene each expression is about (one image per scene)."""
        return [scene["id"] for scene, _ in self.items]

    def kinds(self) -> list[str]:
        return [e["kind"] for _, e in self.items]

    def target_sets(self) -> list[str]:
        return [target_set_name(len(expression_targets(e))) for _, e in self.items]

    def __getitem__(self, index: int) -> TabletopSample:
        scene, expression = self.items[index]
        sid = scene["id"]
        rgb = cv2.cvtColor(read_image(self.dir / "rgb" / f"{sid}.jpg", cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        instances = read_image(self.dir / "instances" / f"{sid}.png", cv2.IMREAD_UNCHANGED).astype(np.int32) - 1
        targets = expression_targets(expression)
        mask = np.isin(instances, targets)
        K = np.asarray(scene["camera"]["K"], np.float64)
        combos = {(o["color"], o["category"]) for o in scene["objects"] if o["instance_id"] in targets}
        sample = TabletopSample(rgb, mask, expression["text"], expression["kind"], K, sid,
                                bool(combos & HELD_OUT_COMBOS), target_set_name(len(targets)),
                                family=expression.get("family", "generator"),
                                appearance=scene.get("appearance", "flat"))
        if self.load_depth:
            sample.depth_m = depth_in_metres(read_image(self.dir / "depth" / f"{sid}.png", cv2.IMREAD_UNCHANGED))
            if len(targets) == 1:
                sample.centroid_3d = visible_surface_centroid(sample.depth_m, K, mask)
        return sample


def expression_targets(expression: dict) -> list[int]:
    """The instance ids an expression record refers to (format 1 records name one "target")."""
    return list(expression["targets"]) if "targets" in expression else [expression["target"]]
