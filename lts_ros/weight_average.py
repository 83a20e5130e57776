"""Weight-space averaging of checkpoints of one model (WiSE-FT style): a fine-tune mixed back with the
model it started from keeps more of what the start knew, at no cost per frame."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from lts_ros.checkpoint import load_checkpoint
from lts_ros.errors import LtsError
from lts_ros.model.lts import LTS


def average_checkpoints(paths: list[Path], weights: list[float]) -> LTS:
    """The model whose every floating-point weight is ``sum(w_i * weight_i)`` over ``paths``, with the
    first checkpoint's config, vocabulary and batch-norm step counters; the weights are normalized to sum
    to 1. Every checkpoint must have the same architecture and vocabulary, and equal other integer buffers."""
    if len(paths) < 2 or len(paths) != len(weights):
        raise LtsError("give two or more checkpoints and one weight per checkpoint")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise LtsError(f"weights must be >= 0 and not all 0 (got {weights})")
    models = [load_checkpoint(path) for path in paths]
    for path, model in zip(paths[1:], models[1:]):  # runs of one architecture may be named differently
        if dataclasses.replace(model.cfg, name=models[0].cfg.name) != models[0].cfg or model.vocab != models[0].vocab:
            raise LtsError(f"{path} and {paths[0]} are not the same model (config or vocabulary differ): only "
                           "fine-tunes of one model can be averaged")
    states = [model.state_dict() for model in models]
    total = sum(weights)
    mixed = {}
    for key, first in states[0].items():
        if first.is_floating_point():
            mixed[key] = sum(state[key].double() * (w / total) for state, w in zip(states, weights)).to(first.dtype)
        elif key.endswith("num_batches_tracked") or all(torch.equal(first, state[key]) for state in states[1:]):
            mixed[key] = first  # batch-norm's step counter is bookkeeping: the first checkpoint's
        else:
            raise LtsError(f"{paths[0]} and the others differ in {key}, which cannot be averaged")
    models[0].load_state_dict(mixed)
    return models[0]

