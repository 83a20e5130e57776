"""``lts average``: mix checkpoints of one model weight by weight (a fine-tune with the model it started from)."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    average = sub.add_parser(
        "average", help="average the weights of checkpoints of one model",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write the checkpoint whose every weight is the weighted mean of the given checkpoints' "
        "(weight-space ensembling, as WiSE-FT does for fine-tuned models). Mixing a fine-tune back with the "
        "model it started from keeps more of what that model knew than the fine-tune alone, and costs nothing "
        "per frame. Every checkpoint must be the same architecture with the same vocabulary. The presence "
        "temperature is averaged like any weight: fit it again on val (lts eval --calibrate-out).",
        epilog="example:\n  lts average --checkpoints models/lts_edge_tabletop.safetensors runs/ft/model.safetensors "
        "--weights 0.5 0.5 --out runs/ft/avg50.safetensors")
    average.add_argument("--checkpoints", type=Path, nargs="+", required=True, help="two or more .safetensors "
                         "checkpoints of one model; the first one's config and vocabulary are kept")
    average.add_argument("--weights", type=float, nargs="+", help="one weight per checkpoint, normalized to sum "
                         "to 1 (default: equal)")
    average.add_argument("--out", type=Path, required=True, help="the averaged checkpoint (.safetensors)")
    average.add_argument("--half", action="store_true", help="store fp16 weights (the shipped model's form)")
    average.set_defaults(func=cmd_average)


def cmd_average(args: argparse.Namespace) -> int:
    from lts_ros.checkpoint import save_checkpoint
    from lts_ros.weight_average import average_checkpoints

    weights = args.weights or [1.0] * len(args.checkpoints)
    model = average_checkpoints(args.checkpoints, weights)
    total = sum(weights)
    info = {"averaged": [{"checkpoint": str(path), "weight": round(w / total, 4)}
                         for path, w in zip(args.checkpoints, weights)]}
    print(f"averaged checkpoint: {save_checkpoint(model, args.out, half=args.half, info=info)}")
    return 0
