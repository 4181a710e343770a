"""Evaluation metrics, computed with the field's libraries (jiwer, sacrebleu)."""

from __future__ import annotations

from collections.abc import Sequence


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
