"""Run the two TensorRT engines (text, segment) of an export, I/O bound by tensor name to torch CUDA buffers."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch

from lts_ros.errors import LtsError
from lts_ros.export.engine import (IncompatibleEngine, build_engine, cuda_device, current_device, import_tensorrt,
                                   open_engines)
from lts_ros.export.manifest import TEXT_ONNX, Manifest, read_manifest, segment_onnx
from lts_ros.runtime.backends.base import TextArrays


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

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
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
        stream = torch.cuda.current_stream(self.device)
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise LtsError(f"TensorRT failed to run {self.path.name} (see the TensorRT log above)")
        stream.synchronize()
        # float32 out, whatever the engine computes in (the Backend contract)
        return {name: (self.buffers[name].float() if self.buffers[name].is_floating_point()
                       else self.buffers[name]).cpu().numpy() for name in self.outputs}


class TensorRTBackend:
    name = "tensorrt"

    def __init__(self, text_engine: str | Path, segment_engine: str | Path, device: str = "cuda",
                 manifest: Manifest | None = None):
        trt = import_tensorrt()
        self.manifest = manifest  # the export the engines were built from, when known
        self.device = cuda_device(device)
        # TensorRT needs the logger and runtime alive as long as the engines they created.
        self.logger = trt.Logger(trt.Logger.WARNING)
        self.runtime = trt.Runtime(self.logger)
        with torch.cuda.device(self.device):
            self.text = _Engine(trt, self.runtime, Path(text_engine), self.device)
            self.seg = _Engine(trt, self.runtime, Path(segment_engine), self.device)

    @classmethod
    def from_export(cls, export_dir: str | Path, engine_dir: str | Path, precision: str = "fp32",
                    on_mismatch: str = "rebuild", device: str = "cuda") -> "TensorRTBackend":
        """Engines for an ONNX export dir, from the cache in ``engine_dir`` (built, rebuilt or refused
        there: see ``export.engine.load_or_build``)."""
        export_dir = Path(export_dir)
        manifest = read_manifest(export_dir)
        graphs = [(export_dir / TEXT_ONNX, "fp32"),  # the text graph is always fp32: it runs once per command
                  (segment_onnx(export_dir, manifest, precision, gpu=True), precision)]
        return open_engines(graphs, engine_dir, current_device(device),
                            lambda text, seg: cls(text, seg, device, manifest), on_mismatch,
                            functools.partial(build_engine, device=device))

    def _run(self, engine: _Engine, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        with torch.cuda.device(self.device):
            return engine.run(feeds)

    def encode_text(self, token_ids: np.ndarray, attention_mask: np.ndarray) -> TextArrays:
        return self._run(self.text, {"token_ids": token_ids, "attention_mask": attention_mask})

    def segment(self, image: np.ndarray, text: TextArrays) -> tuple[np.ndarray, np.ndarray]:
        outputs = self._run(self.seg, {"image": image, **text})
        return outputs["mask_logits"], outputs["prior_logits"]
