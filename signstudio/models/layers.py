"""Transformer layers shared by the sign-language models.

Attention is written out (rather than ``nn.MultiheadAttention``) so that it can add contextual
position encoding and hand back per-head attention weights for the attention viewer.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def sinusoidal_positions(length: int, dim: int, device=None) -> torch.Tensor:
    """Absolute sinusoidal position encoding (Vaswani et al. 2017, sec. 3.5): ``(length, dim)``."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim, device=device)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div[: dim // 2])
    return pe


class ContextualPositionEncoding(nn.Module):
    """Contextual position encoding, CoPE (Golovneva et al. 2024, eqs. 3-5), as used by Signformer.

    A gate ``g_ij = sigmoid(q_i . k_j)`` decides whether key ``j`` counts as a step; the position
    of key ``j`` relative to query ``i`` is the sum of the gates between them,
    ``p_ij = sum_{k between j and i} g_ik``, a fractional number. Its embedding is interpolated
    between the two nearest integer embeddings and ``q_i . e[p_ij]`` is added to the attention
    logit. For bidirectional (encoder) attention, keys after the query use a second table.

    Args:
        num_positions: largest position counted (positions are clamped to ``num_positions - 1``).
        head_dim: per-head query size.
    """

    def __init__(self, num_positions: int, head_dim: int) -> None:
        super().__init__()
        self.num_positions = num_positions
        self.pos_emb = nn.Parameter(torch.randn(2, num_positions, head_dim) * 0.02)

    def forward(self, q: torch.Tensor, logits: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        """Add CoPE terms to self-attention logits.

        Args:
            q: ``(B, H, T, Dh)`` queries.
            logits: ``(B, H, T, T)`` scaled dot-product logits (query x key).
            allowed: ``(B or 1, 1, T, T)`` bool, False where attention is masked.

        Returns:
            ``(B, H, T, T)`` logits with the position terms added.
        """
        t = logits.shape[-1]
        gates = torch.sigmoid(logits) * allowed
        c = gates.cumsum(-1)  # C[i, k] = sum_{m <= k} g_im
        diag_c = c.diagonal(dim1=-2, dim2=-1)[..., None]  # C[i, i]
        diag_g = gates.diagonal(dim1=-2, dim2=-1)[..., None]  # g_ii
        after = torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1)  # key j > query i
        pos = torch.where(after, c - diag_c + diag_g, diag_c - c + gates)
        pos = pos.clamp(0, self.num_positions - 1)
        lo = pos.floor()
        w = pos - lo
        lo = lo.long()
        hi = (lo + 1).clamp(max=self.num_positions - 1)
        # Query . embedding for every integer position, per direction: (B, H, T, P) each.
        before_tab = q @ self.pos_emb[0].t()
        after_tab = q @ self.pos_emb[1].t()
        tab = torch.where(after[..., None], after_tab[..., None, :], before_tab[..., None, :])  # (B,H,T,T,P)
        e_lo = tab.gather(-1, lo[..., None]).squeeze(-1)
        e_hi = tab.gather(-1, hi[..., None]).squeeze(-1)
        return logits + (1 - w) * e_lo + w * e_hi


class MultiHeadAttention(nn.Module):
    """Multi-head scaled dot-product attention with optional CoPE and returned weights.

    Args:
        d_model: model width.
        num_heads: number of heads; must divide ``d_model``.
        dropout: dropout on the attention weights.
        cope_positions: if > 0, add :class:`ContextualPositionEncoding` with that many positions
            (self-attention only).
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, cope_positions: int = 0) -> None:
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
        self.h = num_heads
        self.dh = d_model // num_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)
        self.cope = ContextualPositionEncoding(cope_positions, self.dh) if cope_positions > 0 else None

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        key_mask: torch.Tensor | None = None,
        causal: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend from ``query`` ``(B, Tq, D)`` to ``key`` ``(B, Tk, D)`` (keys are also values).

        Args:
            key_mask: ``(B, Tk)`` bool, True for real (non-padded) keys.
            causal: forbid attending to later positions (decoder self-attention).

        Returns:
            ``(B, Tq, D)`` output and ``(B, H, Tq, Tk)`` attention weights.
        """
        b, tq, _ = query.shape
        tk = key.shape[1]
        q = self.q_proj(query).view(b, tq, self.h, self.dh).transpose(1, 2)
        k = self.k_proj(key).view(b, tk, self.h, self.dh).transpose(1, 2)
        v = self.v_proj(key).view(b, tk, self.h, self.dh).transpose(1, 2)
        logits = (q @ k.transpose(-2, -1)) / math.sqrt(self.dh)
        allowed = torch.ones(1, 1, tq, tk, dtype=torch.bool, device=query.device)
        if key_mask is not None:
            allowed = allowed & key_mask[:, None, None, :]
        if causal:
            allowed = allowed & torch.ones(tq, tk, dtype=torch.bool, device=query.device).tril(tk - tq)
        if self.cope is not None:
            logits = self.cope(q, logits, allowed)
        logits = logits.masked_fill(~allowed, float("-inf"))
        weights = torch.softmax(logits, dim=-1).nan_to_num(0.0)  # fully masked rows -> zeros
        out = (self.dropout(weights) @ v).transpose(1, 2).reshape(b, tq, -1)
        return self.out_proj(out), weights

    def transformed_values(self, key: torch.Tensor) -> torch.Tensor:
        """Per-head transformed value vectors ``f_h(x_j) = (x_j W_V + b_V)_h W_O^h``.

        The quantity of the norm-based attention analysis (Kobayashi et al. 2020, eq. 6): the
        output of :meth:`forward` for query ``i`` equals ``sum_h sum_j weights[h, i, j] f_h(x_j)``
        plus the output bias ``b_O`` (without dropout, i.e. in eval mode). Read-only: it changes
        nothing in :meth:`forward`.

        Args:
            key: ``(B, Tk, D)``, the same tensor passed as ``key`` to :meth:`forward`.

        Returns:
            ``(B, H, Tk, D)``: each head's value vector of each key, mapped to model space by that
            head's slice of the output projection.
        """
        b, tk, _ = key.shape
        v = self.v_proj(key).view(b, tk, self.h, self.dh).transpose(1, 2)  # (B, H, Tk, Dh)
        w_o = self.out_proj.weight.view(-1, self.h, self.dh).permute(1, 2, 0)  # (H, Dh, D)
        return v @ w_o[None]


class FeedForward(nn.Module):
    """Position-wise feed-forward block: Linear -> GELU -> dropout -> Linear."""

    def __init__(self, d_model: int, ff_dim: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_model, ff_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(ff_dim, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, D) -> (B, T, D)``."""
        return self.net(x)


class ConvModule(nn.Module):
    """Signformer's convolution module: pointwise -> depthwise -> pointwise 1D convolutions.

    Signformer (Yang 2024, sec. 3, "convolution module"): a pointwise convolution doubles the
    channels for a GLU gate, a depthwise convolution over time captures the local movement of a
    sign, and a second pointwise convolution mixes channels back; layer normalisation sits on both
    sides ("symmetric"). Padded frames are zeroed before the depthwise convolution so they cannot
    leak into real ones.

    Args:
        d_model: channels.
        kernel_size: depthwise kernel length in frames (odd).
        dropout: dropout on the output.
    """

    def __init__(self, d_model: int, kernel_size: int, dropout: float) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError("conv_kernel must be odd")
        self.pointwise_in = nn.Conv1d(d_model, 2 * d_model, 1)
        self.depthwise = nn.Conv1d(d_model, d_model, kernel_size, padding=kernel_size // 2, groups=d_model)
        self.norm = nn.LayerNorm(d_model)
        self.pointwise_out = nn.Conv1d(d_model, d_model, 1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, T, D) -> (B, T, D)``; ``mask`` ``(B, T)`` is True on real frames."""
        y = F.glu(self.pointwise_in(x.transpose(1, 2)), dim=1)  # (B, D, T)
        if mask is not None:
            y = y * mask[:, None, :]
        y = self.depthwise(y)
        y = F.silu(self.norm(y.transpose(1, 2))).transpose(1, 2)
        return self.dropout(self.pointwise_out(y).transpose(1, 2))


class EncoderLayer(nn.Module):
    """Pre-norm encoder layer: self-attention (+CoPE), convolution module, feed-forward."""

    def __init__(self, d_model: int, num_heads: int, ff_dim: int, conv_kernel: int, dropout: float,
                 cope_positions: int = 0) -> None:
        super().__init__()
        self.attn_norm = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, num_heads, dropout, cope_positions)
        self.conv_norm = nn.LayerNorm(d_model) if conv_kernel else None
        self.conv = ConvModule(d_model, conv_kernel, dropout) if conv_kernel else None
        self.ff_norm = nn.LayerNorm(d_model)
        self.ff = FeedForward(d_model, ff_dim, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``(B, T, D)``, ``mask`` ``(B, T)`` -> output ``(B, T, D)``, weights ``(B, H, T, T)``."""
        h = self.attn_norm(x)
        a, w = self.attn(h, h, key_mask=mask)
        x = x + self.dropout(a)
        if self.conv is not None:
            x = x + self.conv(self.conv_norm(x), mask)
        x = x + self.dropout(self.ff(self.ff_norm(x)))
        return x, w


class DecoderLayer(nn.Module):
    """Pre-norm decoder layer: causal self-attention, cross-attention to the encoder, feed-forward."""

    def __init__(self, d_model: int, num_heads: int, ff_dim: int, dropout: float) -> None:
        super().__init__()
        self.self_norm = nn.LayerNorm(d_model)
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.cross_norm = nn.LayerNorm(d_model)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.ff_norm = nn.LayerNorm(d_model)
        self.ff = FeedForward(d_model, ff_dim, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, y: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor,
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``y`` ``(B, U, D)``, ``memory`` ``(B, T, D)``, ``memory_mask`` ``(B, T)``.

        Returns output ``(B, U, D)``, self-attention ``(B, H, U, U)`` and cross-attention
        ``(B, H, U, T)`` weights.
        """
        h = self.self_norm(y)
        a, w_self = self.self_attn(h, h, causal=True)
        y = y + self.dropout(a)
        a, w_cross = self.cross_attn(self.cross_norm(y), memory, key_mask=memory_mask)
        y = y + self.dropout(a)
        y = y + self.dropout(self.ff(self.ff_norm(y)))
        return y, w_self, w_cross


def run_decoder(layers: nn.ModuleList, norm: nn.Module, head: nn.Module, y: torch.Tensor, memory: torch.Tensor,
                memory_mask: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
    """Run embedded decoder inputs through :class:`DecoderLayer` s, the final norm and the output head.

    Args:
        y: ``(B, U, D)`` embedded target prefix (positions added). memory: ``(B, T, D)``;
            memory_mask: ``(B, T)``.

    Returns:
        ``(B, U, V)`` log-probabilities, and per layer the decoder self-attention ``(B, H, U, U)``
        and cross-attention ``(B, H, U, T)`` weights.
    """
    self_w, cross_w = [], []
    for layer in layers:
        y, ws, wc = layer(y, memory, memory_mask)
        self_w.append(ws)
        cross_w.append(wc)
    return F.log_softmax(head(norm(y)), dim=-1), self_w, cross_w
