"""Evaluate a model on a dataset split: masks scored at each image's own resolution, broken down by
expression kind where the data has kinds, with 3D centroid errors where it has depth."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm import tqdm

from lts_ros.data.datasets import LetterboxedSet, SampleSource, collate
from lts_ros.geometry import robust_centroid
from lts_ros.metrics import RisAccumulator, RisMetrics, intersection_union
from lts_ros.model.lts import LTS


@dataclass
class EvalResult:
    metrics: RisMetrics
    samples: list[dict] = field(default_factory=list)  # per expression: index, text, iou (+ kind, centroid_err_m)

    def breakdown(self, key: str = "kind") -> dict[str, RisMetrics]:
        """Metrics per value of a per-sample field (e.g. expression kind)."""
        groups: dict[str, RisAccumulator] = defaultdict(RisAccumulator)
        for s in self.samples:
            if key in s:
                groups[str(s[key])].add_counts(s["intersection"], s["union"])
        return {k: groups[k].result() for k in sorted(groups)}

    def centroid_errors_m(self) -> np.ndarray:
        """3D centroid errors (metres) of samples where both predicted and GT centroids exist."""
        return np.array([s["centroid_err_m"] for s in self.samples if s.get("centroid_err_m") is not None])

    def report(self) -> str:
        """The metric table, then per-kind and seen/held-out tables and 3D centroid errors where the data has them."""
        lines = [self.metrics.table()]
        titles = {"kind": "by expression kind", "combo": "by target color x category (held_out: never in train/val)"}
        for key, title in titles.items():
            groups = self.breakdown(key)
            if groups:
                lines += ["", f"{title}:", f"{'':<12}{'count':>7}{'mIoU':>8}{'oIoU':>8}{'P@0.5':>8}{'P@0.9':>8}"]
                lines += [f"{name:<12}{m.count:>7}{100 * m.mean_iou:>8.2f}{100 * m.overall_iou:>8.2f}"
                          f"{100 * m.precision_at[0.5]:>8.2f}{100 * m.precision_at[0.9]:>8.2f}"
                          for name, m in groups.items()]
        errors = self.centroid_errors_m()
        if errors.size:
            lines += ["", f"3D centroid error (predicted mask + depth vs GT visible surface), {errors.size} samples: "
                      f"median {100 * np.median(errors):.2f} cm, p90 {100 * np.percentile(errors, 90):.2f} cm"]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        out = {"metrics": self.metrics.as_dict(), "samples": self.samples}
        kinds = self.breakdown("kind")
        if kinds:
            out["by_kind"] = {k: m.as_dict() for k, m in kinds.items()}
        errors = self.centroid_errors_m()
        if errors.size:
            out["centroid_error_m"] = {"median": float(np.median(errors)), "p90": float(np.percentile(errors, 90)),
                                       "mean": float(errors.mean()), "count": int(errors.size)}
        return out


def score_sample(sample, pred: np.ndarray, index: int, accumulator: RisAccumulator) -> dict:
    """Per-sample record: IoU counts, and the 3D centroid error where the sample has depth and GT."""
    inter, union = intersection_union(pred, sample.mask)
    record = {"index": index, "text": sample.text, "intersection": inter, "union": union,
              "iou": accumulator.add_counts(inter, union)}
    if hasattr(sample, "kind"):
        record["kind"] = sample.kind
        record["combo"] = "held_out" if sample.held_out else "seen"  # target color x category in training?
    if getattr(sample, "centroid_3d", None) is not None:
        predicted = robust_centroid(sample.depth_m, sample.K, pred)
        record["centroid_err_m"] = None if predicted is None else float(np.linalg.norm(predicted - sample.centroid_3d))
    return record


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
        for logit, box, sample, index in zip(logits[:, 0].float().cpu().numpy(), batch["box"], batch["source"],
                                             batch["index"]):
            pred = box.invert(logit) > 0.0  # logit 0 = probability 0.5
            samples.append(score_sample(sample, pred, index, accumulator))
    model.train(was_training)
    return EvalResult(accumulator.result(), samples)
