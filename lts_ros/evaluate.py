"""Evaluate a model on a dataset split: the answers the runtime gives (found / not_found / ambiguous, the found
object's mask and 3D centroid), scored at each image's own resolution.

Reported: mask metrics (mIoU, overall IoU, Prec@X) on one-target expressions, by kind and by seen / held-out
colour x category; the gRefCOCO metrics (gIoU, cIoU, N-acc, T-acc) over every expression, by target set; the
share of split masks on one-target expressions; the presence score's calibration (ECE); 3D centroid errors on
found one-target expressions where the data has depth. ``corrupt`` applies one camera effect to every frame.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from lts_ros.data.camera_effects import CameraEffect
from lts_ros.data.datasets import CorruptedSource, LetterboxedSet, SampleSource, collate, image_keys_of
from lts_ros.errors import LtsError
from lts_ros.metrics import (GroundingAccumulator, GroundingMetrics, RisAccumulator, RisMetrics,
                             expected_calibration_error, intersection_union, is_split, reliability_bins)
from lts_ros.model.lts import LTS
from lts_ros.options import PRESENCE_THRESHOLD
from lts_ros.language import Query, Selection, read_command
from lts_ros.runtime.missed_member import crop_view
from lts_ros.runtime.postprocess import build_result
from lts_ros.runtime.preprocess import prepare_image
from lts_ros.runtime.query_plan import (conclude, first_selection, first_text, follow_ups,
                                       missed_member_checks, settle_count)
from lts_ros.runtime.result import Result

ANSWERS = ("correct", "wrong_object", "ambiguous", "not_found")  # see answer_kind


@dataclass
class EvalResult:
    samples: list[dict] = field(default_factory=list)  # per expression: see `score_sample`

    def unique(self) -> list[dict]:
        return [s for s in self.samples if s["target_set"] == "one"]

    @property
    def metrics(self) -> RisMetrics:
        """Mask metrics over the one-target expressions."""
        return self._ris(self.unique())

    @staticmethod
    def _ris(samples: list[dict]) -> RisMetrics:
        accumulator = RisAccumulator()
        for s in samples:
            accumulator.add_counts(s["intersection"], s["union"])
        return accumulator.result()

    def grounding(self, samples: list[dict] | None = None) -> GroundingMetrics:
        accumulator = GroundingAccumulator()
        for s in self.samples if samples is None else samples:
            accumulator.add(s["target_set"], s["status"], s["intersection"], s["union"])
        return accumulator.result()

    def breakdown(self, key: str = "kind") -> dict[str, RisMetrics]:
        """Mask metrics of the one-target expressions per value of a per-sample field (e.g. expression kind)."""
        groups: dict[str, list[dict]] = defaultdict(list)
        for s in self.unique():
            if key in s:
                groups[str(s[key])].append(s)
        return {k: self._ris(groups[k]) for k in sorted(groups)}

    def by_target_set(self) -> dict[str, GroundingMetrics]:
        groups: dict[str, list[dict]] = defaultdict(list)
        for s in self.samples:
            groups[s["target_set"]].append(s)
        return {k: self.grounding(groups[k]) for k in ("none", "one", "several") if groups[k]}

    def answers(self, key: str | None = None) -> dict[str, dict[str, float]]:
        """How one-target commands were answered (``answer_kind``: shares of correct, wrong object, ambiguous,
        not found, and the count), over all of them (key None: under "all") or per value of ``key``."""
        groups: dict[str, list[str]] = defaultdict(list)
        for s in self.unique():
            if "answer" in s and (key is None or key in s):
                groups["all" if key is None else str(s[key])].append(s["answer"])
        return {name: {**{a: answers.count(a) / len(answers) for a in ANSWERS}, "count": len(answers)}
                for name, answers in sorted(groups.items())}

    def answers_table(self) -> str:
        """The answers a robot acts on, overall, per expression kind and per phrasing family."""
        lines = [f"{'':<26}{'count':>7}" + "".join(f"{a:>14}" for a in ANSWERS)]
        for key in (None, "kind", "family"):
            for name, shares in self.answers(key).items():
                label = name if key is None else f"{key} {name}"
                lines.append(f"{label:<26}{shares['count']:>7}" + "".join(f"{100 * shares[a]:>13.1f}%" for a in ANSWERS))
        return "\n".join(lines)

    def by_appearance(self) -> dict[str, "EvalResult"]:
        """The samples of each appearance family (tabletop scenes), as results of their own."""
        groups: dict[str, list[dict]] = defaultdict(list)
        for s in self.samples:
            if "appearance" in s:
                groups[s["appearance"]].append(s)
        return {name: EvalResult(groups[name]) for name in sorted(groups)}

    def appearance_table(self) -> str:
        """Per appearance family: every figure the report gives, one row each."""
        lines = [f"{'':<16}{'count':>7}{'mIoU':>8}{'N-acc':>8}{'T-acc':>8}{'split':>8}{'3D cm':>8}"
                 + "".join(f"{a:>14}" for a in ANSWERS)]
        for name, part in self.by_appearance().items():
            g, answers, errors = part.grounding(), part.answers().get("all", {}), part.centroid_errors_m()
            centroid = f"{100 * np.median(errors):>8.2f}" if errors.size else f"{'-':>8}"
            lines.append(f"{name:<16}{len(part.samples):>7}{100 * part.metrics.mean_iou:>8.2f}{100 * g.n_acc:>8.2f}"
                         f"{100 * g.t_acc:>8.2f}{100 * part.split_share():>7.2f}%{centroid}"
                         + "".join(f"{100 * answers.get(a, float('nan')):>13.1f}%" for a in ANSWERS))
        return "\n".join(lines)

    def split_share(self) -> float:
        unique = self.unique()
        return float(np.mean([s["split"] for s in unique])) if unique else float("nan")

    def calibration(self) -> tuple[np.ndarray, np.ndarray]:
        """(presence scores, whether the expression has a target) over every expression."""
        return (np.array([s["score"] for s in self.samples]),
                np.array([s["target_set"] != "none" for s in self.samples], float))

    def ece(self) -> float:
        return expected_calibration_error(*self.calibration())

    def centroid_errors_m(self) -> np.ndarray:
        """3D centroid errors (metres) of one-target samples answered found, with both centroids."""
        return np.array([s["centroid_err_m"] for s in self.unique() if s.get("centroid_err_m") is not None])

    def report(self) -> str:
        """The tables: mask metrics, by kind and seen/held-out, grounding by target set, split masks, ECE, 3D."""
        lines = ["one-target expressions:", self.metrics.table()]
        titles = {"kind": "by expression kind (one target)",
                  "combo": "by target color x category (held_out: never in train/val)"}
        for key, title in titles.items():
            groups = self.breakdown(key)
            if groups:
                lines += ["", f"{title}:", f"{'':<12}{'count':>7}{'mIoU':>8}{'oIoU':>8}{'P@0.5':>8}{'P@0.9':>8}"]
                lines += [f"{name:<12}{m.count:>7}{100 * m.mean_iou:>8.2f}{100 * m.overall_iou:>8.2f}"
                          f"{100 * m.precision_at[0.5]:>8.2f}{100 * m.precision_at[0.9]:>8.2f}"
                          for name, m in groups.items()]
        lines += ["", "all expressions (gRefCOCO):", self.grounding().table(), "", "by target set:",
                  f"{'':<10}{'count':>7}{'gIoU':>8}{'found':>8}{'not':>8}{'ambig':>8}"]
        for name, group in self.by_target_set().items():
            answers = [s["status"] for s in self.samples if s["target_set"] == name]
            shares = [100 * answers.count(a) / len(answers) for a in ("found", "not_found", "ambiguous")]
            lines.append(f"{name:<10}{len(answers):>7}{100 * group.giou:>8.2f}" + "".join(f"{v:>8.1f}" for v in shares))
        lines += ["", "answers to one-target commands (wrong_object: found, IoU < 0.5):", self.answers_table()]
        lines += ["", f"split masks (one target, >= 2 regions of >= 5 % each): {100 * self.split_share():.2f} %",
                  f"presence calibration: ECE {self.ece():.4f}"]
        appearances = set(self.by_appearance())
        if len(appearances) > 1 or appearances - {"flat"}:
            lines += ["", "by appearance family (docs/appearance-families.md; split: share of split masks, 3D: median "
                      "centroid error):", self.appearance_table()]
        errors = self.centroid_errors_m()
        if errors.size:
            lines += [f"3D centroid error (found, one target; vs GT visible surface), {errors.size} samples: "
                      f"median {100 * np.median(errors):.2f} cm, p90 {100 * np.percentile(errors, 90):.2f} cm"]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        out = {"metrics": self.metrics.as_dict(), "grounding": self.grounding().as_dict(),
               "by_target_set": {k: m.as_dict() for k, m in self.by_target_set().items()},
               "split_share": self.split_share(), "ece": self.ece(), "samples": self.samples}
        out["answers"] = {"all": self.answers().get("all", {}), "by_kind": self.answers("kind"),
                          "by_family": self.answers("family")}
        appearances = self.by_appearance()
        if len(appearances) > 1:
            out["by_appearance"] = {name: {k: v for k, v in part.as_dict().items() if k != "samples"}
                                    for name, part in appearances.items()}
        kinds = self.breakdown("kind")
        if kinds:
            out["by_kind"] = {k: m.as_dict() for k, m in kinds.items()}
        errors = self.centroid_errors_m()
        if errors.size:
            out["centroid_error_m"] = {"median": float(np.median(errors)), "p90": float(np.percentile(errors, 90)),
                                       "mean": float(errors.mean()), "count": int(errors.size)}
        return out

    def reliability_png(self, out_png: Path) -> Path:
        from lts_ros.plots import plot_reliability

        return plot_reliability(reliability_bins(*self.calibration()), self.ece(), out_png)

    def presence_logits(self) -> np.ndarray:
        return np.array([s["presence_logit"] for s in self.samples])


def fit_presence_temperature(result: EvalResult) -> float:
    """The temperature T that makes sigmoid(logit / T) the best-calibrated presence probability on ``result``'s
    expressions (least negative log-likelihood over a log-spaced grid; Guo et al., 2017)."""
    logits = result.presence_logits()
    _, labels = result.calibration()
    if logits.size == 0 or labels.min() == labels.max():
        raise LtsError("fitting the presence temperature needs expressions with and without a target")
    temperatures = np.exp(np.linspace(np.log(0.25), np.log(8.0), 241))
    z = logits[None, :] / temperatures[:, None]
    nll = np.logaddexp(0.0, -z) * labels + np.logaddexp(0.0, z) * (1 - labels)  # -log p(label), stably
    return float(temperatures[int(nll.mean(1).argmin())])


def apply_presence_temperature(model: LTS, temperature: float) -> None:
    """Fold 1 / ``temperature`` into the presence head's last layer: the exported graphs carry it too."""
    last = model.presence.mlp[-1]
    with torch.no_grad():
        last.weight /= temperature
        last.bias /= temperature


def runtime_answer(sample, mask_logits: np.ndarray, presence_logit: float, several_logit: float, box,
                   refine_edges: bool = True, selection: Selection | None = None) -> Result:
    """The runtime's answer for ``sample`` from the model's outputs: its mask's edges snapped to the frame unless
    ``refine_edges`` is False; the member ``selection`` names where the outputs answer its set."""
    depth = getattr(sample, "depth_m", None)
    return build_result(mask_logits, presence_logit, several_logit, box, PRESENCE_THRESHOLD, depth,
                        sample.K if depth is not None else None, rgb=sample.image if refine_edges else None,
                        selection=selection)


def answer_kind(status: str, iou: float) -> str:
    """A one-target answer as a robot acts on it: ``correct`` (found, IoU >= 0.5), ``wrong_object`` (found,
    IoU < 0.5: it would grasp something else), ``ambiguous`` ("which one?") or ``not_found``."""
    if status == "found":
        return "correct" if iou >= 0.5 else "wrong_object"
    return status


def score_sample(sample, result: Result, presence_logit: float, index: int, reading: Query | None = None,
                 passes: int = 1) -> dict:
    """Per-sample record: the runtime's answer for it, how the command was read (``reading``; ``passes``: model
    passes it took, 2+ where an anchor or exclusions were asked), its IoU counts, the answer as a robot acts on it
    (one target), and the 3D centroid error where the sample has depth and a one-target GT."""
    inter, union = intersection_union(result.mask, sample.mask)
    target_set = getattr(sample, "target_set", "one")
    record = {"index": index, "text": sample.text, "target_set": target_set, "status": result.status,
              "score": result.score, "presence_logit": presence_logit, "several_score": result.several_score,
              "intersection": inter, "union": union, "iou": inter / union if union else 1.0,
              "split": is_split(result.mask), "ranked": bool(reading and reading.selection),
              "anchor_asked": bool(reading and reading.relation) and passes > 1, "passes": passes,
              "reading": reading.describe() if reading else "", "reason": result.reason}
    if target_set == "one":
        record["answer"] = answer_kind(result.status, record["iou"])
    if hasattr(sample, "family"):
        record["family"] = sample.family
    if hasattr(sample, "appearance"):
        record["appearance"] = sample.appearance
    if hasattr(sample, "kind"):
        record["kind"] = sample.kind
        record["combo"] = "held_out" if sample.held_out else "seen"  # target color x category in training?
    if getattr(sample, "centroid_3d", None) is not None:
        predicted = result.centroid_3d
        record["centroid_err_m"] = None if predicted is None else float(np.linalg.norm(predicted - sample.centroid_3d))
    return record


def crop_answers(model: LTS, frames: list[np.ndarray], text: str, device: str | torch.device,
                 refine_edges: bool) -> list[Result]:
    """The runtime's answers for ``text`` on each of ``frames`` (crops, ``missed_member.crop_view``), at their size."""
    prepared = [prepare_image(frame, model.cfg.input_size) for frame in frames]
    ids, attention = model.tokenize([text] * len(frames))
    images = torch.from_numpy(np.concatenate([image for image, _ in prepared])).to(device)
    outputs = model(images, ids.to(device), attention.to(device), torch.arange(len(frames), device=device))
    return [build_result(logits, float(presence), float(several), box, PRESENCE_THRESHOLD,
                         rgb=frame if refine_edges else None)
            for logits, presence, several, (_, box), frame in zip(
                *(o[:, 0].float().cpu().numpy() for o in (outputs.mask_logits, outputs.presence_logits,
                                                          outputs.several_logits)), prepared, frames)]


@torch.no_grad()
def evaluate(model: LTS, source: SampleSource, batch_size: int = 8, workers: int = 0, limit: int | None = None,
             device: str | torch.device = "cpu", progress: bool = True,
             corrupt: CameraEffect | None = None, refine_edges: bool = True,
             resolve_phrases: bool = True) -> EvalResult:
    """Run ``model`` on (the first ``limit`` samples of) ``source``, each frame with ``corrupt`` applied. Samples
    of one image in a batch share its vision features (where the source says which image each shows).
    ``refine_edges``: see ``runtime_answer``. ``resolve_phrases``: commands are read and executed as the runtime
    does (``lts_ros.language``, ``runtime.query_plan``); False: the model reads every command whole."""
    if corrupt is not None:
        source = CorruptedSource(source, corrupt)
    indices = range(min(len(source), limit) if limit else len(source))
    keys = image_keys_of(source)
    data = LetterboxedSet(source, model.cfg.input_size, indices, keep_source=True)
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, num_workers=workers, collate_fn=collate)
    was_training = model.training
    model.eval()
    samples = []
    for batch in tqdm(loader, desc="eval", unit="batch", disable=not progress):
        slots: dict = {}
        image_index = [slots.setdefault(keys[i], len(slots)) for i in batch["index"]]  # the batch's images, in order
        images = batch["image"][[image_index.index(slot) for slot in range(len(slots))]].to(device)
        image_index = torch.tensor(image_index, device=device)
        readings = [read_command(text) if resolve_phrases else Query(verbatim=text) for text in batch["text"]]

        def answers(queries: list[Query], rows: list[int]) -> list[tuple[Result, float]]:
            ids, attention = model.tokenize([first_text(q, batch["text"][row]) for q, row in zip(queries, rows)])
            outputs = model(images, ids.to(device), attention.to(device), image_index[rows])
            return [(runtime_answer(batch["source"][row], logits, float(presence), float(several), batch["box"][row],
                                    refine_edges, first_selection(query)), float(presence))
                    for logits, presence, several, row, query in zip(
                        *(o[:, 0].float().cpu().numpy() for o in (outputs.mask_logits, outputs.presence_logits,
                                                                  outputs.several_logits)), rows, queries)]

        results = answers(readings, list(range(len(readings))))
        # As the runtime does: the model once more for each follow-up (an anchor, an exclusion), all in one batch.
        asked = [(row, q) for row, ((result, _), reading) in enumerate(zip(results, readings))
                 for q in follow_ups(reading, result)]
        follow = answers([q for _, q in asked], [row for row, _ in asked]) if asked else []
        for row, ((result, presence), reading) in enumerate(zip(results, readings)):
            settled = conclude(reading, result, [a for (r, _), (a, _) in zip(asked, follow) if r == row])
            sample = batch["source"][row]
            depth = getattr(sample, "depth_m", None)
            checked = missed_member_checks(reading, settled, depth, sample.K if depth is not None else None)
            if checked:
                crops = crop_answers(model, [crop_view(sample.image, u) for u in checked], reading.model_text(), device,
                                     refine_edges)
                settled = settle_count(reading, settled, checked, crops)
            passes = 1 + sum(r == row for r, _ in asked) + len(checked)
            samples.append(score_sample(sample, settled, presence, batch["index"][row], reading, passes))
    model.train(was_training)
    return EvalResult(samples)
