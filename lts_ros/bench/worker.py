"""Measure one case in a process of its own (so its peak RSS is its own): ``python -m lts_ros.bench.worker
'<spec json>'`` prints one JSON line, the figures or ``{"error": ...}``."""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lts_ros.bench.report import proc_field
from lts_ros.errors import LtsError

SHORT_WORDS, LONG_WORDS = 3, 30
COLORS = ("red", "green", "blue", "yellow", "orange", "purple", "white", "black")
OBJECTS = ("mug", "block", "ball", "duck", "teddy", "ring", "lego", "tray", "jenga")
TAIL = ("that stands on the left side of the table right next to the big blue bowl and please pick it up and put "
        "it in the tray").split()  # 27 words: a 3-word command + TAIL = 30 words
TEXT_REPEATS = 7  # timed encodes per command length (after one untimed)


def commands(words: int, n: int, start: int = 0) -> list[str]:
    """``n`` distinct commands of ``words`` words (3..30): distinct strings miss the Segmenter's text cache."""
    pairs = [(color, obj) for obj in OBJECTS for color in COLORS][start:start + n]
    return [" ".join(["the", color, obj, *TAIL[:words - 3]]) for color, obj in pairs]


def latency_stats(latencies_ms: list[float]) -> dict[str, float]:
    p50, p90, p99 = np.percentile(latencies_ms, [50, 90, 99])
    mean = float(np.mean(latencies_ms))
    return {"p50_ms": float(p50), "p90_ms": float(p90), "p99_ms": float(p99), "mean_ms": mean, "fps": 1e3 / mean}


def encode_ms(set_command: Callable[[str], object], texts: list[str]) -> float:
    """Median wall time of ``set_command`` on each of ``texts`` (each new, so each runs the text encoder)."""
    set_command(texts[0])  # untimed: first-call allocations
    times = []
    for text in texts[1:]:
        start = time.perf_counter()
        set_command(text)
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


def peak_rss_mib() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: a child started by (v)fork + exec inherits
    its parent's ru_maxrss, so every case would report the benchmark runner's own peak."""
    value = proc_field("/proc/self/status", "VmHWM")  # "123456 kB"
    if value is None:
        raise RuntimeError("no VmHWM in /proc/self/status: peak RSS is measured on Linux only")
    return int(value.split()[0]) / 1024


def measure(spec: dict) -> dict:
    """Build the case's Segmenter, time the text encoder and ``segment()`` on the frame, then lock-on's own
    cost (``bench.lock_cost``, on ``python -m lts_ros.bench.ros_load``'s frame and command); figures in ms."""
    import torch

    from lts_ros.bench.lock_cost import lock_cost
    from lts_ros.bench.ros_load_model import render_frame
    from lts_ros.data.refer import read_rgb
    from lts_ros.runtime.segmenter import Segmenter

    case, threads = spec["case"], spec["threads"]
    if threads:
        torch.set_num_threads(threads)
    segmenter = Segmenter.from_checkpoint(spec["checkpoint"], backend=case["backend"], precision=case["precision"],
                                          onnx_dir=spec["export_dir"], threads=threads)
    rgb = read_rgb(Path(spec["frame"]))
    text_ms = {words: encode_ms(segmenter.set_command, commands(words, TEXT_REPEATS + 1, start=1))
               for words in (SHORT_WORDS, LONG_WORDS)}
    short, long = commands(SHORT_WORDS, 1)[0], commands(LONG_WORDS, 1)[0]
    latencies, infer, by_words = [], [], {SHORT_WORDS: [], LONG_WORDS: []}
    for i in range(spec["warmup"] + spec["frames"]):
        # The commands alternate (cached after their first use), so both see the same machine state.
        words = SHORT_WORDS if i % 2 == 0 else LONG_WORDS
        segmenter.set_command(short if words == SHORT_WORDS else long)
        start = time.perf_counter()
        result = segmenter.segment(rgb)
        elapsed = 1e3 * (time.perf_counter() - start)
        if i >= spec["warmup"]:
            latencies.append(elapsed)
            infer.append(result.timings_ms["infer"])
            by_words[words].append(elapsed)
    figures = {"text_ms_3w": text_ms[SHORT_WORDS], "text_ms_30w": text_ms[LONG_WORDS],
               **latency_stats(latencies), "infer_ms_p50": statistics.median(infer),
               "frame_ms_3w": statistics.median(by_words[SHORT_WORDS]),
               "frame_ms_30w": statistics.median(by_words[LONG_WORDS]),
               "peak_rss_mib": peak_rss_mib(),
               "torch_threads": torch.get_num_threads(), "frames": len(latencies)}
    named = render_frame(*rgb.shape[1::-1])  # after the peak RSS: the renderer is not the case's memory
    return {**figures, **lock_cost(segmenter, named.rgb, named.command)}


def run_worker(spec: dict) -> dict:
    """Run ``measure(spec)`` in a fresh interpreter; a crash comes back as ``{"error": ...}``."""
    proc = subprocess.run([sys.executable, "-m", "lts_ros.bench.worker", json.dumps(spec)], capture_output=True,
                          text=True)
    lines = proc.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        detail = proc.stderr.strip().splitlines()
        return {"error": f"worker exited with status {proc.returncode}: {detail[-1] if detail else 'no output'}"}


def error_message(exc: Exception) -> str:
    """One line for a failed case: an LtsError's own message, otherwise the exception type and message."""
    message = (str(exc) if isinstance(exc, LtsError) else f"{type(exc).__name__}: {exc}").strip()
    return message.splitlines()[0] if message else type(exc).__name__


def main() -> None:
    spec = json.loads(sys.argv[1])
    try:
        figures = measure(spec)
    except Exception as exc:  # noqa: BLE001 - any failure of a case is its result, recorded beside the others
        figures = {"error": error_message(exc)}
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
