"""Sign-language clips as model-ready tensors: feature extraction, augmentation, padding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from signstudio.data.vocabulary import Vocabulary
from signstudio.pose.features import track_features


@dataclass(frozen=True)
class TrackExample:
    """One clip: ``tracks`` ``(T, 3, 2)`` pixels at ``fps`` frames per second, and its labels."""

    id: str
    tracks: np.ndarray
    fps: float
    glosses: tuple[str, ...]
    text: tuple[str, ...]
    spans: tuple[tuple[int, int], ...] = ()  # per gloss (start, end) frames, if annotated


def crop_to_glosses(ex: TrackExample, rng: np.random.Generator, margin: int = 4) -> TrackExample:
    """A random run of consecutive glosses cut out of ``ex`` by its annotated gloss boundaries.

    The cut starts and ends a few frames (up to ``margin``) outside the chosen glosses but never
    past the middle of the gap to a neighbouring gloss, so the labels stay exact. Examples without
    spans (or whose spans do not match the glosses, as in text-only corpora) are returned as is.
    Used only when the gloss sequence is the text (BOSTON-104).
    """
    n = len(ex.glosses)
    if not ex.spans or len(ex.spans) != n or n < 2 or ex.text != ex.glosses:
        return ex
    i = int(rng.integers(0, n))
    j = int(rng.integers(i, n))
    lo_limit = (ex.spans[i - 1][1] + ex.spans[i][0]) // 2 + 1 if i > 0 else 0
    hi_limit = (ex.spans[j][1] + ex.spans[j + 1][0]) // 2 if j < n - 1 else len(ex.tracks) - 1
    start = max(lo_limit, ex.spans[i][0] - int(rng.integers(0, margin + 1)))
    end = min(hi_limit, ex.spans[j][1] + int(rng.integers(0, margin + 1)))
    start, end = max(0, start), min(len(ex.tracks) - 1, end)
    if end - start < 4:
        return ex
    spans = tuple((a - start, b - start) for a, b in ex.spans[i : j + 1])
    g = ex.glosses[i : j + 1]
    return TrackExample(f"{ex.id}[{i}:{j + 1}]", ex.tracks[start : end + 1], ex.fps, g, g, spans)


@dataclass
class Augmentation:
    """Random changes applied to pixel tracks before features, so the model sees new signers.

    Each field is the largest change drawn uniformly per clip.
    """

    rotation_degrees: float = 8.0  # in-plane rotation of the whole signer
    scale: float = 0.15  # relative size change per axis (also changes aspect)
    speed: float = 0.2  # relative signing-speed change (resampling)
    jitter_pixels: float = 1.5  # Gaussian noise per point and frame (std, pixels)
    hand_offset: float = 0.05  # constant shift of each hand, as a fraction of its reach

    def __call__(self, tracks: np.ndarray, fps: float, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        """Return augmented ``(T, 3, 2)`` tracks and the frame rate to read them at."""
        centre = np.nanmean(tracks[:, 2], axis=0)
        x = tracks - centre
        a = np.deg2rad(rng.uniform(-self.rotation_degrees, self.rotation_degrees))
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        sx, sy = 1 + rng.uniform(-self.scale, self.scale, size=2)
        x = x @ rot.T * np.array([sx, sy])
        reach = np.nanpercentile(np.linalg.norm(x[:, :2] - x[:, 2:3], axis=-1), 90)
        x[:, :2] += rng.uniform(-self.hand_offset, self.hand_offset, size=(1, 2, 2)) * reach
        x = x + rng.normal(0, self.jitter_pixels, size=x.shape)
        fps = fps * (1 + rng.uniform(-self.speed, self.speed))
        return x + centre, fps


def collate(features: list[np.ndarray], glosses: list[list[int]], texts: list[list[int]]):
    """Pad a batch.

    Args:
        features: ``(T_i, F)`` arrays; glosses, texts: token ids per clip (no specials).

    Returns:
        dict with ``features`` ``(B, T, F)``, ``lengths`` ``(B,)``, ``glosses`` ``(B, G)`` padded
        with 0, ``gloss_lengths`` ``(B,)``, ``text_in`` ``(B, U)`` (``<s>`` + text) and
        ``text_out`` ``(B, U)`` (text + ``</s>``), padded with 0.
    """
    b = len(features)
    t = max(f.shape[0] for f in features)
    x = np.zeros((b, t, features[0].shape[1]), dtype=np.float32)
    for i, f in enumerate(features):
        x[i, : len(f)] = f
    g = max(1, max(len(s) for s in glosses))
    gl = np.zeros((b, g), dtype=np.int64)
    for i, s in enumerate(glosses):
        gl[i, : len(s)] = s
    u = max(len(s) for s in texts) + 1
    tin = np.zeros((b, u), dtype=np.int64)
    tout = np.zeros((b, u), dtype=np.int64)
    for i, s in enumerate(texts):
        tin[i, : len(s) + 1] = [Vocabulary.bos_index] + list(s)
        tout[i, : len(s) + 1] = list(s) + [Vocabulary.eos_index]
    return {
        "features": torch.from_numpy(x),
        "lengths": torch.tensor([len(f) for f in features]),
        "glosses": torch.from_numpy(gl),
        "gloss_lengths": torch.tensor([len(s) for s in glosses]),
        "text_in": torch.from_numpy(tin),
        "text_out": torch.from_numpy(tout),
    }


def example_features(ex: TrackExample, augment: Augmentation | None = None,
                     rng: np.random.Generator | None = None) -> np.ndarray:
    """``(T', F)`` features of one example, augmented if ``augment`` and ``rng`` are given."""
    tracks, fps = ex.tracks, ex.fps
    if augment is not None and rng is not None:
        tracks, fps = augment(tracks, fps, rng)
    return track_features(tracks, fps)
