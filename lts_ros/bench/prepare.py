"""What the cases run on, made once and cached in the work dir: a checkpoint per (config, size), its ONNX
export with the precision variants the cases need, GFLOPs per frame, and a rendered tabletop split
(calibration frames, and the frame every case segments)."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from lts_ros.bench.cases import BenchCase
from lts_ros.checkpoint import load_checkpoint, save_checkpoint, shipped_checkpoint
from lts_ros.config import load_config
from lts_ros.errors import LtsError
from lts_ros.artifacts.export_manifest import read_manifest, sha256_file
from lts_ros.model.build import build_model
from lts_ros.model.flops import PARTS, model_costs
from lts_ros.model.lts import LTS
from lts_ros.model.text import PAD, UNK

SHIPPED = {"edge": shipped_checkpoint}  # configs benchmarked with trained weights; the others are random init
VOCAB_SIZE = 10_000  # bigru vocabulary for random-init models: RefCOCO-sized, like ``lts info``
SEED = 0
CALIBRATION_SCENES = 16
CALIBRATION_FRAMES = 64  # (image, expression) pairs of those scenes: half calibrate, half check
CALIBRATION_SPLIT = "val"


@dataclass
class Prepared:
    """One (config, size): its checkpoint, export and figures; ``errors`` says what could not be made
    (``onnx`` or a variant name -> message), so only the cases needing it fail."""
    checkpoint: Path
    weights: str  # shipped | random
    gflops: float  # per frame: vision + fusion + locate + segment at this size
    export_dir: Path | None = None
    checks: dict[str, dict] = field(default_factory=dict)  # variant -> its check vs fp32 (export.precision)
    errors: dict[str, str] = field(default_factory=dict)


def bench_model(config: str, size: int) -> tuple[LTS, str]:
    """The model benchmarked for ``config`` at ``size`` and where its weights come from (shipped | random).
    The model is fully convolutional, so trained weights run at any size the config accepts."""
    if config in SHIPPED:
        model = load_checkpoint(SHIPPED[config]())
        model.cfg.input_size = size
        return model, "shipped"
    cfg = load_config(config)
    cfg.input_size = size
    vocab = [PAD, UNK] + [f"w{i}" for i in range(VOCAB_SIZE)] if cfg.text.encoder == "bigru" else None
    torch.manual_seed(SEED)
    return build_model(cfg, vocab).eval(), "random"


def frame_gflops(model: LTS, size: int) -> float:
    costs = model_costs(model, size)
    return sum(costs[part].gflops for part in PARTS if part != "text")


def source_key(config: str, size: int) -> dict:
    """What a cached checkpoint was made from: the shipped weights' sha256, or the config and seed."""
    if config in SHIPPED:
        source = sha256_file(SHIPPED[config]())
    else:
        source = hashlib.sha256(f"{load_config(config).to_yaml()}{SEED}{VOCAB_SIZE}".encode()).hexdigest()
    return {"config": config, "size": size, "source": source}


def ensure_checkpoint(config: str, size: int, model_dir: Path) -> Prepared:
    """The checkpoint for (config, size) in ``model_dir``: reused when made from the same source, else made."""
    record_path, checkpoint = model_dir / "prepared.json", model_dir / "model.safetensors"
    key = source_key(config, size)
    if record_path.is_file() and checkpoint.is_file():
        record = json.loads(record_path.read_text())
        if record["key"] == key and record["checkpoint_sha256"] == sha256_file(checkpoint):
            return Prepared(checkpoint, record["weights"], record["gflops"])
    model, weights = bench_model(config, size)
    gflops = frame_gflops(model, size)
    save_checkpoint(model, checkpoint, info={"bench": f"{config} at {size} px, {weights} weights"})
    record = {"key": key, "checkpoint_sha256": sha256_file(checkpoint), "weights": weights, "gflops": gflops}
    record_path.write_text(json.dumps(record, indent=1) + "\n")
    return Prepared(checkpoint, weights, gflops)


def calibration_split(work_dir: Path, progress: bool) -> Path:
    """A small rendered tabletop split (rendered once): int8 calibration and the variants' checks."""
    from lts_ros.data.tabletop.store import render_split

    root = work_dir / "tabletop"
    split = root / CALIBRATION_SPLIT
    manifest = split / "manifest.json"
    if not (manifest.is_file() and json.loads(manifest.read_text())["requested"] == CALIBRATION_SCENES):
        render_split(root, CALIBRATION_SPLIT, n=CALIBRATION_SCENES, workers=1, progress=progress)
    return split


def bench_frame(split: Path) -> Path:
    """The 640x480 RGB frame every case segments: the split's first scene."""
    frames = sorted((split / "rgb").glob("*.jpg"))
    if not frames:
        raise LtsError(f"{split} holds no rendered frames: delete it and run again")
    return frames[0]


def add_export(prepared: Prepared, variants: set[str], export_dir: Path, split: Path) -> None:
    """Export ``prepared``'s checkpoint (reused when current) and add the missing ``variants``; what fails is
    recorded in ``prepared.errors``. Random weights make no sense of the parity bar, so it is off for them."""
    from lts_ros.export.calibration import load_frames
    from lts_ros.runtime.compile.onnx_export import ensure_export
    from lts_ros.export.precision import MIN_MASK_IOU, add_variants

    try:
        prepared.export_dir = ensure_export(prepared.checkpoint, export_dir)
    except (LtsError, ImportError) as exc:
        prepared.errors["onnx"] = str(exc)
        return
    min_iou = MIN_MASK_IOU if prepared.weights == "shipped" else 0.0
    missing = sorted(variants - set(read_manifest(export_dir).variants))
    frames = load_frames(split, CALIBRATION_FRAMES) if missing else []
    for variant in missing:  # one at a time: a refused variant must not take the others with it
        try:
            add_variants(export_dir, [variant], frames, f"tabletop {CALIBRATION_SPLIT} ({CALIBRATION_SCENES} scenes)",
                         min_iou=min_iou)
        except (LtsError, ImportError) as exc:
            prepared.errors[variant] = str(exc)
    prepared.checks = {name: v["check"] for name, v in read_manifest(export_dir).variants.items()}


def prepare(cases: Iterable[BenchCase], work_dir: Path,
            progress: bool = True) -> tuple[dict[tuple[str, int], Prepared], Path]:
    """Everything ``cases`` need, keyed by (config, size), and the frame they segment."""
    cases = list(cases)
    split = calibration_split(work_dir, progress)
    pairs = list(dict.fromkeys((case.config, case.size) for case in cases))
    prepared = {}
    for config, size in tqdm(pairs, desc="prepare", unit="model", disable=not progress):
        model_dir = work_dir / "models" / f"{config}-{size}"
        prepared[config, size] = item = ensure_checkpoint(config, size, model_dir)
        mine = [c for c in cases if (c.config, c.size) == (config, size)]
        if any(c.backend != "torch" for c in mine):
            add_export(item, {c.variant for c in mine if c.variant}, model_dir / "onnx", split)
    return prepared, bench_frame(split)
