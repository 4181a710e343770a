"""How a produced pose sequence's frames are split among its glosses (both approximate): by the
predicted counter (:func:`counter_spans`) or along the decoder's cross-attention
(:func:`monotonic_spans`). NumPy only."""

from __future__ import annotations

import numpy as np


def monotonic_spans(attention: np.ndarray) -> list[tuple[int, int]]:
    """Split ``T`` frames into one ``[start, end)`` run per gloss, in order, following attention.

    Finds the monotonic segmentation (every gloss gets a non-empty run, runs in gloss order)
    that maximises the summed log attention ``sum_t log a[t, gloss(t)]`` - a Viterbi pass over
    "stay on this gloss / move to the next" (the monotonic version of per-frame argmax). With
    fewer frames than glosses the trailing glosses get empty spans at the end.

    Args:
        attention: ``(T, N)`` non-negative weights of each frame on each gloss.

    Returns:
        ``N`` spans covering ``[0, T)``.
    """
    a = np.asarray(attention, dtype=np.float64)
    t, n = a.shape
    if n == 0:
        return []
    if t < n:
        return [(min(i, t), min(i + 1, t)) for i in range(n)]
    logp = np.log(np.clip(a, 1e-12, None))
    score = np.full((t, n), -np.inf)
    moved = np.zeros((t, n), dtype=bool)
    score[0, 0] = logp[0, 0]
    for i in range(1, t):
        stay = score[i - 1]
        move = np.concatenate([[-np.inf], score[i - 1, :-1]])
        moved[i] = move > stay
        score[i] = np.maximum(stay, move) + logp[i]
    starts = [0] * n
    k = n - 1
    for i in range(t - 1, 0, -1):
        if moved[i, k]:
            starts[k] = i
            k -= 1
            if k == 0:
                break
    return [(starts[i], starts[i + 1] if i + 1 < n else t) for i in range(n)]


def counter_spans(counter: np.ndarray, n: int) -> list[tuple[int, int]]:
    """Split frames into ``n`` runs by the counter: gloss ``i`` gets the frames whose counter lies
    in ``(i / n, (i + 1) / n]``. Approximate: it assumes every gloss takes equally long.

    Args:
        counter: ``(T,)`` predicted counter (fraction done after each frame).
        n: number of glosses.

    Returns:
        ``n`` spans covering ``[0, T)`` in order (some may be empty).
    """
    c = np.maximum.accumulate(np.asarray(counter, dtype=np.float64))
    t = len(c)
    bounds = [0] + [int(np.searchsorted(c, (i + 1) / n, side="right")) for i in range(n - 1)] + [t]
    bounds = np.clip(np.maximum.accumulate(bounds), 0, t)
    return [(int(bounds[i]), int(bounds[i + 1])) for i in range(n)]
