"""Rank context for the filter locate: where each pixel's match lies among all the matches on the table.

A sentence-level kernel filter scores every pixel on its own, so it cannot say "the second mug from the left" or
"the bigger ball": both compare an object with the other objects its words match. This module measures that
comparison explicitly. A 1x1 conv turns the K kernel responses into C match maps; for each map it computes, per
pixel, the share of the map's mass that lies to its left and above it (ranks along x and y), the mass around the
pixel relative to the largest such local mass (which object is bigger), and how many local masses the whole map
holds (how many objects matched). A second set of sentence-generated kernels reads these measures with the
responses, so the expression chooses the rank; a conv head turns them into a correction of the prior logits.
Its last layer starts at zero: added to a trained model, it changes nothing until it is trained.
Every operation exports to ONNX (CumSum, AvgPool, ReduceMax).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lts_ros.model.kernel_filter import KernelFilter, PriorHead

LOCAL_WINDOW = 5  # cells of the stride-8 map (40 px at the model input): about one tabletop object
MEASURES = 4  # per match map: x rank, y rank, local mass / largest local mass, total mass / largest local mass


def rank_measures(matches: torch.Tensor, floor: float = 1.0) -> torch.Tensor:
    """Match maps (B, C, H, W) in [0, 1] -> (B, 4C, H, W): x rank, y rank, relative local mass, object count.
    ``floor`` (one fully matched cell) is added to every denominator: a map with next to nothing on it measures
    next to nothing, not the ranks of its noise."""
    b, c, h, w = matches.shape
    total = matches.sum((2, 3), keepdim=True)
    columns = matches.sum(2, keepdim=True)  # (B, C, 1, W)
    rows = matches.sum(3, keepdim=True)  # (B, C, H, 1)
    x_rank = ((torch.cumsum(columns, 3) - 0.5 * columns) / (total + floor)).expand(b, c, h, w)
    y_rank = ((torch.cumsum(rows, 2) - 0.5 * rows) / (total + floor)).expand(b, c, h, w)
    local = F.avg_pool2d(matches, LOCAL_WINDOW, 1, LOCAL_WINDOW // 2, count_include_pad=True) * LOCAL_WINDOW ** 2
    largest = local.amax((2, 3), keepdim=True) + floor
    count = (total / largest).expand(b, c, h, w)
    return torch.cat([x_rank, y_rank, local / largest, count], 1)


class RankContext(nn.Module):
    """K responses + the sentence -> a correction of the prior logits (B, 1, H, W), zero at initialization."""

    def __init__(self, num_kernels: int, channels: int, text_dim: int):
        super().__init__()
        self.matches = nn.Conv2d(num_kernels, channels, 1)
        self.filter = KernelFilter(num_kernels + MEASURES * channels, text_dim, num_kernels)
        self.head = PriorHead(num_kernels)
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)

    def forward(self, responses: torch.Tensor, sentence: torch.Tensor) -> torch.Tensor:
        measures = rank_measures(torch.sigmoid(self.matches(responses)))
        return self.head(self.filter(torch.cat([responses, measures], 1), sentence))
