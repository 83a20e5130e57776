"""The ``lts`` command: model info, training, evaluation and the demo.

Each subcommand has its own ``--help``. Mistakes (a bad config key, a missing file, an empty
expression) print one line and exit with status 2, never a traceback. Each subcommand module here
registers its own arguments (``add_parser``) and holds its handler; this one only assembles them.
Handlers import the model stack when they run, so ``lts --help`` and argument errors stay fast.
"""
from __future__ import annotations

import argparse

from lts_ros.cli import average, bag, bench, demo, evaluate, export, info, segment, sim, train
from lts_ros.errors import run_command

COMMANDS = (info, train, average, evaluate, segment, export, bench, bag, sim, demo)  # in the order --help lists them

EPILOG = """examples:
  lts info --config edge                 parameters and GFLOPs per part
  lts train --config tiny --data refcoco --data-root data/refer --steps 2000
  torchrun --nproc_per_node 2 -m lts_ros.train --config edge --data-root data/refer
  lts average --checkpoints models/lts_edge_tabletop.safetensors runs/x/model.safetensors --out runs/x/avg.safetensors
  lts eval --checkpoint runs/x/model.safetensors --data refcoco --data-root data/refer --split val
  lts segment --checkpoint runs/x/model.safetensors --image scene.png --text "the red mug"
  lts export onnx --checkpoint models/lts_edge_tabletop.safetensors --precision int8 --calibration data/tabletop/val
  lts bench --quick                      CPU latency/FPS per backend and precision
  lts demo                               the shipped model on held-out simulated scenes
  lts sim grasp --episodes 10 --out runs/grasp   a simulated Panda grasps named objects through lts_node
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lts", description="Locate-then-Segment referring segmentation: "
                                     "segment the object a person names.", epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(f"lts {args.command}", lambda: args.func(args))
