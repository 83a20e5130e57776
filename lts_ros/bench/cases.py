"""What a benchmark run measures: the valid backend x precision x input size x config cases."""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from lts_ros.artifacts.export_manifest import variant_for
from lts_ros.config import available_configs, load_config, validate
from lts_ros.errors import LtsError
from lts_ros.options import BACKEND_PRECISIONS, BACKENDS, PRECISIONS, parse_device
from lts_ros.runtime.segmenter import tensorrt_problem

CUDA_ONLY = {("torch", "fp16")}  # run on a GPU only (torch fp16 autocast: see TorchBackend)


@dataclass(frozen=True)
class BenchCase:
    config: str
    size: int  # square input size, pixels
    backend: str
    precision: str

    @property
    def variant(self) -> str | None:
        """The reduced-precision ONNX segment graph this case runs (``export.precision``); None for torch, fp32
        and bf16 (torch autocast, or OpenVINO's hint on the fp32 graph)."""
        if self.backend == "torch" or self.precision in ("fp32", "bf16"):
            return None
        return variant_for(self.precision, gpu=self.backend == "tensorrt")

    @property
    def label(self) -> str:
        return f"{self.config} {self.size} {self.backend} {self.precision}"


def runs_on(backend: str, precision: str, device: str) -> bool:
    """Whether ``backend`` can run ``precision`` on ``device``."""
    if precision not in BACKEND_PRECISIONS[backend]:
        return False
    if backend == "tensorrt" and tensorrt_problem(device) is not None:
        return False
    return parse_device(device).is_gpu or (backend, precision) not in CUDA_ONLY


def check_config_size(config: str, size: int) -> None:
    """LtsError unless ``config`` is a shipped config that accepts input ``size`` (the config's own rule)."""
    if config not in available_configs():
        raise LtsError(f"unknown config '{config}' (use {', '.join(available_configs())})")
    cfg = load_config(config)
    validate(dataclasses.replace(cfg, input_size=size), f"{config} at --sizes {size}")


def plan_cases(configs: Sequence[str], sizes: Sequence[int], backends: Sequence[str], precisions: Sequence[str],
               device: str = "cpu") -> list[BenchCase]:
    """Every valid combination, in a stable order; combinations a backend cannot run on ``device`` are left out.
    LtsError for an unknown name or size, or when nothing is left to run."""
    for name, values, known in (("backend", backends, BACKENDS), ("precision", precisions, PRECISIONS)):
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise LtsError(f"unknown {name}(s) {', '.join(unknown)} (use {', '.join(known)})")
    for config in dict.fromkeys(configs):
        for size in dict.fromkeys(sizes):
            check_config_size(config, size)
    if "tensorrt" in backends and tensorrt_problem(device) is not None:
        raise LtsError(f"tensorrt needs TensorRT and a CUDA GPU, not '{device}' "
                       "(GPU timings: python -m lts_ros.bench.gpu)")
    cases = [BenchCase(config, size, backend, precision)
             for config in dict.fromkeys(configs) for size in dict.fromkeys(sizes)
             for backend in dict.fromkeys(backends) for precision in dict.fromkeys(precisions)
             if runs_on(backend, precision, device)]
    if not cases:
        runnable = "; ".join(f"{b}: {', '.join(p for p in PRECISIONS if runs_on(b, p, device))}"
                             for b in dict.fromkeys(backends))
        raise LtsError(f"nothing to run: no backend runs precision {', '.join(precisions)} on '{device}' "
                       f"({runnable})")
    return cases
