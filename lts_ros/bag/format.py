"""The lts_ros bag layout (docs/bag-format.md): topic names (RealSense-driver defaults, overridable) and the
messages on them, built from numpy with ``rosbags`` types, so no ROS installation is needed to write bags."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import cv2
import numpy as np
from rosbags.typesys import Stores, get_typestore

from lts_ros.errors import LtsError
from lts_ros.geometry import depth_in_mm
from lts_ros.ros.conversions import OPTICAL_FRAME, camera_info_fields

TYPESTORE = get_typestore(Stores.ROS2_KILTED)
IMAGE, CAMERA_INFO = "sensor_msgs/msg/Image", "sensor_msgs/msg/CameraInfo"
STRING, POINT_STAMPED = "std_msgs/msg/String", "geometry_msgs/msg/PointStamped"
COMPRESSED_IMAGE = "sensor_msgs/msg/CompressedImage"
COLOR_TYPES = (IMAGE, COMPRESSED_IMAGE)  # the colour topic: raw, or as image_transport's compressed plugin
COLOR_FORMATS = ("raw", "jpeg", "png")
DEPTH_ENCODINGS = ("16UC1", "32FC1")


@dataclass(frozen=True)
class BagTopics:
    color: str = "/camera/color/image_raw"
    camera_info: str = "/camera/color/camera_info"
    depth: str = "/camera/aligned_depth_to_color/image_raw"
    command: str = "/lts/command"
    gt_mask: str = "/lts/gt/mask"
    gt_centroid: str = "/lts/gt/centroid"
    gt_target_set: str = "/lts/gt/target_set"
    gt_appearance: str = "/lts/gt/appearance"
    gt_episode: str = "/lts/gt/episode"  # tracking episodes: "<kind> <seed>" with each command
    gt_unoccluded: str = "/lts/gt/unoccluded_mask"  # tracking episodes: the object's pixels were nothing in front
    gt_lookalike: str = "/lts/gt/lookalike_mask"  # tracking episodes: its look-alike's pixels, once it is there

    def types(self, color_type: str = IMAGE) -> dict[str, str]:
        """Topic -> message type (``color_type``: Image or CompressedImage on the colour topic)."""
        return {self.color: color_type, self.camera_info: CAMERA_INFO, self.depth: IMAGE, self.command: STRING,
                self.gt_mask: IMAGE, self.gt_centroid: POINT_STAMPED, self.gt_target_set: STRING,
                self.gt_appearance: STRING, self.gt_episode: STRING, self.gt_unoccluded: IMAGE,
                self.gt_lookalike: IMAGE}

    def with_overrides(self, overrides: list[str]) -> "BagTopics":
        """``["color=/cam/rgb", ...]`` applied by role name; LtsError for an unknown role or a bad entry."""
        roles = {f.name for f in fields(self)}
        changes = {}
        for entry in overrides:
            role, sep, topic = entry.partition("=")
            if not sep or role not in roles or not topic.startswith("/"):
                raise LtsError(f"bad --topics entry '{entry}': use ROLE=/absolute/topic with ROLE one of "
                               f"{', '.join(sorted(roles))}")
            changes[role] = topic
        topics = replace(self, **changes)
        if len(set(topics.types())) != len(roles):
            raise LtsError("--topics maps two roles to the same topic")
        return topics


def _header(stamp_ns: int, frame_id: str):
    types = TYPESTORE.types
    sec, nanosec = divmod(int(stamp_ns), 10**9)
    return types["std_msgs/msg/Header"](stamp=types["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec),
                                        frame_id=frame_id)


def image(array: np.ndarray, encoding: str, stamp_ns: int, frame_id: str = OPTICAL_FRAME):
    """An Image from an (H, W[, C]) array already in ``encoding``'s dtype (little endian)."""
    array = np.ascontiguousarray(array)
    return TYPESTORE.types[IMAGE](header=_header(stamp_ns, frame_id), height=array.shape[0], width=array.shape[1],
                                  encoding=encoding, is_bigendian=0, step=array.strides[0],
                                  data=array.reshape(-1).view(np.uint8))


def compressed_image(rgb: np.ndarray, color_format: str, stamp_ns: int, frame_id: str = OPTICAL_FRAME):
    """A CompressedImage as image_transport's compressed plugin makes it: the frame as BGR ``jpeg`` or ``png``."""
    if color_format not in ("jpeg", "png"):
        raise LtsError(f"compressed colour format must be jpeg or png, got '{color_format}'")
    ok, data = cv2.imencode(".jpg" if color_format == "jpeg" else ".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise LtsError(f"OpenCV could not encode a {rgb.shape} frame as {color_format}")
    return TYPESTORE.types[COMPRESSED_IMAGE](header=_header(stamp_ns, frame_id),
                                             format=f"rgb8; {color_format} compressed bgr8", data=data.reshape(-1))


def depth_image(depth_m: np.ndarray, encoding: str, stamp_ns: int, frame_id: str = OPTICAL_FRAME):
    """Depth in metres (0 = none) as 16UC1 millimetres or 32FC1 metres."""
    if encoding not in DEPTH_ENCODINGS:
        raise LtsError(f"depth encoding must be one of {', '.join(DEPTH_ENCODINGS)}, got '{encoding}'")
    array = depth_in_mm(depth_m).astype("<u2", copy=False) if encoding == "16UC1" else depth_m.astype("<f4")
    return image(array, encoding, stamp_ns, frame_id)


def camera_info(K: np.ndarray, width: int, height: int, stamp_ns: int, frame_id: str = OPTICAL_FRAME):
    """A pinhole CameraInfo (no distortion) for the intrinsics ``K``."""
    types = TYPESTORE.types
    return types[CAMERA_INFO](header=_header(stamp_ns, frame_id), **camera_info_fields(K, width, height),
                              binning_x=0, binning_y=0,
                              roi=types["sensor_msgs/msg/RegionOfInterest"](x_offset=0, y_offset=0, height=0,
                                                                             width=0, do_rectify=False))


def string(text: str):
    return TYPESTORE.types[STRING](data=text)


def point(xyz, stamp_ns: int, frame_id: str = OPTICAL_FRAME):
    types = TYPESTORE.types
    x, y, z = (float(v) for v in xyz)
    return types[POINT_STAMPED](header=_header(stamp_ns, frame_id), point=types["geometry_msgs/msg/Point"](x=x, y=y,
                                                                                                          z=z))
