"""Signformer: a tiny from-scratch sign-to-text transformer (Yang 2024, arXiv 2411.12901).

Frame features -> linear embedding + absolute sinusoidal positions (APE) -> encoder layers
(self-attention with optional contextual position encoding, CoPE; the pointwise-depthwise-
pointwise convolution module; feed-forward) -> a gloss-free translation decoder, and optionally a
CTC gloss-recognition head on the encoder (joint CTC/cross-entropy training as in Camgoz et al.
2020, which Signformer builds on).

The same class, with ``frame_embedding="conv1d"``, one encoder and one decoder layer, no
convolution module and no CTC head, is SignAttention's baseline (Dal Bianco et al. 2024,
arXiv 2410.14506, Sec. 3): a pose-to-gloss transformer whose frame embedding is a 1D convolution
over time (preset ``signattention-boston``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from signstudio.models.layers import DecoderLayer, EncoderLayer, run_decoder, sinusoidal_positions


@dataclass
class SignformerConfig:
    """Hyper-parameters of :class:`Signformer`. Unknown keys in a YAML config are an error."""

    input_dim: int = 12  # features per frame (12 for hand/nose tracks, 1024 for PHOENIX CNN features)
    d_model: int = 128  # model width
    num_heads: int = 4  # attention heads (must divide d_model)
    encoder_layers: int = 1  # encoder depth
    decoder_layers: int = 1  # decoder depth (0: no translation decoder, CTC only)
    ff_dim: int = 256  # feed-forward hidden width
    conv_kernel: int = 9  # depthwise kernel length in frames; 0 disables the convolution module
    cope_positions: int = 0  # CoPE positions in encoder self-attention; 0 disables CoPE (APE only)
    dropout: float = 0.1  # dropout inside layers
    embedding_dropout: float = 0.1  # dropout on the frame embedding
    text_vocab_size: int = 0  # set from the data: output words (translation head)
    gloss_vocab_size: int = 0  # set from the data: glosses (CTC head); 0 disables it
    tie_embeddings: bool = True  # share the decoder's word embedding with its output layer
    max_output_length: int = 40  # longest translation decoded, in tokens
    frame_embedding: str = "linear"  # "linear" (per frame) or "conv1d" (SignAttention: a 1D convolution over time)
    embed_kernel: int = 5  # conv1d frame embedding: kernel length in frames (odd)

    #: Inclusive bounds checked when a config is made (:func:`signstudio.models.registry.make_config`).
    LIMITS: ClassVar[dict] = {"input_dim": (0, 100_000), "d_model": (1, 8192), "num_heads": (1, 128),
                              "encoder_layers": (1, 64), "decoder_layers": (0, 64), "ff_dim": (1, 65536),
                              "conv_kernel": (0, 255), "cope_positions": (0, 4096), "dropout": (0.0, 0.95),
                              "embedding_dropout": (0.0, 0.95), "text_vocab_size": (0, 10_000_000),
                              "gloss_vocab_size": (0, 10_000_000), "max_output_length": (1, 1000),
                              "embed_kernel": (1, 255)}
    CHOICES: ClassVar[dict] = {"frame_embedding": ("linear", "conv1d")}


class ConvFrameEmbedding(nn.Module):
    """SignAttention's frame embedding: a 1D convolution over time, then LayerNorm and GELU.

    Maps ``(B, T, input_dim)`` features to ``(B, T, d_model)``; ``kernel`` frames are mixed
    ("same" zero padding, so ``T`` is kept). Source: Dal Bianco et al. 2024, Sec. 3.
    """

    def __init__(self, input_dim: int, d_model: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(input_dim, d_model, kernel, padding=kernel // 2)
        self.norm = nn.LayerNorm(d_model)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, input_dim)`` -> ``(B, T, d_model)``."""
        return self.act(self.norm(self.conv(x.transpose(1, 2)).transpose(1, 2)))


class Signformer(nn.Module):
    """Signformer encoder-decoder with a translation head and an optional CTC gloss head.

    Raises:
        ValueError: an inconsistent config (no head at all, bad sizes).
    """

    def __init__(self, config: SignformerConfig) -> None:
        super().__init__()
        c = self.config = config
        if c.decoder_layers > 0 and c.text_vocab_size <= 0:
            raise ValueError("text_vocab_size must be set when the model has a decoder")
        if c.decoder_layers == 0 and c.gloss_vocab_size <= 0:
            raise ValueError("a model needs a translation decoder or a CTC gloss head")
        if c.frame_embedding == "linear":
            self.frame_embed = nn.Sequential(nn.Linear(c.input_dim, c.d_model), nn.LayerNorm(c.d_model), nn.GELU())
        elif c.frame_embedding == "conv1d":
            if c.embed_kernel < 1 or c.embed_kernel % 2 == 0:
                raise ValueError(f"embed_kernel must be odd and positive, got {c.embed_kernel}")
            self.frame_embed = ConvFrameEmbedding(c.input_dim, c.d_model, c.embed_kernel)
        else:
            raise ValueError(f"frame_embedding must be 'linear' or 'conv1d', got {c.frame_embedding!r}")
        self.embed_dropout = nn.Dropout(c.embedding_dropout)
        self.encoder = nn.ModuleList(
            EncoderLayer(c.d_model, c.num_heads, c.ff_dim, c.conv_kernel, c.dropout, c.cope_positions)
            for _ in range(c.encoder_layers)
        )
        self.encoder_norm = nn.LayerNorm(c.d_model)
        self.gloss_head = nn.Linear(c.d_model, c.gloss_vocab_size) if c.gloss_vocab_size > 0 else None
        if c.decoder_layers > 0:
            self.word_embed = nn.Embedding(c.text_vocab_size, c.d_model, padding_idx=0)
            self.decoder = nn.ModuleList(
                DecoderLayer(c.d_model, c.num_heads, c.ff_dim, c.dropout) for _ in range(c.decoder_layers)
            )
            self.decoder_norm = nn.LayerNorm(c.d_model)
            self.text_head = nn.Linear(c.d_model, c.text_vocab_size, bias=False)
            if c.tie_embeddings:
                self.text_head.weight = self.word_embed.weight
        else:
            self.decoder = None

    @property
    def has_decoder(self) -> bool:
        """True if the model translates with a decoder (else it only recognises glosses by CTC)."""
        return self.decoder is not None

    def encode(self, features: torch.Tensor, lengths: torch.Tensor, return_attention: bool = False):
        """Encode frame features.

        Args:
            features: ``(B, T, input_dim)`` float.
            lengths: ``(B,)`` number of real frames per clip.
            return_attention: also return the encoder self-attention per layer.

        Returns:
            ``memory`` ``(B, T, D)``, ``mask`` ``(B, T)`` bool (True on real frames) and, if
            asked, a list of ``(B, H, T, T)`` weights, one per layer.
        """
        t = features.shape[1]
        mask = torch.arange(t, device=features.device)[None, :] < lengths[:, None]
        x = self.frame_embed(features) + sinusoidal_positions(t, self.config.d_model, features.device)
        x = self.embed_dropout(x) * mask[..., None]
        attn = []
        for layer in self.encoder:
            x, w = layer(x, mask)
            attn.append(w)
        x = self.encoder_norm(x)
        return (x, mask, attn) if return_attention else (x, mask)

    def gloss_log_probs(self, memory: torch.Tensor) -> torch.Tensor:
        """CTC gloss log-probabilities ``(B, T, gloss_vocab_size)``; index 0 is the blank.

        Raises:
            RuntimeError: the model has no CTC head.
        """
        if self.gloss_head is None:
            raise RuntimeError("this model has no CTC gloss head")
        return F.log_softmax(self.gloss_head(memory), dim=-1)

    def decode_step(self, tokens: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor,
                    return_attention: bool = False):
        """Next-token log-probabilities for every prefix position.

        Args:
            tokens: ``(B, U)`` target prefix starting with ``<s>``.
            memory: ``(B, T, D)`` encoder output; ``memory_mask`` ``(B, T)``.

        Returns:
            ``(B, U, text_vocab_size)`` log-probabilities and, if asked, lists of decoder
            self-attention ``(B, H, U, U)`` and cross-attention ``(B, H, U, T)`` per layer.
        """
        u = tokens.shape[1]
        y = self.word_embed(tokens) * (self.config.d_model ** 0.5)
        y = y + sinusoidal_positions(u, self.config.d_model, tokens.device)
        y = self.embed_dropout(y)
        logp, self_w, cross_w = run_decoder(self.decoder, self.decoder_norm, self.text_head, y, memory, memory_mask)
        return (logp, self_w, cross_w) if return_attention else logp

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, tokens: torch.Tensor | None = None):
        """Teacher-forced pass for training.

        Args:
            features: ``(B, T, input_dim)``; lengths: ``(B,)``.
            tokens: ``(B, U)`` decoder input (``<s>`` + target), or None for CTC-only models.

        Returns:
            dict with ``gloss_log_probs`` ``(B, T, G)`` (if CTC head) and ``text_log_probs``
            ``(B, U, V)`` (if decoder and tokens), and ``mask`` ``(B, T)``.
        """
        memory, mask = self.encode(features, lengths)
        out = {"mask": mask}
        if self.gloss_head is not None:
            out["gloss_log_probs"] = self.gloss_log_probs(memory)
        if self.decoder is not None and tokens is not None:
            out["text_log_probs"] = self.decode_step(tokens, memory, mask)
        return out
