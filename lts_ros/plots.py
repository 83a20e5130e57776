"""Matplotlib figures written as PNG files (headless)."""
from __future__ import annotations

import csv
from pathlib import Path

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_losses(log_csv: Path, out_png: Path) -> Path | None:
    """Loss curves (log scale) from a training ``log.csv``; None when the log is empty."""
    if not log_csv.is_file():
        return None
    rows = list(csv.DictReader(log_csv.open()))
    if not rows:
        return None
    steps = [int(r["step"]) for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4))
    for key in ("total", "prior", "mask", "dice"):
        values = [float(r[key]) for r in rows if r.get(key)]
        if len(values) == len(steps):
            ax.plot(steps, values, label=key, linewidth=2 if key == "total" else 1)
    ax.set(xlabel="step", ylabel="loss", yscale="log", title=f"training loss ({log_csv.parent.name})")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png


def overlay(image: np.ndarray, mask: np.ndarray, color: tuple[int, int, int] = (255, 0, 255),
            alpha: float = 0.45) -> np.ndarray:
    """RGB uint8 image with ``mask`` (bool) tinted and outlined in ``color``."""
    out = image.astype(np.float32).copy()
    out[mask] = (1 - alpha) * out[mask] + alpha * np.asarray(color, np.float32)
    out = out.astype(np.uint8)
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return cv2.drawContours(out, contours, -1, color, max(1, min(image.shape[:2]) // 150))


def save_overlay_grid(items: list[tuple[np.ndarray, np.ndarray, str]], out_png: Path, cols: int = 4) -> Path:
    """A grid of (image, predicted mask, caption) overlays."""
    rows = max(1, -(-len(items) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.6 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (image, mask, caption) in zip(axes.flat, items):
        ax.imshow(overlay(image, mask))
        ax.set_title(caption, fontsize=8)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png
