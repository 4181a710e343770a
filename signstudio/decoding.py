"""Search: greedy and beam search for the translation decoder, greedy CTC decoding for glosses."""

from __future__ import annotations

import torch

from signstudio.data.vocabulary import Vocabulary


@torch.no_grad()
def greedy_decode(model, memory: torch.Tensor, memory_mask: torch.Tensor, max_length: int,
                  bos: int = Vocabulary.bos_index, eos: int = Vocabulary.eos_index) -> list[list[int]]:
    """Pick the most probable token at every step.

    Args:
        model: a model with ``decode_step(tokens, memory, memory_mask)`` returning ``(B, U, V)``
            log-probabilities.
        memory: ``(B, T, D)`` encoder output; ``memory_mask``: ``(B, T)``.
        max_length: most tokens generated per sentence (``</s>`` excluded).

    Returns:
        One token-id list per sentence, without ``<s>`` and ``</s>``.
    """
    b = memory.shape[0]
    tokens = torch.full((b, 1), bos, dtype=torch.long, device=memory.device)
    finished = torch.zeros(b, dtype=torch.bool, device=memory.device)
    for _ in range(max_length):
        logp = model.decode_step(tokens, memory, memory_mask)[:, -1]
        nxt = logp.argmax(-1)
        nxt = torch.where(finished, torch.full_like(nxt, eos), nxt)
        tokens = torch.cat([tokens, nxt[:, None]], dim=1)
        finished |= nxt == eos
        if finished.all():
            break
    return [_strip(row.tolist()[1:], eos) for row in tokens]


def _strip(ids: list[int], eos: int) -> list[int]:
    return ids[: ids.index(eos)] if eos in ids else ids


def length_penalty(length: int, alpha: float) -> float:
    """GNMT length penalty ``((5 + length) / 6) ** alpha`` (Wu et al. 2016, eq. 14)."""
    return ((5.0 + length) / 6.0) ** alpha


@torch.no_grad()
def beam_search(model, memory: torch.Tensor, memory_mask: torch.Tensor, max_length: int,
                beam_size: int = 4, alpha: float = 1.0,
                bos: int = Vocabulary.bos_index, eos: int = Vocabulary.eos_index) -> list[list[int]]:
    """The best hypothesis of :func:`beam_search_nbest` per sentence (see there)."""
    return [hyps[0][1] for hyps in beam_search_nbest(model, memory, memory_mask, max_length, beam_size, alpha,
                                                      bos, eos)]


@torch.no_grad()
def beam_search_nbest(model, memory: torch.Tensor, memory_mask: torch.Tensor, max_length: int,
                      beam_size: int = 4, alpha: float = 1.0,
                      bos: int = Vocabulary.bos_index, eos: int = Vocabulary.eos_index,
                      ) -> list[list[tuple[float, list[int]]]]:
    """Beam search with the GNMT length penalty, one sentence at a time.

    Hypotheses are ranked by ``sum log p / length_penalty(len, alpha)``; a hypothesis ends at
    ``</s>``, and the search stops when ``beam_size`` hypotheses have ended or at ``max_length``.
    With ``beam_size == 1`` it returns exactly what :func:`greedy_decode` returns.

    Args:
        memory: ``(B, T, D)``; memory_mask: ``(B, T)``.
        beam_size: hypotheses kept per step (>= 1).
        alpha: length-penalty strength (0: none).

    Returns:
        Per sentence, the ended hypotheses as ``(length-normalised score, token ids)``, best
        first; token ids exclude ``<s>`` and ``</s>``.

    Raises:
        ValueError: ``beam_size < 1``.
    """
    if beam_size < 1:
        raise ValueError("beam_size must be >= 1")
    results = []
    for i in range(memory.shape[0]):
        mem, mask = memory[i : i + 1], memory_mask[i : i + 1]
        prefixes = torch.full((1, 1), bos, dtype=torch.long, device=memory.device)
        scores = torch.zeros(1, device=memory.device)
        ended: list[tuple[float, list[int]]] = []
        for step in range(max_length + 1):
            n = prefixes.shape[0]
            logp = model.decode_step(prefixes, mem.expand(n, -1, -1), mask.expand(n, -1))[:, -1]  # (n, V)
            if step == max_length:  # out of room: only </s> may follow
                forced = torch.full_like(logp, float("-inf"))
                forced[:, eos] = logp[:, eos]
                logp = forced
            cand = (scores[:, None] + logp).flatten()
            top = cand.topk(min(beam_size, cand.numel()))
            vocab = logp.shape[1]
            keep_prefix, keep_score = [], []
            for score, flat in zip(top.values.tolist(), top.indices.tolist()):
                src, tok = divmod(flat, vocab)
                seq = prefixes[src].tolist()[1:]
                if tok == eos:
                    ended.append((score / length_penalty(len(seq) + 1, alpha), seq))
                else:
                    keep_prefix.append(prefixes[src].tolist() + [tok])
                    keep_score.append(score)
            if len(ended) >= beam_size or not keep_prefix:
                break
            prefixes = torch.tensor(keep_prefix, device=memory.device)
            scores = torch.tensor(keep_score, device=memory.device)
        if not ended:
            ended = [(0.0, prefixes[0].tolist()[1:])]
        results.append(sorted(ended, key=lambda e: -e[0]))
    return results


def ctc_greedy_decode(log_probs: torch.Tensor, mask: torch.Tensor, blank: int = 0) -> list[list[int]]:
    """Best-path CTC decoding: argmax per frame, merge repeats, drop blanks.

    Args:
        log_probs: ``(B, T, G)`` gloss log-probabilities; mask: ``(B, T)`` True on real frames.

    Returns:
        One gloss-id list per clip.
    """
    best = log_probs.argmax(-1)
    out = []
    for row, m in zip(best, mask):
        ids, prev = [], blank
        for t in row[m].tolist():
            if t != prev and t != blank:
                ids.append(t)
            prev = t
        out.append(ids)
    return out
