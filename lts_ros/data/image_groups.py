"""Training batches that show each image with several of its expressions at once.

A step then runs the vision encoder once per image and the language-dependent parts once per expression: on a CPU
the encoder is about half of a step, so grouping 4 expressions per image trains about twice as many expressions per
second. It also puts expressions that tell the objects of one scene apart ("the second block from the left", "the
third ...", "the blocks") into the same step.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterator, Sequence

import numpy as np


class ImageGroupBatches:
    """A batch sampler over a (possibly oversampled) list of samples: each batch holds ``batch_size`` samples as
    groups of up to ``per_image`` samples that show the same image (``image_keys``, one per position).

    Per epoch the positions are shuffled, bucketed by image and dealt into as few groups as fit; repeats of one
    sample (from oversampling, ``sample_ids``) go to different groups where the image has enough other samples.
    The groups are shuffled and packed into batches (a group may be cut at a batch's end); the last partial batch
    is dropped.
    With ``world`` processes each takes every ``world``-th batch. ``skip``: batches of the first epoch already
    trained (a resumed run continues the interrupted epoch)."""

    def __init__(self, image_keys: Sequence[Hashable], sample_ids: Sequence[int], per_image: int, batch_size: int,
                 world: int = 1, rank: int = 0, seed: int = 0, skip: int = 0):
        if len(image_keys) != len(sample_ids):
            raise ValueError("one image key and one sample id per position")
        if per_image < 1 or batch_size < 1:
            raise ValueError("per_image and batch_size must be >= 1")
        self.image_keys, self.sample_ids = list(image_keys), list(sample_ids)
        self.per_image, self.batch_size = per_image, batch_size
        self.world, self.rank, self.seed, self.skip = world, rank, seed, skip
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def batches(self, epoch: int) -> list[list[tuple[int, ...]]]:
        """Every process's batches of ``epoch``, in order: lists of groups (tuples of positions)."""
        rng = np.random.default_rng([self.seed, epoch])
        buckets: dict[Hashable, list[int]] = defaultdict(list)
        for position in rng.permutation(len(self.image_keys)).tolist():
            buckets[self.image_keys[position]].append(position)
        groups = []
        for bucket in buckets.values():
            groups += self._deal(bucket)
        batches, batch, filled = [], [], 0
        for index in rng.permutation(len(groups)).tolist():
            group = groups[index]
            while group:
                part, group = group[:self.batch_size - filled], group[self.batch_size - filled:]
                batch.append(part)
                filled += len(part)
                if filled == self.batch_size:
                    batches.append(batch)
                    batch, filled = [], 0
        return batches[:len(batches) // self.world * self.world]

    def _deal(self, bucket: list[int]) -> list[tuple[int, ...]]:
        """One image's positions dealt into as few groups as fit, of even sizes, each position to the least filled
        group that does not hold its sample yet (copies of an oversampled sample apart where possible)."""
        count = -(-len(bucket) // self.per_image)
        capacity = -(-len(bucket) // count)
        groups: list[list[int]] = [[] for _ in range(count)]
        for position in bucket:
            sample = self.sample_ids[position]
            open_groups = [g for g in groups if len(g) < capacity]
            fresh = [g for g in open_groups if all(self.sample_ids[p] != sample for p in g)]
            min(fresh or open_groups, key=len).append(position)
        return [tuple(g) for g in groups]

    def __iter__(self) -> Iterator[list[tuple[int, ...]]]:
        mine = self.batches(self.epoch)[self.rank::self.world][self.skip:]
        self.skip = 0
        return iter(mine)

    def __len__(self) -> int:
        return self.per_epoch() - self.skip

    def per_epoch(self) -> int:
        """Batches per epoch and process: every position is packed, so all but the last partial batch are full."""
        return len(self.image_keys) // self.batch_size // self.world
