"""Video sign-to-text at run time: the spatio-temporal transformer reads a clip's frames.

A checkpoint of :class:`~signstudio.models.spatiotemporal.SpatioTemporalTransformer` stores the
feature spec :data:`FEATURE_KIND` (the stream, frames per clip, backbone). A video becomes sampled
frames and flow images (:func:`signstudio.data.video_features.clip_images`), then backbone maps,
then the model: :func:`class_log_probs` scores the classes by the decoder's first word.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: The checkpoint feature kind of a model that reads backbone maps of video frames.
FEATURE_KIND = "video_maps"


def pad_maps(clips: Sequence[np.ndarray]):
    """``(B, T_max, C, 7, 7)`` float16 tensor of ``(T_i, C, 7, 7)`` maps, zero-padded, and ``(B,)``
    frame counts."""
    import torch

    lengths = torch.tensor([len(c) for c in clips])
    out = torch.zeros((len(clips), int(lengths.max()), *clips[0].shape[1:]), dtype=torch.float16)
    for i, c in enumerate(clips):
        out[i, : len(c)] = torch.from_numpy(np.ascontiguousarray(c))
    return out, lengths


def class_log_probs(model, clips: Sequence[np.ndarray], class_ids: np.ndarray) -> np.ndarray:
    """``(B, K)`` log-probabilities of the ``K`` classes for each clip: the decoder's first-word
    distribution after ``<s>``, restricted to the class tokens ``class_ids`` and renormalised.

    Args:
        model: a :class:`~signstudio.models.spatiotemporal.SpatioTemporalTransformer`.
        clips: ``(T_i, C, 7, 7)`` backbone maps.
    """
    import torch

    maps, lengths = pad_maps(clips)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            memory, mask = model.encode(maps.to(device), lengths.to(device))
            bos = torch.full((len(clips), 1), 2, dtype=torch.long, device=device)
            logp = model.decode_step(bos, memory, mask)[:, 0, torch.as_tensor(class_ids, device=device)]
            return torch.log_softmax(logp, -1).cpu().numpy()
    finally:
        model.train(was_training)


def top_k_accuracy(log_probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """``{"top1", "top5"}`` in percent of ``(N, K)`` class scores against ``(N,)`` labels."""
    ranked = np.argsort(-log_probs, axis=1)
    hits = ranked == np.asarray(labels)[:, None]
    return {"top1": round(float(hits[:, :1].any(1).mean() * 100), 2),
            "top5": round(float(hits[:, :5].any(1).mean() * 100), 2)}
