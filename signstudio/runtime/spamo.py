"""Translating sign video with a SpaMo checkpoint (:mod:`signstudio.models.spamo`): the clip's
frozen features (:class:`~signstudio.runtime.spamo_features.SpaMoFeaturizer`, the checkpoint's
settings), the Sign Adapter, and the LLM with its LoRA weights generating the text.

SpaMo needs PyTorch, ``transformers`` and ``peft`` (the ``train`` extra) and its LLM: the
offline default (the ``llm`` extra) or the local folder the checkpoint names.
"""

from __future__ import annotations

import re
import time
from typing import Sequence

import numpy as np

#: ``features["kind"]`` of a SpaMo checkpoint.
FEATURE_KIND = "spamo_features"


def feature_batch(features: Sequence[dict[str, np.ndarray]], device=None) -> dict:
    """Zero-padded tensors of clips' ``{"spatial" (Ts, Ds), "motion" (Tm, Dm)}``: ``spatial``
    ``(B, Ts, Ds)``, ``spatial_lengths`` ``(B,)``, ``motion`` ``(B, Tm, Dm)``, ``motion_lengths``."""
    import torch

    out = {}
    for key in ("spatial", "motion"):
        arrays = [np.asarray(f[key], dtype=np.float32) for f in features]
        lengths = [len(a) for a in arrays]
        padded = np.zeros((len(arrays), max(lengths), arrays[0].shape[1]), dtype=np.float32)
        for i, a in enumerate(arrays):
            padded[i, : len(a)] = a
        out[key] = torch.from_numpy(padded).to(device)
        out[f"{key}_lengths"] = torch.tensor(lengths, device=device)
    return out


def normalise_words(text: str) -> str:
    """Lower case, punctuation off the ends, single spaces: how exact match compares texts."""
    return re.sub(r"\s+", " ", text.lower()).strip(" .,!?;:\"'")


def exact_match(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Percent of hypotheses equal to their reference after :func:`normalise_words` (WLASL's top-1)."""
    if not references:
        return 0.0
    hits = sum(normalise_words(h) == normalise_words(r) for h, r in zip(hypotheses, references))
    return round(100.0 * hits / len(references), 2)


def feature_settings(loaded):
    """The :class:`~signstudio.data.spamo_features.SpaMoFeatureSettings` a checkpoint was trained on."""
    from signstudio.data.spamo_features import SpaMoFeatureSettings

    return SpaMoFeatureSettings(**loaded.features["settings"])


class SpaMoTranslator:
    """A loaded SpaMo model that translates a video (``translate_video``).

    Raises:
        ModelError: an encoder's weights or the LLM are missing.
    """

    reads_video = True

    def __init__(self, loaded) -> None:
        from signstudio.runtime.spamo_features import SpaMoFeaturizer

        self.loaded, self.name, self.model = loaded, loaded.name, loaded.model.eval()
        self.settings = feature_settings(loaded)
        self.featurizer = SpaMoFeaturizer(self.settings, onnx=True, threads=1)

    def use_onnx_backbone(self, path) -> None:
        """Run the CNN backbone in onnxruntime from its export at ``path`` (see
        :mod:`signstudio.runtime.spamo_features`)."""
        from signstudio.runtime.spamo_features import SpaMoFeaturizer

        if getattr(self.featurizer.spatial, "_session", None) is None and path.is_file():
            self.featurizer = SpaMoFeaturizer(self.settings, onnx=True, threads=1)

    def features(self, video, frame_start: int = 1, frame_end: int = -1) -> tuple[dict[str, np.ndarray], int, float]:
        """``(features, frames read, seconds)`` of a video's frames (1-based, -1: to the end).

        Raises:
            InputError: an unreadable video.
        """
        from signstudio.data.video_features import read_frames

        t0 = time.perf_counter()
        frames = read_frames(video, frame_start, frame_end, self.featurizer.size)
        return self.featurizer.clip(frames), len(frames), time.perf_counter() - t0

    def generate(self, features: Sequence[dict[str, np.ndarray]], beams: int | None = None) -> list[str]:
        """Translations of clips' features."""
        from signstudio.quiet import transformers_quiet

        with transformers_quiet():
            return self.model.generate(feature_batch(features), beams=beams)

    def translate_video(self, video, task=None):
        """One clip's translation as a :class:`~signstudio.runtime.translator.Translation`.

        Raises:
            InputError: an unreadable video.
        """
        from signstudio.runtime.translator import Translation

        t0 = time.perf_counter()
        features, frames, seconds = self.features(video)
        t1 = time.perf_counter()
        text = self.generate([features])[0]
        cfg = self.model.config
        encoders = (f"{'CLIP' if self.settings.clip_vision else self.settings.backbone} at S2 scales "
                    f"{list(self.settings.scales)}, {'VideoMAE' if self.settings.videomae else 'optical flow'} motion")
        how = (f"SpaMo: {self.settings.frames} frames ({encoders}) -> Sign Adapter -> "
               f"{cfg.llm} with LoRA, beam {cfg.beams}")
        return Translation(text=text, glosses=[], model=self.name, frames=frames,
                           seconds={"pose": 0.0, "features": round(seconds, 3),
                                    "model": round(time.perf_counter() - t1, 3),
                                    "total": round(time.perf_counter() - t0, 3)},
                           segments=[], decoding=how,
                           note="" if text else "the model generated no text for this clip")


def evaluate_spamo(loaded, split: str = "test", videos=None, beams: int | None = None, task=None) -> dict:
    """Exact-match top-1 (WLASL, percent) or BLEU-4 (sentences) of a SpaMo model on a split of
    its dataset; features from the cache, else from the videos (``videos`` or the config's).

    Returns:
        ``{"model", "split", "n", "missing", "top1" | "bleu4", "hypotheses", "beams"}``.

    Raises:
        InputError: no clip of the split has features or a video. Cancelled: the task was cancelled.
    """
    from types import SimpleNamespace

    from signstudio.data import spamo_data
    from signstudio.data.spamo_features import load_spamo_features
    from signstudio.data.video_features import cache_folder
    from signstudio.data.wlasl import wlasl_folder
    from signstudio.errors import InputError
    from signstudio.paths import data_dir
    from signstudio.tasks import NullTask, check_cancelled

    task = task or NullTask()
    data = SimpleNamespace(**{"dataset": "wlasl", "path": "wlasl100", "annotations": "", "videos": "", "trim": False,
                              **((loaded.config or {}).get("data") or {})})
    if data.dataset == "wlasl" and not wlasl_folder(data.path).is_dir():
        data.path = str(data_dir() / "wlasl100")
    data.videos = str(videos or data.videos or "")
    if data.dataset == "wlasl" and not data.videos:
        data.videos = str(data_dir() / "wlasl100" / "videos")
    items = [it for it in spamo_data.load_items(data) if it.split == split]
    translator = SpaMoTranslator(loaded)
    cache = cache_folder(translator.settings)
    task.set_total(len(items), unit="clip")
    features, refs = [], []
    for it in items:
        check_cancelled(task)
        if (cache / f"{it.key}.npz").is_file():
            features.append(load_spamo_features(cache, it.key))
        elif it.video is not None or it.clip is not None:
            if it.clip is not None:
                from signstudio.data.frame_datasets import clip_frames

                features.append(translator.featurizer.clip(clip_frames(it.clip, translator.featurizer.size)))
            else:
                features.append(translator.features(it.video, it.frame_start, it.frame_end)[0])
        else:
            continue
        refs.append(it.text)
        task.advance(1)
    if not features:
        raise InputError(f"no {split} clip of {data.path} has cached SpaMo features or a video; pass --videos DIR")
    hyps = []
    for i in range(0, len(features), 16):
        check_cancelled(task)
        hyps += translator.generate(features[i : i + 16], beams)
    out = {"model": loaded.name, "split": split, "n": len(features), "missing": len(items) - len(features),
           "beams": beams or loaded.model.config.beams,
           "hypotheses": [{"reference": r, "hypothesis": h} for r, h in zip(refs, hyps)]}
    if data.dataset == "wlasl":
        out["top1"] = exact_match(hyps, refs)
    else:
        from signstudio.runtime.text import score

        out.update({k: v for k, v in score(hyps, refs).items()})
    return out
