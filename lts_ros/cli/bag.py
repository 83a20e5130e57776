"""``lts bag record-sim|eval``: record simulated episodes as rosbag2 bags, evaluate the model on a bag."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lts_ros.cli.group import add_group
from lts_ros.errors import LtsError

GROUNDING_FIGURES = (("n_acc", "N-acc"), ("t_acc", "T-acc"), ("ambiguous_acc", "ambiguous"), ("found_acc", "found"),
                     ("giou", "gIoU"), ("ciou", "cIoU"))


def add_parser(sub) -> None:
    bag_sub = add_group(sub, "bag", help="rosbag2 tools: record simulated episodes, evaluate on a bag",
                        description="lts_ros bags (layout in docs/bag-format.md): RealSense-style camera topics, "
                        "the command and ground truth, in rosbag2 (mcap or sqlite3) readable by ros2 bag play "
                        "and Foxglove.")
    add_record_parser(bag_sub)
    add_eval_parser(bag_sub)


def add_record_parser(bag_sub) -> None:
    from lts_ros.data.tabletop.scene import TRACKING_KINDS

    record = bag_sub.add_parser("record-sim", help="record simulated RGB-D episodes with ground truth",
                                description="Record episodes of a settled tabletop scene seen by a smoothly "
                                "orbiting camera, with a few commands in turn (by colour/category or size, which "
                                "no motion changes), ground-truth masks and 3D centroids per frame.")
    record.add_argument("--out", type=Path, required=True, help="the bag directory to create")
    record.add_argument("--episodes", type=int, default=2)
    record.add_argument("--seed", type=int, default=0, help="episode e renders the scene of seed (seed, e)")
    record.add_argument("--rate", type=float, default=15.0, help="frames per second (Hz)")
    record.add_argument("--seconds", type=float, default=3.0, help="length of an episode")
    record.add_argument("--commands", type=int, default=3, help="commands per episode, in turn, that name one "
                        "object each")
    record.add_argument("--target-sets", default="one", metavar="SETS",
                        help="which commands an episode has, comma-separated: one (--commands that name one object "
                        "each), none (also one that names no object on the table: 'it is not there'), several "
                        "(also one that names several: 'which one?'). Each command's set is in the ground truth "
                        "on /lts/gt/target_set (default: %(default)s)")
    record.add_argument("--storage", default="mcap", choices=["mcap", "sqlite3"])
    record.add_argument("--depth-encoding", default="16UC1", choices=["16UC1", "32FC1"],
                        help="16UC1 millimetres (as a RealSense driver) or 32FC1 metres")
    record.add_argument("--color-format", default="raw", choices=["raw", "jpeg", "png"],
                        help="colour frames as rgb8 Image (raw), or as CompressedImage the way image_transport's "
                        "compressed plugin writes them, on <colour topic>/compressed")
    record.add_argument("--topics", nargs="*", default=[], metavar="ROLE=TOPIC",
                        help="rename topics by role: color, camera_info, depth, command, gt_mask, gt_centroid, "
                        "gt_target_set")
    record.add_argument("--appearance", nargs="+", default=["flat"], metavar="FAMILY",
                        help="appearance families, episode by episode in turn (docs/appearance-families.md); "
                             "default flat")
    record.add_argument("--tracking", nargs="+", default=[], metavar="KIND",
                        choices=TRACKING_KINDS, help="record episodes for lock-on instead, kind by kind in turn: "
                        "one command each, named in the first frame, then orbit (the camera swings and pans), "
                        "approach (a wrist-like camera closes in, ending with the object large and cut by the "
                        "frame), occluder (a bar passes in front of it), lookalike (and a copy of it appears "
                        "elsewhere while it is hidden), push (it slides across the table); ground truth adds the "
                        "object's unoccluded mask and the look-alike's (docs/bag-format.md)")
    record.add_argument("--quiet", action="store_true", help="no progress bar")
    record.set_defaults(func=cmd_bag_record_sim)


def add_eval_parser(bag_sub) -> None:
    from lts_ros.bag.output import OVERLAY_EVERY
    from lts_ros.options import AUTO, BACKEND_CHOICES

    ev_bag = bag_sub.add_parser("eval", help="evaluate the model on a bag (offline, or live through lts_node)",
                                description="Segment every colour frame of a bag in this process (depth and "
                                "camera_info paired by stamp as lts_node does), score it against the bag's ground "
                                "truth, and write an output bag (inputs + /lts/mask, /lts/centroid, /lts/overlay), "
                                "metrics.json and report.md with plots. With --live the frames go through lts_node "
                                "over DDS instead. Bags without ground truth give outputs and latency only.")
    ev_bag.add_argument("bag", type=Path, help="the bag directory")
    ev_bag.add_argument("--out", type=Path, required=True, help="directory for the report and output bag")
    ev_bag.add_argument("--checkpoint", type=Path, help="default: the shipped edge model")
    ev_bag.add_argument("--backend", default="auto", choices=BACKEND_CHOICES, help="inference backend, in-process "
                        f"or the node's (default: {AUTO})")
    ev_bag.add_argument("--sync-tolerance", type=float, default=0.05, help="s, as the node's sync_tolerance")
    ev_bag.add_argument("--topics", nargs="*", default=[], metavar="ROLE=TOPIC",
                        help="rename topics by role: color, camera_info, depth, command, gt_mask, gt_centroid, "
                        "gt_target_set (e.g. color=/camera/color/image_raw/compressed for a CompressedImage stream)")
    ev_bag.add_argument("--live", action="store_true", help="replay the bag onto topics through lts_node in its "
                        "own process over DDS (latency end to end) instead of running the model in-process")
    ev_bag.add_argument("--rate", type=float, default=1.0, help="--live: replay speed, 1 = as recorded")
    ev_bag.add_argument("--per-frame", action="store_true", help="answer every frame from scratch (the node's "
                        "lock_on false); by default, as lts_node, the object a command is first found with is "
                        "followed (tracking / lost / reacquired), and bags of tracking episodes are scored for it")
    ev_bag.add_argument("--overlay-every", type=int, default=OVERLAY_EVERY, metavar="N",
                        help="an overlay in the output bag every Nth frame (1 = all, 0 = none; default: "
                        "%(default)s); masks and centroids are written for every frame")
    ev_bag.add_argument("--quiet", action="store_true", help="no progress bar")
    ev_bag.set_defaults(func=cmd_bag_eval)


def cmd_bag_record_sim(args: argparse.Namespace) -> int:
    from lts_ros.bag.format import BagTopics
    from lts_ros.bag.record import parse_target_sets, record_sim

    topics = BagTopics().with_overrides(args.topics)  # a bad entry fails before any rendering
    target_sets = parse_target_sets(args.target_sets)
    if args.color_format != "raw" and not any(entry.startswith("color=") for entry in args.topics):
        topics = topics.with_overrides([f"color={topics.color}/compressed"])  # image_transport's name for it
    summary = record_sim(args.out, args.episodes, args.seed, args.rate, args.seconds, args.commands, args.storage,
                         args.depth_encoding, topics, color_format=args.color_format, target_sets=target_sets,
                         progress=not args.quiet, appearances=tuple(args.appearance), tracking=tuple(args.tracking))
    print(f"{args.out}: {summary.episodes} episodes, {summary.frames} frames, {summary.commands} commands")
    for reason in summary.skipped:
        print(f"  skipped: {reason}")
    return 0


def cmd_bag_eval(args: argparse.Namespace) -> int:
    from lts_ros.bag.evaluate import evaluate_offline
    from lts_ros.bag.format import BagTopics
    from lts_ros.bag.frames import check_topics
    from lts_ros.bag.output import check_overlay_every
    from lts_ros.bag.report import metrics, warnings, write_report
    from lts_ros.checkpoint import shipped_checkpoint
    from lts_ros.runtime.segmenter import Segmenter

    topics = BagTopics().with_overrides(args.topics)
    check_topics(args.bag, topics)  # a wrong bag or option fails before the model loads
    check_overlay_every(args.overlay_every)
    if (args.out / "metrics.json").exists() or (args.out / "output_bag").exists():
        raise LtsError(f"{args.out} already holds an evaluation: choose another --out or remove it")
    if args.live:
        from lts_ros.bag.live import evaluate_live

        params = {"backend": args.backend, "lock_on": not args.per_frame,
                  **({"model": str(args.checkpoint)} if args.checkpoint else {})}
        evaluation = evaluate_live(args.bag, args.out, topics, params, args.rate, args.sync_tolerance,
                                   args.overlay_every, progress=not args.quiet)
    else:
        segmenter = Segmenter.from_checkpoint(args.checkpoint or shipped_checkpoint(), backend=args.backend)
        segmenter.lock_on = not args.per_frame
        evaluation = evaluate_offline(args.bag, args.out, segmenter, topics, args.sync_tolerance,
                                      args.overlay_every, progress=not args.quiet)
    figures = metrics(evaluation)
    for line in warnings(figures):
        print(f"lts bag eval: warning: {line}", file=sys.stderr)
    mode = "Live (lts_node over DDS)" if args.live else "Offline"
    report = write_report(evaluation, figures, args.out, f"{mode} evaluation of {args.bag}")
    acc = figures["accuracy"]
    print(f"{figures['frames']} frames ({figures['frames_with_ground_truth']} with ground truth): "
          + (f"mIoU {100 * acc['mean_iou']:.1f}, overall IoU {100 * acc['overall_iou']:.1f}, "
             f"P@0.5 {100 * acc['prec@0.5']:.1f}; " if acc else "")
          + f"latency p50 {figures['latency_ms']['p50']:.1f} ms; {figures['fps']:.1f} FPS; "
          f"{figures['frames_without_output']} frames without output, "
          f"{figures['frames_with_another_command']} answered with another command")
    if (ground := figures["grounding"]) is not None:
        print("grounding: " + ", ".join(f"{name} {100 * ground[key]:.1f}" for key, name in GROUNDING_FIGURES
                                         if ground[key] is not None)
              + " (frames: " + ", ".join(f"{k} {v}" for k, v in ground["counts"].items()) + ")")
    for name, family in figures["by_appearance"].items():
        acc, ground = family["accuracy"], family["grounding"] or {}
        print(f"appearance {name}: {family['frames']} frames"
              + (f", mIoU {100 * acc['mean_iou']:.1f}" if acc else "")
              + "".join(f", {label} {100 * ground[key]:.1f}" for key, label in GROUNDING_FIGURES[:2]
                        if ground.get(key) is not None))
    if (track := figures["tracking"]) is not None:
        for kind, t in [("all", track), *track["by_kind"].items()]:
            print(f"lock-on {kind}: {t['episodes']} episodes ({t['locked_on_object']} first found with the named "
                  f"object), {t['frames']} frames: identity consistency {_percent(t['identity_consistency'])}, "
                  f"wrong-object frames {_percent(t['wrong_object_frames'])} "
                  f"({t['wrong_object_frames_after_lock']} after a right first answer), hidden answered lost "
                  f"{_percent(t['hidden_answered_lost'])}, re-acquired within 3 frames "
                  f"{_percent(t['reacquired_within_3'])} of {t['occlusions']}, "
                  f"look-alike taken {t['lookalike_frames']}")
        if (lock_ms := track["lock_ms"])["p50"] is not None:
            print(f"lock-on's own time per frame: p50 {lock_ms['p50']:.2f} ms, p90 {lock_ms['p90']:.2f} ms "
                  "(in this process; the model's passes excluded)")
    print(f"report: {report} (overlays: {args.out / 'overlays.png'}); output bag: {args.out / 'output_bag'}")
    return 0


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f} %"
