"""Jobs of the Attention tab: record a model's attention, open and save records, export heatmaps.

Each ``*_job`` function binds its arguments and returns a plain function of the task handle, run
by the tab's :class:`~signstudio.gui.runner.JobRunner`; none of them touches Qt. The recording itself is
the core's (:mod:`signstudio.interpret.record`): these adapters only add what the tab needs beside
the record, the source pose and downscaled video frames for the player. Core modules are imported
inside the jobs, on the worker thread, so the window opens without loading torch or MediaPipe.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from signstudio.gui.frames import FrameCache, display_frame_from_landmarks
from signstudio.runtime.clip import CLIP_SUFFIXES

Job = Callable[[Any], Any]



@dataclass
class AttentionRun:
    """What a recording (or opening a record) hands to the tab.

    Attributes:
        record: the :class:`~signstudio.interpret.record.AttentionRecord`.
        pose: the pose-format ``Pose`` of the source clip (sign models), for the player; None for
            a text model or when the source could not be found.
        info: the source video's ``VideoInfo`` (width, height, fps), None for a ``.pose`` file.
        frames: downscaled video frames by frame index (at the video's own frame rate), for the
            player; None for a ``.pose`` file.
        source: the file the record was made from ("" for a typed sentence).
        note: a non-fatal problem to show beside the result (e.g. the source video is missing).
    """

    record: Any
    pose: Any = None
    info: Any = None
    frames: FrameCache | None = None
    source: str = ""
    note: str = ""

    @property
    def pose_fps(self) -> float:
        """Frames per second of the player's clip (the video's, or the ``.pose`` file's); 0 if none."""
        fps = getattr(self.info, "fps", 0) or 0
        if not fps and self.pose is not None:
            fps = float(getattr(self.pose.body, "fps", 0) or 0)
        return float(fps)


@dataclass
class SourceClip:
    """The clip of a record's input, for the player: pose, video info and frames (see AttentionRun)."""

    pose: Any
    info: Any = None
    frames: FrameCache | None = None
    source: str = ""


class _FrameCollector:
    """A task handle that keeps the frames a video job emits (downscaled, in a
    :class:`FrameCache`) instead of passing them on; everything else goes to ``task``."""

    def __init__(self, task: Any, cache: FrameCache) -> None:
        self._task = task
        self.cache = cache

    def set_total(self, total: int | None, unit: str = "it") -> None:
        self._task.set_total(total, unit)

    def advance(self, n: int = 1) -> None:
        self._task.advance(n)

    def set_status(self, text: str) -> None:
        self._task.set_status(text)

    def partial(self, frame: Any) -> None:
        shown = display_frame_from_landmarks(frame)
        if shown.image is not None:
            self.cache.add(shown.index, shown.image)

    @property
    def cancelled(self) -> bool:
        return bool(self._task.cancelled)


def _load_checked(model: str | None, task: Any):
    """Load ``model`` and check, before any slow work, that its attention can be recorded
    (:func:`~signstudio.interpret.record.check_recordable`).

    Raises:
        ModelError: unknown model, or one whose attention cannot be recorded.
    """
    from signstudio.interpret.record import check_recordable
    from signstudio.runtime.installed import load_installed

    task.set_status("Loading the model…")
    loaded = load_installed(model)
    check_recordable(loaded)
    return loaded


def _read_clip(path: Path, task: Any) -> SourceClip:
    """The pose (and, for a video, the downscaled frames) of a ``.pose`` file or a video
    (:func:`~signstudio.runtime.clip.read_clip`).

    Raises:
        InputError, NoSignerError, Cancelled: as ``read_clip``.
    """
    from signstudio.runtime.clip import read_clip

    task.set_status(f"Reading {path.name}…")
    collector = _FrameCollector(task, FrameCache())
    clip = read_clip(path, collector, emit_frames=True)
    if not clip.is_video:
        return SourceClip(clip.pose, None, None, str(path))
    return SourceClip(clip.pose, clip.extraction.info, collector.cache, str(path))


def record_job(path: str | Path, model: str | None) -> Job:
    """Record ``model``'s attention on a file: a video or ``.pose`` file for a sign model, a
    UTF-8 text file (one sentence) for a text model. Returns an :class:`AttentionRun`.

    For a sign model the clip is read with its frames kept for the player, then recorded by
    :func:`~signstudio.interpret.record.record_clip`; a text file by ``record_text``.
    """

    def job(task: Any) -> AttentionRun:
        from signstudio.errors import InputError
        from signstudio.interpret.record import read_text_file, record_clip, record_text
        from signstudio.tasks import check_cancelled

        source = Path(path)
        loaded = _load_checked(model, task)
        check_cancelled(task)
        if loaded.model_type == "text-transformer":
            if source.suffix.lower() in CLIP_SUFFIXES:
                raise InputError(f"{source.name}: {loaded.name} translates text; pick a "
                                 "sign-to-text model for a video or .pose file")
            task.set_status("Recording the attention…")
            return AttentionRun(record_text(loaded, read_text_file(source), input_name=str(source)),
                                source=str(source))
        if loaded.model_type == "spatiotemporal":  # reads the frames itself; the panel shows them
            from signstudio.interpret.spatial import record_video

            return AttentionRun(record_video(loaded, source, task=task), source=str(source))
        if loaded.model_type == "spamo":  # the LLM's attention to its visual tokens, mapped to frames
            from signstudio.interpret.spamo import record_spamo

            return AttentionRun(record_spamo(loaded, source, task=task), source=str(source))
        clip = _read_clip(source, task)
        check_cancelled(task)
        task.set_status("Recording the attention…")
        from signstudio.runtime.clip import Clip

        record = record_clip(loaded, Clip(source, clip.pose))
        return AttentionRun(record, clip.pose, clip.info, clip.frames, str(source))

    return job


def record_text_job(text: str, model: str | None) -> Job:
    """Record a text model's attention on one typed sentence (words for text-to-gloss, glosses
    separated by spaces for gloss-to-text). Returns an :class:`AttentionRun` with no clip."""

    def job(task: Any) -> AttentionRun:
        from signstudio.errors import InputError, ModelError
        from signstudio.interpret.record import record_text

        loaded = _load_checked(model, task)
        if loaded.model_type != "text-transformer":
            raise ModelError(f"{loaded.name} translates signing, not text: open a video or "
                             ".pose file, or pick a text model for a sentence")
        if not text.split():
            raise InputError("type a sentence first")
        task.set_status("Recording the attention…")
        return AttentionRun(record_text(loaded, text, input_name=" ".join(text.split())))

    return job


def open_record_job(path: str | Path) -> Job:
    """Read a record saved as ``.npz`` (:func:`~signstudio.interpret.record.load_record`).
    Returns an :class:`AttentionRun` with no clip: the tab then looks for its source
    (:func:`find_source`, :func:`load_source_job`)."""

    def job(task: Any) -> AttentionRun:
        from signstudio.interpret.record import load_record

        task.set_status(f"Reading {Path(path).name}…")
        return AttentionRun(load_record(path))

    return job


def find_source(record: Any, record_path: str | Path | None = None) -> Path | None:
    """The clip a sign model's record was made from, if it is still there: its ``input`` as
    saved, or a file of that name beside the ``.npz`` (``record_path``). None for a text model
    or when nothing is found."""
    if getattr(record, "model_type", "") != "signformer" or not getattr(record, "input", ""):
        return None
    given = Path(record.input).expanduser()
    candidates = [given]
    if record_path is not None:
        folder = Path(record_path).parent
        candidates += [folder / given, folder / given.name]
    for candidate in candidates:
        try:
            if candidate.is_file() and candidate.suffix.lower() in CLIP_SUFFIXES:
                return candidate
        except OSError:
            continue
    return None


def load_source_job(path: str | Path) -> Job:
    """The clip of a record's input for the player: a :class:`SourceClip` (a ``.pose`` file is
    read; a video goes through MediaPipe Holistic, which takes seconds, frames kept)."""

    def job(task: Any) -> SourceClip:
        return _read_clip(Path(path), task)

    return job


def _writing(path: str | Path, write: Callable[[], Any]) -> str:
    """Run ``write``; a folder that is missing or not writable becomes a one-line InputError."""
    try:
        return str(write())
    except OSError as exc:
        from signstudio.errors import InputError

        from signstudio.gui.workers import write_problem

        raise InputError(f"could not write {path}: {write_problem(path, exc)}") from None


def save_record_job(record: Any, path: str | Path) -> Job:
    """Write ``record`` to ``path`` as ``.npz`` (:func:`~signstudio.interpret.record.save_record`)."""

    def job(task: Any) -> str:
        from signstudio.interpret.record import save_record

        task.set_status(f"Saving {Path(path).name}…")
        return _writing(path, lambda: save_record(record, path))

    return job


def export_png_job(record: Any, path: str | Path, kind: str, layer: int, head: int | None) -> Job:
    """Write the heatmap of one attention map as PNG
    (:func:`~signstudio.interpret.plot.record_heatmap_png`; ``head`` None: mean of heads)."""

    def job(task: Any) -> str:
        from signstudio.interpret.plot import record_heatmap_png

        task.set_status(f"Saving {Path(path).name}…")
        return _writing(path, lambda: record_heatmap_png(record, path, kind=kind, layer=layer, head=head))

    return job


def export_csv_job(record: Any, path: str | Path, kind: str, layer: int, head: int | None) -> Job:
    """Write one attention map as CSV, one row per query (:func:`~signstudio.interpret.plot.record_csv`)."""

    def job(task: Any) -> str:
        from signstudio.interpret.plot import record_csv

        task.set_status(f"Saving {Path(path).name}…")
        return _writing(path, lambda: record_csv(record, path, kind=kind, layer=layer, head=head))

    return job
