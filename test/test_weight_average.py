"""``lts average``: weight-space averaging of checkpoints of one model, through the command a user runs."""
import torch

from conftest import run_lts
from lts_ros.checkpoint import checkpoint_info, load_checkpoint, save_checkpoint
from lts_ros.model.build import build_model
from lts_ros.model.text import WordTokenizer
from test_cli import assert_one_line_error

VOCAB = WordTokenizer.build(["the red mug"], 12).vocab


def two_runs(tmp_path):
    torch.manual_seed(0)
    start = save_checkpoint(build_model("tiny", VOCAB), tmp_path / "start.safetensors")
    tuned = build_model("tiny", VOCAB)  # another initialization stands in for a fine-tune
    tuned.cfg.name = "tiny-finetuned"  # runs of one architecture may be named differently
    for key, value in tuned.state_dict().items():
        if key.endswith("num_batches_tracked"):
            value.fill_(500)  # batch-norm's step counter: a fine-tune has taken steps the start has not
    return start, save_checkpoint(tuned, tmp_path / "tuned.safetensors")


def test_the_average_is_the_weighted_mean_of_every_weight(tmp_path):
    start, tuned = two_runs(tmp_path)
    out = tmp_path / "avg.safetensors"
    result = run_lts("average", "--checkpoints", str(start), str(tuned), "--weights", "3", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    a, b, mixed = (load_checkpoint(p).state_dict() for p in (start, tuned, out))
    floats = [k for k in a if a[k].is_floating_point()]
    assert any(not torch.equal(a[k], b[k]) for k in floats)
    for key in floats:
        assert torch.allclose(mixed[key], 0.75 * a[key] + 0.25 * b[key], atol=1e-6), key
    counters = [k for k in a if k.endswith("num_batches_tracked")]
    assert counters and all(torch.equal(mixed[k], a[k]) and not torch.equal(a[k], b[k]) for k in counters)
    assert checkpoint_info(out)["averaged"] == [{"checkpoint": str(start), "weight": 0.75},
                                                {"checkpoint": str(tuned), "weight": 0.25}]


def test_only_one_model_can_be_averaged(tmp_path):
    start, _ = two_runs(tmp_path)
    other_vocab = save_checkpoint(build_model("tiny", WordTokenizer.build(["a blue ball"], 12).vocab),
                                  tmp_path / "other.safetensors")
    out = str(tmp_path / "avg.safetensors")
    assert_one_line_error(run_lts("average", "--checkpoints", str(start), str(other_vocab), "--out", out),
                          "not the same model")
    assert_one_line_error(run_lts("average", "--checkpoints", str(start), str(start), "--weights", "1",
                                  "--out", out), "one weight per checkpoint")
    assert_one_line_error(run_lts("average", "--checkpoints", str(start), str(tmp_path / "none.safetensors"),
                                  "--out", out), "checkpoint not found")
    assert not (tmp_path / "avg.safetensors").exists()
