"""Small building blocks shared by the fusion, locate and segment modules."""
from __future__ import annotations

import math

import torch
from torch import nn


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm: independent of batch size (DDP with 1-2 images per GPU), exports to ONNX."""
    return nn.GroupNorm(math.gcd(32, channels), channels)


class ConvNormAct(nn.Sequential):
    def __init__(self, cin: int, cout: int, kernel: int = 1, dilation: int = 1):
        super().__init__(
            nn.Conv2d(cin, cout, kernel, padding=dilation * (kernel // 2), dilation=dilation, bias=False),
            group_norm(cout),
            nn.ReLU(inplace=True),
        )


def coord_features(x: torch.Tensor) -> torch.Tensor:
    """The 8 spatial channels of Hu et al. 2016 for a (B, C, H, W) map, coordinates in [-1, 1]:
    x_min, x_center, x_max, y_min, y_center, y_max, 1/W, 1/H of each cell."""
    b, _, h, w = x.shape
    xs = torch.arange(w, device=x.device, dtype=x.dtype)
    ys = torch.arange(h, device=x.device, dtype=x.dtype)
    x_min, x_max = xs / w * 2 - 1, (xs + 1) / w * 2 - 1
    y_min, y_max = ys / h * 2 - 1, (ys + 1) / h * 2 - 1
    cols = torch.stack([x_min, (x_min + x_max) / 2, x_max]).unsqueeze(1).expand(3, h, w)
    rows = torch.stack([y_min, (y_min + y_max) / 2, y_max]).unsqueeze(2).expand(3, h, w)
    inv = torch.stack([torch.ones_like(x_min[:1]) / w, torch.ones_like(y_min[:1]) / h]).view(2, 1, 1).expand(2, h, w)
    return torch.cat([cols, rows, inv]).unsqueeze(0).expand(b, 8, h, w)
