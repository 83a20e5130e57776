"""A tiny synthetic RefCOCO-style dataset in the exact "refer" layout, for tests and demos.

Each image is a noisy grey background with 2–3 non-overlapping filled shapes (circle,
square, triangle) of distinct colours. Colour and shape are each unique within an
image, so expressions like "the red circle" or "red one" are unambiguous. Masks come
from the same integer polygons that were drawn with ``cv2.fillPoly``.

All datasets written under one root share ``images/train2014``, as in the real data;
use the same ``n_images``, ``image_size`` and ``seed`` for every dataset in one root.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from lts_ros.data.refer import DEFAULT_IMAGE_DIR, VALID_SPLITS
from lts_ros.errors import LtsError

COLORS: dict[str, tuple[int, int, int]] = {  # RGB
    "red": (220, 30, 30),
    "green": (30, 170, 40),
    "blue": (30, 60, 220),
    "yellow": (235, 215, 30),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
_FIRST_IMAGE_ID = 1000


def _polygon(shape: str, cx: float, cy: float, r: float) -> np.ndarray:
    """Integer (N, 2) x/y vertices of a shape whose extent fits in [c - r, c + r]."""
    if shape == "circle":
        angles = np.linspace(0.0, 2.0 * np.pi, 24, endpoint=False)
        offsets = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    elif shape == "square":
        offsets = 0.85 * np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    else:  # upright isosceles triangle filling the bounding box
        offsets = np.array([[0.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    return np.rint(np.array([cx, cy]) + r * offsets).astype(np.int32)


def _sentences(
    color: str, shape: str, slot: int, n_shapes: int, rng: np.random.Generator
) -> list[str]:
    """One or two expressions that single out the shape within its image."""
    first = f"the {color} {shape}"
    extra = [f"{color} one", f"the {shape}"]
    if slot == 0:
        extra.append(f"the {shape} on the left")
    elif slot == n_shapes - 1:
        extra.append(f"the {shape} on the right")
    else:
        extra.append(f"the {color} {shape} in the middle")
    if rng.random() < 0.5:
        return [first]
    return [first, extra[rng.integers(len(extra))]]


def _image_splits(dataset: str, n_images: int) -> dict[str, list[str]]:
    """Split of each image per splitBy: the last images are held out, about a tenth of the
    images (at least one) per eval split."""
    out = {}
    per_split = max(1, n_images // 10)
    for split_by, splits in VALID_SPLITS[dataset].items():
        held_out = [split for split in splits[1:] for _ in range(per_split)]
        if n_images < len(held_out) + 1:
            raise LtsError(
                f"{dataset} fixture needs at least {len(splits)} images, got {n_images}"
            )
        out[split_by] = ["train"] * (n_images - len(held_out)) + held_out
    return out


def write_refer_fixture(
    root: Path,
    dataset: str = "refcoco",
    n_images: int = 6,
    image_size: tuple[int, int] = (96, 128),
    seed: int = 0,
) -> Path:
    """Write a deterministic refer-format fixture for ``dataset`` under ``root``; returns root."""
    if dataset not in VALID_SPLITS:
        raise LtsError(f"unknown dataset {dataset!r}; valid: {', '.join(VALID_SPLITS)}")
    root = Path(root)
    height, width = image_size
    splits = _image_splits(dataset, n_images)
    rng = np.random.default_rng(seed)
    image_dir = root / DEFAULT_IMAGE_DIR
    image_dir.mkdir(parents=True, exist_ok=True)
    (root / dataset).mkdir(parents=True, exist_ok=True)

    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    refs: list[dict[str, Any]] = []  # split filled in per splitBy below
    ref_image_index: list[int] = []
    sent_id = 0
    for i in range(n_images):
        image_id = _FIRST_IMAGE_ID + i
        file_name = f"COCO_train2014_{image_id:012d}.jpg"
        base = rng.integers(90, 160)
        rgb = np.clip(base + rng.normal(0.0, 6.0, (height, width, 3)), 0, 255).astype(np.uint8)
        n_shapes = int(rng.integers(2, 4))
        shapes = rng.choice(len(SHAPES), n_shapes, replace=False)
        colors = rng.choice(len(COLORS), n_shapes, replace=False)
        referred = rng.permutation(n_shapes)[: 2 if n_shapes == 3 else n_shapes]
        slot_w = width / n_shapes
        r_max = min(slot_w, height) / 2.0 - 2.0
        for slot, (si, ci) in enumerate(zip(shapes, colors)):
            shape, color = SHAPES[si], list(COLORS)[ci]
            r = rng.uniform(0.75, 1.0) * r_max
            margin = np.array([slot_w / 2.0, height / 2.0]) - r - 1.0
            cx, cy = np.array([(slot + 0.5) * slot_w, height / 2.0]) + rng.uniform(-margin, margin)
            pts = _polygon(shape, cx, cy, r)
            cv2.fillPoly(rgb, [pts], COLORS[color])
            polygon = pts.astype(float).ravel().tolist()
            rle = mask_utils.merge(mask_utils.frPyObjects([polygon], height, width))
            x0, y0 = pts.min(axis=0)
            x1, y1 = pts.max(axis=0)
            ann_id = len(annotations) + 1
            annotations.append({
                "id": ann_id, "image_id": image_id, "category_id": int(si) + 1,
                "segmentation": [polygon],
                "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
                "area": float(mask_utils.area(rle)), "iscrowd": 0,
            })
            if slot not in referred:
                continue
            sents = _sentences(color, shape, slot, n_shapes, rng)
            sentences = [
                {"sent": s, "raw": s, "tokens": s.split(), "sent_id": sent_id + k}
                for k, s in enumerate(sents)
            ]
            refs.append({
                "ref_id": len(refs), "ann_id": ann_id, "image_id": image_id,
                "category_id": int(si) + 1, "split": None, "sentences": sentences,
                "sent_ids": [s["sent_id"] for s in sentences],
                "file_name": f"COCO_train2014_{image_id:012d}_{ann_id}.jpg",
            })
            ref_image_index.append(i)
            sent_id += len(sents)
        path = image_dir / file_name
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        if not cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, 95]):
            raise LtsError(f"cannot write image: {path}")
        images.append({"id": image_id, "file_name": file_name, "height": height, "width": width})

    categories = [{"id": k + 1, "name": s, "supercategory": "shape"} for k, s in enumerate(SHAPES)]
    with (root / dataset / "instances.json").open("w", encoding="utf-8") as f:
        json.dump({"images": images, "annotations": annotations, "categories": categories}, f)
    for split_by, image_split in splits.items():
        split_refs = [dict(ref, split=image_split[i]) for ref, i in zip(refs, ref_image_index)]
        with (root / dataset / f"refs({split_by}).p").open("wb") as f:
            pickle.dump(split_refs, f, protocol=2)
    return root
