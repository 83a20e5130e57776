"""Inference backends behind the Segmenter: torch (any checkpoint) and ONNX Runtime (an export dir)."""
from lts_ros.runtime.backends.base import Backend, TextArrays

__all__ = ["Backend", "TextArrays"]
