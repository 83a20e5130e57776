from lts_ros.model.build import build_model
from lts_ros.model.flops import PARTS, model_costs
from lts_ros.model.text import WordTokenizer


def test_costs_per_part_scale_with_input_area():
    model = build_model("tiny", WordTokenizer.build(["the red mug"], 12).vocab)
    small, large = model_costs(model, 128), model_costs(model, 256)
    assert set(small) == set(PARTS)
    assert all(small[p].params > 0 and small[p].gflops > 0 for p in PARTS)
    assert sum(small[p].params for p in PARTS) == sum(p.numel() for p in model.parameters())
    for part in ("vision", "fusion", "segment"):  # convolutions: FLOPs grow with pixels
        assert 3.5 < large[part].gflops / small[part].gflops < 4.5
    assert large["text"].gflops == small["text"].gflops  # text cost does not depend on the image
