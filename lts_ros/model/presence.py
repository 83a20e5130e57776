"""Presence: whether the expression's object is in the image at all (ReLA's no-target head, on LTS's prior).

The prior's softmax over positions pools the multimodal map where the kernels respond; that feature, its
agreement with the sentence, and how high and how wide the prior fires go through a small MLP to one logit.
Trained with expressions that have no target (BCE against "the target set is not empty").
"""
from __future__ import annotations

import torch
from torch import nn


class PresenceHead(nn.Module):
    def __init__(self, dim: int, text_dim: int, hidden: int = 64):
        super().__init__()
        self.sentence = nn.Linear(text_dim, dim)
        self.mlp = nn.Sequential(nn.Linear(2 * dim + 2, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1))

    def forward(self, fmap: torch.Tensor, prior_logits: torch.Tensor, sentence: torch.Tensor) -> torch.Tensor:
        """(B, D, h, w), (B, 1, h, w), (B, T) -> presence logits (B, 1)."""
        prior = prior_logits.flatten(1)  # (B, hw)
        weights = torch.softmax(prior, dim=1).unsqueeze(-1)  # (B, hw, 1)
        pooled = torch.bmm(fmap.flatten(2), weights).squeeze(-1)  # (B, D)
        peak = prior.amax(dim=1, keepdim=True)
        spread = torch.sigmoid(prior).mean(dim=1, keepdim=True)
        features = torch.cat([pooled, pooled * torch.tanh(self.sentence(sentence)), peak, spread], dim=1)
        return self.mlp(features)
