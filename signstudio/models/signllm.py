"""SignLLM: multilingual gloss-to-pose production (Fang et al. 2024, arXiv 2405.10718).

SignLLM builds on the Progressive Transformers (PT) of Saunders et al. 2020 ("Progressive
Transformers for End-to-End Sign Language Production", ECCV): a transformer encoder reads the
glosses, and an autoregressive transformer decoder produces a *continuous* pose sequence frame by
frame. This module implements, with SignStudio's own layers (:mod:`signstudio.models.layers`):

- **Gloss encoder** (PT sec. 3.1; SignLLM sec. 3, "Prompt2LangGloss"): glosses carry a language
  attribute. A sentence ``JETZT WETTER`` in German Sign Language (``gsg``) is encoded as the tokens
  ``<gsg> gsg:JETZT gsg:WETTER`` (:func:`tag_glosses`): a language tag prepended, and every gloss
  tagged, SignLLM's ``<ASL xxx>``, so that the same written gloss in two sign languages is two
  tokens. The encoder is ``embedding * sqrt(d) + sinusoidal positions -> EncoderLayer x N``.
- **Continuous pose decoder with counter decoding** (PT sec. 3.2): at step ``t`` the previous
  frame (50 joints x 3 + its counter, 151 numbers) is embedded by a linear layer (a learned
  start vector at ``t = 0``), sinusoidal positions are added, ``DecoderLayer`` x N attend to the
  previous steps and to the glosses, and two linear heads predict the frame's joints and its
  **counter** - the fraction of the sequence done once this frame is shown, ``(t + 1) / T`` - so
  the last frame's counter is exactly 1. Generation stops when the predicted counter reaches
  ``stop_threshold`` (about 1.0), capped at ``max_frames``. (The files' counter is ``t / T``, the
  fraction done *before* the frame; the model uses the shifted one so that "reaches 1" is a
  well-defined stop.)
- **Future prediction** (PT sec. 3.3, data augmentation): with ``future_prediction = k`` the
  joint head also predicts the ``k`` frames after the next one; the loss covers them, and
  generation uses the first.
- **Incremental decoding** with a key/value cache: per decoder layer, the self-attention keys and
  values of the steps so far, and the cross-attention keys and values of the glosses computed
  once. ``generate(use_cache=False)`` recomputes the whole prefix at every step (the reference);
  both give the same frames to float rounding (tested to 1e-5).
- **MLSF, the Multi-Language Switching Framework** (SignLLM sec. 3, "MLSF"): in ``mode="mlsf"``
  the model keeps one encoder-decoder group per sign language in an ``nn.ModuleDict`` keyed by the
  language code, chosen by the ``language`` argument; :meth:`SignLLM.add_language` adds a group
  (fresh, or copied from an existing one for transfer) without touching the others. In
  ``mode="prompt2langgloss"`` one shared encoder-decoder serves every language, told apart only by
  the tagged glosses.

Shapes: ``B`` batch, ``U`` gloss tokens, ``T`` frames, ``J`` joints (50), ``D`` model width.
Joint coordinates are in *skeleton units* (neck-centred, shoulder width 0.34; see
:mod:`signstudio.pose.skeletons`), at 25 frames per second for PHOENIX-2014-T.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, replace
from typing import ClassVar

import torch
from torch import nn

from signstudio.data.skeletons import language_tag, tag_glosses  # noqa: F401 - part of this module's API
from signstudio.models.incremental import attend as _attend, project_kv as _project_kv
from signstudio.models.layers import DecoderLayer, EncoderLayer, sinusoidal_positions

MODES = ("mlsf", "prompt2langgloss")
#: Key of the single group in ``prompt2langgloss`` mode.
SHARED = "shared"


@dataclass
class SignLLMConfig:
    """Hyper-parameters of :class:`SignLLM`. Unknown keys in a YAML config are an error."""

    d_model: int = 128  # model width D
    num_heads: int = 4  # attention heads (must divide d_model)
    encoder_layers: int = 2  # gloss encoder depth
    decoder_layers: int = 2  # pose decoder depth
    ff_dim: int = 256  # feed-forward hidden width
    dropout: float = 0.1  # dropout inside layers and on the embeddings
    gloss_vocab_size: int = 0  # set from the data: tagged gloss vocabulary (with <pad>, <unk>, tags)
    num_joints: int = 50  # joints J per frame (the Progressive Transformers skeleton)
    languages: tuple = ("gsg",)  # sign language codes (MLSF: one encoder-decoder group each); set from the data
    mode: str = "mlsf"  # "mlsf" (one group per language) or "prompt2langgloss" (one shared group)
    max_frames: int = 300  # longest sequence generated, in frames (12 s at 25 fps)
    future_prediction: int = 0  # extra future frames the joint head predicts (PT's future prediction)
    stop_threshold: float = 0.99  # generation stops once the predicted counter reaches this

    #: Inclusive bounds checked when a config is made (:func:`signstudio.models.registry.make_config`).
    LIMITS: ClassVar[dict] = {"d_model": (1, 8192), "num_heads": (1, 128), "encoder_layers": (1, 64),
                              "decoder_layers": (1, 64), "ff_dim": (1, 65536), "dropout": (0.0, 0.95),
                              "gloss_vocab_size": (0, 10_000_000), "num_joints": (1, 10_000),
                              "max_frames": (1, 100_000), "future_prediction": (0, 1000), "stop_threshold": (0.0, 1.0)}
    CHOICES: ClassVar[dict] = {"mode": ("mlsf", "prompt2langgloss")}


class EncoderDecoder(nn.Module):
    """One SignLLM encoder-decoder group (gloss encoder + continuous pose decoder)."""

    def __init__(self, c: SignLLMConfig) -> None:
        super().__init__()
        d, j = c.d_model, c.num_joints
        self.gloss_embed = nn.Embedding(c.gloss_vocab_size, d, padding_idx=0)
        self.encoder = nn.ModuleList(
            EncoderLayer(d, c.num_heads, c.ff_dim, 0, c.dropout) for _ in range(c.encoder_layers))
        self.encoder_norm = nn.LayerNorm(d)
        self.frame_embed = nn.Linear(j * 3 + 1, d)  # previous frame's joints + its counter
        self.bos = nn.Parameter(torch.randn(d) * 0.02)  # the decoder's input at step 0
        self.decoder = nn.ModuleList(
            DecoderLayer(d, c.num_heads, c.ff_dim, c.dropout) for _ in range(c.decoder_layers))
        self.decoder_norm = nn.LayerNorm(d)
        self.joint_head = nn.Linear(d, (1 + c.future_prediction) * j * 3)
        self.counter_head = nn.Linear(d, 1)
        self.dropout = nn.Dropout(c.dropout)


@dataclass
class Generation:
    """Output of :meth:`SignLLM.generate`.

    Attributes:
        frames: ``(B, T, J, 3)`` joints in skeleton units (rows past ``lengths[b]`` are padding).
        counter: ``(B, T)`` predicted counter (fraction of the sequence done after each frame).
        lengths: ``(B,)`` frames per sequence: up to and including the first frame whose counter
            reached ``stop_threshold``, else all ``T``.
        cross_attention: ``(B, T, U)`` last decoder layer's cross-attention to the gloss tokens,
            averaged over heads, if asked.
    """

    frames: torch.Tensor
    counter: torch.Tensor
    lengths: torch.Tensor
    cross_attention: torch.Tensor | None = None


class _Cache:
    """Per-layer key/value cache of incremental decoding.

    ``self_k[l]``, ``self_v[l]``: ``(B, H, max_frames, Dh)`` buffers filled up to the current step;
    ``cross_k[l]``, ``cross_v[l]``: ``(B, H, U, Dh)`` projections of the encoder memory, once.
    """

    def __init__(self, group: EncoderDecoder, memory: torch.Tensor, max_frames: int) -> None:
        b = memory.shape[0]
        self.self_k, self.self_v, self.cross_k, self.cross_v = [], [], [], []
        for layer in group.decoder:
            a = layer.self_attn
            if a.cope is not None or layer.cross_attn.cope is not None:
                raise RuntimeError("incremental decoding does not support CoPE in decoder attention")
            self.self_k.append(memory.new_zeros(b, a.h, max_frames, a.dh))
            self.self_v.append(memory.new_zeros(b, a.h, max_frames, a.dh))
            k, v = _project_kv(layer.cross_attn, memory)
            self.cross_k.append(k)
            self.cross_v.append(v)


def progress(lengths: torch.Tensor, t: int) -> torch.Tensor:
    """Counter targets ``(B, T)``: ``(i + 1) / length`` for frame ``i`` of a sequence, 0 on padding."""
    i = torch.arange(t, device=lengths.device, dtype=torch.float32)[None, :]
    n = lengths.to(torch.float32)[:, None].clamp(min=1)
    return torch.where(i < n, (i + 1) / n, torch.zeros_like(i))


class SignLLM(nn.Module):
    """SignLLM gloss-to-pose model (MLSF or Prompt2LangGloss) on a Progressive Transformers backbone.

    Raises:
        ValueError: an inconsistent config (unknown mode, no languages, no vocabulary).
    """

    def __init__(self, config: SignLLMConfig) -> None:
        super().__init__()
        c = config
        if c.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {c.mode!r}")
        if not c.languages or not all(isinstance(x, str) and x and "." not in x for x in c.languages):
            raise ValueError("languages must be a non-empty tuple of language codes (without dots)")
        if len(set(c.languages)) != len(c.languages):
            raise ValueError("languages must not repeat")
        if c.gloss_vocab_size <= 0:
            raise ValueError("gloss_vocab_size must be set (the tagged gloss vocabulary's size)")
        if c.num_joints <= 0 or c.max_frames <= 0 or c.future_prediction < 0:
            raise ValueError("num_joints and max_frames must be positive, future_prediction >= 0")
        self.config = replace(c, languages=tuple(c.languages))
        keys = c.languages if c.mode == "mlsf" else (SHARED,)
        self.groups = nn.ModuleDict({k: EncoderDecoder(c) for k in keys})

    # ------------------------------------------------------------------ languages (MLSF)
    def group(self, language: str) -> EncoderDecoder:
        """The encoder-decoder group that serves ``language``.

        Raises:
            ValueError: the model does not know ``language``.
        """
        if language not in self.config.languages:
            raise ValueError(f"this model does not produce {language!r}; its languages: "
                             f"{', '.join(self.config.languages)}")
        return self.groups[language if self.config.mode == "mlsf" else SHARED]

    def add_language(self, code: str, init_from: str | None = None) -> None:
        """Add sign language ``code`` (MLSF: a new encoder-decoder group; the others are untouched).

        Args:
            code: a language code, e.g. ``"ase"``.
            init_from: MLSF only: copy the weights of this language's group (transfer) instead of
                a fresh initialisation.

        The tagged glosses of the new language must be in the vocabulary: grow it first with
        :meth:`resize_gloss_vocab` if needed. In ``prompt2langgloss`` mode the language only joins
        :attr:`config.languages` (the shared group serves it through its tag tokens).

        Raises:
            ValueError: the language exists, or ``init_from`` is unknown.
        """
        if not code or "." in code:
            raise ValueError(f"invalid language code {code!r}")
        if code in self.config.languages:
            raise ValueError(f"language {code!r} already exists")
        if self.config.mode == "mlsf":
            if init_from is not None:
                group = copy.deepcopy(self.group(init_from))
            else:
                ref = next(iter(self.groups.values())).bos
                group = EncoderDecoder(self.config).to(device=ref.device, dtype=ref.dtype)
            self.groups[code] = group
        self.config = replace(self.config, languages=self.config.languages + (code,))

    def resize_gloss_vocab(self, size: int) -> None:
        """Grow every group's gloss embedding to ``size`` tokens, keeping the existing rows."""
        if size < self.config.gloss_vocab_size:
            raise ValueError("the gloss vocabulary can only grow")
        for g in self.groups.values():
            old = g.gloss_embed
            new = nn.Embedding(size, old.embedding_dim, padding_idx=0).to(old.weight.device)
            with torch.no_grad():
                new.weight[: old.num_embeddings] = old.weight
            g.gloss_embed = new
        self.config = replace(self.config, gloss_vocab_size=size)

    # ------------------------------------------------------------------ encoder
    def encode(self, glosses: torch.Tensor, lengths: torch.Tensor, language: str):
        """Encode tagged gloss tokens.

        Args:
            glosses: ``(B, U)`` token indices (``<lang>`` tag first), 0-padded.
            lengths: ``(B,)`` tokens per sentence.
            language: selects the MLSF group.

        Returns:
            ``memory`` ``(B, U, D)`` and ``mask`` ``(B, U)`` (True on real tokens).
        """
        g = self.group(language)
        u = glosses.shape[1]
        mask = torch.arange(u, device=glosses.device)[None, :] < lengths[:, None]
        x = g.gloss_embed(glosses) * math.sqrt(self.config.d_model)
        x = g.dropout(x + sinusoidal_positions(u, self.config.d_model, glosses.device)) * mask[..., None]
        for layer in g.encoder:
            x, _ = layer(x, mask)
        return g.encoder_norm(x), mask

    # ------------------------------------------------------------------ decoder
    def _decode(self, g: EncoderDecoder, x: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor):
        """Decoder over a whole prefix: ``x`` ``(B, T, D)`` -> hidden ``(B, T, D)``, cross weights of
        the last layer ``(B, H, T, U)``."""
        cross = None
        for layer in g.decoder:
            x, _, cross = layer(x, memory, mask)
        return g.decoder_norm(x), cross

    def _decode_step(self, g: EncoderDecoder, x: torch.Tensor, t: int, cache: _Cache, mask: torch.Tensor):
        """One incremental step: ``x`` ``(B, 1, D)`` at position ``t`` -> hidden ``(B, 1, D)``,
        cross weights ``(B, H, 1, U)``. Mirrors ``DecoderLayer.forward`` with cached keys/values."""
        cross = None
        for i, layer in enumerate(g.decoder):
            h = layer.self_norm(x)
            k, v = _project_kv(layer.self_attn, h)
            cache.self_k[i][:, :, t : t + 1] = k
            cache.self_v[i][:, :, t : t + 1] = v
            a, _ = _attend(layer.self_attn, h, cache.self_k[i][:, :, : t + 1], cache.self_v[i][:, :, : t + 1])
            x = x + layer.dropout(a)
            a, cross = _attend(layer.cross_attn, layer.cross_norm(x), cache.cross_k[i], cache.cross_v[i], mask)
            x = x + layer.dropout(a)
            x = x + layer.dropout(layer.ff(layer.ff_norm(x)))
        return g.decoder_norm(x), cross

    def _heads(self, g: EncoderDecoder, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Hidden ``(B, T, D)`` -> joints ``(B, T, K, J, 3)`` (K = 1 + future_prediction), counter ``(B, T)``."""
        j = self.config.num_joints
        joints = g.joint_head(h).view(*h.shape[:2], 1 + self.config.future_prediction, j, 3)
        return joints, g.counter_head(h).squeeze(-1)

    def _frame_input(self, g: EncoderDecoder, joints: torch.Tensor, counter: torch.Tensor) -> torch.Tensor:
        """Embed previous frames: joints ``(B, T, J, 3)``, counter ``(B, T)`` -> ``(B, T, D)``."""
        return g.frame_embed(torch.cat([joints.flatten(-2), counter[..., None]], dim=-1))

    def forward(self, glosses: torch.Tensor, gloss_lengths: torch.Tensor, frames: torch.Tensor,
                frame_lengths: torch.Tensor, language: str, noise_std: float = 0.0) -> dict[str, torch.Tensor]:
        """Teacher-forced pass for training.

        The decoder input at step ``t`` is the ground-truth frame ``t - 1`` (plus Gaussian noise
        of std ``noise_std`` skeleton units on its joints, PT's input augmentation against
        exposure bias) with its counter ``t / T``; a learned start vector at ``t = 0``.

        Args:
            glosses: ``(B, U)`` tagged gloss tokens; gloss_lengths: ``(B,)``.
            frames: ``(B, T, J, 3)`` target joints, 0-padded; frame_lengths: ``(B,)``.
            language: selects the MLSF group (one language per batch).

        Returns:
            dict with ``joints`` ``(B, T, J, 3)`` (next-frame prediction), ``future``
            ``(B, T, K, J, 3)`` (all K = 1 + future_prediction predicted frames), ``counter``
            ``(B, T)``, ``counter_target`` ``(B, T)`` (``(t + 1) / T``), ``mask`` ``(B, T)`` and
            ``cross_attention`` ``(B, H, T, U)`` of the last decoder layer.
        """
        g = self.group(language)
        memory, mem_mask = self.encode(glosses, gloss_lengths, language)
        b, t = frames.shape[:2]
        target_counter = progress(frame_lengths, t)
        prev = frames[:, :-1]
        if noise_std > 0:
            prev = prev + torch.randn_like(prev) * noise_std
        x = torch.cat([g.bos.expand(b, 1, -1), self._frame_input(g, prev, target_counter[:, :-1])], dim=1)
        x = g.dropout(x + sinusoidal_positions(t, self.config.d_model, frames.device))
        h, cross = self._decode(g, x, memory, mem_mask)
        future, counter = self._heads(g, h)
        mask = torch.arange(t, device=frames.device)[None, :] < frame_lengths[:, None]
        return {"joints": future[:, :, 0], "future": future, "counter": counter, "counter_target": target_counter,
                "mask": mask, "cross_attention": cross}

    @torch.no_grad()
    def generate(self, glosses: torch.Tensor, gloss_lengths: torch.Tensor, language: str,
                 max_frames: int | None = None, use_cache: bool = True, stop_on_counter: bool = True,
                 return_attention: bool = False) -> Generation:
        """Produce poses autoregressively (counter decoding), in eval mode.

        Each step feeds the previous *predicted* frame and counter back in. A sequence stops at
        the first frame whose counter reaches ``config.stop_threshold`` (unless
        ``stop_on_counter`` is False); all stop at ``max_frames``.

        Args:
            glosses: ``(B, U)`` tagged gloss tokens; gloss_lengths: ``(B,)``.
            max_frames: cap (default ``config.max_frames``).
            use_cache: incremental decoding with the key/value cache (else the whole prefix is
                recomputed every step; same result, slower).
            return_attention: also return the cross-attention per frame.

        Returns:
            A :class:`Generation`.
        """
        was_training = self.training
        self.eval()
        try:
            return self._generate(glosses, gloss_lengths, language, max_frames or self.config.max_frames,
                                  use_cache, stop_on_counter, return_attention)
        finally:
            self.train(was_training)

    def _generate(self, glosses, gloss_lengths, language, max_frames, use_cache, stop_on_counter, return_attention):
        g = self.group(language)
        memory, mem_mask = self.encode(glosses, gloss_lengths, language)
        b, d = glosses.shape[0], self.config.d_model
        pos = sinusoidal_positions(max_frames, d, glosses.device)
        cache = _Cache(g, memory, max_frames) if use_cache else None
        inputs: list[torch.Tensor] = []
        frames, counters, attn = [], [], []
        lengths = torch.full((b,), max_frames, dtype=torch.long, device=glosses.device)
        stopped = torch.zeros(b, dtype=torch.bool, device=glosses.device)
        for t in range(max_frames):
            if t == 0:
                x = g.bos.expand(b, 1, -1)
            else:
                x = self._frame_input(g, frames[-1][:, None], counters[-1][:, None])
            x = x + pos[t]
            if cache is not None:
                h, cross = self._decode_step(g, x, t, cache, mem_mask)
            else:
                inputs.append(x)
                h, cross = self._decode(g, torch.cat(inputs, dim=1), memory, mem_mask)
                h, cross = h[:, -1:], cross[:, :, -1:]
            joints, counter = self._heads(g, h)
            frames.append(joints[:, 0, 0])
            counters.append(counter[:, 0])
            if return_attention:
                attn.append(cross.mean(1)[:, 0])
            if stop_on_counter:
                now = (counter[:, 0] >= self.config.stop_threshold) & ~stopped
                lengths = torch.where(now, torch.full_like(lengths, t + 1), lengths)
                stopped |= now
                if bool(stopped.all()):
                    break
        return Generation(frames=torch.stack(frames, 1), counter=torch.stack(counters, 1), lengths=lengths,
                          cross_attention=torch.stack(attn, 1) if return_attention else None)
