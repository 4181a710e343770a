"""SignAttention's analyses of an attention record: frame clusters, diagonal alignment, contributions.

SignAttention (Dal Bianco, Stanchi, Quiroga, Ronchetti & Ferrante 2024, arXiv 2410.14506) reads a
sign-to-gloss transformer's attention and reports, in its results section, that

1. cross-attention concentrates on **clusters of consecutive frames** (roughly one sign each)
   rather than on single frames — :func:`attention_clusters`;
2. glosses and frames align along a **diagonal** (the n-th gloss attends the n-th sign), less
   distinctly as sentences get longer — :func:`diagonal_score`, :func:`centroid_correlation`;
3. measured with the norm-based method of Kobayashi et al. (2020, "Attention is not only a
   weight", eq. 6), the decoder first relies on the video (cross-attention) and then more and
   more on the tokens it has already produced (self-attention) — :func:`contributions`.

:func:`summarize` computes all three for one :class:`~signstudio.interpret.record.AttentionRecord`
and :func:`summarize_many` aggregates them over a test set. Matrices are NumPy arrays; ``U`` is
decoding steps (output tokens), ``T`` encoder frames, ``H`` heads, ``D`` model width. A 3-D
``(H, U, T)`` attention input is averaged over heads first unless stated otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

EOS = "</s>"


def _as_matrix(attention: np.ndarray) -> np.ndarray:
    """``(U, T)`` float64 from ``(U, T)`` or head-averaged ``(H, U, T)``.

    Raises:
        ValueError: not 2-D or 3-D.
    """
    a = np.asarray(attention, dtype=np.float64)
    if a.ndim == 3:
        a = a.mean(axis=0)
    if a.ndim != 2:
        raise ValueError(f"attention must be (U, T) or (H, U, T), got shape {a.shape}")
    return a


# --------------------------------------------------------------------------- (1) clusters


@dataclass(frozen=True)
class Cluster:
    """A run of consecutive frames that one decoding step's attention concentrates on.

    Attributes:
        token: the decoding step (row) ``u``.
        start, end: first and last frame of the run (inclusive, 0-based frame indices).
        mass: the row's attention inside ``[start, end]``, as a fraction of the row's total.
        peak: the frame of the largest weight in the run; peak_weight: that weight.
    """

    token: int
    start: int
    end: int
    mass: float
    peak: int
    peak_weight: float

    @property
    def frames(self) -> int:
        """Length of the run in frames."""
        return self.end - self.start + 1


def _runs(selected: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    """Inclusive ``(start, end)`` runs of True, bridging gaps of at most ``max_gap`` False."""
    idx = np.flatnonzero(selected)
    if idx.size == 0:
        return []
    runs = []
    start = prev = int(idx[0])
    for i in idx[1:]:
        i = int(i)
        if i - prev - 1 > max_gap:
            runs.append((start, prev))
            start = i
        prev = i
    runs.append((start, prev))
    return runs


def attention_clusters(attention: np.ndarray, threshold: float = 0.5, method: str = "peak", mass: float = 0.5,
                       max_gap: int = 1, min_frames: int = 1) -> list[list[Cluster]]:
    """Contiguous frame clusters that each decoding step's (cross-)attention concentrates on.

    SignAttention (results, cross-attention): "the model pays attention to clusters of frames
    rather than individual ones", clusters that map to the execution of a whole sign.

    A frame is *selected* for row ``u`` by one of two rules; selected frames closer than
    ``max_gap + 1`` frames are merged into one run (bridged frames count towards its mass):

    - ``method="peak"``: weight ``>= threshold * max(row)`` (a fraction of the row's peak);
    - ``method="mass"``: the fewest highest-weight frames that hold ``mass`` of the row's total.

    Args:
        attention: ``(U, T)`` or ``(H, U, T)`` (averaged over heads) weights, rows over frames.
        threshold: fraction of the row's maximum, for ``"peak"`` (0 < threshold <= 1).
        method: ``"peak"`` or ``"mass"``.
        mass: fraction of the row's total, for ``"mass"`` (0 < mass <= 1).
        max_gap: unselected frames bridged inside a cluster (0: strictly contiguous).
        min_frames: drop clusters shorter than this many frames.

    Returns:
        One list per row ``u`` of :class:`Cluster` s in frame order (empty for an all-zero row).

    Raises:
        ValueError: bad shape, method or parameters.
    """
    a = _as_matrix(attention)
    if method not in ("peak", "mass"):
        raise ValueError(f"unknown method {method!r}; known: peak, mass")
    if not 0 < threshold <= 1 or not 0 < mass <= 1 or max_gap < 0 or min_frames < 1:
        raise ValueError("need 0 < threshold <= 1, 0 < mass <= 1, max_gap >= 0 and min_frames >= 1")
    out: list[list[Cluster]] = []
    for u, row in enumerate(a):
        total = float(row.sum())
        if total <= 0 or not np.isfinite(total):
            out.append([])
            continue
        if method == "peak":
            selected = row >= threshold * row.max()
        else:
            order = np.argsort(-row, kind="stable")
            k = int(np.searchsorted(np.cumsum(row[order]), mass * total - 1e-12)) + 1
            selected = np.zeros(row.shape, dtype=bool)
            selected[order[: min(k, row.size)]] = True
        clusters = []
        for s, e in _runs(selected, max_gap):
            if e - s + 1 < min_frames:
                continue
            seg = row[s : e + 1]
            p = s + int(seg.argmax())
            clusters.append(Cluster(u, s, e, float(seg.sum() / total), p, float(row[p])))
        out.append(clusters)
    return out


# --------------------------------------------------------------------------- (2) diagonal


def monotonic_alignment(attention: np.ndarray) -> tuple[np.ndarray, float]:
    """The monotonic segmentation of frames into tokens that captures the most attention.

    Every frame is given to exactly one token, token indices never decrease over frames, and every
    token gets at least one frame (so the first frame goes to token 0 and the last to token
    ``U-1``). Found exactly by dynamic programming over ``(token, frame)`` in ``O(U T)``:
    ``D[u, t] = a[u, t] + max(D[u, t-1], D[u-1, t-1])``.

    Args:
        attention: ``(U, T)`` or ``(H, U, T)`` weights with ``U <= T``; rows are normalised to
            sum to 1 first (all-zero rows stay zero).

    Returns:
        ``(T,)`` token index of each frame, and the captured attention summed over rows
        (between 0 and ``U``).

    Raises:
        ValueError: bad shape, or more tokens than frames.
    """
    a = _as_matrix(attention)
    u_n, t_n = a.shape
    if u_n == 0 or t_n == 0 or u_n > t_n:
        raise ValueError(f"need 1 <= U <= T, got U={u_n}, T={t_n}")
    sums = a.sum(axis=1, keepdims=True)
    a = np.divide(a, sums, out=np.zeros_like(a), where=sums > 0)
    best = np.full((u_n, t_n), -np.inf)
    came_from_prev = np.zeros((u_n, t_n), dtype=bool)  # True: frame t-1 belonged to token u-1
    best[0, 0] = a[0, 0]
    for t in range(1, t_n):
        stay = best[:, t - 1]
        move = np.concatenate([[-np.inf], best[:-1, t - 1]])
        came_from_prev[:, t] = move > stay
        best[:, t] = np.maximum(stay, move) + a[:, t]
    path = np.zeros(t_n, dtype=np.int64)
    u = u_n - 1
    for t in range(t_n - 1, -1, -1):
        path[t] = u
        if t > 0 and came_from_prev[u, t]:
            u -= 1
    return path, float(best[-1, -1])


def diagonal_score(attention: np.ndarray) -> float:
    """How diagonal (monotonically aligned) a token x frame attention matrix is, in [0, 1].

    SignAttention (results, cross-attention): the attention between poses and glosses forms "a
    pattern resembling a diagonal matrix", less distinct as the number of glosses grows.

    Definition: normalise every row to sum to 1 and let ``M`` be the attention captured by the
    best monotonic segmentation of the frames into the ``U`` tokens (:func:`monotonic_alignment`;
    ``0 <= M <= U``). Any segmentation captures exactly ``M = 1`` from uniform attention (each
    frame is counted once and carries ``1/T`` of every row), and a perfect block diagonal captures
    ``M = U``, so the score ``(M - 1) / (U - 1)``, clipped to ``[0, 1]``, is 1 for a perfect
    (monotonic, not necessarily evenly spaced) diagonal and 0 for uniform attention. Rows that all
    attend the same frames, and reversed (anti-diagonal) alignments, also score about 0: only
    one token can then claim its frames.

    Args:
        attention: ``(U, T)`` or ``(H, U, T)`` (averaged over heads).

    Returns:
        The score, or NaN when undefined (``U < 2`` or ``U > T``).
    """
    a = _as_matrix(attention)
    u_n, t_n = a.shape
    if u_n < 2 or u_n > t_n:
        return float("nan")
    _, captured = monotonic_alignment(a)
    return float(min(1.0, max(0.0, (captured - 1.0) / (u_n - 1.0))))


def attention_centroids(attention: np.ndarray) -> np.ndarray:
    """``(U,)`` attention-weighted mean frame index of each row (NaN for an all-zero row)."""
    a = _as_matrix(attention)
    sums = a.sum(axis=1)
    pos = a @ np.arange(a.shape[1], dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sums > 0, pos / sums, np.nan)


def _rank(x: np.ndarray) -> np.ndarray:
    """Ranks with ties averaged (1-based)."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.arange(1, len(x) + 1)
    for v in np.unique(x):
        tie = x == v
        if tie.sum() > 1:
            ranks[tie] = ranks[tie].mean()
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation of two equal-length sequences (NaN pairs dropped).

    Returns NaN with fewer than 2 pairs or when either side is constant.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 2:
        return float("nan")
    rx, ry = _rank(x), _rank(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = math.sqrt(float((rx ** 2).sum() * (ry ** 2).sum()))
    return float((rx * ry).sum() / den) if den > 0 else float("nan")


def centroid_correlation(attention: np.ndarray) -> float:
    """Spearman correlation between token index and its attention centroid frame, in [-1, 1].

    A complement to :func:`diagonal_score` that ignores how concentrated attention is: 1 when
    later tokens always look later in the clip, -1 for a reversed order, NaN when undefined (fewer
    than 2 rows, or all centroids equal as for uniform attention).
    """
    c = attention_centroids(attention)
    return spearman(np.arange(len(c)), c)


# --------------------------------------------------------------------------- (3) contributions


@dataclass
class Contributions:
    """Norm-based contributions of decoder self-attention and cross-attention per decoding step.

    Attributes:
        self_norm: ``(U,)`` ``|| sum_h sum_j a^self_{h,u,j} f^self_h(y_j) ||`` — the size of what
            self-attention (previous tokens) adds at step ``u``.
        cross_norm: ``(U,)`` ``|| sum_h sum_t a^cross_{h,u,t} f^cross_h(m_t) ||`` — the size of
            what cross-attention (the frames) adds.
    """

    self_norm: np.ndarray
    cross_norm: np.ndarray

    @property
    def cross_share(self) -> np.ndarray:
        """``(U,)`` ``cross / (cross + self)`` in [0, 1] (NaN where both are 0)."""
        total = self.cross_norm + self.self_norm
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, self.cross_norm / total, np.nan)

    @property
    def self_share(self) -> np.ndarray:
        """``(U,)`` ``1 - cross_share``."""
        return 1.0 - self.cross_share


def weighted_vector_norms(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``|| sum_h sum_j weights[h, i, j] values[h, j] ||`` per query ``i`` (Kobayashi et al. 2020, eq. 6).

    Args:
        weights: ``(H, Q, K)`` (or ``(Q, K)`` for one head) attention weights.
        values: ``(H, K, D)`` (or ``(K, D)``) transformed value vectors ``f_h(x_j)``.

    Returns:
        ``(Q,)`` Euclidean norms.

    Raises:
        ValueError: shapes that do not fit.
    """
    w = np.asarray(weights, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if w.ndim == 2:
        w = w[None]
    if v.ndim == 2:
        v = v[None]
    if w.ndim != 3 or v.ndim != 3 or w.shape[0] != v.shape[0] or w.shape[2] != v.shape[1]:
        raise ValueError(f"weights {np.shape(weights)} and values {np.shape(values)} do not fit "
                         "((H, Q, K) and (H, K, D))")
    return np.linalg.norm(np.einsum("hqk,hkd->qd", w, v), axis=-1)


def contributions(self_weights: np.ndarray, self_values: np.ndarray, cross_weights: np.ndarray,
                  cross_values: np.ndarray) -> Contributions:
    """Relative contribution of cross-attention vs decoder self-attention at each decoding step.

    SignAttention (results, decoder analysis) compares, per decoding step, how much the output of
    the cross-attention (video frames) and of the decoder self-attention (previously predicted
    tokens) contribute, with the norm-based analysis of Kobayashi et al. (2020): the contribution
    of an attention block at query ``i`` is the norm of the weighted sum of *transformed* value
    vectors ``|| sum_j a_ij f(x_j) ||`` with ``f(x) = (x W_V + b_V) W_O`` (summed over heads),
    not the weights alone — a weight on a vector of small norm contributes little. The residual
    stream, layer norms and the output bias ``b_O`` are left out, as in that paper.

    Args:
        self_weights: ``(H, U, U)`` decoder self-attention; self_values: ``(H, U, D)``.
        cross_weights: ``(H, U, T)`` cross-attention; cross_values: ``(H, T, D)``.
        (2-D single-head arrays are accepted too.)

    Returns:
        :class:`Contributions`; ``cross_share + self_share == 1`` at every step.

    Raises:
        ValueError: shapes that do not fit, or different numbers of steps.
    """
    s = weighted_vector_norms(self_weights, self_values)
    c = weighted_vector_norms(cross_weights, cross_values)
    if s.shape != c.shape:
        raise ValueError(f"{s.shape[0]} self-attention steps but {c.shape[0]} cross-attention steps")
    return Contributions(self_norm=s, cross_norm=c)


def record_contributions(record, layer: int = -1) -> Contributions:
    """:func:`contributions` of one decoder layer of an :class:`~signstudio.interpret.record.AttentionRecord`."""
    return contributions(record.decoder_self[layer], record.decoder_self_values[layer], record.cross[layer],
                         record.cross_values[layer])


def slope(y: Sequence[float]) -> float:
    """Least-squares slope of ``y`` against its index ``0, 1, ...`` (NaN values dropped; NaN if < 2 left)."""
    y = np.asarray(y, dtype=np.float64)
    x = np.arange(len(y), dtype=np.float64)
    ok = np.isfinite(y)
    if ok.sum() < 2:
        return float("nan")
    x, y = x[ok], y[ok]
    xc = x - x.mean()
    return float((xc * (y - y.mean())).sum() / (xc ** 2).sum())


# --------------------------------------------------------------------------- summaries


def _num(x: float) -> float | None:
    """A JSON-ready float (None for NaN/inf), rounded to 4 decimals."""
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def _rows(record, drop_end: bool) -> int:
    """Number of analysed rows: all steps, or all but the final ``</s>`` step."""
    u = record.num_steps
    return u - 1 if drop_end and u > 1 and record.tokens[-1] == EOS else u


def summarize(record, layer: int = -1, drop_end: bool = True, threshold: float = 0.5,
              max_gap: int = 1) -> dict[str, Any]:
    """SignAttention's three analyses of one record, as JSON-ready data.

    Args:
        record: an :class:`~signstudio.interpret.record.AttentionRecord`.
        layer: the decoder layer whose cross-attention gives the clusters (default: the last).
        drop_end: leave out the final ``</s>`` step (it produces no gloss) from every analysis.
        threshold, max_gap: as :func:`attention_clusters` (``method="peak"``).

    Returns:
        ``{"model", "input", "tokens", "frames", "fps",
        "clusters"`` (per token: ``{"token", "step", "clusters": [{"start", "end", "frames",
        "start_s", "end_s", "mass", "peak"}]}``, head-averaged cross-attention of ``layer``),
        ``"clusters_per_token", "cluster_frames_mean", "single_frame_cluster_fraction",
        "cluster_mass_mean"`` (mean attention inside a token's clusters),
        ``"diagonal_score"`` and ``"centroid_correlation"`` (per decoder layer, head-averaged),
        ``"diagonal_score_heads"`` (per layer, per head),
        ``"cross_share"`` (per layer, per step), ``"cross_share_mean"`` and ``"cross_share_slope"``
        (per layer: change of the cross share per decoding step; negative = the decoder leans
        more on previous tokens as it goes on, SignAttention's finding)}``. Undefined numbers are None.
    """
    n = _rows(record, drop_end)
    times = record.frame_times
    tokens = list(record.tokens[:n])

    def seconds(frame: int) -> float | None:
        return round(float(times[frame]), 3) if times is not None else None

    per_token = attention_clusters(record.cross[layer][:, :n], threshold=threshold, max_gap=max_gap)
    clusters = [{"token": tokens[u], "step": u,
                 "clusters": [{"start": c.start, "end": c.end, "frames": c.frames, "start_s": seconds(c.start),
                               "end_s": seconds(c.end), "mass": round(c.mass, 4), "peak": c.peak} for c in cl]}
                for u, cl in enumerate(per_token)]
    flat = [c for cl in per_token for c in cl]
    diag, diag_heads, corr, shares, share_mean, share_slope = [], [], [], [], [], []
    for li, cross in enumerate(record.cross):
        c = cross[:, :n]
        diag.append(_num(diagonal_score(c)))
        diag_heads.append([_num(diagonal_score(h)) for h in c])
        corr.append(_num(centroid_correlation(c)))
        share = record_contributions(record, li).cross_share[:n]
        shares.append([_num(s) for s in share])
        share_mean.append(_num(np.nanmean(share)) if np.isfinite(share).any() else None)
        share_slope.append(_num(slope(share)))
    return {
        "model": record.model, "input": record.input, "tokens": tokens, "frames": record.num_frames,
        "fps": record.fps, "clusters": clusters,
        "clusters_per_token": _num(np.mean([len(cl) for cl in per_token])) if per_token else None,
        "cluster_frames_mean": _num(np.mean([c.frames for c in flat])) if flat else None,
        "single_frame_cluster_fraction": _num(np.mean([c.frames == 1 for c in flat])) if flat else None,
        "cluster_mass_mean": _num(np.mean([sum(c.mass for c in cl) for cl in per_token])) if per_token else None,
        "diagonal_score": diag, "diagonal_score_heads": diag_heads, "centroid_correlation": corr,
        "cross_share": shares, "cross_share_mean": share_mean, "cross_share_slope": share_slope,
    }


def _mean(xs) -> float | None:
    xs = [x for x in xs if x is not None and np.isfinite(x)]
    return _num(float(np.mean(xs))) if xs else None


def summarize_many(records: Sequence, layer: int = -1, drop_end: bool = True, threshold: float = 0.5,
                   max_gap: int = 1) -> dict[str, Any]:
    """Aggregate :func:`summarize` over many records (e.g. a test set), as JSON-ready data.

    Returns:
        ``{"n", "tokens_mean", "clusters_per_token", "cluster_frames_mean",
        "single_frame_cluster_fraction", "cluster_mass_mean"`` (means over all tokens / clusters),
        ``"diagonal_score"``, ``"centroid_correlation"`` (per decoder layer: mean over records
        where defined), ``"diagonal_score_n"`` (records where defined),
        ``"diagonal_vs_length"`` (per layer: Spearman correlation of the diagonal score with the
        number of tokens; SignAttention expects it negative),
        ``"cross_share_by_step"`` (per layer: mean cross share at step 0, 1, ...; ``"steps_n"``
        says over how many records), ``"cross_share_slope_mean"`` (per layer, mean of the
        per-record slopes), ``"cross_share_slope_negative"`` (per layer, fraction of records
        whose slope is negative), ``"cross_share_pooled_slope"`` (per layer, least-squares slope
        of all (step, share) pairs), ``"cross_share_first"``/``"cross_share_last"`` (per layer,
        mean share at each record's first and last analysed step)}``.
    """
    sums = [summarize(r, layer, drop_end, threshold, max_gap) for r in records]
    if not sums:
        return {"n": 0}
    layers = len(sums[0]["diagonal_score"])
    clusters = [cl for s in sums for cl in s["clusters"]]
    flat = [c for cl in clusters for c in cl["clusters"]]
    out: dict[str, Any] = {
        "n": len(sums),
        "tokens_mean": _num(np.mean([len(s["tokens"]) for s in sums])),
        "clusters_per_token": _mean([len(cl["clusters"]) for cl in clusters]),
        "cluster_frames_mean": _mean([c["frames"] for c in flat]),
        "single_frame_cluster_fraction": _mean([c["frames"] == 1 for c in flat]),
        "cluster_mass_mean": _mean([sum(c["mass"] for c in cl["clusters"]) for cl in clusters]),
        "diagonal_score": [], "diagonal_score_n": [], "centroid_correlation": [], "diagonal_vs_length": [],
        "cross_share_by_step": [], "steps_n": [], "cross_share_slope_mean": [], "cross_share_slope_negative": [],
        "cross_share_pooled_slope": [], "cross_share_first": [], "cross_share_last": [],
    }
    for li in range(layers):
        d = [s["diagonal_score"][li] for s in sums]
        lengths = [len(s["tokens"]) for s in sums]
        out["diagonal_score"].append(_mean(d))
        out["diagonal_score_n"].append(sum(x is not None for x in d))
        out["centroid_correlation"].append(_mean([s["centroid_correlation"][li] for s in sums]))
        out["diagonal_vs_length"].append(_num(spearman(lengths, [np.nan if x is None else x for x in d])))
        shares = [[np.nan if x is None else x for x in s["cross_share"][li]] for s in sums]
        width = max((len(x) for x in shares), default=0)
        by_step, counts, xs, ys = [], [], [], []
        for u in range(width):
            col = [x[u] for x in shares if len(x) > u and np.isfinite(x[u])]
            by_step.append(_mean(col))
            counts.append(len(col))
        for x in shares:
            for u, v in enumerate(x):
                if np.isfinite(v):
                    xs.append(u)
                    ys.append(v)
        pooled = float("nan")
        if len(set(xs)) > 1:
            xa, ya = np.asarray(xs, float), np.asarray(ys, float)
            pooled = float(((xa - xa.mean()) * (ya - ya.mean())).sum() / ((xa - xa.mean()) ** 2).sum())
        slopes = [s["cross_share_slope"][li] for s in sums if s["cross_share_slope"][li] is not None]
        out["cross_share_by_step"].append(by_step)
        out["steps_n"].append(counts)
        out["cross_share_slope_mean"].append(_mean(slopes))
        out["cross_share_slope_negative"].append(_num(np.mean([x < 0 for x in slopes])) if slopes else None)
        out["cross_share_pooled_slope"].append(_num(pooled))
        out["cross_share_first"].append(_mean([x[0] for x in shares if x]))
        out["cross_share_last"].append(_mean([x[-1] for x in shares if len(x) > 1]))
    return out


__all__ = [
    "Cluster", "Contributions", "attention_centroids", "attention_clusters", "centroid_correlation",
    "contributions", "diagonal_score", "monotonic_alignment", "record_contributions", "slope", "spearman",
    "summarize", "summarize_many", "weighted_vector_norms",
]
