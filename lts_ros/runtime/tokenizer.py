"""The tokenizer half of ``model.text.build_text``: no encoder weights, so an export dir suffices."""
from __future__ import annotations

from lts_ros.config import TextConfig
from lts_ros.errors import LtsError
from lts_ros.model.text import MiniLMTokenizer, Tokenizer, WordTokenizer


def build_tokenizer(cfg: TextConfig, vocab: list[str] | None) -> Tokenizer:
    if cfg.encoder == "minilm":
        return MiniLMTokenizer(cfg.max_tokens)
    if not vocab:
        raise LtsError("the bigru text encoder needs the vocabulary it was trained with (none was stored)")
    return WordTokenizer(vocab, cfg.max_tokens)
