"""What lts_node publishes for a processed frame, in the order that makes its contract: the mask and centroid when
the target is found, then the status, so that a client holding a frame's status has been sent its mask and
centroid; then what is only for people to look at (markers, cleared when the target is lost, and the overlay while
watched), kept off the status's path."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PointStamped
from sensor_msgs.msg import Image
from visualization_msgs.msg import Marker

from lts_ros.ros import conversions
from lts_ros.ros.commands import Command
from lts_ros.ros.markers import clear_markers, target_markers
from lts_ros.ros.qos import output_qos
from lts_ros.ros.status import status_message
from lts_ros.runtime.result import Result


class FrameOutputs:
    """The per-frame publishers of ``node`` (``~/status``, ``~/mask``, ``~/centroid``, ``~/marker``,
    ``~/overlay``); ``publishers`` lists them for the node to destroy."""

    def __init__(self, node):
        self._node = node
        self.status = node.create_publisher(DiagnosticArray, "~/status", output_qos())
        self.mask = node.create_publisher(Image, "~/mask", output_qos())
        self.centroid = node.create_publisher(PointStamped, "~/centroid", output_qos())
        self.marker = node.create_publisher(Marker, "~/marker", output_qos())
        self.overlay = node.create_publisher(Image, "~/overlay", output_qos())
        self.publishers = [self.status, self.mask, self.centroid, self.marker, self.overlay]
        self._marker_shown = False

    def publish(self, header, result: Result, command: Command, no_centroid_reason: str,
                node_ms: Callable[[], float], model_ms: float, reading: str = "") -> None:
        """Mask, centroid, then the status (``node_ms()``: the node's time on the frame so far; ``reading``: how
        the command was read)."""
        if result.found:
            self.mask.publish(conversions.fill_image(Image(header=header), result.mask.view(np.uint8) * 255, "mono8"))
        if result.found and result.centroid_3d is not None:
            point = PointStamped(header=header)
            point.point.x, point.point.y, point.point.z = (float(c) for c in result.centroid_3d)
            self.centroid.publish(point)
        self.status.publish(status_message(header, self._node.get_fully_qualified_name(), command.text,
                                           command.seq, result, no_centroid_reason, node_ms(), model_ms, reading))

    def publish_visuals(self, header, rgb: np.ndarray, result: Result, command: Command,
                        overlay_always: bool) -> None:
        """RViz markers (a sphere and the command at the 3D centroid) and the overlay (while subscribed, or
        ``overlay_always``)."""
        if result.found and result.centroid_3d is not None:
            for marker in target_markers(header, result.centroid_3d, command.text):
                self.marker.publish(marker)
            self._marker_shown = True
        elif self._marker_shown:
            self.marker.publish(clear_markers(header))
            self._marker_shown = False
        if overlay_always or self.overlay.get_subscription_count() > 0:
            from lts_ros.plots import overlay

            self.overlay.publish(conversions.fill_image(Image(header=header), overlay(rgb, result.mask), "rgb8"))
