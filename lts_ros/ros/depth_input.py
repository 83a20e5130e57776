"""What a frame gets for 3D: its registered depth (paired by stamp) and the camera's intrinsics, or the reason it
goes without. The node feeds depth and camera_info messages in from the executor and asks per frame from its
worker; problems are reported through the node's counted, throttled ``problem``."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sensor_msgs.msg import CameraInfo, Image

from lts_ros.ros import conversions
from lts_ros.ros.sync import StampSync
from lts_ros.runtime.camera import CameraModel, aligned_depth, intrinsics_for, registration_problem

DEPTH_WAIT_S = 0.2  # how long a frame waits for its depth (a separate topic) to arrive, while depth flows
DEPTH_LIVE_S = 1.0  # depth flows: a depth frame arrived this recently (a silent publisher is not waited for)


def stamp_s(header) -> float:
    return conversions.stamp_ns(header) / 1e9


@dataclass(frozen=True)
class FrameDepth:
    """Depth in metres with the matrices it is deprojected with, or only the reason there is none."""

    depth_m: np.ndarray | None = None
    K: np.ndarray | None = None
    D: np.ndarray | None = None
    no_3d: str = ""  # why there is no depth ("" when there is)


class DepthInput:
    """Depth frames by stamp and the latest camera_info (intrinsics change rarely: kept across activations)."""

    def __init__(self, problem: Callable[[str, str], None]):
        self.problem = problem
        self.sync: StampSync[Image] | None = None
        self._camera: CameraModel | None = None
        self._camera_lock = threading.Lock()

    def start(self, tolerance_s: float) -> None:
        """Pair depth within ``tolerance_s`` of a frame's stamp, from now on (earlier depth frames forgotten)."""
        self.sync = StampSync(tolerance_s)

    def add_depth(self, msg: Image) -> None:
        if self.sync is not None:
            self.sync.add(stamp_s(msg.header), msg)

    def set_camera(self, msg: CameraInfo) -> None:
        with self._camera_lock:
            self._camera = conversions.camera_model(msg)

    def for_frame(self, header, shape: tuple[int, int], has_publisher: bool) -> FrameDepth:
        """The frame's depth and intrinsics, or why it goes without (a problem is counted for real faults)."""
        depth, no_3d = self._depth(header, shape, has_publisher)
        if depth is None:
            return FrameDepth(no_3d=no_3d)
        with self._camera_lock:
            camera = self._camera
        intrinsics, reason = intrinsics_for(camera, shape)
        if reason:
            self.problem("camera_info", f"no 3D centroid: {reason}")
            return FrameDepth(no_3d=reason)
        return FrameDepth(depth, intrinsics.K, intrinsics.D)

    def _depth(self, header, shape: tuple[int, int], has_publisher: bool) -> tuple[np.ndarray | None, str]:
        if not has_publisher:
            return None, "no depth publisher"
        if self.sync is None or not self.sync.live(DEPTH_LIVE_S):
            return None, "no depth received in the last second"
        depth_msg = self.sync.match(stamp_s(header), DEPTH_WAIT_S)  # it may arrive just after the frame
        if depth_msg is None:
            self.problem("depth_unmatched", f"no depth stamped within sync_tolerance of the image arrived in "
                         f"{DEPTH_WAIT_S} s (stamps of another clock, or large messages delayed: see "
                         "config/fastdds.xml)")
            return None, "no depth for this frame"
        if (reason := registration_problem(header.frame_id, depth_msg.header.frame_id)) is not None:
            self.problem("depth_frame", f"no 3D centroid: {reason}")
            return None, reason
        try:
            depth, reason = aligned_depth(conversions.depth_from_image(depth_msg), shape)
        except conversions.ImageError as exc:
            self.problem(f"depth_{exc.kind}", f"depth ignored: {exc}")
            return None, str(exc)
        if reason:
            self.problem("depth_size", f"depth ignored: {reason}")
        return depth, reason or ""
