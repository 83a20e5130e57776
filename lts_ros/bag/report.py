"""What ``lts bag eval`` writes besides the output bag: ``metrics.json`` and ``report.md`` with PNG plots."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lts_ros.bag.evaluate import Evaluation  # noqa: E402
from lts_ros.metrics import GroundingAccumulator, RisAccumulator  # noqa: E402
from lts_ros.runtime.result import AMBIGUOUS, FOUND, NOT_FOUND, answer_of  # noqa: E402
from lts_ros.plots import Panel, save_grid  # noqa: E402
from lts_ros.bag.tracking import TrackingFigures  # noqa: E402

ANSWERS = (FOUND, NOT_FOUND, AMBIGUOUS)  # per frame, whatever lock-on's state (runtime.result.answer_of)


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p90": None, "p99": None}
    p50, p90, p99 = np.percentile(values, [50, 90, 99])
    return {"p50": float(p50), "p90": float(p90), "p99": float(p99)}


def grounding(frames: list) -> dict | None:
    """The gRefCOCO figures over the answered frames whose command has a ground-truth target set: N-acc, T-acc,
    ambiguous and found accuracy from the statuses; gIoU and cIoU of the published masks over the no- and
    one-target frames (no mask is published for ambiguous, so a several-target frame is scored by its status)."""
    grounded = [f for f in frames if f.target_set is not None and f.has_output and f.counts is not None]
    if not grounded:
        return None
    answers, masks = GroundingAccumulator(), GroundingAccumulator()
    for f in grounded:
        answers.add(f.target_set, answer_of(f.status), *f.counts)
        if f.target_set != "several":
            masks.add(f.target_set, answer_of(f.status), *f.counts)
    figures = answers.result().as_dict()
    figures.update({key: masks.result().as_dict()[key] for key in ("giou", "ciou")})
    return figures


def accuracy(frames: list) -> dict | None:
    """mIoU, overall IoU and Prec@X of the published masks on the one-target frames with ground truth."""
    scored = [f for f in frames if f.iou is not None and f.target_set in (None, "one")]
    accumulator = RisAccumulator()
    for f in scored:
        accumulator.add_counts(*f.counts)
    return accumulator.result().as_dict() if scored else None


def centroid_error(frames: list) -> dict:
    errors = [f.centroid_error_m for f in frames if f.centroid_error_m is not None]
    return {"count": len(errors), "median": float(np.median(errors)) if errors else None,
            "mean": float(np.mean(errors)) if errors else None,
            "p90": float(np.percentile(errors, 90)) if errors else None}


def by_appearance(frames: list) -> dict[str, dict]:
    """Frames, accuracy, grounding and centroid error per appearance family, for bags that name them."""
    families = dict.fromkeys(f.appearance for f in frames if f.appearance is not None)
    return {name: {"frames": len(group), "accuracy": accuracy(group), "grounding": grounding(group),
                   "centroid_error_m": centroid_error(group)}
            for name in families for group in [[f for f in frames if f.appearance == name]]}


def tracking(frames: list) -> dict | None:
    """Lock-on figures (``bag.tracking``) over the bag's tracking episodes, overall and per episode kind; None
    for a bag without them."""
    episodes: dict[str, list] = {}
    for f in frames:
        if f.tracked is not None and f.episode is not None:
            episodes.setdefault(f.episode, []).append(f.tracked)
    if not episodes:
        return None
    overall, kinds = TrackingFigures(), {}
    for name, tracked in episodes.items():
        overall.add(tracked)
        kinds.setdefault(name.split()[0], TrackingFigures()).add(tracked)
    lock_ms = [f.lock_ms for f in frames if f.lock_ms is not None]
    return {**overall.as_dict(), "by_kind": {kind: figures.as_dict() for kind, figures in kinds.items()},
            "lock_ms": _percentiles(lock_ms)}


def metrics(evaluation: Evaluation) -> dict:
    """Accuracy (on the one-target frames where the bag has ground truth), the grounding figures, centroid error,
    latency, throughput, per-command table; the same figures per appearance family where the bag names it."""
    frames = evaluation.frames
    latencies = [f.latency_ms for f in frames if f.has_output]
    commands: dict[str, dict] = {}
    for f in frames:
        if f.command is None:
            continue
        row = commands.setdefault(f.command, {"frames": 0, "target_set": f.target_set, "ious": [],
                                              **{answer: 0 for answer in ANSWERS}})
        row["frames"] += 1
        row[answer_of(f.status)] += f.has_output
        if f.iou is not None and f.target_set != "several":  # no mask is published for ambiguous
            row["ious"].append(f.iou)
    segmenter_s = sum(latencies) / 1e3
    return {
        "frames": len(frames), "frames_with_ground_truth": sum(f.iou is not None for f in frames),
        "frames_without_output": sum(not f.has_output for f in frames),
        "frames_with_another_command": sum(f.wrong_command for f in frames),
        "accuracy": accuracy(frames), "grounding": grounding(frames), "centroid_error_m": centroid_error(frames),
        "by_appearance": by_appearance(frames), "tracking": tracking(frames),
        "latency_ms": _percentiles(latencies), "latency_measures": evaluation.latency,
        "fps": len(latencies) / evaluation.wall_s if evaluation.wall_s > 0 else None,
        "segmenter_share": segmenter_s / evaluation.wall_s if evaluation.wall_s > 0 else None,
        "per_command": [{"command": c, "frames": r["frames"], "target_set": r["target_set"],
                         **{f"{answer}_rate": r[answer] / r["frames"] for answer in ANSWERS},
                         "mean_iou": float(np.mean(r["ious"])) if r["ious"] else None} for c, r in commands.items()],
        "unmatched_messages": evaluation.stats.unused, "undecodable_messages": evaluation.stats.bad,
        "frame_errors": evaluation.errors,
    }


def warnings(figures: dict) -> list[str]:
    """What the evaluation counted and could not use, one line each (the counts are in metrics.json too)."""
    lines = [f"{n} message(s) on {topic} matched no colour frame within the sync tolerance"
             for topic, n in figures["unmatched_messages"].items()]
    lines += [f"{n} message(s) on {topic} could not be decoded" for topic, n in figures["undecodable_messages"].items()]
    lines += [f"{n} frame(s) got no output: {reason}" for reason, n in figures["frame_errors"].items()]
    if figures["frames_with_another_command"]:
        lines.append(f"{figures['frames_with_another_command']} frame(s) were answered with another command than "
                     "the bag's for them")
    return lines


def write_report(evaluation: Evaluation, figures: dict, out_dir: Path, title: str) -> Path:
    """``metrics.json``, ``iou_over_time.png``, ``latency.png``, ``overlays.png`` and ``report.md`` in ``out_dir``."""
    (out_dir / "metrics.json").write_text(json.dumps(figures, indent=1) + "\n")
    frames = evaluation.frames
    t0 = frames[0].stamp_ns
    fig, ax = plt.subplots(figsize=(8, 3))
    for command in dict.fromkeys(f.command for f in frames if f.iou is not None):
        points = [((f.stamp_ns - t0) / 1e9, f.iou) for f in frames if f.command == command and f.iou is not None]
        ax.plot(*zip(*points), ".-", label=command[:40])
    ax.set(xlabel="bag time (s)", ylabel="mask IoU", ylim=(0, 1.02), title="IoU per frame")
    if ax.lines:
        ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(out_dir / "iou_over_time.png", dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.hist([f.latency_ms for f in frames if f.has_output], bins=30)
    ax.set(xlabel=f"{evaluation.latency} per frame (ms)", ylabel="frames")
    fig.tight_layout()
    fig.savefig(out_dir / "latency.png", dpi=110)
    plt.close(fig)
    panels = [Panel(frame.rgb, f'"{frame.command}"', mask, frame.gt_mask) for frame, mask in evaluation.samples[:12]]
    if panels:
        save_grid(panels, out_dir / "overlays.png", legend="prediction magenta, ground truth yellow")
    (out_dir / "report.md").write_text(_markdown(figures, title, bool(panels), evaluation.latency))
    return out_dir / "report.md"


def _fmt(value, spec: str = ".3f") -> str:
    return "–" if value is None else format(value, spec)


def _markdown(m: dict, title: str, grid: bool, latency: str) -> str:
    acc, ground = m["accuracy"] or {}, m["grounding"] or {}
    lat, cen = m["latency_ms"], m["centroid_error_m"]
    lines = [f"# {title}", "", "| figure | value |", "|---|---|",
             f"| frames (with ground truth / without output) | {m['frames']} ({m['frames_with_ground_truth']} / "
             f"{m['frames_without_output']}) |",
             f"| frames answered with another command than the bag's | {m['frames_with_another_command']} |",
             f"| mean IoU / overall IoU (one-target frames) | {_fmt(acc.get('mean_iou'))} / "
             f"{_fmt(acc.get('overall_iou'))} |",
             f"| N-acc / T-acc (frames with a target set) | {_fmt(ground.get('n_acc'))} / {_fmt(ground.get('t_acc'))} |",
             f"| several targets answered ambiguous / one target found | {_fmt(ground.get('ambiguous_acc'))} / "
             f"{_fmt(ground.get('found_acc'))} |",
             f"| gIoU / cIoU (no- and one-target frames) | {_fmt(ground.get('giou'))} / {_fmt(ground.get('ciou'))} |",
             f"| Prec@0.5 / @0.7 / @0.9 | {_fmt(acc.get('prec@0.5'))} / {_fmt(acc.get('prec@0.7'))} / "
             f"{_fmt(acc.get('prec@0.9'))} |",
             f"| 3D centroid error median / p90 (cm) | {_fmt(cen['median'] and 100 * cen['median'], '.2f')} / "
             f"{_fmt(cen['p90'] and 100 * cen['p90'], '.2f')} ({cen['count']} frames) |",
             f"| {latency} p50 / p90 / p99 (ms) | {_fmt(lat['p50'], '.1f')} / {_fmt(lat['p90'], '.1f')} / "
             f"{_fmt(lat['p99'], '.1f')} |",
             f"| throughput (FPS, whole loop) | {_fmt(m['fps'], '.1f')} |", "",
             "| command | target set | frames | found | ambiguous | not found | mean IoU |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['command']} | {r['target_set'] or '–'} | {r['frames']} | {r['found_rate']:.0%} | "
              f"{r['ambiguous_rate']:.0%} | {r['not_found_rate']:.0%} | {_fmt(r['mean_iou'])} |"
              for r in m["per_command"]]
    if m["by_appearance"]:
        lines += ["", "| appearance family | frames | mean IoU | Prec@0.5 | N-acc | T-acc | 3D centroid median (cm) |",
                  "|---|---|---|---|---|---|---|"]
        for name, fam in m["by_appearance"].items():
            a, g, c = fam["accuracy"] or {}, fam["grounding"] or {}, fam["centroid_error_m"]
            lines.append(f"| {name} | {fam['frames']} | {_fmt(a.get('mean_iou'))} | {_fmt(a.get('prec@0.5'))} | "
                         f"{_fmt(g.get('n_acc'))} | {_fmt(g.get('t_acc'))} | "
                         f"{_fmt(c['median'] and 100 * c['median'], '.2f')} |")
    if m["tracking"]:
        lines += ["", "Lock-on (tracking episodes; docs/bag-format.md): identity consistency = frames answered with "
                  "the named object / frames it is at least half visible, from a first found answer with it.", "",
                  "| kind | episodes (first found right) | frames | identity consistency | wrong-object frames (after "
                  "a right first answer) | hidden frames answered lost | re-acquired within 3 frames (occlusions) "
                  "| look-alike frames |", "|---|---|---|---|---|---|---|---|"]
        for kind, t in [("all", m["tracking"]), *m["tracking"]["by_kind"].items()]:
            lines.append(f"| {kind} | {t['episodes']} ({t['locked_on_object']}) | {t['frames']} | "
                         f"{_fmt(t['identity_consistency'])} | {_fmt(t['wrong_object_frames'])} "
                         f"({t['wrong_object_frames_after_lock']}) | {_fmt(t['hidden_answered_lost'])} | "
                         f"{_fmt(t['reacquired_within_3'])} ({t['occlusions']}) | {t['lookalike_frames']} |")
    notes = warnings(m)
    if notes:
        lines += ["", "Warnings:", ""] + [f"- {line}" for line in notes]
    lines += ["", "![IoU per frame](iou_over_time.png)", "", "![latency](latency.png)"]
    if grid:
        lines += ["", "![overlays](overlays.png)"]
    return "\n".join(lines) + "\n"
