"""``python -m lts_ros.bench.ros_load``: lts_node under load over real DDS, on one host.

Measures the model's single-frame time in this process, starts lts_node in its own process (isolated DDS
domain, config/fastdds.xml), then sends camera frames (rgb8 + 16UC1 depth + camera_info, reliable keep-last 2)
first one at a time (the node's own overhead) and then at RATE_FACTOR x the measured throughput for SECONDS,
timing every mask from its frame's stamp to its arrival here, sampling the node's RSS and reading its
/diagnostics. Prints a summary with the issue's bars, writes JSON and the ros-load section of
docs/benchmarks.md."""
from __future__ import annotations

import argparse
import gc
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image

from lts_ros.bench.node_process import NodeProcess, dds_environment, isolated_env
from lts_ros.bench.report import check_section, fmt, machine_info, save, table
from lts_ros.errors import LtsError, OneLineParser, run_command
from lts_ros.ros.conversions import fill_image, stamp_ns
from lts_ros.ros.qos import camera_qos

SECTION = "ros-load"
BACKENDS = ("auto", "torch", "onnxruntime")
OPTICAL_FRAME = "camera_color_optical_frame"
SCENE_SEED = 0  # the rendered tabletop scene every frame shows (content does not change the work)

MODEL_WARMUP, MODEL_FRAMES = 3, 20  # single-frame throughput in this process
UNLOADED_WARMUP, UNLOADED_FRAMES = 3, 20  # frames sent one at a time, each waiting for its mask
# Pause after each mask and after each local segment(): the node finishes publishing, and neither process's
# ONNX Runtime threads still spin (they busy-wait a moment after a run) when the other one computes.
UNLOADED_GAP_S = 0.05
MASK_TIMEOUT_S = 30.0  # one frame's mask, unloaded
MATCH_TIMEOUT_S = 30.0  # DDS discovery between the two processes
DIAGNOSTICS_TIMEOUT_S = 5.0  # the node publishes /diagnostics every second
RSS_EVERY_S = 0.5
RSS_SETTLE_S = 5.0  # the RSS baseline skips the loaded phase's first 5 s, in runs of at least twice that
DRAIN_MAX_S = 10.0

# The bars.
P99_FACTOR, P99_MARGIN_MS = 2.0, 20.0  # latency p99 <= 2 x single_ms + 20 ms
RSS_GROWTH_MIB = 20.0  # "20 MB", read as MiB like every RSS figure here
OVERHEAD_MS = 5.0  # node overhead, evaluated unloaded


def frame_size(text: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` -> (width, height)."""
    width, sep, height = text.lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit()):
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 640x480, got '{text}'")
    size = int(width), int(height)
    if not all(32 <= s <= 4096 for s in size):
        raise argparse.ArgumentTypeError(f"width and height must be in 32..4096 px, got '{text}'")
    return size


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="python -m lts_ros.bench.ros_load", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"bars: latency p99 <= {P99_FACTOR:g} x single_ms + {P99_MARGIN_MS:g} ms; node RSS growth <= "
        f"{RSS_GROWTH_MIB:g} MiB;\n  no crash (alive at the end, exit 0 on SIGINT); node overhead <= {OVERHEAD_MS:g} "
        "ms (median latency\n  - median segment time, frames sent one at a time).\n"
        "exit status: 0 when measured (whatever the verdicts), 2 for a usage mistake or a run that failed.\n"
        "Run it on an otherwise idle machine: other load shows up in every figure.")
    parser.add_argument("--seconds", type=float, default=60.0, metavar="S",
                        help="length of the loaded phase in s (default: %(default)g)")
    parser.add_argument("--rate-factor", type=float, default=2.0, metavar="X",
                        help="frames are sent at this many times the model's measured single-frame throughput "
                        "(default: %(default)g, i.e. overload)")
    parser.add_argument("--size", type=frame_size, default=(640, 480), metavar="WxH",
                        help="camera frame size (default: 640x480)")
    parser.add_argument("--backend", default="auto", choices=BACKENDS,
                        help="inference backend, for the throughput measurement and the node (default: auto = "
                        "onnxruntime on the CPU when it can run, else torch)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench/ros_load.json"), metavar="JSON",
                        help="JSON results (default: %(default)s); the node's log goes beside it (.node.log)")
    parser.add_argument("--markdown", type=Path, default=Path("docs/benchmarks.md"), metavar="MD",
                        help="document whose ros-load section, between its lts-bench:ros-load markers, gets the "
                        "results (default: %(default)s)")
    parser.add_argument("--no-markdown", action="store_true", help="write the JSON only")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 3600:
        parser.error(f"--seconds must be in (0, 3600], got {args.seconds:g}")
    if not 0 < args.rate_factor <= 100:
        parser.error(f"--rate-factor must be in (0, 100], got {args.rate_factor:g}")
    if args.markdown is not None and not args.no_markdown:
        try:
            check_section(args.markdown, SECTION)
        except LtsError as exc:
            parser.error(str(exc))
    return args


# ---- the camera frame and the model alone ------------------------------------------------------------------
@dataclass
class CameraFrame:
    rgb: np.ndarray  # (H, W, 3) uint8
    depth_mm: np.ndarray  # (H, W) uint16
    K: np.ndarray  # (3, 3)
    command: str  # names an object visible in the frame


def render_frame(width: int, height: int) -> CameraFrame:
    """One tabletop scene; the command names its largest visible object with a unique colour and category."""
    from lts_ros.data.tabletop.scene import CATEGORY_WORDS
    from lts_ros.data.tabletop.world import render_scene

    scene = render_scene(SCENE_SEED, width=width, height=height)
    named = [o for o in scene.objects if o.color is not None and o.visible_px > 0]
    unique = [o for o in named if sum((p.color, p.category) == (o.color, o.category) for p in named) == 1]
    target = max(unique or named, key=lambda o: o.visible_px)
    command = f"the {target.color} {CATEGORY_WORDS[target.category][0]}"
    depth_mm = np.round(np.clip(scene.depth_m, 0, 65.535) * 1000).astype(np.uint16)
    return CameraFrame(scene.rgb, depth_mm, scene.camera.K, command)


def segment_ms(segmenter, frame: CameraFrame) -> tuple[float, float]:
    """One ``segment()`` on ``frame`` with its depth and K, as the node runs it: (wall ms, pre+infer+post ms)."""
    start = time.perf_counter()
    result = segmenter.segment(frame.rgb, frame.depth_mm, frame.K)
    wall = 1e3 * (time.perf_counter() - start)
    return wall, sum(result.timings_ms[k] for k in ("pre", "infer", "post"))


def measure_model(backend: str, frame: CameraFrame):
    """The shipped model in this process: the median wall time of ``segment()`` (``single_ms``) and of its
    pre+infer+post timings (``segment_ms``) after warm-up, the backend that ran; and the segmenter, kept to
    time the same work beside the node's unloaded frames."""
    from lts_ros.checkpoint import shipped_checkpoint
    from lts_ros.runtime.segmenter import Segmenter

    segmenter = Segmenter.from_checkpoint(shipped_checkpoint(), backend=backend)
    segmenter.set_command(frame.command)
    for _ in range(MODEL_WARMUP):
        segment_ms(segmenter, frame)
    wall, parts = zip(*(segment_ms(segmenter, frame) for _ in range(MODEL_FRAMES)))
    single_ms = float(np.median(wall))
    figures = {"backend": segmenter.backend.name, "input_size": segmenter.input_size, "frames": MODEL_FRAMES,
               "single_ms": single_ms, "segment_ms": float(np.median(parts)), "single_fps": 1e3 / single_ms}
    return figures, segmenter


# ---- this process's side of the graph ----------------------------------------------------------------------
class Camera:
    """A camera-like publisher and the mask and /diagnostics subscriber, spun in a thread of their own so a
    mask's arrival is timed when it arrives, not when the publishing loop gets round to it."""

    def __init__(self, frame: CameraFrame):
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node("lts_load_camera", context=self.context)
        qos = camera_qos("reliable")  # config/lts.yaml's image_reliability; keep last 2
        self.pub_image = self.node.create_publisher(Image, "image", qos)
        self.pub_depth = self.node.create_publisher(Image, "depth", qos)
        self.pub_info = self.node.create_publisher(CameraInfo, "camera_info", qos)
        # The messages are built once; each frame only gets a new header.
        height, width = frame.rgb.shape[:2]
        self.image = fill_image(Image(), frame.rgb, "rgb8")
        self.depth = fill_image(Image(), frame.depth_mm, "16UC1")
        self.info = CameraInfo(width=width, height=height, k=frame.K.reshape(-1).astype(float).tolist())
        self.received_ns: dict[int, int] = {}  # mask stamp -> arrival, ns on this host's clock
        self.diagnostics: list[tuple[int, dict[str, str]]] = []  # (stamp ns, lts_node's status values)
        self._last_stamp = 0
        reliable = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100, reliability=ReliabilityPolicy.RELIABLE)
        self.sub_mask = self.node.create_subscription(Image, "/lts_node/mask", self._on_mask, reliable)
        self.sub_diagnostics = self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics,
                                                             reliable)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, name="lts-load-spin", daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        try:
            self.executor.spin()
        except Exception:  # noqa: BLE001 - shutdown from the main thread may end spin with an error
            pass

    def now_ns(self) -> int:
        return self.node.get_clock().now().nanoseconds

    def _on_mask(self, msg: Image) -> None:
        self.received_ns[stamp_ns(msg.header)] = self.now_ns()

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name.startswith("lts_node"):
                self.diagnostics.append((stamp_ns(msg.header), {kv.key: kv.value for kv in status.values}))

    def wait_matched(self, timeout_s: float = MATCH_TIMEOUT_S) -> None:
        checks = {"lts_node subscribing to 'image'": lambda: self.pub_image.get_subscription_count() > 0,
                  "lts_node publishing '/lts_node/mask'": lambda: self.sub_mask.get_publisher_count() > 0,
                  "lts_node publishing '/diagnostics'": lambda: self.sub_diagnostics.get_publisher_count() > 0}
        for what, check in checks.items():
            if not wait_until(check, timeout_s):
                raise LtsError(f"no {what} after {timeout_s:.0f} s of discovery")

    def send(self) -> int:
        """Publish one frame (camera_info, depth, image with one header, stamped now); its stamp in ns."""
        stamp = max(self.now_ns(), self._last_stamp + 1)  # unique, even within one clock tick
        self._last_stamp = stamp
        for msg in (self.info, self.depth, self.image):
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 10**9)
            msg.header.frame_id = OPTICAL_FRAME
        self.pub_info.publish(self.info)
        self.pub_depth.publish(self.depth)
        self.pub_image.publish(self.image)
        return stamp

    def diagnostics_after(self, stamp: int, timeout_s: float = DIAGNOSTICS_TIMEOUT_S) -> dict[str, str] | None:
        """lts_node's first /diagnostics values stamped at or after ``stamp`` (ns); None if none comes."""
        def first() -> dict[str, str] | None:
            return next((values for s, values in list(self.diagnostics) if s >= stamp), None)

        wait_until(lambda: first() is not None, timeout_s)
        return first()

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=5)
        self._thread.join(5)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)


def wait_until(predicate: Callable[[], bool], timeout_s: float, every_s: float = 0.002) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(every_s)
    return True


def percentiles(latencies_ms: list[float]) -> dict[str, float | None]:
    if not latencies_ms:
        return {"p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    p50, p90, p99 = np.percentile(latencies_ms, [50, 90, 99])
    return {"p50": float(p50), "p90": float(p90), "p99": float(p99), "max": float(np.max(latencies_ms)),
            "mean": float(np.mean(latencies_ms))}


# ---- the two phases ----------------------------------------------------------------------------------------
def run_unloaded(camera: Camera, node: NodeProcess, segmenter, frame: CameraFrame) -> dict:
    """Frames one at a time, each waiting for its mask: latency without queueing. After each mask this process
    segments the same frame itself (the node idle meanwhile), so the node's overhead (DDS both ways, decoding,
    depth pairing, publishing) = median latency - median segment_ms is taken under the same machine load."""
    latencies, local_ms, missing = [], [], 0
    for i in range(UNLOADED_WARMUP + UNLOADED_FRAMES):
        stamp = camera.send()
        wait_until(lambda: stamp in camera.received_ns or not node.alive(), MASK_TIMEOUT_S)
        if not node.alive():
            raise LtsError(f"lts_node exited ({node.proc.returncode}) while frames were sent one at a time (log: "
                           f"{node.log})")
        if stamp not in camera.received_ns:
            missing += 1
            continue
        time.sleep(UNLOADED_GAP_S)
        if i >= UNLOADED_WARMUP:
            latencies.append((camera.received_ns[stamp] - stamp) / 1e6)
            local_ms.append(segment_ms(segmenter, frame)[1])
            time.sleep(UNLOADED_GAP_S)
    latency = percentiles(latencies)
    local = float(np.median(local_ms)) if local_ms else None
    return {"frames": UNLOADED_FRAMES, "warmup": UNLOADED_WARMUP, "masks": len(latencies), "missing": missing,
            "latency_ms": latency, "segment_ms": local,
            "overhead_ms": latency["p50"] - local if latencies else None}


class RssSampler:
    """The node's RSS every RSS_EVERY_S in a thread: (s since start, MiB)."""

    def __init__(self, node: NodeProcess):
        self.node, self.samples = node, []
        self._stop = threading.Event()
        self._start = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="lts-load-rss", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            rss = self.node.rss_mib()
            if rss is not None:
                self.samples.append((round(time.monotonic() - self._start, 3), round(rss, 2)))
            if self._stop.wait(RSS_EVERY_S):
                return

    def stop(self) -> list[tuple[float, float]]:
        self._stop.set()
        self._thread.join(5)
        return self.samples


def rss_summary(samples: list[tuple[float, float]], seconds: float) -> dict:
    """Start (the first sample after RSS_SETTLE_S when the run lasts at least twice that, else the first), end
    (the last sample), growth and peak, MiB."""
    settle = RSS_SETTLE_S if seconds >= 2 * RSS_SETTLE_S else 0.0
    baseline = next(((t, v) for t, v in samples if t >= settle), None)
    if baseline is None or len(samples) < 2:
        return {"samples": samples, "start_mib": None, "end_mib": None, "growth_mib": None,
                "peak_mib": max((v for _, v in samples), default=None), "start_at_s": None, "every_s": RSS_EVERY_S}
    end = samples[-1][1]
    return {"samples": samples, "start_mib": baseline[1], "start_at_s": baseline[0], "end_mib": end,
            "end_at_s": samples[-1][0], "growth_mib": end - baseline[1], "peak_mib": max(v for _, v in samples),
            "every_s": RSS_EVERY_S}


def run_loaded(camera: Camera, node: NodeProcess, rate_hz: float, seconds: float, model: dict) -> dict:
    """Frames at ``rate_hz`` for ``seconds`` (ticks that cannot be kept are skipped, not bunched), then a drain
    until the last frame's mask arrives or the node goes quiet; latency of every mask, the node's RSS."""
    period = 1.0 / rate_hz
    sampler = RssSampler(node)
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
    # Drain: the node holds at most one frame in progress and one pending.
    quiet_s = 0.5 + 3e-3 * model["single_ms"]
    drain_start = last_count_at = time.monotonic()
    count = len(camera.received_ns)
    while published and published[-1] not in camera.received_ns and node.alive():
        now = time.monotonic()
        if len(camera.received_ns) != count:
            count, last_count_at = len(camera.received_ns), now
        if now - last_count_at > quiet_s or now - drain_start > DRAIN_MAX_S:
            break
        time.sleep(0.01)
    samples = sampler.stop()
    sent = set(published)
    arrivals = sorted((camera.received_ns[s], s) for s in sent if s in camera.received_ns)
    latencies = [(r - s) / 1e6 for r, s in arrivals]
    span_s = (arrivals[-1][0] - arrivals[0][0]) / 1e9 if len(arrivals) > 1 else 0.0
    latency = percentiles(latencies)
    return {"target_rate_hz": rate_hz, "publish_s": publish_s, "frames_published": len(published),
            "ticks_skipped": skipped, "publish_rate_hz": len(published) / publish_s if publish_s > 0 else 0.0,
            "masks_received": len(arrivals), "output_fps": (len(arrivals) - 1) / span_s if span_s > 0 else 0.0,
            "latency_ms": latency,
            "overhead_p50_ms": latency["p50"] - model["segment_ms"] if latencies else None,
            "rss": rss_summary(samples, seconds)}


def diagnostics_delta(before: dict[str, str] | None, after: dict[str, str] | None) -> dict:
    """The node's counters over the loaded phase (after - before), and its final values."""
    counters = ("frames_received", "frames_processed", "frames_dropped")
    delta = {k: int(after[k]) - int(before[k]) for k in counters} if before and after else {k: None for k in counters}
    errors = {k: int(v) for k, v in (after or {}).items() if k.startswith("errors.")}
    return {**delta, "errors": errors, "final": after, "before_load": before}


# ---- verdicts and reports ----------------------------------------------------------------------------------
def bar(name: str, text: str, measured: str, met: bool) -> dict:
    return {"name": name, "bar": text, "measured": measured, "met": bool(met)}


def evaluate(model: dict, unloaded: dict, loaded: dict, node: dict) -> list[dict]:
    single, p99 = model["single_ms"], loaded["latency_ms"]["p99"]
    limit = P99_FACTOR * single + P99_MARGIN_MS
    bars = [bar("latency_p99", f"latency p99 ≤ {P99_FACTOR:g} × single_ms + {P99_MARGIN_MS:g} ms",
                f"{fmt(p99)} ms vs {fmt(limit)} ms (single_ms {fmt(single)})" if p99 is not None else "no masks",
                p99 is not None and p99 <= limit)]
    rss = loaded["rss"]
    growth = rss["growth_mib"]
    bars.append(bar("rss_growth", f"node RSS growth ≤ {RSS_GROWTH_MIB:g} MiB",
                    f"{growth:+.1f} MiB ({fmt(rss['start_mib'])} at {rss['start_at_s']:.1f} s → "
                    f"{fmt(rss['end_mib'])} at {rss['end_at_s']:.1f} s)" if growth is not None else "too few samples",
                    growth is not None and growth <= RSS_GROWTH_MIB))
    bars.append(bar("no_crash", "no crash: node alive at the end, exit 0 on SIGINT",
                    f"alive: {'yes' if node['alive_at_end'] else 'no'}, exit status {node['exit_code']}",
                    node["alive_at_end"] and node["exit_code"] == 0))
    over, loaded_over = unloaded["overhead_ms"], loaded["overhead_p50_ms"]
    if over is None:
        measured = "no unloaded masks"
    else:
        noisy = "; negative: the machine is noisier than the overhead" if over < 0 else ""
        measured = f"{fmt(over)} ms ({unloaded['masks']} frames one at a time{noisy})"
    if loaded_over is not None:
        measured += f"; under load p50 − segment_ms = {fmt(loaded_over)} ms (includes waiting for the worker)"
    bars.append(bar("node_overhead", f"node overhead ≤ {OVERHEAD_MS:g} ms (unloaded: median latency − median "
                    "segment_ms beside it)", measured, over is not None and over <= OVERHEAD_MS))
    return bars


def figures(result: dict) -> list[list[str]]:
    """[figure, value] rows shared by the summary and the markdown table."""
    m, u, l, d = result["model"], result["unloaded"], result["loaded"], result["diagnostics"]
    lat, ulat, rss = l["latency_ms"], u["latency_ms"], l["rss"]
    errors = ", ".join(f"{k.removeprefix('errors.')} {v}" for k, v in d["errors"].items()) or "none"
    count = (lambda v: "–" if v is None else str(v))
    return [
        ["model alone: single_ms / segment_ms (pre+infer+post)", f"{fmt(m['single_ms'])} / {fmt(m['segment_ms'])} "
         f"ms ({fmt(m['single_fps'])} FPS, median of {m['frames']})"],
        ["unloaded: latency p50 / max", f"{fmt(ulat['p50'])} / {fmt(ulat['max'])} ms ({u['masks']} frames)"],
        ["unloaded: segment_ms beside each frame (this process)", f"{fmt(u['segment_ms'])} ms"],
        ["unloaded: node overhead (latency p50 − segment_ms)", f"{fmt(u['overhead_ms'])} ms"],
        ["loaded: rate target / achieved", f"{fmt(l['target_rate_hz'])} / {fmt(l['publish_rate_hz'])} Hz"],
        ["frames published", str(l["frames_published"])],
        ["masks received", str(l["masks_received"])],
        ["frames received by the node", count(d["frames_received"])],
        ["frames dropped by the node (stale, replaced by a newer one)", count(d["frames_dropped"])],
        ["frames lost in transit (published − masks − dropped)", count(result["lost_in_transit"])],
        ["output FPS", fmt(l["output_fps"])],
        ["latency p50 / p90 / p99 / max", f"{fmt(lat['p50'])} / {fmt(lat['p90'])} / {fmt(lat['p99'])} / "
         f"{fmt(lat['max'])} ms"],
        ["loaded: p50 − segment_ms", f"{fmt(l['overhead_p50_ms'])} ms"],
        ["node RSS start / end / peak", f"{fmt(rss['start_mib'])} / {fmt(rss['end_mib'])} / {fmt(rss['peak_mib'])} "
         f"MiB ({len(rss['samples'])} samples)"],
        ["node errors (diagnostics)", errors],
    ]


def describe(result: dict) -> str:
    m, o = result["machine"], result["options"]
    return (f"Measured {m['date_utc']} on {m['cpu']} ({m['usable_cores']} of {m['logical_cores']} logical cores "
            f"usable, {m['ram_gib']} GiB RAM), {m['os']}; Python {m['python']}, torch {m['torch']}, onnxruntime "
            f"{m['onnxruntime']}. lts_node ({result['model']['backend']}, shipped edge model at "
            f"{result['model']['input_size']} px) in its own process; this process sent {o['size']} rgb8 + 16UC1 depth "
            f"+ camera_info (reliable, keep last 2, config/fastdds.xml) with the command '{o['command']}' at "
            f"{o['rate_factor']:g}× the model's measured throughput for {o['seconds']:g} s, and timed each mask "
            f"from its frame's stamp to its arrival (one host clock). Raw figures: `{o['json']}`.")


def ros_load_markdown(result: dict) -> str:
    rows = [[b["bar"], b["measured"], "met" if b["met"] else "not met"] for b in result["bars"]]
    return "\n".join([describe(result), "", table(["figure", "value"], figures(result)), "",
                      "The issue's bars (this run):", "", table(["bar", "measured", "verdict"], rows)])


def print_summary(result: dict) -> None:
    for name, value in figures(result):
        print(f"  {name}: {value}")
    for b in result["bars"]:
        print(f"  [{'met' if b['met'] else 'NOT MET'}] {b['bar']}: {b['measured']}")


# ---- the run -----------------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    width, height = args.size
    doc = None if args.no_markdown else args.markdown
    frame = render_frame(width, height)
    model, segmenter = measure_model(args.backend, frame)
    print(f"model alone ({model['backend']}, {width}x{height}): single_ms {model['single_ms']:.1f}, segment_ms "
          f"{model['segment_ms']:.1f} ({model['single_fps']:.1f} FPS)", flush=True)
    rate_hz = model["single_fps"] * args.rate_factor
    env = isolated_env()
    log = args.out.with_name(args.out.stem + ".node.log")
    node = NodeProcess(env, log, {"backend": model["backend"], "command": frame.command})
    camera = None
    try:
        node.wait_active()
        with dds_environment(env):  # rclpy.init reads the node's domain and profile
            camera = Camera(frame)
        camera.wait_matched()
        print(f"lts_node active (pid {node.pid}, domain {env['ROS_DOMAIN_ID']}); {UNLOADED_FRAMES} frames one at "
              f"a time", flush=True)
        unloaded = run_unloaded(camera, node, segmenter, frame)
        segmenter = None
        gc.collect()  # this process's model is done with: the loaded phase leaves memory to the node
        before = camera.diagnostics_after(camera.now_ns())
        print(f"loaded: {rate_hz:.1f} Hz for {args.seconds:g} s", flush=True)
        loaded = run_loaded(camera, node, rate_hz, args.seconds, model)
        after = camera.diagnostics_after(camera.now_ns()) if node.alive() else None
        alive = node.alive()
    finally:
        if camera is not None:
            camera.close()
        exit_code = node.stop()
    diagnostics = diagnostics_delta(before, after)
    lost = loaded["frames_published"] - loaded["masks_received"] - diagnostics["frames_dropped"] \
        if diagnostics["frames_dropped"] is not None else None
    node_state = {"alive_at_end": alive, "exit_code": exit_code, "log": str(log)}
    options = {"seconds": args.seconds, "rate_factor": args.rate_factor, "size": f"{width}x{height}",
               "backend_requested": args.backend, "command": frame.command, "scene_seed": SCENE_SEED,
               "json": str(args.out)}
    result = {"machine": machine_info(0), "options": options, "model": model, "unloaded": unloaded,
              "loaded": loaded, "diagnostics": diagnostics, "lost_in_transit": lost, "node": node_state,
              "bars": evaluate(model, unloaded, loaded, node_state)}
    print_summary(result)
    save(result, args.out, doc, SECTION, ros_load_markdown(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_command(build_parser().prog, lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
