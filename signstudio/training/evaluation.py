"""Decoding a set of examples with a model and scoring it (WER on glosses)."""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from signstudio.data.batching import TrackExample, collate, example_features
from signstudio.decoding import beam_search, ctc_greedy_decode
from signstudio.lm import GlossLM, ctc_prefix_beam_search
from signstudio.metrics import wer
from signstudio.tasks import NullTask, TaskHandle, check_cancelled


@dataclass
class DecodingOptions:
    """How a model's outputs are searched; tuned on dev and stored in the checkpoint."""

    beam_size: int = 4  # decoder beam
    length_penalty: float = 1.0  # GNMT alpha for the decoder beam
    ctc_beam_size: int = 10  # CTC prefix beam
    lm_weight: float = 0.5  # weight of the gloss LM in CTC prefix beam search
    insertion_bonus: float = 0.5  # added per gloss in CTC prefix beam search


@torch.no_grad()
def decode_features(model, features: Sequence[np.ndarray], gloss_vocab, text_vocab,
                    options: DecodingOptions | None = None, lm: GlossLM | None = None) -> dict[str, list[list[str]]]:
    """Run a Signformer-style model on ``(T_i, F)`` feature arrays with every decoder it has.

    Returns:
        A dict of per-clip token lists: ``"ctc"`` (CTC best path) and, with an ``lm``,
        ``"ctc_lm"`` (CTC prefix beam search with the gloss LM) if the model has a CTC head;
        ``"decoder"`` (beam search) if it has a translation decoder.
    """
    options = options or DecodingOptions()
    model.eval()
    batch = collate(list(features), [[]] * len(features), [[]] * len(features))
    device = next(model.parameters()).device
    memory, mask = model.encode(batch["features"].to(device), batch["lengths"].to(device))
    out: dict[str, list[list[str]]] = {}
    if model.gloss_head is not None and gloss_vocab is not None:
        lp = model.gloss_log_probs(memory)
        out["ctc"] = [gloss_vocab.decode(s) for s in ctc_greedy_decode(lp, mask)]
        if lm is not None:
            out["ctc_lm"] = [
                ctc_prefix_beam_search(lp[i][mask[i]], gloss_vocab.itos, lm, options.lm_weight,
                                       options.insertion_bonus, options.ctc_beam_size)
                for i in range(len(features))
            ]
    if model.has_decoder and text_vocab is not None:
        ids = beam_search(model, memory, mask, model.config.max_output_length, options.beam_size,
                          options.length_penalty)
        out["decoder"] = [text_vocab.decode(s) for s in ids]
    return out


def best_glosses(decoded: dict[str, list[list[str]]]) -> list[list[str]]:
    """The model's gloss output: CTC with the LM if available, else CTC, else the decoder."""
    for key in ("ctc_lm", "ctc", "decoder"):
        if key in decoded:
            return decoded[key]
    return []


def evaluate_examples(model, examples: Sequence[TrackExample], gloss_vocab, text_vocab,
                      options: DecodingOptions | None = None, lm: GlossLM | None = None, batch_size: int = 32,
                      task: TaskHandle | None = None) -> dict[str, Any]:
    """Decode ``examples`` and score them by WER against their glosses.

    Returns:
        ``{"n", "wer", "wer_ctc", "wer_ctc_lm", "wer_decoder", "hypotheses"}``: ``wer`` scores the
        model's gloss output (:func:`best_glosses`), the others each decoder the model has;
        ``hypotheses`` lists ``{"id", "reference", "glosses"}`` per example.
    """
    task = task or NullTask()
    task.set_total(len(examples), unit="clip")
    decoded: dict[str, list[list[str]]] = {}
    for i in range(0, len(examples), batch_size):
        check_cancelled(task)
        chunk = examples[i : i + batch_size]
        part = decode_features(model, [example_features(e) for e in chunk], gloss_vocab, text_vocab, options, lm)
        for k, v in part.items():
            decoded.setdefault(k, []).extend(v)
        task.advance(len(chunk))
    refs = [list(e.glosses) for e in examples]
    out: dict[str, Any] = {"n": len(examples)}
    for key, hyps in decoded.items():
        out[f"wer_{key}"] = wer(refs, hyps)
    best = best_glosses(decoded)
    out["wer"] = wer(refs, best)
    out["hypotheses"] = [{"id": e.id, "reference": " ".join(e.glosses), "glosses": " ".join(g)}
                         for e, g in zip(examples, best)]
    return out


def tune_lm_decoding(model, examples: Sequence[TrackExample], gloss_vocab, lm: GlossLM,
                     base: DecodingOptions | None = None,
                     lm_weights: Sequence[float] = (0.0, 0.3, 0.6, 1.0, 1.5),
                     insertion_bonuses: Sequence[float] = (0.0, 0.5, 1.0, 2.0)) -> tuple[DecodingOptions, float]:
    """Grid-search the LM weight and insertion bonus on ``examples`` (a dev split, never test).

    Returns:
        The best options and their WER (ties go to the smaller LM weight, then smaller bonus).
    """
    from dataclasses import replace

    base = base or DecodingOptions()
    feats = [example_features(e) for e in examples]
    batch = collate(feats, [[]] * len(feats), [[]] * len(feats))
    with torch.no_grad():
        memory, mask = model.encode(batch["features"], batch["lengths"])
        lp = model.gloss_log_probs(memory)
    refs = [list(e.glosses) for e in examples]
    best = (float("inf"), base)
    for w in lm_weights:
        for b in insertion_bonuses:
            hyps = [ctc_prefix_beam_search(lp[i][mask[i]], gloss_vocab.itos, lm, w, b, base.ctc_beam_size)
                    for i in range(len(examples))]
            score = wer(refs, hyps)
            if score < best[0] - 1e-9:
                best = (score, replace(base, lm_weight=w, insertion_bonus=b))
    return best[1], best[0]
