"""Thin adapters from core functions to the worker's ``job(task)`` signature.

Each function here binds arguments and calls into the core; none holds logic of its own. Core
modules are imported inside the jobs, on the worker thread, so the window opens without loading
MediaPipe or torch, and a missing piece shows up as a readable message rather than a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

Job = Callable[[Any], Any]


def extract_video_job(path: str) -> Job:
    """Landmarks from a video file: ``extract_pose(path, task, emit_frames=True)``."""

    def job(task: Any) -> Any:
        from signstudio.capture.holistic import extract_pose

        return extract_pose(path, task, emit_frames=True)

    return job


def record_camera_job(index: int, max_seconds: float = 60.0) -> Job:
    """Landmarks from a webcam until stopped: ``record_camera(index, task, max_seconds)``."""

    def job(task: Any) -> Any:
        from signstudio.capture.holistic import record_camera

        return record_camera(index, task, max_seconds=max_seconds)

    return job


def read_pose_job(path: str) -> Job:
    """A ``.pose`` file: ``read_pose(path)``."""

    def job(task: Any) -> Any:
        from signstudio.pose.io import read_pose

        task.set_status("Reading pose file…")
        return read_pose(path)

    return job


@dataclass
class TranslateResult:
    """What :func:`translate_job` returns: the translator used (to reuse) and its translation."""

    translator: Any
    translation: Any


def translate_job(pose: Any, model: str | None, translator: Any | None = None) -> Job:
    """Load ``model`` (unless ``translator`` is given) and translate ``pose`` with it."""

    def job(task: Any) -> TranslateResult:
        used = translator
        if used is None:
            from signstudio.inference import load_translator

            task.set_status("Loading the translation model…")
            used = load_translator(model)
        task.set_status("Translating…")
        return TranslateResult(used, used.translate_pose(pose))

    return job


def list_models_safely() -> tuple[list[Any], str, str]:
    """``(models, default_name, problem)`` from :mod:`signstudio.inference`.

    ``models`` is ``list_models()``; ``default_name`` the model used when none is named ("" if
    unknown); ``problem`` a one-line reason when the list could not be made ("" otherwise).
    Never raises: a broken models folder must not stop the window from opening.
    """
    try:
        from signstudio import inference

        return list(inference.list_models()), str(getattr(inference, "DEFAULT_MODEL", "")), ""
    except ImportError as exc:
        return [], "", f"the translation module is not available ({exc})"
    except Exception as exc:  # noqa: BLE001
        return [], "", f"{type(exc).__name__}: {exc}"
