"""``lts_node``: a lifecycle node that segments the object named on ``command`` in every camera frame and
publishes the mask, score, pixel and 3D centroids, an overlay and diagnostics. The ROS plumbing only; the
model runs in ``lts_ros.runtime.Segmenter``, frames are decoded by ``conversions``.

Lifecycle: configure loads the model and warms it up, activate subscribes and publishes, deactivate and
cleanup release them. With ``autostart`` (default) the node walks configure -> activate itself."""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import PointStamped
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.qos import ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Float32, String

from lts_ros.errors import LtsError
from lts_ros.model.text import check_expression
from lts_ros.ros import conversions
from lts_ros.ros.params import BY_NAME, PARAMS, Param
from lts_ros.ros.qos import camera_qos, command_qos, no_frames_hint, output_qos
from lts_ros.ros.stats import NodeStats
from lts_ros.ros.sync import StampSync
from lts_ros.ros.worker import LatestWorker

MAX_COMMAND_CHARS = 512  # longer commands are cut here (the tokenizer keeps fewer tokens still)
WARN_EVERY_S = 5.0  # throttle for repeated warnings
NO_FRAMES_AFTER_S = 3.0
DEPTH_WAIT_S = 0.2  # how long a frame waits for its depth and camera_info (separate topics) to arrive
WARMUP_SHAPE = (480, 640, 3)


def stamp_s(header) -> float:
    return conversions.stamp_ns(header) / 1e9


def descriptor(param: Param) -> ParameterDescriptor:
    extra = [f"one of: {', '.join(param.choices)}"] if param.choices else []
    extra += [] if param.live else ["read at configure"]
    d = ParameterDescriptor(description=f"{param.description} ({'; '.join(extra)})" if extra else param.description)
    if param.low is not None and isinstance(param.default, float):
        d.floating_point_range = [FloatingPointRange(from_value=param.low, to_value=param.high)]
    elif param.low is not None:
        d.integer_range = [IntegerRange(from_value=int(param.low), to_value=int(param.high), step=1)]
    return d


def scaled_intrinsics(info: CameraInfo | None, shape: tuple[int, int]) -> tuple[np.ndarray | None, str | None]:
    """K for a frame of ``shape`` (H, W) from camera_info, scaled when the info is for another resolution of
    the same aspect ratio; (None, reason) when it is missing, all zeros or for another aspect ratio."""
    if info is None:
        return None, "no camera_info received"
    K = np.asarray(info.k, np.float64).reshape(3, 3)
    if not np.any(K) or K[0, 0] <= 0 or K[1, 1] <= 0:
        return None, "camera_info K is all zeros or has a non-positive focal length"
    height, width = shape
    if (info.width, info.height) in ((width, height), (0, 0)):
        return K, None
    sx, sy = width / info.width, height / info.height
    if abs(sx - sy) > 1e-3:
        return None, f"camera_info is {info.width}x{info.height}, the image {width}x{height} (other aspect ratio)"
    return np.diag([sx, sy, 1.0]) @ K, None


def aligned_depth(depth: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray | None, str | None]:
    """Depth at the RGB frame's size: as is, resized (nearest) from the same aspect ratio, else refused."""
    if depth.shape == shape:
        return depth, None
    (dh, dw), (h, w) = depth.shape, shape
    if abs(dw / dh - w / h) > 1e-3:
        return None, f"depth {dw}x{dh} and image {w}x{h} differ in aspect ratio: not registered to the colour camera"
    return cv2.resize(depth, (w, h), interpolation=cv2.INTER_NEAREST), None


class LtsNode(LifecycleNode):
    def __init__(self, **kwargs):
        super().__init__("lts_node", **kwargs)
        for param in PARAMS:
            self.declare_parameter(param.name, param.default, descriptor(param))
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.segmenter = None
        self.stats = NodeStats()
        self.worker: LatestWorker[Image | CompressedImage] | None = None
        self.depth_sync: StampSync[Image] | None = None
        self.info_sync: StampSync[CameraInfo] | None = None
        self._pending_command: str | None = None
        self._lock = threading.Lock()
        self._entities: list = []  # subscriptions, publishers and timers made by activate
        self._active_since: float | None = None
        self._last_submit = 0.0
        self._last_warned: dict[str, float] = {}

    # ---- parameters -------------------------------------------------------------------------------------
    def p(self, name: str):
        return self.get_parameter(name).value

    def _on_set_parameters(self, params) -> SetParametersResult:
        for param in params:
            spec = BY_NAME.get(param.name)
            if spec is None:
                continue
            reason = spec.validate(param.value)
            if reason is None and param.name == "command" and param.value.strip():
                reason = self._command_problem(param.value)
            if reason:
                return SetParametersResult(successful=False, reason=reason)
        for param in params:  # all valid: apply the live ones
            if param.name == "threshold" and self.segmenter is not None:
                self.segmenter.threshold = param.value
            elif param.name == "command" and param.value.strip():
                self._queue_command(param.value)
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

        try:
            model = Path(self.p("model")) if self.p("model") else shipped_checkpoint()
            segmenter = Segmenter.from_checkpoint(
                model, backend=self.p("backend"), device=self.p("device"), onnx_dir=self.p("onnx_dir") or None,
                threshold=self.p("threshold"), precision=self.p("precision"), engine_dir=self.p("engine_dir"))
            size = self.p("input_size")
            if size and size != segmenter.input_size:
                if segmenter.backend.name != "torch":
                    raise LtsError(f"input_size {size}: the {segmenter.backend.name} export is fixed to "
                                   f"{segmenter.input_size} px (re-export, or use 0)")
                segmenter.input_size = size
            segmenter.set_command("the object")  # warm-up: one text encode and one frame
            segmenter.segment(np.zeros(WARMUP_SHAPE, np.uint8))
            segmenter.clear_command()
        except (LtsError, OSError) as exc:
            self.get_logger().error(f"configure failed: {exc}")
            return TransitionCallbackReturn.FAILURE
        self.segmenter = segmenter
        if self.p("command").strip():
            self._queue_command(self.p("command"))
        self.get_logger().info(f"model ready: {model.name}, backend {segmenter.backend.name}, "
                               f"{segmenter.input_size} px")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        transport, reliability = self.p("image_transport"), self.p("image_reliability")
        camera = camera_qos(reliability)
        self.image_topic = "image/compressed" if transport == "compressed" else "image"
        image_type = CompressedImage if transport == "compressed" else Image
        self.depth_sync = StampSync(self.p("sync_tolerance"))
        self.info_sync = StampSync(self.p("sync_tolerance"))
        self.worker = LatestWorker(self._process, self._on_worker_error)
        self.pub_mask = self.create_publisher(Image, "~/mask", output_qos())
        self.pub_overlay = self.create_publisher(Image, "~/overlay", output_qos())
        self.pub_score = self.create_publisher(Float32, "~/score", output_qos())
        self.pub_centroid = self.create_publisher(PointStamped, "~/centroid", output_qos())
        self.pub_centroid_px = self.create_publisher(PointStamped, "~/centroid_px", output_qos())
        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "/diagnostics", output_qos())
        self._entities = [
            self.create_subscription(image_type, self.image_topic, self._on_image, camera),
            self.create_subscription(Image, "depth", self._on_depth, camera),
            self.create_subscription(CameraInfo, "camera_info", self._on_camera_info, camera),
            self.create_subscription(String, "command", self._on_command, command_qos()),
            self.pub_mask, self.pub_overlay, self.pub_score, self.pub_centroid, self.pub_centroid_px,
            self.pub_diagnostics, self.create_timer(1.0, self._publish_diagnostics)]
        self._active_since = time.monotonic()
        self.get_logger().info(f"active: {self.resolve_topic_name(self.image_topic)} ({transport}, {reliability})")
        return super().on_activate(state)

    def _release(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        for entity in self._entities:
            destroy = {"Subscription": self.destroy_subscription, "Publisher": self.destroy_publisher,
                       "Timer": self.destroy_timer}[type(entity).__name__]
            destroy(entity)
        self._entities, self._active_since = [], None

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
            self.worker.submit(msg)

    def _on_depth(self, msg: Image) -> None:
        if self.depth_sync is not None:
            self.depth_sync.add(stamp_s(msg.header), msg)

    def _on_camera_info(self, msg: CameraInfo) -> None:
        if self.info_sync is not None:
            self.info_sync.add(stamp_s(msg.header), msg)

    def _command_problem(self, text: str) -> str | None:
        try:
            check_expression(text[:MAX_COMMAND_CHARS])
        except LtsError as exc:
            return str(exc)
        return None

    def _queue_command(self, text: str) -> None:
        if len(text) > MAX_COMMAND_CHARS:
            self.problem("command_truncated", f"command of {len(text)} characters cut to {MAX_COMMAND_CHARS}")
            text = text[:MAX_COMMAND_CHARS]
        with self._lock:
            self._pending_command = text  # applied by the worker before its next frame

    def _on_command(self, msg: String) -> None:
        reason = self._command_problem(msg.data)
        if reason:
            self.problem("command", f"command ignored: {reason}")
            return
        self._queue_command(msg.data)

    # ---- the worker thread ------------------------------------------------------------------------------
    def _on_worker_error(self, exc: Exception) -> None:
        if isinstance(exc, conversions.ImageError):
            self.problem(exc.kind, f"frame dropped: {exc}")
        elif isinstance(exc, LtsError):
            self.problem("frame", f"frame dropped: {exc}")
        else:
            self.problem("internal", f"frame dropped: {type(exc).__name__}: {exc}")

    def _apply_command(self) -> None:
        with self._lock:
            text, self._pending_command = self._pending_command, None
        if text is None:
            return
        try:
            self.segmenter.set_command(text)
            self.get_logger().info(f"command: '{self.segmenter.command}'")
        except LtsError as exc:
            self.problem("command", f"command ignored: {exc}")

    def _companion(self, sync: StampSync, topic: str, stamp: float, report_miss: bool):
        """The message of ``sync`` stamped like the frame, waited for a moment while ``topic`` has publishers
        (it travels separately and may arrive just after the frame); a miss then is counted if ``report_miss``."""
        if not self.count_publishers(self.resolve_topic_name(topic)):
            return sync.match(stamp)
        found = sync.match(stamp, DEPTH_WAIT_S)
        if found is None and report_miss:
            self.problem(f"{topic}_unmatched", f"no {topic} stamped within sync_tolerance of the image arrived in "
                         f"{DEPTH_WAIT_S} s (stamps of another clock, or large messages delayed: see "
                         "config/fastdds.xml)")
        return found

    def _process(self, image: Image | CompressedImage) -> None:
        segmenter = self.segmenter
        if segmenter is None:
            return
        self._apply_command()
        if segmenter.command is None:
            return  # no command yet: nothing to look for (diagnostics say so)
        header = image.header
        if isinstance(image, CompressedImage):
            rgb = conversions.rgb_from_compressed(image)
        else:
            rgb = conversions.rgb_from_image(image)
        depth, K = None, None
        # Paired here, not in the callback: the frame's depth may still be on its way.
        depth_msg = self._companion(self.depth_sync, "depth", stamp_s(header), report_miss=True)
        if depth_msg is not None:
            try:
                depth, reason = aligned_depth(conversions.depth_from_image(depth_msg), rgb.shape[:2])
                if reason:
                    self.problem("depth_size", f"depth ignored: {reason}")
            except conversions.ImageError as exc:
                self.problem(f"depth_{exc.kind}", f"depth ignored: {exc}")
        if depth is not None:  # camera_info stamped like the frame, else the latest one (drivers differ)
            info = (self._companion(self.info_sync, "camera_info", stamp_s(header), report_miss=False)
                    or self.info_sync.latest())
            K, reason = scaled_intrinsics(info, rgb.shape[:2])
            if reason:
                self.problem("camera_info", f"no 3D centroid: {reason}")
                depth = None
        result = segmenter.segment(rgb, depth, K)
        self._publish(header, rgb, result)
        latency_ms = 1e3 * (self.get_clock().now().nanoseconds * 1e-9 - stamp_s(header))
        self.stats.frame_done(latency_ms, result.timings_ms["infer"])

    def _publish(self, header, rgb: np.ndarray, result) -> None:
        mask = conversions.fill_image(Image(header=header), result.mask.astype(np.uint8) * 255, "mono8")
        self.pub_mask.publish(mask)
        self.pub_score.publish(Float32(data=float(result.score)))
        if result.found and result.centroid_px is not None:
            u, v = result.centroid_px
            point = PointStamped(header=header)
            point.point.x, point.point.y, point.point.z = float(u), float(v), 0.0
            self.pub_centroid_px.publish(point)
        if result.found and result.centroid_3d is not None:
            point = PointStamped(header=header)
            point.point.x, point.point.y, point.point.z = (float(c) for c in result.centroid_3d)
            self.pub_centroid.publish(point)
        if self.p("publish_overlay") or self.pub_overlay.get_subscription_count() > 0:
            from lts_ros.plots import overlay

            self.pub_overlay.publish(conversions.fill_image(Image(header=header), overlay(rgb, result.mask), "rgb8"))

    # ---- diagnostics ------------------------------------------------------------------------------------
    def _no_frames_warning(self) -> str | None:
        publishers = self.get_publishers_info_by_topic(self.resolve_topic_name(self.image_topic))
        if not publishers or self._active_since is None:
            return None
        last = self.stats.last_frame_at or self._active_since
        silent_s = time.monotonic() - last
        if silent_s < NO_FRAMES_AFTER_S:
            return None
        offered = ["best_effort" if p.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT else "reliable"
                   for p in publishers]
        return (f"{len(publishers)} publisher(s) on {self.resolve_topic_name(self.image_topic)} but no frame for "
                f"{silent_s:.0f} s: " + no_frames_hint(self.image_topic, self.p("image_reliability"),
                                                       self.p("image_transport"), offered))

    def _publish_diagnostics(self) -> None:
        figures = self.stats.snapshot()
        status = DiagnosticStatus(name=f"{self.get_name()}: referring segmentation", hardware_id=self.p("device"))
        status.level, status.message = DiagnosticStatus.OK, "segmenting"
        command = self.segmenter.command if self.segmenter is not None else None
        silent = self._no_frames_warning()
        if silent:
            status.level, status.message = DiagnosticStatus.WARN, silent
            self.problem("no_frames", silent)
        elif command is None:
            status.level, status.message = DiagnosticStatus.WARN, "no command yet: publish one on 'command'"
        values = {"fps": f"{figures['fps']:.2f}", "latency_p50_ms": f"{figures['latency_p50_ms']:.1f}",
                  "latency_p99_ms": f"{figures['latency_p99_ms']:.1f}",
                  "infer_p50_ms": f"{figures['infer_p50_ms']:.1f}",
                  "frames_received": str(self.stats.frames_in),
                  "frames_processed": str(self.worker.processed if self.worker else 0),
                  "frames_dropped": str(self.worker.dropped if self.worker else 0),
                  "backend": self.segmenter.backend.name if self.segmenter is not None else "none",
                  "command": command or "", **{f"errors.{k}": str(v) for k, v in sorted(self.stats.errors.items())}}
        status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
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
