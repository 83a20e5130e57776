"""The ``lts`` command: model info, training, evaluation and the demo.

Each subcommand has its own ``--help``. Mistakes (a bad config key, a missing file, an empty
expression) print one line and exit with status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lts_ros.cache_root import default_engine_dir
from lts_ros.errors import LtsError, run_command

EPILOG = """examples:
  lts info --config edge                 parameters and GFLOPs per part
  lts train --config tiny --data refcoco --data-root data/refer --steps 2000
  torchrun --nproc_per_node 2 -m lts_ros.train --config edge --data-root data/refer
  lts eval --checkpoint runs/x/model.safetensors --data refcoco --data-root data/refer --split val
  lts segment --checkpoint runs/x/model.safetensors --image scene.png --text "the red mug"
  lts export onnx --checkpoint models/lts_edge_tabletop.safetensors --precision int8 --calibration data/tabletop/val
  lts bench --quick                      CPU latency/FPS per backend and precision
  lts demo                               the shipped model on held-out simulated scenes
  lts sim grasp --episodes 10 --out runs/grasp   a simulated Panda grasps named objects through lts_node
"""


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


def cmd_train(args: argparse.Namespace) -> int:
    from lts_ros.train import train

    path = train(args)
    print(f"checkpoint: {path}")
    return 0


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


def cmd_segment(args: argparse.Namespace) -> int:
    import cv2

    from lts_ros.data.refer import read_rgb
    from lts_ros.model.text import check_expression
    from lts_ros.plots import overlay
    from lts_ros.runtime.segmenter import Segmenter

    text = check_expression(args.text)  # cheap mistakes first, before loading anything
    image = read_rgb(args.image)
    segmenter = Segmenter.from_checkpoint(args.checkpoint, backend=args.backend, threshold=args.threshold)
    segmenter.set_command(text)
    result = segmenter.segment(image)
    out = args.out or args.image.with_name(f"{args.image.stem}_lts.png")
    cv2.imwrite(str(out), cv2.cvtColor(overlay(image, result.mask), cv2.COLOR_RGB2BGR))
    print(f'"{segmenter.command}": {"found" if result.found else "not found"}, score {result.score:.3f}, '
          f"{int(result.mask.sum())} px; overlay: {out}")
    if result.bbox is not None:
        print(f"bbox (x0, y0, x1, y1): {', '.join(map(str, result.bbox))}; "
              f"centroid_px: ({result.centroid_px[0]:.1f}, {result.centroid_px[1]:.1f}); "
              f"{result.timings_ms['infer']:.1f} ms ({segmenter.backend.name})")
    return 0


def cmd_export_onnx(args: argparse.Namespace) -> int:
    from lts_ros.export.calibration import load_frames, read_commands
    from lts_ros.cache_root import ONNX, writable_or_redirected
    from lts_ros.export.onnx import default_export_dir, ensure_export, export_onnx, verify_export
    from lts_ros.export.precision import add_variants

    variants = [v for p in args.precision for v in {"fp32": [], "fp16": ["fp16"],
                                                    "int8": ["int8-u8s8", "int8-s8s8"]}[p]]
    if variants and args.calibration is None:
        raise LtsError("--precision fp16/int8 needs --calibration: a tabletop split or a directory of images "
                       "(int8 is calibrated on half of the frames; every variant is checked on the other half)")
    commands = read_commands(args.commands) if args.commands else None
    frames = load_frames(args.calibration, args.frames, commands) if variants else []  # bad input before exporting
    if args.force:
        out = args.out or writable_or_redirected(default_export_dir(args.checkpoint), ONNX)
        export_onnx(args.checkpoint, out)
    else:  # the default dir beside a read-only checkpoint (an install's share/) moves to $ROS_HOME/lts_ros
        out = ensure_export(args.checkpoint, args.out)
    for name, diff in verify_export(out).items():
        print(f"fp32 {name}: max |ONNX Runtime - torch| {diff:.1e}")
    for variant, check in add_variants(out, variants, frames, str(args.calibration), args.min_iou).items():
        print(f"{variant}: mask IoU vs fp32 mean {check.mask_iou_mean:.3f} (min {check.mask_iou_min:.3f}) "
              f"on {check.frames} held-out frames")
    print(f"export: {out}")
    for path in sorted(out.glob("*.onnx")):
        print(f"  {path.name:<26}{path.stat().st_size / 2**20:>8.1f} MiB")
    return 0


def cmd_export_check(args: argparse.Namespace) -> int:
    from lts_ros.bench.report import check_section, machine_info, parity_markdown, replace_section, write_json
    from lts_ros.data.sampling import spread
    from lts_ros.data.tabletop.dataset import TabletopDataset
    from lts_ros.export.manifest import read_manifest
    from lts_ros.export.parity import compare_precisions

    if args.markdown:
        check_section(args.markdown, "parity")
    data = TabletopDataset(args.data_root, args.split, load_depth=False)
    indices = spread(args.limit, len(data))
    rows = compare_precisions(args.onnx_dir, (data[i] for i in indices), args.precision, progress=not args.quiet)
    print(f"{'precision':<10}{'expressions':>12}{'mIoU vs GT':>12}{'P@0.5':>8}{'IoU vs fp32 mean':>18}{'median':>8}")
    for r in rows:
        print(f"{r.precision:<10}{r.expressions:>12}{100 * r.mean_iou_gt:>12.2f}{100 * r.prec_at_05:>8.2f}"
              f"{r.iou_vs_fp32_mean:>18.4f}{r.iou_vs_fp32_median:>8.4f}")
    variants = read_manifest(args.onnx_dir).variants
    calibration = "; ".join(f"{name}: {v['calibration']['frames']} frames of {v['calibration']['source']}"
                            for name, v in variants.items() if v.get("calibration")) or "none"
    result = {"machine": machine_info(0), "onnx_dir": str(args.onnx_dir), "split_dir": str(data.dir),
              "expressions": len(indices), "calibration": calibration, "rows": [vars(r) for r in rows]}
    if args.out:
        print(f"results: {write_json(args.out, result)}")
    if args.markdown:
        print(f"table: {replace_section(args.markdown, 'parity', parity_markdown(result))}")
    return 0


def cmd_export_engine(args: argparse.Namespace) -> int:
    from lts_ros.runtime.backends.tensorrt_backend import TensorRTBackend

    backend = TensorRTBackend.from_export(args.onnx_dir, args.engine_dir, args.precision, args.on_mismatch,
                                          args.device)
    print(f"engines ({args.precision}) ready in {backend.seg.path.parent}: {backend.text.path.name}, "
          f"{backend.seg.path.name}")
    return 0


def cmd_bag_record_sim(args: argparse.Namespace) -> int:
    from lts_ros.bag.format import BagTopics
    from lts_ros.bag.record import record_sim

    topics = BagTopics().with_overrides(args.topics)  # a bad entry fails before any rendering
    if args.color_format != "raw" and not any(entry.startswith("color=") for entry in args.topics):
        topics = topics.with_overrides([f"color={topics.color}/compressed"])  # image_transport's name for it
    summary = record_sim(args.out, args.episodes, args.seed, args.rate, args.seconds, args.commands, args.storage,
                         args.depth_encoding, topics, color_format=args.color_format, progress=not args.quiet)
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

        params = {"backend": args.backend, **({"model": str(args.checkpoint)} if args.checkpoint else {})}
        evaluation = evaluate_live(args.bag, args.out, topics, params, args.rate, args.sync_tolerance,
                                   args.overlay_every, progress=not args.quiet)
    else:
        segmenter = Segmenter.from_checkpoint(args.checkpoint or shipped_checkpoint(), backend=args.backend)
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
    print(f"report: {report} (overlays: {args.out / 'overlays.png'}); output bag: {args.out / 'output_bag'}")
    return 0


def cmd_sim_render(args: argparse.Namespace) -> int:
    from lts_ros.data.tabletop.store import render_split

    summary = render_split(args.out, args.split, args.n, args.seed, args.workers, args.width, args.height,
                           args.per_object, args.categories, args.colors, progress=not args.quiet)
    print(f"{args.split}: {summary.scenes} scenes, {summary.expressions} expressions "
          f"({', '.join(f'{k} {v}' for k, v in sorted(summary.kinds.items()))}); skipped {summary.skipped}")
    for reason in summary.reasons[:5]:
        print(f"  skipped: {reason}")
    print(f"written to {args.out / args.split}")
    return 0


def cmd_sim_preview(args: argparse.Namespace) -> int:
    from lts_ros.data.tabletop.dataset import TabletopDataset
    from lts_ros.plots import Panel, save_grid
    from lts_ros.data.sampling import spread

    data = TabletopDataset(args.data_root, args.split)
    panels = []
    for index in spread(args.count, len(data)):
        s = data[index]
        panels.append(Panel(s.image, f'"{s.text}" [{s.kind}]', gt=s.mask))
    print(f"preview: {save_grid(panels, args.out, legend='ground truth: yellow outline')}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from lts_ros.demo import run_demo

    run_demo(args.out, args.train_tiny, args.steps, args.images, quiet=args.quiet)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from lts_ros.bag.output import OVERLAY_EVERY
    from lts_ros.data.datasets import DATASETS
    from lts_ros.data.tabletop.scene import CATEGORIES, COLORS
    from lts_ros.bench.run import add_bench_arguments, run_bench
    from lts_ros.export.precision import MIN_MASK_IOU
    from lts_ros.runtime.segmenter import BACKENDS
    from lts_ros.sim.grasp_cli import add_grasp_parser
    from lts_ros.train import add_train_arguments

    parser = argparse.ArgumentParser(prog="lts", description="Locate-then-Segment referring segmentation: "
                                     "segment the object a person names.", epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    info = sub.add_parser("info", help="parameters and GFLOPs per model part",
                          description="Print parameters (total, trainable) and GFLOPs of each part: text "
                          "(once per command) and vision/fusion/locate/segment (per frame).")
    info.add_argument("--config", default="edge", help="shipped name (edge, paper, tiny) or YAML path")
    info.add_argument("--checkpoint", type=Path, help="describe a trained checkpoint instead of a config")
    info.add_argument("--size", type=int, help="input size for the FLOP count (default: the config's)")
    info.add_argument("--vocab-size", type=int, default=10000, help="bigru vocabulary size to assume")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=cmd_info)

    train = sub.add_parser("train", help="train a model", description="Train an LTS model. For several "
                           "processes/GPUs run: torchrun --nproc_per_node N -m lts_ros.train (same options).")
    add_train_arguments(train)
    train.set_defaults(func=cmd_train)

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

    seg = sub.add_parser("segment", help="segment the named object in one image",
                         description="Segment the object an expression names in an image file; write an "
                         "overlay PNG and print the score, bounding box and pixel centroid.")
    seg.add_argument("--checkpoint", type=Path, required=True, help="a .safetensors checkpoint")
    seg.add_argument("--image", type=Path, required=True, help="an image file (PNG, JPEG, ...)")
    seg.add_argument("--text", required=True, help="the expression, e.g. 'the red mug on the left'")
    seg.add_argument("--threshold", type=float, default=0.5, help="score needed to report 'found'")
    seg.add_argument("--backend", default="torch", choices=BACKENDS,
                     help="auto/onnxruntime/tensorrt export the checkpoint to ONNX beside it on first use; "
                     "tensorrt caches engines in ./engines")
    seg.add_argument("--out", type=Path, help="overlay PNG (default: <image>_lts.png)")
    seg.set_defaults(func=cmd_segment)

    export = sub.add_parser("export", help="ONNX export (fp32/fp16/int8) and TensorRT engines",
                            description="Export a checkpoint to ONNX for ONNX Runtime and TensorRT, and build "
                            "TensorRT engines from an export.")
    export_sub = export.add_subparsers(dest="export_command", metavar="EXPORT_COMMAND", required=True)
    onnx = export_sub.add_parser(
        "onnx", help="export a checkpoint to ONNX", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write text.onnx (run once per command, fp32) and segment.onnx (per frame) with model.json, "
        "verified against torch (max |diff| <= 1e-3). --precision adds segment graph variants: fp16, and int8 as "
        "two Q/DQ forms (U8S8: ONNX Runtime's fast CPU path; S8S8: what TensorRT wants), each refused unless "
        "its masks match fp32 (mean IoU >= --min-iou) on frames it was not calibrated on.",
        epilog="example:\n  lts sim render --split val --n 64 --out data/tabletop\n  lts export onnx --checkpoint "
        "models/lts_edge_tabletop.safetensors --precision fp32 fp16 int8 --calibration data/tabletop/val")
    onnx.add_argument("--checkpoint", type=Path, required=True, help="a .safetensors checkpoint")
    onnx.add_argument("--out", type=Path, help="export dir (default: <checkpoint stem>-onnx/ beside it, where "
                      "the onnxruntime/tensorrt backends look)")
    onnx.add_argument("--precision", nargs="+", default=["fp32"], choices=["fp32", "fp16", "int8"],
                      help="variants to add to the fp32 export")
    onnx.add_argument("--calibration", type=Path, help="frames for int8 calibration and variant checks: a "
                      "tabletop split dir (lts sim render) or a directory of images")
    onnx.add_argument("--commands", type=Path, help="with an image directory: a text file, one command per line "
                      "(default: a built-in list of tabletop commands)")
    onnx.add_argument("--frames", type=int, default=128, help="(image, command) pairs to use: half calibrate, "
                      "half check")
    onnx.add_argument("--min-iou", type=float, default=MIN_MASK_IOU, help="refuse a variant whose masks agree "
                      "with fp32 below this mean IoU on the check frames")
    onnx.add_argument("--force", action="store_true", help="re-export fp32 even when the export is current")
    onnx.set_defaults(func=cmd_export_onnx)
    check = export_sub.add_parser("check", help="accuracy of an export's precisions on a tabletop split",
                                  description="Segment expressions of a rendered tabletop split with fp32 and "
                                  "each requested variant through ONNX Runtime: mIoU and P@0.5 against ground "
                                  "truth, and mask IoU against fp32 (at each frame's own resolution).")
    check.add_argument("--onnx-dir", type=Path, required=True, help="an export dir from 'lts export onnx'")
    check.add_argument("--precision", nargs="+", default=["fp16", "int8"], choices=["fp16", "int8"],
                       help="variants to compare with fp32")
    check.add_argument("--data-root", type=Path, default=Path("data/tabletop"))
    check.add_argument("--split", default="test")
    check.add_argument("--limit", type=int, default=400, help="expressions, spread over the split")
    check.add_argument("--out", type=Path, help="write the figures as JSON here")
    check.add_argument("--markdown", type=Path, help="also write the table between the lts-bench:parity markers "
                       "of this document (docs/benchmarks.md)")
    check.add_argument("--quiet", action="store_true", help="no progress bar")
    check.set_defaults(func=cmd_export_check)
    engine = export_sub.add_parser("engine", help="build TensorRT engines from an ONNX export",
                                   description="Build (or reuse, when its manifest matches this GPU, TensorRT "
                                   "version, ONNX hash and precision) the text and segment engines of an export "
                                   "in the engine cache, then load them once. Needs TensorRT and a CUDA GPU.")
    engine.add_argument("--onnx-dir", type=Path, required=True, help="an export dir from 'lts export onnx'")
    engine.add_argument("--engine-dir", type=Path, default=default_engine_dir(),
                        help="the engine cache (default: $ROS_HOME/lts_ros/engines, where lts_node looks); a "
                        "read-only one is only read, builds then go to $ROS_HOME/lts_ros/engines/<name>-<hash>")
    engine.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "int8"],
                        help="which segment graph to build (the text engine is always fp32)")
    engine.add_argument("--device", default="cuda", help="cuda or cuda:N")
    engine.add_argument("--on-mismatch", default="rebuild", choices=["rebuild", "refuse"],
                        help="what to do with a cached engine whose manifest does not match")
    engine.set_defaults(func=cmd_export_engine)

    bench = sub.add_parser("bench", help="CPU latency, FPS and memory per backend, precision, size and config",
                           description="Benchmark the Segmenter end to end on a rendered 640x480 frame: text "
                           "encoding, per-frame latency p50/p90/p99, FPS, peak RSS, GFLOP/s, per backend x "
                           "precision x input size x config, each case in its own process. Writes JSON and the "
                           "table in docs/benchmarks.md. Run it on an otherwise idle machine.")
    add_bench_arguments(bench)
    bench.set_defaults(func=run_bench)

    bag = sub.add_parser("bag", help="rosbag2 tools: record simulated episodes, evaluate on a bag",
                         description="lts_ros bags (layout in docs/bag-format.md): RealSense-style camera topics, "
                         "the command and ground truth, in rosbag2 (mcap or sqlite3) readable by ros2 bag play "
                         "and Foxglove.")
    bag_sub = bag.add_subparsers(dest="bag_command", metavar="BAG_COMMAND", required=True)
    record = bag_sub.add_parser("record-sim", help="record simulated RGB-D episodes with ground truth",
                                description="Record episodes of a settled tabletop scene seen by a smoothly "
                                "orbiting camera, with a few commands in turn (by colour/category or size, which "
                                "no motion changes), ground-truth masks and 3D centroids per frame.")
    record.add_argument("--out", type=Path, required=True, help="the bag directory to create")
    record.add_argument("--episodes", type=int, default=2)
    record.add_argument("--seed", type=int, default=0, help="episode e renders the scene of seed (seed, e)")
    record.add_argument("--rate", type=float, default=15.0, help="frames per second (Hz)")
    record.add_argument("--seconds", type=float, default=3.0, help="length of an episode")
    record.add_argument("--commands", type=int, default=3, help="commands per episode, in turn")
    record.add_argument("--storage", default="mcap", choices=["mcap", "sqlite3"])
    record.add_argument("--depth-encoding", default="16UC1", choices=["16UC1", "32FC1"],
                        help="16UC1 millimetres (as a RealSense driver) or 32FC1 metres")
    record.add_argument("--color-format", default="raw", choices=["raw", "jpeg", "png"],
                        help="colour frames as rgb8 Image (raw), or as CompressedImage the way image_transport's "
                        "compressed plugin writes them, on <colour topic>/compressed")
    record.add_argument("--topics", nargs="*", default=[], metavar="ROLE=TOPIC",
                        help="rename topics by role: color, camera_info, depth, command, gt_mask, gt_centroid")
    record.add_argument("--quiet", action="store_true", help="no progress bar")
    record.set_defaults(func=cmd_bag_record_sim)
    ev_bag = bag_sub.add_parser("eval", help="evaluate the model on a bag (offline, or live through lts_node)",
                                description="Segment every colour frame of a bag in this process (depth and "
                                "camera_info paired by stamp as lts_node does), score it against the bag's ground "
                                "truth, and write an output bag (inputs + /lts/mask, /lts/centroid, /lts/overlay), "
                                "metrics.json and report.md with plots. With --live the frames go through lts_node "
                                "over DDS instead. Bags without ground truth give outputs and latency only.")
    ev_bag.add_argument("bag", type=Path, help="the bag directory")
    ev_bag.add_argument("--out", type=Path, required=True, help="directory for the report and output bag")
    ev_bag.add_argument("--checkpoint", type=Path, help="default: the shipped edge model")
    ev_bag.add_argument("--backend", default="auto", choices=BACKENDS, help="inference backend, in-process or "
                        "the node's (default: auto = TensorRT on a CUDA GPU where it imports, else onnxruntime, "
                        "else torch)")
    ev_bag.add_argument("--sync-tolerance", type=float, default=0.05, help="s, as the node's sync_tolerance")
    ev_bag.add_argument("--topics", nargs="*", default=[], metavar="ROLE=TOPIC",
                        help="rename topics by role: color, camera_info, depth, command, gt_mask, gt_centroid "
                        "(e.g. color=/camera/color/image_raw/compressed for a CompressedImage stream)")
    ev_bag.add_argument("--live", action="store_true", help="replay the bag onto topics through lts_node in its "
                        "own process over DDS (latency end to end) instead of running the model in-process")
    ev_bag.add_argument("--rate", type=float, default=1.0, help="--live: replay speed, 1 = as recorded")
    ev_bag.add_argument("--overlay-every", type=int, default=OVERLAY_EVERY, metavar="N",
                        help="an overlay in the output bag every Nth frame (1 = all, 0 = none; default: "
                        "%(default)s); masks and centroids are written for every frame")
    ev_bag.add_argument("--quiet", action="store_true", help="no progress bar")
    ev_bag.set_defaults(func=cmd_bag_eval)

    sim = sub.add_parser("sim", help="the simulated tabletop world (render data, preview it, grasp in it)",
                         description="Render RGB-D tabletop scenes with pybullet, with ground-truth masks, "
                         "3D centroids and unambiguous referring expressions.")
    sim_sub = sim.add_subparsers(dest="sim_command", metavar="SIM_COMMAND", required=True)
    render = sim_sub.add_parser("render", help="render a split", description="Render N scenes of a split into "
                                "OUT/<split>/ (deterministic by seed, in parallel processes). train/val never "
                                "contain the held-out color x category pairs; test does.")
    render.add_argument("--split", required=True, choices=["train", "val", "test"])
    render.add_argument("--n", type=int, required=True, help="number of scenes")
    render.add_argument("--seed", type=int, default=None, help="split seed (default: train 0, val 1, test 2)")
    render.add_argument("--out", type=Path, default=Path("data/tabletop"), help="dataset root")
    render.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    render.add_argument("--width", type=int, default=640)
    render.add_argument("--height", type=int, default=480)
    render.add_argument("--per-object", type=int, default=3, help="expressions per referable object")
    render.add_argument("--categories", nargs="+", default=list(CATEGORIES), metavar="NAME",
                        help=f"object categories to draw from (default: all: {', '.join(CATEGORIES)})")
    render.add_argument("--colors", nargs="+", default=list(COLORS), metavar="NAME",
                        help=f"colors to draw from (default: all: {', '.join(COLORS)})")
    render.add_argument("--quiet", action="store_true")
    render.set_defaults(func=cmd_sim_render)
    preview = sim_sub.add_parser("preview", help="PNG grid of rendered samples with their expressions")
    preview.add_argument("--data-root", type=Path, default=Path("data/tabletop"))
    preview.add_argument("--split", default="train")
    preview.add_argument("--count", type=int, default=12)
    preview.add_argument("--out", type=Path, default=Path("runs/tabletop_preview.png"))
    preview.set_defaults(func=cmd_sim_preview)
    add_grasp_parser(sim_sub, BACKENDS)

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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(f"lts {args.command}", lambda: args.func(args))


if __name__ == "__main__":
    sys.exit(main())
