"""Training end to end on the refer fixture: overfitting, resuming, and 2-process DDP over gloo; oversampling."""
import csv
import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from lts_ros.checkpoint import checkpoint_info, load_checkpoint
from lts_ros.cli import build_parser
from lts_ros.data.datasets import ConcatSource, open_dataset
from lts_ros.data.refer_fixture import write_refer_fixture
from lts_ros.data.refer import ReferDataset
from lts_ros.errors import LtsError
from lts_ros.evaluate import evaluate
from lts_ros.data.image_groups import ImageGroupBatches
from lts_ros.train import oversampled, train

from conftest import REPO, run_lts


def train_args(refer_root, out, *extra):
    return build_parser().parse_args(["train", "--config", "tiny", "--data-root", str(refer_root), "--out", str(out),
                                      "--workers", "0", "--quiet", *extra])


def test_tiny_model_overfits_fixture(refer_root, tmp_path):
    """The learning path is wired end to end: a tiny model memorizes a handful of samples."""
    checkpoint = train(train_args(refer_root, tmp_path / "run", "--steps", "250", "--batch-size", "8",
                                  "--lr", "3e-3", "--warmup", "20", "--log-every", "25"))
    result = evaluate(load_checkpoint(checkpoint), ReferDataset(refer_root, "refcoco", "train"), progress=False)
    assert result.metrics.count == 11
    assert result.metrics.mean_iou > 0.9 and result.metrics.overall_iou > 0.9, result.metrics.table()
    rows = list(csv.DictReader((tmp_path / "run" / "log.csv").open()))
    assert float(rows[-1]["total"]) < 0.5 * float(rows[0]["total"])
    assert (tmp_path / "run" / "loss.png").stat().st_size > 1000


def test_resume_continues_from_the_last_checkpoint(refer_root, tmp_path):
    out = tmp_path / "run"
    train(train_args(refer_root, out, "--steps", "6", "--batch-size", "4", "--checkpoint-every", "3"))
    assert checkpoint_info(out / "model.safetensors")["step"] == 6
    train(train_args(refer_root, out, "--steps", "9", "--batch-size", "4", "--resume"))
    assert checkpoint_info(out / "model.safetensors")["step"] == 9
    steps = [int(r["step"]) for r in csv.DictReader((out / "log.csv").open())]
    assert steps == sorted(steps) and steps[-1] == 9
    assert sorted(p.name for p in (out / "checkpoints").iterdir() if p.suffix == ".safetensors") == [
        "step_0000003.safetensors", "step_0000006.safetensors", "step_0000009.safetensors"]


def test_a_resumed_epoch_continues_where_it_stopped():
    keys, ids = [i // 5 for i in range(50)], list(range(50))
    whole = ImageGroupBatches(keys, ids, per_image=3, batch_size=4, world=2, rank=1, seed=3)
    whole.set_epoch(4)
    resumed = ImageGroupBatches(keys, ids, per_image=3, batch_size=4, world=2, rank=1, seed=3, skip=2)
    resumed.set_epoch(4)
    assert len(resumed) == len(whole) - 2 and list(resumed) == list(whole)[2:]
    resumed.set_epoch(5)
    whole.set_epoch(5)
    assert list(resumed) == list(whole)  # later epochs are whole


def test_image_groups_show_each_image_with_several_of_its_expressions():
    """Every position once per epoch (but the last partial batch), in groups of one image of at most per_image;
    an oversampled expression's copies land in different groups while its image has other expressions."""
    keys = [f"scene{i // 6}" for i in range(60)] + ["lonely"] * 2
    ids = list(range(60)) + [60, 60]  # expression 60 is shown twice (oversampled) and its image has nothing else
    ids[:2] = [0, 0]  # scene0 shows expression 0 twice beside four others: two groups, one copy each
    sampler = ImageGroupBatches(keys, ids, per_image=4, batch_size=8)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 62 // 8 and all(sum(map(len, b)) == 8 for b in batches)
    positions = [p for b in batches for g in b for p in g]
    assert len(positions) == len(set(positions)) == 56
    groups = [g for b in batches for g in b]
    assert all(len(g) <= 4 and len({keys[p] for p in g}) == 1 for g in groups)
    assert len(groups) < 0.6 * len(positions)  # mostly full groups: about 2 images per 4 expressions, not 4
    for group in groups:
        if keys[group[0]] == "scene0":
            assert len({ids[p] for p in group}) == len(group)  # the copies of 0 are apart
    epoch0 = sampler.batches(0)
    sampler.set_epoch(1)
    assert list(sampler) != epoch0 and sampler.batches(0) == epoch0  # a new order each epoch, reproducibly


def test_training_with_image_groups(tabletop_root, tmp_path, monkeypatch):
    """--per-image 3 trains on groups of one scene's expressions: the vision encoder runs once per image."""
    from lts_ros.model import lts as lts_module

    shapes = []
    original = lts_module.LTS.segment

    def spy(self, image, text, image_index=None):
        shapes.append((image.shape[0], text.sentence.shape[0]))
        return original(self, image, text, image_index)

    monkeypatch.setattr(lts_module.LTS, "segment", spy)
    train(build_parser().parse_args([
        "train", "--config", "tiny", "--data", "tabletop", "--data-root", str(tabletop_root), "--split", "val",
        "--out", str(tmp_path / "run"), "--workers", "0", "--quiet", "--steps", "3", "--batch-size", "6",
        "--per-image", "3"]))
    assert shapes and all(expressions == 6 and images <= 3 for images, expressions in shapes)
    assert any(images == 2 for images, _ in shapes)
    proc = run_lts("train", "--config", "tiny", "--data-root", str(tabletop_root), "--data", "tabletop",
                   "--split", "val", "--out", str(tmp_path / "bad"), "--steps", "1", "--quiet", "--per-image", "0")
    assert proc.returncode == 2 and "--per-image must be >= 1" in proc.stderr and "Traceback" not in proc.stderr


def test_resume_without_checkpoint_is_a_clear_error(refer_root, tmp_path):
    result = run_lts("train", "--config", "tiny", "--data-root", str(refer_root), "--out", str(tmp_path / "x"),
                     "--resume")
    assert result.returncode == 2 and "no checkpoint to resume" in result.stderr
    assert "Traceback" not in result.stderr


def test_ddp_two_processes_gloo(refer_root, tmp_path):
    out = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
         "lts_ros.train", "--config", "tiny", "--data-root", str(refer_root), "--out", str(out), "--steps", "8",
         "--batch-size", "2", "--workers", "0", "--quiet", "--log-every", "4"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr[-6000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"] == 8
    assert summary["replicas_in_sync"] is True  # gradients were all-reduced: both replicas hold equal weights
    assert checkpoint_info(out / "model.safetensors")["step"] == 8


def test_oversampling_multiplies_kind_and_target_set_factors(tabletop_root):
    source = open_dataset("tabletop", tabletop_root, "val", None, training=True)
    kinds, target_sets = source.kinds(), source.target_sets()
    indices = oversampled(range(len(source)), source, {"command": 2, "several": 3})
    counts = Counter(indices)
    for i in range(len(source)):
        assert counts[i] == (2 if kinds[i] == "command" else 1) * (3 if target_sets[i] == "several" else 1)
    assert "several" in target_sets and "command" in kinds
    with pytest.raises(LtsError, match="no expression of kind or target set 'sevral'"):
        oversampled(range(len(source)), source, {"sevral": 2})


def test_several_data_roots_are_read_as_one(tabletop_root):
    """Two sources (here two tabletop splits) read in order: indices map to the right part, kinds and target sets
    follow them, and oversampling works through the mix."""
    val, test = (open_dataset("tabletop", tabletop_root, split, None, training=True) for split in ("val", "test"))
    mixed = ConcatSource([val, test])
    assert len(mixed) == len(val) + len(test) and mixed.texts() == val.texts() + test.texts()
    for index, (part, local) in {0: (val, 0), len(val) - 1: (val, len(val) - 1), len(val): (test, 0),
                                 len(mixed) - 1: (test, len(test) - 1)}.items():
        assert mixed[index].text == part[local].text and (mixed[index].mask == part[local].mask).all()
    with pytest.raises(IndexError):
        mixed[len(mixed)]
    assert mixed.kinds() == val.kinds() + test.kinds() and mixed.target_sets() == val.target_sets() + test.target_sets()
    counts = Counter(oversampled(range(len(mixed)), mixed, {"several": 2}))
    assert all(counts[i] == (2 if s == "several" else 1) for i, s in enumerate(mixed.target_sets()))


def test_training_on_two_roots(refer_root, tmp_path):
    """``--data-root A B`` trains on both roots' split; oversampling refer data (no kinds) is a clear error."""
    second = write_refer_fixture(tmp_path / "second", n_images=4, seed=1)
    checkpoint = train(build_parser().parse_args([
        "train", "--config", "tiny", "--data-root", str(refer_root), str(second), "--out", str(tmp_path / "run"),
        "--workers", "0", "--quiet", "--steps", "2", "--batch-size", "4"]))
    words = {w for root in (refer_root, second) for t in ReferDataset(root, "refcoco", "train").texts() for w in t.split()}
    only_second = words - {w for t in ReferDataset(refer_root, "refcoco", "train").texts() for w in t.split()}
    assert only_second and only_second <= set(load_checkpoint(checkpoint).vocab)  # the vocabulary saw both roots
    assert json.loads((tmp_path / "run" / "args.json").read_text())["data_root"] == str([refer_root, second])
    proc = run_lts("train", "--config", "tiny", "--data-root", str(refer_root), str(second), "--out",
                   str(tmp_path / "bad"), "--steps", "1", "--quiet", "--oversample", "ordinal=2")
    assert proc.returncode == 2 and "--oversample needs expression kinds" in proc.stderr
    assert "Traceback" not in proc.stderr
