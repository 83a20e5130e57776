"""The deployment seam exports to ONNX and matches torch in ONNX Runtime (tiny model, each locate variant, legacy
exporter)."""
import numpy as np
import onnxruntime as ort
import pytest
import torch

from lts_ros.config import load_config
from lts_ros.model.build import build_model
from lts_ros.model.outputs import SegmentOutputs
from lts_ros.runtime.compile.onnx_export import SegmentGraph, TextGraph
from lts_ros.model.text import WordTokenizer


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the legacy exporter is deliberate here
@pytest.mark.parametrize("locate", ["filter", "filter+rank_context", "transformer", "transformer+self_attention"])
def test_encode_text_and_segment_export_and_match(tmp_path, locate):
    cfg = load_config("tiny")
    cfg.locate.kind, _, extra = locate.partition("+")
    cfg.locate.self_attention = extra == "self_attention"
    cfg.locate.rank_context = 4 if extra == "rank_context" else 0
    torch.manual_seed(0)
    model = build_model(cfg, WordTokenizer.build(["the red mug on the left"], 12).vocab).eval()
    if cfg.locate.rank_context:  # it starts at zero: give its last layer weights, so the export has to get it right
        torch.nn.init.normal_(model.locate.rank.head[-1].weight, std=0.5)
    ids, attention = model.tokenize(["the red mug on the left"])
    image = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        text = model.encode_text(ids, attention)
        expected = model.segment(image, text)

    torch.onnx.export(TextGraph(model), (ids, attention), tmp_path / "text.onnx", dynamo=False, opset_version=17,
                      input_names=["token_ids", "attention_mask"], output_names=["words", "mask", "sentence"])
    torch.onnx.export(SegmentGraph(model), (image, *text), tmp_path / "segment.onnx", dynamo=False,
                      opset_version=17, input_names=["image", "words", "mask", "sentence"],
                      output_names=list(SegmentOutputs._fields))
    text_sess = ort.InferenceSession(str(tmp_path / "text.onnx"), providers=["CPUExecutionProvider"])
    words, mask, sentence = text_sess.run(None, {"token_ids": ids.numpy(), "attention_mask": attention.numpy()})
    assert np.abs(sentence - text.sentence.numpy()).max() < 1e-4
    seg_sess = ort.InferenceSession(str(tmp_path / "segment.onnx"), providers=["CPUExecutionProvider"])
    feeds = {"image": image.numpy(), "words": words, "mask": mask, "sentence": sentence}
    # inputs the locate variant does not read (the filter uses the sentence only) are pruned from the graph
    got = seg_sess.run(None, {i.name: feeds[i.name] for i in seg_sess.get_inputs()})
    assert [o.name for o in seg_sess.get_outputs()] == ["mask_logits", "prior_logits", "presence_logits",
                                                        "several_logits"]
    for name, value, reference in zip(SegmentOutputs._fields, got, expected):
        assert value.dtype == np.float32 and np.abs(value - reference.numpy()).max() < 1e-3, name  # TensorRT: no f64
