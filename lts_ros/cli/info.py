"""``lts info``: parameters and GFLOPs per model part."""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub) -> None:
    info = sub.add_parser("info", help="parameters and GFLOPs per model part",
                          description="Print parameters (total, trainable) and GFLOPs of each part: text "
                          "(once per command) and vision/fusion/locate/segment (per frame).")
    info.add_argument("--config", default="edge", help="shipped name (edge, paper, tiny) or YAML path")
    info.add_argument("--checkpoint", type=Path, help="describe a trained checkpoint instead of a config")
    info.add_argument("--size", type=int, help="input size for the FLOP count (default: the config's)")
    info.add_argument("--vocab-size", type=int, default=10000, help="bigru vocabulary size to assume")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=cmd_info)


def cmd_info(args: argparse.Namespace) -> int:
    from lts_ros.checkpoint import load_checkpoint
    from lts_ros.model.build import build_model
    from lts_ros.model.flops import PARTS, model_costs
    from lts_ros.model.text import WordTokenizer

    if args.checkpoint:
        model = load_checkpoint(args.checkpoint)
    else:  # bigru needs a vocabulary: size it like RefCOCO's (~10k words) for representative numbers
        vocab = WordTokenizer(["<pad>", "<unk>"] + [f"w{i}" for i in range(args.vocab_size)], 20).vocab
        model = build_model(args.config, vocab)
    size = args.size or model.cfg.input_size
    costs = model_costs(model, size)
    frame = [p for p in PARTS if p != "text"]
    if args.json:
        print(json.dumps({"config": model.cfg.name, "input_size": size,
                          "parts": {p: vars(costs[p]) for p in PARTS}}, indent=2))
        return 0
    print(f"model '{model.cfg.name}': {model.cfg.vision.backbone} + {model.cfg.text.encoder}, "
          f"locate={model.cfg.locate.kind}, input {size}x{size}")
    print(f"{'part':<10}{'params (M)':>12}{'trainable (M)':>15}{'GFLOPs':>10}")
    for part in PARTS:
        c = costs[part]
        print(f"{part:<10}{c.params / 1e6:>12.2f}{c.trainable / 1e6:>15.2f}{c.gflops:>10.2f}")
    total = sum(costs[p].params for p in PARTS)
    print(f"{'total':<10}{total / 1e6:>12.2f}{sum(costs[p].trainable for p in PARTS) / 1e6:>15.2f}"
          f"{sum(costs[p].gflops for p in PARTS):>10.2f}")
    print(f"per frame (vision+fusion+locate+segment): {sum(costs[p].gflops for p in frame):.2f} GFLOPs; "
          f"per command (text): {costs['text'].gflops:.3f} GFLOPs  (FLOPs = 2 x multiply-adds)")
    return 0
