"""The OpenVINO backend on the shipped edge export: masks against ONNX Runtime fp32 on rendered tabletop scenes
(fp32, bf16 where the CPU has it, int8 at the variant's own bar), the model cache keyed by graph and version,
the Segmenter's way to it, and clear errors."""
import numpy as np
import pytest

from lts_ros.artifacts.export_manifest import open_export
from lts_ros.checkpoint import shipped_checkpoint
from lts_ros.errors import LtsError
from lts_ros.export.precision import MIN_MASK_IOU
from lts_ros.options import parse_device
from lts_ros.runtime.backends.openvino_backend import OpenVinoBackend, import_openvino, model_cache_dir
from lts_ros.runtime.segmenter import Segmenter

from test_export_precision import scenes, source_ious  # noqa: F401 (scenes: a fixture)

HAS_BF16 = "BF16" in import_openvino().Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


@pytest.fixture(scope="module")
def ort_masks(edge_export, scenes):  # noqa: F811
    segmenter, masks = Segmenter.from_onnx(edge_export), []
    for sample in scenes:
        segmenter.set_command(sample.text)
        masks.append(segmenter.segment(sample.image).mask)
    assert sum(mask.any() for mask in masks) >= len(masks) - 2  # the scenes do contain targets
    return masks


@pytest.mark.parametrize("precision, bar", [
    ("fp32", 0.99),
    pytest.param("bf16", 0.97, marks=pytest.mark.skipif(not HAS_BF16, reason="this CPU has no AMX/AVX512-BF16")),
    ("int8", MIN_MASK_IOU)])
def test_openvino_masks_match_onnxruntime_fp32(edge_export, scenes, ort_masks, precision, bar):  # noqa: F811
    segmenter = Segmenter.from_openvino(edge_export, precision=precision)
    assert segmenter.backend.name == "openvino"
    ious = source_ious(segmenter, scenes, ort_masks)
    assert np.mean(ious) >= bar, (precision, ious)


def test_compiled_models_are_cached_by_graph_hash_and_version(edge_export, tmp_path, monkeypatch):
    monkeypatch.setenv("ROS_HOME", str(tmp_path))
    export = open_export(edge_export)
    version = import_openvino().__version__
    OpenVinoBackend(export)
    text_dir = model_cache_dir(export, "text.onnx", version)
    segment_dir = model_cache_dir(export, "segment.onnx", version)
    assert text_dir.parent == tmp_path / "lts_ros" / "openvino" and text_dir != segment_dir
    assert segment_dir.name.startswith(export.manifest.files["segment.onnx"][:16])
    assert any(segment_dir.iterdir()) and any(text_dir.iterdir())
    assert model_cache_dir(export, "segment.onnx", "2099.1.0") != segment_dir  # another OpenVINO: another blob
    cached = OpenVinoBackend(export)  # from the cache: the same graph, the same outputs
    with np.load(edge_export / "sample.npz") as sample:
        text = cached.encode_text(sample["token_ids"], sample["attention_mask"])
        assert np.abs(text["sentence"] - sample["sentence"]).max() <= 1e-4


def test_the_segmenter_runs_openvino_on_request_from_a_checkpoint():
    segmenter = Segmenter.from_checkpoint(shipped_checkpoint(), backend="openvino",
                                          precision="bf16" if HAS_BF16 else "fp32")
    segmenter.set_command("the red mug")
    assert segmenter.backend.name == "openvino"
    assert segmenter.segment(np.zeros((48, 64, 3), np.uint8)).mask.shape == (48, 64)


def test_bad_requests_say_what_runs(edge_export):
    with pytest.raises(LtsError, match="unknown precision 'fp16' .*fp32, bf16, int8"):
        OpenVinoBackend(edge_export, precision="fp16")
    with pytest.raises(LtsError, match="does not run on CUDA .'cuda'.: use cpu, openvino:GPU or openvino:NPU"):
        OpenVinoBackend(edge_export, device="cuda")
    with pytest.raises(LtsError, match="not an lts_ros ONNX export"):
        OpenVinoBackend(edge_export.parent)


def test_openvino_devices_are_asked_for_by_name_and_refused_where_absent(edge_export):
    """openvino:GPU / openvino:NPU (an Intel GPU or NPU) reach OpenVINO only; this machine has neither, so the
    request ends in an error naming the devices OpenVINO does see, before any export is made."""
    available = import_openvino().Core().available_devices
    for device in ("openvino:NPU", "openvino:GPU.3"):
        if device.split(":")[1] in available:
            continue
        with pytest.raises(LtsError, match=f"OpenVINO sees no {device.split(':')[1]} here .its devices: .*CPU"):
            OpenVinoBackend(edge_export, device=device)
        with pytest.raises(LtsError, match="OpenVINO sees no"):
            Segmenter.from_checkpoint(shipped_checkpoint(), backend="auto", device=device)  # auto: OpenVINO only
    for backend in ("onnxruntime", "torch"):
        with pytest.raises(LtsError, match="'openvino:GPU' is an OpenVINO device: only the openvino backend"):
            Segmenter.from_checkpoint(shipped_checkpoint(), backend=backend, device="openvino:GPU")
    with pytest.raises(LtsError, match="unknown device 'openvino:cpu'"):
        OpenVinoBackend(edge_export, device="openvino:cpu")


@pytest.mark.parametrize("text, kind", [("cpu", "cpu"), ("cuda", "cuda"), ("cuda:1", "cuda"),
                                        ("openvino:GPU", "openvino"), ("openvino:GPU.1", "openvino"),
                                        ("openvino:NPU", "openvino")])
def test_device_names_parse_and_print_back(text, kind):
    device = parse_device(text)
    assert device.kind == kind and str(device) == text and device.is_gpu == (kind == "cuda")
