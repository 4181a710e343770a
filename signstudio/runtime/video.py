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


def pad_clips(clips: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(B, T_max, C, 7, 7)`` float16 array of ``(T_i, C, 7, 7)`` maps, zero-padded, and ``(B,)``
    int64 frame counts."""
    lengths = np.array([len(c) for c in clips], dtype=np.int64)
    out = np.zeros((len(clips), int(lengths.max()), *clips[0].shape[1:]), dtype=np.float16)
    for i, c in enumerate(clips):
        out[i, : len(c)] = c
    return out, lengths


def pad_maps(clips: Sequence[np.ndarray]):
    """:func:`pad_clips` as PyTorch tensors."""
    import torch

    maps, lengths = pad_clips(clips)
    return torch.from_numpy(maps), torch.from_numpy(lengths)


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


class TorchVideoNet:
    """The frozen backbone and the model in PyTorch (the checkpoint itself).

    Raises:
        ModelError: the backbone's weights are missing.
    """

    def __init__(self, loaded, settings) -> None:
        from signstudio.models.backbones import load_backbone

        self.model, self.backbone_name = loaded.model, settings.backbone
        self.backbone = load_backbone(settings.backbone, settings.weights or None)

    def backbone_maps(self, images: np.ndarray) -> np.ndarray:
        """``(N, C, 7, 7)`` float16 maps of ``(N, 224, 224, 3)`` uint8 images."""
        from signstudio.runtime.video_cache import feature_maps

        return feature_maps(self.backbone, images, self.backbone_name)

    def class_log_probs(self, clips: Sequence[np.ndarray], class_ids: np.ndarray) -> np.ndarray:
        """See :func:`class_log_probs`."""
        return class_log_probs(self.model, clips, class_ids)


class OnnxVideoNet:
    """The same in onnxruntime: an export's ``backbone`` and ``video`` graphs
    (:mod:`signstudio.export.video`), without PyTorch."""

    def __init__(self, model) -> None:
        self.onnx = model

    def backbone_maps(self, images: np.ndarray, batch: int = 16) -> np.ndarray:
        """``(N, C, 7, 7)`` float16 maps of ``(N, 224, 224, 3)`` uint8 images."""
        return np.concatenate([self.onnx.run("backbone", {"images": np.ascontiguousarray(images[i : i + batch])})["maps"]
                               for i in range(0, len(images), batch)]).astype(np.float16)

    def class_log_probs(self, clips: Sequence[np.ndarray], class_ids: np.ndarray) -> np.ndarray:
        """See :func:`class_log_probs`."""
        maps, lengths = pad_clips(clips)
        first = self.onnx.run("video", {"maps": maps.astype(np.float32), "lengths": lengths})["first_word"]
        logits = first[:, np.asarray(class_ids)].astype(np.float64)
        logits -= logits.max(1, keepdims=True)
        return (logits - np.log(np.exp(logits).sum(1, keepdims=True))).astype(np.float32)


class VideoTranslator:
    """A loaded video model (:data:`FEATURE_KIND`) that names the sign of a clip.

    The clip's frames are sampled as in training (:class:`~signstudio.data.video_features.FrameSettings`
    from the checkpoint), the optical flow computed, both through the frozen backbone, and the
    classes scored by the decoder's first word (:func:`class_log_probs`), in PyTorch
    (:class:`TorchVideoNet`) or, for an ONNX export, in onnxruntime (:class:`OnnxVideoNet`).

    Raises:
        ModelError: the backbone's weights are missing.
    """

    reads_video = True

    def __init__(self, loaded) -> None:
        from signstudio.data.video_features import FrameSettings

        f = loaded.features
        self.loaded, self.name = loaded, loaded.name
        self.settings = FrameSettings(frames=int(f["frames"]), backbone=f["backbone"], weights=f.get("weights", ""),
                                      flow=f.get("flow", FrameSettings.flow))
        self.stream = f["stream"]
        self.classes = list(f["classes"])
        if getattr(loaded, "backend", "torch") == "onnx":
            from signstudio.data.vocabulary import Vocabulary

            vocab = Vocabulary(loaded.sidecar["vocabularies"]["text"])
            self.net = OnnxVideoNet(loaded)
        else:
            vocab, self.net = loaded.text_vocab, TorchVideoNet(loaded, self.settings)
        self.class_ids = np.array([vocab.stoi[g] for g in self.classes])

    def maps(self, video, frame_start: int = 1, frame_end: int = -1) -> tuple[np.ndarray, int, dict[str, float]]:
        """``((T, C, 7, 7) maps of the model's stream, frames read, seconds per stage)`` of the
        video's frames ``frame_start..frame_end`` (1-based, inclusive; -1: to the end).

        Raises:
            InputError: an unreadable video.
        """
        import time

        from signstudio.data.video_features import read_frames

        t0 = time.perf_counter()
        frames = read_frames(video, frame_start, frame_end, size=self.settings.size)
        maps, seconds = self.frame_maps(frames)
        return maps, len(frames), {"read": time.perf_counter() - t0 - sum(seconds.values()), **seconds}

    def frame_maps(self, frames: list[np.ndarray]) -> tuple[np.ndarray, dict[str, float]]:
        """``((T, C, 7, 7) maps, seconds per stage)`` of a clip's ``(S, S, 3)`` RGB squares: the
        model's sampled frames (and flow) through the backbone."""
        import time

        from signstudio.data.video_features import clip_images, stream_parts

        parts = stream_parts(self.stream)
        t1 = time.perf_counter()
        images = clip_images(frames, self.settings.frames, parts, self.settings.to_next_sample)
        t2 = time.perf_counter()
        maps = np.concatenate([self.net.backbone_maps(images[p]) for p in parts], axis=1)
        return maps, {"flow": t2 - t1 if "flow" in parts else 0.0, "backbone": time.perf_counter() - t2}

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
        logp = self.net.class_log_probs([maps], self.class_ids)[0]
        seconds["model"] = time.perf_counter() - t1
        order = np.argsort(-logp)[:5]
        probs = np.exp(logp[order])
        gloss = self.classes[int(order[0])]
        segment = {"gloss": gloss, "start": 0, "end": frames, "confidence": round(float(probs[0]), 4),
                   "alternatives": [[self.classes[int(i)], round(float(p), 4)] for i, p in zip(order, probs)]}
        inputs = {"flow": "optical flow", "rgb": "RGB", "rgb+flow": "RGB and optical flow"}[self.stream]
        how = (f"one sign: {self.settings.frames} frames of {inputs} "
               f"through {self.settings.backbone}, the decoder's first word over {len(self.classes)} glosses")
        return Translation(text=gloss, glosses=[gloss], model=self.name, frames=frames,
                           seconds={"pose": 0.0, **{k: round(v, 3) for k, v in seconds.items()},
                                    "total": round(time.perf_counter() - t0, 3)},
                           segments=[segment], decoding=how)


def evaluate_video(loaded, split: str = "test", videos=None, task=None) -> dict:
    """Top-1 / top-5 accuracy (percent, per clip) of a video model on a split of its WLASL folder
    (the stored ``data.path``, else the shared ``wlasl100``).

    A clip's maps come from the feature cache when it holds them (the same settings), else from
    its video, looked for in ``videos``, the config's ``data.videos``, the WLASL folder's
    ``videos/`` and the shared ``wlasl100/videos``; clips with neither are left out and counted in
    ``missing``.

    Returns:
        ``{"model", "split", "n", "missing", "cached", "top1", "top5", "folder"}``.

    Raises:
        InputError: no WLASL folder, or no clip of the split with maps or a video.
        Cancelled: the task was cancelled.
    """
    from pathlib import Path

    from signstudio.data.prepare import find_video
    from signstudio.data.video_features import cache_folder, load_clip_maps
    from signstudio.data.wlasl import load_wlasl_folder, wlasl_folder
    from signstudio.errors import InputError
    from signstudio.paths import data_dir
    from signstudio.tasks import NullTask, check_cancelled

    task = task or NullTask()
    data = (loaded.config or {}).get("data") or {}
    folder = wlasl_folder(data.get("path", ""))
    if not folder.is_dir():
        folder = data_dir() / "wlasl100"
    splits, _ = load_wlasl_folder(folder)
    clips = splits.get(split, [])
    translator = VideoTranslator(loaded)
    cache = cache_folder(translator.settings)
    places = [Path(p).expanduser() for p in (videos, data.get("videos")) if p]
    places += [folder / "videos", data_dir() / "wlasl100" / "videos"]
    trim = bool(data.get("trim", False))
    task.set_total(len(clips), unit="clip")
    items, cached = [], 0
    for clip in clips:
        check_cancelled(task)
        if (cache / f"{clip.video_id}.npz").is_file():
            items.append((load_clip_maps(cache, clip.video_id, translator.stream), clip.label))
            cached += 1
        else:
            video = next((v for v in (find_video(p, clip.video_id) for p in places if p.is_dir()) if v), None)
            if video is not None:
                span = (clip.frame_start, clip.frame_end) if trim else (1, -1)
                items.append((translator.maps(video, *span)[0], clip.label))
        task.advance(1)
    if not items:
        raise InputError(f"no {split} clip of {folder} has cached maps or a video in "
                         f"{', '.join(str(p) for p in places)}; pass --videos DIR")
    logp = np.concatenate([translator.net.class_log_probs([m for m, _ in items[i : i + 32]], translator.class_ids)
                           for i in range(0, len(items), 32)])
    acc = top_k_accuracy(logp, np.array([label for _, label in items]))
    return {"model": loaded.name, "split": split, "n": len(items), "missing": len(clips) - len(items),
            "cached": cached, "top1": acc["top1"], "top5": acc["top5"], "folder": str(folder)}
