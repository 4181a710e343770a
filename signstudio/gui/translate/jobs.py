"""Jobs of the Translate tab: thin adapters from core functions to a runner's ``job(task)``.

Each function binds arguments and calls into the core; none holds logic of its own. Core modules
are imported inside the jobs, on the worker thread, so the window opens without loading MediaPipe
or torch, and a missing piece shows up as a readable message rather than a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

Job = Callable[[Any], Any]


def read_clip_job(path: str) -> Job:
    """A video (landmarks by MediaPipe Holistic, every frame emitted for the live view) or a
    ``.pose`` file: :func:`signstudio.runtime.clip.read_clip`, the one entry from a file to a
    model's input. Returns a :class:`~signstudio.runtime.clip.Clip`."""

    def job(task: Any) -> Any:
        from signstudio.runtime.clip import read_clip

        if path.lower().endswith(".pose"):
            task.set_status("Reading pose file…")
        return read_clip(path, task, emit_frames=True)

    return job


def record_camera_job(index: int, max_seconds: float = 60.0) -> Job:
    """Landmarks from a webcam until stopped: ``record_camera(index, task, max_seconds)``."""

    def job(task: Any) -> Any:
        from signstudio.capture.holistic import record_camera

        return record_camera(index, task, max_seconds=max_seconds)

    return job


@dataclass
class TranslateResult:
    """What :func:`translate_job` returns: the translator used (to reuse) and its translation."""

    translator: Any
    translation: Any


def translate_job(pose: Any, model: str | None, translator: Any | None = None, backend: str = "auto",
                  video: str | None = None) -> Job:
    """Load ``model`` (unless ``translator`` is given; run by ``backend``, see
    :func:`~signstudio.runtime.installed.load_installed`) and translate ``pose`` with it, or, for a
    model of video frames, the ``video`` file the pose came from."""

    def job(task: Any) -> TranslateResult:
        used = translator
        if used is None:
            from signstudio.runtime.translator import load_translator

            task.set_status("Loading the translation model…")
            used = load_translator(model, backend)
        task.set_status("Translating…")
        if getattr(used, "reads_video", False):
            from signstudio.errors import InputError

            if not video or video.lower().endswith(".pose"):
                raise InputError(f"{used.name} reads video frames, not landmarks: open a video file, "
                                 "or choose a landmark model")
            return TranslateResult(used, used.translate_video(video, task))
        return TranslateResult(used, used.translate_pose(pose))

    return job


def models_folders_text() -> str:
    """Where models are looked for, as one phrase ("A and B"), for messages."""
    from signstudio.runtime.installed import model_folders

    return " and ".join(str(folder) for _origin, folder in model_folders())
