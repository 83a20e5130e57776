"""The filter locate's rank context: what it measures on known match maps, that it starts as no change and trains."""
import pytest
import torch

from lts_ros.config import load_config
from lts_ros.model.build import build_model
from lts_ros.model.rank_context import rank_measures
from lts_ros.model.text import WordTokenizer

TEXTS = ["the second mug from the left", "the bigger ball"]
VOCAB = WordTokenizer.build(TEXTS, 20).vocab


def three_blobs() -> torch.Tensor:
    """One match map (1, 1, 12, 30): three square objects in a row, the middle one larger."""
    matches = torch.zeros(1, 1, 12, 30)
    matches[..., 4:7, 3:6] = 1  # 3 x 3
    matches[..., 3:8, 12:17] = 1  # 5 x 5
    matches[..., 4:7, 24:27] = 1  # 3 x 3
    return matches


def test_rank_measures_say_which_object_comes_first_which_is_bigger_and_how_many():
    x_rank, y_rank, relative, count = rank_measures(three_blobs())[0]
    centers = [(5, 4), (5, 14), (5, 25)]
    ranks = [float(x_rank[c]) for c in centers]
    assert ranks[0] < 0.25 < ranks[1] < 0.75 < ranks[2]  # 9, 25, 9 cells: centers at 0.10, 0.49, 0.88
    assert abs(float(y_rank[5, 14]) - 0.5) < 0.1  # all three are centered on the same row
    sizes = [float(relative[c]) for c in centers]
    assert sizes[1] == pytest.approx(25 / 26) and sizes[0] < 0.5 and sizes[2] < 0.5  # 25 cells, 1 of floor
    assert count.min() == count.max()  # one figure per map
    assert float(count[0, 0]) == pytest.approx(43 / 26)  # all 43 cells over the largest local mass: "about two"
    faint = rank_measures(torch.full((1, 1, 12, 30), 1e-5))  # what sigmoid(-11.5) leaves everywhere
    assert faint.abs().max() < 0.01  # nothing matched: no rank, no size, no count


def test_rank_context_starts_as_no_change_and_trains():
    """Added to a model, the rank context leaves the prior exactly as it was; a training step reaches it."""
    torch.manual_seed(0)
    plain = build_model("tiny", VOCAB).eval()
    cfg = load_config("tiny")
    cfg.locate.rank_context = 4
    ranked = build_model(cfg, VOCAB).eval()
    missing = ranked.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert missing and all(k.startswith("locate.rank.") for k in missing)
    image = torch.rand(2, 3, 96, 96)
    ids, attention = plain.tokenize(TEXTS)
    with torch.no_grad():
        assert torch.equal(plain(image, ids, attention).prior_logits, ranked(image, ids, attention).prior_logits)
    ranked.train()
    ranked(image, ids, attention).prior_logits.sum().backward()
    assert ranked.locate.rank.head[-1].weight.grad.abs().sum() > 0
    assert ranked.locate.rank.matches.weight.grad is None or not ranked.locate.rank.matches.weight.grad.any()



def test_rank_context_lets_a_pixel_see_the_other_matches():
    """Changing the features at one corner changes what the rank context's head reads at the opposite corner; the
    plain filter's 1x1 kernels work pixel by pixel."""
    changes = {}
    for rank_context in (0, 4):
        cfg = load_config("tiny")
        cfg.locate.rank_context = rank_context
        torch.manual_seed(0)
        model = build_model(cfg, VOCAB).eval()
        text = model.encode_text(*model.tokenize(TEXTS[:1]))
        fmap = torch.rand(1, cfg.fusion.dim, 12, 12)
        other = fmap.clone()
        other[..., :2, :2] += 1.0
        seen = []
        head = model.locate.rank.head if rank_context else model.locate.head
        head.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
        with torch.no_grad():
            model.locate(fmap, text), model.locate(other, text)
        changes[rank_context] = (seen[0] - seen[1])[..., -3:, -3:].abs().max()
    assert changes[0] < 1e-6
    assert changes[4] > 1e-4
