"""Single-image prediction with a torch model (the runtime's Segmenter adds caching and backends)."""
from __future__ import annotations

import numpy as np
import torch

from lts_ros.data.transforms import Letterbox
from lts_ros.errors import LtsError
from lts_ros.model.lts import LTS
from lts_ros.model.text import check_expression


@torch.no_grad()
def predict_probability(model: LTS, image: np.ndarray, text: str) -> np.ndarray:
    """Probability map (H, W) float32 in [0, 1] for the object ``text`` names in ``image`` ((H, W, 3) uint8 RGB)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise LtsError(f"expected an (H, W, 3) uint8 RGB image, got {image.dtype} {image.shape}")
    ids, attention = model.tokenize([check_expression(text)])
    box = Letterbox.fit(image.shape[0], image.shape[1], model.cfg.input_size)
    tensor = torch.from_numpy(box.apply(image)).permute(2, 0, 1)[None].float() / 255.0
    device = next(model.parameters()).device
    logits, _ = model.eval()(tensor.to(device), ids.to(device), attention.to(device))
    return 1.0 / (1.0 + np.exp(-box.invert(logits[0, 0].float().cpu().numpy())))
