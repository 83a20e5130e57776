"""Cross-modal fusion: language-modulated visual features merged top-down into one stride-8 map F."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lts_ros.config import FusionConfig
from lts_ros.model.layers import ConvNormAct, coord_features
from lts_ros.model.text import TextFeatures


class Fusion(nn.Module):
    """Per level: project to D channels, multiply elementwise by the projected sentence feature,
    append coordinate channels; then merge stride 32 -> 16 -> 8 (upsample, concatenate, convolve)."""

    def __init__(self, cfg: FusionConfig, visual_channels: tuple[int, int, int], text_dim: int):
        super().__init__()
        d = cfg.dim
        coords = 8 if cfg.coord_channels else 0
        self.coord_channels = cfg.coord_channels
        self.visual = nn.ModuleList(ConvNormAct(c, d, 1) for c in visual_channels)
        self.textual = nn.ModuleList(nn.Sequential(nn.Linear(text_dim, d), nn.Tanh()) for _ in visual_channels)
        self.mix = nn.ModuleList(ConvNormAct(d + coords, d, 1) for _ in visual_channels)
        self.merge = nn.ModuleList(ConvNormAct(2 * d, d, 3) for _ in visual_channels[:-1])
        self.out = ConvNormAct(d, d, 3)

    def forward(self, features: list[torch.Tensor], text: TextFeatures) -> torch.Tensor:
        levels = []
        for feat, visual, textual, mix in zip(features, self.visual, self.textual, self.mix):
            m = visual(feat) * textual(text.sentence)[:, :, None, None]
            if self.coord_channels:
                m = torch.cat([m, coord_features(m)], 1)
            levels.append(mix(m))
        top = levels[-1]
        for level, merge in zip(reversed(levels[:-1]), reversed(self.merge)):
            up = F.interpolate(top, size=level.shape[-2:], mode="bilinear", align_corners=False)
            top = merge(torch.cat([level, up], 1))
        return self.out(top)
