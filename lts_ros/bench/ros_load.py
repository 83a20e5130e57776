"""``python -m lts_ros.bench.ros_load``: lts_node under load over real DDS, on one host.

Measures the model's single-frame time in this process, starts lts_node in its own process (isolated DDS
domain, config/fastdds.xml), then sends camera frames (rgb8 + 16UC1 depth + camera_info, reliable keep-last 2)
first one at a time (the node's own overhead; beforehand the same through a bare rclpy node that sleeps the
model's time, the floor any rclpy node pays here) and then at RATE_FACTOR x the measured throughput for SECONDS,
timing every mask from its frame's stamp to its arrival here, sampling the node's RSS and reading its
/diagnostics. Prints a summary with the issue's bars, writes JSON and the ros-load section of
docs/benchmarks.md."""
# The CLI and the run; the frame and the model alone: ros_load_model; the phases: ros_load_phases (and ros_load_rss);
# bars and reports: ros_load_report.
from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from lts_ros.bench.report import check_section, fmt, machine_info, save
from lts_ros.bench.ros_load_model import SCENE_SEED, measure_model, render_frame
from lts_ros.bench.ros_load_phases import (UNLOADED_FRAMES, LoadCamera, diagnostics_delta, run_floor, run_loaded,
                                           run_unloaded)
from lts_ros.bench.ros_load_report import (OVERHEAD_MS, P99_FACTOR, P99_MARGIN_MS, RSS_GROWTH_MIB, evaluate,
                                           print_summary, ros_load_markdown)
from lts_ros.errors import LtsError, OneLineParser, run_command
from lts_ros.options import AUTO, CPU_BACKENDS
from lts_ros.ros.harness.domain import isolated_env
from lts_ros.ros.harness.node_process import NodeProcess

SECTION = "ros-load"
BACKENDS = ("auto", *CPU_BACKENDS)  # the node on this machine's CPU


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
        "ms (frames sent one at a time:\n  median of latency - the model's time inside the node, from each frame's "
        "status).\n"
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
                        help=f"inference backend, for the throughput measurement and the node (default: {AUTO})")
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


def run(args: argparse.Namespace) -> int:
    width, height = args.size
    doc = None if args.no_markdown else args.markdown
    frame = render_frame(width, height)
    model, segmenter = measure_model(args.backend, frame)
    print(f"model alone ({model['backend']}, {width}x{height}): single_ms {model['single_ms']:.1f}, segment_ms "
          f"{model['segment_ms']:.1f} ({model['single_fps']:.1f} FPS)", flush=True)
    rate_hz = model["single_fps"] * args.rate_factor
    log = args.out.with_name(args.out.stem + ".node.log")
    floor = run_floor(isolated_env(), frame, model["single_ms"], log.with_suffix(".echo.log"))
    print(f"floor: a bare rclpy node on the same frames adds {fmt(floor['overhead_ms'])} ms to its "
          f"{model['single_ms']:.1f} ms sleep", flush=True)
    env = isolated_env()
    node = NodeProcess(env, log, {"backend": model["backend"], "command": frame.command})
    camera = None
    try:
        node.wait_active()
        camera = LoadCamera(env, frame)
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
    result = {"machine": machine_info(0), "options": options, "model": model, "floor": floor, "unloaded": unloaded,
              "loaded": loaded, "diagnostics": diagnostics, "lost_in_transit": lost, "node": node_state,
              "bars": evaluate(model, floor, unloaded, loaded, node_state)}
    print_summary(result)
    save(result, args.out, doc, SECTION, ros_load_markdown(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_command(build_parser().prog, lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
