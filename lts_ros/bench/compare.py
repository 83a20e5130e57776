"""Compare two sets of ``lts bench`` runs on one machine (say, before and after a change): per case, the median
p50 latency of each side over its runs and the ratio after / before, with a verdict against a tolerance.

Alternate the runs (before, after, before, after, ...) so slow drift on a shared machine falls on both sides.

    python -m lts_ros.bench.compare --before a1.json a2.json --after b1.json b2.json --markdown docs/benchmarks.md
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from lts_ros.bench.report import fmt, save, table
from lts_ros.errors import LtsError

TOLERANCE = 0.10  # the issues' speed bar: within 10 % of the previous latency
CASE_KEYS = ("config", "size", "backend", "precision")


def _load(path: Path) -> dict:
    try:
        result = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise LtsError(f"cannot read bench results {path}: {error}") from None
    if not isinstance(result, dict) or "rows" not in result or "machine" not in result:
        raise LtsError(f"{path} is not an lts bench result (no 'machine' and 'rows')")
    return result


def median_p50(runs: list[dict]) -> dict[tuple, list[float]]:
    """Per case key, the p50 latencies (ms) of the runs that measured it."""
    latencies: dict[tuple, list[float]] = {}
    for run in runs:
        for row in run["rows"]:
            if "error" not in row:
                latencies.setdefault(tuple(row[k] for k in CASE_KEYS), []).append(row["p50_ms"])
    return latencies


def compare(before: list[dict], after: list[dict], tolerance: float = TOLERANCE) -> list[dict]:
    """One row per case measured on both sides: medians of p50 (ms), the ratio after / before and whether it is
    within ``tolerance``."""
    old, new = median_p50(before), median_p50(after)
    rows = []
    for key in sorted(old.keys() & new.keys(), key=str):
        b, a = statistics.median(old[key]), statistics.median(new[key])
        rows.append({**dict(zip(CASE_KEYS, key)), "before_p50_ms": b, "after_p50_ms": a, "ratio": a / b,
                     "before_runs": len(old[key]), "after_runs": len(new[key]), "within": a / b <= 1 + tolerance})
    return rows


def compare_markdown(rows: list[dict], machine: dict, labels: tuple[str, str], tolerance: float) -> str:
    """The comparison table with where it was measured."""
    lines = [f"Measured {machine['date_utc']} on {machine['cpu']} ({machine['usable_cores']} usable cores; flags "
             f"{' '.join(machine.get('cpu_flags', [])) or '–'}); before = {labels[0]}, after = {labels[1]}; "
             f"each figure the median p50 over that side's runs, the runs alternating.", ""]
    body = [[r["config"], str(r["size"]), r["backend"], r["precision"],
             f"{fmt(r['before_p50_ms'])} ({r['before_runs']})", f"{fmt(r['after_p50_ms'])} ({r['after_runs']})",
             f"{r['ratio']:.2f}", "yes" if r["within"] else "no"] for r in rows]
    lines.append(table(["config", "size", "backend", "precision", "before p50 ms (runs)", "after p50 ms (runs)",
                        "after / before", f"within {100 * tolerance:.0f} %"], body))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lts_ros.bench.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, nargs="+", required=True, help="lts bench JSON files, before")
    parser.add_argument("--after", type=Path, nargs="+", required=True, help="lts bench JSON files, after")
    parser.add_argument("--labels", nargs=2, default=["before", "after"], metavar=("BEFORE", "AFTER"),
                        help="what each side is (for the table), e.g. two commit ids")
    parser.add_argument("--tolerance", type=float, default=TOLERANCE,
                        help="allowed slow-down, a fraction (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench/compare.json"),
                        help="JSON results (default: %(default)s)")
    parser.add_argument("--markdown", type=Path, default=None,
                        help="document whose lts-bench:compare section gets the table (default: none)")
    args = parser.parse_args(argv)
    try:
        before, after = [_load(p) for p in args.before], [_load(p) for p in args.after]
        machines = {(r["machine"]["cpu"], tuple(r["machine"].get("cpu_flags", []))) for r in before + after}
        if len(machines) > 1:
            raise LtsError("the runs come from different machines; compare runs made on one machine only")
        rows = compare(before, after, args.tolerance)
        if not rows:
            raise LtsError("no case was measured on both sides")
        machine = after[-1]["machine"]
        markdown = compare_markdown(rows, machine, tuple(args.labels), args.tolerance)
        print(markdown)
        save({"machine": machine, "labels": args.labels, "tolerance": args.tolerance, "rows": rows}, args.out,
             args.markdown, "compare", markdown)
    except LtsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0 if all(r["within"] for r in rows) else 1  # 1: some case is slower than the tolerance


if __name__ == "__main__":
    sys.exit(main())
