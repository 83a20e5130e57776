"""Benchmark results as JSON (a ``machine`` block and one row per case) and as the markdown tables that
replace the marked sections of docs/benchmarks.md (the prose around them is kept)."""
from __future__ import annotations

import json
import os
import platform
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib.metadata import version as package_version
from pathlib import Path

from lts_ros.errors import LtsError

ONNX_VS_TORCH = 1.5  # the bars, edge at 320: ONNX Runtime fp32 vs torch fp32 throughput
OPENVINO_VS_ONNX = 2.0  # best OpenVINO case vs best ONNX Runtime case
FPS_TARGET, FPS_STRETCH = 25.0, 60.0  # and the best CPU path


def markers(section: str) -> tuple[str, str]:
    return f"<!-- lts-bench:{section}:start -->", f"<!-- lts-bench:{section}:end -->"


def _split_doc(doc: Path, section: str) -> tuple[str, str]:
    """The text before and after ``section``'s body (the markers stay with them)."""
    if not doc.is_file():
        raise LtsError(f"markdown file not found: {doc} (pass --markdown PATH, or --no-markdown)")
    start, end = markers(section)
    text = doc.read_text()
    match = re.search(f"({re.escape(start)}).*?({re.escape(end)})", text, flags=re.DOTALL)
    if not match:
        raise LtsError(f"{doc} has no '{start}' ... '{end}' lines to write the results between")
    return text[:match.end(1)], text[match.start(2):]


def check_section(doc: Path, section: str) -> None:
    """LtsError now, before a long run, when ``doc`` cannot take the results."""
    _split_doc(doc, section)


def replace_section(doc: Path, section: str, body: str) -> Path:
    """Write ``body`` between ``section``'s markers in ``doc``, keeping everything outside them."""
    before, after = _split_doc(doc, section)
    doc.write_text(f"{before}\n{body.strip()}\n{after}")
    return doc


def proc_field(path: str, key: str) -> str | None:
    """The value of ``key: value`` line ``key`` in a /proc file; None where there is none."""
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        pass
    return None


def cpu_flags() -> list[str]:
    """The CPU's instruction-set flags that decide which precision is fast (AVX2, AVX-512, VNNI, BF16, AMX)."""
    flags = (proc_field("/proc/cpuinfo", "flags") or "").split()
    return sorted(f for f in flags if f.startswith(("avx2", "avx512", "avx_vnni", "amx")))


def machine_info(threads: int) -> dict:
    """Where the figures were measured: CPU, cores, RAM, OS, versions, date (UTC) and the thread setting."""
    import onnxruntime
    import torch

    mem_kib = proc_field("/proc/meminfo", "MemTotal")
    return {"cpu": proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
            "logical_cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "ram_gib": round(int(mem_kib.split()[0]) / 2**20, 1) if mem_kib else None,
            "os": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
            "onnxruntime": onnxruntime.__version__, "openvino": package_version("openvino"),
            "cpu_flags": cpu_flags(), "threads": threads,
            "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def write_json(path: Path, result: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    return path


def save(result: dict, path: Path, doc: Path | None, section: str, markdown: str) -> None:
    """``result`` as JSON at ``path`` and ``markdown`` in ``doc``'s ``section`` (unless ``doc`` is None); prints
    where they went."""
    print(f"results: {write_json(path, result)}")
    if doc is not None:
        print(f"section: {replace_section(doc, section, markdown)}")


def fmt(value: float | None) -> str:
    """Three significant figures or so, never scientific notation; '–' when missing."""
    if value is None:
        return "–"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _cpu_row(row: dict) -> list[str]:
    parity = row.get("parity")
    return [row["config"], str(row["size"]), row["backend"], row["precision"], row["weights"],
            f"{fmt(row['text_ms_3w'])} / {fmt(row['text_ms_30w'])}", fmt(row["p50_ms"]), fmt(row["p90_ms"]),
            fmt(row["p99_ms"]), fmt(row["fps"]), f"{fmt(row['frame_ms_3w'])} / {fmt(row['frame_ms_30w'])}",
            fmt(row["peak_rss_mib"]), fmt(row["gflops"]), fmt(row["gflop_s"]), lock_cell(row),
            f"{parity['mask_iou_mean']:.3f}" if parity else "–"]


def lock_cell(figures: dict) -> str:
    """Lock-on's p50 / p90 ms and how many panned frames it followed (``bench.lock_cost``; '–' before it)."""
    if "lock_ms_p50" not in figures:
        return "–"
    return (f"{fmt(figures['lock_ms_p50'])} / {fmt(figures['lock_ms_p90'])} ms (followed "
            f"{figures['lock_tracked']} of {figures['lock_frames']})")


def bars(rows: Sequence[dict]) -> list[list[str]]:
    """The issues' CPU bars for edge at 320, from this run's rows: [bar, measured, verdict]."""
    done = {(r["backend"], r["precision"]): r for r in rows
            if r["config"] == "edge" and r["size"] == 320 and "error" not in r}
    ort_fp32, torch_fp32 = done.get(("onnxruntime", "fp32")), done.get(("torch", "fp32"))
    first = [f"ONNX Runtime fp32 ≥ {ONNX_VS_TORCH}× torch fp32 throughput"]
    if ort_fp32 and torch_fp32:
        ratio = ort_fp32["fps"] / torch_fp32["fps"]
        first += [f"{ratio:.2f}× ({fmt(ort_fp32['fps'])} vs {fmt(torch_fp32['fps'])} FPS)",
                  "met" if ratio >= ONNX_VS_TORCH else "not met"]
    else:
        first += ["–", "not measured in this run"]
    second = [f"best CPU path ≥ {FPS_TARGET:g} FPS (stretch {FPS_STRETCH:g})"]
    if done:
        best = max(done.values(), key=lambda r: r["fps"])
        verdict = "not met" if best["fps"] < FPS_TARGET else \
            f"met (stretch {'met' if best['fps'] >= FPS_STRETCH else 'not met'})"
        second += [f"{best['backend']} {best['precision']}: {fmt(best['fps'])} FPS", verdict]
    else:
        second += ["–", "not measured in this run"]
    return [first, second, _openvino_bar(done)]


def _openvino_bar(done: dict[tuple[str, str], dict]) -> list[str]:
    """Best OpenVINO case vs best ONNX Runtime case, in FPS."""
    bar = [f"best OpenVINO ≥ {OPENVINO_VS_ONNX:g}× best ONNX Runtime throughput"]
    best = {backend: max((r for (b, _), r in done.items() if b == backend), key=lambda r: r["fps"], default=None)
            for backend in ("openvino", "onnxruntime")}
    if best["openvino"] is None or best["onnxruntime"] is None:
        return bar + ["–", "not measured in this run"]
    ov, ort = best["openvino"], best["onnxruntime"]
    ratio = ov["fps"] / ort["fps"]
    return bar + [f"{ratio:.2f}× (openvino {ov['precision']} {fmt(ov['fps'])} vs onnxruntime {ort['precision']} "
                  f"{fmt(ort['fps'])} FPS)", "met" if ratio >= OPENVINO_VS_ONNX else "not met"]


def cpu_markdown(result: dict) -> str:
    """The CPU section: where and how it was measured, one row per case, failures, and the issue's bars."""
    m, o = result["machine"], result["options"]
    threads = "all cores (0)" if not m["threads"] else str(m["threads"])
    lines = [f"Measured {m['date_utc']} on {m['cpu']} ({m['usable_cores']} of {m['logical_cores']} logical cores "
             f"usable, {m['ram_gib']} GiB RAM; flags {' '.join(m.get('cpu_flags', [])) or '–'}), {m['os']}; "
             f"Python {m['python']}, torch {m['torch']}, onnxruntime {m['onnxruntime']}, openvino "
             f"{m.get('openvino', '–')}; threads: {threads}; {o['frames']} timed frames after {o['warmup']} warm-up, "
             f"one 640×480 RGB frame. Raw figures: `{o['json']}`.", ""]
    done = [r for r in result["rows"] if "error" not in r]
    headers = ["config", "size", "backend", "precision", "weights", "text ms (3w / 30w)", "p50 ms", "p90 ms",
               "p99 ms", "FPS", "frame ms (3w / 30w)", "peak RSS MiB", "GFLOPs", "GFLOP/s",
               "lock-on p50 / p90", "parity IoU vs fp32"]
    lines.append(table(headers, [_cpu_row(r) for r in done]) if done else "No case ran successfully.")
    failed = [r for r in result["rows"] if "error" in r]
    if failed:
        lines += ["", "Failed cases:", ""] + [f"- {r['config']} {r['size']} {r['backend']} {r['precision']}: "
                                              f"{r['error']}" for r in failed]
    lines += ["", "The issue's bars (edge at 320, this run):", "", table(["bar", "measured", "verdict"], bars(done))]
    return "\n".join(lines)


def gpu_markdown(result: dict) -> str:
    """The GPU section: the GPU and versions, then one row per config x size x mode."""
    g, o = result["machine"], result["options"]
    tf32 = " (convolutions in TF32, torch's default)" if o["tf32_convolutions"] else ""
    lines = [f"Measured {g['date_utc']} on {g['gpu']} (driver {g['driver']}, CUDA {g['cuda']}, cuDNN {g['cudnn']}), "
             f"torch {g['torch']}; `model.segment()` alone (no pre/post-processing) on a 1×3×S×S input, "
             f"{o['frames']} timed frames after {o['warmup']} warm-up, each timed by CUDA events; fp32{tf32}. "
             f"Raw figures: `{o['json']}`.", ""]
    rows = []
    for r in result["rows"]:
        if "error" in r:
            failed = "failed: " + r["error"].replace("|", "\\|")
            rows.append([r["config"], str(r["size"]), r["weights"], r["mode"], failed] + ["–"] * 7)
            continue
        rows.append([r["config"], str(r["size"]), r["weights"], r["mode"],
                     f"{fmt(r['text_ms_3w'])} / {fmt(r['text_ms_30w'])}", fmt(r["p50_ms"]), fmt(r["p90_ms"]),
                     fmt(r["p99_ms"]), fmt(r["fps"]), fmt(r["peak_cuda_mib"]), fmt(r["gflops"]), fmt(r["gflop_s"])])
    headers = ["config", "size", "weights", "mode", "text ms (3w / 30w)", "p50 ms", "p90 ms", "p99 ms", "FPS",
               "peak CUDA MiB", "GFLOPs", "GFLOP/s"]
    return "\n".join(lines + [table(headers, rows)])


def parity_markdown(result: dict) -> str:
    """The precision section: accuracy against ground truth and agreement with fp32 per precision."""
    m = result["machine"]
    lines = [f"Measured {m['date_utc']} with `lts export check` on {result['expressions']} expressions spread over "
             f"`{result['split_dir']}` (the rows count those with a target: a no-target command shows no mask), "
             f"export `{result['onnx_dir']}` (calibration: {result['calibration']}); "
             "on the CPU, masks compared with ONNX Runtime fp32 at each frame's own resolution.", ""]
    rows = [[r.get("backend", "onnxruntime"), r["precision"], str(r["expressions"]), f"{100 * r['mean_iou_gt']:.2f}",
             f"{100 * r['prec_at_05']:.2f}",
             f"{r['iou_vs_fp32_mean']:.3f}", f"{r['iou_vs_fp32_median']:.3f}"] for r in result["rows"]]
    lines.append(table(["backend", "precision", "expressions", "mIoU vs GT", "P@0.5", "IoU vs fp32 (mean)",
                        "IoU vs fp32 (median)"], rows))
    return "\n".join(lines)
