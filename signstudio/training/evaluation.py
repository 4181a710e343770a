"""Tuning a sign-to-text model's CTC decoding with its gloss LM on dev (never on test)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from signstudio.data.batching import TrackExample, collate, example_features
from signstudio.lm import GlossLM, ctc_prefix_beam_search
from signstudio.metrics import wer
from signstudio.runtime.checkpoint import DecodingOptions


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
