"""Locate: language-generated kernels filter the multimodal map into a one-channel position prior.

``filter`` (default): K kernels generated from the sentence feature are applied to F as 1x1
convolutions (a batched matmul: exports to plain ONNX MatMul, which TensorRT runs without dynamic-
weight convolutions); the K responses are aggregated by a small conv head into the prior logits.
``multi_filter``: several rounds, each refining F with the previous responses.
Both can add a rank context (``rank_context`` > 0, ``model/rank_context.py``): where each pixel's match lies among
all the matches, read by a second set of kernels, for ordinals and sizes.
``transformer``: visual tokens cross-attend to the word features (with ``self_attention``, they first attend to
each other, so a token can compare its object with the others: "the second from the left", "the bigger one"),
then a conv head.
"""
from __future__ import annotations

import torch
from torch import nn

from lts_ros.config import LocateConfig
from lts_ros.model.kernel_filter import KernelFilter, PriorHead
from lts_ros.model.layers import ConvNormAct
from lts_ros.model.rank_context import RankContext
from lts_ros.model.text import TextFeatures


class FilterLocate(nn.Module):
    def __init__(self, cfg: LocateConfig, dim: int, text_dim: int, rounds: int = 1):
        super().__init__()
        self.filters = nn.ModuleList(KernelFilter(dim, text_dim, cfg.num_kernels) for _ in range(rounds))
        self.refine = nn.ModuleList(ConvNormAct(dim + cfg.num_kernels, dim, 3) for _ in range(rounds - 1))
        self.head = PriorHead(cfg.num_kernels)
        self.rank = RankContext(cfg.num_kernels, cfg.rank_context, text_dim) if cfg.rank_context else None

    def forward(self, fmap: torch.Tensor, text: TextFeatures) -> torch.Tensor:
        responses = self.filters[0](fmap, text.sentence)
        for refine, kernel_filter in zip(self.refine, self.filters[1:]):
            fmap = fmap + refine(torch.cat([fmap, responses], 1))
            responses = kernel_filter(fmap, text.sentence)
        prior = self.head(responses)
        return prior if self.rank is None else prior + self.rank(responses, text.sentence)


class ResidualSelfAttention(nn.Module):
    """Tokens attend to each other, with a residual connection and LayerNorm."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm = nn.LayerNorm(dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.norm(tokens + self.attn(tokens, tokens, tokens, need_weights=False)[0])


class TransformerLocate(nn.Module):
    def __init__(self, cfg: LocateConfig, dim: int, text_dim: int):
        super().__init__()
        layers = range(cfg.layers)
        self.words = nn.Linear(text_dim, dim)
        self.mix = nn.ModuleList(ResidualSelfAttention(dim, cfg.heads) if cfg.self_attention else nn.Identity()
                                 for _ in layers)
        self.attn = nn.ModuleList(nn.MultiheadAttention(dim, cfg.heads, batch_first=True) for _ in layers)
        self.norm1 = nn.ModuleList(nn.LayerNorm(dim) for _ in layers)
        self.ffn = nn.ModuleList(
            nn.Sequential(nn.Linear(dim, 2 * dim), nn.ReLU(inplace=True), nn.Linear(2 * dim, dim)) for _ in layers)
        self.norm2 = nn.ModuleList(nn.LayerNorm(dim) for _ in layers)
        self.head = PriorHead(dim, 64)

    def forward(self, fmap: torch.Tensor, text: TextFeatures) -> torch.Tensor:
        b, d, h, w = fmap.shape
        tokens = fmap.flatten(2).transpose(1, 2)  # the fusion's coordinate channels tell tokens where they are
        words = self.words(text.words)
        ignore = text.mask < 0.5
        for mix, attn, norm1, ffn, norm2 in zip(self.mix, self.attn, self.norm1, self.ffn, self.norm2):
            tokens = mix(tokens)
            tokens = norm1(tokens + attn(tokens, words, words, key_padding_mask=ignore, need_weights=False)[0])
            tokens = norm2(tokens + ffn(tokens))
        return self.head(tokens.transpose(1, 2).reshape(b, d, h, w))


def build_locate(cfg: LocateConfig, dim: int, text_dim: int) -> nn.Module:
    if cfg.kind == "transformer":
        return TransformerLocate(cfg, dim, text_dim)
    return FilterLocate(cfg, dim, text_dim, rounds=cfg.rounds if cfg.kind == "multi_filter" else 1)
