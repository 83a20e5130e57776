"""``lts eval``: a checkpoint's answers on a dataset split, scored: masks, not-found / ambiguous, calibration."""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub) -> None:
    from lts_ros.data.datasets import DATASETS

    from lts_ros.data.camera_effects import EFFECTS

    ev = sub.add_parser("eval", help="evaluate a checkpoint", description="Scores what the runtime answers, at "
                        "each image's own resolution: overall / mean IoU and Prec@0.5..0.9 on one-target "
                        "expressions (by kind), gIoU, cIoU, N-acc and T-acc (gRefCOCO) over every expression "
                        "(by target set: none, one, several), split masks, the presence score's ECE, and 3D "
                        "centroid errors where the data has depth. Optionally JSON with every sample.")
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
    ev.add_argument("--corrupt", metavar="KIND[:SEVERITY]",
                    help=f"apply one camera effect to every frame: {', '.join(EFFECTS)}; severity 1-5 "
                         "(default 3, moderate); depth effects change only the 3D centroids")
    ev.add_argument("--reliability", type=Path, metavar="PNG", help="write the presence reliability diagram here")
    ev.add_argument("--calibrate-out", type=Path, metavar="CHECKPOINT",
                    help="fit the presence score's temperature on this split (use val) and write the checkpoint "
                         "with it folded in here; the report is of the calibrated model")
    ev.add_argument("--no-refine", dest="refine_edges", action="store_false",
                    help="score the model's own mask edges, not those snapped to the frame (runtime/refine.py)")
    ev.add_argument("--model-only", dest="resolve_phrases", action="store_false",
                    help="the model reads every command whole: no ranks or relations settled by geometry over the "
                         "objects it finds, as the runtime does (lts_ros/language, runtime/query_plan.py)")
    ev.add_argument("--appearance", metavar="FAMILY", default=None,
                    help="tabletop: only the scenes of this appearance family (docs/appearance-families.md); "
                         "without it, a split of several families is reported per family as well")
    ev.add_argument("--quiet", action="store_true", help="no progress bar")
    ev.set_defaults(func=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> int:
    from lts_ros.checkpoint import load_checkpoint
    from lts_ros.data.camera_effects import CameraEffect
    from lts_ros.data.datasets import open_dataset
    from lts_ros.evaluate import evaluate

    effect = CameraEffect.parse(args.corrupt) if args.corrupt else None  # a mistake fails before loading anything
    model = load_checkpoint(args.checkpoint)
    source = open_dataset(args.data, args.data_root, args.split, args.split_by, appearance=args.appearance)
    result = evaluate(model, source, args.batch_size, args.workers, args.limit, progress=not args.quiet,
                      corrupt=effect, refine_edges=args.refine_edges, resolve_phrases=args.resolve_phrases)
    if args.calibrate_out:
        from lts_ros.checkpoint import checkpoint_info, save_checkpoint
        from lts_ros.evaluate import apply_presence_temperature, fit_presence_temperature

        temperature = fit_presence_temperature(result)
        print(f"presence temperature {temperature:.3f} (ECE before: {result.ece():.4f})")
        apply_presence_temperature(model, temperature)
        info = {**checkpoint_info(args.checkpoint), "presence_temperature": round(temperature, 4),
                "calibrated_on": f"{args.data} {args.split}"}
        print(f"calibrated checkpoint: {save_checkpoint(model, args.calibrate_out, half=True, info=info)}")
        result = evaluate(model, source, args.batch_size, args.workers, args.limit, progress=not args.quiet,
                          corrupt=effect, refine_edges=args.refine_edges, resolve_phrases=args.resolve_phrases)
    print(f"{args.data} {args.split}: {args.checkpoint}" + (f" (camera effect {effect})" if effect else ""))
    print(result.report())
    if args.reliability:
        print(f"reliability diagram: {result.reliability_png(args.reliability)}")
    if args.grid:
        from lts_ros.data.sampling import spread
        from lts_ros.visualize import prediction_grid

        print(f"grid: {prediction_grid(model, source, spread(args.grid_count, len(source)), args.grid)}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"checkpoint": str(args.checkpoint), "data": args.data, "split": args.split,
                                        "corrupt": str(effect) if effect else None,
                                        **result.as_dict()}, indent=2))
        print(f"results: {args.out}")
    return 0
