"""The simulated cell on ROS 2, as a robot's drivers present it: the camera (head or wrist) publishes colour,
aligned depth (16UC1 millimetres) and camera_info like a RealSense driver (stock reliable QoS, keep last 10); the
arm publishes ``joint_states`` and follows position targets on ``joint_command`` (sensor_msgs/JointState, the
convention of simulators' ROS bridges). Physics runs in real time. One cell at a time: ``attach`` swaps scenes between episodes."""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from rclpy.node import Node
from sensor_msgs.msg import JointState

from lts_ros.bag.format import BagTopics
from lts_ros.data.tabletop.scene import Scene
from lts_ros.geometry import depth_in_mm
from lts_ros.ros.harness.camera import CameraPublisher, frame_messages
from lts_ros.sim import panda
from lts_ros.sim.cell import STEP_HZ, Cell

TOPICS = BagTopics()
COLOR, DEPTH, CAMERA_INFO = (t.lstrip("/") for t in (TOPICS.color, TOPICS.depth, TOPICS.camera_info))
PHYSICS_PERIOD_S = 0.005
MAX_STEPS_PER_TICK = 48  # after a long render, catch up at most 0.2 s of simulated time at once
JOINT_STATE_HZ = 50.0


class CellNode(Node):
    """``lts_sim_cell``; ``on_frame(stamp_ns, scene)`` sees each published camera frame."""

    def __init__(self, fps: float = 4.0, on_frame: Callable[[int, Scene], None] | None = None, **kwargs):
        super().__init__("lts_sim_cell", **kwargs)
        self.cell: Cell | None = None
        self.on_frame = on_frame
        self.render_s: list[float] = []
        self.camera = CameraPublisher(self, 10, COLOR, DEPTH, CAMERA_INFO)  # the cell's: head or wrist
        self.pub_joints = self.create_publisher(JointState, "joint_states", 10)
        self.create_subscription(JointState, "joint_command", self._on_joint_command, 10)
        self._last_tick, self._debt, self._last_joint_state = time.monotonic(), 0.0, 0.0
        self.create_timer(PHYSICS_PERIOD_S, self._physics)
        self.create_timer(1.0 / fps, self._camera)

    def attach(self, cell: Cell | None) -> None:
        self.cell, self._last_tick, self._debt = cell, time.monotonic(), 0.0

    def _physics(self) -> None:
        now = time.monotonic()
        self._debt = min(self._debt + (now - self._last_tick) * STEP_HZ, MAX_STEPS_PER_TICK)
        self._last_tick = now
        if self.cell is None:
            return
        steps = int(self._debt)
        self._debt -= steps
        self.cell.step(steps)
        if now - self._last_joint_state >= 1.0 / JOINT_STATE_HZ:
            self._last_joint_state = now
            positions, velocities = self.cell.joints()
            msg = JointState(name=[*panda.ARM_NAMES, *panda.FINGER_NAMES], position=positions.tolist(),
                             velocity=velocities.tolist())
            msg.header.stamp = self.get_clock().now().to_msg()
            self.pub_joints.publish(msg)

    def _camera(self) -> None:
        if self.cell is None:
            return
        begin = time.perf_counter()
        scene = self.cell.view()
        self.render_s.append(time.perf_counter() - begin)
        stamp_ns = self.camera.publish(*frame_messages(scene.rgb, depth_in_mm(scene.depth_m), scene.camera.K))
        if self.on_frame is not None:
            self.on_frame(stamp_ns, scene)

    def _on_joint_command(self, msg: JointState) -> None:
        """Targets by joint name: all seven arm joints, and/or a finger (both fingers follow it)."""
        if self.cell is None:
            return
        targets = dict(zip(msg.name, msg.position))
        unknown = set(targets) - {*panda.ARM_NAMES, *panda.FINGER_NAMES}
        arm = [targets.get(name) for name in panda.ARM_NAMES]
        if unknown or len(msg.name) != len(msg.position) or not np.all(np.isfinite(msg.position)) or (
                any(q is None for q in arm) and any(q is not None for q in arm)):
            self.get_logger().warning(
                f"ignored joint_command: it must name all of {', '.join(panda.ARM_NAMES)} and/or a finger, with one "
                f"finite position each (got names {list(msg.name)}, {len(msg.position)} positions)", throttle_duration_sec=5)
            return
        finger = next((targets[n] for n in panda.FINGER_NAMES if n in targets), None)
        self.cell.command(None if arm[0] is None else np.array(arm), finger)
