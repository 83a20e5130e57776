"""Run an ONNX export (text.onnx + segment.onnx) with ONNX Runtime."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from lts_ros.artifacts.export_manifest import Export, open_export
from lts_ros.errors import LtsError
from lts_ros.model.outputs import SegmentOutputs
from lts_ros.options import backend_device, parse_device
from lts_ros.runtime.backends.base import TextArrays

CPU, CUDA = "CPUExecutionProvider", "CUDAExecutionProvider"


def choose_providers(device: str = "cpu") -> list:
    """Execution providers, fastest first. ``device`` is a requirement (``cuda`` without the CUDA EP
    is an error, never a silent CPU run). TensorRT runs through its own backend (engine cache and manifests),
    not ONNX Runtime's TensorRT provider."""
    parsed = backend_device(device, "onnxruntime")
    if not parsed.is_gpu:
        return [CPU]
    available = ort.get_available_providers()
    if CUDA not in available:
        raise LtsError(f"device '{device}' needs onnxruntime-gpu (available providers: {', '.join(available)})")
    return [(CUDA, {"device_id": parsed.index or 0}), CPU]


def open_session(path: Path, providers: list, threads: int = 0) -> ort.InferenceSession:
    """An InferenceSession for ``path``; LtsError naming the file when it is missing or unloadable.
    ``threads``: intra-op threads, 0 = ONNX Runtime's default (one per core)."""
    if not path.is_file():
        raise LtsError(f"ONNX file not found: {path}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only: no per-session initializer chatter
    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # ORT raises several pybind types (InvalidProtobuf, Fail, ...)
        raise LtsError(f"{path} is not a loadable ONNX model ({str(exc).splitlines()[0]})") from None
    requested = [p[0] if isinstance(p, tuple) else p for p in providers]
    if CUDA in requested and CUDA not in session.get_providers():  # ORT falls back to the CPU silently
        raise LtsError(f"{CUDA} did not load for {path.name}: check the CUDA/cuDNN libraries "
                       "onnxruntime-gpu needs")
    return session


def run_session(session: ort.InferenceSession, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Run with the subset of ``feeds`` the graph declares: inputs a graph does not read (e.g. words/mask
    for the sentence-only filter) were pruned at export."""
    return session.run(None, {i.name: feeds[i.name] for i in session.get_inputs()})


class OnnxRuntimeBackend:
    name = "onnxruntime"

    def __init__(self, export: Export | str | Path, device: str = "cpu", threads: int = 0, precision: str = "fp32"):
        """``export``: an opened Export, or its dir (then opened, i.e. hashed, here)."""
        export = export if isinstance(export, Export) else open_export(export)
        self.manifest = export.manifest
        providers = choose_providers(device)
        self.precision = precision
        self.text = open_session(export.text_onnx, providers, threads)  # always fp32: once per command
        self.seg = open_session(export.segment_onnx(precision, gpu=parse_device(device).is_gpu), providers, threads)
        self.text_outputs = [o.name for o in self.text.get_outputs()]

    def encode_text(self, token_ids: np.ndarray, attention_mask: np.ndarray) -> TextArrays:
        outputs = run_session(self.text, {"token_ids": token_ids.astype(np.int64, copy=False),
                                        "attention_mask": attention_mask.astype(np.int64, copy=False)})
        return dict(zip(self.text_outputs, outputs))

    def segment(self, image: np.ndarray, text: TextArrays) -> SegmentOutputs:
        return SegmentOutputs(*run_session(self.seg, {"image": image, **text}))
