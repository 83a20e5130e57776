"""Training: one process (``lts train``) or many with DDP (``torchrun --nproc_per_node N -m lts_ros.train``).

DDP uses NCCL on GPUs and gloo on CPUs; ``--batch-size`` is per process. Rank 0 alone writes the
progress bar, ``log.csv``, ``loss.png``, checkpoints and ``summary.json`` into ``--out``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from lts_ros.checkpoint import checkpoint_info, load_checkpoint, save_checkpoint
from lts_ros.config import load_config
from lts_ros.data.camera_effects import RandomCameraEffects
from lts_ros.data.datasets import DATASETS, ImageGroupSet, collate_groups, open_training_data
from lts_ros.data.image_groups import ImageGroupBatches
from lts_ros.errors import LtsError, run_command
from lts_ros.model.losses import lts_loss
from lts_ros.model.lts import LTS
from lts_ros.model.text import WordTokenizer
from lts_ros.plots import plot_losses

LOSS_KEYS = ("total", "prior", "mask", "dice", "presence", "several")


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="edge", help="model config: shipped name (edge, paper, tiny) or YAML path")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                        help="override a config value, e.g. --set vision.frozen_stages=3 (repeatable)")
    parser.add_argument("--data", default="refcoco", choices=DATASETS, help="dataset name")
    parser.add_argument("--data-root", required=True, type=Path, nargs="+", metavar="ROOT",
                        help="dataset root (refer layout for refcoco*); several roots train on the split of each, "
                        "mixed (e.g. a second tabletop root rendered with --categories for more same-category "
                        "ordinals and sizes)")
    parser.add_argument("--split", default="train", help="split to train on")
    parser.add_argument("--split-by", default=None, help="refer splitBy (default: unc, or umd for refcocog)")
    parser.add_argument("--out", type=Path, default=None, help="run directory (default: runs/<config>-<time>)")
    parser.add_argument("--steps", type=int, default=10000, help="optimizer steps in total")
    parser.add_argument("--batch-size", type=int, default=16, help="expressions per step and process")
    parser.add_argument("--per-image", type=int, default=1, metavar="N",
                        help="expressions of one image shown together in a step (its vision features computed once): "
                             "up to N per image, batch-size / N images per step; 4 trains about twice as many "
                             "expressions per second on a CPU")
    parser.add_argument("--lr", type=float, default=5e-4, help="peak learning rate (AdamW)")
    parser.add_argument("--pretrained-lr-scale", type=float, default=0.1,
                        help="learning-rate factor for pretrained encoders (vision, minilm)")
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--warmup", type=int, default=200, help="linear warm-up steps, then poly(0.9) decay")
    parser.add_argument("--workers", type=int, default=2, help="data-loading processes per training process")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N expressions only")
    parser.add_argument("--camera-effects", type=float, default=0.5, metavar="P",
                        help="share of frames given a random camera effect (noise, motion blur, JPEG, exposure, "
                             "white balance; data/camera_effects.py); 0 turns it off")
    parser.add_argument("--oversample", action="append", default=[], metavar="KIND=N",
                        help="show expressions of this kind or target set N times per epoch (tabletop kinds, "
                             "e.g. ordinal=3, or target sets none / one / several; factors multiply; repeatable)")
    parser.add_argument("--init", type=Path, default=None,
                        help="start from this checkpoint's weights and config (heads it predates start fresh; "
                             "--set changes its config, e.g. --set locate.kind=transformer with --fresh locate)")
    parser.add_argument("--fresh", action="append", default=[], metavar="MODULE",
                        help="with --init: re-initialize this module (e.g. locate, segment_head) instead of "
                             "loading it (repeatable)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    parser.add_argument("--checkpoint-every", type=int, default=1000, help="steps between checkpoints")
    parser.add_argument("--log-every", type=int, default=10, help="steps between log.csv rows")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda (DDP: one GPU per process)")
    parser.add_argument("--amp", action="store_true", help="bf16 autocast (GPUs with bf16, or AMX CPUs)")
    parser.add_argument("--half-checkpoint", action="store_true", help="store weights as fp16 (half the size)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def train_options(data_root: Path, **values) -> argparse.Namespace:
    """Training options as the CLI would parse them, with ``values`` replacing defaults."""
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    opts = parser.parse_args(["--data-root", str(data_root)])
    for key, value in values.items():
        if not hasattr(opts, key):
            raise TypeError(f"unknown training option '{key}'")
        setattr(opts, key, value)
    return opts


@dataclass
class Distributed:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed(device: str) -> Distributed:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available() and device in ("auto", "cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise LtsError("--device cuda but no CUDA GPU is available")
    if world == 1:
        return Distributed(device=torch.device("cuda" if cuda else "cpu"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if cuda else "gloo")
    return Distributed(dist.get_rank(), world, torch.device(f"cuda:{local_rank}" if cuda else "cpu"))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def parse_oversample(values: list[str]) -> dict[str, int]:
    """``["ordinal=3", ...]`` -> {"ordinal": 3}; LtsError for a malformed entry."""
    factors = {}
    for value in values:
        kind, _, factor = value.partition("=")
        if not factor.isdigit() or int(factor) < 1:
            raise LtsError(f"--oversample wants KIND=N with N a whole number >= 1, got {value!r}")
        factors[kind] = int(factor)
    return factors


def oversampled(indices: range, source, factors: dict[str, int]) -> list[int]:
    """``indices`` with each expression repeated by the factors of its kind and of its target set (none, one,
    several) in ``factors``, multiplied."""
    if not factors:
        return list(indices)
    if not hasattr(source, "kinds"):
        raise LtsError("--oversample needs a dataset with expression kinds (tabletop)")
    kinds, target_sets = source.kinds(), source.target_sets()
    unknown = set(factors) - set(kinds) - set(target_sets)
    if unknown:
        raise LtsError(f"--oversample: no expression of kind or target set {sorted(unknown)[0]!r} in this split "
                       f"(kinds: {', '.join(sorted(set(kinds)))}; target sets: {', '.join(sorted(set(target_sets)))})")
    return [i for i in indices for _ in range(factors.get(kinds[i], 1) * factors.get(target_sets[i], 1))]


def image_groups(source, indices: list[int], per_image: int, batch_size: int, env: "Distributed", seed: int,
                 skip: int) -> ImageGroupBatches:
    """The batch sampler over ``indices`` (positions into the oversampled list) for this process: groups of up to
    ``per_image`` expressions of one image (each expression its own group when 1)."""
    if per_image == 1:
        keys: list = list(range(len(indices)))
    elif hasattr(source, "image_keys"):
        every = source.image_keys()
        keys = [every[i] for i in indices]
    else:
        raise LtsError("--per-image needs a dataset that says which image each expression shows")
    return ImageGroupBatches(keys, indices, per_image, batch_size, env.world, env.rank, seed, skip)


def learning_rate_factor(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, 1 - (step - warmup) / max(1, total - warmup)) ** 0.9


def param_groups(model: LTS, lr: float, pretrained_scale: float, weight_decay: float) -> list[dict]:
    pretrained = list(model.vision.parameters())
    if model.cfg.text.encoder == "minilm":
        pretrained += list(model.text.encoder.parameters())  # not its adapter layers: those are new
    ids = {id(p) for p in pretrained}
    rest = [p for p in model.parameters() if id(p) not in ids]
    groups = [(pretrained, lr * pretrained_scale), (rest, lr)]
    return [{"params": [p for p in params if p.requires_grad], "lr": base, "base": base} for params, base in groups]


def build_for_run(opts: argparse.Namespace, texts: list[str]) -> tuple[LTS, int]:
    """The model to train and the step to start from (resume > init > fresh)."""
    latest = opts.out / "model.safetensors"
    if opts.resume:
        if not (opts.out / "train_state.pt").is_file():
            raise LtsError(f"--resume: no checkpoint to resume in {opts.out}")
        return load_checkpoint(latest), int(checkpoint_info(latest)["step"])
    if opts.init:
        return load_checkpoint(opts.init, new_heads=True, overrides=opts.overrides, fresh=opts.fresh), 0
    if opts.fresh:
        raise LtsError("--fresh needs --init (a checkpoint to load the other modules from)")
    cfg = load_config(opts.config, opts.overrides)
    vocab = WordTokenizer.build(texts, cfg.text.max_tokens, cfg.text.min_word_count).vocab \
        if cfg.text.encoder == "bigru" else None
    return LTS(cfg, vocab), 0


def train(opts: argparse.Namespace) -> Path:
    """Train per ``opts`` (see ``add_train_arguments``); return the final checkpoint path."""
    env = setup_distributed(opts.device)
    try:
        return _train(opts, env)
    finally:
        if env.world > 1:
            dist.destroy_process_group()


def _train(opts: argparse.Namespace, env: Distributed) -> Path:
    if opts.steps < 1 or opts.batch_size < 1:
        raise LtsError("--steps and --batch-size must be >= 1")
    if not 0.0 <= opts.camera_effects <= 1.0:
        raise LtsError(f"--camera-effects must be a share in [0, 1], got {opts.camera_effects}")
    oversample = parse_oversample(opts.oversample)
    seed_everything(opts.seed + env.rank)
    source = open_training_data(opts.data, opts.data_root, opts.split, opts.split_by)
    opts.out = opts.out or Path("runs") / f"{Path(str(opts.config)).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    model, start = build_for_run(opts, source.texts())
    model.to(env.device).train()
    augment = RandomCameraEffects(opts.camera_effects) if opts.camera_effects > 0 else None
    indices = oversampled(range(min(len(source), opts.limit or len(source))), source, oversample)
    data = ImageGroupSet(source, model.cfg.input_size, indices, augment=augment)
    if opts.per_image < 1:
        raise LtsError(f"--per-image must be >= 1, got {opts.per_image}")
    if len(data) < opts.batch_size * env.world:
        raise LtsError(f"{len(data)} expressions are fewer than one batch ({opts.batch_size} x {env.world} processes)")
    per_epoch = len(data) // env.world // opts.batch_size  # batches per epoch and process
    sampler = image_groups(source, indices, opts.per_image, opts.batch_size, env, opts.seed, skip=start % per_epoch)
    loader = torch.utils.data.DataLoader(data, batch_sampler=sampler, num_workers=opts.workers,
                                         collate_fn=collate_groups, persistent_workers=opts.workers > 0)
    optimizer = torch.optim.AdamW(param_groups(model, opts.lr, opts.pretrained_lr_scale, opts.weight_decay),
                                  weight_decay=opts.weight_decay)
    if opts.resume:
        state = torch.load(opts.out / "train_state.pt", map_location="cpu", weights_only=True)
        optimizer.load_state_dict(state["optimizer"])
    net = DistributedDataParallel(model) if env.world > 1 else model

    if env.main:
        opts.out.mkdir(parents=True, exist_ok=True)
        (opts.out / "args.json").write_text(
            json.dumps({k: str(v) for k, v in vars(opts).items() if not callable(v)}, indent=2))
    log_path = opts.out / "log.csv"
    bar = tqdm(total=opts.steps, initial=start, desc="train", unit="step", disable=not env.main or opts.quiet)
    step, epoch, started, expressions = start, start // per_epoch, time.time(), 0
    while step < opts.steps:
        sampler.set_epoch(epoch)
        for batch in loader:
            if step >= opts.steps:
                break
            for group in optimizer.param_groups:
                group["lr"] = group["base"] * learning_rate_factor(step, opts.steps, opts.warmup)
            ids, attention = model.tokenize(batch["text"])
            with torch.autocast(env.device.type, dtype=torch.bfloat16, enabled=opts.amp):
                outputs = net(batch["image"].to(env.device), ids.to(env.device), attention.to(env.device),
                              batch["image_index"].to(env.device))
            losses = lts_loss(outputs, batch["mask"].to(env.device), batch["several"].to(env.device), model.cfg.loss)
            optimizer.zero_grad(set_to_none=True)
            losses["total"].backward()
            optimizer.step()
            step += 1
            expressions += len(batch["text"]) * env.world
            if env.main:
                bar.update(1)
                bar.set_postfix(loss=f"{losses['total'].item():.4f}")
                if step % opts.log_every == 0 or step == opts.steps:
                    rate = expressions / (time.time() - started)
                    append_log(log_path, step, losses, optimizer.param_groups[-1]["lr"], rate)
                if step % opts.checkpoint_every == 0 or step == opts.steps:
                    save_run_checkpoint(model, optimizer, opts, step)
        epoch += 1
    bar.close()
    in_sync = replicas_in_sync(model, env)
    if env.main:
        plot_losses(log_path, opts.out / "loss.png")
        summary = {"steps": step, "world_size": env.world, "replicas_in_sync": in_sync,
                   "wall_s": round(time.time() - started, 1), "checkpoint": str(opts.out / "model.safetensors")}
        (opts.out / "summary.json").write_text(json.dumps(summary, indent=2))
    if env.world > 1:
        dist.barrier()  # leave together: a rank exiting while rank 0 still writes can abort gloo
    return opts.out / "model.safetensors"


def append_log(path: Path, step: int, losses: dict[str, torch.Tensor], lr: float, expressions_per_s: float) -> None:
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(["step", *LOSS_KEYS, "lr", "expressions_per_s"])
        values = [f"{losses[k].item():.5f}" if k in losses else "" for k in LOSS_KEYS]
        writer.writerow([step, *values, f"{lr:.3e}", f"{expressions_per_s:.2f}"])


def save_run_checkpoint(model: LTS, optimizer: torch.optim.Optimizer, opts: argparse.Namespace, step: int) -> None:
    info = {"step": step, "data": opts.data, "split": opts.split, "seed": opts.seed}
    save_checkpoint(model, opts.out / "checkpoints" / f"step_{step:07d}.safetensors", opts.half_checkpoint, info)
    save_checkpoint(model, opts.out / "model.safetensors", opts.half_checkpoint, info)
    torch.save({"optimizer": optimizer.state_dict(), "step": step}, opts.out / "train_state.pt")


def replicas_in_sync(model: LTS, env: Distributed) -> bool:
    """DDP sanity check: every process ends with the same weights (gradients were all-reduced)."""
    if env.world == 1:
        return True
    checksum = torch.stack([p.detach().double().sum() for p in model.parameters()]).sum().reshape(1).cpu()
    gathered = [torch.zeros_like(checksum) for _ in range(env.world)]
    dist.all_gather(gathered, checksum)
    return all(torch.allclose(g, gathered[0], rtol=1e-9, atol=1e-6) for g in gathered)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lts_ros.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_train_arguments(parser)
    opts = parser.parse_args(argv)

    def run() -> None:
        train(opts)

    return run_command("lts train", run)


if __name__ == "__main__":
    sys.exit(main())
