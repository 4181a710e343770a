"""An n-gram gloss language model and CTC prefix beam search that uses it.

Continuous sign language recognition systems decode CTC outputs with a gloss language model
(e.g. Koller et al. 2015 on RWTH-PHOENIX and RWTH-BOSTON); on small corpora an n-gram LM is far
more robust than a neural one. The LM is estimated on the training glosses and stored in the
checkpoint.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

BOS, EOS = "<s>", "</s>"


class GlossLM:
    """Interpolated n-gram LM over glosses (Jelinek-Mercer smoothing).

    ``P(w | h) = (1 - lambda_0) sum_k lambda_k P_ML(w | last k-1 glosses of h) / sum_k lambda_k
    + lambda_0 / V``, the sums running over the orders whose context was seen in training, with
    the lambdas fixed (higher orders first). Sentences are padded with ``<s>`` and ``</s>``.

    Args:
        counts: n-gram counts keyed by tuples of glosses, for orders 1..order (as from :meth:`fit`).
        order: n (2 for bigrams, 3 for trigrams).
        vocab_size: number of glosses plus ``</s>``, for the uniform floor.
        weights: interpolation weights, highest order first, then the uniform floor; sum to 1.
    """

    def __init__(self, counts: dict[tuple[str, ...], int], order: int, vocab_size: int,
                 weights: Sequence[float] | None = None) -> None:
        self.counts = Counter(counts)
        self.order = order
        self.vocab_size = vocab_size
        self.weights = list(weights) if weights is not None else self.default_weights(order)
        if len(self.weights) != order + 1 or abs(sum(self.weights) - 1) > 1e-6:
            raise ValueError("weights must have order + 1 entries summing to 1")
        self.context_counts: Counter = Counter()
        self._memo: dict[tuple[str, ...], float] = {}
        for gram, c in self.counts.items():
            self.context_counts[gram[:-1]] += c

    @staticmethod
    def default_weights(order: int) -> list[float]:
        """Geometric interpolation weights: each lower order gets half the weight of the one above."""
        raw = [0.5 ** k for k in range(order)] + [0.05]
        total = sum(raw)
        return [w / total for w in raw]

    @classmethod
    def fit(cls, sentences: Iterable[Sequence[str]], order: int = 3) -> GlossLM:
        """Count n-grams of ``sentences`` (gloss lists)."""
        counts: Counter = Counter()
        vocab = {EOS}
        for s in sentences:
            toks = [BOS] * (order - 1) + list(s) + [EOS]
            vocab.update(s)
            for n in range(1, order + 1):
                for i in range(order - 1, len(toks)):
                    if i - n + 1 >= 0:
                        counts[tuple(toks[i - n + 1 : i + 1])] += 1
        return cls(dict(counts), order, len(vocab))

    def log_prob(self, history: Sequence[str], word: str) -> float:
        """Natural-log probability of ``word`` after ``history`` (without the ``<s>`` padding).
        Only the last ``order - 1`` glosses of ``history`` count; results are memoised."""
        h = ([BOS] * (self.order - 1) + list(history))[-(self.order - 1):] if self.order > 1 else []
        key = (*h, word)
        if key not in self._memo:
            if len(self._memo) > 1_000_000:  # bounded over hours of live input
                self._memo.clear()
            self._memo[key] = self._log_prob(h, word)
        return self._memo[key]

    def _log_prob(self, h: list[str], word: str) -> float:
        floor = self.weights[-1]
        mass, seen = 0.0, 0.0
        for k, w in zip(range(self.order, 0, -1), self.weights):
            ctx = tuple(h[len(h) - (k - 1):]) if k > 1 else ()
            denom = self.context_counts.get(ctx, 0)
            if denom:  # orders whose context was never seen give their weight to the others
                mass += w * self.counts.get(ctx + (word,), 0) / denom
                seen += w
        p = (1 - floor) * (mass / seen if seen else 0.0) + floor / self.vocab_size
        return math.log(p)

    def sentence_log_prob(self, glosses: Sequence[str]) -> float:
        """Log-probability of a whole gloss sentence, including ``</s>``."""
        return sum(self.log_prob(glosses[:i], g) for i, g in enumerate(list(glosses) + [EOS]))

    def to_dict(self) -> dict:
        """Plain data for a checkpoint."""
        return {"order": self.order, "vocab_size": self.vocab_size, "weights": self.weights,
                "ngrams": [" ".join(g) for g in self.counts], "counts": list(self.counts.values())}

    @classmethod
    def from_dict(cls, d: dict) -> GlossLM:
        """Inverse of :meth:`to_dict`."""
        counts = {tuple(g.split(" ")): c for g, c in zip(d["ngrams"], d["counts"])}
        return cls(counts, d["order"], d["vocab_size"], d["weights"])


def _logsumexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def ctc_prefix_beam_search(log_probs, itos: Sequence[str], lm: GlossLM | None = None,
                           lm_weight: float = 0.5, insertion_bonus: float = 0.0, beam_size: int = 8,
                           blank: int = 0, prune: float = -12.0) -> list[str]:
    """CTC prefix beam search with a gloss LM (Hannun et al. 2014, "First-pass LVCSR", alg. 1).

    A prefix is scored ``log p_ctc(prefix) + lm_weight * log p_lm(prefix) + insertion_bonus *
    len(prefix)``; at the end ``</s>`` is scored by the LM too. Per frame, the extensions of each
    beam by a new gloss are scored with NumPy (the LM's log-probabilities of every next gloss are
    kept per n-gram context); only the ``beam_size`` best of each beam can survive, so only those
    are ranked with the rest. Ties keep the order in which the prefixes were first reached.

    Args:
        log_probs: ``(T, G)`` CTC log-probabilities of one clip's real frames (NumPy, or a tensor).
        itos: gloss for each output index (index ``blank`` and other specials are never emitted).
        lm: the gloss LM, or None for plain prefix search.
        prune: per frame, only outputs with a log-probability above this are extended.

    Returns:
        The best gloss sequence.
    """
    if hasattr(log_probs, "detach"):  # a PyTorch tensor (this module does not import torch)
        log_probs = log_probs.detach().cpu().numpy()
    lp = np.asarray(log_probs, dtype=np.float64)
    ninf = -math.inf
    # prefix -> (log p ending in blank, log p ending in non-blank), and the LM log-prob of each live prefix
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, ninf)}
    lm_total: dict[tuple[int, ...], float] = {(): 0.0}
    next_lm: dict[tuple[int, ...], np.ndarray] = {}  # n-gram context -> (G,) log p_lm of each next gloss

    def lm_next(prefix: tuple[int, ...]) -> np.ndarray:
        if lm is None:
            return np.zeros(lp.shape[1])
        context = prefix[max(0, len(prefix) - lm.order + 1):]
        if context not in next_lm:
            words = [itos[i] for i in context]
            next_lm[context] = np.array([lm.log_prob(words, itos[k]) if k >= 4 else ninf
                                         for k in range(lp.shape[1])])
        return next_lm[context]

    for t in range(lp.shape[0]):
        row = lp[t]
        candidates = np.array([k for k in np.nonzero(row > prune)[0].tolist() if k != blank and k >= 4],
                              dtype=np.int64)
        column = {k: j for j, k in enumerate(candidates.tolist())}
        # Prefixes reached along an exact path (blank, repeat, or an extension that is itself a
        # live beam): prefix -> [pb, pnb, first-reached order].
        nxt: dict[tuple[int, ...], list] = {}
        children: dict[tuple[int, ...], set[int]] = {}
        for prefix in beams:
            if prefix:
                children.setdefault(prefix[:-1], set()).add(prefix[-1])

        def add(prefix, order, pb=ninf, pnb=ninf):
            cur = nxt.setdefault(prefix, [ninf, ninf, order])
            cur[0] = _logsumexp(cur[0], pb)
            cur[1] = _logsumexp(cur[1], pnb)

        ranked: list[tuple[float, tuple[int, int], tuple[int, ...], float, float, float]] = []
        for b, (prefix, (pb, pnb)) in enumerate(beams.items()):
            p_all = _logsumexp(pb, pnb)
            add(prefix, (b, 0), pb=p_all + row[blank])
            if prefix:
                add(prefix, (b, 1), pnb=pnb + row[prefix[-1]])  # repeat collapses
            if not candidates.size:
                continue
            # A repeat needs a blank in between: it extends from pb only.
            base = np.where(candidates == prefix[-1], pb, p_all) if prefix else np.full(candidates.size, p_all)
            new_pnb = base + row[candidates]
            new_lm = lm_total[prefix] + lm_next(prefix)[candidates]
            free = np.ones(candidates.size, dtype=bool)
            for j in sorted(column[k] for k in children.get(prefix, ()) if k in column):
                free[j] = False  # also a live beam, reached from itself too: summed exactly
                add(prefix + (int(candidates[j]),), (b, 2 + j), pnb=float(new_pnb[j]))
            scores = new_pnb + lm_weight * new_lm + insertion_bonus * (len(prefix) + 1)
            idx = np.nonzero(free)[0]
            if idx.size > beam_size:  # the beam_size best (and any tied with the last) can survive
                kth = -np.partition(-scores[idx], beam_size - 1)[beam_size - 1]
                idx = idx[scores[idx] >= kth]
            for j in idx.tolist():
                ranked.append((float(scores[j]), (b, 2 + j), prefix + (int(candidates[j]),), ninf,
                               float(new_pnb[j]), float(new_lm[j])))
        for prefix, (pb, pnb, order) in nxt.items():  # all live beams
            lm_p = lm_total[prefix]
            ranked.append((_logsumexp(pb, pnb) + lm_weight * lm_p + insertion_bonus * len(prefix), order, prefix,
                           pb, pnb, lm_p))
        ranked.sort(key=lambda r: (-r[0], r[1]))
        # Only the live beams keep their LM log-probs (the next frame extends them): over an hour of
        # input every prefix ever scored would otherwise stay, each as long as the transcript.
        beams = {r[2]: (r[3], r[4]) for r in ranked[:beam_size]}
        lm_total = {r[2]: r[5] for r in ranked[:beam_size]}

    def final(prefix, v):
        end = lm.log_prob([itos[i] for i in prefix], EOS) if lm is not None else 0.0
        return _logsumexp(*v) + lm_weight * lm_total[prefix] + insertion_bonus * len(prefix) + lm_weight * end

    best = max(beams.items(), key=lambda kv: final(*kv))[0]
    return [itos[i] for i in best]
