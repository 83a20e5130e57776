"""Inference runtime: plain Python, no ROS. ``Segmenter`` is the one class users touch."""
from lts_ros.runtime.result import Result
from lts_ros.runtime.segmenter import Segmenter

__all__ = ["Result", "Segmenter"]
