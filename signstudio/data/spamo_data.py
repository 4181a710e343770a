"""The clips a SpaMo recipe trains on (:mod:`signstudio.training.recipes.spamo`), from any of its
datasets (their features: :mod:`signstudio.data.spamo_features`; computing the missing ones:
:func:`signstudio.runtime.video_cache.cache_spamo_items`).

- ``wlasl``: each clip's text is its English gloss word (WLASL's lower-case gloss, e.g. ``"book"``);
  WLASL's ``val`` is dev.
- ``phoenix14t``: PHOENIX-2014-T frame folders (:func:`signstudio.data.frame_datasets.load_phoenix_frames`),
  text the German sentence.
- ``how2sign``: How2Sign videos and sentence files (:func:`signstudio.data.frame_datasets.load_how2sign_videos`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from signstudio.data.frame_datasets import FrameClip


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
