"""The LTS model: shapes, the encode_text/segment seam, gradients, and both shipped configs."""
import pytest
import torch

from lts_ros.config import load_config
from lts_ros.model.build import build_model
from lts_ros.model.losses import lts_loss
from lts_ros.model.text import WordTokenizer

TEXTS = ["the red mug on the left", "pick up the duck"]


def vocab() -> list[str]:
    return WordTokenizer.build(TEXTS, 20).vocab


def forward_backward(model, size: int):
    model.train()
    image = torch.rand(2, 3, size, size)
    ids, attention = model.tokenize(TEXTS)
    outputs = model(image, ids, attention)
    assert outputs.mask_logits.shape == (2, 1, size, size)
    assert outputs.prior_logits.shape == (2, 1, size // 8, size // 8)
    assert outputs.presence_logits.shape == outputs.several_logits.shape == (2, 1)
    gt = torch.zeros(2, 1, size, size)
    gt[0, :, size // 4: size // 2, size // 4: size // 2] = 1  # the second expression has no target
    losses = lts_loss(outputs, gt, torch.tensor([[1.0], [0.0]]), model.cfg.loss)  # the first names several
    assert losses["presence"] > 0 and losses["several"] > 0
    assert torch.isfinite(losses["total"])
    losses["total"].backward()
    return losses


@pytest.mark.parametrize("name", ["paper", "edge"])
def test_shipped_configs_forward_backward(name):
    """Both configs train end to end (at a reduced input size to keep CPU time small)."""
    model = build_model(name, vocab())
    forward_backward(model, 128)
    for part in (model.fusion, model.locate, model.segment_head, model.presence):
        grads = [p.grad for p in part.parameters()]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        assert any(g.abs().sum() > 0 for g in grads)
    if name == "edge":  # frozen MiniLM and frozen first backbone stage get no gradient
        assert all(p.grad is None for p in model.text.parameters())
        assert all(p.grad is None for p in model.vision.stages[0].parameters())
        assert any(p.grad is not None for p in model.vision.stages[-1].parameters())


def test_text_adapter_starts_as_identity_and_trains_over_a_frozen_minilm():
    """The adapter layers over a frozen MiniLM's words: at initialization the words and sentence are MiniLM's own
    (adding them to a trained model changes nothing yet); training reaches them and never MiniLM; and what the
    expression says past the pads still cannot leak in."""
    cfg = load_config("edge")
    plain = build_model(cfg).eval()
    cfg.text.adapter_layers = 1
    adapted = build_model(cfg).eval()
    ids, attention = adapted.tokenize(["the second mug from the left", TEXTS[0]])
    with torch.no_grad():
        before, after = plain.encode_text(ids, attention), adapted.encode_text(ids, attention)
    assert torch.equal(before.words, after.words) and torch.equal(before.sentence, after.sentence)
    forward_backward(adapted, 128)
    assert all(p.grad is None for p in adapted.text.encoder.parameters())
    layer = adapted.text.adapter[0]
    assert all(p.grad is not None for p in layer.parameters())
    # the zero-initialized outputs learn first; the layers before them follow once those are not zero
    assert all(p.grad.abs().sum() > 0 for p in (*layer.attn.out_proj.parameters(), *layer.ffn[-1].parameters()))
    with torch.no_grad():  # trained a step, the adapter changes the sentence; pads still do not
        adapted.text.adapter[0].ffn[-1].weight.normal_()
        shorter = adapted.encode_text(ids[:1, :int(attention[0].sum())], attention[:1, :int(attention[0].sum())])
        padded = adapted.encode_text(ids, attention)
    assert not torch.allclose(padded.sentence, before.sentence, atol=1e-3)
    assert torch.allclose(padded.sentence[0], shorter.sentence[0], atol=1e-5)


@pytest.mark.parametrize("kind", ["filter", "filter+rank_context", "multi_filter", "multi_filter+rank_context",
                                  "transformer", "transformer+self_attention"])
def test_locate_variants(kind):
    cfg = load_config("tiny")
    cfg.locate.kind, _, extra = kind.partition("+")
    cfg.locate.self_attention = extra == "self_attention"
    cfg.locate.rank_context = 4 if extra == "rank_context" else 0
    forward_backward(build_model(cfg, vocab()), 96)


def test_visual_self_attention_lets_a_token_see_the_others():
    """With self-attention, changing the features at one corner changes the tokens at the opposite corner that
    reach the prior head; cross-attention alone works token by token."""
    changes = {}
    for self_attention in (False, True):
        cfg = load_config("tiny")
        cfg.locate.kind, cfg.locate.self_attention = "transformer", self_attention
        torch.manual_seed(0)
        model = build_model(cfg, vocab()).eval()
        text = model.encode_text(*model.tokenize(TEXTS[:1]))
        fmap = torch.rand(1, cfg.fusion.dim, 8, 8)
        other = fmap.clone()
        other[..., :2, :2] += 1.0
        seen = []
        model.locate.head.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
        with torch.no_grad():
            model.locate(fmap, text), model.locate(other, text)
        changes[self_attention] = (seen[0] - seen[1])[..., -2:, -2:].abs().max()
    assert changes[False] < 1e-6
    assert changes[True] > 1e-3


def test_several_targets_loss_trains_the_count_not_the_locate_path():
    """The several-targets logit's gradient reaches its MLP, the sentence projection and the text, never the
    vision, fusion or locate weights; the presence logit's does."""
    model = build_model("tiny", vocab()).train()
    ids, attention = model.tokenize(TEXTS)
    outputs = model(torch.rand(2, 3, 96, 96), ids, attention)
    located = [*model.vision.parameters(), *model.fusion.parameters(), *model.locate.parameters()]
    counted = [*model.presence.several.parameters(), *model.presence.sentence.parameters(), *model.text.parameters()]
    several = torch.autograd.grad(outputs.several_logits.sum(), located + counted, allow_unused=True)
    assert all(g is None or not g.any() for g in several[:len(located)])
    assert all(g is not None and g.any() for g in several[len(located):])
    presence = torch.autograd.grad(outputs.presence_logits.sum(), located, allow_unused=True)
    assert any(g is not None and g.any() for g in presence)


def test_seam_matches_forward_and_text_changes_output():
    model = build_model("tiny", vocab()).eval()
    image = torch.rand(1, 3, 128, 128)
    ids, attention = model.tokenize(TEXTS[:1])
    with torch.no_grad():
        full = model(image, ids, attention).mask_logits
        features = model.encode_text(ids, attention)
        seam = model.segment(image, features).mask_logits
        other = model.segment(image, model.encode_text(*model.tokenize(TEXTS[1:]))).mask_logits
    assert torch.equal(full, seam)
    assert not torch.allclose(seam, other)  # the expression steers the mask


def test_padding_does_not_leak_into_sentence_feature():
    """The same expression, padded to 12 tokens or to none, in a batch with a longer one: the same features."""
    model = build_model("tiny", vocab()).eval()
    ids, attention = model.tokenize(["the duck", TEXTS[0]])
    padded = model.encode_text(ids, attention)
    assert attention[0].sum() == 2 and torch.all(padded.words[0, 2:] == 0)
    with torch.no_grad():
        alone = model.encode_text(ids[:1, :2], attention[:1, :2])
        padded = model.encode_text(ids, attention)
    assert torch.allclose(padded.words[0, :2], alone.words[0], atol=1e-6)
    assert torch.allclose(padded.sentence[0], alone.sentence[0], atol=1e-6)
    ids[0, 2:] = 5  # what sits behind the mask cannot matter either
    with torch.no_grad():
        assert torch.allclose(model.encode_text(ids, attention).sentence[0], alone.sentence[0], atol=1e-6)
