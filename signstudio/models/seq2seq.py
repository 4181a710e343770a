"""A token-to-token transformer for text-to-gloss and gloss-to-text translation.

The text-to-gloss stage of sign language production (Progressive Transformers, Saunders et al.
2020, Sec. 3.1) and gloss-to-text translation (Camgoz et al. 2018; Yin & Read 2020) are the same
encoder-decoder over discrete tokens. Language attributes follow SignLLM's Prompt2LangGloss
(Fang et al. 2024, arXiv 2405.10718, Sec. 3): the sign language is a token (e.g. ``<gsg>``) that
starts the decoder when glosses are produced, and the first source token when glosses are read,
so one model can serve several sign languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from signstudio.models.layers import DecoderLayer, EncoderLayer, run_decoder, sinusoidal_positions


@dataclass
class TextTransformerConfig:
    """Hyper-parameters of :class:`TextTransformer`. Unknown keys in a YAML config are an error."""

    src_vocab_size: int = 0  # set from the data: source tokens (words or tagged glosses)
    tgt_vocab_size: int = 0  # set from the data: target tokens (incl. language tags)
    d_model: int = 256  # model width
    num_heads: int = 4  # attention heads (must divide d_model)
    encoder_layers: int = 3  # encoder depth
    decoder_layers: int = 3  # decoder depth
    ff_dim: int = 1024  # feed-forward hidden width
    dropout: float = 0.3  # dropout inside layers
    embedding_dropout: float = 0.3  # dropout on token embeddings
    tie_embeddings: bool = True  # share the decoder's embedding with its output layer
    max_output_length: int = 60  # longest output decoded, in tokens

    #: Inclusive bounds checked when a config is made (:func:`signstudio.models.registry.make_config`).
    LIMITS: ClassVar[dict] = {"src_vocab_size": (0, 10_000_000), "tgt_vocab_size": (0, 10_000_000),
                              "d_model": (1, 8192), "num_heads": (1, 128), "encoder_layers": (1, 64),
                              "decoder_layers": (1, 64), "ff_dim": (1, 65536), "dropout": (0.0, 0.95),
                              "embedding_dropout": (0.0, 0.95), "max_output_length": (1, 1000)}


class TextTransformer(nn.Module):
    """Pre-norm transformer encoder-decoder over token ids.

    Raises:
        ValueError: vocabulary sizes not set.
    """

    def __init__(self, config: TextTransformerConfig) -> None:
        super().__init__()
        c = self.config = config
        if c.src_vocab_size <= 0 or c.tgt_vocab_size <= 0:
            raise ValueError("src_vocab_size and tgt_vocab_size must be set")
        self.src_embed = nn.Embedding(c.src_vocab_size, c.d_model, padding_idx=0)
        self.tgt_embed = nn.Embedding(c.tgt_vocab_size, c.d_model, padding_idx=0)
        self.embed_dropout = nn.Dropout(c.embedding_dropout)
        self.encoder = nn.ModuleList(
            EncoderLayer(c.d_model, c.num_heads, c.ff_dim, 0, c.dropout) for _ in range(c.encoder_layers))
        self.encoder_norm = nn.LayerNorm(c.d_model)
        self.decoder = nn.ModuleList(
            DecoderLayer(c.d_model, c.num_heads, c.ff_dim, c.dropout) for _ in range(c.decoder_layers))
        self.decoder_norm = nn.LayerNorm(c.d_model)
        self.out = nn.Linear(c.d_model, c.tgt_vocab_size, bias=False)
        if c.tie_embeddings:
            self.out.weight = self.tgt_embed.weight
        nn.init.normal_(self.src_embed.weight, std=c.d_model ** -0.5)
        nn.init.normal_(self.tgt_embed.weight, std=c.d_model ** -0.5)

    def encode(self, src: torch.Tensor, lengths: torch.Tensor, return_attention: bool = False):
        """Encode source tokens.

        Args:
            src: ``(B, S)`` token ids, padded with 0.
            lengths: ``(B,)`` real tokens per sentence.
            return_attention: also return encoder self-attention ``(B, H, S, S)`` per layer.

        Returns:
            ``memory`` ``(B, S, D)``, ``mask`` ``(B, S)`` (True on real tokens)[, attention list].
        """
        s = src.shape[1]
        mask = torch.arange(s, device=src.device)[None, :] < lengths[:, None]
        x = self.src_embed(src) * (self.config.d_model ** 0.5)
        x = self.embed_dropout(x + sinusoidal_positions(s, self.config.d_model, src.device))
        attn = []
        for layer in self.encoder:
            x, w = layer(x, mask)
            attn.append(w)
        x = self.encoder_norm(x)
        return (x, mask, attn) if return_attention else (x, mask)

    def decode_step(self, tokens: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor,
                    return_attention: bool = False):
        """Next-token log-probabilities for every prefix position.

        Args:
            tokens: ``(B, U)`` target prefix starting with ``<s>`` or a language tag.
            memory: ``(B, S, D)``; memory_mask: ``(B, S)``.

        Returns:
            ``(B, U, tgt_vocab_size)`` log-probabilities and, if asked, lists of decoder
            self-attention ``(B, H, U, U)`` and cross-attention ``(B, H, U, S)`` per layer.
        """
        u = tokens.shape[1]
        y = self.tgt_embed(tokens) * (self.config.d_model ** 0.5)
        y = self.embed_dropout(y + sinusoidal_positions(u, self.config.d_model, tokens.device))
        logp, self_w, cross_w = run_decoder(self.decoder, self.decoder_norm, self.out, y, memory, memory_mask)
        return (logp, self_w, cross_w) if return_attention else logp

    def forward(self, src: torch.Tensor, lengths: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher-forced pass: ``(B, S)``, ``(B,)``, ``(B, U)`` -> ``(B, U, V)`` log-probabilities."""
        memory, mask = self.encode(src, lengths)
        return self.decode_step(tokens, memory, mask)
