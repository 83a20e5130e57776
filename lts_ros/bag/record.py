"""``lts bag record-sim``: simulated RGB-D episodes with ground truth, written as an lts_ros bag.

An episode is one settled tabletop scene seen by a camera that orbits smoothly over it, with a few commands
in turn. Commands name their object by colour and category or by size, which no camera motion changes
(positions such as "the leftmost" would), and each target stays in view for the frames it is commanded. On
request an episode also has a command that names no object on the table and one that names several, each
with its target set in the ground truth.

Tracking episodes (``tracking``, data/tabletop/tracking_episodes.py) have one command each, named in the first
frame, and what follows it: a camera orbiting or approaching, an occluder passing, a look-alike, a push; their
ground truth adds the episode (``/lts/gt/episode``), the object's unoccluded mask and its look-alike's mask."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lts_ros.bag.format import BagTopics
from lts_ros.bag.io import BagWriter
from lts_ros.data.tabletop.appearance import check_appearances
from lts_ros.data.tabletop.expressions import Margins, generate_expressions
from lts_ros.data.tabletop.scene import TARGET_SETS, Scene, target_set_name
from lts_ros.data.tabletop.store import scene_seed
from lts_ros.data.tabletop.target_sets import no_target_expressions, several_target_expressions
from lts_ros.data.tabletop.tracking_episodes import check_kinds, render_tracking_episode
from lts_ros.data.tabletop.world import CameraMotion, SceneError, render_episode
from lts_ros.errors import LtsError
from lts_ros.geometry import visible_surface_centroid

T0_NS = 1_700_000_000 * 10**9  # stamps start here (a fixed date: recordings are reproducible)
EPISODE_GAP_NS = 10**9
VIEW_INVARIANT_KINDS = ("attribute", "size")
NO_TARGET_SOURCES = ("swapped", "absent_color", "absent_category")  # target_sets.no_target_meanings, no relation
MIN_VISIBLE_PX = 400
ORBIT_DEG, BOB_DEG, DOLLY_M = 12.0, 4.0, 0.04  # peak camera motion over an episode


@dataclass
class RecordSummary:
    episodes: int
    frames: int
    commands: int
    skipped: list[str]


def camera_path(frames: int) -> list[CameraMotion]:
    """A smooth orbit around the sampled pose: the azimuth eases from -ORBIT_DEG to +ORBIT_DEG while elevation
    and distance bob gently (up and closer mid-way)."""
    phase = np.linspace(0.0, 1.0, frames)
    return [CameraMotion(-ORBIT_DEG * np.cos(np.pi * p), BOB_DEG * np.sin(np.pi * p), -DOLLY_M * np.sin(np.pi * p))
            for p in phase]


def episode_commands(views: list[Scene], seed: int, count: int,
                     target_sets: tuple[str, ...] = ("one",)) -> list[tuple[str, tuple[int, ...]]]:
    """(text, targets) commands: up to ``count`` of view-invariant kinds whose target stays visible in every view
    (with "one" in ``target_sets``), then one that names no object ("none": an absent or swapped colour x
    category; relations are not view-invariant) and one that names several whose members all stay visible
    ("several")."""
    objects, margins = views[0].objects, Margins(image_width=views[0].camera.width)

    def in_view(targets: tuple[int, ...]) -> bool:
        return all(view.objects[t].visible_px >= MIN_VISIBLE_PX for view in views for t in targets)

    chosen: list[tuple[str, tuple[int, ...]]] = []
    if "one" in target_sets:
        expressions = generate_expressions(objects, np.random.default_rng(seed), per_object=1,
                                           kinds=VIEW_INVARIANT_KINDS, margins=margins)
        for e in expressions:  # different objects first: a command change should change the mask
            if in_view(e.targets) and all(e.targets != targets for _, targets in chosen):
                chosen.append((e.text, e.targets))
        chosen = chosen[:count]
    # each object as best seen over the episode: an object hidden in the first view may come into view later
    best_seen = [max((view.objects[i] for view in views), key=lambda o: o.visible_px) for i in range(len(objects))]
    rng = np.random.default_rng([seed, 1])
    if "none" in target_sets:
        chosen += [(e.text, ()) for e in no_target_expressions(best_seen, rng, 1, margins, NO_TARGET_SOURCES)]
    if "several" in target_sets:
        several = [e for e in several_target_expressions(best_seen, rng, 3, margins) if in_view(e.targets)]
        chosen += [(e.text, e.targets) for e in several[:1]]
    return chosen


def parse_target_sets(text: str) -> tuple[str, ...]:
    """``"one,none"`` -> ("one", "none"); LtsError for an unknown name."""
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in TARGET_SETS]
    if unknown or not names:
        raise LtsError(f"--target-sets takes a comma-separated list of {', '.join(TARGET_SETS)}, got '{text}'")
    return names


def record_sim(out: str | Path, episodes: int, seed: int = 0, rate_hz: float = 15.0, seconds: float = 3.0,
               commands_per_episode: int = 3, storage: str = "mcap", depth_encoding: str = "16UC1",
               topics: BagTopics = BagTopics(), width: int = 640, height: int = 480, color_format: str = "raw",
               target_sets: tuple[str, ...] = ("one",), progress: bool = True,
               appearances: tuple[str, ...] = ("flat",), tracking: tuple[str, ...] = ()) -> RecordSummary:
    """Record ``episodes`` episodes of ``seconds`` at ``rate_hz`` into the bag ``out`` (colour frames raw rgb8, or
    compressed: ``color_format`` jpeg or png). ``target_sets``: which commands an episode has (see
    ``episode_commands``); ``appearances``: appearance families (data/tabletop/appearance.py), episode by episode
    in turn; ``tracking``: tracking episode kinds instead, in turn (one command each; ``target_sets`` unused)."""
    appearances = check_appearances(appearances)
    if tracking:
        check_kinds(tracking)
    if episodes < 1 or rate_hz <= 0 or seconds <= 0 or commands_per_episode < 1:
        raise LtsError("--episodes and --commands must be >= 1, --rate and --seconds > 0")
    frames = max(2, round(rate_hz * seconds))
    most_commands = commands_per_episode + len(set(target_sets) - {"one"})  # per episode
    if frames < most_commands:
        raise LtsError(f"{frames} frames cannot hold {most_commands} commands: record longer or faster")
    period_ns = round(1e9 / rate_hz)
    summary = RecordSummary(0, 0, 0, [])
    stamp = T0_NS
    with BagWriter(out, topics, storage, color_format=color_format) as bag:
        for episode in tqdm(range(episodes), desc="record", unit="episode", disable=not progress):
            episode_seed, appearance = scene_seed(seed, episode), appearances[episode % len(appearances)]
            if tracking:
                kind = tracking[episode % len(tracking)]
                try:
                    followed = render_tracking_episode(episode_seed, kind, frames, width, height, appearance)
                except SceneError as exc:
                    summary.skipped.append(f"episode {episode} ({kind}): {exc}")
                    continue
                _write_tracking(bag, followed, stamp, period_ns, depth_encoding, appearance)
                stamp += frames * period_ns + EPISODE_GAP_NS
                summary.episodes, summary.frames, summary.commands = (summary.episodes + 1, summary.frames + frames,
                                                                     summary.commands + 1)
                continue
            try:
                views = render_episode(episode_seed, camera_path(frames), width=width, height=height,
                                       appearance=appearance)
            except SceneError as exc:
                summary.skipped.append(f"episode {episode}: {exc}")
                continue
            commands = episode_commands(views, episode_seed, commands_per_episode, target_sets)
            if not commands:
                summary.skipped.append(f"episode {episode} (seed {episode_seed}): no command stays valid in view")
                continue
            segments = np.array_split(np.arange(frames), len(commands))
            for (text, targets), segment in zip(commands, segments):
                bag.write_command(stamp + segment[0] * period_ns - 1, text,  # just before its first frame
                                  target_set_name(len(targets)), appearance)
                for i in segment:
                    view = views[i]
                    mask = np.isin(view.instances, targets)
                    centroid = visible_surface_centroid(view.depth_m, view.camera.K, mask) if len(targets) == 1 \
                        else None
                    bag.write_frame(stamp + i * period_ns, view.rgb, view.depth_m, view.camera.K, depth_encoding,
                                    mask, centroid)
            stamp += frames * period_ns + EPISODE_GAP_NS
            summary.episodes += 1
            summary.frames += frames
            summary.commands += len(commands)
    if summary.episodes == 0:
        raise LtsError(f"no episode could be recorded: {'; '.join(summary.skipped)}")
    return summary


def _write_tracking(bag: BagWriter, episode, stamp: int, period_ns: int, depth_encoding: str,
                    appearance: str) -> None:
    """A tracking episode: its command just before the first frame, then every frame with its ground truth."""
    bag.write_command(stamp - 1, episode.command, "one", appearance, f"{episode.kind} {episode.seed}")
    for i, view in enumerate(episode.views):
        mask = episode.target_mask(i)
        centroid = visible_surface_centroid(view.depth_m, view.camera.K, mask) if mask.any() else None
        bag.write_frame(stamp + i * period_ns, view.rgb, view.depth_m, view.camera.K, depth_encoding, mask,
                        centroid, episode.unoccluded[i], episode.lookalike_mask(i))
