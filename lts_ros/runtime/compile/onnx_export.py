"""Export a checkpoint to fp32 ONNX: ``text.onnx`` (once per command) and ``segment.onnx`` (per frame),
fixed batch 1 and input size, verified against torch in ONNX Runtime before ``model.json`` is written."""
from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lts_ros.artifacts.cache_root import ONNX, writable_or_redirected
from lts_ros.artifacts.export_manifest import (MANIFEST, SAMPLE, SEGMENT_ONNX, TEXT_ONNX, Export, Manifest,
                                               open_export, read_manifest, sha256_file)
from lts_ros.checkpoint import load_checkpoint, read_metadata
from lts_ros.errors import LtsError
from lts_ros.model.lts import LTS
from lts_ros.model.outputs import SegmentOutputs
from lts_ros.model.text import TextFeatures
from lts_ros.runtime.backends.onnxruntime_backend import CPU, open_session, run_session

OPSET = 17
TOLERANCE = 1e-3  # max |ORT - torch| on any output
SAMPLE_TEXT = "the red mug on the left"
TEXT_INPUTS, TEXT_OUTPUTS = ["token_ids", "attention_mask"], list(TextFeatures._fields)
SEGMENT_INPUTS, SEGMENT_OUTPUTS = ["image", *TextFeatures._fields], list(SegmentOutputs._fields)
log = logging.getLogger(__name__)


class TextGraph(nn.Module):
    """``encode_text`` with plain tensor outputs (words, mask, sentence)."""

    def __init__(self, model: LTS):
        super().__init__()
        self.model = model

    def forward(self, token_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.model.encode_text(token_ids, attention_mask))


class SegmentGraph(TextGraph):
    """``segment`` with the text features as separate tensor inputs."""

    def forward(self, image: torch.Tensor, words: torch.Tensor, mask: torch.Tensor,
                sentence: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.model.segment(image, TextFeatures(words, mask, sentence)))


@dataclass
class ExportedModel:
    export_dir: Path
    manifest: Manifest
    max_abs_diff: dict[str, float]  # per output: ORT vs torch on the export's sample inputs


def default_export_dir(checkpoint_path: Path) -> Path:
    """Where a checkpoint's export goes by default: ``<stem>-onnx/`` beside it (``ensure_export`` uses the
    cache root instead when this dir is read-only and holds no current export)."""
    return checkpoint_path.with_name(f"{checkpoint_path.stem}-onnx")


def sample_io(model: LTS) -> dict[str, np.ndarray]:
    """Deterministic sample inputs and the torch outputs for them (stored as ``sample.npz``)."""
    ids, attention = model.tokenize([SAMPLE_TEXT])
    size = model.cfg.input_size
    image = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        text = model.encode_text(ids, attention)
        outputs = model.segment(image, text)
    tensors = {"token_ids": ids, "attention_mask": attention, "image": image, **text._asdict(), **outputs._asdict()}
    return {name: tensor.numpy() for name, tensor in tensors.items()}


def _export_graphs(model: LTS, sample: dict[str, np.ndarray], out_dir: Path) -> None:
    inputs = {name: torch.from_numpy(array) for name, array in sample.items()}
    graphs = [(TextGraph(model), TEXT_INPUTS, TEXT_OUTPUTS, TEXT_ONNX),
              (SegmentGraph(model), SEGMENT_INPUTS, SEGMENT_OUTPUTS, SEGMENT_ONNX)]
    with warnings.catch_warnings():
        # Expected from the legacy TorchScript exporter (chosen deliberately) at a fixed batch of 1.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="Exporting a model to ONNX with a batch_size other than 1")
        # BERT's (MiniLM's) embedding lookups index with non-negative positions only, the case the warning
        # does not cover; the export is verified against torch below all the same.
        warnings.filterwarnings("ignore", message="Exporting aten::index operator of advanced indexing")
        for graph, input_names, output_names, file_name in graphs:
            try:
                torch.onnx.export(graph, tuple(inputs[name] for name in input_names), out_dir / file_name,
                                  dynamo=False, opset_version=OPSET, input_names=input_names,
                                  output_names=output_names)
            except OSError:
                raise
            except Exception as exc:  # the exporter raises many types for unsupported operators
                raise LtsError(f"ONNX export of {file_name} failed: {type(exc).__name__}: "
                               f"{str(exc).splitlines()[0] if str(exc) else ''}") from exc


def compare_to_sample(export_dir: Path, sample: dict[str, np.ndarray],
                      tolerance: float = TOLERANCE) -> dict[str, float]:
    """Run both graphs in ONNX Runtime (CPU) on the sample inputs; LtsError when any output is off."""
    text = open_session(export_dir / TEXT_ONNX, [CPU], threads=1)
    seg = open_session(export_dir / SEGMENT_ONNX, [CPU], threads=1)
    # The segment graph gets torch's text features, so each graph is checked on its own.
    got = dict(zip(TEXT_OUTPUTS, run_session(text, sample)))
    got.update(zip(SEGMENT_OUTPUTS, run_session(seg, sample)))
    diffs = {name: float(np.abs(value - sample[name]).max()) for name, value in got.items()}
    name, worst = max(diffs.items(), key=lambda item: item[1])
    if not worst <= tolerance:  # also catches NaN
        raise LtsError(f"{export_dir}: ONNX Runtime '{name}' differs from torch by {worst:.2e} (> {tolerance:g})")
    return diffs


def export_onnx(checkpoint_path: str | Path, out_dir: str | Path, tolerance: float = TOLERANCE) -> ExportedModel:
    """Write ``text.onnx``, ``segment.onnx``, ``sample.npz`` and, once ORT matches torch, ``model.json``."""
    checkpoint_path, out_dir = Path(checkpoint_path), Path(out_dir)
    metadata = read_metadata(checkpoint_path)
    model = load_checkpoint(checkpoint_path, "cpu")
    sample = sample_io(model)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / MANIFEST).unlink(missing_ok=True)  # no manifest until the new export is verified
        for stale in out_dir.glob("segment.*.onnx"):  # precision variants of the previous export
            stale.unlink()
        _export_graphs(model, sample, out_dir)
        np.savez(out_dir / SAMPLE, **sample)
        diffs = compare_to_sample(out_dir, sample, tolerance)
        manifest = Manifest(
            config_name=model.cfg.name, input_size=model.cfg.input_size, max_tokens=model.cfg.text.max_tokens,
            opset=OPSET, files={name: sha256_file(out_dir / name) for name in (TEXT_ONNX, SEGMENT_ONNX, SAMPLE)},
            checkpoint_sha256=sha256_file(checkpoint_path), config=metadata["config"],
            vocab=json.loads(metadata["vocab"]))
        manifest.write(out_dir)
    except OSError as exc:
        raise LtsError(f"cannot write the ONNX export to {out_dir} ({exc.strerror or exc})") from None
    return ExportedModel(out_dir, manifest, diffs)


def verify_export(export_dir: str | Path, tolerance: float = TOLERANCE) -> dict[str, float]:
    """Re-check an export dir (e.g. on the robot): files and hashes, then ORT vs the stored torch outputs."""
    export_dir = Path(export_dir)
    read_manifest(export_dir)
    with np.load(export_dir / SAMPLE) as data:
        sample = dict(data)
    return compare_to_sample(export_dir, sample, tolerance)


def _current(export_dir: Path, checkpoint_sha256: str) -> Export | None:
    """``export_dir`` opened, when it holds a complete, intact export of the checkpoint with this sha256."""
    try:
        export = open_export(export_dir)
    except LtsError:
        return None
    return export if export.manifest.checkpoint_sha256 == checkpoint_sha256 else None


def current_export(checkpoint_path: str | Path, export_dir: str | Path | None = None,
                   redirect: bool = False) -> Export:
    """The export of this checkpoint, opened (its files hashed once): ``export_dir`` (default:
    ``default_export_dir``) when its manifest records the checkpoint's sha256 (a read-only dir is fine),
    otherwise (re)exported there. When that dir is read-only the export is reused from, or made in,
    ``cache_root.redirected(dir, "onnx")`` instead (``$ROS_HOME/lts_ros/onnx/<name>-<hash>``, with a warning):
    always for the default dir, for a given ``export_dir`` only with ``redirect`` (a cache dir from
    configuration, such as the node's ``onnx_dir``; a dir named on the command line fails with the reason
    instead)."""
    checkpoint_path = Path(checkpoint_path)
    redirect = redirect or export_dir is None
    export_dir = Path(export_dir) if export_dir is not None else default_export_dir(checkpoint_path)
    checkpoint_sha256 = sha256_file(checkpoint_path)
    if (export := _current(export_dir, checkpoint_sha256)) is not None:
        return export
    if redirect:
        writable = writable_or_redirected(export_dir, ONNX)
        if writable != export_dir and (export := _current(writable, checkpoint_sha256)) is not None:
            return export
        export_dir = writable
    log.info("exporting %s to ONNX in %s", checkpoint_path, export_dir)
    start = time.perf_counter()
    exported = export_onnx(checkpoint_path, export_dir)
    log.info("exported %s in %.0f s", export_dir, time.perf_counter() - start)
    return Export(exported.export_dir, exported.manifest)


def ensure_export(checkpoint_path: str | Path, export_dir: str | Path | None = None,
                  redirect: bool = False) -> Path:
    """``current_export``'s dir."""
    return current_export(checkpoint_path, export_dir, redirect).dir
