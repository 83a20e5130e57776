"""``python -m lts_ros.bench.ros_echo_node --hold-ms MS``: the floor under lts_node's overhead. A bare rclpy node on
lts_node's topics and QoS that, per colour frame, decodes it, sleeps MS in place of the model and publishes a mono8
mask and a status with the frame's header, in the subscription callback: what any rclpy node pays on this machine
to take these messages in and send an answer out. Named ``lts_node`` so that the load benchmark's camera and
recorder talk to it unchanged."""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def main(argv: list[str] | None = None) -> int:
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from sensor_msgs.msg import CameraInfo, Image

    from lts_ros.ros.conversions import fill_image, rgb_from_image
    from lts_ros.ros.qos import camera_qos, output_qos

    parser = argparse.ArgumentParser(prog="python -m lts_ros.bench.ros_echo_node", description=__doc__)
    parser.add_argument("--hold-ms", type=float, default=0.0, help="sleep per frame, standing in for the model")
    args, ros_args = parser.parse_known_args(argv)
    rclpy.init(args=ros_args)
    node = rclpy.create_node("lts_node")
    mask_pub = node.create_publisher(Image, "~/mask", output_qos())
    status_pub = node.create_publisher(DiagnosticArray, "~/status", output_qos())
    diagnostics = node.create_publisher(DiagnosticArray, "/diagnostics", output_qos())

    def on_image(msg: Image) -> None:
        rgb = rgb_from_image(msg)
        time.sleep(args.hold_ms / 1e3)
        mask_pub.publish(fill_image(Image(header=msg.header), np.zeros(rgb.shape[:2], np.uint8), "mono8"))
        status_pub.publish(DiagnosticArray(header=msg.header))

    camera = camera_qos("reliable")
    node.create_subscription(Image, "image", on_image, camera)
    node.create_subscription(Image, "depth", lambda msg: None, camera)
    node.create_subscription(CameraInfo, "camera_info", lambda msg: None, camera)
    node.create_timer(1.0, lambda: diagnostics.publish(DiagnosticArray()))
    node.get_logger().info("active: echo")
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
