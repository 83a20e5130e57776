"""``lts eval``: a checkpoint's IoU and precision figures on a dataset split."""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub) -> None:
    from lts_ros.data.datasets import DATASETS

    ev = sub.add_parser("eval", help="evaluate a checkpoint", description="Overall IoU, mean IoU and "
                        "Prec@0.5..0.9 at each image's own resolution; optionally JSON with per-sample IoU.")
    ev.add_argument("--checkpoint", type=Path, required=True, help="a .safetensors checkpoint")
    ev.add_argument("--data", default="refcoco", choices=DATASETS)
    ev.add_argument("--data-root", type=Path, required=True)
    ev.add_argument("--split", default="val")
    ev.add_argument("--split-by", default=None)
    ev.add_argument("--limit", type=int, default=None, help="first N expressions only")
    ev.add_argument("--batch-size", type=int, default=8)
    ev.add_argument("--workers", type=int, default=0)
    ev.add_argument("--out", type=Path, help="write metrics and per-sample IoU as JSON here")
    ev.add_argument("--grid", type=Path, help="also write a PNG grid of predictions vs ground truth here")
    ev.add_argument("--grid-count", type=int, default=16, help="samples in the grid, spread over the split")
    ev.add_argument("--quiet", action="store_true", help="no progress bar")
    ev.set_defaults(func=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> int:
    from lts_ros.checkpoint import load_checkpoint
    from lts_ros.data.datasets import open_dataset
    from lts_ros.evaluate import evaluate

    model = load_checkpoint(args.checkpoint)
    source = open_dataset(args.data, args.data_root, args.split, args.split_by)
    result = evaluate(model, source, args.batch_size, args.workers, args.limit, progress=not args.quiet)
    print(f"{args.data} {args.split}: {args.checkpoint}")
    print(result.report())
    if args.grid:
        from lts_ros.data.sampling import spread
        from lts_ros.visualize import prediction_grid

        print(f"grid: {prediction_grid(model, source, spread(args.grid_count, len(source)), args.grid)}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"checkpoint": str(args.checkpoint), "data": args.data,
                                        "split": args.split, **result.as_dict()}, indent=2))
        print(f"results: {args.out}")
    return 0
