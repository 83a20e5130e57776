import pytest
import yaml

from lts_ros.config import available_configs, config_from_dict, load_config
from lts_ros.errors import LtsError


def test_shipped_configs_load():
    assert {"edge", "paper", "tiny"} <= set(available_configs())
    paper, edge = load_config("paper"), load_config("edge")
    assert (paper.vision.backbone, paper.text.encoder, paper.input_size) == ("darknet53", "bigru", 416)
    assert (edge.vision.backbone, edge.text.encoder, edge.input_size) == ("efficientnet_lite0", "minilm", 320)


def test_roundtrip_through_yaml():
    cfg = load_config("edge")
    assert config_from_dict(yaml.safe_load(cfg.to_yaml())) == cfg


@pytest.mark.parametrize("data, fragment", [
    ({"fusion": {"dimm": 64}}, "unknown key 'fusion.dimm'"),
    ({"inputsize": 320}, "unknown key 'inputsize'"),
    ({"input_size": 300}, "'input_size' must be a multiple of 32"),
    ({"input_size": "320"}, "'input_size' must be int"),
    ({"vision": {"backbone": "resnet"}}, "'vision.backbone' must be one of"),
    ({"locate": {"kind": "magic"}}, "'locate.kind' must be one of"),
    ({"segment": {"aspp_rates": [6, "x"]}}, "'segment.aspp_rates[1]' must be int"),
    ({"fusion": 3}, "'fusion' must be a mapping"),
    ({"fusion": {"dim": 64}, "locate": {"heads": 5}}, "'locate.heads' must divide"),
    ({"text": {"encoder": "bigru", "adapter_layers": 1}}, "'text.adapter_layers' needs 'text.encoder: minilm'"),
    ({"text": {"encoder": "minilm", "adapter_layers": -1}}, "'text.adapter_layers' must be >= 0"),
    ({"locate": {"rank_context": -2}}, "'locate.rank_context' must be >= 0"),
    ({"locate": {"kind": "transformer", "rank_context": 4}}, "'locate.rank_context' needs a filter kind"),
])
def test_bad_values_name_the_key(data, fragment):
    with pytest.raises(LtsError) as info:
        config_from_dict(data, "my.yaml")
    assert fragment in str(info.value) and "my.yaml" in str(info.value)


def test_unknown_name_and_missing_file(tmp_path):
    with pytest.raises(LtsError, match="unknown model config 'nope'.*edge"):
        load_config("nope")
    with pytest.raises(LtsError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("fusion: [unclosed\n")
    with pytest.raises(LtsError, match="invalid YAML"):
        load_config(bad)


def test_overrides_are_applied_and_validated():
    cfg = load_config("edge", ["vision.frozen_stages=3", "segment.aspp_rates=[2, 4]", "name=robot"])
    assert (cfg.vision.frozen_stages, cfg.segment.aspp_rates, cfg.name) == (3, [2, 4], "robot")
    with pytest.raises(LtsError, match="unknown key 'vision.frozen'"):
        load_config("edge", ["vision.frozen=3"])
    with pytest.raises(LtsError, match="must look like section.key=value"):
        load_config("edge", ["vision.frozen_stages"])
