"""``lts sim render|preview|grasp``: the simulated tabletop world (``grasp`` comes from ``sim.grasp_cli``)."""
from __future__ import annotations

import argparse
from pathlib import Path

from lts_ros.cli.group import add_group


def add_parser(sub) -> None:
    from lts_ros.options import BACKEND_CHOICES
    from lts_ros.sim.grasp_cli import add_grasp_parser

    sim_sub = add_group(sub, "sim", help="the simulated tabletop world (render data, preview it, grasp in it)",
                        description="Render RGB-D tabletop scenes with pybullet, with ground-truth masks, "
                        "3D centroids and unambiguous referring expressions.")
    add_render_parser(sim_sub)
    preview = sim_sub.add_parser("preview", help="PNG grid of rendered samples with their expressions")
    preview.add_argument("--data-root", type=Path, default=Path("data/tabletop"))
    preview.add_argument("--split", default="train")
    preview.add_argument("--count", type=int, default=12)
    preview.add_argument("--out", type=Path, default=Path("runs/tabletop_preview.png"))
    preview.set_defaults(func=cmd_sim_preview)
    add_grasp_parser(sim_sub, BACKEND_CHOICES)


def add_render_parser(sim_sub) -> None:
    from lts_ros.data.tabletop.appearance import FAMILIES
    from lts_ros.data.tabletop.scene import CATEGORIES, COLORS

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
    render.add_argument("--phrasings", nargs="+", default=[], metavar="FAMILY",
                        help="instead of the generator's expressions, up to --per-object one-target expressions per "
                             "object in each phrasing family (docs/phrasing-families.md): family names, or "
                             "development, held_out (test split only: never trained on) or all")
    render.add_argument("--appearance", nargs="+", default=["flat"], metavar="FAMILY",
                        help="appearance families, taken in turn scene by scene (docs/appearance-families.md): "
                             f"{', '.join(FAMILIES)}; held-out ones (ho_*) into the test split only. Default flat: "
                             "one flat colour per object, as the world was first built")
    render.add_argument("--quiet", action="store_true")
    render.set_defaults(func=cmd_sim_render)


def cmd_sim_render(args: argparse.Namespace) -> int:
    from lts_ros.data.tabletop.store import render_split

    summary = render_split(args.out, args.split, args.n, args.seed, args.workers, args.width, args.height,
                           args.per_object, args.categories, args.colors, progress=not args.quiet,
                           families=args.phrasings, appearances=args.appearance)
    print(f"{args.split}: {summary.scenes} scenes, {summary.expressions} expressions "
          f"({', '.join(f'{k} {v}' for k, v in sorted(summary.kinds.items()))}); skipped {summary.skipped}")
    for reason in summary.reasons[:5]:
        print(f"  skipped: {reason}")
    print(f"written to {args.out / args.split}")
    return 0


def cmd_sim_preview(args: argparse.Namespace) -> int:
    from lts_ros.data.sampling import spread
    from lts_ros.data.tabletop.dataset import TabletopDataset
    from lts_ros.plots import Panel, save_grid

    data = TabletopDataset(args.data_root, args.split)
    panels = []
    for index in spread(args.count, len(data)):
        s = data[index]
        panels.append(Panel(s.image, f'"{s.text}" [{s.kind}]', gt=s.mask))
    print(f"preview: {save_grid(panels, args.out, legend='ground truth: yellow outline')}")
    return 0
