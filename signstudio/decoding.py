"""Searches, in NumPy: greedy and beam search over a decoder's next-token log-probabilities, the
log-probability of a chosen output, and greedy CTC decoding.

One implementation serves every backend. A search drives a *step decoder* (:class:`StepDecoder`):
PyTorch's reference decoder that recomputes the whole prefix at each step
(:class:`signstudio.models.incremental.TorchPrefixDecoder`), PyTorch with a key/value cache
(:class:`signstudio.models.incremental.TorchCachedDecoder`) and the exported decoder-step graph in
onnxruntime (:class:`signstudio.runtime.onnx.OnnxCachedDecoder`). This module imports no PyTorch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

#: Token indices every vocabulary shares (:class:`signstudio.data.vocabulary.Vocabulary`).
BOS, EOS = 2, 3


@dataclass
class DecodingOptions:
    """How a model's outputs are searched; tuned on dev and stored in the checkpoint."""

    beam_size: int = 4  # decoder beam
    length_penalty: float = 1.0  # GNMT alpha for the decoder beam
    no_repeat_ngram: int = 0  # n > 0: the decoder never repeats an n-gram (0: off)
    ctc_beam_size: int = 10  # CTC prefix beam
    lm_weight: float = 0.5  # weight of the gloss LM in CTC prefix beam search
    insertion_bonus: float = 0.5  # added per gloss in CTC prefix beam search

    def search(self) -> str:
        """The decoder beam's settings in words, e.g. ``"beam 4, alpha 3, no repeated 2-gram"``."""
        blocking = f", no repeated {self.no_repeat_ngram}-gram" if self.no_repeat_ngram else ""
        return f"beam {self.beam_size}, alpha {self.length_penalty:g}{blocking}"


class StepDecoder(Protocol):
    """A translation decoder bound to the encoder output of a batch of ``B`` sentences.

    A *state* holds ``n`` hypotheses, each the continuation of one sentence of the batch. The
    searches only call these three methods; what a state is belongs to the decoder (the prefixes,
    or a key/value cache).
    """

    def start(self, rows: Sequence[int]) -> Any:
        """An empty state of ``len(rows)`` hypotheses; hypothesis ``i`` continues sentence ``rows[i]``."""

    def step(self, state: Any, tokens: np.ndarray) -> tuple[np.ndarray, Any]:
        """Feed each hypothesis its next input token (``(n,)`` int64) and return the next-token
        log-probabilities ``(n, V)`` float32 and the state that includes the token."""

    def select(self, state: Any, keep: np.ndarray) -> Any:
        """The state of hypotheses ``keep`` ``(m,)`` (indices into ``state``; repeats allowed)."""


def _strip(ids: list[int], eos: int) -> list[int]:
    return ids[: ids.index(eos)] if eos in ids else ids


def repeated_ngram_tokens(prefix: Sequence[int], n: int) -> set[int]:
    """Tokens that would repeat an n-gram already in ``prefix`` if they came next (n-gram
    blocking, Paulus et al. 2018, Sec. 2.5): with ``n == 1`` every token of the prefix, with
    ``n == 2`` every token that once followed the prefix's last token, and so on; empty for
    ``n <= 0``."""
    if n <= 0 or len(prefix) < n - 1:
        return set()
    if n == 1:
        return set(prefix)
    tail = list(prefix[len(prefix) - n + 1:])
    return {prefix[i + n - 1] for i in range(len(prefix) - n + 1) if list(prefix[i : i + n - 1]) == tail}


def _block(logp: np.ndarray, prefixes: Sequence[Sequence[int]], n: int) -> np.ndarray:
    """``logp`` ``(n_hyp, V)`` with the tokens :func:`repeated_ngram_tokens` bans set to -inf."""
    if n <= 0:
        return logp
    logp = logp.copy()
    for row, prefix in enumerate(prefixes):
        banned = list(repeated_ngram_tokens(prefix, n))
        if banned:
            logp[row, banned] = -np.inf
    return logp


def greedy_decode(decoder: StepDecoder, batch: int, max_length: int, bos: int = BOS,
                  eos: int = EOS, no_repeat_ngram: int = 0) -> list[list[int]]:
    """Pick the most probable token at every step, all ``batch`` sentences at once.

    Args:
        decoder: a :class:`StepDecoder` over ``batch`` sentences.
        max_length: most tokens generated per sentence (``</s>`` excluded).
        no_repeat_ngram: n > 0 never repeats an n-gram (:func:`repeated_ngram_tokens`); 0: off.

    Returns:
        One token-id list per sentence, without ``<s>`` (or the language tag ``bos``) and ``</s>``.
    """
    state = decoder.start(range(batch))
    tokens = np.full(batch, bos, dtype=np.int64)
    finished = np.zeros(batch, dtype=bool)
    out = []
    for _ in range(max_length):
        logp, state = decoder.step(state, tokens)
        if no_repeat_ngram > 0 and out:
            logp = _block(logp, np.stack(out, 1).tolist(), no_repeat_ngram)
        nxt = np.where(finished, eos, logp.argmax(-1)).astype(np.int64)
        out.append(nxt)
        tokens = nxt
        finished |= nxt == eos
        if finished.all():
            break
    rows = np.stack(out, 1) if out else np.zeros((batch, 0), dtype=np.int64)
    return [_strip(row.tolist(), eos) for row in rows]


def length_penalty(length: int, alpha: float) -> float:
    """GNMT length penalty ``((5 + length) / 6) ** alpha`` (Wu et al. 2016, eq. 14)."""
    return ((5.0 + length) / 6.0) ** alpha


def beam_search(decoder: StepDecoder, batch: int, max_length: int, beam_size: int = 4, alpha: float = 1.0,
                bos: int = BOS, eos: int = EOS, no_repeat_ngram: int = 0) -> list[list[int]]:
    """The best hypothesis of :func:`beam_search_nbest` per sentence (see there)."""
    return [hyps[0][1] for hyps in beam_search_nbest(decoder, batch, max_length, beam_size, alpha, bos, eos,
                                                     no_repeat_ngram)]


def beam_search_nbest(decoder: StepDecoder, batch: int, max_length: int, beam_size: int = 4,
                      alpha: float = 1.0, bos: int = BOS, eos: int = EOS,
                      no_repeat_ngram: int = 0) -> list[list[tuple[float, list[int]]]]:
    """Beam search with the GNMT length penalty, one sentence at a time.

    Hypotheses are ranked by ``sum log p / length_penalty(len, alpha)``; a hypothesis ends at
    ``</s>``, and the search stops when ``beam_size`` hypotheses have ended or at ``max_length``
    (where only ``</s>`` may follow). Scores add in float32, as the decoders give them. With
    ``beam_size == 1`` it returns exactly what :func:`greedy_decode` returns.

    Args:
        decoder: a :class:`StepDecoder` over ``batch`` sentences.
        beam_size: hypotheses kept per step (>= 1).
        alpha: length-penalty strength (0: none).
        no_repeat_ngram: n > 0 never repeats an n-gram (:func:`repeated_ngram_tokens`); 0: off.

    Returns:
        Per sentence, the ended hypotheses as ``(length-normalised score, token ids)``, best
        first; token ids exclude ``bos`` and ``</s>``.

    Raises:
        ValueError: ``beam_size < 1``.
    """
    if beam_size < 1:
        raise ValueError("beam_size must be >= 1")
    results = []
    for i in range(batch):
        state = decoder.start([i])
        prefixes: list[list[int]] = [[]]
        tokens = np.array([bos], dtype=np.int64)
        scores = np.zeros(1, dtype=np.float32)
        ended: list[tuple[float, list[int]]] = []
        for step in range(max_length + 1):
            logp, state = decoder.step(state, tokens)  # (n, V)
            logp = _block(logp, prefixes, no_repeat_ngram)
            if step == max_length:  # out of room: only </s> may follow
                forced = np.full_like(logp, -np.inf)
                forced[:, eos] = logp[:, eos]
                logp = forced
            cand = (scores[:, None] + logp).ravel()
            k = min(beam_size, cand.size)
            top = np.argpartition(-cand, k - 1)[:k] if k < cand.size else np.arange(cand.size)
            top = top[np.lexsort((top, -cand[top]))]  # best first; ties: lower index first
            vocab = logp.shape[1]
            keep_src, keep_tok, keep_score, keep_prefix = [], [], [], []
            for flat in top.tolist():
                src, tok = divmod(flat, vocab)
                score = float(cand[flat])
                if tok == eos:
                    ended.append((score / length_penalty(len(prefixes[src]) + 1, alpha), prefixes[src]))
                else:
                    keep_src.append(src)
                    keep_tok.append(tok)
                    keep_score.append(score)
                    keep_prefix.append(prefixes[src] + [tok])
            if len(ended) >= beam_size or not keep_src:
                break
            state = decoder.select(state, np.array(keep_src, dtype=np.int64))
            tokens = np.array(keep_tok, dtype=np.int64)
            scores = np.array(keep_score, dtype=np.float32)
            prefixes = keep_prefix
        if not ended:
            ended = [(0.0, prefixes[0])]
        results.append(sorted(ended, key=lambda e: -e[0]))
    return results


def sequence_log_probs(decoder: StepDecoder, row: int, ids: Sequence[int], bos: int = BOS,
                       eos: int = EOS) -> np.ndarray:
    """Log-probabilities ``(len(ids) + 1,)`` the decoder gives ``ids`` and then ``</s>``, for
    sentence ``row`` (teacher forcing, one step per token).

    Args:
        ids: an output's token ids, without ``bos`` and ``</s>``.
    """
    state = decoder.start([row])
    out = []
    for prev, tok in zip([bos, *ids], [*ids, eos]):
        logp, state = decoder.step(state, np.array([prev], dtype=np.int64))
        out.append(float(logp[0, tok]))
    return np.array(out, dtype=np.float64)


def ctc_greedy_decode(log_probs, mask, blank: int = 0) -> list[list[int]]:
    """Best-path CTC decoding: argmax per frame, merge repeats, drop blanks.

    Args:
        log_probs: ``(B, T, G)`` gloss log-probabilities (NumPy, or a CPU tensor);
            mask: ``(B, T)`` True on real frames.

    Returns:
        One gloss-id list per clip.
    """
    best = _numpy(log_probs).argmax(-1)
    mask = _numpy(mask).astype(bool)
    out = []
    for row, m in zip(best, mask):
        ids, prev = [], blank
        for t in row[m].tolist():
            if t != prev and t != blank:
                ids.append(t)
            prev = t
        out.append(ids)
    return out


def _numpy(x) -> np.ndarray:
    """``x`` as a NumPy array; a PyTorch tensor is detached and moved to the CPU first."""
    if hasattr(x, "detach"):  # this module does not import torch
        x = x.detach().cpu().numpy()
    return np.asarray(x)
