"""A sign recogniser on body and hand landmarks: Signformer's encoder with two heads.

The encoder is Signformer's (Yang 2024, arXiv 2411.12901, Sec. 3): per-frame linear embedding,
sinusoidal positions, pre-norm layers of self-attention, the pointwise-depthwise-pointwise
convolution module and a feed-forward block. On top:

- a **classification head** for isolated signs (ISLR, e.g. WLASL): attention pooling over the
  frames (a learned query scores each frame; the softmax-weighted mean of the frames is
  classified), then ``Linear(D, num_classes)``;
- a **CTC head** for continuous signing (CSLR): ``Linear(D, num_classes + 1)`` per frame, index 0
  the blank, gloss ``c`` at index ``c + 1`` (Graves et al. 2006) — glosses come out of a stream
  without anyone marking where signs start.

Both heads share the encoder; a model may have either or both (``ctc``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from signstudio.models.layers import EncoderLayer, sinusoidal_positions


@dataclass
class RecognizerConfig:
    """Hyper-parameters of :class:`SignRecognizer`. Unknown keys in a YAML config are an error."""

    input_dim: int = 348  # features per frame (signstudio.pose.landmarks.NUM_FEATURES)
    num_classes: int = 100  # glosses (set from the data)
    d_model: int = 192  # model width
    num_heads: int = 4  # attention heads (must divide d_model)
    encoder_layers: int = 4  # encoder depth
    ff_dim: int = 384  # feed-forward hidden width
    conv_kernel: int = 7  # depthwise kernel length in frames (odd); 0 disables the convolution module
    dropout: float = 0.2  # dropout inside layers
    embedding_dropout: float = 0.1  # dropout on the frame embedding
    head_dropout: float = 0.3  # dropout before the classification head
    ctc: bool = False  # add the per-frame CTC head (continuous signing)

    LIMITS: ClassVar[dict] = {"input_dim": (1, 100_000), "num_classes": (1, 1_000_000), "d_model": (1, 8192),
                              "num_heads": (1, 128), "encoder_layers": (1, 64), "ff_dim": (1, 65536),
                              "conv_kernel": (0, 255), "dropout": (0.0, 0.95), "embedding_dropout": (0.0, 0.95),
                              "head_dropout": (0.0, 0.95)}


class SignRecognizer(nn.Module):
    """Landmark features ``(B, T, input_dim)`` -> gloss scores (see the module).

    Raises:
        ValueError: an inconsistent config (heads that do not divide the width, an even kernel).
    """

    def __init__(self, config: RecognizerConfig) -> None:
        super().__init__()
        c = self.config = config
        if c.d_model % c.num_heads:
            raise ValueError(f"d_model={c.d_model} is not divisible by num_heads={c.num_heads}")
        self.frame_embed = nn.Sequential(nn.Linear(c.input_dim, c.d_model), nn.LayerNorm(c.d_model), nn.GELU())
        self.embed_dropout = nn.Dropout(c.embedding_dropout)
        self.encoder = nn.ModuleList(EncoderLayer(c.d_model, c.num_heads, c.ff_dim, c.conv_kernel, c.dropout)
                                     for _ in range(c.encoder_layers))
        self.encoder_norm = nn.LayerNorm(c.d_model)
        self.pool_query = nn.Linear(c.d_model, 1)
        self.head_dropout = nn.Dropout(c.head_dropout)
        self.class_head = nn.Linear(c.d_model, c.num_classes)
        self.ctc_head = nn.Linear(c.d_model, c.num_classes + 1) if c.ctc else None

    def encode(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, T, F)`` features and ``(B,)`` lengths -> ``(B, T, D)`` states and the ``(B, T)`` mask
        (True on real frames)."""
        t = features.shape[1]
        mask = torch.arange(t, device=features.device)[None, :] < lengths[:, None]
        x = self.frame_embed(features) + sinusoidal_positions(t, self.config.d_model, features.device)
        x = self.embed_dropout(x) * mask[..., None]
        for layer in self.encoder:
            x, _ = layer(x, mask)
        return self.encoder_norm(x), mask

    def classify(self, memory: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Class logits ``(B, num_classes)`` by attention pooling over the real frames."""
        scores = self.pool_query(memory).squeeze(-1).masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        pooled = torch.einsum("bt,btd->bd", weights, memory)
        return self.class_head(self.head_dropout(pooled))

    def ctc_log_probs(self, memory: torch.Tensor) -> torch.Tensor:
        """CTC log-probabilities ``(B, T, num_classes + 1)``; index 0 is the blank.

        Raises:
            RuntimeError: the model has no CTC head.
        """
        if self.ctc_head is None:
            raise RuntimeError("this recogniser has no CTC head")
        return F.log_softmax(self.ctc_head(memory), dim=-1)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"logits": (B, C), "ctc_log_probs": (B, T, C + 1) if the model has a CTC head, "mask": (B, T)}``."""
        memory, mask = self.encode(features, lengths)
        out = {"logits": self.classify(memory, mask), "mask": mask}
        if self.ctc_head is not None:
            out["ctc_log_probs"] = self.ctc_log_probs(memory)
        return out
