"""The words every layer accepts for how to run the model: backends, precisions, devices. Plain Python (no torch,
no ROS), so the node's parameter table, the CLI and the benchmarks validate against the same lists without
loading the model stack."""
from __future__ import annotations

import re
from dataclasses import dataclass

from lts_ros.errors import LtsError

BACKENDS = ("torch", "onnxruntime", "openvino", "tensorrt")
BACKEND_CHOICES = ("auto", *BACKENDS)  # what a user may ask for: auto picks one of BACKENDS
AUTO = "auto = tensorrt on a CUDA GPU, else openvino on an x86 CPU, else onnxruntime, else torch"  # for --help
CPU_BACKENDS = ("torch", "onnxruntime", "openvino")  # TensorRT needs a CUDA GPU
# What each backend runs: torch autocasts (bf16, fp16 on CUDA); the ONNX backends run the export's graph variant
# of that precision (export.precision), so their precisions are the export's.
GRAPH_PRECISIONS = ("fp32", "fp16", "int8")
VARIANT_PRECISIONS = GRAPH_PRECISIONS[1:]  # beside the fp32 graphs of an export
BACKEND_PRECISIONS = {"torch": ("fp32", "bf16", "fp16"), "onnxruntime": GRAPH_PRECISIONS,
                      "openvino": ("fp32", "bf16", "int8"),  # bf16: OpenVINO's hint on the fp32 graph
                      "tensorrt": GRAPH_PRECISIONS}
PRECISIONS = ("fp32", "bf16", "fp16", "int8")  # any backend's
PRESENCE_THRESHOLD = 0.5  # the default presence probability at which the named object counts as there
DEVICE_PATTERN = re.compile(r"cpu|cuda(?::(\d+))?|openvino:((?:GPU|NPU)(?:\.\d+)?)")


def check_choice(what: str, value: str, choices: tuple[str, ...]) -> str:
    """``value`` when it is one of ``choices``, else LtsError listing them."""
    if value not in choices:
        raise LtsError(f"unknown {what} '{value}' (use {', '.join(choices)})")
    return value


def check_precision(precision: str, backend: str | None = None) -> str:
    """``precision`` when ``backend`` (default: any) runs it, else LtsError listing what it runs."""
    return check_choice("precision", precision, BACKEND_PRECISIONS[backend] if backend else PRECISIONS)


@dataclass(frozen=True)
class Device:
    """``cpu``, ``cuda`` or ``cuda:N``, or one of OpenVINO's own devices (``openvino:GPU``, ``openvino:GPU.1``,
    ``openvino:NPU``: an Intel GPU or NPU, for the openvino backend), parsed once; whether the machine has it is
    the backend's question."""

    kind: str  # "cpu", "cuda" or "openvino"
    index: int | None = None  # the CUDA device; None = the current one
    openvino_name: str | None = None  # OpenVINO's device name (GPU, GPU.1, NPU) when kind is "openvino"

    @property
    def is_gpu(self) -> bool:
        """A CUDA GPU (OpenVINO's GPU is not one)."""
        return self.kind == "cuda"

    def __str__(self) -> str:
        if self.kind == "openvino":
            return f"openvino:{self.openvino_name}"
        return self.kind if self.index is None else f"{self.kind}:{self.index}"


def device_problem(text: str) -> str | None:
    """Why ``text`` names no device, or None."""
    if not isinstance(text, str) or not DEVICE_PATTERN.fullmatch(text):
        return f"unknown device '{text}' (use cpu, cuda or cuda:N; with the openvino backend also openvino:GPU, " \
               "openvino:GPU.N or openvino:NPU)"
    return None


def parse_device(text: str) -> Device:
    """``cpu`` / ``cuda`` / ``cuda:N`` / ``openvino:GPU[.N]`` / ``openvino:NPU`` as a Device; LtsError for anything
    else."""
    if (reason := device_problem(text)) is not None:
        raise LtsError(reason)
    match = DEVICE_PATTERN.fullmatch(text)
    if match.group(2) is not None:
        return Device("openvino", openvino_name=match.group(2))
    index = match.group(1)
    return Device("cpu" if text == "cpu" else "cuda", None if index is None else int(index))


def backend_device(text: str, backend: str) -> Device:
    """``text`` parsed for ``backend``: OpenVINO's own devices only for the openvino backend (LtsError else)."""
    device = parse_device(text)
    if device.kind == "openvino" and backend != "openvino":
        raise LtsError(f"device '{text}' is an OpenVINO device: only the openvino backend runs on it")
    return device
