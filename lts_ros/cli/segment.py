"""``lts segment``: the named object in one image file, as an overlay PNG and a printed summary."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    from lts_ros.options import BACKEND_CHOICES, PRESENCE_THRESHOLD

    seg = sub.add_parser("segment", help="segment the named object in one image",
                         description="Segment the object an expression names in an image file; write an "
                         "overlay PNG and print the score, bounding box and pixel centroid.")
    seg.add_argument("--checkpoint", type=Path, required=True, help="a .safetensors checkpoint")
    seg.add_argument("--image", type=Path, required=True, help="an image file (PNG, JPEG, ...)")
    seg.add_argument("--text", required=True, help="the expression, e.g. 'the red mug on the left'")
    seg.add_argument("--threshold", type=float, default=PRESENCE_THRESHOLD,
                     help="presence probability needed to report the object as there (found or ambiguous)")
    seg.add_argument("--backend", default="torch", choices=BACKEND_CHOICES,
                     help="auto/onnxruntime/tensorrt export the checkpoint to ONNX beside it on first use; "
                     "tensorrt caches engines in ./engines")
    seg.add_argument("--out", type=Path, help="overlay PNG (default: <image>_lts.png)")
    seg.set_defaults(func=cmd_segment)


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
    print(f'"{segmenter.command}": {result.status.replace("_", " ")}, score {result.score:.3f} '
          f"(several objects named: {result.several_score:.3f}), {int(result.mask.sum())} px; overlay: {out}")
    print(f"read as: {segmenter.reading.describe()} (the model segments \"{segmenter.reading.model_text()}\", "
          f"{len(result.candidates)} objects found)" if segmenter.reading.understood else
          f"not read: {segmenter.reading.refusal}")
    if result.reason:
        print(f"{result.status.replace('_', ' ')}: {result.reason}")
    if result.status == "ambiguous":
        print(f"{len(result.candidates)} candidates (x0, y0, x1, y1): "
              + "; ".join(", ".join(map(str, c.bbox)) for c in result.candidates))
    if result.bbox is not None:
        print(f"bbox (x0, y0, x1, y1): {', '.join(map(str, result.bbox))}; "
              f"centroid_px: ({result.centroid_px[0]:.1f}, {result.centroid_px[1]:.1f}); "
              f"{result.timings_ms['infer']:.1f} ms ({segmenter.backend.name})")
    return 0
