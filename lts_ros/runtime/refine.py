"""Mask edges snapped to the image: the mask probability filtered with the camera frame as guide.

The model predicts its mask at a quarter of its 320 px input (80 px a side for 640 px frames, then upsampled), so
edges are blurred by a few frame pixels. A guided filter (He, Sun and Tang, "Guided Image Filtering", ECCV 2010,
the colour form) makes the probability a locally linear function of the RGB within a window: it follows the
image's own edges where the colours change and keeps the model's answer where they do not. It runs only in the
box around what the model fired on, so its cost scales with the object, not the frame.
"""
from __future__ import annotations

import cv2
import numpy as np

from lts_ros.runtime.pixels import fired_box, sigmoid

RADIUS_PX_AT_640 = 12  # window radius at 640 px frame width (scaled with the frame)
SUBSAMPLE = 4  # the filter's coefficients are fitted at a quarter of the frame's size (the fast guided filter)
EPS = 0.01  # regularization: larger keeps more of the model's map in low-contrast windows
REGION_LOGIT = -2.0  # pixels over this logit (probability 0.12) and the window around them are refined


def _box(x: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * radius + 1, 2 * radius + 1), normalize=True, borderType=cv2.BORDER_REFLECT)


def guided_filter(guide: np.ndarray, source: np.ndarray, radius: int, eps: float, subsample: int = 1) -> np.ndarray:
    """Colour guided filter: ``guide`` (H, W, 3) float32 in [0, 1], ``source`` (H, W) float32 -> (H, W) float32.
    ``subsample`` > 1: the fast form (He and Sun, 2015): the linear coefficients are fitted at 1/subsample of the
    size (with radius / subsample) and applied to the full-size guide. The 3x3 covariance systems are solved in
    closed form (adjugate), vectorized over pixels."""
    full = guide
    if subsample > 1:
        size = (max(1, guide.shape[1] // subsample), max(1, guide.shape[0] // subsample))
        guide = cv2.resize(guide, size, interpolation=cv2.INTER_AREA)
        source = cv2.resize(source, size, interpolation=cv2.INTER_AREA)
        radius = max(1, round(radius / subsample))
    mean_i = _box(guide, radius)
    mean_p = _box(source, radius)
    cov_ip = _box(guide * source[..., None], radius) - mean_i * mean_p[..., None]
    var = {}
    for i, j in ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)):
        var[i, j] = _box(guide[..., i] * guide[..., j], radius) - mean_i[..., i] * mean_i[..., j] + (eps if i == j
                                                                                                      else 0.0)
    rr, rg, rb, gg, gb, bb = var[0, 0], var[0, 1], var[0, 2], var[1, 1], var[1, 2], var[2, 2]
    inv_rr, inv_rg, inv_rb = gg * bb - gb * gb, gb * rb - rg * bb, rg * gb - gg * rb
    inv_gg, inv_gb, inv_bb = rr * bb - rb * rb, rb * rg - rr * gb, rr * gg - rg * rg
    det = rr * inv_rr + rg * inv_rg + rb * inv_rb
    c0, c1, c2 = cov_ip[..., 0], cov_ip[..., 1], cov_ip[..., 2]
    a = np.stack([inv_rr * c0 + inv_rg * c1 + inv_rb * c2,
                  inv_rg * c0 + inv_gg * c1 + inv_gb * c2,
                  inv_rb * c0 + inv_gb * c1 + inv_bb * c2], axis=-1) / det[..., None]
    b = mean_p - a[..., 0] * mean_i[..., 0] - a[..., 1] * mean_i[..., 1] - a[..., 2] * mean_i[..., 2]
    mean_a, mean_b = _box(a, radius), _box(b, radius)
    if subsample > 1:
        size = (full.shape[1], full.shape[0])
        mean_a = cv2.resize(mean_a, size, interpolation=cv2.INTER_LINEAR)
        mean_b = cv2.resize(mean_b, size, interpolation=cv2.INTER_LINEAR)
    return mean_a[..., 0] * full[..., 0] + mean_a[..., 1] * full[..., 1] + mean_a[..., 2] * full[..., 2] + mean_b


def refine_logits(logits: np.ndarray, rgb: np.ndarray, radius_px: int | None = None, eps: float = EPS) -> np.ndarray:
    """Mask logits (H, W) at the frame's size, edges snapped to ``rgb`` (H, W, 3) uint8: the guided filter of the
    probability inside the box around ``logits > REGION_LOGIT`` (plus two radii), back to logits. Outside that box
    the logits are unchanged."""
    if rgb.shape[:2] != logits.shape:
        raise ValueError(f"the frame is {rgb.shape[1]}x{rgb.shape[0]} but the mask {logits.shape[1]}x{logits.shape[0]}")
    radius = radius_px or max(1, round(RADIUS_PX_AT_640 * logits.shape[1] / 640))
    box = fired_box(logits > REGION_LOGIT)
    if box is None:
        return logits
    margin = 2 * radius
    top, left = max(0, box[0] - margin), max(0, box[1] - margin)
    bottom, right = min(logits.shape[0], box[2] + margin), min(logits.shape[1], box[3] + margin)
    window = np.s_[top:bottom, left:right]
    probability = sigmoid(logits[window])
    guide = rgb[window].astype(np.float32) * np.float32(1 / 255)
    filtered = np.clip(guided_filter(guide, probability, radius, eps, SUBSAMPLE), 1e-4, 1 - 1e-4)
    out = logits.copy()
    out[window] = np.log(filtered / (1 - filtered))
    return out
