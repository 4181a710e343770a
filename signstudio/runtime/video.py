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


class VideoTranslator:
    """A loaded video model (:data:`FEATURE_KIND`) that names the sign of a clip.

    The clip's frames are sampled as in training (:class:`~signstudio.data.video_features.FrameSettings`
    from the checkpoint), the optical flow computed, both through the frozen backbone, and the
    classes scored by the decoder's first word (:func:`class_log_probs`).

    Raises:
        ModelError: the backbone's weights are missing.
    """

    reads_video = True

    def __init__(self, loaded) -> None:
        from signstudio.data.video_features import FrameSettings
        from signstudio.models.backbones import load_backbone

        f = loaded.features
        self.loaded, self.name = loaded, loaded.name
        self.settings = FrameSettings(frames=int(f["frames"]), backbone=f["backbone"], weights=f.get("weights", ""))
        self.stream = f["stream"]
        self.classes = list(f["classes"])
        self.class_ids = np.array([loaded.text_vocab.stoi[g] for g in self.classes])
        self.backbone = load_backbone(self.settings.backbone, self.settings.weights or None)

    def maps(self, video) -> tuple[np.ndarray, int, dict[str, float]]:
        """``((T, C, 7, 7) maps of the model's stream, frames in the video, seconds per stage)``.

        Raises:
            InputError: an unreadable video.
        """
        import time

        from signstudio.data.video_features import clip_images, read_frames
        from signstudio.runtime.video_cache import feature_maps

        t0 = time.perf_counter()
        frames = read_frames(video, size=self.settings.size)
        t1 = time.perf_counter()
        images = clip_images(frames, self.settings.frames, (self.stream,))[self.stream]
        t2 = time.perf_counter()
        maps = feature_maps(self.backbone, images, self.settings.backbone)
        return maps, len(frames), {"read": t1 - t0, self.stream: t2 - t1, "backbone": time.perf_counter() - t2}

    def translate_video(self, video, task=None):
        """The sign of one clip as a :class:`~signstudio.runtime.translator.Translation` (one gloss,
        with the five most likely as alternatives).

        Raises:
            InputError: an unreadable video.
        """
        import time

        from signstudio.runtime.translator import Translation

        t0 = time.perf_counter()
        maps, frames, seconds = self.maps(video)
        t1 = time.perf_counter()
        logp = class_log_probs(self.loaded.model, [maps], self.class_ids)[0]
        seconds["model"] = time.perf_counter() - t1
        order = np.argsort(-logp)[:5]
        probs = np.exp(logp[order])
        gloss = self.classes[int(order[0])]
        segment = {"gloss": gloss, "start": 0, "end": frames, "confidence": round(float(probs[0]), 4),
                   "alternatives": [{"gloss": self.classes[int(i)], "confidence": round(float(p), 4)}
                                    for i, p in zip(order, probs)]}
        how = (f"one sign: {self.settings.frames} frames of {'optical flow' if self.stream == 'flow' else 'RGB'} "
               f"through {self.settings.backbone}, the decoder's first word over {len(self.classes)} glosses")
        return Translation(text=gloss, glosses=[gloss], model=self.name, frames=frames,
                           seconds={"pose": 0.0, **{k: round(v, 3) for k, v in seconds.items()},
                                    "total": round(time.perf_counter() - t0, 3)},
                           segments=[segment], decoding=how)
