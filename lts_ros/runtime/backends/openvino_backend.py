"""Run an ONNX export (text.onnx + a segment graph) with OpenVINO on the CPU: fp32; bf16 (the fp32 graph with
OpenVINO's bf16 inference hint, on CPUs with AMX or AVX512-BF16); int8 (the U8S8 Q/DQ variant). Shapes are the
export's fixed ones, compiled once. Compiled models are cached under ``<cache root>/openvino/<graph sha256>-<OpenVINO
version>[-<device>]``, so a changed export or another OpenVINO never loads a stale blob.

``device`` ``openvino:GPU[.N]`` or ``openvino:NPU`` compiles for an Intel GPU or NPU instead (fp32 with the f32
hint, or int8), where OpenVINO sees one. No such device exists on the machines this project is tested on: that
path is written against OpenVINO's API and checked only for its errors here."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from lts_ros.artifacts.cache_root import OPENVINO, cache_root, is_read_only
from lts_ros.artifacts.export_manifest import Export, open_export
from lts_ros.errors import LtsError
from lts_ros.model.outputs import SegmentOutputs
from lts_ros.options import check_precision, parse_device
from lts_ros.runtime.backends.base import TextArrays

HINTS = {"fp32": "f32", "bf16": "bf16", "int8": "f32"}  # INFERENCE_PRECISION_HINT; int8 runs its Q/DQ graph
log = logging.getLogger(__name__)


def import_openvino():
    """The ``openvino`` module, or an LtsError saying how to get it."""
    try:
        import openvino
    except ImportError as exc:
        raise LtsError(f"OpenVINO is not installed ({exc}): pip install openvino") from None
    return openvino


def openvino_usable() -> bool:
    """OpenVINO imports and sees a CPU (the ``auto`` backend's test)."""
    try:
        return "CPU" in import_openvino().Core().available_devices
    except (LtsError, RuntimeError):
        return False


def check_cpu_precision(precision: str, core=None) -> None:
    """LtsError where this CPU cannot run ``precision`` (bf16 needs AMX or AVX512-BF16)."""
    core = core or import_openvino().Core()
    if precision == "bf16" and "BF16" not in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        raise LtsError("precision bf16 needs a CPU with AMX or AVX512-BF16, which this one lacks: use fp32 or int8")


def model_cache_dir(export: Export, graph: str, version: str, target: str = "CPU") -> Path:
    """Where OpenVINO caches the compiled ``graph`` of ``export`` for ``target`` (its device name): keyed by the
    graph's sha256, the version and (but for the CPU) the device."""
    device = "" if target == "CPU" else f"-{target}"
    return cache_root() / OPENVINO / f"{export.manifest.files[graph][:16]}-{version.split('-')[0]}{device}"


def openvino_target(device: str, precision: str, core) -> str:
    """OpenVINO's device name for ``device`` (cpu -> CPU, openvino:GPU.1 -> GPU.1), after checking OpenVINO sees
    it and it runs ``precision``; LtsError else."""
    parsed = parse_device(device)
    if parsed.is_gpu:
        raise LtsError(f"the openvino backend does not run on CUDA ('{device}'): use cpu, openvino:GPU or openvino:NPU")
    target = "CPU" if parsed.kind == "cpu" else parsed.openvino_name
    available = core.available_devices
    if target not in available and not (target == "GPU" and any(d.startswith("GPU.") for d in available)):
        raise LtsError(f"OpenVINO sees no {target} here (its devices: {', '.join(available) or 'none'})")
    if target == "CPU":
        check_cpu_precision(precision, core)
    elif precision == "bf16":
        raise LtsError(f"bf16 is OpenVINO's CPU hint; on {target} use fp32 or int8")
    return target


def graph_name(port) -> str:
    """The ONNX graph's name of an input or output port. OpenVINO merges the names of tensors it folds together
    (the BiGRU's attention mask and its float Cast: "attention_mask", "/text/Cast_1_output_0"), and ``any_name``
    may be either; the graph's own is the one that is not an exporter path."""
    return min(port.get_names(), key=lambda name: (name.startswith("/"), name))


class OpenVinoBackend:
    name = "openvino"

    def __init__(self, export: Export | str | Path, device: str = "cpu", threads: int = 0, precision: str = "fp32",
                 cache: bool = True):
        """``export``: an opened Export or its dir. ``threads``: inference threads (0 = OpenVINO's choice).
        ``cache``: keep compiled models in the cache root (faster second start)."""
        check_precision(precision, self.name)
        export = export if isinstance(export, Export) else open_export(export)
        ov = import_openvino()
        self.core, self.manifest, self.precision = ov.Core(), export.manifest, precision
        self.target = openvino_target(device, precision, self.core)
        segment = export.segment_onnx("fp32" if precision == "bf16" else precision, gpu=False)
        self.text = self._compile(export, export.text_onnx, "f32", threads, cache, ov.__version__)
        self.seg = self._compile(export, segment, HINTS[precision], threads, cache, ov.__version__)
        self.text_outputs = [graph_name(output) for output in self.text.outputs]
        # one request per graph, reused: the node segments from one worker thread
        self.text_request, self.seg_request = self.text.create_infer_request(), self.seg.create_infer_request()

    def _compile(self, export: Export, path: Path, hint: str, threads: int, cache: bool, version: str):
        config = {"INFERENCE_PRECISION_HINT": hint, "PERFORMANCE_HINT": "LATENCY"}
        if threads and self.target == "CPU":  # a CPU plugin property
            config["INFERENCE_NUM_THREADS"] = threads
        if cache:
            cache_dir = model_cache_dir(export, path.name, version, self.target)
            if is_read_only(cache_dir):
                log.warning("%s is read-only: OpenVINO compiles %s without a cache", cache_dir, path.name)
            else:
                config["CACHE_DIR"] = str(cache_dir)
        try:
            compiled = self.core.compile_model(self.core.read_model(str(path)), self.target, config)
        except RuntimeError as exc:
            raise LtsError(f"OpenVINO cannot compile {path.name} ({str(exc).splitlines()[0]})") from None
        return compiled

    @staticmethod
    def _run(compiled, request, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Run with the subset of ``feeds`` the graph declares (the export prunes inputs a graph does not read);
        outputs copied out of the request's buffers, which the next run overwrites."""
        request.infer({graph_name(port): feeds[graph_name(port)] for port in compiled.inputs})
        return [request.get_output_tensor(i).data.copy() for i in range(len(compiled.outputs))]

    def encode_text(self, token_ids: np.ndarray, attention_mask: np.ndarray) -> TextArrays:
        outputs = self._run(self.text, self.text_request, {"token_ids": token_ids.astype(np.int64, copy=False),
                                        "attention_mask": attention_mask.astype(np.int64, copy=False)})
        return dict(zip(self.text_outputs, outputs))

    def segment(self, image: np.ndarray, text: TextArrays) -> SegmentOutputs:
        return SegmentOutputs(*self._run(self.seg, self.seg_request, {"image": image, **text}))
