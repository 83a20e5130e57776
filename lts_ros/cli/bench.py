"""``lts bench``: its arguments and the run live in ``lts_ros.bench.run``."""
from __future__ import annotations


def add_parser(sub) -> None:
    from lts_ros.bench.run import add_bench_arguments, run_bench

    bench = sub.add_parser("bench", help="CPU latency, FPS and memory per backend, precision, size and config",
                           description="Benchmark the Segmenter end to end on a rendered 640x480 frame: text "
                           "encoding, per-frame latency p50/p90/p99, FPS, peak RSS, GFLOP/s, per backend x "
                           "precision x input size x config, each case in its own process. Writes JSON and the "
                           "table in docs/benchmarks.md. Run it on an otherwise idle machine.")
    add_bench_arguments(bench)
    bench.set_defaults(func=run_bench)
