import os
import pickle
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from lts_ros.data.refer import ReferDataset, annotation_mask, load_refs
from lts_ros.data.refer_fixture import COLORS, write_refer_fixture
from lts_ros.errors import LtsError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("refer")
    write_refer_fixture(root, "refcoco")
    write_refer_fixture(root, "refcocog")
    return root


def _color_of(texts: list[str]) -> tuple[int, int, int]:
    return next(COLORS[w] for t in texts for w in t.split() if w in COLORS)


def _sentence_count(root: Path, dataset: str, split_by: str, split: str) -> int:
    refs = load_refs(root / dataset / f"refs({split_by}).p")
    return sum(len(r["sentences"]) for r in refs if r["split"] == split)


@pytest.mark.parametrize("split", ["train", "val", "testA", "testB"])
def test_refcoco_splits(root, split):
    ds = ReferDataset(root, "refcoco", split)
    assert len(ds) == _sentence_count(root, "refcoco", "unc", split) > 0
    texts = ds.texts()
    samples = list(ds)
    assert [s.text for s in samples] == texts
    by_ref: dict[int, list[str]] = {}
    for s in samples:
        by_ref.setdefault(s.ref_id, []).append(s.text)
    for s in samples:
        assert s.image.shape == (96, 128, 3) and s.image.dtype == np.uint8
        assert s.mask.shape == (96, 128) and s.mask.dtype == bool and s.mask.any()
        assert s.file_name == f"COCO_train2014_{s.image_id:012d}.jpg"
        color = np.array(_color_of(by_ref[s.ref_id]))
        assert np.abs(s.image[s.mask].mean(axis=0) - color).max() < 25
        drawn = np.abs(s.image.astype(int) - color).max(axis=-1) < 60
        iou = (drawn & s.mask).sum() / (drawn | s.mask).sum()
        assert iou > 0.85


@pytest.mark.parametrize(("split_by", "split"), [
    ("umd", "train"), ("umd", "val"), ("umd", "test"), ("google", "train"), ("google", "val"),
])
def test_refcocog(root, split_by, split):
    ds = ReferDataset(root, "refcocog", split, split_by=split_by)
    assert len(ds) == _sentence_count(root, "refcocog", split_by, split) > 0
    assert ds[-1].mask.any()


def test_default_split_by_refcocog_is_umd(root):
    assert ReferDataset(root, "refcocog", "test").split_by == "umd"


def test_fixture_is_deterministic(tmp_path, root):
    write_refer_fixture(tmp_path, "refcoco")
    a, b = ReferDataset(tmp_path, split="val")[0], ReferDataset(root, split="val")[0]
    assert a.text == b.text and np.array_equal(a.image, b.image)


def test_invalid_split_lists_valid(root):
    with pytest.raises(LtsError, match="testA, testB"):
        ReferDataset(root, "refcoco", "test")
    with pytest.raises(LtsError, match="umd: train, val, test"):
        ReferDataset(root, "refcocog", "testA")
    with pytest.raises(LtsError, match="refcoco"):
        ReferDataset(root, "coco", "train")


def test_missing_files_are_named(tmp_path, root):
    with pytest.raises(LtsError, match=r"refs\(unc\)\.p"):
        ReferDataset(tmp_path, "refcoco", "train")
    (tmp_path / "refcoco").mkdir()
    refs = (root / "refcoco" / "refs(unc).p").read_bytes()
    (tmp_path / "refcoco" / "refs(unc).p").write_bytes(refs)
    with pytest.raises(LtsError, match="instances.json"):
        ReferDataset(tmp_path, "refcoco", "train")
    ds = ReferDataset(root, "refcoco", "val", image_dir=tmp_path / "nowhere")
    with pytest.raises(LtsError, match="nowhere"):
        ds[0]


def test_unreadable_image(tmp_path, root):
    file_name = ReferDataset(root, "refcoco", "val")[0].file_name
    (tmp_path / file_name).write_bytes(b"not a jpeg")
    with pytest.raises(LtsError, match=f"cannot decode image: .*{file_name}"):
        ReferDataset(root, "refcoco", "val", image_dir=tmp_path)[0]


def test_malicious_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {shlex.quote(str(marker))}",)

    path = tmp_path / "refcoco" / "refs(unc).p"
    path.parent.mkdir()
    path.write_bytes(pickle.dumps([Evil()], protocol=2))
    with pytest.raises(LtsError, match=r"refs\(unc\)\.p"):
        ReferDataset(tmp_path, "refcoco", "train")
    assert not marker.exists()


def test_empty_split(tmp_path, root):
    (tmp_path / "refcoco").mkdir()
    refs = [r for r in load_refs(root / "refcoco" / "refs(unc).p") if r["split"] != "testB"]
    (tmp_path / "refcoco" / "refs(unc).p").write_bytes(pickle.dumps(refs, protocol=2))
    with pytest.raises(LtsError, match="no refs for split 'testB'"):
        ReferDataset(tmp_path, "refcoco", "testB")


def test_rle_segmentations_match_polygon():
    polygon = [[10.0, 5.0, 40.0, 5.0, 40.0, 30.0, 10.0, 30.0]]
    expected = annotation_mask(polygon, 48, 64)
    assert expected.shape == (48, 64) and expected.any()
    rle = mask_utils.merge(mask_utils.frPyObjects(polygon, 48, 64))
    compressed = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
    assert np.array_equal(annotation_mask(compressed, 48, 64), expected)
    flat = expected.ravel(order="F").astype(np.int8)  # uncompressed RLE: column-major runs
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flat, [2]])) != 0)
    counts = np.diff(np.concatenate([[0], edges])).tolist()
    assert np.array_equal(annotation_mask({"size": [48, 64], "counts": counts}, 48, 64), expected)


def test_refer_module_does_not_import_torch():
    code = "import sys, lts_ros.data.refer_fixture; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
