"""Continuous signing built from isolated clips, for training and scoring a CTC recogniser.

People sign sentences, but WLASL has one sign per clip. :func:`build_sequence` strings 1 to 6
clips together the way a signer does: each clip normalised to its own signer (shoulder centre
and width, :func:`signstudio.pose.landmarks.normalize_landmarks`, so different signers line up),
played a little faster or slower, with random pauses (the last frame held) and returns to a rest
pose (hands out of view) between, before and after the signs. The glosses are known; where each
sign starts is not given to the model (CTC learns it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from signstudio.pose.landmarks import NUM_BODY, normalize_landmarks


@dataclass
class SequenceStyle:
    """How sequences are strung together (lengths in frames at the model's rate).

    Attributes:
        min_signs, max_signs: signs per sequence (uniform).
        speed: each sign plays ``1 ± speed`` times as fast.
        pause: the longest pause (last frame held) between signs.
        rest_prob: chance that the signer drops the hands to rest between two signs.
        rest: the longest stretch at rest (hands out of view), between and around signs.
    """

    min_signs: int = 1
    max_signs: int = 6
    speed: float = 0.2
    pause: int = 8
    rest_prob: float = 0.3
    rest: int = 12


def _rest(last: np.ndarray, found: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` frames of the body from ``last`` with both hands out of view."""
    pts = np.repeat(last[None], n, axis=0)
    fnd = np.repeat(found[None], n, axis=0)
    fnd[:, NUM_BODY:] = False
    pts[:, NUM_BODY:] = 0.0
    return pts, fnd


def build_sequence(clips: Sequence[tuple[np.ndarray, np.ndarray, int]], rng: np.random.Generator,
                   style: SequenceStyle | None = None, count: int | None = None,
                   transform: Callable | None = None) -> tuple[np.ndarray, np.ndarray, list[int], list[tuple[int, int]]]:
    """One continuous sequence from random clips.

    Args:
        clips: ``(points (T, P, 3), found (T, P), label)`` of isolated signs (pixels, as
            :func:`signstudio.pose.landmarks.clip_landmarks` gives them).
        count: signs in the sequence (default: uniform in ``style.min_signs..max_signs``).
        transform: applied to each clip's ``(points, found, rng)`` first (e.g. an augmentation).

    Returns:
        ``(points (T, P, 3) normalised, found (T, P), labels, spans)``: the labels of the signs
        in order and each sign's ``(start, end)`` frames.
    """
    style = style or SequenceStyle()
    n = count or int(rng.integers(style.min_signs, style.max_signs + 1))
    chosen = rng.integers(0, len(clips), size=n)
    parts_p, parts_f, labels, spans = [], [], [], []
    length = 0
    for k, i in enumerate(chosen):
        points, found, label = clips[int(i)]
        if transform is not None:
            points, found = transform(points, found, rng)
        norm = normalize_landmarks(points, found)
        factor = rng.uniform(1 - style.speed, 1 + style.speed)
        m = max(1, int(round(len(norm) / factor)))
        idx = np.minimum((np.arange(m) * factor).astype(int), len(norm) - 1)
        norm, fnd = norm[idx], found[idx]
        if k == 0 or rng.random() < style.rest_prob:
            gap = int(rng.integers(0, style.rest + 1))
            if gap:
                p, f = _rest(norm[0], fnd[0], gap)
                parts_p.append(p), parts_f.append(f)
                length += gap
        elif style.pause:
            gap = int(rng.integers(0, style.pause + 1))
            if gap and parts_p:
                last_p, last_f = parts_p[-1][-1], parts_f[-1][-1]
                parts_p.append(np.repeat(last_p[None], gap, axis=0)), parts_f.append(np.repeat(last_f[None], gap, axis=0))
                length += gap
        spans.append((length, length + len(norm)))
        parts_p.append(norm), parts_f.append(fnd)
        length += len(norm)
        labels.append(int(label))
    tail = int(rng.integers(0, style.rest + 1))
    if tail:
        p, f = _rest(parts_p[-1][-1], parts_f[-1][-1], tail)
        parts_p.append(p), parts_f.append(f)
    return np.concatenate(parts_p), np.concatenate(parts_f), labels, spans


def fixed_sequences(clips: Sequence[tuple[np.ndarray, np.ndarray, int]], n: int, seed: int = 0,
                    style: SequenceStyle | None = None) -> list[tuple[np.ndarray, np.ndarray, list[int], list]]:
    """``n`` sequences built with a fixed seed: the same set every time (for dev and test scores)."""
    rng = np.random.default_rng(seed)
    return [build_sequence(clips, rng, style) for _ in range(n)]
