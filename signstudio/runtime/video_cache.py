"""Building the feature cache of a video dataset: backbone maps of every clip's frames and flow
(:mod:`signstudio.data.video_features` says what is cached and where), in parallel and resumable."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from signstudio.atomic import atomic_write
from signstudio.data.video_features import STREAMS, FrameSettings, cache_folder, clip_images, read_frames
from signstudio.errors import InputError
from signstudio.tasks import NullTask, TaskHandle, check_cancelled


def feature_maps(backbone, images: np.ndarray, name: str, batch: int = 16) -> np.ndarray:
    """``(T, C, 7, 7)`` float16 maps of ``(T, 224, 224, 3)`` uint8 images through a frozen backbone."""
    import torch

    from signstudio.models.backbones import normalise

    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = normalise(torch.from_numpy(np.ascontiguousarray(images[i : i + batch])), name)
            out.append(backbone.features(x).numpy().astype(np.float16))
    return np.concatenate(out)


_WORKER: dict = {}


def _cache_clip(video: str, target: str, frame_start: int, frame_end: int, settings: dict,
                streams: tuple[str, ...] = STREAMS) -> tuple[str, str]:
    """Compute and write one clip's maps (a worker process's job): ``(status, message)``."""
    import torch

    torch.set_num_threads(1)
    s = FrameSettings(**settings)
    try:
        if "backbone" not in _WORKER:
            from signstudio.models.backbones import load_backbone

            _WORKER["backbone"] = load_backbone(s.backbone, s.weights or None)
        images = clip_images(read_frames(video, frame_start, frame_end, s.size), s.frames, streams, s.to_next_sample)
        maps = {k: feature_maps(_WORKER["backbone"], images[k], s.backbone) for k in streams}
        with atomic_write(target) as f:
            np.savez(f, **maps)
        return "done", ""
    except Exception as exc:  # one bad clip must not stop the run
        return "failed", f"{type(exc).__name__}: {exc}"


def _cache_spamo_clip(video: str, target: str, frame_start: int, frame_end: int, settings: dict,
                      streams: tuple[str, ...] = ()) -> tuple[str, str]:
    """Compute and write one clip's SpaMo features (a worker process's job): ``(status, message)``."""
    from signstudio.data.spamo_features import SpaMoFeatureSettings
    from signstudio.runtime.spamo_features import SpaMoFeaturizer

    try:
        if "spamo" not in _WORKER:
            _WORKER["spamo"] = SpaMoFeaturizer(SpaMoFeatureSettings(**settings), onnx=True, threads=1)
        features = _WORKER["spamo"].video(video, frame_start, frame_end)
        with atomic_write(target) as f:
            np.savez(f, **features)
        return "done", ""
    except Exception as exc:  # one bad clip must not stop the run
        return "failed", f"{type(exc).__name__}: {exc}"


@dataclass
class CacheReport:
    """What :func:`build_wlasl_cache` did: the folder, clips done now / already cached / failed
    (``(video_id, reason)``), missing videos, and wall time in seconds."""

    folder: Path
    done: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    seconds: float = 0.0


def build_wlasl_cache(video_dir: str | Path, split_file: str | Path, metadata: str | Path,
                      settings: FrameSettings | None = None, workers: int | None = None, trim: bool = False,
                      task: TaskHandle | None = None, streams: tuple[str, ...] = STREAMS) -> CacheReport:
    """Cache the maps of every clip of a WLASL split file whose video is in ``video_dir``; with
    :class:`~signstudio.data.spamo_features.SpaMoFeatureSettings`, SpaMo's features instead.

    Args:
        trim: keep only the metadata's ``frame_start..frame_end`` of each video (untrimmed source
            videos); the usual WLASL clip folders are trimmed already.

    Raises:
        InputError: unreadable split or metadata file. Cancelled: the task was cancelled.
    """
    from signstudio.data.prepare import find_video
    from signstudio.data.wlasl import load_wlasl

    from signstudio.data.spamo_features import SpaMoFeatureSettings

    settings = settings or FrameSettings()
    job = _cache_spamo_clip if isinstance(settings, SpaMoFeatureSettings) else _cache_clip
    task = task or NullTask()
    folder = cache_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.json").write_text(json.dumps(asdict(settings), indent=1), encoding="utf-8")
    report = CacheReport(folder)
    jobs = []
    for clip in load_wlasl(split_file, metadata):
        video = find_video(Path(video_dir), clip.video_id)
        target = folder / f"{clip.video_id}.npz"
        if video is None:
            report.missing.append(clip.video_id)
        elif target.is_file():
            report.skipped += 1
        else:
            jobs.append((clip.video_id, str(video), str(target), clip.frame_start if trim else 1,
                         clip.frame_end if trim else -1))
    task.set_total(len(jobs), unit="clip")
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        futures = {pool.submit(job, v, t, a, b, asdict(settings), tuple(streams)): vid
                   for vid, v, t, a, b in jobs}
        for future in as_completed(futures):
            status, message = future.result()
            if status == "done":
                report.done += 1
            else:
                report.failed.append((futures[future], message))
            task.advance(1)
            if task.cancelled:
                for f in futures:
                    f.cancel()
                check_cancelled(task)
    report.seconds = time.perf_counter() - t0
    return report


def cache_spamo_items(data, items: list, settings, task: TaskHandle | None = None) -> int:
    """Compute and cache the SpaMo features of ``items`` (:class:`~signstudio.data.spamo_data.SpaMoItem`
    of a SpaMo ``data:`` section; WLASL: in parallel from ``data.videos``); returns how many were written.

    Raises:
        InputError: WLASL clips are missing and ``data.videos`` is not set.
        Cancelled: the task was cancelled (what was written stays).
    """
    task = task or NullTask()
    if data.dataset == "wlasl":
        if not data.videos:
            return 0
        from signstudio.data.wlasl import find_wlasl_files, wlasl_folder

        split_file, metadata = find_wlasl_files(wlasl_folder(data.path))
        return build_wlasl_cache(data.videos, split_file, metadata, settings, trim=data.trim, task=task).done
    from signstudio.data.frame_datasets import clip_frames
    from signstudio.runtime.spamo_features import SpaMoFeaturizer

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
