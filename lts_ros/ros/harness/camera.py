"""A camera driver's side of the graph: colour, depth and camera_info publishers with the driver's QoS, and one
frame's messages built from numpy (``frame_messages``), published under one header (``CameraPublisher.publish``)."""
from __future__ import annotations

import numpy as np
from rclpy.node import Node
from rclpy.qos import QoSProfile
from sensor_msgs.msg import CameraInfo, Image

from lts_ros.ros.conversions import OPTICAL_FRAME, camera_info_fields, fill_image


def frame_messages(rgb: np.ndarray | Image, depth_mm: np.ndarray | Image | None = None, K: np.ndarray | None = None,
                   D: list[float] | None = None) -> tuple[Image, Image | None, CameraInfo | None]:
    """(colour, depth, camera_info) of one frame: an rgb8 array (or an Image, as is), depth as uint16 millimetres
    (16UC1, or an Image), and camera_info for ``K`` with plumb_bob ``D`` at the colour frame's size. Headers are
    ``CameraPublisher.publish``'s to set."""
    image = rgb if isinstance(rgb, Image) else fill_image(Image(), rgb, "rgb8")
    depth = depth_mm if depth_mm is None or isinstance(depth_mm, Image) else fill_image(Image(), depth_mm, "16UC1")
    info = None if K is None else CameraInfo(**camera_info_fields(K, image.width, image.height, D))
    return image, depth, info


class CameraPublisher:
    """``image``, ``depth`` and ``camera_info`` publishers on ``node`` with a driver's ``qos``."""

    def __init__(self, node: Node, qos: QoSProfile | int, image: str = "image", depth: str = "depth",
                 camera_info: str = "camera_info"):
        self.node = node
        self.pub_image = node.create_publisher(Image, image, qos)
        self.pub_depth = node.create_publisher(Image, depth, qos)
        self.pub_info = node.create_publisher(CameraInfo, camera_info, qos)
        self._last_stamp = 0

    def publish(self, image: Image, depth: Image | None = None, info: CameraInfo | None = None,
                stamp_ns: int | None = None, frame_id: str = OPTICAL_FRAME, depth_frame_id: str | None = None) -> int:
        """One frame: camera_info, depth (in ``depth_frame_id`` if given), then colour, their headers set to
        ``frame_id`` and ``stamp_ns`` (default: now on the node's clock, after the previous frame's even within
        one clock tick); the stamp in ns."""
        if stamp_ns is None:
            stamp_ns = max(self.node.get_clock().now().nanoseconds, self._last_stamp + 1)
        self._last_stamp = stamp_ns
        sec, nanosec = divmod(stamp_ns, 10**9)
        for publisher, msg, frame in ((self.pub_info, info, frame_id),
                                      (self.pub_depth, depth, depth_frame_id or frame_id),
                                      (self.pub_image, image, frame_id)):
            if msg is not None:
                msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id = sec, nanosec, frame
                publisher.publish(msg)
        return stamp_ns
