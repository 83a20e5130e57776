"""torch, ONNX Runtime and OpenVINO backends agree on a trained tiny checkpoint; the auto backend rule."""
import logging

import numpy as np
import onnxruntime as ort
import pytest
import torch

from lts_ros.data.refer import ReferDataset
from lts_ros.errors import LtsError
from lts_ros.data.transforms import Letterbox
from lts_ros.runtime import Segmenter
from lts_ros.runtime.preprocess import prepare_image
from lts_ros.train import train, train_options


@pytest.fixture(scope="module")
def checkpoint(refer_root, tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # share the CPU politely
    yield train(train_options(refer_root, config="tiny", out=tmp_path_factory.mktemp("lts") / "run", steps=60,
                              batch_size=8, lr=3e-3, warmup=10, workers=0, quiet=True))
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def segmenters(checkpoint):
    return Segmenter.from_checkpoint(checkpoint, "torch"), Segmenter.from_checkpoint(checkpoint, "onnxruntime", threads=1)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return 1.0 if union == 0 else (a & b).sum() / union


def cases(refer_root):
    samples = [ReferDataset(refer_root, "refcoco", "train")[i] for i in range(0, 8, 2)]
    noise = np.random.default_rng(0).integers(0, 256, (120, 200, 3), dtype=np.uint8)
    return [(s.image, s.text) for s in samples] + [(noise, "the blue square")]


def test_auto_picks_openvino_on_x86_and_caches_the_export_beside_the_checkpoint(segmenters, checkpoint):
    torch_seg, ort_seg = segmenters
    assert (torch_seg.backend.name, ort_seg.backend.name) == ("torch", "onnxruntime")
    export_dir = checkpoint.with_name(f"{checkpoint.stem}-onnx")
    stamp = (export_dir / "model.json").stat().st_mtime_ns
    assert Segmenter.from_checkpoint(checkpoint, threads=1).backend.name == "openvino"  # auto, on this x86 CPU
    assert (export_dir / "model.json").stat().st_mtime_ns == stamp  # reused, not re-exported


def test_openvino_agrees_with_onnxruntime_on_the_bigru_checkpoint(segmenters, checkpoint, refer_root):
    _, ort_seg = segmenters
    openvino = Segmenter.from_checkpoint(checkpoint, "openvino", threads=1)
    for rgb, text in cases(refer_root):
        for segmenter in (openvino, ort_seg):
            segmenter.set_command(text)
        assert iou(openvino.segment(rgb).mask, ort_seg.segment(rgb).mask) >= 0.99, text


def test_backends_agree(segmenters, refer_root):
    torch_seg, ort_seg = segmenters
    found = 0
    for rgb, text in cases(refer_root):
        image, _ = prepare_image(rgb, torch_seg.input_size)
        ids, attention = (t.numpy() for t in torch_seg.tokenizer([text]))
        torch_text = torch_seg.backend.encode_text(ids, attention)
        ort_text = ort_seg.backend.encode_text(ids, attention)
        assert max(np.abs(torch_text[k] - ort_text[k]).max() for k in torch_text) <= 1e-4
        torch_logits = torch_seg.backend.segment(image, torch_text).mask_logits
        ort_logits = ort_seg.backend.segment(image, ort_text).mask_logits
        assert np.abs(torch_logits - ort_logits).max() <= 1e-3, text
        torch_seg.set_command(text)
        ort_seg.set_command(text)
        a, b = torch_seg.segment(rgb), ort_seg.segment(rgb)
        assert iou(a.mask, b.mask) >= 0.99 and abs(a.score - b.score) <= 1e-3, text
        found += bool(a.mask.any())
    assert found >= 3  # the comparison is not between empty masks


def test_torch_segmenter_matches_the_reference_prediction(segmenters, refer_root):
    torch_seg, _ = segmenters
    rgb, text = cases(refer_root)[0]
    torch_seg.set_command(text)
    model = torch_seg.backend.model  # reference: the model called directly, as evaluation does
    box = Letterbox.fit(*rgb.shape[:2], model.cfg.input_size)
    image = torch.from_numpy(box.apply(rgb)).permute(2, 0, 1)[None].float() / 255.0
    with torch.no_grad():
        outputs = model(image, *model.tokenize([text]))
    expected = box.invert(outputs.mask_logits[0, 0].numpy()) > 0
    inference = torch_seg.infer(rgb)  # the Segmenter's own preprocessing, before the answer is decided
    assert iou(inference.box.invert(inference.mask_logits) > 0, expected) >= 0.99
    assert inference.presence_logit == pytest.approx(float(outputs.presence_logits[0, 0]), abs=1e-4)
    assert inference.several_logit == pytest.approx(float(outputs.several_logits[0, 0]), abs=1e-4)


def test_auto_falls_back_to_torch_when_the_export_cannot_be_written(checkpoint, tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with caplog.at_level(logging.WARNING, logger="lts_ros.runtime.segmenter"):
        segmenter = Segmenter.from_checkpoint(checkpoint, onnx_dir=blocker / "onnx")
    assert segmenter.backend.name == "torch" and "cannot write the ONNX export" in caplog.text
    assert "backend onnxruntime cannot run" in caplog.text
    with pytest.raises(LtsError, match="cannot write the ONNX export"):
        Segmenter.from_checkpoint(checkpoint, "onnxruntime", onnx_dir=blocker / "onnx")


@pytest.mark.skipif("CUDAExecutionProvider" in ort.get_available_providers(), reason="CUDA EP present")
def test_onnxruntime_on_cuda_without_the_cuda_provider_is_an_error(checkpoint):
    with pytest.raises(LtsError, match="onnxruntime-gpu"):
        Segmenter.from_checkpoint(checkpoint, "onnxruntime", device="cuda")
