"""``python -m lts_ros.bench.reader``: what reading a command costs (``language.read_command``, once per command):
median and p99 microseconds over the commands of a tabletop root (every phrasing family rendered there), each
read ``--repeats`` times. Writes JSON and the reader section of docs/benchmarks.md."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from lts_ros.bench.report import machine_info, save
from lts_ros.data.tabletop.dataset import TabletopDataset
from lts_ros.errors import LtsError
from lts_ros.language import read_command

SECTION = "reader"


def reader_costs_us(commands: list[str], repeats: int) -> list[float]:
    """Per command, its fastest of ``repeats`` reads, in microseconds (the reader is pure Python: the minimum is
    its cost, the rest is the machine's noise)."""
    costs = []
    for command in commands:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            read_command(command)
            times.append(time.perf_counter() - start)
        costs.append(1e6 * min(times))
    return costs


def markdown(result: dict) -> str:
    m = result["machine"]
    return (f"Reading a command (`python -m lts_ros.bench.reader`, {m['cpu']}, {m['date_utc'][:10]}): "
            f"{result['commands']} commands of `{result['data_root']}` ({result['split']}), median "
            f"{result['median_us']:.0f} µs, p99 {result['p99_us']:.0f} µs, max {result['max_us']:.0f} µs per command "
            f"(the bar: 1 ms). It runs once per command, never per frame.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lts_ros.bench.reader", description=__doc__)
    parser.add_argument("--data-root", type=Path, default=Path("data/phrasings"),
                        help="a tabletop root whose commands are read (default: data/phrasings, rendered with "
                             "'lts sim render --phrasings all')")
    parser.add_argument("--split", default="test")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("runs/bench/reader.json"))
    parser.add_argument("--doc", default="docs/benchmarks.md",
                        help="markdown file whose reader section is rewritten ('' to skip)")
    args = parser.parse_args(argv)
    try:
        commands = sorted(set(TabletopDataset(args.data_root, args.split, load_depth=False).texts()))
    except LtsError as exc:
        print(f"python -m lts_ros.bench.reader: error: {exc}", file=sys.stderr)
        return 2
    costs = sorted(reader_costs_us(commands, args.repeats))
    result = {"machine": machine_info(1), "data_root": str(args.data_root), "split": args.split,
              "commands": len(commands), "median_us": statistics.median(costs),
              "p99_us": costs[min(len(costs) - 1, int(0.99 * len(costs)))], "max_us": costs[-1]}
    print(markdown(result))
    save(result, args.out, Path(args.doc) if args.doc else None, SECTION, markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
