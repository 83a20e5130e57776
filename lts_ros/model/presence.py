"""Presence and count: whether the expression's object is in the image at all (ReLA's no-target head, on LTS's
prior), and whether it names several objects ("the mugs", or "the mug" beside another mug).

The prior's softmax over positions pools the multimodal map where the kernels respond; that feature, its
agreement with the sentence, and how high and how wide the prior fires go through a small MLP to the presence
logit. The several-targets logit has its own MLP over the same features, the sentence itself (plurals are words)
and how far apart the positions the prior fires at lie (two mugs spread it, one mug does not). Presence trains
with expressions that have no target (BCE against "the target set is not empty"); several-targets with those
that have one or more (BCE against "more than one"). The several-targets head reads the located features and the
prior without training them (it trains its MLP, the sentence projection and the text): counting is a question
about what was located, and on data with no plural expressions its loss would otherwise push the locate path
toward firing nowhere (a tiny model's masks went empty within 60 steps).
"""
from __future__ import annotations

import torch
from torch import nn


def _spatial_spread(weights: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """(B, hw) weights summing to 1 over the positions of ``grid`` ((1, h, w), any values) -> (B, 1): their
    variance of position, in units of the map's side."""
    h, w = grid.shape[-2:]
    ones = torch.ones_like(grid)  # positions from cumulative sums, not linspace: it exports as float64
    ys, xs = (ones.cumsum(1) - 1) / max(h - 1, 1), (ones.cumsum(2) - 1) / max(w - 1, 1)
    coords = torch.stack([ys.flatten(), xs.flatten()], dim=1)  # (hw, 2)
    mean = weights @ coords  # (B, 2)
    second = weights @ (coords * coords)
    return (second - mean * mean).clamp_min(0.0).sum(dim=1, keepdim=True)


class PresenceHead(nn.Module):
    def __init__(self, dim: int, text_dim: int, hidden: int = 64):
        super().__init__()
        self.sentence = nn.Linear(text_dim, dim)
        self.mlp = nn.Sequential(nn.Linear(2 * dim + 2, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1))
        self.several = nn.Sequential(nn.Linear(3 * dim + 4, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1))

    def forward(self, fmap: torch.Tensor, prior_logits: torch.Tensor,
                sentence: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, D, h, w), (B, 1, h, w), (B, T) -> presence logits (B, 1), several-targets logits (B, 1)."""
        grid = prior_logits[:1, 0]
        prior = prior_logits.flatten(1)  # (B, hw)
        weights = torch.softmax(prior, dim=1)
        pooled = torch.bmm(fmap.flatten(2), weights.unsqueeze(-1)).squeeze(-1)  # (B, D)
        peak = prior.amax(dim=1, keepdim=True)
        fired = torch.sigmoid(prior)
        spread = fired.mean(dim=1, keepdim=True)
        said = torch.tanh(self.sentence(sentence))
        features = torch.cat([pooled, pooled * said, peak, spread], dim=1)
        where = torch.cat([_spatial_spread(weights, grid),
                           _spatial_spread(fired / fired.sum(dim=1, keepdim=True).clamp_min(1e-6), grid)], dim=1)
        return self.mlp(features), self.several(torch.cat([features.detach(), said, 8.0 * where.detach()], dim=1))
