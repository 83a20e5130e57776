"""``python -m lts_ros.bench.gpu``: torch on one CUDA GPU, a few minutes: ``model.segment`` latency for edge
(shipped weights) and paper (random init) at 320 and 416 in fp32, fp16 autocast, and fp16 autocast replayed
from a CUDA graph; text encode time and peak CUDA memory. Writes JSON and the GPU table of docs/benchmarks.md."""
from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import torch

from lts_ros.bench.prepare import SHIPPED, bench_model, frame_gflops
from lts_ros.bench.report import check_section, gpu_markdown, save
from lts_ros.bench.worker import (LONG_WORDS, SHORT_WORDS, TEXT_REPEATS, commands, encode_ms, error_message,
                                  latency_stats)
from lts_ros.errors import LtsError, run_command
from lts_ros.model.lts import LTS

CONFIGS, SIZES = ("edge", "paper"), (320, 416)
MODES = ("fp32", "fp16", "fp16+graphs")
WARMUP = 10  # untimed iterations per mode (cuDNN autotuning happens here)
MAX_FRAMES = 1000  # keeps the whole run within minutes


def require_cuda() -> torch.device:
    if not torch.cuda.is_available():
        raise LtsError("no CUDA GPU visible to torch (torch.cuda.is_available() is False): run this on a GPU "
                       "machine with a CUDA build of torch")
    return torch.device("cuda")


def driver_version() -> str:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30).stdout
        return out.split()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


def gpu_info() -> dict:
    return {"gpu": torch.cuda.get_device_name(), "driver": driver_version(), "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(), "torch": torch.__version__,
            "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def autocast(mode: str) -> contextlib.AbstractContextManager:
    """fp16 autocast for the fp16 modes; a graph capture needs the weight-cast cache off."""
    if mode == "fp32":
        return contextlib.nullcontext()
    return torch.autocast("cuda", dtype=torch.float16, cache_enabled=mode != "fp16+graphs")


def text_ms(model: LTS, mode: str, words: int) -> float:
    """Median ms to tokenize and encode a new ``words``-word command (synchronized)."""
    def encode(text: str) -> None:
        with autocast(mode):
            model.encode_text(*(t.cuda() for t in model.tokenize([text])))
        torch.cuda.synchronize()

    return encode_ms(encode, commands(words, TEXT_REPEATS + 1, start=1))


def graphed(step: Callable[[], object]) -> Callable[[], None]:
    """``step`` captured in a CUDA graph (after warm-up on a side stream, as capture requires); returns replay.
    ``step`` must read and write only tensors that stay allocated (static inputs)."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return graph.replay


def time_steps(step: Callable[[], object], frames: int) -> list[float]:
    """Per-call latency in ms by CUDA events, each call synchronized (latency, not pipelined throughput)."""
    for _ in range(WARMUP):
        step()
    torch.cuda.synchronize()
    times = []
    for _ in range(frames):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return times


def measure_mode(model: LTS, size: int, mode: str, frames: int) -> dict:
    """One mode on a model already on the GPU: text encode, per-frame latency and peak memory."""
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    with torch.inference_mode():
        text_figures = {f"text_ms_{w}w": text_ms(model, mode, w) for w in (SHORT_WORDS, LONG_WORDS)}
        with autocast(mode):
            text = model.encode_text(*(t.cuda() for t in model.tokenize([commands(SHORT_WORDS, 1)[0]])))
        # Content does not change the work (no data-dependent control flow); a new frame is copied into the
        # static input each time, as a camera loop feeding a CUDA graph would.
        frame = torch.rand(1, 3, size, size, device="cuda", generator=torch.Generator(device="cuda").manual_seed(0))
        image = torch.empty_like(frame)

        def step() -> None:
            image.copy_(frame)
            with autocast(mode):
                model.segment(image, text)

        latencies = time_steps(graphed(step) if mode == "fp16+graphs" else step, frames)
    return {**text_figures, **latency_stats(latencies), "peak_cuda_mib": torch.cuda.max_memory_allocated() / 2**20}


def measure_config(config: str, size: int, frames: int) -> list[dict]:
    """Every mode of one (config, size); a failure is recorded in its rows, not raised."""
    base = {"config": config, "size": size, "weights": "shipped" if config in SHIPPED else "random"}
    try:
        model, base["weights"] = bench_model(config, size)
        base["gflops"] = frame_gflops(model, size)  # counted on the CPU, before the move
        model = model.cuda().eval()
    except Exception as exc:  # noqa: BLE001 - e.g. a text-encoder wheel missing on the GPU machine
        return [{**base, "mode": mode, "error": error_message(exc)} for mode in MODES]
    rows = []
    for mode in MODES:
        row = {**base, "mode": mode}
        try:
            row.update(measure_mode(model, size, mode, frames))
            row["gflop_s"] = row["gflops"] / (row["p50_ms"] / 1e3)
        except Exception as exc:  # noqa: BLE001 - a mode that fails (a capture, say) is a result too
            row["error"] = error_message(exc)
        rows.append(row)
    del model
    torch.cuda.empty_cache()
    return rows


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lts_ros.bench.gpu", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("runs/bench/gpu.json"), help="JSON results")
    parser.add_argument("--markdown", type=Path, default=Path("docs/benchmarks.md"),
                        help="document whose GPU section (between its lts-bench:gpu markers) gets the table")
    parser.add_argument("--no-markdown", action="store_true", help="write the JSON only")
    parser.add_argument("--frames", type=int, default=100, help=f"timed frames per mode (1..{MAX_FRAMES})")
    return parser


def run_gpu(args: argparse.Namespace) -> int:
    if not 1 <= args.frames <= MAX_FRAMES:
        raise LtsError(f"--frames must be in 1..{MAX_FRAMES}, got {args.frames}")
    require_cuda()
    doc = None if args.no_markdown else args.markdown
    if doc is not None:
        check_section(doc, "gpu")
    torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick the fastest kernels (during warm-up)
    rows = []
    for config in CONFIGS:
        for size in SIZES:
            rows += measure_config(config, size, args.frames)
            print(f"{config} {size}: " + "; ".join(
                f"{r['mode']} {'failed' if 'error' in r else format(r['p50_ms'], '.2f') + ' ms'}"
                for r in rows[-len(MODES):]), flush=True)
    options = {"frames": args.frames, "warmup": WARMUP, "cudnn_benchmark": True,
               "tf32_convolutions": torch.backends.cudnn.allow_tf32, "json": str(args.out)}
    result = {"machine": gpu_info(), "options": options, "rows": rows}
    save(result, args.out, doc, "gpu", gpu_markdown(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command("lts bench gpu", lambda: run_gpu(args))


if __name__ == "__main__":
    sys.exit(main())
