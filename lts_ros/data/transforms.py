"""Letterboxing: fit an image into the model's square input keeping its aspect ratio, and back."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lts_ros.errors import LtsError


@dataclass(frozen=True)
class Letterbox:
    """Where a (src_h, src_w) image sits inside the square model input: scaled, then padded."""

    src_h: int
    src_w: int
    size: int
    scale: float
    pad_x: int  # left padding, pixels of the model input
    pad_y: int  # top padding

    @classmethod
    def fit(cls, src_h: int, src_w: int, size: int) -> "Letterbox":
        """The letterbox of a (src_h, src_w) image, or LtsError where its short side would round to 0 px."""
        scale = size / max(src_h, src_w)
        new_w, new_h = round(src_w * scale), round(src_h * scale)
        if min(new_w, new_h) < 1:  # cv2.resize would fail deep inside OpenCV
            raise LtsError(f"image {src_w}x{src_h} is too thin for the {size} px model input: its short side "
                           f"would be {min(new_w, new_h)} px")
        return cls(src_h, src_w, size, scale, (size - new_w) // 2, (size - new_h) // 2)

    @property
    def inner(self) -> tuple[int, int]:
        """(height, width) of the image inside the model input."""
        return round(self.src_h * self.scale), round(self.src_w * self.scale)

    def apply(self, array: np.ndarray, nearest: bool = False, fill: int | float = 0) -> np.ndarray:
        """Image (H, W[, C]) -> (size, size[, C]); ``nearest`` for masks and ids."""
        h, w = self.inner
        interp = cv2.INTER_NEAREST if nearest else (cv2.INTER_AREA if self.scale < 1 else cv2.INTER_LINEAR)
        resized = cv2.resize(array, (w, h), interpolation=interp)
        out = np.full((self.size, self.size) + array.shape[2:], fill, dtype=array.dtype)
        out[self.pad_y: self.pad_y + h, self.pad_x: self.pad_x + w] = resized
        return out

    def invert(self, array: np.ndarray) -> np.ndarray:
        """Model-input map (size, size) float -> (src_h, src_w): crop the padding, resize bilinearly."""
        h, w = self.inner
        crop = np.ascontiguousarray(array[self.pad_y: self.pad_y + h, self.pad_x: self.pad_x + w])
        return cv2.resize(crop, (self.src_w, self.src_h), interpolation=cv2.INTER_LINEAR)
