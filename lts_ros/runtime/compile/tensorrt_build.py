"""Build a TensorRT engine from one graph of an ONNX export, on the GPU it will run on (an engine is tied to its
GPU and TensorRT version, so a robot builds its own on first use). Written against the TensorRT 10/11 API; the
cache around it (names, manifests, reuse) is ``artifacts.engine_cache``."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import onnx
from google.protobuf.message import DecodeError

from lts_ros.artifacts.engine_cache import (DeviceInfo, TensorSpec, discard_engine, engine_name, graph_name,
                                            write_atomic, write_manifest)
from lts_ros.artifacts.export_manifest import sha256_file
from lts_ros.errors import LtsError
from lts_ros.options import parse_device

if TYPE_CHECKING:
    import torch

DEFAULT_WORKSPACE_MB = 1024
QDQ_OPS = {"QuantizeLinear", "DequantizeLinear"}
log = logging.getLogger(__name__)


def import_tensorrt() -> ModuleType:
    """The ``tensorrt`` module, or an LtsError saying how to get it."""
    try:
        import tensorrt
    except ImportError as exc:
        raise LtsError(f"TensorRT is not installed ({exc}): on a Jetson it comes with JetPack (use a venv with "
                       "--system-site-packages), on a desktop GPU install NVIDIA's tensorrt wheel") from None
    return tensorrt


def cuda_device(device: str) -> torch.device:
    """``cuda`` / ``cuda:N`` as a torch device; LtsError for the CPU or when torch sees no GPU."""
    from lts_ros.runtime.backends.torch_backend import torch_device

    if not parse_device(device).is_gpu:
        raise LtsError(f"TensorRT runs on a CUDA device (cuda or cuda:N), got '{device}'")
    return torch_device(device)


def current_device(device: str = "cuda") -> DeviceInfo:
    """This machine's GPU and TensorRT, as the engine manifest records them."""
    import torch

    trt = import_tensorrt()
    cuda = cuda_device(device)
    major, minor = torch.cuda.get_device_capability(cuda)
    return DeviceInfo(torch.cuda.get_device_name(cuda), f"{major}.{minor}", trt.__version__)


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


def check_precision(onnx_path: Path, precision: str) -> None:
    """The engine's precision is the ONNX file's: the network is built strongly typed, so an fp16 engine comes
    from an fp16 ONNX (``lts export onnx --precision fp16``), never from a builder flag on an fp32 one."""
    found = onnx_precision(onnx_path)
    if found != precision:
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


def _network_flags(trt: ModuleType) -> int:
    """Strongly typed (precision from the ONNX): TensorRT 10's flag; TensorRT 11 has only strong typing."""
    flags = trt.NetworkDefinitionCreationFlag
    return 1 << int(flags.STRONGLY_TYPED) if hasattr(flags, "STRONGLY_TYPED") else 0


def build_engine(onnx_path: str | Path, engine_dir: str | Path, precision: str, *, model_name: str,
                 input_size: int, device: str = "cuda", workspace_mb: int = DEFAULT_WORKSPACE_MB) -> Path:
    """Build ``onnx_path`` into ``engine_dir/<engine_name>`` plus its manifest; returns the engine path
    (an ``engine_cache.Builder``)."""
    import torch

    onnx_path, engine_dir = Path(onnx_path), Path(engine_dir)
    if not onnx_path.is_file():
        raise LtsError(f"ONNX file not found: {onnx_path}")
    check_precision(onnx_path, precision)
    trt = import_tensorrt()
    info = current_device(device)
    path = engine_dir / engine_name(model_name, input_size, graph_name(onnx_path), precision, info)
    onnx_sha256 = sha256_file(onnx_path)
    start = time.perf_counter()
    logger = trt.Logger(trt.Logger.WARNING)
    with torch.cuda.device(cuda_device(device)):
        builder = trt.Builder(logger)
        network = builder.create_network(_network_flags(trt))
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
        plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise LtsError(f"TensorRT could not build an engine from {onnx_path} (see the TensorRT log above)")
    discard_engine(path)
    write_atomic(path, plan)
    write_manifest(path, info, onnx_sha256, precision, [_tensor_spec(t) for t in inputs],
                   [_tensor_spec(network.get_output(i)) for i in range(network.num_outputs)],
                   time.perf_counter() - start)
    log.info("built %s in %.0f s", path, time.perf_counter() - start)
    return path
