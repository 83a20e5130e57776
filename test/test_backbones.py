import torch

from lts_ros.config import VisionConfig
from lts_ros.model.backbones import Darknet53, build_backbone, pretrained_lite0_state


def test_feature_strides_and_channels():
    for name in ("tiny", "darknet53", "efficientnet_lite0"):
        net = build_backbone(VisionConfig(backbone=name))
        feats = net(torch.rand(1, 3, 96, 128))
        assert [f.shape[-2:] for f in feats] == [(12, 16), (6, 8), (3, 4)]
        assert tuple(f.shape[1] for f in feats) == net.out_channels


def test_lite0_loads_the_imagenet_weights():
    net = build_backbone(VisionConfig(backbone="efficientnet_lite0", pretrained=True))
    state = pretrained_lite0_state()
    ours = net.state_dict()
    assert len(state) == len(ours)  # every pretrained tensor is used, none duplicated
    for key, value in state.items():
        assert torch.equal(ours[f"net.{key}"], value)


def test_frozen_stages_keep_weights_and_statistics():
    net = build_backbone(VisionConfig(backbone="tiny", frozen_stages=1))
    net.train()
    frozen = net.stages[0]
    assert not any(p.requires_grad for p in frozen.parameters())
    assert not frozen.training and net.stages[1].training
    before = [b.clone() for b in frozen.buffers()]
    net(torch.rand(2, 3, 64, 64))
    assert all(torch.equal(a, b) for a, b in zip(before, frozen.buffers()))


def test_darknet53_size():
    assert 40e6 < sum(p.numel() for p in Darknet53().parameters()) < 41e6  # Darknet-53 without its head


def test_darknet53_user_weights(tmp_path):
    import pytest
    from safetensors.torch import save_file

    from lts_ros.errors import LtsError

    source = Darknet53()
    path = tmp_path / "darknet53.safetensors"
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(path))
    loaded = build_backbone(VisionConfig(backbone="darknet53", weights=str(path)))
    assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), loaded.state_dict().values()))
    save_file({"foo": torch.zeros(1)}, str(tmp_path / "wrong.safetensors"))
    with pytest.raises(LtsError, match="do not match"):
        build_backbone(VisionConfig(backbone="darknet53", weights=str(tmp_path / "wrong.safetensors")))
    with pytest.raises(LtsError, match="not found"):
        build_backbone(VisionConfig(backbone="darknet53", weights=str(tmp_path / "none.safetensors")))
