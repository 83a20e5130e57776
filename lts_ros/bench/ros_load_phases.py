"""``python -m lts_ros.bench.ros_load``'s two phases over DDS: this process as a camera (the package's harness,
spun in a thread of its own so that a mask is timed when it arrives), frames sent one at a time and then at a
fixed rate, every mask's latency from its frame's stamp, and the node's counters from /diagnostics."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from lts_ros.bench.ros_load_model import CameraFrame, segment_ms
from lts_ros.bench.ros_load_rss import RssSampler, cpu_s, rss_summary
from lts_ros.errors import LtsError
from lts_ros.ros.harness.camera import CameraPublisher, frame_messages
from lts_ros.ros.harness.node_process import NodeProcess
from lts_ros.ros.harness.participant import Participant
from lts_ros.ros.harness.recorder import Recorder
from lts_ros.ros.qos import camera_qos
from lts_ros.ros.status import FrameStatus

UNLOADED_WARMUP, UNLOADED_FRAMES = 3, 20  # frames sent one at a time, each waiting for its mask
# Pause after each mask and after each local segment(): the node finishes publishing, and neither process's
# ONNX Runtime threads still spin (they busy-wait a moment after a run) when the other one computes.
UNLOADED_GAP_S = 0.05
MASK_TIMEOUT_S = 30.0  # one frame's mask, unloaded
MATCH_TIMEOUT_S = 30.0  # DDS discovery between the two processes
DIAGNOSTICS_TIMEOUT_S = 5.0  # the node publishes /diagnostics every second
DRAIN_MAX_S = 10.0
POLL_S = 0.002  # how often this process looks for what its spinning thread received


class LoadCamera(Participant):
    """A camera-like publisher (reliable, keep last 2: config/lts.yaml's image_reliability) sending one frame's
    messages, built once (each frame only gets a new header), and a recorder of the masks' arrival times, the
    statuses (the node's own timings) and /diagnostics, spun in the background."""

    def __init__(self, env: dict[str, str], frame: CameraFrame):
        super().__init__(env, "lts_load_camera")
        self.camera = CameraPublisher(self.node, camera_qos("reliable"))
        self.messages = frame_messages(frame.rgb, frame.depth_mm, frame.K)
        self.recorder = Recorder(self.node, ("mask", "status"), keep=("status",))
        self.masks = self.recorder.arrived_ns["mask"]  # mask stamp -> arrival, ns on this host's clock
        self.spin_in_background()

    def status(self, stamp: int, timeout_s: float = 1.0) -> FrameStatus | None:
        """The node's status for the frame stamped ``stamp`` (published right after its mask)."""
        self.spin_until(lambda: self.recorder.first("status", stamp) is not None, timeout_s, POLL_S)
        msg = self.recorder.first("status", stamp)
        return None if msg is None else FrameStatus.from_msg(msg)

    def now_ns(self) -> int:
        return self.node.get_clock().now().nanoseconds

    def wait_matched(self, timeout_s: float = MATCH_TIMEOUT_S) -> None:
        mask, diagnostics = self.recorder.subscriptions["mask"], self.recorder.subscriptions["diagnostics"]
        checks = {"lts_node subscribing to 'image'": lambda: self.camera.pub_image.get_subscription_count() > 0,
                  "lts_node publishing '/lts_node/mask'": lambda: mask.get_publisher_count() > 0,
                  "lts_node publishing '/diagnostics'": lambda: diagnostics.get_publisher_count() > 0}
        for what, check in checks.items():
            if not self.spin_until(check, timeout_s, POLL_S):
                raise LtsError(f"no {what} after {timeout_s:.0f} s of discovery")

    def send(self) -> int:
        """Publish one frame (camera_info, depth, image with one header, stamped now); its stamp in ns."""
        return self.camera.publish(*self.messages)

    def diagnostics_after(self, stamp: int, timeout_s: float = DIAGNOSTICS_TIMEOUT_S) -> dict[str, str] | None:
        """lts_node's first /diagnostics values stamped at or after ``stamp`` (ns); None if none comes."""
        self.spin_until(lambda: self.recorder.diagnostics_after(stamp) is not None, timeout_s, POLL_S)
        return self.recorder.diagnostics_after(stamp)


def percentiles(latencies_ms: list[float]) -> dict[str, float | None]:
    if not latencies_ms:
        return {"p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    p50, p90, p99 = np.percentile(latencies_ms, [50, 90, 99])
    return {"p50": float(p50), "p90": float(p90), "p99": float(p99), "max": float(np.max(latencies_ms)),
            "mean": float(np.mean(latencies_ms))}


def run_unloaded(camera: LoadCamera, node: NodeProcess, segmenter, frame: CameraFrame) -> dict:
    """Frames one at a time, each waiting for its mask: latency without queueing, split by the node's own timings
    in each frame's status. Per frame, overhead = latency - the model's time inside the node on that frame
    (``model_ms``): what the node and DDS add to the model under the same load, at the same moment. It splits into
    the node's path (``node_ms - model_ms``: decoding, depth pairing, publishing) and transport (``latency -
    node_ms``: serialization, DDS both ways, executor wake-ups in both processes). After each frame this process
    also segments the same frame itself (the node idle meanwhile) as a cross-check of the model alone."""
    rows, local_ms, missing = [], [], 0
    for i in range(UNLOADED_WARMUP + UNLOADED_FRAMES):
        stamp = camera.send()
        camera.spin_until(lambda: stamp in camera.masks or not node.alive(), MASK_TIMEOUT_S, POLL_S)
        if not node.alive():
            raise LtsError(f"lts_node exited ({node.proc.returncode}) while frames were sent one at a time (log: "
                           f"{node.log})")
        status = camera.status(stamp) if stamp in camera.masks else None
        if status is None:
            missing += 1
            continue
        time.sleep(UNLOADED_GAP_S)
        if i >= UNLOADED_WARMUP:
            rows.append(((camera.masks[stamp] - stamp) / 1e6, status.node_ms, status.model_ms))
            local_ms.append(segment_ms(segmenter, frame)[1])
            time.sleep(UNLOADED_GAP_S)
    latency = percentiles([r[0] for r in rows])
    median = (lambda values: float(np.median(values)) if rows else None)
    return {"frames": UNLOADED_FRAMES, "warmup": UNLOADED_WARMUP, "masks": len(rows), "missing": missing,
            "latency_ms": latency, "node_ms": median([r[1] for r in rows]), "model_ms": median([r[2] for r in rows]),
            "overhead_ms": median([lat - model for lat, _, model in rows]),
            "node_path_ms": median([node_ms - model for _, node_ms, model in rows]),
            "transport_ms": median([lat - node_ms for lat, node_ms, _ in rows]),
            "segment_ms": float(np.median(local_ms)) if local_ms else None}


def run_floor(env: dict[str, str], frame: CameraFrame, hold_ms: float, log: Path) -> dict:
    """The same frames, one at a time, through ``bench.ros_echo_node`` instead of lts_node: a bare rclpy node that
    sleeps ``hold_ms`` in place of the model. Latency - hold_ms is what rclpy and DDS cost any node here, the
    floor under lts_node's overhead."""
    command = [sys.executable, "-m", "lts_ros.bench.ros_echo_node", "--hold-ms", f"{hold_ms:.3f}"]
    echo, camera, latencies = NodeProcess(env, log, command=command), None, []
    try:
        echo.wait_active()
        camera = LoadCamera(env, frame)
        camera.wait_matched()
        for i in range(UNLOADED_WARMUP + UNLOADED_FRAMES):
            stamp = camera.send()
            if camera.spin_until(lambda: stamp in camera.masks, MASK_TIMEOUT_S, POLL_S) and i >= UNLOADED_WARMUP:
                latencies.append((camera.masks[stamp] - stamp) / 1e6 - hold_ms)
            time.sleep(2 * UNLOADED_GAP_S)
    finally:
        if camera is not None:
            camera.close()
        echo.stop()
    return {"hold_ms": hold_ms, "masks": len(latencies),
            "overhead_ms": float(np.median(latencies)) if latencies else None}


def run_loaded(camera: LoadCamera, node: NodeProcess, rate_hz: float, seconds: float, model: dict) -> dict:
    """Frames at ``rate_hz`` for ``seconds`` (ticks that cannot be kept are skipped, not bunched), then a drain
    until the last frame's mask arrives or the node goes quiet; latency of every mask, the node's RSS, the node's
    own timings (``model_ms``, ``node_ms``) from the statuses, and the CPU the node and this camera process used
    (cores: CPU seconds per wall second of the phase)."""
    period = 1.0 / rate_hz
    sampler = RssSampler(node)
    cpu_start = {"node": cpu_s(node.pid), "camera": cpu_s(os.getpid())}
    published: list[int] = []
    skipped, tick = 0, 0
    start = time.monotonic()
    while node.alive():
        target = start + tick * period
        if target - start >= seconds:
            break
        now = time.monotonic()
        if now < target:
            time.sleep(target - now)
        elif now - target > period:  # behind by more than a tick: skip the missed ones
            missed = int((now - target) / period)
            skipped, tick = skipped + missed, tick + missed
            continue
        published.append(camera.send())
        tick += 1
    publish_s = time.monotonic() - start
    cpu_cores = {who: (cpu_s(pid) - cpu_start[who]) / publish_s if cpu_start[who] is not None and node.alive() else None
                 for who, pid in (("node", node.pid), ("camera", os.getpid()))}
    # Drain: the node holds at most one frame in progress and one pending.
    quiet_s = 0.5 + 3e-3 * model["single_ms"]
    drain_start = last_count_at = time.monotonic()
    count = len(camera.masks)
    while published and published[-1] not in camera.masks and node.alive():
        now = time.monotonic()
        if len(camera.masks) != count:
            count, last_count_at = len(camera.masks), now
        if now - last_count_at > quiet_s or now - drain_start > DRAIN_MAX_S:
            break
        time.sleep(0.01)
    samples = sampler.stop()
    sent = set(published)
    arrivals = sorted((camera.masks[s], s) for s in sent if s in camera.masks)
    latencies = [(r - s) / 1e6 for r, s in arrivals]
    span_s = (arrivals[-1][0] - arrivals[0][0]) / 1e9 if len(arrivals) > 1 else 0.0
    latency = percentiles(latencies)
    statuses = [FrameStatus.from_msg(m) for s in sent if (m := camera.recorder.first("status", s)) is not None]
    median = (lambda values: float(np.median(values)) if values else None)
    return {"target_rate_hz": rate_hz, "publish_s": publish_s, "frames_published": len(published),
            "ticks_skipped": skipped, "publish_rate_hz": len(published) / publish_s if publish_s > 0 else 0.0,
            "masks_received": len(arrivals), "output_fps": (len(arrivals) - 1) / span_s if span_s > 0 else 0.0,
            "latency_ms": latency,
            "overhead_p50_ms": latency["p50"] - model["segment_ms"] if latencies else None,
            "model_ms_p50": median([st.model_ms for st in statuses]),
            "node_ms_p50": median([st.node_ms for st in statuses]), "cpu_cores": cpu_cores,
            "rss": rss_summary(samples, seconds)}


def diagnostics_delta(before: dict[str, str] | None, after: dict[str, str] | None) -> dict:
    """The node's counters over the loaded phase (after - before), and its final values."""
    counters = ("frames_received", "frames_processed", "frames_dropped")
    delta = {k: int(after[k]) - int(before[k]) for k in counters} if before and after else {k: None for k in counters}
    errors = {k: int(v) for k, v in (after or {}).items() if k.startswith("errors.")}
    return {**delta, "errors": errors, "final": after, "before_load": before}
