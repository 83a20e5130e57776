"""Parameters and FLOPs per model part (text / vision / fusion / locate / segment).

FLOPs are counted by ``torch.utils.flop_counter`` (matmuls, convolutions, attention; 1 multiply-add
= 2 FLOPs); elementwise ops are not counted.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from lts_ros.model.lts import LTS

PARTS = ("text", "vision", "fusion", "locate", "segment")


@dataclass
class PartCost:
    params: int
    trainable: int
    gflops: float


def part_modules(model: LTS) -> dict[str, tuple[torch.nn.Module, ...]]:
    """The modules of each part (the presence head reads the locate response: it counts as locate)."""
    return {"text": (model.text,), "vision": (model.vision,), "fusion": (model.fusion,),
            "locate": (model.locate, model.presence), "segment": (model.segment_head,)}


def model_costs(model: LTS, size: int | None = None, text: str = "the red mug on the left") -> dict[str, PartCost]:
    """Cost of each part for one expression (text) and one ``size``x``size`` frame (the rest)."""
    size = size or model.cfg.input_size
    modules = part_modules(model)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        with FlopCounterMode(display=False) as text_counter:
            features = model.encode_text(*model.tokenize([text]))
        with FlopCounterMode(display=False) as frame_counter:
            model.segment(torch.rand(1, 3, size, size), features)
    model.train(was_training)
    counts = {**text_counter.get_flop_counts(), **frame_counter.get_flop_counts()}
    costs = {}
    for name, parts in modules.items():
        flops = sum(sum(counts.get(type(module).__name__, {}).values()) for module in parts)
        params = [p for module in parts for p in module.parameters()]
        costs[name] = PartCost(sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad),
                               flops / 1e9)
    return costs
