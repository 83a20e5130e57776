"""LTS losses: BCE on the coarse position prior (GT resized to its size) + BCE (+ Dice) on the mask."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from lts_ros.config import LossConfig


def dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    prob = torch.sigmoid(logits).flatten(1)
    target = target.flatten(1)
    inter = (prob * target).sum(1)
    return (1 - (2 * inter + eps) / (prob.sum(1) + target.sum(1) + eps)).mean()


def lts_loss(mask_logits: torch.Tensor, prior_logits: torch.Tensor, gt_mask: torch.Tensor,
             cfg: LossConfig) -> dict[str, torch.Tensor]:
    """``gt_mask``: (B, 1, H, W) float in {0, 1} at the mask logits' size. Returns the parts and 'total'."""
    prior_target = F.interpolate(gt_mask, size=prior_logits.shape[-2:], mode="area")  # soft targets at borders
    parts = {
        "prior": F.binary_cross_entropy_with_logits(prior_logits, prior_target),
        "mask": F.binary_cross_entropy_with_logits(mask_logits, gt_mask),
    }
    total = cfg.prior_weight * parts["prior"] + cfg.mask_weight * parts["mask"]
    if cfg.dice_weight > 0:
        parts["dice"] = dice_loss(mask_logits, gt_mask)
        total = total + cfg.dice_weight * parts["dice"]
    parts["total"] = total
    return parts
