"""``python -m lts_ros.bench.bag_eval``: what ``lts bag eval`` (offline) costs beyond the model.

Records a simulated bag (or takes --bag), decodes its frames into memory once, then alternates REPEATS
times: the bare Segmenter over those in-memory frames (their depth and K, the command changes as in the
bag), and the whole offline evaluation of the bag for each --overlay-every stride (bag reading, pairing,
segmentation, scoring, the output bag). Throughput is frames / wall s; the bar compares medians from one
run: evaluation >= 0.9 x bare. metrics.json and the report's plots are written once per evaluation, after
the loop, and timed apart. Writes JSON and the bag-eval section of docs/benchmarks.md."""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lts_ros.bag.evaluate import evaluate_offline
from lts_ros.bag.frames import BagFrame, read_frames
from lts_ros.bag.output import OVERLAY_EVERY
from lts_ros.bench.report import check_section, fmt, machine_info, save, table
from lts_ros.errors import LtsError, OneLineParser, run_command

SECTION = "bag-eval"
THROUGHPUT_BAR = 0.9  # the issue's: bag I/O and metrics cost at most 10 % of the bare Segmenter's throughput
WARMUP_FRAMES = 3
RECORDING = {"episodes": 2, "seed": 2}  # the make demo bag: 2 episodes of 3 s at 15 Hz, 640x480


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="python -m lts_ros.bench.bag_eval", description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter,
                           epilog=f"bar: offline evaluation throughput >= {THROUGHPUT_BAR:g} x the bare Segmenter's.\n"
                           "exit status: 0 when measured (whatever the verdict), 2 for a usage mistake or a failed "
                           "run.\nRun it on an otherwise idle machine: other load shows up in every figure.")
    parser.add_argument("--bag", type=Path, help="the bag to evaluate (default: record the make demo bag, 2 "
                        "episodes of 3 s at 15 Hz, into a temporary directory)")
    parser.add_argument("--overlay-every", type=int, nargs="+", default=[OVERLAY_EVERY, 1, 0], metavar="N",
                        help="output-bag overlay strides to measure, each a full evaluation per repeat "
                        "(1 = every frame, 0 = none; default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=5, help="alternating rounds (default: %(default)s)")
    parser.add_argument("--backend", default="onnxruntime", choices=("torch", "onnxruntime"),
                        help="the Segmenter's backend (default: %(default)s, as lts_node on a CPU)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench/bag_eval.json"), metavar="JSON",
                        help="JSON results (default: %(default)s)")
    parser.add_argument("--markdown", type=Path, default=Path("docs/benchmarks.md"), metavar="MD",
                        help="document whose bag-eval section gets the results (default: %(default)s)")
    parser.add_argument("--no-markdown", action="store_true", help="write the JSON only")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 1 <= args.repeats <= 20:
        parser.error(f"--repeats must be in 1..20, got {args.repeats}")
    if any(n < 0 for n in args.overlay_every):
        parser.error("--overlay-every strides must be >= 0")
    if not args.no_markdown:
        try:
            check_section(args.markdown, SECTION)
        except LtsError as exc:
            parser.error(str(exc))
    return args


def bare_fps(segmenter, frames: list[BagFrame]) -> float:
    """Frames per second of ``segment()`` alone over decoded frames, with the bag's command changes."""
    start = time.perf_counter()
    for frame in frames:
        if segmenter.command != frame.command.strip():
            segmenter.set_command(frame.command)
        with_depth = frame.depth_m is not None and frame.K is not None
        segmenter.segment(frame.rgb, frame.depth_m if with_depth else None, frame.K if with_depth else None)
    return len(frames) / (time.perf_counter() - start)


def eval_fps(segmenter, bag: Path, work: Path, overlay_every: int) -> tuple[float, float, int]:
    """One offline evaluation into a scratch directory: (frames / loop wall s, report s, frames)."""
    from lts_ros.bag.report import metrics, write_report

    out = Path(tempfile.mkdtemp(dir=work))
    try:
        evaluation = evaluate_offline(bag, out, segmenter, overlay_every=overlay_every, progress=False)
        start = time.perf_counter()
        write_report(evaluation, metrics(evaluation), out, "benchmark")
        return len(evaluation.frames) / evaluation.wall_s, time.perf_counter() - start, len(evaluation.frames)
    finally:
        shutil.rmtree(out)


def measure(args: argparse.Namespace, bag: Path, work: Path) -> dict:
    from lts_ros.checkpoint import shipped_checkpoint
    from lts_ros.runtime.segmenter import Segmenter

    frames = [f for f in read_frames(bag) if f.command is not None]
    if not frames:
        raise LtsError(f"{bag} has no frames with a command to segment")
    segmenter = Segmenter.from_checkpoint(shipped_checkpoint(), backend=args.backend)
    bare_fps(segmenter, frames[:WARMUP_FRAMES])
    bare, evals, report_s = [], {n: [] for n in args.overlay_every}, []
    for round_ in range(args.repeats):
        bare.append(bare_fps(segmenter, frames))
        line = f"round {round_ + 1}/{args.repeats}: bare {bare[-1]:.1f} FPS"
        for stride in args.overlay_every:
            fps, seconds, _ = eval_fps(segmenter, bag, work, stride)
            evals[stride].append(fps)
            report_s.append(seconds)
            line += f", eval (overlay every {stride}) {fps:.1f}"
        print(line, flush=True)
    bare_median = statistics.median(bare)
    rows = [{"overlay_every": n, "fps": statistics.median(v), "fps_runs": v,
             "ratio": statistics.median(v) / bare_median, "met": statistics.median(v) / bare_median >= THROUGHPUT_BAR,
             "ratio_runs": [e / b for e, b in zip(v, bare)]}  # per round, to see the machine's noise
            for n, v in evals.items()]
    return {"frames": len(frames), "backend": segmenter.backend.name, "bare_fps": bare_median, "bare_fps_runs": bare,
            "evaluations": rows, "report_s": statistics.median(report_s)}


def describe(result: dict) -> str:
    m, o = result["machine"], result["options"]
    return (f"Measured {m['date_utc']} on {m['cpu']} ({m['usable_cores']} of {m['logical_cores']} logical cores "
            f"usable), Python {m['python']}, onnxruntime {m['onnxruntime']}; shipped edge model, "
            f"{result['backend']}, {result['frames']} frames of {o['bag']}, medians of {o['repeats']} alternating "
            f"rounds. Raw figures: `{o['json']}`.")


def overlay_label(stride: int) -> str:
    return {0: "none", 1: "every frame"}.get(stride, f"every {stride}th frame")


def bag_eval_markdown(result: dict) -> str:
    rows = [["bare Segmenter (decoded frames in memory)", fmt(result["bare_fps"]), "1", "–"]]
    rows += [[f"lts bag eval, overlays {overlay_label(r['overlay_every'])}", fmt(r["fps"]), f"{r['ratio']:.2f}",
              "met" if r["met"] else "not met"] for r in result["evaluations"]]
    return "\n".join([describe(result), "", table(["loop", "FPS", f"× bare (bar ≥ {THROUGHPUT_BAR:g})", "verdict"],
                                                  rows), "",
                      f"metrics.json, report.md and the plots, after the loop: {result['report_s']:.1f} s per "
                      "evaluation (not counted above)."])


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="lts_bag_eval_") as work:
        work = Path(work)
        bag = args.bag
        if bag is None:
            from lts_ros.bag.record import record_sim  # pybullet: only when recording

            bag = work / "sim_bag"
            print("recording the demo bag (2 episodes, about 20 s)", flush=True)
            record_sim(bag, **RECORDING, progress=False)
        result = measure(args, bag, work)
    result.update(machine=machine_info(0), options={"bag": str(args.bag or "the make demo bag (recorded)"),
                                                   "repeats": args.repeats, "json": str(args.out)})
    print(f"bare Segmenter: {result['bare_fps']:.1f} FPS")
    for row in result["evaluations"]:
        print(f"lts bag eval, overlays {overlay_label(row['overlay_every'])}: {row['fps']:.1f} FPS = "
              f"{row['ratio']:.2f} x bare ({'met' if row['met'] else 'not met'}, bar {THROUGHPUT_BAR:g})")
    print(f"report after the loop: {result['report_s']:.1f} s")
    save(result, args.out, None if args.no_markdown else args.markdown, SECTION, bag_eval_markdown(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_command(build_parser().prog, lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
