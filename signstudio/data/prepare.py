"""Preparing a video dataset: MediaPipe Holistic landmarks of every clip, in parallel and resumable.

``signstudio datasets prepare wlasl VIDEO_DIR -o OUT_DIR`` runs :func:`prepare_wlasl`. Every clip
of the split file becomes ``OUT_DIR/poses/VIDEO_ID.pose`` — MediaPipe Holistic landmarks (by
:func:`signstudio.capture.holistic.extract_pose`, one graph per clip so tracking never carries
over from another clip) reduced to the body and both hands (:data:`KEPT_COMPONENTS`, 75 points,
pixels) — and the split file and metadata are copied beside them, so ``OUT_DIR`` is a WLASL
folder in the same layout as ``../shared/data/wlasl100``.

- Resumable: a clip whose ``.pose`` exists is skipped (files are written whole, temp file then
  rename, so an existing file is a finished one).
- Parallel: ``workers`` processes (default: one per core), each loading MediaPipe once.
- A clip MediaPipe finds nobody in, or cannot read, is listed at the end (and in
  ``OUT_DIR/failed.tsv``) instead of stopping the run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from signstudio.atomic import atomic_write
from signstudio.data.wlasl import WlaslClip, find_wlasl_files, load_wlasl
from signstudio.errors import InputError, SignStudioError
from signstudio.tasks import NullTask, TaskHandle, check_cancelled

#: The Holistic components kept: the body and both hands (face points are not used by the models).
KEPT_COMPONENTS = ("POSE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS")
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")


@dataclass
class PrepareReport:
    """What a preparation did.

    Attributes:
        out_dir: the prepared folder. total: clips in the split file.
        done: clips extracted now. skipped: clips already prepared. missing: clips without a video.
        failed: ``(video_id, reason)`` of clips that could not be extracted (nobody found, unreadable).
        seconds: wall time in seconds; frames: frames extracted now.
    """

    out_dir: Path
    total: int = 0
    done: int = 0
    skipped: int = 0
    missing: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    frames: int = 0


def find_video(video_dir: Path, video_id: str) -> Path | None:
    """``VIDEO_ID`` with a video suffix in ``video_dir``, or None."""
    for suffix in VIDEO_SUFFIXES:
        candidate = video_dir / f"{video_id}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def extract_clip(video: str, target: str, frame_start: int = 1, frame_end: int = -1) -> tuple[str, int, str]:
    """Extract one clip's landmarks to ``target`` (a worker process's job).

    Args:
        frame_start, frame_end: 1-based inclusive range to keep (``frame_end`` -1: to the end).

    Returns:
        ``(status, frames, message)``: status ``"done"`` or ``"failed"`` (with a one-line reason).
    """
    from signstudio.capture.holistic import extract_pose
    from signstudio.pose.io import write_pose

    try:
        pose = extract_pose(video).pose.get_components(list(KEPT_COMPONENTS))
        if frame_start > 1 or frame_end != -1:
            last = pose.body.data.shape[0] if frame_end == -1 else min(frame_end, pose.body.data.shape[0])
            pose.body = pose.body.select_frames(list(range(max(frame_start - 1, 0), last)))
        frames = int(pose.body.data.shape[0])
        if frames == 0:
            return "failed", 0, "no frames in the kept range"
        write_pose(pose, target)
        return "done", frames, ""
    except SignStudioError as exc:
        return "failed", 0, str(exc).replace(f"{video}: ", "")
    except Exception as exc:  # a clip MediaPipe or FFmpeg chokes on must not stop the whole run
        return "failed", 0, f"{type(exc).__name__}: {exc}"


def prepare_wlasl(video_dir: str | Path, out_dir: str | Path, split_file: str | Path | None = None,
                  metadata: str | Path | None = None, workers: int | None = None, trim: bool = False,
                  task: TaskHandle | None = None, clips: Sequence[WlaslClip] | None = None) -> PrepareReport:
    """Landmarks of every clip of a WLASL split file (see the module).

    Args:
        video_dir: folder of ``VIDEO_ID.mp4`` clips.
        out_dir: the prepared folder (created).
        split_file, metadata: ``nslt_N.json`` and ``WLASL_v0.3.json``/``WLASL100.json``; found in
            ``video_dir`` or beside it when not given.
        workers: processes (default ``os.cpu_count()``).
        trim: keep only the metadata's ``frame_start``-``frame_end`` of each video (for
            untrimmed source videos; WLASL's per-clip videos are already trimmed).
        task: progress (``clip`` units) and cancellation.
        clips: only these clips (default: all of the split file).

    Raises:
        InputError: no such video folder, missing or malformed split file / metadata.
        Cancelled: the task was cancelled (finished clips stay; a rerun continues).
    """
    task = task or NullTask()
    video_dir, out_dir = Path(video_dir), Path(out_dir)
    if not video_dir.is_dir():
        raise InputError(f"{video_dir}: no such video folder")
    split_file, metadata = find_wlasl_files(video_dir, split_file, metadata)
    all_clips = list(clips) if clips is not None else load_wlasl(split_file, metadata)
    poses = out_dir / "poses"
    poses.mkdir(parents=True, exist_ok=True)
    for source in (split_file, metadata):
        if not (out_dir / source.name).is_file():
            with atomic_write(out_dir / source.name, "wb") as f:
                f.write(source.read_bytes())
    for tmp in poses.glob(".*.tmp"):  # left by a killed run
        tmp.unlink(missing_ok=True)
    report = PrepareReport(out_dir, total=len(all_clips))
    todo = []
    for clip in all_clips:
        target = poses / f"{clip.video_id}.pose"
        if target.is_file():
            report.skipped += 1
            continue
        video = find_video(video_dir, clip.video_id)
        if video is None:
            report.missing.append(clip.video_id)
            continue
        todo.append((clip, video, target))
    task.set_total(len(todo), unit="clip")
    task.set_status(f"{len(todo)} clips to prepare ({report.skipped} done before, {len(report.missing)} without a video)")
    start = time.perf_counter()
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    if todo:
        import multiprocessing

        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(extract_clip, str(video), str(target),
                                   clip.frame_start if trim else 1, clip.frame_end if trim else -1): clip
                       for clip, video, target in todo}
            try:
                for future in as_completed(futures):
                    clip = futures[future]
                    status, frames, message = future.result()
                    if status == "done":
                        report.done += 1
                        report.frames += frames
                    else:
                        report.failed.append((clip.video_id, message))
                    task.advance()
                    check_cancelled(task)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    report.seconds = time.perf_counter() - start
    if report.failed:
        with atomic_write(out_dir / "failed.tsv", "w") as f:
            f.write("".join(f"{vid}\t{why}\n" for vid, why in report.failed))
    return report
