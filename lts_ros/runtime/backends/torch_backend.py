"""Run an LTS model with torch (CPU or CUDA; optional fp16/bf16 autocast on CUDA)."""
from __future__ import annotations

import contextlib

import numpy as np
import torch

from lts_ros.errors import LtsError
from lts_ros.model.lts import LTS
from lts_ros.model.outputs import SegmentOutputs
from lts_ros.model.text import TextFeatures
from lts_ros.options import backend_device, check_precision
from lts_ros.runtime.backends.base import TextArrays

AUTOCAST = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}  # the torch precisions' dtypes


def torch_device(device: str) -> torch.device:
    """``cpu`` / ``cuda`` / ``cuda:N`` as a torch device; LtsError when it is unknown or absent."""
    parsed = backend_device(device, "torch")
    if parsed.is_gpu and not torch.cuda.is_available():
        raise LtsError(f"device '{device}' requested but torch sees no CUDA GPU")
    return torch.device(parsed.kind, parsed.index)


class TorchBackend:
    name = "torch"

    def __init__(self, model: LTS, device: str = "cpu", precision: str = "fp32"):
        check_precision(precision, self.name)
        self.device = torch_device(device)
        if precision == "fp16" and self.device.type != "cuda":  # CPU fp16 autocast is slow or unsupported
            raise LtsError(f"precision fp16 needs a CUDA device (got '{device}'); use fp32 or bf16 on the CPU")
        self.model = model.to(self.device).eval()
        self.dtype = AUTOCAST[precision]

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array)).to(self.device)

    @staticmethod
    def _numpy(tensor: torch.Tensor) -> np.ndarray:
        return tensor.float().cpu().numpy()

    @torch.inference_mode()
    def encode_text(self, token_ids: np.ndarray, attention_mask: np.ndarray) -> TextArrays:
        with self._autocast():
            text = self.model.encode_text(self._tensor(token_ids), self._tensor(attention_mask))
        return {key: self._numpy(value) for key, value in text._asdict().items()}

    @torch.inference_mode()
    def segment(self, image: np.ndarray, text: TextArrays) -> SegmentOutputs:
        features = TextFeatures(*(self._tensor(text[key]) for key in TextFeatures._fields))
        with self._autocast():
            outputs = self.model.segment(self._tensor(image), features)
        return SegmentOutputs(*(self._numpy(output) for output in outputs))
