"""SignAttention's analyses over a whole dataset split: do the paper's findings hold for a model?

``signstudio attention --split test -m MODEL [--forced]`` runs :func:`study_split`: one
attention record per example of the split the model was trained on (decoded, or forced to the
reference with ``forced``), aggregated by :func:`signstudio.interpret.analysis.summarize_many`.
The three findings of Dal Bianco et al. 2024 (arXiv 2410.14506, Sec. 5) read off the result:

1. cross-attention concentrates on *clusters* of frames (``cluster_frames_mean`` > 1,
   ``single_frame_cluster_fraction`` low);
2. frames and output tokens align *diagonally* (``diagonal_score`` well above ``diagonal_baseline``,
   the same score with each record's token order shuffled);
3. the decoder leans on the video first and on its previous tokens later
   (``cross_share_by_step`` falling, ``cross_share_pooled_slope`` < 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from signstudio.errors import InputError, ModelError
from signstudio.interpret.analysis import diagonal_score, summarize_many
from signstudio.interpret.record import record_attention
from signstudio.tasks import NullTask, TaskHandle, check_cancelled


def _examples(loaded, split: str) -> list[tuple[str, Any, list[str]]]:
    """``(id, model input, reference tokens)`` of ``split`` of the model's own dataset."""
    if loaded.model_type == "text-transformer":
        from signstudio.runtime.text import model_text_splits

        pairs = model_text_splits(loaded)
        if split not in pairs:
            raise InputError(f"unknown split {split!r}; known: {', '.join(pairs)}")
        return [(p.id, p.source, p.target) for p in pairs[split]]
    if loaded.model_type == "signformer":
        from signstudio.data.batching import example_features
        from signstudio.runtime.evaluate import sign_splits

        splits = sign_splits(loaded)
        if split not in splits:
            raise InputError(f"unknown split {split!r}; known: {', '.join(splits)}")
        return [(e.id, example_features(e), list(e.text)) for e in splits[split]]
    raise ModelError(f"model {loaded.name!r} is a {loaded.model_type} model: it has no encoder-decoder attention")


def study_split(loaded, split: str = "test", forced: bool = False, layer: int = -1, seed: int = 0,
                task: TaskHandle | None = None) -> dict[str, Any]:
    """Record and analyse a model's attention on every example of one split.

    Args:
        loaded: a :class:`~signstudio.runtime.checkpoint.LoadedModel` (Signformer with a
            decoder, or a text transformer).
        split: ``"train"``, ``"dev"`` or ``"test"`` of the dataset the model was trained on.
        forced: decode the reference instead of the model's own output (the paper analyses the
            model's predictions; forcing shows the attention on correct glosses).
        layer: decoder layer for the clusters. seed: for the shuffled-order baseline.

    Returns:
        :func:`summarize_many`'s dict plus ``"model", "split", "forced"`` and
        ``"diagonal_baseline"`` (per layer: mean diagonal score after shuffling each record's
        token rows; what "no alignment" scores).

    Raises:
        ModelError: a model without encoder-decoder attention. InputError: unknown split or
        missing data. Cancelled: the task was cancelled.
    """
    task = task or NullTask()
    examples = _examples(loaded, split)
    task.set_total(len(examples), unit="example")
    records = []
    for ex_id, inputs, reference in examples:
        check_cancelled(task)
        records.append(record_attention(loaded, inputs, reference if forced else None, ex_id))
        task.advance()
    out = summarize_many(records, layer=layer)
    rng = np.random.default_rng(seed)
    baseline = []
    for li in range(len(records[0].cross) if records else 0):
        scores = []
        for r in records:
            c = r.cross[li][:, : max(1, r.num_steps - 1)]  # drop the </s> step, as summarize does
            if c.shape[1] > 1:
                s = diagonal_score(c[:, rng.permutation(c.shape[1])])
                if np.isfinite(s):
                    scores.append(s)
        baseline.append(round(float(np.mean(scores)), 4) if scores else None)
    return {"model": loaded.name, "split": split, "forced": forced, **out, "diagonal_baseline": baseline}
