"""Run the two TensorRT engines (text, segment) of an export, I/O bound by tensor name to torch CUDA buffers, on
a CUDA stream of the backend's own. Engines come only from the manifest-checked cache (``artifacts.engine_cache``):
the constructor takes an export and an engine dir, never an engine file."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch

from lts_ros.artifacts.engine_cache import IncompatibleEngine, open_engines
from lts_ros.artifacts.export_manifest import Export, open_export
from lts_ros.errors import LtsError
from lts_ros.model.outputs import SegmentOutputs
from lts_ros.runtime.backends.base import TextArrays
from lts_ros.runtime.compile.tensorrt_build import build_engine, cuda_device, current_device, import_tensorrt


class _Engine:
    """One deserialized engine, its execution context and a CUDA buffer per I/O tensor."""

    def __init__(self, trt, runtime, path: Path, device: torch.device):
        if not path.is_file():
            raise LtsError(f"TensorRT engine not found: {path}")
        self.path, self.device = path, device
        self.engine = runtime.deserialize_cuda_engine(path.read_bytes())
        if self.engine is None:
            raise IncompatibleEngine(path, trt.__version__)
        self.context = self.engine.create_execution_context()
        self.dtypes: dict[str, np.dtype] = {}
        self.inputs: list[str] = []  # only what the engine declares: ONNX export prunes unread inputs
        self.outputs: list[str] = []
        for i in range(self.engine.num_io_tensors):
            name = self.engine.get_tensor_name(i)
            dtype = self.engine.get_tensor_dtype(name)
            try:
                self.dtypes[name] = np.dtype(trt.nptype(dtype))
            except TypeError:  # bf16, fp8, ... I/O: no numpy type to exchange it as
                raise LtsError(f"{path.name}: I/O tensor '{name}' is {dtype.name}, which numpy cannot hold") from None
            is_input = self.engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT
            (self.inputs if is_input else self.outputs).append(name)
        self.buffers: dict[str, torch.Tensor] = {}

    def _bind(self, name: str, shape: tuple[int, ...]) -> torch.Tensor:
        """The buffer for ``name`` (reallocated only when the shape changes), bound to the context."""
        buffer = self.buffers.get(name)
        if buffer is None or tuple(buffer.shape) != shape:
            dtype = torch.from_numpy(np.empty(0, self.dtypes[name])).dtype
            buffer = self.buffers[name] = torch.empty(shape, dtype=dtype, device=self.device)
            self.context.set_tensor_address(name, buffer.data_ptr())
        return buffer

    def run(self, feeds: dict[str, np.ndarray], stream: torch.cuda.Stream) -> dict[str, np.ndarray]:
        """Copy in, execute and copy out on ``stream`` (the caller has made it current), then wait for it."""
        for name in self.inputs:
            if name not in feeds:
                raise LtsError(f"{self.path.name} needs input '{name}'")
            array = np.ascontiguousarray(feeds[name], dtype=self.dtypes[name])
            declared = tuple(self.engine.get_tensor_shape(name))
            if -1 in declared:
                if not self.context.set_input_shape(name, array.shape):
                    raise LtsError(f"{self.path.name}: input '{name}' shape {array.shape} is outside the "
                                   "engine's optimization profile")
            elif array.shape != declared:
                raise LtsError(f"{self.path.name}: input '{name}' has shape {array.shape}, the engine takes "
                               f"{declared}")
            self._bind(name, array.shape).copy_(torch.from_numpy(array))
        for name in self.outputs:
            self._bind(name, tuple(self.context.get_tensor_shape(name)))
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise LtsError(f"TensorRT failed to run {self.path.name} (see the TensorRT log above)")
        # float32 out, whatever the engine computes in (the Backend contract); .cpu() waits for the stream
        outputs = {name: (self.buffers[name].float() if self.buffers[name].is_floating_point()
                          else self.buffers[name]).cpu().numpy() for name in self.outputs}
        stream.synchronize()
        return outputs


class TensorRTBackend:
    name = "tensorrt"

    def __init__(self, export: Export | str | Path, engine_dir: str | Path, precision: str = "fp32",
                 on_mismatch: str = "rebuild", device: str = "cuda"):
        """Engines for an export (opened, or its dir), only from the cache in ``engine_dir``: reused when their
        manifests match, else built, rebuilt or refused there (``artifacts.engine_cache.load_or_build``). There
        is no way in for an engine file the cache has not vouched for."""
        export = export if isinstance(export, Export) else open_export(export)
        self.manifest = export.manifest  # the export the engines were built from
        graphs = [(export.text_onnx, "fp32"),  # the text graph is always fp32: it runs once per command
                  (export.segment_onnx(precision, gpu=True), precision)]
        open_engines(graphs, engine_dir, current_device(device), functools.partial(self._open, device),
                     functools.partial(build_engine, device=device), on_mismatch, export)

    def _open(self, device: str, text_engine: Path, segment_engine: Path) -> None:
        """Deserialize the two engines the cache returned (IncompatibleEngine when TensorRT cannot)."""
        trt = import_tensorrt()
        self.device = cuda_device(device)
        # TensorRT needs the logger and runtime alive as long as the engines they created.
        self.logger = trt.Logger(trt.Logger.WARNING)
        self.runtime = trt.Runtime(self.logger)
        with torch.cuda.device(self.device):
            # Not torch's legacy default stream, which synchronizes with every other stream on the device.
            self.stream = torch.cuda.Stream(self.device)
            self.text = _Engine(trt, self.runtime, text_engine, self.device)
            self.seg = _Engine(trt, self.runtime, segment_engine, self.device)

    def _run(self, engine: _Engine, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        with torch.cuda.device(self.device), torch.cuda.stream(self.stream):
            return engine.run(feeds, self.stream)

    def encode_text(self, token_ids: np.ndarray, attention_mask: np.ndarray) -> TextArrays:
        return self._run(self.text, {"token_ids": token_ids, "attention_mask": attention_mask})

    def segment(self, image: np.ndarray, text: TextArrays) -> SegmentOutputs:
        outputs = self._run(self.seg, {"image": image, **text})
        return SegmentOutputs(*(outputs[name] for name in SegmentOutputs._fields))
