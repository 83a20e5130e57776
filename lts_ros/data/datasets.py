"""Datasets by name, and the torch view that letterboxes samples for training and evaluation."""
from __future__ import annotations

from pathlib import Path
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, Protocol, Sequence

import numpy as np
import torch

from lts_ros.data.transforms import Letterbox
from lts_ros.errors import LtsError

if TYPE_CHECKING:
    from lts_ros.data.camera_effects import CameraEffect

REFER_DATASETS = ("refcoco", "refcoco+", "refcocog")
DATASETS = REFER_DATASETS + ("tabletop",)


class Sample(Protocol):
    image: np.ndarray  # (H, W, 3) uint8 RGB
    mask: np.ndarray  # (H, W) bool
    text: str


class SampleSource(Protocol):
    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Sample: ...

    def texts(self) -> list[str]: ...

    def image_keys(self) -> list[Hashable]:
        """Which image each sample shows (equal keys: the same image), without reading any."""


def image_keys_of(source: SampleSource) -> list[Hashable]:
    """Which image each sample of ``source`` shows; each sample its own where the source cannot say."""
    return source.image_keys() if hasattr(source, "image_keys") else list(range(len(source)))


def open_dataset(name: str, root: str | Path, split: str, split_by: str | None = None,
                 training: bool = False, appearance: str | None = None) -> SampleSource:
    """Open a dataset by name: ``refcoco``, ``refcoco+``, ``refcocog`` (refer format under ``root``) or
    ``tabletop`` (rendered by ``lts sim render`` under ``root``). ``training`` skips what only
    evaluation reads (tabletop depth and 3D ground truth); ``appearance``: only that appearance family's
    tabletop scenes."""
    if name in REFER_DATASETS:
        from lts_ros.data.refer import ReferDataset

        if appearance is not None:
            raise LtsError("--appearance selects tabletop scenes; the refer datasets have none")
        return ReferDataset(root, dataset=name, split=split, split_by=split_by)
    if name == "tabletop":
        from lts_ros.data.tabletop.dataset import TabletopDataset

        return TabletopDataset(root, split, load_depth=not training, appearance=appearance)
    raise LtsError(f"unknown dataset '{name}' (known: {', '.join(DATASETS)})")


class ConcatSource(torch.utils.data.ConcatDataset):
    """Several sources read as one, in order (e.g. the train split of a dataset root and of a second root
    rendered with other settings). Expression kinds and target sets exist when every part has them."""

    def __init__(self, parts: Sequence[SampleSource]):
        super().__init__(parts)
        self.parts = self.datasets

    def texts(self) -> list[str]:
        return [text for part in self.parts for text in part.texts()]

    def _per_part(self, what: str) -> list[str]:
        if not all(hasattr(part, what) for part in self.parts):
            raise LtsError(f"--oversample needs expression kinds in every data root (tabletop); {what} missing")
        return [value for part in self.parts for value in getattr(part, what)()]

    def kinds(self) -> list[str]:
        return self._per_part("kinds")

    def image_keys(self) -> list[tuple[int, Any]]:
        """Which image each sample shows, as (part, the part's key): the parts' keys may coincide."""
        return [(number, key) for number, part in enumerate(self.parts) for key in part.image_keys()]

    def target_sets(self) -> list[str]:
        return self._per_part("target_sets")


def open_training_data(name: str, roots: Sequence[str | Path], split: str,
                       split_by: str | None = None) -> SampleSource:
    """``split`` of dataset ``name`` under each of ``roots``, read as one source (one root: that dataset)."""
    if not roots:
        raise LtsError("no data root given")
    parts = [open_dataset(name, root, split, split_by, training=True) for root in roots]
    return parts[0] if len(parts) == 1 else ConcatSource(parts)


class LetterboxedSet(torch.utils.data.Dataset):
    """Samples as model inputs: image (3, S, S) float in [0, 1], mask (1, S, S) float, several (1,) float (1 for
    an expression with more than one target), text, index;
    with ``keep_source`` also the source sample and the Letterbox (evaluation scores at source resolution);
    ``augment`` changes the RGB first (training's camera effects)."""

    def __init__(self, source: SampleSource, size: int, indices: Sequence[int] | None = None,
                 keep_source: bool = False,
                 augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None):
        self.source, self.size, self.keep_source, self.augment = source, size, keep_source, augment
        self.indices = list(range(len(source))) if indices is None else list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict[str, Any]:
        sample = self.source[self.indices[i]]
        box = Letterbox.fit(*sample.image.shape[:2], self.size)
        item = {"image": self._image(sample.image, box), **self._target(sample, box), "text": sample.text,
                "index": self.indices[i]}
        if self.keep_source:
            item.update(source=sample, box=box)
        return item

    def _image(self, rgb: np.ndarray, box: Letterbox) -> torch.Tensor:
        if self.augment is not None:  # torch's generator: seeded per DataLoader worker, so runs repeat
            rgb = self.augment(rgb, np.random.default_rng(int(torch.randint(2**62, ()))))
        return torch.from_numpy(box.apply(rgb)).permute(2, 0, 1).float() / 255.0

    @staticmethod
    def _target(sample: Sample, box: Letterbox) -> dict[str, torch.Tensor]:
        mask = torch.from_numpy(box.apply(sample.mask.astype(np.uint8), nearest=True)).float()[None]
        several = torch.tensor([float(getattr(sample, "target_set", "one") == "several")])
        return {"mask": mask, "several": several}


class ImageGroupSet(LetterboxedSet):
    """``LetterboxedSet`` indexed by groups of positions whose samples show one image (``ImageGroupBatches``): the
    image once (one camera effect for the group), and per sample its mask, several flag, text and index."""

    def __getitem__(self, group: tuple[int, ...]) -> dict[str, Any]:  # type: ignore[override]
        samples = [self.source[self.indices[i]] for i in group]
        box = Letterbox.fit(*samples[0].image.shape[:2], self.size)
        targets = [self._target(sample, box) for sample in samples]
        return {"image": self._image(samples[0].image, box), "mask": torch.stack([t["mask"] for t in targets]),
                "several": torch.stack([t["several"] for t in targets]), "text": [s.text for s in samples],
                "index": [self.indices[i] for i in group]}


def collate_groups(groups: list[dict[str, Any]]) -> dict[str, Any]:
    """Image groups -> one batch: ``image`` (G, 3, S, S) once per group, per sample ``mask``, ``several``,
    ``text``, ``index`` and ``image_index`` (which of the G images it shows)."""
    sizes = torch.tensor([len(g["text"]) for g in groups])
    return {"image": torch.stack([g["image"] for g in groups]),
            "image_index": torch.repeat_interleave(torch.arange(len(groups)), sizes),
            "mask": torch.cat([g["mask"] for g in groups]), "several": torch.cat([g["several"] for g in groups]),
            "text": [t for g in groups for t in g["text"]], "index": [i for g in groups for i in g["index"]]}


def collate(batch: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack tensors; keep everything else as lists."""
    return {key: torch.stack([b[key] for b in batch]) if isinstance(batch[0][key], torch.Tensor)
            else [b[key] for b in batch] for key in batch[0]}


class CorruptedSource:
    """``source`` with one camera effect applied to every sample, reproducibly: seeded per image, so every
    expression of one frame sees the same corrupted frame (the one the model reads is the one edges snap to)."""

    def __init__(self, source: SampleSource, effect: CameraEffect, seed: int = 0):
        self.source, self.effect, self.seed = source, effect, seed
        keys = self.image_keys()
        first: dict = {}
        self._image_number = [first.setdefault(key, len(first)) for key in keys]

    def __len__(self) -> int:
        return len(self.source)

    def texts(self) -> list[str]:
        return self.source.texts()

    def image_keys(self) -> list:
        return image_keys_of(self.source)

    def __getitem__(self, index: int):
        sample = self.source[index]
        rng = np.random.default_rng([self.seed, self._image_number[index]])
        sample.image, depth = self.effect.apply(sample.image, getattr(sample, "depth_m", None), rng)
        if depth is not None:
            sample.depth_m = depth
        return sample
