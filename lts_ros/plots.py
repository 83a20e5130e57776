"""Matplotlib figures written as PNG files (headless)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
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
    for key in (k for k in rows[0] if k not in ("step", "lr") and not k.endswith("_per_s")):  # the loss parts
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


def plot_reliability(rows: list[tuple[float, float, int]], ece: float, out_png: Path, bins: int = 10) -> Path:
    """Reliability diagram of a probability from ``metrics.reliability_bins`` rows (mean score, share of
    positives, count): on the diagonal when calibrated, with the bins' sample counts below and the ECE above."""
    fig, (ax, counts) = plt.subplots(2, 1, figsize=(5, 6), height_ratios=(3, 1), sharex=True)
    ax.plot([0, 1], [0, 1], color="gray", linestyle="--", linewidth=1, label="calibrated")
    ax.plot([r[0] for r in rows], [r[1] for r in rows], marker="o", label="model")
    ax.set(ylabel="share with a target", xlim=(0, 1), ylim=(0, 1),
           title=f"presence score reliability (ECE {ece:.3f})")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    counts.bar([r[0] for r in rows], [r[2] for r in rows], width=0.9 / bins)
    counts.set(xlabel="presence score", ylabel="expressions", yscale="log")
    fig.tight_layout()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png


def overlay(image: np.ndarray, mask: np.ndarray, color: tuple[int, int, int] = (255, 0, 255),
            alpha: float = 0.45) -> np.ndarray:
    """RGB uint8 image with ``mask`` (bool) tinted and outlined in ``color``."""
    out = image.copy()
    out[mask] = ((1 - alpha) * image[mask] + alpha * np.asarray(color, np.float32)).astype(np.uint8)
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return cv2.drawContours(out, contours, -1, color, max(1, min(image.shape[:2]) // 150))


@dataclass
class Panel:
    """One grid cell: an image with an optional predicted mask (tinted), GT mask (outlined) and a
    centroid marker (pixels)."""

    image: np.ndarray
    caption: str
    pred: np.ndarray | None = None
    gt: np.ndarray | None = None
    centroid_px: tuple[float, float] | None = None


def render_panel(panel: Panel) -> np.ndarray:
    out = overlay(panel.image, panel.pred) if panel.pred is not None else panel.image.copy()
    thickness = max(1, min(out.shape[:2]) // 200)
    if panel.gt is not None:
        contours, _ = cv2.findContours(panel.gt.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, contours, -1, (255, 255, 0), thickness)
    if panel.centroid_px is not None:
        u, v = (int(round(c)) for c in panel.centroid_px)
        cv2.drawMarker(out, (u, v), (0, 255, 255), cv2.MARKER_CROSS, 6 * thickness + 8, 2 * thickness)
    return out


def save_grid(panels: list[Panel], out_png: Path, cols: int = 4, legend: str = "") -> Path:
    """A grid of panels with captions; predicted masks magenta, GT outlines yellow, centroids cyan."""
    rows = max(1, -(-len(panels) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.9 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, panel in zip(axes.flat, panels):
        ax.imshow(render_panel(panel))
        ax.set_title(panel.caption, fontsize=7)
    if legend:
        fig.suptitle(legend, fontsize=8)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png
