"""The LTS model: vision + text encoders, fusion, locate and segment, with a deployment seam.

``encode_text`` runs once per command; ``segment`` runs per frame on the cached TextFeatures.
Both are tensor-in/tensor-out without data-dependent Python control flow, so each exports to ONNX.
"""
from __future__ import annotations

import torch
from torch import nn

from lts_ros.config import ModelConfig
from lts_ros.model.backbones import build_backbone
from lts_ros.model.fusion import Fusion
from lts_ros.model.locate import build_locate
from lts_ros.model.outputs import SegmentOutputs
from lts_ros.model.presence import PresenceHead
from lts_ros.model.segment import SegmentHead
from lts_ros.model.text import TextFeatures, build_text

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class LTS(nn.Module):
    def __init__(self, cfg: ModelConfig, vocab: list[str] | None = None):
        super().__init__()
        self.cfg = cfg
        self.vocab = vocab
        self.vision = build_backbone(cfg.vision)
        self.text, self.tokenizer = build_text(cfg.text, vocab)
        self.fusion = Fusion(cfg.fusion, self.vision.out_channels, self.text.out_dim)
        self.locate = build_locate(cfg.locate, cfg.fusion.dim, self.text.out_dim)
        self.segment_head = SegmentHead(cfg.segment, cfg.fusion.dim)
        self.presence = PresenceHead(cfg.fusion.dim, self.text.out_dim)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def tokenize(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Expressions -> (token_ids, attention_mask), padded to ``text.max_tokens``."""
        return self.tokenizer(texts)

    def encode_text(self, token_ids: torch.Tensor, attention_mask: torch.Tensor) -> TextFeatures:
        return self.text(token_ids, attention_mask)

    def segment(self, image: torch.Tensor, text: TextFeatures,
                image_index: torch.Tensor | None = None) -> SegmentOutputs:
        """``image``: (B, 3, S, S) RGB float in [0, 1], letterboxed to ``input_size``. With ``image_index`` (N,),
        the images are encoded once and expression n (of ``text``'s N) is about image ``image_index[n]``
        (training on several expressions per image)."""
        features = self.vision((image - self.mean) / self.std)
        if image_index is not None:
            features = [f.index_select(0, image_index) for f in features]
        fmap = self.fusion(features, text)
        prior_logits = self.locate(fmap, text)
        mask_logits = self.segment_head(fmap, prior_logits, image.shape[-2:])
        return SegmentOutputs(mask_logits, prior_logits, *self.presence(fmap, prior_logits, text.sentence))

    def forward(self, image: torch.Tensor, token_ids: torch.Tensor, attention_mask: torch.Tensor,
                image_index: torch.Tensor | None = None) -> SegmentOutputs:
        return self.segment(image, self.encode_text(token_ids, attention_mask), image_index)
