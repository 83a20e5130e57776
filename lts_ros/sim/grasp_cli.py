"""``lts sim grasp``: its arguments and what it prints (the work is in ``sim.episodes``)."""
from __future__ import annotations

import argparse
from pathlib import Path

from lts_ros.errors import LtsError
from lts_ros.sim.cameras import CAMERAS, check_camera

DESCRIPTION = """Closed-loop grasping in the simulated cell, over real DDS: per episode a fresh scene of graspable
objects (blocks, balls, lego bricks, jenga planks, ducks) in front of a Panda; the cell publishes its head camera
like a driver, lts_node runs in its own process, and lts_grasp_client sends one command like a user and grasps
what the node found, or refuses. Each episode is judged from the simulator: success = the named object at least
10 cm above the table and no other object moved more than 3 cm. Writes OUT/metrics.json, OUT/report.md with a
before/after strip per episode, and OUT/grasp.gif of the first episodes."""


def add_grasp_parser(sim_sub, backends: tuple[str, ...]) -> None:
    grasp = sim_sub.add_parser("grasp", help="grasp named objects in the simulated cell through lts_node",
                               description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
                               epilog="example:\n  lts sim grasp --episodes 50 --no-target 10 --out runs/grasp")
    grasp.add_argument("--episodes", type=int, default=10, help="episodes with a unique command (default: 10)")
    grasp.add_argument("--no-target", type=int, default=None, metavar="N",
                       help="episodes whose command names an absent object, spread among the others "
                       "(default: a fifth of --episodes)")
    grasp.add_argument("--seed", type=int, default=0, help="scenes and commands follow from it (default: 0)")
    grasp.add_argument("--out", type=Path, required=True, help="directory for the report")
    grasp.add_argument("--checkpoint", type=Path, help="lts_node's model (default: the shipped edge model)")
    grasp.add_argument("--backend", default="auto", choices=backends, help="lts_node's backend (default: auto)")
    grasp.add_argument("--fps", type=float, default=4.0, help="head camera frame rate (default: 4; rendering "
                       "640x480 costs ~0.17 s a frame on CPU)")
    grasp.add_argument("--record", type=int, default=3, metavar="N", help="episodes in the GIF (default: 3)")
    grasp.add_argument("--phrasings", nargs="+", default=[], metavar="FAMILY",
                       help="phrase the commands in these phrasing families (docs/phrasing-families.md): family "
                            "names, or development, held_out or all (default: the generator's own phrasing)")
    grasp.add_argument("--appearance", default="flat", metavar="FAMILY",
                       help="how the cell's objects, table and neighbours look (docs/appearance-families.md; "
                            "default flat)")
    grasp.add_argument("--camera", default="head", choices=CAMERAS,
                       help="head: a fixed RGB-D camera in front of the table (default); wrist: one on the Panda's "
                            "hand, the arm parked over the workspace: the client names from that look, then goes "
                            "down in steps and looks again on the way (lts_node follows the object it first found)")
    grasp.add_argument("--occlusion", action="store_true",
                       help="head camera: before each grasp the hand stops between the camera and the target, "
                            "hiding it, and the client looks through lts_node, then again with the hand clear; "
                            "lts_node should answer lost, then the same object (the report counts the answers)")
    grasp.add_argument("--quiet", action="store_true", help="no progress bar")
    grasp.set_defaults(func=cmd_sim_grasp)


def cmd_sim_grasp(args: argparse.Namespace) -> int:
    check_camera(args.camera, args.occlusion)  # before the simulator loads
    from lts_ros.data.tabletop.appearance import family
    from lts_ros.data.tabletop.phrasings import check_families
    from lts_ros.sim.episodes import run_grasp

    if not 0.5 <= args.fps <= 30:
        raise LtsError(f"--fps must be in [0.5, 30], got {args.fps}")
    if (args.out / "metrics.json").exists():
        raise LtsError(f"{args.out} already holds a grasp run: choose another --out or remove it")
    no_target = args.episodes // 5 if args.no_target is None else args.no_target
    params = {"backend": args.backend, **({"model": str(args.checkpoint)} if args.checkpoint else {})}
    check_families(args.phrasings)  # a mistake before the node starts
    family(args.appearance)
    figures = run_grasp(args.out, args.episodes, no_target, args.seed, params, args.fps, args.record,
                        progress=not args.quiet, families=tuple(args.phrasings), appearance=args.appearance,
                        camera=args.camera, occlusion=args.occlusion)

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.0f} %"
    failures = ", ".join(f"{k} {v}" for k, v in figures["failures"].items() if v) or "none"
    print(f"{figures['unique_episodes']} unique commands: success {pct(figures['success_rate'])}, wrong object "
          f"{pct(figures['wrong_object_rate'])}; failures: {failures}")
    print(f"{figures['no_target_episodes']} no-target commands: refused {pct(figures['refusal_rate'])}, arm still "
          f"{pct(figures['no_target_arm_still_rate'])}")
    print(f"report: {args.out / 'report.md'}")
    return 0
