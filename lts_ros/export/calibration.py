"""Frames paired with commands, for int8 calibration and for checking reduced-precision exports:
from a rendered tabletop split (its own expressions) or from any directory of images."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lts_ros.data.refer import read_rgb
from lts_ros.data.sampling import spread
from lts_ros.errors import LtsError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
# Used with a plain image directory when no commands file is given: the vocabulary of the tabletop world.
DEFAULT_COMMANDS = ("the red mug", "the ball on the left", "the smallest blue cube", "the duck next to the tray",
                    "the largest teddy bear", "pick up the green lego brick", "the second ring from the right",
                    "the yellow block behind the mug")


@dataclass
class Frame:
    rgb: np.ndarray  # (H, W, 3) uint8
    command: str
    source: str  # file name, for reports


def read_commands(path: str | Path) -> list[str]:
    """One command per line; blank lines and ``#`` comments skipped."""
    path = Path(path)
    if not path.is_file():
        raise LtsError(f"commands file not found: {path}")
    commands = [line.strip() for line in path.read_text().splitlines()]
    commands = [c for c in commands if c and not c.startswith("#")]
    if not commands:
        raise LtsError(f"{path} holds no commands")
    return commands


def load_frames(source: str | Path, n: int, commands: list[str] | None = None) -> list[Frame]:
    """``n`` frames spread over ``source``: a tabletop split (``scenes.jsonl`` + ``rgb/``: its (image, expression)
    pairs) or a directory of images (commands cycled from ``commands``)."""
    source = Path(source)
    if not source.is_dir():
        raise LtsError(f"calibration source not found: {source} (a directory of images or a tabletop split)")
    index = source / "scenes.jsonl"
    if index.is_file() and commands is None:
        scenes = [json.loads(line) for line in index.read_text().splitlines() if line.strip()]
        pairs = [(s["id"], e["text"]) for s in scenes for e in s["expressions"]]
        if not pairs:
            raise LtsError(f"{index} holds no expressions")
        return [Frame(read_rgb(source / "rgb" / f"{sid}.jpg"), text, f"{sid}.jpg")
                for sid, text in (pairs[i] for i in spread(n, len(pairs)))]
    images = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise LtsError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {source}")
    commands = list(commands or DEFAULT_COMMANDS)
    return [Frame(read_rgb(images[i]), commands[k % len(commands)], images[i].name)
            for k, i in enumerate(spread(n, len(images)))]
