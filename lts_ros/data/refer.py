"""RefCOCO / RefCOCO+ / RefCOCOg loader for the original "refer" layout (Licheng Yu).

Layout::

    <root>/<dataset>/refs(<splitBy>).p   pickled list of ref dicts
    <root>/<dataset>/instances.json      COCO-style images/annotations/categories
    <root>/images/train2014/<file_name>  COCO train2014 images

Samples are one per sentence. This module deliberately does not import torch.
"""

from __future__ import annotations

import json
import pickle
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from lts_ros.errors import LtsError

VALID_SPLITS: dict[str, dict[str, tuple[str, ...]]] = {
    "refcoco": {"unc": ("train", "val", "testA", "testB")},
    "refcoco+": {"unc": ("train", "val", "testA", "testB")},
    "refcocog": {"umd": ("train", "val", "test"), "google": ("train", "val")},
}
DEFAULT_SPLIT_BY: dict[str, str] = {"refcoco": "unc", "refcoco+": "unc", "refcocog": "umd"}
DEFAULT_IMAGE_DIR = Path("images") / "train2014"


def resolve_split(dataset: str, split: str, split_by: str | None = None) -> str:
    """Validate a (dataset, splitBy, split) combination; returns the splitBy used."""
    if dataset not in VALID_SPLITS:
        raise LtsError(f"unknown dataset {dataset!r}; valid: {', '.join(VALID_SPLITS)}")
    split_by = split_by or DEFAULT_SPLIT_BY[dataset]
    by_splits = VALID_SPLITS[dataset]
    valid = "; ".join(f"{by}: {', '.join(splits)}" for by, splits in by_splits.items())
    if split_by not in by_splits or split not in by_splits[split_by]:
        raise LtsError(
            f"invalid split {split!r} (splitBy {split_by!r}) for {dataset}; valid splits: {valid}"
        )
    return split_by


class _RefsUnpickler(pickle.Unpickler):
    """Unpickler that refuses every global: refs are plain dicts, lists, str and numbers."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")


def load_refs(path: Path) -> list[dict[str, Any]]:
    """Load a refs pickle without executing code; py2 pickles are read as latin1."""
    if not path.is_file():
        raise LtsError(f"refs file not found: {path}")
    try:
        with path.open("rb") as f:
            refs = _RefsUnpickler(f, encoding="latin1").load()
    except Exception as err:  # pickle raises many types on corrupt or hostile input
        raise LtsError(f"cannot load refs file {path}: {err}") from err
    if not isinstance(refs, list) or not all(isinstance(r, dict) for r in refs):
        raise LtsError(f"refs file {path} is not a list of ref dicts")
    return refs


def _load_instances(path: Path) -> tuple[dict[int, dict], dict[int, dict]]:
    if not path.is_file():
        raise LtsError(f"instances file not found: {path}")
    try:
        with path.open("r", encoding="utf-8") as f:
            data = json.load(f)
        images = {img["id"]: img for img in data["images"]}
        anns = {ann["id"]: ann for ann in data["annotations"]}
    except (ValueError, KeyError, TypeError) as err:
        raise LtsError(f"cannot parse instances file {path}: {err}") from err
    return images, anns


def annotation_mask(segmentation: list | dict, height: int, width: int) -> np.ndarray:
    """Decode a COCO segmentation (polygons or RLE, any form) to an H×W bool mask."""
    if isinstance(segmentation, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation.get("counts"), list):
        rle = mask_utils.frPyObjects(segmentation, height, width)
    else:
        rle = segmentation
    with warnings.catch_warnings():  # pycocotools 2.0.x + numpy 2 copy=False deprecation noise
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        return mask_utils.decode(rle).astype(bool)


def read_rgb(path: Path) -> np.ndarray:
    """Read an image as H×W×3 uint8 RGB; LtsError if missing or undecodable."""
    if not path.is_file():
        raise LtsError(f"image not found: {path}")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise LtsError(f"cannot decode image: {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


@dataclass
class ReferSample:
    """One referring expression with its image and target mask."""

    image: np.ndarray  # H×W×3 uint8 RGB
    mask: np.ndarray  # H×W bool
    text: str
    ref_id: int
    sent_id: int
    image_id: int
    file_name: str  # COCO image file name (not the ref's suffixed file_name)


class ReferDataset(Sequence[ReferSample]):
    """One sample per sentence of the refs in ``split``; images are read lazily."""

    def __init__(
        self,
        root: str | Path,
        dataset: str = "refcoco",
        split: str = "train",
        split_by: str | None = None,
        image_dir: str | Path | None = None,
    ) -> None:
        root = Path(root)
        self.dataset = dataset
        self.split = split
        self.split_by = resolve_split(dataset, split, split_by)
        self.image_dir = Path(image_dir) if image_dir is not None else root / DEFAULT_IMAGE_DIR
        refs_path = root / dataset / f"refs({self.split_by}).p"
        instances_path = root / dataset / "instances.json"
        refs = [r for r in load_refs(refs_path) if r.get("split") == split]
        if not refs:
            raise LtsError(f"no refs for split {split!r} in {refs_path}")
        self._images, self._anns = _load_instances(instances_path)
        self._refs = refs
        self._items: list[tuple[int, int]] = []  # (ref index, sentence index)
        try:
            for ri, ref in enumerate(refs):
                if ref["ann_id"] not in self._anns or ref["image_id"] not in self._images:
                    raise LtsError(
                        f"ref {ref['ref_id']} points to an annotation/image missing from "
                        f"{instances_path}"
                    )
                self._items.extend((ri, si) for si in range(len(ref["sentences"])))
        except (KeyError, TypeError) as err:
            raise LtsError(f"malformed ref in {refs_path}: {err!r}") from err

    def __len__(self) -> int:
        return len(self._items)

    def texts(self) -> list[str]:
        """All sentences in sample order, without reading images."""
        return [self._refs[ri]["sentences"][si]["sent"] for ri, si in self._items]

    def image_keys(self) -> list[int]:
        """The COCO image id of each sample, without reading images."""
        return [self._refs[ri]["image_id"] for ri, _ in self._items]

    def __getitem__(self, index: int) -> ReferSample:  # type: ignore[override]
        if not -len(self) <= index < len(self):
            raise IndexError(f"sample index {index} out of range for {len(self)} samples")
        ri, si = self._items[index]
        ref = self._refs[ri]
        sentence = ref["sentences"][si]
        info = self._images[ref["image_id"]]
        path = self.image_dir / info["file_name"]
        image = read_rgb(path)
        height, width = int(info["height"]), int(info["width"])
        if image.shape[:2] != (height, width):
            raise LtsError(
                f"image {path} is {image.shape[1]}x{image.shape[0]} but instances.json "
                f"says {width}x{height}"
            )
        mask = annotation_mask(self._anns[ref["ann_id"]]["segmentation"], height, width)
        return ReferSample(
            image=image,
            mask=mask,
            text=sentence["sent"],
            ref_id=ref["ref_id"],
            sent_id=sentence["sent_id"],
            image_id=ref["image_id"],
            file_name=info["file_name"],
        )
