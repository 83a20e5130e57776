"""What the segment half of the model returns per frame: torch tensors in the model, numpy arrays from every
runtime backend, and the segment graph's output names (in this order). Torch-free, for the runtimes."""
from __future__ import annotations

from typing import Any, NamedTuple


class SegmentOutputs(NamedTuple):
    mask_logits: Any  # (B, 1, S, S)
    prior_logits: Any  # (B, 1, S/8, S/8)
    presence_logits: Any  # (B, 1): the referred object is in the image
    several_logits: Any  # (B, 1): the expression names more than one object (meaningful where it names any)
