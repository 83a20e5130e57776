"""LTS losses: BCE on the coarse position prior (GT resized to its size) + BCE (+ Dice) on the mask, + BCE on
presence and on several targets."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from lts_ros.config import LossConfig
from lts_ros.model.outputs import SegmentOutputs


def dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    prob = torch.sigmoid(logits).flatten(1)
    target = target.flatten(1)
    inter = (prob * target).sum(1)
    return (1 - (2 * inter + eps) / (prob.sum(1) + target.sum(1) + eps)).mean()


def lts_loss(outputs: SegmentOutputs, gt_mask: torch.Tensor, several: torch.Tensor,
             cfg: LossConfig) -> dict[str, torch.Tensor]:
    """``gt_mask``: (B, 1, H, W) float in {0, 1} at the mask logits' size, the union of the targets (empty for
    an expression without one; presence is trained toward "the mask is not empty"); ``several``: (B, 1) float,
    1 where the expression has more than one target (trained over the expressions with a target). Returns the
    parts and 'total'."""
    mask_logits, prior_logits, presence_logits, several_logits = (o.float() for o in outputs)
    prior_target = F.interpolate(gt_mask, size=prior_logits.shape[-2:], mode="area")  # soft targets at borders
    present = (gt_mask.flatten(1).amax(1, keepdim=True) > 0).to(presence_logits.dtype)
    parts = {
        "prior": F.binary_cross_entropy_with_logits(prior_logits, prior_target),
        "mask": F.binary_cross_entropy_with_logits(mask_logits, gt_mask),
        "presence": F.binary_cross_entropy_with_logits(presence_logits, present),
    }
    with_target = present[:, 0] > 0  # dice and several: an empty target set has no overlap and no count
    parts["several"] = F.binary_cross_entropy_with_logits(several_logits[with_target], several[with_target].float()) \
        if with_target.any() else several_logits.sum() * 0
    total = (cfg.prior_weight * parts["prior"] + cfg.mask_weight * parts["mask"]
             + cfg.presence_weight * parts["presence"] + cfg.several_weight * parts["several"])
    if cfg.dice_weight > 0:
        parts["dice"] = dice_loss(mask_logits[with_target], gt_mask[with_target]) if with_target.any() \
            else mask_logits.sum() * 0
        total = total + cfg.dice_weight * parts["dice"]
    parts["total"] = total
    return parts
