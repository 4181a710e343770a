"""ONNX graphs of a video model (the spatio-temporal transformer, Ruiz & Martinez 2025): the frozen
backbone and the model, so a runtime-only install translates a video without PyTorch.

- ``backbone``: ``images (N, 224, 224, 3)`` uint8 RGB (an RGB frame or a flow image) ->
  ``maps (N, C, 7, 7)``, the ImageNet normalisation inside;
- ``video``: ``maps (B, T, C', 7, 7)`` float32 (``C'`` = ``C`` per stream read), ``lengths (B,)``
  -> ``first_word (B, V)``: the decoder's log-probabilities of the first word after ``<s>``
  (:func:`signstudio.runtime.video.class_log_probs` keeps the class tokens).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from signstudio.data.vocabulary import Vocabulary


class _BackboneGraph(torch.nn.Module):
    def __init__(self, backbone: torch.nn.Module, name: str) -> None:
        super().__init__()
        self.backbone, self.name = backbone, name

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        from signstudio.models.backbones import normalise

        return self.backbone.features(normalise(images, self.name))


class _FirstWordGraph(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, maps: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        memory, mask = self.model.encode(maps, lengths)
        bos = torch.full((maps.shape[0], 1), Vocabulary.bos_index, dtype=torch.long, device=maps.device)
        return self.model.decode_step(bos, memory, mask)[:, 0]


def video_graphs(loaded) -> dict[str, dict[str, Any]]:
    """The ``backbone`` and ``video`` graph specs of a video model (see the module).

    Raises:
        ModelError: the backbone's weights are missing.
    """
    from signstudio.models.backbones import load_backbone

    f = loaded.features
    name = f["backbone"]
    backbone = load_backbone(name, f.get("weights") or None)
    channels = int(loaded.model.config.input_channels)

    def images(n: int) -> tuple[torch.Tensor]:
        g = torch.Generator().manual_seed(n)
        return (torch.randint(0, 256, (n, 224, 224, 3), generator=g, dtype=torch.uint8),)

    def maps(batch: int, frames: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(frames)
        lengths = torch.tensor([frames] + [max(2, frames - 3 * i) for i in range(1, batch)])
        return torch.rand(batch, frames, channels, 7, 7, generator=g) * 4, lengths

    return {"backbone": {"module": _BackboneGraph(backbone, name), "inputs": ["images"], "outputs": ["maps"],
                         "example": images(4), "checks": [images(3)], "dynamic": {"images": {0: "B"}}},
            "video": {"module": _FirstWordGraph(loaded.model), "inputs": ["maps", "lengths"], "outputs": ["first_word"],
                      "example": maps(2, 16), "checks": [maps(3, 11)],
                      "dynamic": {"maps": {0: "B", 1: "T"}, "lengths": {0: "B"}}}}


def ensure_backbone_onnx(name: str = "efficientnet-lite0", weights: str = "") -> Path:
    """The backbone's ONNX export in the cache (:func:`~signstudio.data.video_features.backbone_onnx_path`),
    written (atomically) the first time: what SpaMo's features run in onnxruntime.

    Raises:
        ModelError: the backbone's weights are missing.
    """
    from signstudio.atomic import atomic_path
    from signstudio.data.video_features import backbone_onnx_path
    from signstudio.export.onnx import _quiet_export
    from signstudio.models.backbones import load_backbone

    path = backbone_onnx_path(name, weights)
    if path.is_file():
        return path
    graph = _BackboneGraph(load_backbone(name, weights or None).eval(), name)
    example = (torch.randint(0, 256, (2, 224, 224, 3), dtype=torch.uint8),)
    spec = {"inputs": ["images"], "outputs": ["maps"], "dynamic": {"images": {0: "B"}}}
    with atomic_path(path) as tmp:
        _quiet_export(graph, example, tmp, spec)
    return path

