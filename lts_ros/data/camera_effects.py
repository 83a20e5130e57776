"""What a real RGB-D camera does to its frames, as reproducible effects with severities 1 (mild) to 5 (severe).

RGB: sensor noise, motion blur, JPEG artefacts, exposure and white-balance shifts. Depth: holes (dropouts in
blobs, as stereo and ToF sensors leave at edges and on dark or shiny surfaces) and noise growing with the
square of the distance. Training applies a random effect to some frames (`RandomCameraEffects`);
``lts eval --corrupt KIND[:SEVERITY]`` applies one to every evaluation frame, so robustness is a number.
Severity 3 is "moderate".
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from lts_ros.errors import LtsError

SEVERITIES = (1, 2, 3, 4, 5)
MODERATE = 3

# Per-effect parameters, one per severity.
NOISE_SIGMA = (3.0, 5.0, 8.0, 12.0, 18.0)  # Gaussian read noise, 8-bit levels (plus shot noise of the same order)
BLUR_PX = (3, 5, 9, 13, 19)  # motion-blur streak length at 640 px width
JPEG_QUALITY = (70, 50, 30, 18, 10)
EXPOSURE_STOPS = (0.25, 0.5, 0.75, 1.0, 1.5)  # up or down, drawn at random
WHITE_BALANCE = (0.06, 0.12, 0.18, 0.25, 0.35)  # red and blue gains 1 +- this, in opposite directions
HOLE_SHARE = (0.02, 0.05, 0.1, 0.15, 0.25)  # of depth pixels dropped
DEPTH_NOISE = (0.0015, 0.003, 0.005, 0.008, 0.012)  # sigma = this * z^2, metres


def _noise(rgb: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    sigma = NOISE_SIGMA[severity - 1]
    image = rgb.astype(np.float32)
    shot = np.sqrt(np.maximum(image, 0.0) / 255.0) * sigma  # brighter pixels get more photon noise
    return np.clip(image + rng.normal(0.0, 1.0, image.shape) * np.hypot(sigma, shot), 0, 255).astype(np.uint8)


def _motion_blur(rgb: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    length = max(3, round(BLUR_PX[severity - 1] * rgb.shape[1] / 640)) | 1
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    rotation = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), float(rng.uniform(0, 180)), 1.0)
    kernel = cv2.warpAffine(kernel, rotation, (length, length))
    return cv2.filter2D(rgb, -1, kernel / max(kernel.sum(), 1e-6), borderType=cv2.BORDER_REFLECT)


def _jpeg(rgb: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY[severity - 1]])
    return cv2.imdecode(data, cv2.IMREAD_UNCHANGED)  # channel order is kept: encode and decode both assume BGR


def _exposure(rgb: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    stops = EXPOSURE_STOPS[severity - 1] * (1 if rng.random() < 0.5 else -1)
    linear = (rgb.astype(np.float32) / 255.0) ** 2.2 * 2.0 ** stops  # exposure acts on linear light
    return (np.clip(linear, 0.0, 1.0) ** (1 / 2.2) * 255.0 + 0.5).astype(np.uint8)


def _white_balance(rgb: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    shift = WHITE_BALANCE[severity - 1] * (1 if rng.random() < 0.5 else -1)  # warm or cool
    gains = np.array([1 + shift, 1.0, 1 - shift], np.float32)
    return np.clip(rgb.astype(np.float32) * gains, 0, 255).astype(np.uint8)


def _depth_holes(depth_m: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    share = HOLE_SHARE[severity - 1]
    h, w = depth_m.shape
    seeds = (rng.random((max(1, h // 8), max(1, w // 8))) < share).astype(np.uint8)  # blobs of about 8 px
    holes = cv2.resize(seeds, (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
    out = depth_m.copy()
    out[holes] = 0
    return out


def _depth_noise(depth_m: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    z = depth_m.astype(np.float32)
    noisy = z + rng.normal(0.0, 1.0, z.shape).astype(np.float32) * DEPTH_NOISE[severity - 1] * z * z
    return np.where(z > 0, np.maximum(noisy, 0.0), 0.0).astype(np.float32)


Effect = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]
RGB_EFFECTS: dict[str, Effect] = {"noise": _noise, "motion_blur": _motion_blur, "jpeg": _jpeg,
                                  "exposure": _exposure, "white_balance": _white_balance}
DEPTH_EFFECTS: dict[str, Effect] = {"depth_holes": _depth_holes, "depth_noise": _depth_noise}
EFFECTS = (*RGB_EFFECTS, *DEPTH_EFFECTS)


@dataclass(frozen=True)
class CameraEffect:
    """One effect at one severity, e.g. ``CameraEffect.parse("jpeg:4")``."""

    kind: str
    severity: int = MODERATE

    def __post_init__(self) -> None:
        if self.kind not in EFFECTS:
            raise LtsError(f"unknown camera effect {self.kind!r}; known: {', '.join(EFFECTS)}")
        if self.severity not in SEVERITIES:
            raise LtsError(f"camera effect severity must be 1 to 5, got {self.severity}")

    @classmethod
    def parse(cls, text: str) -> "CameraEffect":
        """``KIND`` or ``KIND:SEVERITY`` (default severity: moderate, 3)."""
        kind, _, severity = text.partition(":")
        try:
            return cls(kind.strip(), int(severity) if severity else MODERATE)
        except ValueError:
            raise LtsError(f"camera effect severity must be an integer 1 to 5, got {severity!r}") from None

    def __str__(self) -> str:
        return f"{self.kind}:{self.severity}"

    @property
    def on_depth(self) -> bool:
        return self.kind in DEPTH_EFFECTS

    def apply(self, rgb: np.ndarray, depth_m: np.ndarray | None, rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray | None]:
        """(rgb (H, W, 3) uint8, depth (H, W) float32 metres or None) with this effect on the one it affects."""
        if self.on_depth:
            return rgb, None if depth_m is None else DEPTH_EFFECTS[self.kind](depth_m, self.severity, rng)
        return RGB_EFFECTS[self.kind](rgb, self.severity, rng), depth_m


@dataclass(frozen=True)
class RandomCameraEffects:
    """Training augmentation: with probability ``p``, one random RGB effect at a random severity up to
    ``max_severity`` (depth is not a model input, so depth effects are not drawn)."""

    p: float = 0.5
    max_severity: int = 4

    def __call__(self, rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if rng.random() >= self.p:
            return rgb
        kind = list(RGB_EFFECTS)[int(rng.integers(len(RGB_EFFECTS)))]
        return RGB_EFFECTS[kind](rgb, int(rng.integers(1, self.max_severity + 1)), rng)
