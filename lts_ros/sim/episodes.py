"""``lts sim grasp``: seeded grasp episodes in the simulated cell, over real DDS between three processes: this one
(the cell's drivers: camera and arm, and the judge, which reads the simulator's ground truth), ``lts_node`` and,
per episode, ``lts_grasp_client``, which sends the command like a user and acts on the node's answer."""
from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lts_ros.data.tabletop.expressions import generate_expressions
from lts_ros.data.tabletop.appearance import family as appearance_family
from lts_ros.data.tabletop.phrasings import check_families, phrased_expressions
from lts_ros.data.tabletop.scene import CATEGORY_WORDS, COLORS, TABLE_TOP_Z, Scene
from lts_ros.data.tabletop.store import scene_seed
from lts_ros.data.tabletop.world import SceneError
from lts_ros.errors import LtsError
from lts_ros.ros.harness.domain import isolated_env
from lts_ros.ros.harness.node_process import NodeProcess
from lts_ros.sim.attempt import read_attempt
from lts_ros.sim.cameras import check_camera
from lts_ros.sim.cell import GRASPABLE, ROBOT_BASE, Cell
from lts_ros.geometry import pose_vector
from lts_ros.sim.judge import judge

EPISODE_TIMEOUT_S = 90.0
SETTLE_AFTER_S = 0.5  # physics after the client is done, so that a dropped object lands before judging
ARM_MOVED_RAD = 0.05  # the arm "moved" when a joint ended farther than this from home
MIN_TARGET_PX = 400  # a commanded object is this visible in the head camera
SCENE_TRIES = 10
SPIN_S = 0.005  # the cell's physics timer runs every 5 ms


@dataclass
class Episode:
    index: int
    scene_seed: int
    command: str
    kind: str  # the expression kind, or "no_target"
    target: int | None  # instance id; None for no-target commands
    category: str | None
    family: str = "generator"  # the command's phrasing family (data/tabletop/phrasings.py)
    outcome: str = ""  # success | wrong_object | grasp_missed | disturbed_others | not_found | ik_or_motion |
    #                    timeout (unique commands); refused | moved | not_moved (no-target commands)
    decision: str = ""  # the client's (attempt.DECISIONS); "killed" past EPISODE_TIMEOUT_S, "crashed" if no result
    detail: str = ""
    looks: list = field(default_factory=list)  # the client's looks during the approach (Attempt.looks)
    arm_moved: bool = False
    target_lift_m: float | None = None
    timings: dict = field(default_factory=dict)


def choose_command(scene: Scene, rng: np.random.Generator, no_target: bool,
                   families: tuple[str, ...] = ()) -> tuple[str, str, int | None, str]:
    """(text, kind, target, family): one unique expression for a visible object, phrased in one of ``families``
    where given (else the generator's own), or a colour x category that is absent."""
    if no_target:
        present = {(o.color, o.category) for o in scene.objects if o.color}
        absent = [(c, k) for k in GRASPABLE for c in COLORS if not any(
            c == color and any(CATEGORY_WORDS[k][0] in word for word in CATEGORY_WORDS[other])
            for color, other in present)]  # not "the red block" beside a red jenga block
        color, category = absent[int(rng.integers(len(absent)))]
        return f"the {color} {CATEGORY_WORDS[category][0]}", "no_target", None, "generator"
    if families:
        expressions = phrased_expressions(scene.objects, rng, families, per_family=1, min_visible_px=MIN_TARGET_PX)
    else:
        expressions = generate_expressions(scene.objects, rng, per_object=2, min_visible_px=MIN_TARGET_PX)
    if not expressions:
        raise SceneError(f"scene {scene.seed}: no object visible enough to name")
    chosen = expressions[int(rng.integers(len(expressions)))]
    return chosen.text, chosen.kind, chosen.target, chosen.family


def classify(attempt: dict, no_target: bool, judged: str | None, arm_moved: bool) -> str:
    """The episode's outcome (see Episode.outcome) from the client's attempt and the judge's verdict."""
    if no_target:
        return "refused" if attempt.get("decision") == "refused" and not arm_moved else \
            "moved" if arm_moved else "not_moved"
    decision = attempt.get("decision")
    if decision == "grasped":
        return judged
    return {"refused": "not_found", "plan_failed": "ik_or_motion", "motion_failed": "ik_or_motion"}.get(
        decision, "timeout")


class GraspRun:
    """The cell's ROS side in this process and lts_node in its own, for a series of episodes."""

    def __init__(self, out: Path, node_params: dict, fps: float, occlusion: bool = False):
        from lts_ros.ros.harness.participant import Participant
        from lts_ros.sim.cell_node import CAMERA_INFO, COLOR, DEPTH, CellNode

        self.out, self.fps, self.occlusion = out, fps, occlusion
        self.env = isolated_env()
        self.node = NodeProcess(self.env, out / "lts_node.log", node_params,
                                {"image": COLOR, "depth": DEPTH, "camera_info": CAMERA_INFO})
        self.client_remaps = ["-r", f"depth:={DEPTH}", "-r", f"camera_info:={CAMERA_INFO}"]
        self.frames: list[np.ndarray] | None = None  # camera frames of the episode being recorded
        self.participant = Participant(self.env, lambda context: CellNode(fps, on_frame=self._on_frame,
                                                                          context=context))
        self.cell_node = self.participant.node

    def _on_frame(self, stamp_ns: int, scene: Scene) -> None:
        if self.frames is not None:
            self.frames.append(scene.rgb[::2, ::2].copy())  # half size: a GIF of a few episodes stays small

    def close(self) -> None:
        self.participant.close()
        self.node.stop()

    def episode(self, episode: Episode, cell: Cell, record: bool) -> tuple[np.ndarray | None, np.ndarray]:
        """Run and judge ``episode`` (filled in) in ``cell``; (the mask the client acted on, the cell after)."""
        result = self.out / "episodes" / f"{episode.index:03d}.json"
        result.unlink(missing_ok=True)
        self.frames = [] if record else None
        before = cell.object_positions()
        self.cell_node.attach(cell)
        quoted = episode.command.replace("'", "''")
        command = [sys.executable, "-m", "lts_ros.sim.grasp_client", "--ros-args",
                   "-p", f"command:='{quoted}'", "-p", f"camera:={cell.camera_name}",
                   "-p", f"camera_pose:={pose_vector(cell.camera.world_from_camera)}",
                   "-p", f"robot_base:={list(ROBOT_BASE)}", "-p", f"table_z:={TABLE_TOP_Z}",
                   "-p", f"occlusion_pass:={str(self.occlusion).lower()}",
                   "-p", f"result_file:={result}", *self.client_remaps]
        begin = time.perf_counter()
        with (self.out / "episodes" / f"{episode.index:03d}.log").open("w") as log:
            client = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
            self.participant.spin_until(lambda: client.poll() is not None, EPISODE_TIMEOUT_S, SPIN_S)
            killed = client.poll() is None
            if killed:
                client.kill()
                client.wait()
        episode.timings["episode_s"] = time.perf_counter() - begin
        self.participant.spin_for(SETTLE_AFTER_S, SPIN_S)
        self.cell_node.attach(None)
        attempt, mask = read_attempt(result) if result.exists() else ({"decision": "killed" if killed else "crashed",
                                                                       "detail": f"see {result.with_suffix('.log')}"},
                                                                      None)
        positions, _ = cell.joints()
        episode.arm_moved = bool(np.abs(positions[:7] - cell.start).max() > ARM_MOVED_RAD)
        judged = None
        if episode.target is not None:
            outcome = judge(episode.target, cell.object_bottoms(), before, cell.object_positions(), TABLE_TOP_Z)
            judged, episode.target_lift_m = outcome.result, round(outcome.target_lift_m, 4)
        episode.outcome = classify(attempt, episode.target is None, judged, episode.arm_moved)
        episode.decision, episode.detail = attempt["decision"], attempt.get("detail", "")
        episode.looks = attempt.get("looks", [])
        episode.timings.update({k: attempt.get(k) for k in ("ready_s", "answer_s", "plan_s", "motion_s", "node_ms")})
        return mask, cell.view().rgb


def run_grasp(out: str | Path, episodes: int, no_target: int = 0, seed: int = 0, node_params: dict | None = None,
              fps: float = 4.0, record_episodes: int = 3, progress: bool = True, families: tuple[str, ...] = (),
              appearance: str = "flat", camera: str = "head", occlusion: bool = False) -> dict:
    """``episodes`` unique-command episodes and ``no_target`` no-target ones (every k-th), on scenes seeded by
    ``seed`` that look as the ``appearance`` family says, commands phrased in ``families`` where given
    (``phrasings.check_families``), seen by the cell's ``camera`` (head, or wrist: commands named as its first
    look sees the table; ``occlusion``: the head camera's client passes the hand in front of the target and
    looks, ``approach.occlusion_pass``); writes
    ``out``/metrics.json, report.md, episode images and a GIF. Returns the metrics."""
    families = check_families(families)
    appearance = appearance_family(appearance).name
    from lts_ros.sim.report import EpisodeImages, write_report

    check_camera(camera, occlusion)
    if episodes < 0 or no_target < 0 or episodes + no_target == 0:
        raise LtsError(f"need at least one episode (got --episodes {episodes}, --no-target {no_target})")
    out = Path(out)
    (out / "episodes").mkdir(parents=True, exist_ok=True)
    run = GraspRun(out, dict(node_params or {}), fps, occlusion)
    done: list[Episode] = []
    images = EpisodeImages(out)
    scenes_skipped = 0
    try:
        run.node.wait_active()
        bar = tqdm(total=episodes + no_target, desc="grasp", unit="episode", disable=not progress)
        for index, negative in enumerate(_schedule(episodes, no_target)):
            rng = np.random.default_rng([seed, index])
            begin = time.perf_counter()
            for tries in range(SCENE_TRIES):  # a seed whose scene cannot be built or named gives way to the next
                cell = None
                try:
                    cell = Cell(scene_seed(seed, index * SCENE_TRIES + tries), appearance=appearance, camera=camera)
                    scene = cell.view()
                    text, kind, target, family = choose_command(scene, rng, negative, families)
                    break
                except SceneError:
                    scenes_skipped += 1
                    if cell is not None:
                        cell.close()
            else:
                raise LtsError(f"episode {index}: no usable scene in {SCENE_TRIES} seeds")
            episode = Episode(index, cell.tabletop.seed, text, kind, target,
                              None if target is None else scene.objects[target].category, family)
            episode.timings["scene_s"] = time.perf_counter() - begin
            try:
                mask, after = run.episode(episode, cell, record=index < record_episodes)
            finally:
                cell.close()
            images.add(episode, scene, mask, after, run.frames)
            done.append(episode)
            bar.set_postfix_str(f"{sum(e.outcome == 'success' for e in done)} ok, last: {episode.outcome}")
            bar.update()
        bar.close()
        render_ms = 1000 * float(np.median(run.cell_node.render_s)) if run.cell_node.render_s else None
    finally:
        run.close()
    return write_report(out, done, images, {"seed": seed, "fps": fps, "scenes_skipped": scenes_skipped,
                                            "phrasing_families": list(families) or ["generator"],
                                            "appearance": appearance, "camera": camera, "occlusion": occlusion,
                                            "render_ms_median": render_ms, "node_params": node_params or {}})


def _schedule(episodes: int, no_target: int) -> Iterator[bool]:
    """True for the no-target episodes, spread evenly among the unique ones."""
    total = episodes + no_target
    marks = {int((k + 0.5) * total / no_target) for k in range(no_target)} if no_target else set()
    for i in range(total):
        yield i in marks
