"""Evaluation metrics, computed with the field's libraries: WER (jiwer), BLEU-1..4 and chrF
(sacrebleu), ROUGE-L (rouge-score), and DTW-MJE for produced poses (fastdtw's exact DTW).

DTW-MJE (dynamic time warping mean joint error; Huang et al. 2021, "Towards Fast and High-Quality
Sign Language Production", ACM MM): produced and reference sequences differ in length and speed,
so they are aligned by DTW whose cost between two frames is the mean over joints of the Euclidean
distance between corresponding joints; the score is the accumulated cost along the optimal warping
path divided by the path's length - a mean joint error in the skeleton's units.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from signstudio.errors import InputError


def wer(references: Sequence[Sequence[str]], hypotheses: Sequence[Sequence[str]]) -> float:
    """Corpus word error rate (jiwer): (substitutions + deletions + insertions) / reference words.

    Args:
        references, hypotheses: token lists (glosses or words), one per sentence.

    Raises:
        ValueError: the lists differ in length or all references are empty.
    """
    import jiwer

    if len(references) != len(hypotheses):
        raise ValueError("references and hypotheses differ in length")
    if not any(references):
        raise ValueError("all references are empty")
    # jiwer rejects empty reference strings; BOSTON and PHOENIX have none, hypotheses may be empty.
    return float(jiwer.wer([" ".join(r) for r in references], [" ".join(h) for h in hypotheses]))


def bleu_slt(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus BLEU-4 as slt (Camgoz et al. 2020, ``signjoey/metrics.py`` ``bleu``) and the
    Progressive Transformers code that reuses it compute it: sacrebleu's ``raw_corpus_bleu`` on
    the text as given (no tokenisation, no lowercasing), "floor" smoothing with a floor of 0 and the
    effective n-gram order. 0-100.

    Beside :func:`bleu` (our headline: 13a tokenisation, exponential smoothing, lowercased) it
    shows how much of a gap to a published number is the metric.
    """
    from sacrebleu.metrics import BLEU

    metric = BLEU(tokenize="none", smooth_method="floor", smooth_value=0.0, effective_order=True, force=True)
    return float(metric.corpus_score(list(hypotheses), [list(references)]).score)


def bleu(references: Sequence[str], hypotheses: Sequence[str]) -> dict[str, float]:
    """Corpus BLEU-1..4 and chrF with sacrebleu on lowercased text (as slt/Signformer report).

    PHOENIX-2014-T text is distributed tokenised, so sacrebleu's "tokenized period" warning is
    silenced (``force=True``); the scores are unchanged.

    Returns:
        ``{"bleu1": .., "bleu2": .., "bleu3": .., "bleu4": .., "chrf": ..}`` on a 0-100 scale.
    """
    from sacrebleu.metrics import BLEU, CHRF

    refs = [[r.lower() for r in references]]
    hyps = [h.lower() for h in hypotheses]
    scores = {}
    for n in range(1, 5):
        scores[f"bleu{n}"] = float(BLEU(max_ngram_order=n, tokenize="13a", force=True).corpus_score(hyps, refs).score)
    scores["chrf"] = float(CHRF().corpus_score(hyps, refs).score)
    return scores


class _WhitespaceTokenizer:
    """rouge-score tokenizer that splits on spaces only (keeps glosses like ``loc-NORD`` whole)."""

    @staticmethod
    def tokenize(text: str) -> list[str]:
        return text.lower().split()


def rouge_l(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Sentence-averaged ROUGE-L F-score (rouge-score) on a 0-100 scale, as slt reports it.

    Tokens are the space-separated words or glosses, lowercased.

    Raises:
        ValueError: the lists differ in length or are empty.
    """
    from rouge_score.rouge_scorer import RougeScorer

    if len(references) != len(hypotheses) or not references:
        raise ValueError("references and hypotheses must be non-empty and equally long")
    scorer = RougeScorer(["rougeL"], tokenizer=_WhitespaceTokenizer())
    scores = [scorer.score(r, h)["rougeL"].fmeasure for r, h in zip(references, hypotheses)]
    return 100.0 * sum(scores) / len(scores)


def frame_costs(reference: np.ndarray, produced: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Mean-per-joint Euclidean distances between every reference and every produced frame.

    Args:
        reference: ``(T1, J, 3)``; produced: ``(T2, J, 3)`` (same units).
        mask: ``(J,)`` or ``(T1, J)`` bool, True for the reference joints to count (others are
            ignored; a frame with no joint counted costs 0).

    Returns:
        ``(T1, T2)`` costs.
    """
    ref = np.asarray(reference, dtype=np.float64)
    hyp = np.asarray(produced, dtype=np.float64)
    if ref.ndim != 3 or hyp.ndim != 3 or ref.shape[1:] != hyp.shape[1:]:
        raise InputError(f"sequences must be (T, J, 3) with the same joints, got {ref.shape} and {hyp.shape}")
    dist = np.linalg.norm(ref[:, None] - hyp[None], axis=-1)  # (T1, T2, J)
    if mask is None:
        return dist.mean(-1)
    m = np.asarray(mask, dtype=bool)
    m = np.broadcast_to(m if m.ndim == 2 else m[None], (ref.shape[0], ref.shape[1]))[:, None, :]
    count = m.sum(-1)
    return np.where(count > 0, (dist * m).sum(-1) / np.maximum(count, 1), 0.0)


def dtw_mje(reference: np.ndarray, produced: np.ndarray, mask: np.ndarray | None = None) -> float:
    """DTW-MJE between a reference and a produced pose sequence (Huang et al. 2021).

    Args:
        reference: ``(T1, J, 3)`` joints; produced: ``(T2, J, 3)``, same units (the result is in
            those units: skeleton units for the PHOENIX skeletons).
        mask: optional ``(J,)`` or ``(T1, J)`` bool of reference joints to count.

    Returns:
        Accumulated mean-joint error along the optimal DTW path / the path's length (steps).

    Raises:
        InputError: empty sequences or mismatched joints.
    """
    from fastdtw import dtw

    cost = frame_costs(reference, produced, mask)
    if cost.size == 0:
        raise InputError("DTW-MJE needs non-empty sequences")
    # fastdtw.dtw calls ``dist`` on elements of the two series: pass frame indices and look the
    # precomputed costs up, so the exact DTW runs on the mean-joint-error cost matrix.
    rows = np.arange(cost.shape[0], dtype=np.float64)[:, None]
    cols = np.arange(cost.shape[1], dtype=np.float64)[:, None]
    total, path = dtw(rows, cols, dist=lambda i, j: cost[int(i[0]), int(j[0])])
    return float(total) / len(path)
