"""Segment: concat(F, sigmoid(prior)) -> ASPP -> transposed-convolution upsampling -> mask logits."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lts_ros.config import SegmentConfig
from lts_ros.model.layers import ConvNormAct, group_norm


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: a 1x1 branch, one dilated 3x3 per rate, and image pooling."""

    def __init__(self, cin: int, cout: int, rates: list[int]):
        super().__init__()
        self.branches = nn.ModuleList([ConvNormAct(cin, cout, 1)] + [ConvNormAct(cin, cout, 3, r) for r in rates])
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), ConvNormAct(cin, cout, 1))
        self.project = ConvNormAct(cout * (len(rates) + 2), cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [branch(x) for branch in self.branches]
        outs.append(self.pool(x).expand_as(outs[0]))
        return self.project(torch.cat(outs, 1))


class SegmentHead(nn.Module):
    def __init__(self, cfg: SegmentConfig, dim: int):
        super().__init__()
        self.inp = ConvNormAct(dim + 1, cfg.aspp_dim, 3)
        self.aspp = ASPP(cfg.aspp_dim, cfg.aspp_dim, cfg.aspp_rates)
        ups, c = [], cfg.aspp_dim
        for _ in range(cfg.upsample_stages):
            ups += [nn.ConvTranspose2d(c, cfg.upsample_dim, 4, stride=2, padding=1, bias=False),
                    group_norm(cfg.upsample_dim), nn.ReLU(inplace=True)]
            c = cfg.upsample_dim
        self.upsample = nn.Sequential(*ups)
        self.classify = nn.Conv2d(c, 1, 1)

    def forward(self, fmap: torch.Tensor, prior_logits: torch.Tensor, out_size: tuple[int, int]) -> torch.Tensor:
        x = self.aspp(self.inp(torch.cat([fmap, torch.sigmoid(prior_logits)], 1)))
        logits = self.classify(self.upsample(x))
        return F.interpolate(logits, size=out_size, mode="bilinear", align_corners=False)
