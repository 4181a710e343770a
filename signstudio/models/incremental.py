"""Incremental decoding with a key/value cache, in PyTorch, and the step decoders of the searches.

A decoder step feeds one new input per hypothesis through the :class:`~signstudio.models.layers.DecoderLayer`
stack, attending to the keys and values of the earlier steps (the *self* cache, which grows by one
position per step) and to those of the encoder memory (the *cross* cache, projected once). The
arithmetic is :class:`~signstudio.models.layers.MultiHeadAttention`'s, so a cached step gives what
the whole prefix gives, to float rounding. Caches are stacked over layers: ``(L, B, H, P, Dh)``
for ``L`` decoder layers, ``B`` hypotheses, ``H`` heads, ``P`` positions, ``Dh`` head width.

:class:`DecoderStepGraph` is the step as a module with tensor inputs only: what
:mod:`signstudio.export.onnx` exports as ``decoder_step.onnx`` and :class:`TorchCachedDecoder` runs.
:class:`TorchPrefixDecoder` is the reference without a cache. Both are
:class:`signstudio.decoding.StepDecoder` s: NumPy in, NumPy out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from signstudio.models.layers import MultiHeadAttention


def sinusoid_at(position: torch.Tensor, dim: int) -> torch.Tensor:
    """Row ``position`` of :func:`~signstudio.models.layers.sinusoidal_positions`: ``(dim,)``
    (``position`` an int64 tensor of shape ``(1,)``, so an exported graph takes it as an input)."""
    pos = position.to(torch.float32)
    div = torch.exp(torch.arange(0, dim, 2, device=position.device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    angles = pos * div  # (dim / 2,)
    return torch.stack([torch.sin(angles), torch.cos(angles)], -1).flatten()[:dim]


def project_kv(attn: MultiHeadAttention, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Keys and values ``(B, H, T, Dh)`` of ``x`` ``(B, T, D)``, as ``MultiHeadAttention`` makes them."""
    b, t, _ = x.shape
    k = attn.k_proj(x).view(b, t, attn.h, attn.dh).transpose(1, 2)
    v = attn.v_proj(x).view(b, t, attn.h, attn.dh).transpose(1, 2)
    return k, v


def attend(attn: MultiHeadAttention, query: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
           key_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``MultiHeadAttention.forward`` with precomputed keys/values (same arithmetic, no CoPE).

    ``query`` ``(B, Tq, D)``, ``k``/``v`` ``(B, H, Tk, Dh)``, ``key_mask`` ``(B, Tk)``; returns
    ``(B, Tq, D)`` and weights ``(B, H, Tq, Tk)``. Every key is visible (a cache holds only the
    past, so causality holds by construction).
    """
    b, tq, _ = query.shape
    q = attn.q_proj(query).view(b, tq, attn.h, attn.dh).transpose(1, 2)
    logits = (q @ k.transpose(-2, -1)) / math.sqrt(attn.dh)
    if key_mask is not None:
        logits = logits.masked_fill(~key_mask[:, None, None, :], float("-inf"))
    weights = torch.softmax(logits, dim=-1).nan_to_num(0.0)
    out = (attn.dropout(weights) @ v).transpose(1, 2).reshape(b, tq, -1)
    return attn.out_proj(out), weights


def cross_cache(layers: nn.ModuleList, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-attention keys and values of ``memory`` ``(B, S, D)`` for every decoder layer:
    ``(L, B, H, S, Dh)`` each.

    Raises:
        RuntimeError: a layer's attention uses CoPE (no cache for it).
    """
    ks, vs = [], []
    for layer in layers:
        if layer.self_attn.cope is not None or layer.cross_attn.cope is not None:
            raise RuntimeError("incremental decoding does not support CoPE in decoder attention")
        k, v = project_kv(layer.cross_attn, memory)
        ks.append(k)
        vs.append(v)
    return torch.stack(ks), torch.stack(vs)


def cached_layers(layers: nn.ModuleList, x: torch.Tensor, past_k: torch.Tensor, past_v: torch.Tensor,
                  cross_k: torch.Tensor, cross_v: torch.Tensor, memory_mask: torch.Tensor):
    """One step through the decoder layers (``DecoderLayer.forward`` with cached keys/values).

    Args:
        x: ``(B, 1, D)`` the step's embedded input (position added).
        past_k, past_v: ``(L, B, H, P, Dh)`` self-attention keys/values of the ``P`` earlier steps.
        cross_k, cross_v: ``(L, B, H, S, Dh)`` from :func:`cross_cache`; memory_mask ``(B, S)``.

    Returns:
        ``(hidden (B, 1, D) before the final norm, present_k, present_v (L, B, H, P + 1, Dh),
        cross-attention weights of the last layer (B, H, 1, S))``.
    """
    present_k, present_v, cross = [], [], None
    for i, layer in enumerate(layers):
        h = layer.self_norm(x)
        k, v = project_kv(layer.self_attn, h)
        k = torch.cat([past_k[i], k], dim=2)
        v = torch.cat([past_v[i], v], dim=2)
        present_k.append(k)
        present_v.append(v)
        a, _ = attend(layer.self_attn, h, k, v)
        x = x + layer.dropout(a)
        a, cross = attend(layer.cross_attn, layer.cross_norm(x), cross_k[i], cross_v[i], memory_mask)
        x = x + layer.dropout(a)
        x = x + layer.dropout(layer.ff(layer.ff_norm(x)))
    return x, torch.stack(present_k), torch.stack(present_v), cross


def decoder_parts(model: nn.Module) -> tuple[nn.Module, nn.ModuleList, nn.Module, nn.Module]:
    """``(token embedding, decoder layers, final norm, output head)`` of a
    :class:`~signstudio.models.seq2seq.TextTransformer` or a
    :class:`~signstudio.models.signformer.Signformer` with a decoder."""
    if hasattr(model, "tgt_embed"):
        return model.tgt_embed, model.decoder, model.decoder_norm, model.out
    return model.word_embed, model.decoder, model.decoder_norm, model.text_head


class DecoderStepGraph(nn.Module):
    """One cached decoder step of a token decoder, with tensor inputs only.

    ``(tokens (B,) int64, position (1,) int64, past_k, past_v (L, B, H, P, Dh), cross_k, cross_v
    (L, B, H, S, Dh), memory_mask (B, S) bool)`` -> ``(log_probs (B, V), present_k, present_v
    (L, B, H, P + 1, Dh))``. The input embedding is the model's: ``embed(token) * sqrt(D)`` plus
    the sinusoidal position ``position`` (Vaswani et al. 2017, sec. 3.5).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.embed, self.layers, self.norm, self.head = decoder_parts(model)
        self.scale = model.config.d_model ** 0.5
        self.d_model = int(model.config.d_model)

    def forward(self, tokens, position, past_k, past_v, cross_k, cross_v, memory_mask):
        x = self.embed(tokens[:, None]) * self.scale + sinusoid_at(position, self.d_model)
        h, present_k, present_v, _ = cached_layers(self.layers, x, past_k, past_v, cross_k, cross_v, memory_mask)
        return F.log_softmax(self.head(self.norm(h[:, 0])), dim=-1), present_k, present_v


class TorchPrefixDecoder:
    """The reference :class:`~signstudio.decoding.StepDecoder`: each step runs the model's
    ``decode_step`` on the whole prefix (no cache), as the models were evaluated for their cards.

    Args:
        model: a model with ``decode_step(tokens (n, U), memory, memory_mask) -> (n, U, V)``.
        memory: ``(B, S, D)`` encoder output; memory_mask ``(B, S)``.
    """

    def __init__(self, model: nn.Module, memory: torch.Tensor, memory_mask: torch.Tensor) -> None:
        self.model, self.memory, self.memory_mask = model, memory, memory_mask

    def start(self, rows: Sequence[int]):
        return np.asarray(list(rows), dtype=np.int64), np.zeros((len(rows), 0), dtype=np.int64)

    @torch.no_grad()
    def step(self, state, tokens: np.ndarray):
        rows, prefixes = state
        prefixes = np.concatenate([prefixes, np.asarray(tokens, dtype=np.int64)[:, None]], 1)
        r = torch.from_numpy(rows).to(self.memory.device)
        logp = self.model.decode_step(torch.from_numpy(prefixes).to(self.memory.device),
                                      self.memory[r], self.memory_mask[r])[:, -1]
        return logp.float().cpu().numpy(), (rows, prefixes)

    def select(self, state, keep: np.ndarray):
        rows, prefixes = state
        return rows[keep], prefixes[keep]


class TorchCachedDecoder:
    """A :class:`~signstudio.decoding.StepDecoder` with a key/value cache in PyTorch: the step
    :mod:`signstudio.export.onnx` exports (:class:`DecoderStepGraph`), run eagerly.

    Args:
        model: a TextTransformer or a Signformer with a decoder (see :func:`decoder_parts`).
        memory: ``(B, S, D)``; memory_mask ``(B, S)``.
    """

    def __init__(self, model: nn.Module, memory: torch.Tensor, memory_mask: torch.Tensor) -> None:
        self.graph = DecoderStepGraph(model).eval()
        with torch.no_grad():
            self.cross_k, self.cross_v = cross_cache(self.graph.layers, memory)
        self.memory_mask = memory_mask

    def start(self, rows: Sequence[int]):
        rows = torch.as_tensor(list(rows), dtype=torch.long, device=self.memory_mask.device)
        l, _, h, _, dh = self.cross_k.shape
        empty = self.cross_k.new_zeros(l, len(rows), h, 0, dh)
        return rows, empty, empty

    @torch.no_grad()
    def step(self, state, tokens: np.ndarray):
        rows, past_k, past_v = state
        position = torch.tensor([past_k.shape[3]], device=rows.device)
        logp, k, v = self.graph(torch.as_tensor(tokens, device=rows.device), position, past_k, past_v,
                                self.cross_k[:, rows], self.cross_v[:, rows], self.memory_mask[rows])
        return logp.float().cpu().numpy(), (rows, k, v)

    def select(self, state, keep: np.ndarray):
        rows, k, v = state
        keep = torch.as_tensor(keep, device=rows.device)
        return rows[keep], k[:, keep], v[:, keep]
