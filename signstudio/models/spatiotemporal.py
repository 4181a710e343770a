"""The spatio-temporal transformer of Ruiz & Martinez 2025 (arXiv 2502.02587): 2D pixel-wise
self-attention over CNN feature maps of optical-flow frames, a translation decoder, CTC + CE.

Per frame, a frozen ImageNet backbone's ``(C, 7, 7)`` map (:mod:`signstudio.models.backbones`,
computed once and cached, :mod:`signstudio.data.video_features`) goes through:

1. a 1x1 convolution to the model width ``D`` (the backbone's channels differ from the paper's
   ResNet-18: 1280 for the default EfficientNet-Lite0);
2. a **2D positional encoding** (Sec. 3.1): each of the 7x7 positions ``(i, j)`` gets a row
   encoding of ``i`` in the first ``D / 2`` channels and a column encoding of ``j`` in the other
   ``D / 2`` (sinusoidal, Vaswani et al. 2017, sec. 3.5, per axis); ``pe_2d: false`` is the
   paper's ablation without it;
3. one encoder layer of **2D pixel-wise self-attention** (Sec. 3.2): every position attends to
   every position of the same frame's map, a ``(H W) x (H W)`` attention (``spatial_heads``: 1 as
   in the paper, more as its future work), with a residual connection;
4. a **feed-forward block of two 3x3 convolutions with batch normalisation** (Sec. 3.3), residual;
5. **flattening over space** (``D x 7 x 7`` -> a linear layer -> ``D``), giving one vector per frame,
   plus a temporal sinusoidal position.

The frame vectors feed a CTC gloss head and a standard transformer **decoder** with 4 heads
(Sec. 3.4) trained by cross-entropy on the text; the loss is ``ctc_weight * CTC + ce_weight * CE``
(Sec. 3.5, weights in the config).

Shapes: ``B`` clips, ``T`` frames, ``C`` backbone channels, ``D`` model width, ``U`` text tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from signstudio.models.layers import DecoderLayer, MultiHeadAttention, run_decoder, sinusoidal_positions

#: The feature map's side (a 224x224 input through a stride-32 backbone).
GRID = 7


@dataclass
class SpatioTemporalConfig:
    """Hyper-parameters of :class:`SpatioTemporalTransformer`. Unknown keys in a YAML config are an error."""

    input_channels: int = 1280  # backbone channels C (1280 EfficientNet-Lite0, 512 ResNet-18); set from the data
    d_model: int = 128  # model width D
    spatial_heads: int = 1  # heads of the 2D pixel-wise self-attention (1 in the paper)
    pe_2d: bool = True  # add the 2D positional encoding (the paper's ablation turns it off)
    conv_channels: int = 128  # hidden channels of the 3x3 convolutional feed-forward block
    decoder_layers: int = 1  # translation decoder depth
    num_heads: int = 4  # decoder attention heads (4 in the paper)
    ff_dim: int = 256  # decoder feed-forward width
    dropout: float = 0.1  # dropout inside layers
    text_vocab_size: int = 0  # set from the data: output words
    gloss_vocab_size: int = 0  # set from the data: glosses (CTC head, index 0 the blank); 0 disables it
    max_output_length: int = 20  # longest text decoded, in tokens

    LIMITS: ClassVar[dict] = {"input_channels": (1, 100_000), "d_model": (2, 8192), "spatial_heads": (1, 64),
                              "conv_channels": (1, 8192), "decoder_layers": (1, 64), "num_heads": (1, 128),
                              "ff_dim": (1, 65536), "dropout": (0.0, 0.95), "text_vocab_size": (0, 10_000_000),
                              "gloss_vocab_size": (0, 10_000_000), "max_output_length": (1, 1000)}


def positional_encoding_2d(d_model: int, height: int = GRID, width: int = GRID, device=None) -> torch.Tensor:
    """The 2D positional encoding ``(D, H, W)`` (Ruiz & Martinez 2025, Sec. 3.1): the first ``D / 2``
    channels encode the row, the other ``D / 2`` the column, each sinusoidally.

    Raises:
        ValueError: an odd ``d_model``.
    """
    if d_model % 2:
        raise ValueError(f"the 2D positional encoding needs an even d_model, got {d_model}")
    half = d_model // 2
    rows = sinusoidal_positions(height, half, device)  # (H, D/2)
    cols = sinusoidal_positions(width, half, device)  # (W, D/2)
    return torch.cat([rows[:, None, :].expand(height, width, half), cols[None, :, :].expand(height, width, half)],
                     -1).permute(2, 0, 1)


class PixelAttentionLayer(nn.Module):
    """One encoder layer over a frame's map: 2D pixel-wise self-attention (every position to every
    position), then the feed-forward block of two 3x3 convolutions with batch normalisation; both
    residual (Ruiz & Martinez 2025, Sec. 3.2-3.3). ``(N, D, H, W)`` -> ``(N, D, H, W)`` and the
    attention ``(N, heads, H W, H W)``."""

    def __init__(self, d_model: int, heads: int, conv_channels: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, heads, dropout)
        self.ff = nn.Sequential(nn.Conv2d(d_model, conv_channels, 3, padding=1), nn.BatchNorm2d(conv_channels),
                                nn.ReLU(), nn.Conv2d(conv_channels, d_model, 3, padding=1), nn.BatchNorm2d(d_model))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, d, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2)  # (N, H W, D)
        q = self.norm(tokens)
        a, weights = self.attn(q, q)
        tokens = tokens + self.dropout(a)
        x = tokens.transpose(1, 2).reshape(n, d, h, w)
        return F.relu(x + self.dropout(self.ff(x))), weights


class SpatioTemporalTransformer(nn.Module):
    """See the module. Input: backbone maps ``(B, T, C, 7, 7)`` and ``(B,)`` frame counts.

    Raises:
        ValueError: vocabulary sizes not set, or an odd width with the 2D encoding.
    """

    def __init__(self, config: SpatioTemporalConfig) -> None:
        super().__init__()
        c = self.config = config
        if c.text_vocab_size <= 0:
            raise ValueError("text_vocab_size must be set")
        d = c.d_model
        self.project = nn.Conv2d(c.input_channels, d, 1)
        self.register_buffer("pe2d", positional_encoding_2d(d) if c.pe_2d else torch.zeros(d, GRID, GRID),
                             persistent=False)
        self.spatial = PixelAttentionLayer(d, c.spatial_heads, c.conv_channels, c.dropout)
        self.flatten = nn.Linear(d * GRID * GRID, d)
        self.frame_norm = nn.LayerNorm(d)
        self.dropout = nn.Dropout(c.dropout)
        self.gloss_head = nn.Linear(d, c.gloss_vocab_size) if c.gloss_vocab_size > 0 else None
        self.word_embed = nn.Embedding(c.text_vocab_size, d, padding_idx=0)
        self.decoder = nn.ModuleList(DecoderLayer(d, c.num_heads, c.ff_dim, c.dropout) for _ in range(c.decoder_layers))
        self.decoder_norm = nn.LayerNorm(d)
        self.text_head = nn.Linear(d, c.text_vocab_size, bias=False)
        self.text_head.weight = self.word_embed.weight
        nn.init.normal_(self.word_embed.weight, std=d ** -0.5)

    has_decoder = True

    def encode(self, maps: torch.Tensor, lengths: torch.Tensor, return_attention: bool = False):
        """Frame vectors of backbone maps.

        Args:
            maps: ``(B, T, C, 7, 7)`` float (float16 is cast).
            lengths: ``(B,)`` real frames per clip.
            return_attention: also return the 2D attention ``(B, T, heads, 49, 49)``.

        Returns:
            ``memory`` ``(B, T, D)``, ``mask`` ``(B, T)`` (True on real frames)[, attention].
        """
        b, t = maps.shape[:2]
        x = self.project(maps.flatten(0, 1).float()) + self.pe2d  # (B T, D, 7, 7)
        x, weights = self.spatial(self.dropout(x))
        frames = self.flatten(x.flatten(1)).view(b, t, -1)
        frames = self.frame_norm(frames) + sinusoidal_positions(t, self.config.d_model, maps.device)
        mask = torch.arange(t, device=maps.device)[None, :] < lengths[:, None]
        memory = self.dropout(frames) * mask[..., None]
        if return_attention:
            return memory, mask, weights.view(b, t, *weights.shape[1:])
        return memory, mask

    def gloss_log_probs(self, memory: torch.Tensor) -> torch.Tensor:
        """CTC gloss log-probabilities ``(B, T, G)`` (index 0 the blank).

        Raises:
            RuntimeError: no CTC head.
        """
        if self.gloss_head is None:
            raise RuntimeError("this model has no CTC gloss head")
        return F.log_softmax(self.gloss_head(memory), dim=-1)

    def decode_step(self, tokens: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor,
                    return_attention: bool = False):
        """Next-token log-probabilities ``(B, U, V)`` for every prefix position of ``tokens``
        ``(B, U)`` (starting with ``<s>``); with ``return_attention`` also the decoder's self- and
        cross-attention per layer."""
        u = tokens.shape[1]
        y = self.word_embed(tokens) * math.sqrt(self.config.d_model)
        y = self.dropout(y + sinusoidal_positions(u, self.config.d_model, tokens.device))
        logp, self_w, cross_w = run_decoder(self.decoder, self.decoder_norm, self.text_head, y, memory, memory_mask)
        return (logp, self_w, cross_w) if return_attention else logp

    def forward(self, maps: torch.Tensor, lengths: torch.Tensor, tokens: torch.Tensor | None = None):
        """Teacher-forced pass: ``{"mask", "gloss_log_probs" (with a CTC head), "text_log_probs"
        (with ``tokens``)}``."""
        memory, mask = self.encode(maps, lengths)
        out = {"mask": mask}
        if self.gloss_head is not None:
            out["gloss_log_probs"] = self.gloss_log_probs(memory)
        if tokens is not None:
            out["text_log_probs"] = self.decode_step(tokens, memory, mask)
        return out
