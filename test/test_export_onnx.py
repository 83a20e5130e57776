"""ONNX export: files, manifest, verification against torch, loud failures (runtime/compile/onnx_export.py)."""
import json
import shutil

import numpy as np
import pytest
import torch

from lts_ros.checkpoint import save_checkpoint
from lts_ros.errors import LtsError
from lts_ros.artifacts.export_manifest import read_manifest, sha256_file
from lts_ros.runtime.compile.onnx_export import ensure_export, export_onnx, verify_export
from lts_ros.model.build import build_model
from lts_ros.runtime import Segmenter
from lts_ros.runtime.backends.onnxruntime_backend import CPU, OnnxRuntimeBackend, open_session

from conftest import tiny_checkpoint


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    with tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "m.safetensors") as checkpoint:
        yield export_onnx(checkpoint, checkpoint.parent / "onnx"), checkpoint


@pytest.fixture
def copy(exported, tmp_path):
    """A private copy of the export to damage."""
    return shutil.copytree(exported[0].export_dir, tmp_path / "onnx")


def test_export_writes_verified_graphs_and_a_manifest(exported):
    result, checkpoint = exported
    names = {p.name for p in result.export_dir.iterdir()}
    assert names == {"text.onnx", "segment.onnx", "sample.npz", "model.json"}
    assert max(result.max_abs_diff.values()) <= 1e-3
    data = json.loads((result.export_dir / "model.json").read_text())
    assert (data["config_name"], data["input_size"], data["max_tokens"], data["opset"]) == ("tiny", 128, 12, 17)
    assert data["files"] == {name: sha256_file(result.export_dir / name) for name in data["files"]}
    assert data["checkpoint_sha256"] == sha256_file(checkpoint)
    assert data["vocab"][:2] == ["<pad>", "<unk>"] and "name: tiny" in data["config"]
    assert verify_export(result.export_dir).keys() == result.max_abs_diff.keys()


def test_segmenter_from_the_export_dir_alone(exported, tmp_path):
    moved = shutil.copytree(exported[0].export_dir, tmp_path / "elsewhere")
    segmenter = Segmenter.from_onnx(moved, threads=1)
    segmenter.set_command("the red mug")
    result = segmenter.segment(np.zeros((60, 80, 3), np.uint8))
    assert result.mask.shape == (60, 80) and segmenter.backend.name == "onnxruntime"


def test_truncated_onnx_fails_loudly(copy):
    path = copy / "segment.onnx"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(LtsError, match="segment.onnx does not match its sha256"):
        verify_export(copy)
    with pytest.raises(LtsError, match="segment.onnx does not match its sha256"):
        OnnxRuntimeBackend(copy)
    with pytest.raises(LtsError, match="segment.onnx is not a loadable ONNX model"):
        open_session(path, [CPU])  # without the manifest's check, loading itself fails


@pytest.mark.parametrize("name", ["text.onnx", "segment.onnx", "sample.npz"])
def test_missing_file_fails_loudly(copy, name):
    (copy / name).unlink()
    with pytest.raises(LtsError, match=f"{name} is missing from the export"):
        verify_export(copy)


def test_open_session_names_a_missing_file(tmp_path):
    with pytest.raises(LtsError, match="ONNX file not found: .*text.onnx"):
        open_session(tmp_path / "text.onnx", [CPU])


def test_missing_manifest_is_not_an_export(copy):
    (copy / "model.json").unlink()
    with pytest.raises(LtsError, match="not an lts_ros ONNX export"):
        Segmenter.from_onnx(copy)


def test_a_wrong_graph_fails_verification(copy, tmp_path):
    """A graph that loads but computes something else (another model's weights) is caught."""
    torch.manual_seed(1)
    vocab = json.loads((copy / "model.json").read_text())["vocab"]
    other = export_onnx(save_checkpoint(build_model("tiny", vocab), tmp_path / "other.safetensors"), tmp_path / "o")
    shutil.copy(other.export_dir / "segment.onnx", copy / "segment.onnx")
    manifest = json.loads((copy / "model.json").read_text())
    manifest["files"]["segment.onnx"] = sha256_file(copy / "segment.onnx")  # hashes alone would pass
    (copy / "model.json").write_text(json.dumps(manifest))
    with pytest.raises(LtsError, match="differs from torch"):
        verify_export(copy)


def test_ensure_export_reuses_a_current_export_and_redoes_a_stale_one(exported, tmp_path):
    result, checkpoint = exported
    stamp = (result.export_dir / "model.json").stat().st_mtime_ns
    assert ensure_export(checkpoint, result.export_dir) == result.export_dir
    assert (result.export_dir / "model.json").stat().st_mtime_ns == stamp
    stale = shutil.copytree(result.export_dir, tmp_path / "stale")
    manifest = json.loads((stale / "model.json").read_text())
    manifest["checkpoint_sha256"] = "0" * 64
    (stale / "model.json").write_text(json.dumps(manifest))
    ensure_export(checkpoint, stale)
    assert read_manifest(stale).checkpoint_sha256 == sha256_file(checkpoint)


def test_a_segmenter_from_a_current_export_hashes_each_file_once(exported, monkeypatch):
    """A Jetson pays for every pass over the graphs: configure hashes the export's files once, not per reader."""
    from lts_ros.artifacts import export_manifest
    from lts_ros.runtime.compile import onnx_export

    result, checkpoint = exported
    hashed = []
    real = export_manifest.sha256_file

    def counting(path):
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(export_manifest, "sha256_file", counting)
    monkeypatch.setattr(onnx_export, "sha256_file", counting)
    Segmenter.from_checkpoint(checkpoint, backend="onnxruntime", onnx_dir=result.export_dir)
    assert sorted(hashed) == sorted([checkpoint.name, *result.manifest.files])


def test_a_text_adapter_checkpoint_exports_and_matches(tmp_path):
    """text.adapter_layers over the frozen MiniLM: the adapter's weights are in the checkpoint (MiniLM's are not),
    and the exported text graph computes them: ORT matches torch with the adapter's output made non-zero."""
    from lts_ros.config import load_config

    cfg = load_config("edge")
    cfg.text.adapter_layers, cfg.input_size = 1, 160
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    with torch.no_grad():  # zero-initialized: give it weights, or the export could drop it unnoticed
        torch.nn.init.normal_(model.text.adapter[0].ffn[-1].weight, std=0.5)
    checkpoint = save_checkpoint(model, tmp_path / "adapter.safetensors")
    result = export_onnx(checkpoint, tmp_path / "onnx")
    assert max(result.max_abs_diff.values()) <= 1e-3
    plain = build_model(load_config("edge")).eval()
    ids, attention = model.tokenize(["the second mug from the left"])
    words = open_session(result.export_dir / "text.onnx", [CPU]).run(
        None, {"token_ids": ids.numpy(), "attention_mask": attention.numpy()})[0]
    with torch.no_grad():
        assert not np.allclose(words, plain.encode_text(ids, attention).words.numpy(), atol=1e-3)  # adapter ran
