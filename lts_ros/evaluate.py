"""Evaluate a model on a dataset split: masks scored at each image's own resolution."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from lts_ros.data.datasets import LetterboxedSet, SampleSource, collate
from lts_ros.metrics import RisAccumulator, RisMetrics
from lts_ros.model.lts import LTS


@dataclass
class EvalResult:
    metrics: RisMetrics
    samples: list[dict] = field(default_factory=list)  # per expression: index, text, iou

    def as_dict(self) -> dict:
        return {"metrics": self.metrics.as_dict(), "samples": self.samples}


@torch.no_grad()
def evaluate(model: LTS, source: SampleSource, batch_size: int = 8, workers: int = 0, limit: int | None = None,
             device: str | torch.device = "cpu", progress: bool = True) -> EvalResult:
    """Run ``model`` on (the first ``limit`` samples of) ``source``; threshold probabilities at 0.5."""
    indices = range(min(len(source), limit) if limit else len(source))
    data = LetterboxedSet(source, model.cfg.input_size, indices, keep_source=True)
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, num_workers=workers, collate_fn=collate)
    was_training = model.training
    model.eval()
    accumulator, samples = RisAccumulator(), []
    for batch in tqdm(loader, desc="eval", unit="batch", disable=not progress):
        ids, attention = model.tokenize(batch["text"])
        logits, _ = model(batch["image"].to(device), ids.to(device), attention.to(device))
        for logit, box, gt, text, index in zip(logits[:, 0].float().cpu().numpy(), batch["box"],
                                               batch["source_mask"], batch["text"], batch["index"]):
            pred = box.invert(logit) > 0.0  # logit 0 = probability 0.5
            samples.append({"index": index, "text": text, "iou": accumulator.add(pred, gt)})
    model.train(was_training)
    return EvalResult(accumulator.result(), samples)
