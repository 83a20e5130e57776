"""Build an LTS model from a config name, path or ModelConfig."""
from __future__ import annotations

from pathlib import Path

from lts_ros.config import ModelConfig, load_config
from lts_ros.model.lts import LTS


def build_model(config: str | Path | ModelConfig, vocab: list[str] | None = None) -> LTS:
    """``config``: a shipped name (``edge``, ``paper``, ``tiny``), a YAML path or a ModelConfig.
    ``vocab`` is needed by ``bigru`` text encoders (see ``WordTokenizer.build``)."""
    cfg = config if isinstance(config, ModelConfig) else load_config(config)
    return LTS(cfg, vocab)
