"""``model.json``: what an ONNX export dir holds and how to rebuild the tokenizer, with file hashes. Written by
``runtime.compile.onnx_export`` and ``export.precision``; read by the ONNX Runtime and TensorRT backends."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from lts_ros.config import ModelConfig, config_from_dict
from lts_ros.errors import LtsError
from lts_ros.options import check_precision

FORMAT = "lts_ros-onnx/2"  # 2: the segment graph also outputs several_logits
MANIFEST = "model.json"
TEXT_ONNX, SEGMENT_ONNX, SAMPLE = "text.onnx", "segment.onnx", "sample.npz"
VARIANTS = ("fp16", "int8-u8s8", "int8-s8s8")  # reduced-precision segment graphs: see export.precision


def variant_file(variant: str) -> str:
    """``segment.onnx`` for fp32, ``segment.<variant>.onnx`` otherwise."""
    return SEGMENT_ONNX if variant == "fp32" else f"segment.{variant}.onnx"


def variant_for(precision: str, gpu: bool) -> str:
    """The variant that runs ``precision``: int8 is U8S8 on ONNX Runtime's CPU, S8S8 on a GPU (TensorRT)."""
    check_precision(precision, "onnxruntime")
    if precision == "int8":
        return "int8-s8s8" if gpu else "int8-u8s8"
    return precision


def sha256_file(path: Path) -> str:
    """The file's sha256, hex; read in 1 MiB chunks (a text graph can be 90 MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Manifest:
    config_name: str
    input_size: int  # S: the graphs take a fixed (1, 3, S, S) image
    max_tokens: int  # L: the graphs take fixed (1, L) token ids
    opset: int
    files: dict[str, str]  # file name -> sha256
    checkpoint_sha256: str  # the checkpoint this was exported from (the auto backend's cache key)
    config: str  # the checkpoint's config YAML
    vocab: list[str]  # bigru vocabulary; empty for minilm
    format: str = FORMAT
    # reduced-precision segment graphs (export.precision): variant -> file, calibration, check figures
    variants: dict[str, dict] = field(default_factory=dict)

    def model_config(self) -> ModelConfig:
        return config_from_dict(yaml.safe_load(self.config), f"{MANIFEST} (embedded config)")

    def write(self, export_dir: Path) -> Path:
        path = Path(export_dir) / MANIFEST
        path.write_text(json.dumps(asdict(self), indent=1) + "\n")
        return path


def read_manifest(export_dir: str | Path) -> Manifest:
    """Read ``model.json`` and check that every file it lists is present with its recorded sha256."""
    export_dir = Path(export_dir)
    path = export_dir / MANIFEST
    if not path.is_file():
        raise LtsError(f"{export_dir} is not an lts_ros ONNX export ({MANIFEST} missing)")
    try:
        manifest = Manifest(**json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise LtsError(f"{path} is not a valid export manifest ({exc})") from None
    if manifest.format != FORMAT:
        raise LtsError(f"{path}: unsupported export format {manifest.format!r} (expected {FORMAT})")
    for name, digest in manifest.files.items():
        file = export_dir / name
        if not file.is_file():
            raise LtsError(f"{file} is missing from the export (re-export the checkpoint)")
        if sha256_file(file) != digest:
            raise LtsError(f"{file} does not match its sha256 in {MANIFEST}: corrupt or replaced (re-export)")
    return manifest


@dataclass(frozen=True)
class Export:
    """An export dir whose files were checked against ``model.json`` once (``open_export``): pass it along instead
    of re-reading the dir, so a configure hashes each file once (a Jetson pays for every pass over the graphs)."""

    dir: Path
    manifest: Manifest

    @property
    def text_onnx(self) -> Path:
        return self.dir / TEXT_ONNX

    def segment_onnx(self, precision: str, gpu: bool) -> Path:
        """The segment graph for ``precision``; LtsError saying how to make a missing one."""
        variant = variant_for(precision, gpu)
        name = variant_file(variant)
        if name not in self.manifest.files:
            raise LtsError(f"{self.dir} has no {variant} segment graph: make it with 'lts export onnx --precision "
                           f"{precision} --calibration <frames dir>'")
        return self.dir / name


def open_export(export_dir: str | Path) -> Export:
    """``read_manifest`` (every file checked against its sha256) with the dir it was read from."""
    return Export(Path(export_dir), read_manifest(export_dir))
