"""``lts train``: its arguments live with the training code (``lts_ros.train``), which ``torchrun`` also runs."""
from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    from lts_ros.train import add_train_arguments

    train = sub.add_parser("train", help="train a model", description="Train an LTS model. For several "
                           "processes/GPUs run: torchrun --nproc_per_node N -m lts_ros.train (same options).")
    add_train_arguments(train)
    train.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    from lts_ros.train import train

    path = train(args)
    print(f"checkpoint: {path}")
    return 0
