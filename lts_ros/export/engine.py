"""TensorRT engines built from an ONNX export, cached in an engine dir (default ``$ROS_HOME/lts_ros/engines``,
see ``lts_ros.cache_root``) with a manifest that says what each engine is tied to (GPU, compute capability,
exact TensorRT version, ONNX hash, precision).

TensorRT has no preflight check for a serialized engine, so the manifest is the cache key: a stale engine is
rebuilt or refused, never used. The build itself needs TensorRT and a GPU; everything else is plain Python."""
from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, TypeVar

import onnx
from google.protobuf.message import DecodeError

from lts_ros import __version__
from lts_ros.cache_root import ENGINES, writable_or_redirected
from lts_ros.errors import LtsError
from lts_ros.export.manifest import PRECISIONS, read_manifest, sha256_file

if TYPE_CHECKING:
    import torch

FORMAT = "lts_ros-trt/1"
ON_MISMATCH = ("rebuild", "refuse")
DEFAULT_WORKSPACE_MB = 1024
QDQ_OPS = {"QuantizeLinear", "DequantizeLinear"}
log = logging.getLogger(__name__)
T = TypeVar("T")


class IncompatibleEngine(LtsError):
    """TensorRT could not deserialize an engine (other TensorRT version, GPU or OS, or a damaged file)."""

    def __init__(self, path: Path, tensorrt_version: str):
        super().__init__(f"{path} cannot be deserialized by TensorRT {tensorrt_version}: built by another "
                         "TensorRT version or for another GPU/OS, or damaged (rebuild it)")
        self.path = path


@dataclass(frozen=True)
class DeviceInfo:
    """What a serialized engine is tied to."""

    gpu_name: str
    compute_capability: str  # "major.minor", e.g. "8.7" (Jetson Orin)
    tensorrt_version: str  # exact, e.g. "10.3.0.30"


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: list[int]  # -1 = dynamic
    dtype: str  # TensorRT DataType name: FLOAT, HALF, INT64, ...


def import_tensorrt() -> ModuleType:
    """The ``tensorrt`` module, or an LtsError saying how to get it."""
    try:
        import tensorrt
    except ImportError as exc:
        raise LtsError(f"TensorRT is not installed ({exc}): on a Jetson it comes with JetPack (use a venv with "
                       "--system-site-packages), on a desktop GPU install NVIDIA's tensorrt wheel") from None
    return tensorrt


def cuda_device(device: str) -> torch.device:
    """Parse ``cuda`` / ``cuda:N``; LtsError for the CPU or when torch sees no GPU."""
    from lts_ros.runtime.backends.torch_backend import torch_device

    parsed = torch_device(device)
    if parsed.type != "cuda":
        raise LtsError(f"TensorRT runs on a CUDA device (cuda or cuda:N), got '{device}'")
    return parsed


def current_device(device: str = "cuda") -> DeviceInfo:
    """This machine's GPU and TensorRT, as the manifest records them."""
    import torch

    trt = import_tensorrt()
    cuda = cuda_device(device)
    major, minor = torch.cuda.get_device_capability(cuda)
    return DeviceInfo(torch.cuda.get_device_name(cuda), f"{major}.{minor}", trt.__version__)


def slugify(text: str) -> str:
    """``NVIDIA Jetson AGX Orin`` -> ``nvidia-jetson-agx-orin``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def graph_name(onnx_path: Path) -> str:
    """``segment`` for ``segment.onnx`` and its precision variants (``segment.int8-s8s8.onnx``)."""
    return onnx_path.name.split(".")[0]


def engine_name(model_name: str, input_size: int, graph: str, precision: str, device: DeviceInfo) -> str:
    """``<model>-<size>-<graph>-<precision>-<gpu>-trt<version>.engine``; ``graph`` is the ONNX stem
    (``text`` / ``segment``): an export has two graphs, so two engines."""
    if precision not in PRECISIONS:
        raise LtsError(f"unknown precision '{precision}' (use {', '.join(PRECISIONS)})")
    return (f"{model_name}-{input_size}-{graph}-{precision}-{slugify(device.gpu_name)}"
            f"-trt{device.tensorrt_version}.engine")


def manifest_path(engine_path: Path) -> Path:
    return engine_path.with_suffix(".json")


def _write_atomic(path: Path, data: bytes | memoryview) -> None:
    """Temp file in the same dir, fsync, rename: readers see the old file or the whole new one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise LtsError(f"cannot write {path} ({exc.strerror or exc})") from None


def write_manifest(engine_path: Path, device: DeviceInfo, onnx_sha256: str, precision: str,
                   inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], build_seconds: float) -> Path:
    """Write ``<engine>.json`` beside the engine (after it: the manifest marks a complete engine)."""
    manifest = {"format": FORMAT, "engine": engine_path.name, "onnx_sha256": onnx_sha256, "precision": precision,
                **asdict(device), "inputs": [asdict(s) for s in inputs], "outputs": [asdict(s) for s in outputs],
                "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "build_seconds": round(build_seconds, 1), "lts_ros_version": __version__}
    path = manifest_path(engine_path)
    _write_atomic(path, (json.dumps(manifest, indent=1) + "\n").encode())
    return path


def check_manifest(manifest: dict, device: DeviceInfo, onnx_sha256: str, precision: str) -> list[str]:
    """Why an engine with this manifest must not run here (empty: it is compatible)."""
    expected = {"manifest format": ("format", FORMAT), "GPU": ("gpu_name", device.gpu_name),
                "compute capability": ("compute_capability", device.compute_capability),
                "TensorRT version": ("tensorrt_version", device.tensorrt_version),
                "ONNX sha256": ("onnx_sha256", onnx_sha256), "precision": ("precision", precision)}
    return [f"{label}: engine has {manifest.get(key)!r}, needed {value!r}"
            for label, (key, value) in expected.items() if manifest.get(key) != value]


def stale_reasons(engine_path: Path, device: DeviceInfo, onnx_sha256: str, precision: str) -> list[str]:
    """``check_manifest`` for an existing engine file; a missing or unreadable manifest is a reason."""
    path = manifest_path(engine_path)
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        return [f"no manifest {path.name}"]
    except (OSError, ValueError) as exc:
        return [f"unreadable manifest {path.name} ({exc})"]
    if not isinstance(manifest, dict):
        return [f"unreadable manifest {path.name} (not a JSON object)"]
    return check_manifest(manifest, device, onnx_sha256, precision)


def discard_engine(engine_path: Path) -> None:
    """Remove an engine and its manifest (manifest first: an engine without one is never trusted)."""
    manifest_path(engine_path).unlink(missing_ok=True)
    engine_path.unlink(missing_ok=True)


def onnx_precision(onnx_path: Path) -> str:
    """What an ONNX file computes in: ``int8`` (Q/DQ nodes), ``fp16`` (float16 weights) or ``fp32``."""
    try:
        model = onnx.load(str(onnx_path), load_external_data=False)
    except (OSError, DecodeError) as exc:
        raise LtsError(f"{onnx_path} is not a readable ONNX model ({exc})") from None
    if any(node.op_type in QDQ_OPS for node in model.graph.node):
        return "int8"
    if any(init.data_type == onnx.TensorProto.FLOAT16 for init in model.graph.initializer):
        return "fp16"
    return "fp32"


def check_precision(onnx_path: Path, precision: str, fp16_flag: bool) -> None:
    """The engine's precision is the ONNX file's; ``fp16_flag`` (TensorRT 10 only) is the one exception:
    an fp32 ONNX built weakly typed with the FP16 builder flag."""
    found = onnx_precision(onnx_path)
    if fp16_flag and (precision, found) != ("fp16", "fp32"):
        raise LtsError(f"the FP16 builder flag turns an fp32 ONNX into an fp16 engine; {onnx_path.name} is "
                       f"{found} and the requested precision is {precision}")
    if not fp16_flag and found != precision:
        raise LtsError(f"{onnx_path.name} is an {found} ONNX, not {precision}: the precision lives in the ONNX "
                       f"file (export an {precision} ONNX)")


def static_shape(name: str, shape: tuple[int, ...], input_size: int) -> tuple[int, ...]:
    """The one shape a dynamic input is built for: lts_ros runs batch 1 at the export's input size, so -1 is
    1 in dim 0 and ``input_size`` in the last two dims of a 4-D (N, C, H, W) input."""
    pinned = list(shape)
    for dim, size in enumerate(shape):
        if size != -1:
            continue
        if dim == 0:
            pinned[dim] = 1
        elif len(shape) == 4 and dim >= 2:
            pinned[dim] = input_size
        else:
            raise LtsError(f"ONNX input '{name}' {shape} has a dynamic dim {dim}: export it with a fixed size")
    return tuple(pinned)


def _tensor_spec(tensor) -> TensorSpec:
    return TensorSpec(tensor.name, list(tensor.shape), tensor.dtype.name)


def build_engine(onnx_path: str | Path, engine_dir: str | Path, precision: str, *, model_name: str,
                 input_size: int, device: str = "cuda", workspace_mb: int = DEFAULT_WORKSPACE_MB,
                 fp16_flag: bool = False) -> Path:
    """Build ``onnx_path`` into ``engine_dir/<engine_name>`` plus its manifest; returns the engine path.
    The network is strongly typed (precision from the ONNX); ``fp16_flag`` opts into TensorRT 10's FP16
    builder flag on a weakly typed network instead (removed in TensorRT 11)."""
    import torch

    onnx_path, engine_dir = Path(onnx_path), Path(engine_dir)
    if not onnx_path.is_file():
        raise LtsError(f"ONNX file not found: {onnx_path}")
    check_precision(onnx_path, precision, fp16_flag)
    trt = import_tensorrt()
    info = current_device(device)
    path = engine_dir / engine_name(model_name, input_size, graph_name(onnx_path), precision, info)
    if fp16_flag and not hasattr(trt.BuilderFlag, "FP16"):
        raise LtsError(f"TensorRT {trt.__version__} has no FP16 builder flag: export an fp16 ONNX instead")
    onnx_sha256 = sha256_file(onnx_path)
    start = time.perf_counter()
    logger = trt.Logger(trt.Logger.WARNING)
    with torch.cuda.device(cuda_device(device)):
        builder = trt.Builder(logger)
        flags = trt.NetworkDefinitionCreationFlag
        strongly_typed = hasattr(flags, "STRONGLY_TYPED") and not fp16_flag
        network = builder.create_network(1 << int(flags.STRONGLY_TYPED) if strongly_typed else 0)
        parser = trt.OnnxParser(network, logger)
        if not parser.parse_from_file(str(onnx_path)):
            errors = "; ".join(parser.get_error(i).desc() for i in range(parser.num_errors))
            raise LtsError(f"TensorRT cannot parse {onnx_path}: {errors or 'no parser error recorded'}")
        config = builder.create_builder_config()
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mb << 20)
        inputs = [network.get_input(i) for i in range(network.num_inputs)]
        dynamic = [t for t in inputs if -1 in tuple(t.shape)]
        if dynamic:
            profile = builder.create_optimization_profile()
            for tensor in dynamic:
                shape = static_shape(tensor.name, tuple(tensor.shape), input_size)
                profile.set_shape(tensor.name, shape, shape, shape)
            config.add_optimization_profile(profile)
        if fp16_flag:
            config.set_flag(trt.BuilderFlag.FP16)
        plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise LtsError(f"TensorRT could not build an engine from {onnx_path} (see the TensorRT log above)")
    discard_engine(path)
    _write_atomic(path, plan)
    write_manifest(path, info, onnx_sha256, precision, [_tensor_spec(t) for t in inputs],
                   [_tensor_spec(network.get_output(i)) for i in range(network.num_outputs)],
                   time.perf_counter() - start)
    log.info("built %s in %.0f s", path, time.perf_counter() - start)
    return path


def load_or_build(onnx_path: str | Path, engine_dir: str | Path, precision: str, device: DeviceInfo,
                  on_mismatch: str = "rebuild", builder: Callable[..., Path] = build_engine) -> Path:
    """The engine for ``onnx_path`` (a graph of an lts_ros export, checked against its ``model.json``),
    read only from ``engine_dir``: reused when its manifest matches ``device``, the ONNX hash and
    ``precision``; built when missing; a stale one (mismatch, no or unreadable manifest) is rebuilt
    (``rebuild``, reasons logged) or refused with an LtsError listing the reasons (``refuse``). When
    ``engine_dir`` is read-only, the build (and the reuse of an earlier one) happens in
    ``cache_root.redirected(engine_dir, "engines")`` instead, with a warning."""
    if on_mismatch not in ON_MISMATCH:
        raise LtsError(f"unknown on_mismatch '{on_mismatch}' (use {', '.join(ON_MISMATCH)})")
    onnx_path, engine_dir = Path(onnx_path), Path(engine_dir)
    export = read_manifest(onnx_path.parent)
    if onnx_path.name not in export.files:
        raise LtsError(f"{onnx_path.name} is not listed in {onnx_path.parent}/model.json")
    onnx_sha256 = export.files[onnx_path.name]
    path = engine_dir / engine_name(export.config_name, export.input_size, graph_name(onnx_path), precision, device)
    if path.is_file():
        reasons = stale_reasons(path, device, onnx_sha256, precision)
        if not reasons:
            return path
        if on_mismatch == "refuse":
            raise LtsError(f"{path} is stale and on_mismatch is 'refuse': {'; '.join(reasons)}")
        log.warning("rebuilding %s: %s", path, "; ".join(reasons))
    build_dir = writable_or_redirected(engine_dir, ENGINES)
    if build_dir != engine_dir:
        return load_or_build(onnx_path, build_dir, precision, device, on_mismatch, builder)
    built = builder(onnx_path, engine_dir, precision, model_name=export.config_name, input_size=export.input_size)
    reasons = [f"the builder wrote {built}"] if Path(built) != path else []
    reasons += stale_reasons(path, device, onnx_sha256, precision) if path.is_file() else ["no engine written"]
    if reasons:
        raise LtsError(f"the engine built for {onnx_path.name} does not match {path.name}: {'; '.join(reasons)}")
    return path


def open_engines(graphs: Sequence[tuple[Path, str]], engine_dir: str | Path, device: DeviceInfo,
                 open_: Callable[..., T], on_mismatch: str = "rebuild",
                 builder: Callable[..., Path] = build_engine) -> T:
    """``open_(*engine_paths)`` after ``load_or_build`` of each (ONNX path, precision) graph. An engine TensorRT
    cannot deserialize (``IncompatibleEngine``) despite its manifest is discarded and rebuilt once, or refused;
    one in a read-only dir is left there, and all engines come from the cache root's copy of that dir instead."""
    def open_all(engine_dir: str | Path) -> T:
        return open_(*(load_or_build(path, engine_dir, precision, device, on_mismatch, builder)
                       for path, precision in graphs))

    try:
        return open_all(engine_dir)
    except IncompatibleEngine as exc:
        if on_mismatch == "refuse":
            raise
        log.warning("%s", exc)
        build_dir = writable_or_redirected(exc.path.parent, ENGINES)
        if build_dir == exc.path.parent:
            discard_engine(exc.path)
        else:
            engine_dir = build_dir
    return open_all(engine_dir)
