"""The clips a SpaMo recipe trains on (:mod:`signstudio.training.recipes.spamo`), from any of its
datasets, and computing their missing features (:mod:`signstudio.data.spamo_features`).

- ``wlasl``: each clip's text is its English gloss word (WLASL's lower-case gloss, e.g. ``"book"``);
  WLASL's ``val`` is dev.
- ``phoenix14t``: PHOENIX-2014-T frame folders (:func:`signstudio.data.frame_datasets.load_phoenix_frames`),
  text the German sentence.
- ``how2sign``: How2Sign videos and sentence files (:func:`signstudio.data.frame_datasets.load_how2sign_videos`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from signstudio.atomic import atomic_write
from signstudio.data.frame_datasets import FrameClip
from signstudio.errors import InputError
from signstudio.tasks import NullTask, TaskHandle, check_cancelled


@dataclass(frozen=True)
class SpaMoItem:
    """One clip: its cache ``key`` (a file name), ``split`` (train/dev/test), target ``text``, and
    where its frames are: a WLASL video with its 1-based frame range, or a :class:`FrameClip`."""

    key: str
    split: str
    text: str
    video: Path | None = None
    frame_start: int = 1
    frame_end: int = -1
    clip: FrameClip | None = None


def load_items(data) -> list[SpaMoItem]:
    """The clips of a :class:`~signstudio.training.recipes.spamo.SpaMoData` section.

    Raises:
        InputError: the dataset's files are missing or malformed.
    """
    if data.dataset == "wlasl":
        from signstudio.data.prepare import find_video
        from signstudio.data.wlasl import find_wlasl_files, load_wlasl, wlasl_folder

        split_file, metadata = find_wlasl_files(wlasl_folder(data.path))
        videos = Path(data.videos) if data.videos else None
        out = []
        for c in load_wlasl(split_file, metadata):
            video = find_video(videos, c.video_id) if videos else None
            out.append(SpaMoItem(c.video_id, c.split, c.gloss.lower(), video,
                                 c.frame_start if data.trim else 1, c.frame_end if data.trim else -1))
        return out
    from signstudio.data import frame_datasets

    if data.dataset == "phoenix14t":
        clips = [c for split in ("train", "dev", "test")
                 for c in frame_datasets.load_phoenix_frames(data.path, split, data.annotations or None)]
    else:
        clips = frame_datasets.load_how2sign_videos(data.path, data.annotations or None)
    return [SpaMoItem(c.id.replace("/", "__"), c.split, " ".join(c.text), clip=c) for c in clips]


def cache_items(data, items: list[SpaMoItem], settings, task: TaskHandle | None = None) -> int:
    """Compute and cache the features of ``items`` (WLASL: in parallel from ``data.videos``);
    returns how many were written.

    Raises:
        InputError: WLASL clips are missing and ``data.videos`` is not set.
        Cancelled: the task was cancelled (what was written stays).
    """
    from signstudio.data.video_features import cache_folder

    task = task or NullTask()
    if data.dataset == "wlasl":
        if not data.videos:
            return 0
        from signstudio.data.wlasl import find_wlasl_files, wlasl_folder
        from signstudio.runtime.video_cache import build_wlasl_cache

        split_file, metadata = find_wlasl_files(wlasl_folder(data.path))
        return build_wlasl_cache(data.videos, split_file, metadata, settings, trim=data.trim, task=task).done
    from signstudio.data.frame_datasets import clip_frames
    from signstudio.data.spamo_features import SpaMoFeaturizer

    featurizer = SpaMoFeaturizer(settings, onnx=True)
    folder = cache_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    task.set_total(len(items), unit="clip")
    for it in items:
        check_cancelled(task)
        if it.clip is None:
            raise InputError(f"{it.key}: no frames to compute features from")
        features = featurizer.clip(clip_frames(it.clip, featurizer.size))
        with atomic_write(folder / f"{it.key}.npz") as f:
            np.savez(f, **features)
        task.advance(1)
    return len(items)
