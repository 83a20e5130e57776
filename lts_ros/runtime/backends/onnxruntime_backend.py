"""Run an ONNX export (text.onnx + segment.onnx) with ONNX Runtime."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from lts_ros.errors import LtsError
from lts_ros.export.manifest import TEXT_ONNX, read_manifest, segment_onnx
from lts_ros.runtime.backends.base import TextArrays

CPU, CUDA, TENSORRT = "CPUExecutionProvider", "CUDAExecutionProvider", "TensorrtExecutionProvider"


def choose_providers(device: str = "cpu", tensorrt: bool = False) -> list:
    """Execution providers, fastest first. ``device`` is a requirement (``cuda`` without the CUDA EP
    is an error, never a silent CPU run); ``tensorrt`` only allows the TensorRT EP when it is present."""
    if device == "cpu":
        return [CPU]
    kind, _, index = device.partition(":")
    if kind != "cuda" or not (index == "" or index.isdigit()):
        raise LtsError(f"unknown device '{device}' (use cpu, cuda or cuda:N)")
    available = ort.get_available_providers()
    if CUDA not in available:
        raise LtsError(f"device '{device}' needs onnxruntime-gpu (available providers: {', '.join(available)})")
    options = {"device_id": int(index or 0)}
    providers = [(CUDA, options), CPU]
    if tensorrt and TENSORRT in available:
        providers.insert(0, (TENSORRT, options))
    return providers


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

    def __init__(self, export_dir: str | Path, device: str = "cpu", tensorrt: bool = False, threads: int = 0,
                 precision: str = "fp32"):
        export_dir = Path(export_dir)
        self.manifest = read_manifest(export_dir)
        providers = choose_providers(device, tensorrt)
        self.precision = precision
        self.text = open_session(export_dir / TEXT_ONNX, providers, threads)  # always fp32: once per command
        self.seg = open_session(segment_onnx(export_dir, self.manifest, precision, gpu=device != "cpu"), providers,
                                threads)
        self.text_outputs = [o.name for o in self.text.get_outputs()]

    def encode_text(self, token_ids: np.ndarray, attention_mask: np.ndarray) -> TextArrays:
        outputs = run_session(self.text, {"token_ids": token_ids.astype(np.int64, copy=False),
                                        "attention_mask": attention_mask.astype(np.int64, copy=False)})
        return dict(zip(self.text_outputs, outputs))

    def segment(self, image: np.ndarray, text: TextArrays) -> tuple[np.ndarray, np.ndarray]:
        mask_logits, prior_logits = run_session(self.seg, {"image": image, **text})
        return mask_logits, prior_logits
