"""``lts export onnx|check|engine``: ONNX exports with reduced-precision variants, their accuracy, TensorRT engines."""
from __future__ import annotations

import argparse
from pathlib import Path

from lts_ros.artifacts.cache_root import default_engine_dir
from lts_ros.cli.group import add_group
from lts_ros.errors import LtsError
from lts_ros.options import GRAPH_PRECISIONS, PRECISIONS, VARIANT_PRECISIONS


def add_parser(sub) -> None:
    export_sub = add_group(sub, "export", help="ONNX export (fp32/fp16/int8) and TensorRT engines",
                           description="Export a checkpoint to ONNX for ONNX Runtime and TensorRT, and build "
                           "TensorRT engines from an export.")
    add_onnx_parser(export_sub)
    add_check_parser(export_sub)
    add_engine_parser(export_sub)


def add_onnx_parser(export_sub) -> None:
    from lts_ros.export.precision import MIN_MASK_IOU

    onnx = export_sub.add_parser(
        "onnx", help="export a checkpoint to ONNX", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write text.onnx (run once per command, fp32) and segment.onnx (per frame) with model.json, "
        "verified against torch (max |diff| <= 1e-3). --precision adds segment graph variants: fp16, and int8 as "
        "two Q/DQ forms (U8S8: ONNX Runtime's fast CPU path; S8S8: what TensorRT wants), each refused unless "
        "its answers match fp32 (mean agreement >= --min-iou: mask IoU where both find the object, 1 where both say "
        "it is not there, 0 where they disagree) on frames it was not calibrated on.",
        epilog="example:\n  lts sim render --split val --n 64 --out data/tabletop\n  lts export onnx --checkpoint "
        "models/lts_edge_tabletop.safetensors --precision fp32 fp16 int8 --calibration data/tabletop/val")
    onnx.add_argument("--checkpoint", type=Path, required=True, help="a .safetensors checkpoint")
    onnx.add_argument("--out", type=Path, help="export dir (default: <checkpoint stem>-onnx/ beside it, where "
                      "the onnxruntime/tensorrt backends look)")
    onnx.add_argument("--precision", nargs="+", default=["fp32"], choices=GRAPH_PRECISIONS,
                      help="variants to add to the fp32 export")
    onnx.add_argument("--calibration", type=Path, help="frames for int8 calibration and variant checks: a "
                      "tabletop split dir (lts sim render) or a directory of images")
    onnx.add_argument("--commands", type=Path, help="with an image directory: a text file, one command per line "
                      "(default: a built-in list of tabletop commands)")
    onnx.add_argument("--frames", type=int, default=128, help="(image, command) pairs to use: half calibrate, "
                      "half check")
    onnx.add_argument("--min-iou", type=float, default=MIN_MASK_IOU, help="refuse a variant whose answers agree "
                      "with fp32 below this mean on the check frames (mask IoU where both find the object)")
    onnx.add_argument("--force", action="store_true", help="re-export fp32 even when the export is current")
    onnx.set_defaults(func=cmd_export_onnx)


def add_check_parser(export_sub) -> None:
    check = export_sub.add_parser("check", help="accuracy of an export's precisions on a tabletop split",
                                  description="Segment expressions of a rendered tabletop split with ONNX "
                                  "Runtime fp32 and each requested precision on --backend (ONNX Runtime or "
                                  "OpenVINO): mIoU and P@0.5 against ground truth, and mask IoU against ONNX "
                                  "Runtime fp32 (at each frame's own resolution).")
    check.add_argument("--onnx-dir", type=Path, required=True, help="an export dir from 'lts export onnx'")
    check.add_argument("--precision", nargs="+", default=list(VARIANT_PRECISIONS), choices=PRECISIONS,
                       help="precisions to compare with ONNX Runtime fp32 (what --backend runs: onnxruntime fp32 "
                       "fp16 int8, openvino fp32 bf16 int8)")
    check.add_argument("--backend", default="onnxruntime", choices=["onnxruntime", "openvino"],
                       help="the backend the precisions run on (the reference is always ONNX Runtime fp32)")
    check.add_argument("--data-root", type=Path, default=Path("data/tabletop"))
    check.add_argument("--split", default="test")
    check.add_argument("--limit", type=int, default=400, help="expressions, spread over the split")
    check.add_argument("--out", type=Path, help="write the figures as JSON here")
    check.add_argument("--markdown", type=Path, help="also write the table between the lts-bench:parity markers "
                       "of this document (docs/benchmarks.md)")
    check.add_argument("--quiet", action="store_true", help="no progress bar")
    check.set_defaults(func=cmd_export_check)


def add_engine_parser(export_sub) -> None:
    engine = export_sub.add_parser("engine", help="build TensorRT engines from an ONNX export",
                                   description="Build (or reuse, when its manifest matches this GPU, TensorRT "
                                   "version, ONNX hash and precision) the text and segment engines of an export "
                                   "in the engine cache, then load them once. Needs TensorRT and a CUDA GPU.")
    engine.add_argument("--onnx-dir", type=Path, required=True, help="an export dir from 'lts export onnx'")
    engine.add_argument("--engine-dir", type=Path, default=default_engine_dir(),
                        help="the engine cache (default: $ROS_HOME/lts_ros/engines, where lts_node looks); a "
                        "read-only one is only read, builds then go to $ROS_HOME/lts_ros/engines/<name>-<hash>")
    engine.add_argument("--precision", default="fp32", choices=GRAPH_PRECISIONS,
                        help="which segment graph to build (the text engine is always fp32)")
    engine.add_argument("--device", default="cuda", help="cuda or cuda:N")
    engine.add_argument("--on-mismatch", default="rebuild", choices=["rebuild", "refuse"],
                        help="what to do with a cached engine whose manifest does not match")
    engine.set_defaults(func=cmd_export_engine)


def cmd_export_onnx(args: argparse.Namespace) -> int:
    from lts_ros.artifacts.cache_root import ONNX, writable_or_redirected
    from lts_ros.export.calibration import load_frames, read_commands
    from lts_ros.export.precision import add_variants
    from lts_ros.runtime.compile.onnx_export import default_export_dir, ensure_export, export_onnx, verify_export

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
        print(f"{variant}: agreement with fp32 mean {check.mask_iou_mean:.3f} (min {check.mask_iou_min:.3f}; mask IoU "
              f"where both find the object), presence agreed on {100 * check.presence_agreement:.0f} % of "
              f"{check.frames} held-out frames")
    print(f"export: {out}")
    for path in sorted(out.glob("*.onnx")):
        print(f"  {path.name:<26}{path.stat().st_size / 2**20:>8.1f} MiB")
    return 0


def cmd_export_check(args: argparse.Namespace) -> int:
    from lts_ros.artifacts.export_manifest import read_manifest
    from lts_ros.bench.report import check_section, machine_info, parity_markdown, replace_section, write_json
    from lts_ros.data.sampling import spread
    from lts_ros.data.tabletop.dataset import TabletopDataset
    from lts_ros.export.parity import compare_precisions

    if args.markdown:
        check_section(args.markdown, "parity")
    data = TabletopDataset(args.data_root, args.split, load_depth=False)
    indices = spread(args.limit, len(data))
    rows = compare_precisions(args.onnx_dir, (data[i] for i in indices), args.precision, progress=not args.quiet,
                              backend=args.backend)
    print(f"{'backend':<13}{'precision':<10}{'expressions':>12}{'mIoU vs GT':>12}{'P@0.5':>8}"
          f"{'IoU vs fp32 mean':>18}{'median':>8}")
    for r in rows:
        print(f"{r.backend:<13}{r.precision:<10}{r.expressions:>12}{100 * r.mean_iou_gt:>12.2f}"
              f"{100 * r.prec_at_05:>8.2f}{r.iou_vs_fp32_mean:>18.4f}{r.iou_vs_fp32_median:>8.4f}")
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

    backend = TensorRTBackend(args.onnx_dir, args.engine_dir, args.precision, args.on_mismatch, args.device)
    print(f"engines ({args.precision}) ready in {backend.seg.path.parent}: {backend.text.path.name}, "
          f"{backend.seg.path.name}")
    return 0
