"""Rendered tabletop splits on disk, and rendering them in parallel.

Layout of ``<root>/<split>/``: ``manifest.json`` (what was rendered, from which seeds),
``scenes.jsonl`` (one scene per line: camera, objects, expressions), and per scene
``rgb/<id>.jpg`` (quality 95), ``depth/<id>.png`` (uint16 millimetres, 0 = no depth) and
``instances/<id>.png`` (uint8: instance id + 1, 0 = table/background).
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
from tqdm import tqdm

from lts_ros.data.tabletop import appearance as looks
from lts_ros.data.tabletop.expressions import Margins, check_vocabulary, generate_expressions
from lts_ros.data.tabletop.phrasings import HELD_OUT, check_families, phrased_expressions
from lts_ros.data.tabletop.scene import CATEGORIES, COLORS, Expression, Scene, SceneObject, target_set_name
from lts_ros.data.tabletop.target_sets import target_set_expressions
from lts_ros.errors import LtsError
from lts_ros.geometry import depth_in_mm

SPLITS = ("train", "val", "test")
DEFAULT_SEEDS = {"train": 0, "val": 1, "test": 2}
# (color, category) pairs never rendered in train/val: the test split measures generalization to them.
HELD_OUT_COMBOS = frozenset({("red", "mug"), ("blue", "duck"), ("green", "ball"), ("yellow", "block"),
                             ("purple", "ring"), ("orange", "lego"), ("white", "teddy")})
FORMAT_VERSION = 2  # 2: expressions name a target set ("targets": [ids]), which may be empty or several


def scene_seed(split_seed: int, index: int) -> int:
    """Independent, reproducible seed of scene ``index`` in a split rendered with ``split_seed``."""
    return int(np.random.SeedSequence([split_seed, index]).generate_state(1)[0])


@dataclass(frozen=True)
class RenderJob:
    root: Path
    index: int
    seed: int
    width: int
    height: int
    exclude: frozenset
    per_object: int
    categories: tuple[str, ...]
    colors: tuple[str, ...]
    attempts: int = 3
    families: tuple[str, ...] = ()  # phrasing families (phrasings.py): their one-target expressions only
    appearance: str = "flat"  # the scene's appearance family (appearance.py)


def scene_id(index: int) -> str:
    return f"{index:06d}"


def write_scene(root: Path, sid: str, scene: Scene, appearance: str = "flat") -> dict:
    """Write the images of ``scene``; return its scenes.jsonl record."""
    for sub in ("rgb", "depth", "instances"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(root / "rgb" / f"{sid}.jpg"), cv2.cvtColor(scene.rgb, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 95])
    cv2.imwrite(str(root / "depth" / f"{sid}.png"), depth_in_mm(scene.depth_m))
    if scene.instances.max() > 254:
        raise LtsError(f"scene {sid}: instance id {scene.instances.max()} does not fit the uint8 format")
    cv2.imwrite(str(root / "instances" / f"{sid}.png"), (scene.instances + 1).astype(np.uint8))
    return {"id": sid, "seed": scene.seed, "appearance": appearance, "camera": scene.camera.to_dict(),
            "objects": [o.to_dict() for o in scene.objects],
            "expressions": [e.to_dict() for e in scene.expressions]}


def describe_scene(objects: list[SceneObject], seed: int, per_object: int, width: int,
                   families: tuple[str, ...] = ()) -> list[Expression]:
    """A scene's expressions: up to ``per_object`` unique ones per object, then the no-target and several-target
    ones (from a second stream of the scene's seed, so the unique ones are the same as without them). With
    ``families``: instead, up to ``per_object`` one-target expressions per object in each phrasing family."""
    margins = Margins(image_width=width)
    if families:
        return phrased_expressions(objects, np.random.default_rng([seed, 2]), families, per_object, margins=margins)
    return (generate_expressions(objects, np.random.default_rng(seed), per_object, margins=margins)
            + target_set_expressions(objects, np.random.default_rng([seed, 1]), margins=margins))


def render_job(job: RenderJob) -> dict | str:
    """Render, describe and write one scene; a record, or the reason it was skipped."""
    from lts_ros.data.tabletop.world import SceneError, render_scene

    reason = "no attempt"
    for attempt in range(job.attempts):
        seed = job.seed if attempt == 0 else scene_seed(job.seed, attempt)
        try:
            scene = render_scene(seed, width=job.width, height=job.height, exclude=job.exclude,
                                 categories=job.categories, colors=job.colors, appearance=job.appearance)
        except SceneError as exc:
            reason = f"scene {job.index} (seed {seed}): {exc}"
            continue
        except Exception as exc:  # noqa: BLE001 - one broken scene must not end a long batch
            reason = f"scene {job.index} (seed {seed}): unexpected {type(exc).__name__}: {exc}"
            continue
        scene.expressions = describe_scene(scene.objects, seed, job.per_object, job.width, job.families)
        if not any(len(e.targets) == 1 for e in scene.expressions):
            reason = f"scene {job.index} (seed {seed}): no unambiguous expression"
            continue
        return write_scene(job.root, scene_id(job.index), scene, job.appearance)
    return reason


@dataclass
class RenderSummary:
    scenes: int
    skipped: int
    expressions: int
    kinds: dict[str, int]
    reasons: list[str]


def render_split(root: Path, split: str, n: int, seed: int | None = None, workers: int | None = None,
                 width: int = 640, height: int = 480, per_object: int = 3, categories: Sequence[str] = CATEGORIES,
                 colors: Sequence[str] = COLORS, progress: bool = True, families: Sequence[str] = (),
                 appearances: Sequence[str] = ("flat",)) -> RenderSummary:
    """Render ``n`` scenes of ``split`` into ``root/split`` with ``workers`` processes. Scenes that fail
    to build or settle are retried with another seed, then skipped and counted. ``families``: phrasing families
    (``phrasings.check_families``) whose expressions replace the generator's; held-out ones only into test.
    ``appearances``: appearance families (``appearance.py``), taken in turn scene by scene; held-out ones only
    into test."""
    check_vocabulary(categories, colors)
    families = check_families(families)
    appearances = looks.check_appearances(appearances)
    if split != "test" and set(families) & set(HELD_OUT):
        raise LtsError("held-out phrasing families are rendered only into the test split (never trained on)")
    if split != "test" and set(appearances) & set(looks.HELD_OUT):
        raise LtsError("held-out appearance families are rendered only into the test split (never trained on)")
    if split not in SPLITS:
        raise LtsError(f"unknown split '{split}' (choose from {', '.join(SPLITS)})")
    if n < 1:
        raise LtsError("--n must be >= 1")
    seed = DEFAULT_SEEDS[split] if seed is None else seed
    out = Path(root) / split
    out.mkdir(parents=True, exist_ok=True)
    exclude = frozenset() if split == "test" else HELD_OUT_COMBOS
    jobs = [RenderJob(out, i, scene_seed(seed, i), width, height, exclude, per_object, tuple(categories),
                      tuple(colors), families=families, appearance=appearances[i % len(appearances)])
            for i in range(n)]
    workers = max(1, min(workers or os.cpu_count() or 1, n))
    records, reasons = [], []
    with contextlib.ExitStack() as stack:
        if workers == 1:
            results = map(render_job, jobs)
        else:  # spawn: each worker gets a clean pybullet, whatever the parent process has loaded
            results = stack.enter_context(mp.get_context("spawn").Pool(workers)).imap(render_job, jobs)
        for result in tqdm(results, total=n, desc=f"render {split}", unit="scene", disable=not progress):
            (records if isinstance(result, dict) else reasons).append(result)
    with (out / "scenes.jsonl").open("w") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    kinds = Counter(e["kind"] for r in records for e in r["expressions"])
    target_sets = Counter(target_set_name(len(e["targets"])) for r in records for e in r["expressions"])
    manifest = {"format": FORMAT_VERSION, "split": split, "seed": seed, "requested": n, "scenes": len(records),
                "skipped": len(reasons), "expressions": sum(kinds.values()), "kinds": dict(sorted(kinds.items())),
                "appearances": list(appearances),
                "target_sets": dict(sorted(target_sets.items())),
                "width": width, "height": height, "per_object": per_object,
                "held_out_combos": sorted(map(list, HELD_OUT_COMBOS)), "excluded": sorted(map(list, exclude)),
                "skip_reasons": reasons}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return RenderSummary(len(records), len(reasons), sum(kinds.values()), dict(kinds), reasons)
