"""What ``lts sim grasp`` leaves in its output directory: ``metrics.json`` (rates, failure counts, per category and
kind, time per episode), ``episodes.jsonl``, a before/after strip per episode (``episodes/NNN.png``: lts_node's
mask on the camera frame the client acted on, then the cell after the lift), ``grasp.gif`` of the first
episodes as the head camera saw them, and ``report.md`` tying them together."""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from lts_ros.data.tabletop.scene import Scene
from lts_ros.plots import overlay

UNIQUE_OUTCOMES = ("success", "wrong_object", "grasp_missed", "disturbed_others", "not_found", "ik_or_motion",
                   "timeout")
NO_TARGET_OUTCOMES = ("refused", "not_moved", "moved")
GIF_FRAME_MS = 200
OCCLUSION = " with the occlusion pass (the hand stops in front of the target, the client looks)"


def caption(image: np.ndarray, text: str) -> np.ndarray:
    """``image`` with ``text`` on a dark band at its top."""
    out = image.copy()
    scale = image.shape[1] / 640
    cv2.rectangle(out, (0, 0), (image.shape[1], int(26 * scale)), (0, 0, 0), -1)
    cv2.putText(out, text, (int(6 * scale), int(18 * scale)), cv2.FONT_HERSHEY_SIMPLEX, 0.55 * scale,
                (255, 255, 255), max(1, int(scale)), cv2.LINE_AA)
    return out


class EpisodeImages:
    """The per-episode strips and the GIF's frames."""

    def __init__(self, out: Path):
        self.out = out
        self.gif_frames: list[np.ndarray] = []

    def add(self, episode, scene: Scene, mask: np.ndarray | None, after: np.ndarray,
            frames: list[np.ndarray] | None) -> None:
        before = scene.rgb if mask is None else overlay(scene.rgb, mask)
        strip = np.hstack([caption(before, f"#{episode.index} '{episode.command}'"),
                           caption(after, f"{episode.outcome} ({episode.decision})")])
        cv2.imwrite(str(self.out / "episodes" / f"{episode.index:03d}.png"), strip[:, :, ::-1])
        for frame in frames or []:
            self.gif_frames.append(caption(frame, f"#{episode.index} '{episode.command}'"))

    def write_gif(self) -> Path | None:
        if not self.gif_frames:
            return None
        path = self.out / "grasp.gif"
        first, *rest = (Image.fromarray(frame) for frame in self.gif_frames)
        first.save(path, save_all=True, append_images=rest, duration=GIF_FRAME_MS, loop=0)
        return path


def _rate(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(float(np.median(values)), 3) if values else None


def metrics(episodes: list) -> dict:
    """The run's figures from its judged episodes."""
    unique = [e for e in episodes if e.target is not None]
    negative = [e for e in episodes if e.target is None]
    counts = Counter(e.outcome for e in unique)
    per = {}
    for key in ("category", "kind", "family"):
        groups = defaultdict(list)
        for e in unique:
            groups[getattr(e, key)].append(e.outcome)
        per[key] = {k: {"episodes": len(v), "success_rate": _rate(sum(o == "success" for o in v), len(v)),
                        "wrong_object_rate": _rate(sum(o == "wrong_object" for o in v), len(v))}
                    for k, v in sorted(groups.items())}
    looks = defaultdict(Counter)
    for e in episodes:
        for look in e.looks:
            looks[look["at"]][look["state"]] += 1
    timing_keys = sorted({k for e in episodes for k in e.timings})
    return {
        "episodes": len(episodes), "unique_episodes": len(unique), "no_target_episodes": len(negative),
        "success_rate": _rate(counts["success"], len(unique)),
        "wrong_object_rate": _rate(counts["wrong_object"], len(unique)),
        "refusal_rate": _rate(sum(e.outcome == "refused" for e in negative), len(negative)),
        "no_target_arm_still_rate": _rate(sum(not e.arm_moved for e in negative), len(negative)),
        "failures": {k: counts[k] for k in UNIQUE_OUTCOMES if k != "success"},
        "no_target_outcomes": {k: sum(e.outcome == k for e in negative) for k in NO_TARGET_OUTCOMES},
        "looks": {at: dict(states) for at, states in looks.items()},
        "per_category": per["category"], "per_kind": per["kind"], "per_family": per["family"],
        "seconds_median": {k: _median([e.timings.get(k) for e in episodes]) for k in timing_keys},
    }


def write_report(out: Path, episodes: list, images: EpisodeImages, run: dict) -> dict:
    figures = {**metrics(episodes), "run": run}
    (out / "metrics.json").write_text(json.dumps(figures, indent=1))
    with (out / "episodes.jsonl").open("w") as f:
        for e in episodes:
            f.write(json.dumps(asdict(e)) + "\n")
    gif = images.write_gif()
    lines = ["# Grasp episodes", "",
             f"{figures['unique_episodes']} episodes with a unique command, {figures['no_target_episodes']} with a "
             f"command naming an absent object (seed {run['seed']}); commands phrased in: "
             f"{', '.join(run.get('phrasing_families', ['generator']))}; scenes of appearance family "
             f"{run.get('appearance', 'flat')}; {run.get('camera', 'head')} camera"
             f"{OCCLUSION if run.get('occlusion') else ''}.", "",
             "| figure | value |", "|---|---|"]
    for key in ("success_rate", "wrong_object_rate", "refusal_rate", "no_target_arm_still_rate"):
        lines.append(f"| {key} | {figures[key]} |")
    lines += ["", "Failures: " + ", ".join(f"{k} {v}" for k, v in figures["failures"].items()), "",
              "Per phrasing family (episodes, success, wrong object): " + "; ".join(
                  f"{k} {v['episodes']}, {v['success_rate']}, {v['wrong_object_rate']}"
                  for k, v in figures["per_family"].items()), "",
              "lts_node's answers to the looks during the approach, by where the hand stood: " + ("; ".join(
                  f"{at}: " + ", ".join(f"{state} {n}" for state, n in sorted(states.items()))
                  for at, states in figures["looks"].items()) or "none"), "",
              "Median seconds per episode: " + ", ".join(f"{k} {v}" for k, v in figures["seconds_median"].items()),
              ""]
    if gif:
        lines += [f"![the first episodes]({gif.name})", ""]
    lines += ["| # | command | family | kind | outcome | detail | strip |", "|---|---|---|---|---|---|---|"]
    for e in episodes:
        lines.append(f"| {e.index} | {e.command} | {e.family} | {e.kind} | {e.outcome} | {e.detail} | "
                     f"![{e.index}](episodes/{e.index:03d}.png) |")
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return figures
