"""TensorRT backend (runtime/backends/tensorrt_backend.py) on a real GPU: engines built from a tiny export
match ONNX Runtime, the cache reuses them, and an undeserializable engine is caught and rebuilt once."""
import json
import shutil

import numpy as np
import pytest

trt = pytest.importorskip("tensorrt", reason="TensorRT is not installable on this machine (PyPI has only a "
                          "download stub); these tests run where TensorRT and a GPU exist")
import torch  # noqa: E402

if not torch.cuda.is_available():
    pytest.skip("TensorRT is installed but torch sees no CUDA GPU", allow_module_level=True)

from lts_ros.checkpoint import save_checkpoint  # noqa: E402
from lts_ros.artifacts.engine_cache import IncompatibleEngine, check_manifest, manifest_path  # noqa: E402
from lts_ros.artifacts.export_manifest import read_manifest, sha256_file  # noqa: E402
from lts_ros.runtime.compile.onnx_export import export_onnx  # noqa: E402
from lts_ros.runtime.compile.tensorrt_build import current_device  # noqa: E402
from lts_ros.model.build import build_model  # noqa: E402
from lts_ros.model.text import WordTokenizer  # noqa: E402
from lts_ros.runtime import Segmenter  # noqa: E402
from lts_ros.runtime.backends.onnxruntime_backend import OnnxRuntimeBackend  # noqa: E402
from lts_ros.runtime.backends.tensorrt_backend import TensorRTBackend  # noqa: E402
from lts_ros.model.text import build_tokenizer  # noqa: E402

TOLERANCE = 1e-2  # fp32 engine vs ONNX Runtime CPU (TensorRT may use TF32 on Ampere and later)


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    torch.manual_seed(0)
    vocab = WordTokenizer.build(["the red mug on the left", "blue cup"], 12).vocab
    checkpoint = save_checkpoint(build_model("tiny", vocab), tmp_path_factory.mktemp("ckpt") / "m.safetensors")
    return export_onnx(checkpoint, checkpoint.parent / "onnx").export_dir


@pytest.fixture(scope="module")
def engine_dir(export_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("engines")
    TensorRTBackend(export_dir, path)  # builds both engines once for the module
    return path


def engine_paths(engine_dir):
    return sorted(engine_dir.glob("*-text-*.engine")) + sorted(engine_dir.glob("*-segment-*.engine"))


def max_diffs(backend, export_dir) -> dict[str, float]:
    with np.load(export_dir / "sample.npz") as data:
        sample = dict(data)
    reference = OnnxRuntimeBackend(export_dir, threads=1)
    got_text = backend.encode_text(sample["token_ids"], sample["attention_mask"])
    want_text = reference.encode_text(sample["token_ids"], sample["attention_mask"])
    diffs = {name: float(np.abs(got_text[name] - want_text[name]).max()) for name in want_text}
    got = backend.segment(sample["image"], want_text)
    want = reference.segment(sample["image"], want_text)
    diffs.update({name: float(np.abs(g - w).max()) for name, g, w in zip(("mask", "prior", "presence"), got, want)})
    return diffs


def test_tensorrt_matches_onnxruntime(engine_dir, export_dir):
    backend = TensorRTBackend(export_dir, engine_dir)
    diffs = max_diffs(backend, export_dir)
    assert max(diffs.values()) <= TOLERANCE, diffs
    assert backend.name == "tensorrt"


def test_the_manifest_describes_the_engine(engine_dir, export_dir):
    device = current_device()
    assert device.tensorrt_version == trt.__version__
    backend = TensorRTBackend(export_dir, engine_dir)
    for engine, graph, opened in zip(engine_paths(engine_dir), ("text.onnx", "segment.onnx"),
                                     (backend.text, backend.seg)):
        manifest = json.loads(manifest_path(engine).read_text())
        assert check_manifest(manifest, device, read_manifest(export_dir).files[graph], "fp32") == []
        assert {s["name"] for s in manifest["inputs"]} == set(opened.inputs)
        assert {s["name"] for s in manifest["outputs"]} == set(opened.outputs)


def test_a_current_cache_is_reused(engine_dir, export_dir):
    stamps = [p.stat().st_mtime_ns for p in engine_paths(engine_dir)]
    TensorRTBackend(export_dir, engine_dir)
    assert [p.stat().st_mtime_ns for p in engine_paths(engine_dir)] == stamps


def test_segmenter_runs_on_the_engines(engine_dir, export_dir):
    manifest = read_manifest(export_dir)
    cfg = manifest.model_config()
    segmenter = Segmenter(TensorRTBackend(export_dir, engine_dir),
                          build_tokenizer(cfg.text, manifest.vocab or None), cfg.input_size)
    segmenter.set_command("the red mug")
    assert segmenter.segment(np.zeros((60, 80, 3), np.uint8)).mask.shape == (60, 80)


def test_an_undeserializable_engine_is_incompatible_then_rebuilt(engine_dir, export_dir, tmp_path):
    cache = shutil.copytree(engine_dir, tmp_path / "engines")
    text, segment = engine_paths(cache)
    segment.write_bytes(b"not a TensorRT plan" * 64)  # its manifest still says "compatible", hash included:
    manifest = json.loads(manifest_path(segment).read_text())  # as for a plan from another OS
    manifest_path(segment).write_text(json.dumps({**manifest, "engine_sha256": sha256_file(segment)}))
    with pytest.raises(IncompatibleEngine, match=f"{segment.name} cannot be deserialized by TensorRT"):
        TensorRTBackend(export_dir, cache, on_mismatch="refuse")
    backend = TensorRTBackend(export_dir, cache)  # discarded and rebuilt once
    assert max(max_diffs(backend, export_dir).values()) <= TOLERANCE
