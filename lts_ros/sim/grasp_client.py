"""``lts_grasp_client``: pick up the object a person names, through lts_node, as a robot application would.

It sends the command the way a user does (``create_publisher(String, "command", 10)``: reliable, volatile),
takes lts_node's first answer for a frame captured after it, and then either refuses (not found: no motion) or
plans a top-down grasp from the answer's mask, the aligned depth and the 3D centroid, solves IK on its own model
of the Panda and drives the arm through ``joint_command`` while watching ``joint_states``. The camera's pose in
the world frame is a parameter (what TF would give: no tf2 message package is installable here). It writes
what it decided and why as JSON (``result_file``, else stdout) and exits 0; bad parameters exit 2."""
from __future__ import annotations

import json
import math
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_msgs.msg import String

from lts_ros.geometry import deproject, pose_matrix
from lts_ros.ros.conversions import camera_model, depth_from_image, image_to_array, stamp_ns
from lts_ros.ros.status import FrameStatus
from lts_ros.runtime.result import AMBIGUOUS
from lts_ros.sim import panda
from lts_ros.sim.approach import occlusion_pass, wrist_way_down
from lts_ros.sim.attempt import Attempt
from lts_ros.sim.client_params import MOTION_CAP, PARAMETERS, parameter_problems
from lts_ros.sim.grasp_plan import camera_to_world, plan_top_down
from lts_ros.sim.patience import Patience
from lts_ros.sim.pick import Kinematics, PlanError, Waypoint, plan_pick

ARM_TOLERANCE_RAD = 0.01
FINGERS_STILL = 5  # joint_states in a row with the fingers still: they have closed on the object (or on nothing)
FINGER_STILL_M_S = 0.002
KEEP_FRAMES = 30  # depth frames and masks kept by stamp
RESEND_S = 2.0  # the command again while lts_node has not answered it
RESEND_TARGET_S = 0.5  # joint targets again while the arm is not there
CLOSE_S = 1.5  # the fingers have closed by then
PROGRESS_RAD = 0.005  # closer to a waypoint by this much: the arm is still on its way
LOOK_TIMEOUT_S = 5.0  # for an answer to a frame captured after the arm stopped (wrist steps, occlusion pass)


def refusal(status: FrameStatus) -> str:
    """Why the client will not grasp on this answer, in words: for ambiguous, whether the model said the command
    names several objects or the mask held several; and the node's reason where the reader or a rule decided."""
    why = f"lts_node: {status.state} (score {status.score:.2f}"
    if status.state == AMBIGUOUS:
        why += f"; names several: {status.several_score:.2f}; objects in the mask: {len(status.candidates)}"
    return why + ")" + (f": {status.reason}" if status.reason else "")


class GraspClient(Node):
    def __init__(self) -> None:
        super().__init__("lts_grasp_client")
        for name, (default, description) in PARAMETERS.items():
            self.declare_parameter(name, default, ParameterDescriptor(description=description, dynamic_typing=True))
        raw = {name: self.get_parameter(name).value for name in PARAMETERS}
        self.values = {k: list(v) if not isinstance(v, (str, int, float, bool)) and v is not None else v
                       for k, v in raw.items()}
        self.problems = parameter_problems(self.values)
        self.statuses: list[FrameStatus] = []
        self.masks: OrderedDict[int, Image] = OrderedDict()
        self.depths: OrderedDict[int, Image] = OrderedDict()
        self.info: CameraInfo | None = None
        self.joints: JointState | None = None
        self.still = 0
        node = self.values["node"] if isinstance(self.values["node"], str) else "lts_node"
        self.command_pub = self.create_publisher(String, "command", 10)  # as `ros2 topic pub` and users do
        self.joint_pub = self.create_publisher(JointState, "joint_command", 10)
        self.create_subscription(DiagnosticArray, f"{node}/status",
                                 lambda m: self.statuses.append(FrameStatus.from_msg(m)), 10)
        self.create_subscription(Image, f"{node}/mask", lambda m: self._keep(self.masks, m), 10)
        self.create_subscription(Image, "depth", lambda m: self._keep(self.depths, m), 10)
        self.create_subscription(CameraInfo, "camera_info", lambda m: setattr(self, "info", m), 10)
        self.create_subscription(JointState, "joint_states", self._on_joints, 10)

    @staticmethod
    def _keep(frames: OrderedDict, msg) -> None:
        frames[stamp_ns(msg.header)] = msg
        while len(frames) > KEEP_FRAMES:
            frames.popitem(last=False)

    def _on_joints(self, msg: JointState) -> None:
        fingers = [v for n, v in zip(msg.name, msg.velocity) if n in panda.FINGER_NAMES]
        self.still = self.still + 1 if fingers and max(abs(v) for v in fingers) < FINGER_STILL_M_S else 0
        self.joints = msg

    def spin_until(self, done: Callable[[], object], timeout_s: float) -> object:
        """Spin until ``done()`` is truthy (returns it) or ``timeout_s`` passes (returns None)."""
        deadline = time.monotonic() + timeout_s
        while not (value := done()) and time.monotonic() < deadline:
            rclpy.spin_once(self, timeout_sec=0.02)
        return value or None

    def run(self) -> Attempt:
        command = self.values["command"]
        attempt = Attempt(command)
        begin = time.perf_counter()
        ready = self.spin_until(lambda: self.command_pub.get_subscription_count() > 0 and self.joints is not None
                                and self.joint_pub.get_subscription_count() > 0 and self.info is not None,
                                self.values["answer_timeout"])
        attempt.ready_s = time.perf_counter() - begin
        if not ready:
            return attempt.ended("no_answer", "lts_node's command subscription, the arm (joint_states, joint_command) "
                                              "or camera_info never appeared")
        sent = self.get_clock().now().nanoseconds
        begin = time.perf_counter()
        answer = self.wait_for_answer(command, sent)
        attempt.answer_s = time.perf_counter() - begin
        if answer is None:
            heard = sum(s.command == command and s.stamp_ns >= sent for s in self.statuses)
            return attempt.ended("no_answer", f"no usable answer to '{command}' in {self.values['answer_timeout']:g} s "
                                              f"({heard} statuses heard for it, none with its mask and depth here)")
        status, mask_msg, depth_msg = answer
        attempt.answered(status)
        if not status.found:
            return attempt.ended("refused", refusal(status))
        if status.centroid_m is None:
            return attempt.ended("plan_failed", f"found, but without a 3D centroid ({status.no_centroid_reason})")
        sight = (status, image_to_array(mask_msg) > 0, depth_from_image(depth_msg), self.camera_pose())
        begin = time.perf_counter()
        try:
            if self.values["camera"] == "wrist":
                sight = wrist_way_down(self, command, sight, attempt)
            elif self.values["occlusion_pass"]:
                sight = occlusion_pass(self, command, sight, attempt)
            attempt.mask = sight[1]
            waypoints = self.plan(*sight, attempt)
        except PlanError as e:
            return attempt.ended("plan_failed", str(e))
        finally:
            attempt.plan_s = time.perf_counter() - begin
        begin = time.perf_counter()
        try:
            for waypoint in waypoints:
                if not self.execute(waypoint):
                    timeout = self.values["motion_timeout"]
                    return attempt.ended("motion_failed", f"the arm did not reach '{waypoint.name}' (no closer for "
                                                          f"{timeout:g} s, or {MOTION_CAP * timeout:g} s in all)")
        finally:
            attempt.motion_s = time.perf_counter() - begin
        return attempt.ended("grasped", "")

    def wait_for_answer(self, command: str, sent_ns: int) -> tuple[FrameStatus, Image | None, Image | None] | None:
        """lts_node's first usable answer to ``command`` for a frame captured after ``sent_ns``: a refusal, or a
        found target whose mask and depth frame are here. A found answer whose mask or depth this client missed (a
        reader still matching) gives way to the next frame's, which the node answers with the same command; so
        does one without a 3D centroid (the node's camera_info or depth reader may still be matching), which is
        returned only if no frame's answer has one by the deadline. The command is sent again every RESEND_S
        until an answer is heard: a reliable volatile message published before the node's reader has matched
        this writer is lost (the node takes a repeat as the same command arriving again)."""
        deadline, next_send, heard = time.monotonic() + self.values["answer_timeout"], 0.0, False
        without_centroid = None
        while time.monotonic() < deadline:
            if not heard and time.monotonic() >= next_send:
                self.command_pub.publish(String(data=command))
                next_send = time.monotonic() + RESEND_S
            rclpy.spin_once(self, timeout_sec=0.02)
            for status in (s for s in self.statuses if s.command == command and s.stamp_ns >= sent_ns):
                heard = True
                mask, depth = self.masks.get(status.stamp_ns), self.depths.get(status.stamp_ns)
                if not status.found or (status.centroid_m is not None and mask is not None and depth is not None):
                    return status, mask, depth
                if status.centroid_m is None:
                    without_centroid = status, mask, depth
        return without_centroid

    def camera_pose(self, kinematics: Kinematics | None = None) -> np.ndarray:
        """The camera optical frame in the world (4x4) now: the head camera's parameter, or the wrist camera's from
        the joints (forward kinematics on ``kinematics``, else a model of its own) and its mount (the arm is still
        when this is read)."""
        if self.values["camera"] != "wrist":
            return pose_matrix(self.values["camera_pose"])
        model = kinematics or Kinematics(self.values["robot_base"])
        try:
            return model.grasp_frame(self.arm_joints()) @ pose_matrix(self.values["wrist_mount"])
        finally:
            if kinematics is None:
                model.close()

    def arm_joints(self) -> np.ndarray:
        return np.array([dict(zip(self.joints.name, self.joints.position))[n] for n in panda.ARM_NAMES])

    def look_from(self, name: str, arm: np.ndarray, command: str, kinematics: Kinematics,
                  attempt: Attempt) -> tuple | None:
        """Drive the arm to ``arm``, wait for lts_node's answer to a frame captured once it is there
        (``next_sight``) and record it in ``attempt`` as the look ``name``; PlanError if the arm does not get there."""
        if not self.execute(Waypoint(name, arm, panda.FINGER_OPEN_M, "arm")):
            raise PlanError(f"the arm did not reach the look '{name}'")
        looked = self.next_sight(command, self.get_clock().now().nanoseconds, kinematics)
        attempt.look(name, looked)
        return looked

    def next_sight(self, command: str, after_ns: int, kinematics: Kinematics) -> tuple | None:
        """lts_node's answer to a frame captured after ``after_ns`` (the command is not sent again: that would
        start a new track), with the mask, depth and camera pose where the object is seen."""
        deadline = time.monotonic() + LOOK_TIMEOUT_S
        while time.monotonic() < deadline:
            rclpy.spin_once(self, timeout_sec=0.02)
            for status in (s for s in self.statuses if s.command == command and s.stamp_ns >= after_ns):
                mask, depth = self.masks.get(status.stamp_ns), self.depths.get(status.stamp_ns)
                if not status.found or status.centroid_m is None:
                    return status, None, None, None
                if mask is not None and depth is not None:
                    return status, image_to_array(mask) > 0, depth_from_image(depth), self.camera_pose(kinematics)
        return None

    def plan(self, answer: FrameStatus, mask: np.ndarray, depth_m: np.ndarray, world_from_camera: np.ndarray,
             attempt: Attempt) -> list[Waypoint]:
        camera = camera_model(self.info)
        points = camera_to_world(world_from_camera, deproject(depth_m, camera.K, mask, np.asarray(camera.D)))
        try:
            grasp = plan_top_down(points, self.values["table_z"])
        except ValueError as e:
            raise PlanError(f"the mask's depth: {e}") from e
        attempt.grasp = grasp
        centroid = camera_to_world(world_from_camera, answer.centroid_m)[0]
        attempt.centroid_offset_m = float(np.linalg.norm(centroid[:2] - grasp.position[:2]))
        kinematics = Kinematics(self.values["robot_base"])
        try:
            return plan_pick(grasp, kinematics, self.arm_joints())
        finally:
            kinematics.close()

    def execute(self, waypoint: Waypoint) -> bool:
        """Drive to the waypoint; True once the arm is there (the fingers: once they stop, or after CLOSE_S, for
        they close on whatever is between them), False once the arm has come no closer to it for
        ``motion_timeout`` s (stalled: blocked, or a target it cannot reach). A slow arm that keeps approaching is
        waited for, up to MOTION_CAP times that. The targets are sent again every RESEND_TARGET_S: they are
        idempotent, and a reliable volatile message sent before the cell's reader matched this writer is lost."""
        names, positions = list(panda.FINGER_NAMES[:1]), [waypoint.finger_m]
        if waypoint.arm is not None:
            names, positions = [*panda.ARM_NAMES, *names], [*waypoint.arm.tolist(), *positions]
        target = JointState(name=names, position=positions)

        def arm_error() -> float:
            now = dict(zip(self.joints.name, self.joints.position))
            return max(abs(now[n] - q) for n, q in zip(panda.ARM_NAMES, waypoint.arm))

        closing = waypoint.wait_for == "fingers"
        self.still = 0
        now = time.monotonic()
        patience = Patience(CLOSE_S if closing else self.values["motion_timeout"], 1.0 if closing else MOTION_CAP,
                            PROGRESS_RAD, now)
        while patience.waiting(math.inf if closing else arm_error(), now):
            self.joint_pub.publish(target)
            if self.spin_until(lambda: self.still >= FINGERS_STILL if closing else arm_error() < ARM_TOLERANCE_RAD,
                               RESEND_TARGET_S):
                return True
            now = time.monotonic()
        return closing


def main(argv: list[str] | None = None) -> int:
    """``lts_grasp_client --ros-args -p command:='the red block' -p camera_pose:=[...] ...``"""
    rclpy.init(args=argv if argv is not None else sys.argv)
    client = GraspClient()
    try:
        if client.problems:
            for problem in client.problems:
                client.get_logger().error(problem)
            return 2
        attempt = client.run()
        client.get_logger().info(f"{attempt.decision}: {attempt.detail or attempt.command}")
        result_file = client.values["result_file"]
        if result_file:
            attempt.write(Path(result_file))
        else:
            print(json.dumps(attempt.to_dict()))
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        client.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    sys.exit(main())
