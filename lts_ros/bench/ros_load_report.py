"""``python -m lts_ros.bench.ros_load``'s verdicts and reports: the issue's bars, the figures shared by the printed
summary and the ros-load section of docs/benchmarks.md."""
from __future__ import annotations

from lts_ros.bench.report import fmt, lock_cell, table

# The bars.
P99_FACTOR, P99_MARGIN_MS = 2.0, 20.0  # latency p99 <= 2 x single_ms + 20 ms
RSS_GROWTH_MIB = 20.0  # "20 MB", read as MiB like every RSS figure here
OVERHEAD_MS = 5.0  # node overhead, evaluated unloaded
RATE_SHARE = 0.75  # under load the node's output rate >= 75 % of the model-alone rate


def bar(name: str, text: str, measured: str, met: bool) -> dict:
    return {"name": name, "bar": text, "measured": measured, "met": bool(met)}


def evaluate(model: dict, floor: dict, unloaded: dict, loaded: dict, node: dict) -> list[dict]:
    single, p99 = model["single_ms"], loaded["latency_ms"]["p99"]
    limit = P99_FACTOR * single + P99_MARGIN_MS
    bars = [bar("latency_p99", f"latency p99 ≤ {P99_FACTOR:g} × single_ms + {P99_MARGIN_MS:g} ms",
                f"{fmt(p99)} ms vs {fmt(limit)} ms (single_ms {fmt(single)})" if p99 is not None else "no masks",
                p99 is not None and p99 <= limit)]
    share = loaded["output_fps"] / model["single_fps"]
    bars.append(bar("output_rate", f"output rate under load ≥ {RATE_SHARE:.0%} of the model alone",
                    f"{fmt(loaded['output_fps'])} FPS = {share:.0%} of {fmt(model['single_fps'])} FPS",
                    share >= RATE_SHARE))
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
        if floor["overhead_ms"] is not None:
            measured += f"; a bare rclpy node on the same frames: {fmt(floor['overhead_ms'])} ms"
    if loaded_over is not None:
        measured += f"; under load p50 − segment_ms = {fmt(loaded_over)} ms (includes waiting for the worker)"
    bars.append(bar("node_overhead", f"node overhead ≤ {OVERHEAD_MS:g} ms (frames one at a time: median of latency − "
                    "the model's time inside the node on that frame)", measured, over is not None and over <= OVERHEAD_MS))
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
        ["lock-on's own time p50 / p90 (this process, the frame panned; the node runs lock-on, its default)",
         lock_cell(m)],
        ["unloaded: latency p50 / max", f"{fmt(ulat['p50'])} / {fmt(ulat['max'])} ms ({u['masks']} frames)"],
        ["unloaded: the node's own timings p50: node_ms (received → status) / model_ms (of which the model)",
         f"{fmt(u['node_ms'])} / {fmt(u['model_ms'])} ms"],
        ["unloaded: overhead p50 (latency − model_ms, per frame)", f"{fmt(u['overhead_ms'])} ms: transport "
         f"(latency − node_ms) {fmt(u['transport_ms'])} ms, node path (node_ms − model_ms) {fmt(u['node_path_ms'])} ms"],
        ["unloaded: the model alone in this process beside each frame (cross-check)", f"{fmt(u['segment_ms'])} ms"],
        ["floor: a bare rclpy node on the same frames (latency − its sleep standing in for the model)",
         f"{fmt(result['floor']['overhead_ms'])} ms ({result['floor']['masks']} frames)"],
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
        ["loaded: the node's own timings p50: node_ms / model_ms", f"{fmt(l['node_ms_p50'])} / "
         f"{fmt(l['model_ms_p50'])} ms"],
        ["loaded: CPU used (cores, of the machine's usable ones): lts_node / this camera process",
         f"{fmt(l['cpu_cores']['node'])} / {fmt(l['cpu_cores']['camera'])}"],
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
