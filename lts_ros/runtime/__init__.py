"""Inference runtime: plain Python, no ROS. ``Segmenter`` is the one class users touch.

``Segmenter`` is imported on first use: light consumers of the runtime (camera models, results, the grasp
client) do not pay for torch and the model stack."""
from lts_ros.runtime.result import Result

__all__ = ["Result", "Segmenter"]


def __getattr__(name: str):
    if name == "Segmenter":
        from lts_ros.runtime.segmenter import Segmenter
        return Segmenter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
