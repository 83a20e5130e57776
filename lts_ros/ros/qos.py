"""QoS profiles (REP-2003) and the checks behind the node's "no frames" warning. Commands and camera_info are
read by ``ros.latched`` (volatile and transient local alike)."""
from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

CAMERA_DEPTH = 2  # keep last: the node only ever wants the newest frame


def camera_qos(reliability: str) -> QoSProfile:
    """Camera topics: keep last 2, reliability as configured (``reliable`` or ``best_effort``)."""
    policy = ReliabilityPolicy.RELIABLE if reliability == "reliable" else ReliabilityPolicy.BEST_EFFORT
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=CAMERA_DEPTH, reliability=policy,
                      durability=DurabilityPolicy.VOLATILE)


def output_qos() -> QoSProfile:
    """Results: reliable keep-last 5 (system default style), readable by reliable and best-effort subscribers."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=5, reliability=ReliabilityPolicy.RELIABLE)


def no_frames_hint(topic: str, reliability: str, transport: str, publisher_reliabilities: list[str]) -> str:
    """Why frames may not arrive although publishers exist: the likely QoS or transport cause."""
    causes = []
    if reliability == "reliable" and "best_effort" in publisher_reliabilities:
        causes.append("a best_effort publisher cannot serve this reliable subscription: set image_reliability:="
                      "best_effort")
    if reliability == "best_effort":
        causes.append("with FastDDS defaults a best_effort subscription drops large frames from another process: "
                      "run the camera driver with FASTDDS_DEFAULT_PROFILES_FILE=<share>/lts_ros/config/fastdds.xml "
                      "or set image_reliability:=reliable")
    causes.append(f"image_transport is '{transport}': check the publisher sends "
                  f"{'sensor_msgs/CompressedImage' if transport == 'compressed' else 'sensor_msgs/Image'} on {topic}")
    return "; ".join(causes)
