"""The interface every inference backend implements: numpy in, numpy out."""
from __future__ import annotations

from typing import Protocol

import numpy as np

from lts_ros.model.outputs import SegmentOutputs

TextArrays = dict[str, np.ndarray]  # "words" (1, L, C), "mask" (1, L), "sentence" (1, C), float32


class Backend(Protocol):
    name: str

    def encode_text(self, token_ids: np.ndarray, attention_mask: np.ndarray) -> TextArrays:
        """int64 (1, L) token ids and attention mask -> the encoded expression."""

    def segment(self, image: np.ndarray, text: TextArrays) -> SegmentOutputs:
        """(1, 3, S, S) float32 RGB in [0, 1] -> the segment graph's outputs (``model.outputs``), batch 1."""
