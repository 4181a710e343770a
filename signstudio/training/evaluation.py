"""Decoding a set of examples with a model and scoring it (WER on glosses)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from signstudio.data.batching import TrackExample, collate, example_features
from signstudio.decoding import beam_search, ctc_greedy_decode
from signstudio.metrics import wer
from signstudio.tasks import NullTask, TaskHandle, check_cancelled


@torch.no_grad()
def decode_features(model, features: Sequence[np.ndarray], gloss_vocab, text_vocab,
                    beam_size: int = 4, alpha: float = 1.0) -> tuple[list[list[str]], list[list[str]]]:
    """Run a Signformer-style model on ``(T_i, F)`` feature arrays.

    Returns:
        ``(glosses, texts)``: per clip, the CTC gloss sequence (empty lists if the model has no CTC
        head) and the decoder's beam-search tokens (empty lists if it has no decoder).
    """
    model.eval()
    batch = collate(list(features), [[]] * len(features), [[]] * len(features))
    memory, mask = model.encode(batch["features"], batch["lengths"])
    glosses: list[list[str]] = [[] for _ in features]
    texts: list[list[str]] = [[] for _ in features]
    if model.gloss_head is not None and gloss_vocab is not None:
        ids = ctc_greedy_decode(model.gloss_log_probs(memory), mask)
        glosses = [gloss_vocab.decode(s) for s in ids]
    if model.has_decoder and text_vocab is not None:
        ids = beam_search(model, memory, mask, model.config.max_output_length, beam_size, alpha)
        texts = [text_vocab.decode(s) for s in ids]
    return glosses, texts


def evaluate_examples(model, examples: Sequence[TrackExample], gloss_vocab, text_vocab,
                      beam_size: int = 4, alpha: float = 1.0, batch_size: int = 32,
                      task: TaskHandle | None = None) -> dict[str, Any]:
    """Decode ``examples`` and score them.

    Returns:
        ``{"n", "wer", "wer_ctc", "wer_decoder", "hypotheses"}``: ``wer`` is the WER of the
        model's gloss output — the CTC head when it has one, else the decoder — ``wer_ctc`` and
        ``wer_decoder`` score each head (absent if the model lacks it); ``hypotheses`` lists
        ``{"id", "reference", "glosses", "text"}`` per example.
    """
    task = task or NullTask()
    task.set_total(len(examples), unit="clip")
    all_g, all_t = [], []
    for i in range(0, len(examples), batch_size):
        check_cancelled(task)
        chunk = examples[i : i + batch_size]
        g, t = decode_features(model, [example_features(e) for e in chunk], gloss_vocab, text_vocab, beam_size, alpha)
        all_g += g
        all_t += t
        task.advance(len(chunk))
    refs = [list(e.glosses) for e in examples]
    out: dict[str, Any] = {"n": len(examples)}
    if model.gloss_head is not None:
        out["wer_ctc"] = wer(refs, all_g)
    if model.has_decoder:
        out["wer_decoder"] = wer([list(e.text) for e in examples], all_t)
    out["wer"] = out.get("wer_ctc", out.get("wer_decoder"))
    out["hypotheses"] = [
        {"id": e.id, "reference": " ".join(e.glosses), "glosses": " ".join(g), "text": " ".join(t)}
        for e, g, t in zip(examples, all_g, all_t)
    ]
    return out
