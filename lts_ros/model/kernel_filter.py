"""The filter locate's parts: language-generated 1x1 kernels (a batched matmul) and the conv head over their responses."""
from __future__ import annotations

import math

import torch
from torch import nn

from lts_ros.model.layers import ConvNormAct


class KernelFilter(nn.Module):
    """Generate K (D-dim) kernels + biases from the sentence and filter F with them -> (B, K, H, W)."""

    def __init__(self, dim: int, text_dim: int, num_kernels: int):
        super().__init__()
        self.dim, self.k = dim, num_kernels
        self.weights = nn.Linear(text_dim, num_kernels * dim)
        self.bias = nn.Linear(text_dim, num_kernels)

    def forward(self, fmap: torch.Tensor, sentence: torch.Tensor) -> torch.Tensor:
        b, d, h, w = fmap.shape
        kernels = self.weights(sentence).view(b, self.k, d)
        responses = torch.bmm(kernels, fmap.flatten(2)) / math.sqrt(self.dim) + self.bias(sentence).unsqueeze(-1)
        return responses.view(b, self.k, h, w)


class PriorHead(nn.Sequential):
    """3x3 conv (hidden channels, default max(cin, 32)) -> 1x1 conv to one channel of prior logits."""

    def __init__(self, cin: int, hidden: int | None = None):
        hidden = hidden or max(cin, 32)
        super().__init__(ConvNormAct(cin, hidden, 3), nn.Conv2d(hidden, 1, 1))
