"""``lts demo``: the in-process tour (the work is in ``lts_ros.demo``)."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    demo = sub.add_parser("demo", help="end-to-end demo on generated scenes",
                          description="With the shipped model (models/): render held-out tabletop scenes, "
                          "segment every expression, print metrics and write a prediction grid PNG. Without it, "
                          "or with --train-tiny: train the tiny model on generated shapes and evaluate it.")
    demo.add_argument("--out", type=Path, default=Path("runs/demo"))
    demo.add_argument("--train-tiny", action="store_true", help="the tiny-model training demo")
    demo.add_argument("--steps", type=int, default=600, help="--train-tiny: training steps")
    demo.add_argument("--images", type=int, default=48, help="--train-tiny: generated images")
    demo.add_argument("--quiet", action="store_true")
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from lts_ros.demo import run_demo

    run_demo(args.out, args.train_tiny, args.steps, args.images, quiet=args.quiet)
    return 0
