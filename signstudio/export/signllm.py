"""The ONNX graphs of a SignLLM gloss-to-pose model (:class:`~signstudio.models.signllm.SignLLM`).

Per encoder-decoder group (MLSF: one per sign language, named by its code; Prompt2LangGloss: one,
``shared``), two graphs:

- ``encoder_<group>``: ``(glosses (B, U) int64, lengths (B,))`` -> ``(memory_mask (B, U) bool,
  cross_k, cross_v (L, B, H, U, Dh))``: the gloss encoder and the decoder's cross-attention keys
  and values of its memory;
- ``decoder_step_<group>``: one step of counter decoding (Progressive Transformers, Saunders et
  al. 2020, Sec. 3.2) with a key/value cache: ``(prev_frame (B, J * 3 + 1): the previous frame's
  joints and counter, position (1,) int64, past_k, past_v (L, B, H, P, Dh), cross_k, cross_v,
  memory_mask)`` -> ``(joints (B, J, 3), counter (B,), cross_attention (B, U): the last layer's,
  mean over heads, present_k, present_v (L, B, H, P + 1, Dh))``. At position 0 the input is the
  group's learned start vector and ``prev_frame`` is ignored.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from signstudio.models.incremental import cached_layers, cross_cache, sinusoid_at
from signstudio.models.signllm import SHARED, SignLLM

STEP_INPUTS = ["prev_frame", "position", "past_k", "past_v", "cross_k", "cross_v", "memory_mask"]
STEP_OUTPUTS = ["joints", "counter", "cross_attention", "present_k", "present_v"]


def group_key(model: SignLLM, language: str) -> str:
    """The graph-name suffix of the group serving ``language``."""
    return language if model.config.mode == "mlsf" else SHARED


class SignLLMEncoderGraph(nn.Module):
    """The gloss encoder of one group and its cross-attention keys/values (see the module)."""

    def __init__(self, model: SignLLM, language: str) -> None:
        super().__init__()
        self.model, self.language = model, language

    def forward(self, glosses: torch.Tensor, lengths: torch.Tensor):
        memory, mask = self.model.encode(glosses, lengths, self.language)
        return (mask, *cross_cache(self.model.group(self.language).decoder, memory))


class SignLLMStepGraph(nn.Module):
    """One cached counter-decoding step of one group (see the module); the arithmetic of
    :meth:`SignLLM.generate` with ``use_cache=True``."""

    def __init__(self, model: SignLLM, language: str) -> None:
        super().__init__()
        self.model, self.group = model, model.group(language)

    def forward(self, prev_frame, position, past_k, past_v, cross_k, cross_v, memory_mask):
        g, d = self.group, self.model.config.d_model
        embedded = g.frame_embed(prev_frame)
        x = torch.where(position[:, None] == 0, g.bos[None].expand_as(embedded), embedded)
        x = (x + sinusoid_at(position, d))[:, None]
        h, present_k, present_v, cross = cached_layers(g.decoder, x, past_k, past_v, cross_k, cross_v, memory_mask)
        joints, counter = self.model._heads(g, g.decoder_norm(h))
        return joints[:, 0, 0], counter[:, 0], cross.mean(1)[:, 0], present_k, present_v


def signllm_graphs(loaded) -> dict[str, dict[str, Any]]:
    """Export specs (see :mod:`signstudio.export.onnx`) of every group of a loaded SignLLM."""
    model: SignLLM = loaded.model.eval()
    c = model.config
    graphs: dict[str, dict[str, Any]] = {}
    languages = {group_key(model, lang): lang for lang in c.languages}
    for key, lang in languages.items():
        encoder = SignLLMEncoderGraph(model, lang)
        step = SignLLMStepGraph(model, lang)

        def glosses(batch: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
            g = torch.Generator().manual_seed(length)
            lengths = torch.tensor([length] + [max(1, length - 2 * i) for i in range(1, batch)])
            ids = torch.randint(4, int(c.gloss_vocab_size), (batch, length), generator=g)
            return ids * (torch.arange(length)[None] < lengths[:, None]), lengths

        def step_inputs(batch: int, length: int, past: int, encoder=encoder, step=step):
            with torch.no_grad():
                mask, cross_k, cross_v = encoder(*glosses(batch, length))
                l, _, h, _, dh = cross_k.shape
                past_k = past_v = torch.zeros(l, batch, h, 0, dh)
                frame = torch.zeros(batch, c.num_joints * 3 + 1)
                for p in range(past):
                    joints, counter, _, past_k, past_v = step(frame, torch.tensor([p]), past_k, past_v,
                                                              cross_k, cross_v, mask)
                    frame = torch.cat([joints.flatten(1), counter[:, None]], 1)
            return frame, torch.tensor([past]), past_k, past_v, cross_k, cross_v, mask

        graphs[f"encoder_{key}"] = {
            "module": encoder, "inputs": ["glosses", "lengths"], "outputs": ["memory_mask", "cross_k", "cross_v"],
            "example": glosses(2, 9), "checks": [glosses(3, 14)],
            "dynamic": {"glosses": {0: "B", 1: "T"}, "lengths": {0: "B"}}}
        graphs[f"decoder_step_{key}"] = {
            "module": step, "inputs": STEP_INPUTS, "outputs": STEP_OUTPUTS,
            "example": step_inputs(2, 9, 6), "checks": [step_inputs(3, 14, 3), step_inputs(1, 5, 0)],
            "dynamic": {"prev_frame": {0: "B"}, "past_k": {1: "B", 3: "P"}, "past_v": {1: "B", 3: "P"},
                        "cross_k": {1: "B", 3: "T"}, "cross_v": {1: "B", 3: "T"}, "memory_mask": {0: "B", 1: "T"}}}
    return graphs
