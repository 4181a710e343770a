"""What SpaMo's LLM looked at (issue 14): the attention from each generated token to the visual
tokens, mapped back to the clip's frames, as an :class:`~signstudio.interpret.record.AttentionRecord`.

The text is generated as ``signstudio translate`` does (beam search), then one teacher-forced pass
feeds the LLM its own output with attention weights returned (eager attention). Per LLM layer:

- ``cross`` ``(H, U, T)``: a decoder-only LLM's self-attention (a seq2seq LLM's cross-attention)
  from the position that produced each output token to the visual tokens, renormalised over them
  (the rest goes to BOS and the prompt; :attr:`visual_share` keeps how much), then mapped to the
  ``T`` sampled frames by the token -> frame matrix ``A`` (:func:`token_frames`);
- ``decoder_self`` ``(H, U, U)``: among the output positions, renormalised;
- value vectors for the norm-based analysis (Kobayashi et al. 2020): ``f_h(x) = v_h(x) W_O^h`` of
  each key (the LoRA-adapted ``v`` projection, before Gemma's post-attention norm); per frame
  ``pinv(A) f``, so that the frames' weighted sum equals the visual tokens' exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from signstudio.errors import InputError, ModelError

if TYPE_CHECKING:
    import torch


def token_frames(spatial_count: int, windows: list[tuple[int, int]], picks: np.ndarray, tokens: int) -> np.ndarray:
    """``(tokens, T)``: how much of visual token ``j`` comes from sampled frame ``f``.

    The Sign Adapter (:class:`~signstudio.models.spamo.SignAdapter`) pools positions ``4j..4j+3``
    of ``[spatial frames | motion windows]`` into token ``j``; a spatial position is its sampled
    frame, a motion window spreads over the sampled frames inside it (``picks``: their video frame
    indices; the nearest one when none is inside). Rows sum to 1.
    """
    t = len(picks)
    a = np.zeros((tokens, t), dtype=np.float64)
    for j in range(tokens):
        for p in range(4 * j, 4 * j + 4):
            row = np.zeros(t)
            if p < spatial_count:
                row[min(p, t - 1)] = 1.0
            elif p - spatial_count < len(windows):
                lo, hi = windows[p - spatial_count]
                inside = (picks >= lo) & (picks < hi)
                if inside.any():
                    row[inside] = 1.0 / inside.sum()
                else:
                    row[int(np.argmin(np.abs(picks - (lo + hi) / 2)))] = 1.0
            else:
                continue
            a[j] += row
        a[j] /= max(a[j].sum(), 1e-12)
    return a


def _transformed(v: "torch.Tensor", attn, heads: int) -> np.ndarray:
    """``(H, S, D)`` transformed value vectors ``f_h(x) = v_h(x) W_O^h`` from an attention module's
    captured ``v`` output ``(S, KV*hd)`` (grouped-query: query head ``h`` reads KV head ``h*KV//H``)."""
    o = (getattr(attn, "o_proj", None) or getattr(attn, "o")).weight.detach().float()  # (D, H*hd)
    hd = o.shape[1] // heads
    kv = v.shape[-1] // hd
    return np.stack([(v[:, (h * kv // heads) * hd : (h * kv // heads + 1) * hd] @ o[:, h * hd : (h + 1) * hd].T).numpy()
                     for h in range(heads)]).astype(np.float32)


def _normalised(rows: np.ndarray) -> np.ndarray:
    return (rows / np.maximum(rows.sum(-1, keepdims=True), 1e-12)).astype(np.float32)


def record_spamo(loaded, video: str | Path, task=None):
    """Record a SpaMo model's attention on one clip (see the module).

    Raises:
        ModelError: not a SpaMo model. InputError: a ``.pose`` file or an unreadable video.
    """
    import torch

    from signstudio.data.spamo_features import motion_windows
    from signstudio.data.video_features import read_frames, sample_indices
    from signstudio.interpret.record import AttentionRecord
    from signstudio.interpret.spatial import _video_fps
    from signstudio.quiet import transformers_quiet
    from signstudio.runtime.spamo import FEATURE_KIND, SpaMoTranslator, feature_batch

    if loaded.features.get("kind") != FEATURE_KIND:
        raise ModelError(f"model {loaded.name!r} is not a SpaMo model")
    if Path(video).suffix.lower() == ".pose":
        raise InputError(f"{Path(video).name}: {loaded.name} reads video frames, not landmarks; give it the video")
    tr = SpaMoTranslator(loaded)
    if task is not None:
        task.set_status("Reading the frames and computing the features…")
    frames = read_frames(video, size=tr.featurizer.size)
    features = tr.featurizer.clip(frames)
    if task is not None:
        task.set_status("Translating and recording the LLM's attention…")
    model = loaded.model.eval()
    text = tr.generate([features])[0]
    tok = model.tokenizer
    out_ids = tok(text, add_special_tokens=False)["input_ids"] if text else []
    pairs = model.attention_modules()  # per layer (self-attention, attention over the visual tokens)
    captured: dict[tuple[int, int], torch.Tensor] = {}
    hooks = [(m.v_proj if hasattr(m, "v_proj") else m.v).register_forward_hook(
                 lambda _m, _i, out, key=(i, k): captured.__setitem__(key, out[0].detach().float()))
             for i, pair in enumerate(pairs) for k, m in enumerate(pair) if k == 0 or m is not pair[0]]
    try:
        with torch.no_grad(), transformers_quiet():
            visual, vmask = model.visual(feature_batch([features]))
            src, att = model.source(visual, vmask)
            ids = torch.tensor([out_ids + [tok.eos_token_id]])
            first = 1 if not model.seq2seq and tok.bos_token_id is not None else 0
            vis = slice(first, first + int(vmask.sum()))
            if model.seq2seq:
                res = model.llm(inputs_embeds=src, attention_mask=att, labels=ids, output_attentions=True)
                over, among, queries = res.cross_attentions, res.decoder_attentions, list(range(ids.shape[1]))
            else:
                emb = torch.cat([src, model.embed(ids[:, :-1])], 1)
                res = model.llm(inputs_embeds=emb, attention_mask=torch.ones(emb.shape[:2], dtype=torch.long),
                                output_attentions=True)
                over = among = res.attentions
                queries = list(range(src.shape[1] - 1, emb.shape[1]))
    finally:
        for h in hooks:
            h.remove()
    heads = int(over[0].shape[1])
    picks = sample_indices(len(frames), tr.settings.frames) if tr.settings.frames else np.arange(len(frames))
    windows = motion_windows(len(frames), tr.settings.motion_clip, tr.settings.motion_stride)
    a = token_frames(len(picks), windows, picks, vis.stop - vis.start)  # (tokens, T)
    a_pinv = np.linalg.pinv(a)  # (T, tokens)
    cross, decoder_self, cross_values, self_values, shares = [], [], [], [], []
    for i, (self_attn, visual_attn) in enumerate(pairs):
        w = over[i][0].float().numpy()[:, queries if not model.seq2seq else slice(None), vis]
        shares.append(float(w.sum(-1).mean()))
        cross.append((_normalised(w) @ a).astype(np.float32))
        sw = among[i][0].float().numpy()
        decoder_self.append(_normalised(sw[:, queries][:, :, queries] if not model.seq2seq else sw))
        key = (i, 1) if visual_attn is not self_attn else (i, 0)
        cross_values.append(np.einsum("ft,htd->hfd", a_pinv, _transformed(captured[key], visual_attn, heads)[:, vis])
                            .astype(np.float32))
        own = _transformed(captured[(i, 0)], self_attn, heads)
        self_values.append(own[:, queries] if not model.seq2seq else own)
    words = [tok.decode([i]) for i in out_ids] + ["</s>"]
    fps = _video_fps(video)
    thinned = fps * (len(picks) - 1) / (len(frames) - 1) if len(frames) > 1 and len(picks) > 1 else fps
    how = (f"{model.config.llm} with LoRA, beam {model.config.beams} (as translate), then one teacher-forced "
           f"pass; attention to the {vis.stop - vis.start} visual tokens ({100 * np.mean(shares):.0f}% of it "
           "on average, renormalised over them), mapped to the sampled frames")
    record = AttentionRecord(
        model=loaded.name, model_type=loaded.model_type, input=str(video), tokens=words,
        decoder_inputs=["<prompt>"] + words[:-1], encoder_self=[], decoder_self=decoder_self, cross=cross,
        decoder_self_values=self_values, cross_values=cross_values, frame_times=picks / fps, fps=thinned,
        decoding=how)
    record.validate()
    return record
