"""``lts_node``: a lifecycle node that segments the object named on ``command`` in every camera frame and
publishes a status per processed frame, the mask and 3D centroid when the object is found, a marker, an overlay
and diagnostics. The ROS plumbing only: the model runs in ``lts_ros.runtime.Segmenter``, frames are decoded by
``conversions``, a frame's depth and intrinsics are ``ros.depth_input``, which command a frame gets is
``ros.commands``.

Lifecycle: configure checks the parameters, loads the model and warms it up; activate subscribes and publishes,
deactivate and cleanup release them. With ``autostart`` (default) the node walks configure -> activate itself.

Over 300 lines because it is one LifecycleNode class, whose callbacks (parameters, lifecycle, inputs, worker,
diagnostics) share its state; each decision they take is in one of the modules above."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
from rclpy.clock import Clock, ClockType
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import String

from lts_ros.artifacts.cache_root import in_cache_root
from lts_ros.errors import LtsError
from lts_ros.model.text import check_expression
from lts_ros.ros import conversions
from lts_ros.ros.commands import Choice, Command, CommandLog
from lts_ros.ros.depth_input import DepthInput, stamp_s
from lts_ros.ros.latched import AnyDurabilitySubscription
from lts_ros.ros.outputs import FrameOutputs
from lts_ros.ros.params import BY_NAME, PARAMS, problems
from lts_ros.ros.qos import camera_qos, no_frames_hint, output_qos
from lts_ros.ros.silence import CameraSilence
from lts_ros.ros.stats import NodeStats
from lts_ros.ros.typed_params import TypeKeeper, declare_typed
from lts_ros.ros.worker import LatestWorker

MAX_COMMAND_CHARS = 512  # longer commands are cut here (the tokenizer keeps fewer tokens still)
WARN_EVERY_S = 5.0  # throttle for repeated warnings
NO_FRAMES_AFTER_S = 3.0
WARMUP_SHAPE = (480, 640, 3)
POLL_S = 0.5  # how often the command and camera_info subscriptions look for newly latched publishers


@dataclass(frozen=True)
class Frame:
    """An image as it arrived: when (node clock, monotonic) and after which command."""

    msg: Image | CompressedImage
    received_ns: int
    received_at: float  # time.monotonic()
    seen_seq: int  # the newest command's arrival number when the frame arrived


class LtsNode(LifecycleNode):
    def __init__(self, **kwargs):
        super().__init__("lts_node", **kwargs)
        self._launch_problems = declare_typed(self)  # name -> why its launch value was not taken
        self._mirroring = False  # the command parameter is being set to a command that came on the topic
        self._types = TypeKeeper(self)
        self.add_pre_set_parameters_callback(self._types)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.segmenter = None
        self._segmenting_seq: int | None = None  # the command the Segmenter holds (a new one starts a new track)
        self.stats = NodeStats()
        self.commands = CommandLog()  # kept across deactivate/activate: the command survives
        self.worker: LatestWorker[Frame] | None = None
        self.depth = DepthInput(self.problem)
        self._entities: list = []  # subscriptions, publishers and timers made by activate
        self._any_durability: list[AnyDurabilitySubscription] = []
        self._silence: CameraSilence | None = None  # while active
        self._last_submit = 0.0
        self._last_warned: dict[str, float] = {}

    # ---- parameters -------------------------------------------------------------------------------------
    def p(self, name: str):
        return self.get_parameter(name).value

    def _on_set_parameters(self, params) -> SetParametersResult:
        if self._types.refused:
            return SetParametersResult(successful=False, reason="; ".join(self._types.refused.values()))
        for param in params:
            spec = BY_NAME.get(param.name)
            if spec is None:
                continue
            reason = spec.validate(param.value)
            if reason is None and param.name == "command" and param.value.strip() and not self._mirroring:
                reason = self._command_problem(param.value)
            if reason:
                return SetParametersResult(successful=False, reason=reason)
        for param in params:  # all valid: apply the live ones
            self._launch_problems.pop(param.name, None)
            if param.name == "threshold" and self.segmenter is not None:
                self.segmenter.threshold = param.value
            elif param.name == "refine_edges" and self.segmenter is not None:
                self.segmenter.refine_edges = param.value
            elif param.name == "lock_on" and self.segmenter is not None:
                self.segmenter.lock_on = param.value
            elif param.name == "command" and not self._mirroring:
                if param.value.strip():
                    self._add_command(param.value, time.time_ns(), "parameter", mirror=False)
                else:
                    self._clear_command()
        return SetParametersResult(successful=True)

    # ---- warnings, counted and throttled ------------------------------------------------------------------
    def problem(self, kind: str, message: str) -> None:
        """Count ``kind`` in diagnostics and warn (at most every WARN_EVERY_S per kind)."""
        self.stats.error(kind)
        now = time.monotonic()
        if now - self._last_warned.get(kind, -1e9) >= WARN_EVERY_S:
            self._last_warned[kind] = now
            self.get_logger().warning(f"{message} [{kind}: {self.stats.errors[kind]} so far]")

    # ---- lifecycle ----------------------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        from lts_ros.checkpoint import shipped_checkpoint
        from lts_ros.runtime.segmenter import Segmenter

        bad = [*self._launch_problems.values(), *problems({p.name: self.p(p.name) for p in PARAMS})]
        if bad:
            self.get_logger().error(f"configure failed: {'; '.join(bad)}")
            return TransitionCallbackReturn.FAILURE
        try:
            model = Path(self.p("model")) if self.p("model") else shipped_checkpoint()
            segmenter = Segmenter.from_checkpoint(
                model, backend=self.p("backend"), device=self.p("device"),
                onnx_dir=in_cache_root(self.p("onnx_dir")) if self.p("onnx_dir") else None,
                threshold=self.p("threshold"), precision=self.p("precision"),
                engine_dir=in_cache_root(self.p("engine_dir")))
            size = self.p("input_size")
            if size and size != segmenter.input_size:
                if segmenter.backend.name != "torch":
                    raise LtsError(f"input_size {size}: the {segmenter.backend.name} export is fixed to "
                                   f"{segmenter.input_size} px (re-export, or use 0)")
                segmenter.input_size = size
            segmenter.refine_edges = self.p("refine_edges")
            segmenter.resolve_phrases = self.p("resolve_phrases")
            segmenter.set_command("the object")  # warm-up: one text encode and one frame
            segmenter.segment(np.zeros(WARMUP_SHAPE, np.uint8))
            segmenter.clear_command()
            segmenter.lock_on = self.p("lock_on")
        except (LtsError, OSError) as exc:
            self.get_logger().error(f"configure failed: {exc}")
            return TransitionCallbackReturn.FAILURE
        self.segmenter, self._segmenting_seq = segmenter, None
        if self.p("command").strip() and self.commands.latest is None:
            self._add_command(self.p("command"), time.time_ns(), "parameter", mirror=False)
        self.get_logger().info(f"model ready: {model.name}, backend {segmenter.backend.name}, "
                               f"{segmenter.input_size} px")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        transport, reliability = self.p("image_transport"), self.p("image_reliability")
        camera = camera_qos(reliability)
        self.image_topic = "image/compressed" if transport == "compressed" else "image"
        image_type = CompressedImage if transport == "compressed" else Image
        self.depth.start(self.p("sync_tolerance"))
        self.worker = LatestWorker(self._process, self._on_worker_error)
        self.outputs = FrameOutputs(self)
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "/diagnostics", output_qos())
        # Commands and camera_info: any reliable publisher, volatile or latched (ros.latched). camera_info is read
        # best effort, which matches best-effort and reliable drivers alike (it is small and sent every frame).
        # Both timers run on the steady clock: diagnostics stay at 1 Hz while a bag's /clock is paused or stopped.
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._any_durability = [
            AnyDurabilitySubscription(self, String, "command", self._on_command, ReliabilityPolicy.RELIABLE,
                                      self._on_incompatible_command),
            AnyDurabilitySubscription(self, CameraInfo, "camera_info", self._on_camera_info,
                                      ReliabilityPolicy.BEST_EFFORT, depth=2)]
        self._entities = [
            self.create_subscription(image_type, self.image_topic, self._on_image, camera),
            self.create_subscription(Image, "depth", self.depth.add_depth, camera),
            *self.outputs.publishers, self.pub_diagnostics,
            self.create_timer(1.0, self._publish_diagnostics, clock=steady),
            self.create_timer(POLL_S, self._poll_latched, clock=steady)]
        self._poll_latched()
        self._silence = CameraSilence(time.monotonic())
        self.get_logger().info(f"active: {self.resolve_topic_name(self.image_topic)} ({transport}, {reliability})")
        return super().on_activate(state)

    def _release(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        for subscription in self._any_durability:
            subscription.destroy()
        for entity in self._entities:
            destroy = {"Subscription": self.destroy_subscription, "Publisher": self.destroy_publisher,
                       "Timer": self.destroy_timer}[type(entity).__name__]
            destroy(entity)
        self._entities, self._any_durability, self._silence = [], [], None

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        self.segmenter = None
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        return self.on_cleanup(state)

    # ---- inputs (executor thread: cheap, never blocking) ---------------------------------------------------
    def _on_image(self, msg) -> None:
        self.stats.frame_received()
        max_rate = self.p("max_rate")
        now = time.monotonic()
        if max_rate and now - self._last_submit < 1.0 / max_rate:
            return
        self._last_submit = now
        if self.worker is not None:
            self.worker.submit(Frame(msg, self.get_clock().now().nanoseconds, now, self.commands.seq))

    def _on_camera_info(self, msg: CameraInfo, sent_ns: int, historical: bool) -> None:
        self.depth.set_camera(msg)

    def _poll_latched(self) -> None:
        for subscription in self._any_durability:
            subscription.poll()

    def _command_problem(self, text: str) -> str | None:
        try:
            check_expression(text[:MAX_COMMAND_CHARS])
        except LtsError as exc:
            return str(exc)
        return None

    def _add_command(self, text: str, sent_ns: int, source: str, mirror: bool = True) -> Command:
        """Log a valid command as arrived now (node clock); it applies to frames stamped from now on. ``mirror``:
        the ``command`` parameter is set to it, so that ``ros2 param get`` tells what the node looks for."""
        if len(text) > MAX_COMMAND_CHARS:
            self.problem("command_truncated", f"command of {len(text)} characters cut to {MAX_COMMAND_CHARS}")
            text = text[:MAX_COMMAND_CHARS]
        command = self.commands.add(check_expression(text), self.get_clock().now().nanoseconds, sent_ns)
        self.get_logger().info(f"command {command.seq} ({source}): '{command.text}'")
        if mirror and self.p("command") != command.text:
            self._mirroring = True
            try:
                self.set_parameters([Parameter("command", value=command.text)])
            finally:
                self._mirroring = False
        return command

    def _clear_command(self) -> None:
        """An empty ``command`` parameter: frames arriving from now on are not segmented until the next command."""
        latest = self.commands.latest
        if latest is None or not latest.text:
            return
        self.commands.add("", self.get_clock().now().nanoseconds, time.time_ns())
        self.get_logger().info(f"command cleared (parameter): not segmenting until the next command "
                               f"(was '{latest.text}')")

    def _on_command(self, msg: String, sent_ns: int, historical: bool) -> None:
        reason = self._command_problem(msg.data)
        if reason:
            self.problem("command", f"command ignored: {reason}")
            return
        latest = self.commands.latest
        if historical and latest is not None and sent_ns <= latest.sent_ns:
            return  # a latched command older than the one in force
        self._add_command(msg.data, sent_ns, "latched" if historical else "topic")

    def _on_incompatible_command(self, policy: str) -> None:
        self.problem("command_qos", f"a publisher on {self.resolve_topic_name('command')} offers QoS this node "
                     f"cannot read (incompatible {policy}): publish commands reliable (the default of "
                     "ros2 topic pub and create_publisher), volatile or transient local")

    # ---- the worker thread ------------------------------------------------------------------------------
    def _on_worker_error(self, exc: Exception) -> None:
        if isinstance(exc, conversions.ImageError):
            self.problem(exc.kind, f"frame dropped: {exc}")
        elif isinstance(exc, LtsError):
            self.problem("frame", f"frame dropped: {exc}")
        else:
            self.problem("internal", f"frame dropped: {type(exc).__name__}: {exc}")

    def _choose_command(self, frame: Frame) -> Choice:
        """The command ``frame`` is segmented with (``ros.commands`` has the rule), set on the Segmenter."""
        stamp = conversions.stamp_ns(frame.msg.header)
        choice = self.commands.for_frame(stamp, frame.received_ns, frame.seen_seq)
        if choice.other_clock:
            self.problem("stamp_clock", f"image stamped {(frame.received_ns - stamp) / 1e9:.1f} s before this "
                         "node's clock: commands apply in arrival order (replaying a bag? publish /clock and set "
                         "use_sim_time)")
        if choice.command is not None and choice.command.text and self._segmenting_seq != choice.command.seq:
            self.segmenter.set_command(choice.command.text)  # the same text sent again starts a new track too
            self._segmenting_seq = choice.command.seq
        return choice

    def _process(self, frame: Frame) -> None:
        if self.segmenter is None:
            return
        choice = self._choose_command(frame)
        command = choice.command
        if command is None or not command.text:
            return  # no command for this frame (none yet, or cleared): nothing to look for (diagnostics say so)
        header = frame.msg.header
        if isinstance(frame.msg, CompressedImage):
            rgb = conversions.rgb_from_compressed(frame.msg)
        else:
            rgb = conversions.rgb_from_image(frame.msg)
        started = time.monotonic()
        inference = self.segmenter.infer(rgb)  # meanwhile this frame's depth (a topic of its own) arrives
        model_s = time.monotonic() - started
        depth = self.depth.for_frame(header, rgb.shape[:2],
                                     bool(self.count_publishers(self.resolve_topic_name("depth"))))
        started = time.monotonic()
        result = self.segmenter.finish(inference, depth.depth_m, depth.K, distortion=depth.D, stamp_s=stamp_s(header))
        model_ms = 1e3 * (model_s + time.monotonic() - started)
        no_3d = depth.no_3d
        if result.found and result.centroid_3d is None and not no_3d:
            no_3d = "no valid depth inside the mask"
        reading = inference.reading.describe() if inference.reading else ""
        self.outputs.publish(header, result, command, no_3d, lambda: 1e3 * (time.monotonic() - frame.received_at),
                             model_ms, reading)
        now_s = self.get_clock().now().nanoseconds * 1e-9
        latency_ms = None if choice.other_clock else 1e3 * (now_s - stamp_s(header))  # only on one clock
        self.stats.frame_done(latency_ms, model_ms, 1e3 * (time.monotonic() - frame.received_at))
        self.outputs.publish_visuals(header, rgb, result, command, self.p("publish_overlay"))

    # ---- diagnostics ------------------------------------------------------------------------------------
    def _no_frames_warning(self) -> str | None:
        if self._silence is None:
            return None
        publishers = self.get_publishers_info_by_topic(self.resolve_topic_name(self.image_topic))
        silent_s = self._silence.silent_for([bytes(p.endpoint_gid) for p in publishers], time.monotonic(),
                                            self.stats.last_frame_at)
        if silent_s is None or silent_s < NO_FRAMES_AFTER_S:
            return None
        offered = ["best_effort" if p.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT else "reliable"
                   for p in publishers]
        return (f"{len(publishers)} publisher(s) on {self.resolve_topic_name(self.image_topic)} but no frame for "
                f"{silent_s:.0f} s: " + no_frames_hint(self.image_topic, self.p("image_reliability"),
                                                       self.p("image_transport"), offered))

    def _publish_diagnostics(self) -> None:
        latest = self.commands.latest
        warning = self._no_frames_warning()
        if warning:
            self.problem("no_frames", warning)
        elif latest is None:
            warning = "no command yet: publish one on 'command'"
        elif not latest.text:
            warning = "command cleared (command parameter set empty): not segmenting; publish one on 'command'"
        status = self.stats.diagnostic_status(
            f"{self.get_name()}: referring segmentation", self.p("device"), warning,
            frames_processed=str(self.worker.processed if self.worker else 0),
            frames_dropped=str(self.worker.dropped if self.worker else 0),
            backend=self.segmenter.backend.name if self.segmenter is not None else "none",
            command=latest.text if latest else "", command_seq=str(latest.seq if latest else 0))
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self.pub_diagnostics.publish(array)


def main(argv: list[str] | None = None) -> int:
    """``lts_node [--ros-args ...]``: run the node until interrupted."""
    rclpy.init(args=argv if argv is not None else sys.argv)
    node = LtsNode()
    try:
        if node.p("autostart") and node.trigger_configure() == TransitionCallbackReturn.SUCCESS:
            node.trigger_activate()
        rclpy.spin(node)
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass
    finally:
        node._release()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
