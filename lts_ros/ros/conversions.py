"""sensor_msgs Image / CompressedImage / CameraInfo <-> numpy, without cv_bridge (its PyPI port is broken). Works
on any object with the message's fields (rclpy's and rosbags' alike), so it is testable without a ROS graph. Bad
messages raise ``ImageError`` naming what is wrong; nothing here trusts ``step`` or ``data`` length."""
from __future__ import annotations

import sys

import cv2
import numpy as np

from lts_ros.errors import LtsError
from lts_ros.geometry import depth_in_metres
from lts_ros.runtime.camera import CameraModel
from lts_ros.ros.image_header import declared_size

# encoding -> (numpy dtype, channels)
ENCODINGS: dict[str, tuple[str, int]] = {
    "rgb8": ("u1", 3), "bgr8": ("u1", 3), "rgba8": ("u1", 4), "bgra8": ("u1", 4), "mono8": ("u1", 1),
    "mono16": ("u2", 1), "16UC1": ("u2", 1), "32FC1": ("f4", 1),
}
COLOR_ENCODINGS = ("rgb8", "bgr8", "rgba8", "bgra8", "mono8")
DEPTH_ENCODINGS = ("16UC1", "mono16", "32FC1")
MAX_PIXELS = 7680 * 4320  # 8K: larger frames are refused before any copy (an 8K rgb8 frame is ~100 MB)
OPTICAL_FRAME = "camera_color_optical_frame"  # a RealSense driver's colour frame (REP-103 optical axes)


class ImageError(LtsError):
    """A message that cannot be turned into a frame; ``kind`` names the problem for diagnostics counters."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def check_pixels(width: int, height: int, max_pixels: int, what: str = "image") -> None:
    """ImageError "size" for a frame of more than ``max_pixels``."""
    if width * height > max_pixels:
        raise ImageError("size", f"{what} {width}x{height} exceeds the {max_pixels / 1e6:.0f} MP limit")


def image_to_array(msg, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """An Image message as an (H, W) or (H, W, C) array in its own encoding, native byte order, without
    row padding. Validates encoding, size, ``step`` and the data length first."""
    encoding = msg.encoding
    if encoding not in ENCODINGS:
        raise ImageError("encoding", f"unsupported encoding '{encoding}' (supported: {', '.join(ENCODINGS)})")
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise ImageError("size", f"empty image ({width}x{height})")
    check_pixels(width, height, max_pixels)
    kind, channels = ENCODINGS[encoding]
    dtype = np.dtype(kind).newbyteorder(">" if msg.is_bigendian else "<")
    row_bytes = width * channels * dtype.itemsize
    if step < row_bytes:
        raise ImageError("step", f"step {step} < width x channels x bytes = {row_bytes} for {width}x{height} "
                         f"{encoding}")
    data = msg.data
    if len(data) < step * height:
        raise ImageError("data", f"data has {len(data)} bytes, step x height needs {step * height}")
    rows = np.frombuffer(data, np.uint8, count=step * height).reshape(height, step)[:, :row_bytes]
    array = np.ascontiguousarray(rows).view(dtype).reshape((height, width, channels))
    array = array.astype(dtype.newbyteorder("="), copy=False)
    return array[:, :, 0] if channels == 1 else array


def rgb_from_image(msg, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """An (H, W, 3) uint8 RGB frame from a colour or mono8 Image."""
    if msg.encoding not in COLOR_ENCODINGS:
        raise ImageError("encoding", f"unsupported encoding '{msg.encoding}' for colour (use one of "
                         f"{', '.join(COLOR_ENCODINGS)})")
    array = image_to_array(msg, max_pixels)
    if msg.encoding == "mono8":
        return np.repeat(array[:, :, None], 3, axis=2)
    if msg.encoding.startswith("bgr"):
        array = array[:, :, 2::-1]
    return np.ascontiguousarray(array[:, :, :3])


def rgb_from_compressed(msg, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """An (H, W, 3) uint8 RGB frame from a CompressedImage (JPEG, PNG, ... as OpenCV decodes). A PNG or JPEG
    whose header declares more than ``max_pixels`` is refused before decoding."""
    raw = bytes(msg.data)
    if not raw:
        raise ImageError("data", "compressed image with no data")
    declared = declared_size(raw)
    if declared is not None:
        check_pixels(*declared, max_pixels, what="compressed image declared as")
    image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ImageError("data", f"cannot decode compressed image (format '{msg.format}', {len(raw)} bytes)")
    check_pixels(image.shape[1], image.shape[0], max_pixels)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def depth_from_image(msg, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """(H, W) float32 metres from a 16UC1/mono16 (millimetres) or 32FC1 (metres) Image; invalid readings
    (0, NaN, inf, negative) become 0."""
    if msg.encoding not in DEPTH_ENCODINGS:
        raise ImageError("encoding", f"unsupported encoding '{msg.encoding}' for depth (use 16UC1 mm or 32FC1 m)")
    array = image_to_array(msg, max_pixels)
    depth = depth_in_metres(array)  # may be a view of the message's buffer: not written to
    if array.dtype.kind == "u":
        return depth  # millimetres: every reading is finite and >= 0 already
    return np.where(np.isfinite(depth) & (depth >= 0), depth, np.float32(0.0))


def camera_model(info) -> CameraModel:
    """A CameraInfo's numbers (K, distortion, size) for ``runtime.camera``."""
    return CameraModel(np.asarray(info.k, np.float64).reshape(3, 3), info.distortion_model, tuple(info.d),
                       int(info.width), int(info.height))


def stamp_ns(header) -> int:
    """A message header's stamp in nanoseconds (exact, unlike float seconds)."""
    return header.stamp.sec * 10**9 + header.stamp.nanosec


def fill_image(msg, array: np.ndarray, encoding: str):
    """Fill an Image message (header left to the caller) from an (H, W) or (H, W, C) array of ``encoding``."""
    array = np.ascontiguousarray(array)
    msg.height, msg.width = int(array.shape[0]), int(array.shape[1])
    order = array.dtype.byteorder
    msg.encoding, msg.is_bigendian = encoding, int(order == ">" or (order == "=" and sys.byteorder == "big"))
    msg.step = int(array.strides[0])
    msg.data = array.tobytes()
    return msg


def camera_info_fields(K: np.ndarray, width: int, height: int, D=None) -> dict:
    """A CameraInfo's fields for a pinhole camera ``K`` (3x3) of ``width`` x ``height`` with plumb_bob
    coefficients ``D`` (default: none): P = [K | 0], no rectification. Splat them into an rclpy or rosbags
    CameraInfo."""
    K = np.asarray(K, np.float64).reshape(3, 3)
    return {"width": int(width), "height": int(height), "distortion_model": "plumb_bob",
            "d": np.zeros(5) if D is None else np.asarray(D, np.float64), "k": K.reshape(-1),
            "r": np.eye(3).reshape(-1), "p": np.hstack([K, np.zeros((3, 1))]).reshape(-1)}
