"""Evaluating produced poses: DTW-MJE against a reference, and back-translation.

- **DTW-MJE** (dynamic time warping mean joint error; Huang et al. 2021, "Towards Fast and
  High-Quality Sign Language Production", ACM MM): produced and reference sequences differ in
  length and speed, so they are first aligned by DTW whose cost between two frames is the mean over
  joints of the Euclidean distance between corresponding joints; the score is the accumulated cost
  along the optimal warping path divided by the path's length - a mean joint error in the
  skeleton's units, 0 for a perfect (possibly time-warped) copy. The DTW itself is
  ``fastdtw.dtw`` (exact DTW, MIT licence; dtw-python is GPL-3).
- **Back-translation** (Saunders et al. 2020, sec. 4): the produced poses are fed to a
  sign-to-text model and its output is scored against the source glosses or text (BLEU-4, WER).
  :func:`back_translate` maps the 50-joint skeleton onto the hand/nose tracks that SignStudio's
  translators read (:mod:`signstudio.pose.features`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from signstudio.errors import InputError
from signstudio.metrics import dtw_mje, frame_costs  # noqa: F401 - part of this module's API


def skeleton_tracks(frames: np.ndarray) -> np.ndarray:
    """Hand and nose tracks ``(T, 3, 2)`` (``[left hand, right hand, nose]`` x ``(x, y)``, camera
    view, x right and y down, in canvas pixels) of a ``(T, 50, 3)`` skeleton sequence.

    A hand is the mean of its 21 hand joints (as :func:`signstudio.pose.features.tracks_from_holistic`
    does for MediaPipe hands); left/right are the signer's hands, as in BOSTON-104's tracks.
    """
    from signstudio.pose.skeletons import LEFT_HAND, NOSE, ORIGIN_X, ORIGIN_Y, RIGHT_HAND, SCALE

    f = np.asarray(frames, dtype=np.float64)
    if f.ndim != 3 or f.shape[1:] != (50, 3):
        raise InputError(f"a skeleton sequence must have shape (T, 50, 3), got {f.shape}")
    points = np.stack([f[:, LEFT_HAND].mean(1), f[:, RIGHT_HAND].mean(1), f[:, NOSE]], axis=1)  # (T, 3, 3)
    return np.stack([ORIGIN_X - SCALE * points[..., 0], ORIGIN_Y + SCALE * points[..., 1]], axis=-1)


def back_translate(pose_or_frames, translator, fps: float | None = None) -> list[str]:
    """Glosses a sign-to-text model reads from produced poses (back-translation).

    Args:
        pose_or_frames: a ``(T, 50, 3)`` skeleton array, a 50-joint pose-format ``Pose``
            (:func:`signstudio.pose.skeletons.skels_to_pose`) or a MediaPipe Holistic ``Pose``.
        translator: a :class:`signstudio.runtime.sign2text.Translator` (hand/nose-track features).
        fps: frame rate of an array input (default 25, the PHOENIX skeletons').

    Returns:
        The recognised glosses (the translator's text tokens if it has no gloss output).

    Raises:
        InputError: an unusable pose; ModelError: the translator needs other features.
    """
    import torch

    from signstudio.pose.features import track_features
    from signstudio.pose.skeletons import SKELETON_FPS, is_skeleton_pose, pose_to_skeleton
    from signstudio.runtime.sign2text import best_glosses, decode_features

    if not isinstance(pose_or_frames, np.ndarray):
        pose = pose_or_frames
        if not is_skeleton_pose(pose):
            result = translator.translate_pose(pose)
            return list(result.glosses) or result.text.split()
        fps = float(pose.body.fps)
        frames = pose_to_skeleton(pose)
    else:
        frames = pose_or_frames
    feats = track_features(skeleton_tracks(frames), float(fps or SKELETON_FPS))
    loaded = translator.loaded
    with torch.no_grad():
        decoded = decode_features(loaded.model, [feats], loaded.gloss_vocab, loaded.text_vocab,
                                  loaded.decoding, loaded.gloss_lm)
    glosses = best_glosses(decoded)
    if glosses and glosses[0]:
        return list(glosses[0])
    return list(decoded.get("decoder", [[]])[0])


def back_translation_scores(references: Sequence[Sequence[str] | str],
                            hypotheses: Sequence[Sequence[str] | str]) -> dict[str, float]:
    """BLEU-1..4, chrF (sacrebleu, lowercased, 0-100) and WER (jiwer, 0-1) of back-translations.

    Args:
        references, hypotheses: per sentence a token list or a space-separated string.

    Raises:
        ValueError: the lists differ in length or all references are empty.
    """
    from signstudio.metrics import bleu, wer

    def tokens(x) -> list[str]:
        return x.split() if isinstance(x, str) else list(x)

    refs = [tokens(r) for r in references]
    hyps = [tokens(h) for h in hypotheses]
    scores = bleu([" ".join(r) for r in refs], [" ".join(h) for h in hyps])
    scores["wer"] = wer(refs, hyps)
    return scores
