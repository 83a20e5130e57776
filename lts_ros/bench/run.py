"""``lts bench``: plan the cases, prepare what they run on, measure each in its own process, write the JSON and
the CPU table of docs/benchmarks.md."""
from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from lts_ros.bench.cases import BenchCase, plan_cases
from lts_ros.bench.prepare import Prepared, prepare
from lts_ros.bench.report import check_section, cpu_markdown, machine_info, save
from lts_ros.bench.worker import run_worker
from lts_ros.errors import LtsError
from lts_ros.options import BACKENDS, CPU_BACKENDS, PRECISIONS

QUICK = (["edge"], [320])
DEVICE = "cpu"  # GPU figures come from python -m lts_ros.bench.gpu


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--configs", nargs="+", default=["edge", "paper"], metavar="NAME",
                        help="model configs (default: edge paper; edge has shipped weights, the others random init)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[256, 320, 416], metavar="PX",
                        help="square input sizes, multiples of 32 (default: 256 320 416; tiny: 128)")
    parser.add_argument("--backends", nargs="+", default=list(CPU_BACKENDS), choices=BACKENDS, metavar="NAME",
                        help=f"{', '.join(BACKENDS)} (default: {' '.join(CPU_BACKENDS)}; tensorrt needs a CUDA GPU)")
    parser.add_argument("--precisions", nargs="+", default=list(PRECISIONS), choices=PRECISIONS, metavar="NAME",
                        help="each run by the backends that can: torch fp32 bf16, onnxruntime fp32 fp16 int8, "
                        f"openvino fp32 bf16 int8 (default: {' '.join(PRECISIONS)})")
    parser.add_argument("--frames", type=int, default=30, help="timed frames per case (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed frames first (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=0,
                        help="ONNX Runtime / OpenVINO threads and torch.set_num_threads (default: 0 = all cores)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench/cpu.json"),
                        help="JSON results (default: %(default)s)")
    parser.add_argument("--markdown", type=Path, default=Path("docs/benchmarks.md"),
                        help="document whose CPU section, between its lts-bench:cpu markers, gets the table "
                        "(default: %(default)s)")
    parser.add_argument("--no-markdown", action="store_true", help="write the JSON only")
    parser.add_argument("--work-dir", type=Path, default=Path("runs/bench"),
                        help="checkpoints, ONNX exports and rendered frames, reused across runs "
                        "(default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="edge at 320 only")


def check_options(args: argparse.Namespace) -> None:
    if args.frames < 2:
        raise LtsError(f"--frames must be >= 2 (the 3- and 30-word commands alternate), got {args.frames}")
    if args.warmup < 0:
        raise LtsError(f"--warmup must be >= 0, got {args.warmup}")
    if args.threads < 0:
        raise LtsError(f"--threads must be >= 0 (0 = all cores), got {args.threads}")


def measure_case(case: BenchCase, prepared: Prepared, frame: Path, args: argparse.Namespace) -> dict:
    """One result row: the case, its model's figures and the worker's measurement (or the error)."""
    row = {**asdict(case), "variant": case.variant, "weights": prepared.weights, "gflops": prepared.gflops,
           "parity": prepared.checks.get(case.variant) if case.variant else None}
    error = prepared.errors.get("onnx") if case.backend != "torch" else None
    error = error or prepared.errors.get(case.variant)
    if error:
        return {**row, "error": error}
    spec = {"case": asdict(case), "checkpoint": str(prepared.checkpoint), "frame": str(frame),
            "export_dir": str(prepared.export_dir) if prepared.export_dir else None,
            "frames": args.frames, "warmup": args.warmup, "threads": args.threads}
    figures = run_worker(spec)
    row.update(figures)
    if "error" not in figures:
        row["gflop_s"] = prepared.gflops / (figures["infer_ms_p50"] / 1e3)
    return row


def run_bench(args: argparse.Namespace) -> int:
    """``lts bench``: 0 when it ran (failed cases are results, listed); LtsError for a mistake."""
    check_options(args)
    configs, sizes = QUICK if args.quick else (args.configs, args.sizes)
    cases = plan_cases(configs, sizes, args.backends, args.precisions, DEVICE)
    doc = None if args.no_markdown else args.markdown
    if doc is not None:
        check_section(doc, "cpu")  # fail before the long part, not after it
    prepared, frame = prepare(cases, args.work_dir)
    rows = []
    with tqdm(cases, desc="bench", unit="case") as bar:
        for case in bar:
            bar.set_postfix_str(case.label)
            rows.append(measure_case(case, prepared[case.config, case.size], frame, args))
    result = {"machine": machine_info(args.threads),
              "options": {"frames": args.frames, "warmup": args.warmup, "threads": args.threads,
                          "frame": str(frame), "json": str(args.out)}, "rows": rows}
    save(result, args.out, doc, "cpu", cpu_markdown(result))
    failed = [r for r in rows if "error" in r]
    for row in failed:
        print(f"failed: {row['config']} {row['size']} {row['backend']} {row['precision']}: {row['error']}")
    print(f"{len(rows) - len(failed)} of {len(rows)} cases measured")
    return 0
