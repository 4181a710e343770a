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
            from signstudio.runtime.sign2text import load_translator

            task.set_status("Loading the translation model…")
            used = load_translator(model)
        task.set_status("Translating…")
        return TranslateResult(used, used.translate_pose(pose))

    return job


def list_models_safely() -> tuple[list[Any], str, str]:
    """``(models, default_name, problem)`` from :mod:`signstudio.runtime.installed`.

    ``models`` is ``list_models("sign-to-text")`` (what the Translate tab can run); ``default_name`` the model used when none is named ("" if
    unknown); ``problem`` a one-line reason when the list could not be made ("" otherwise).
    Never raises: a broken models folder must not stop the window from opening.
    """
    try:
        from signstudio.runtime import installed as inference

        return list(inference.list_models("sign-to-text")), str(getattr(inference, "DEFAULT_MODEL", "")), ""
    except ImportError as exc:
        return [], "", f"the translation module is not available ({exc})"
    except Exception as exc:  # noqa: BLE001
        return [], "", f"{type(exc).__name__}: {exc}"


# --- the Produce tab -----------------------------------------------------------------------------
def list_languages_safely() -> tuple[list[Any], str]:
    """``(languages, problem)``: :func:`signstudio.languages.known_languages` and "" — or an
    empty list and a one-line reason. Never raises (the tab must open regardless)."""
    try:
        from signstudio.languages import known_languages

        return list(known_languages()), ""
    except ImportError as exc:
        return [], f"the sign-language list is not available ({exc})"
    except Exception as exc:  # noqa: BLE001
        return [], f"{type(exc).__name__}: {exc}"


def available_methods_safely(language: str) -> tuple[list[str], str]:
    """``(methods, problem)`` from ``production.pipeline.available_methods(language)``.

    Never raises: on any failure the methods are ``["auto"]`` and ``problem`` says why.
    """
    try:
        from signstudio.production.pipeline import available_methods

        return [str(m) for m in available_methods(language)] or ["auto"], ""
    except ImportError as exc:
        return ["auto"], f"production is not available ({exc})"
    except Exception as exc:  # noqa: BLE001
        return ["auto"], f"{type(exc).__name__}: {exc}"


def gloss_job(text: str, language: str,
              text_to_glosses: Callable[..., list[str]] | None = None) -> Job:
    """Glosses for ``text``: ``pipeline.text_to_glosses(text, language)`` (or the given
    function, for tests)."""

    def job(task: Any) -> list[str]:
        fn = text_to_glosses
        if fn is None:
            from signstudio.production.pipeline import text_to_glosses as fn
        task.set_status("Finding the glosses…")
        return [str(g) for g in fn(text, language)]

    return job


def produce_job(text: str, language: str, glosses: list[str] | None = None,
                method: str = "auto", produce: Callable[..., Any] | None = None) -> Job:
    """A ``Production``: ``pipeline.produce(text, language, glosses=..., method=..., task=task)``
    (or the given function with the same signature, for tests)."""

    def job(task: Any) -> Any:
        fn = produce
        if fn is None:
            from signstudio.production.pipeline import produce as fn
        task.set_status("Preparing the signs…")
        return fn(text, language, glosses=list(glosses) if glosses else None, method=method,
                  task=task)

    return job


def read_production_job(path: str, language: str) -> Job:
    """A ``.pose`` file as a ``Production`` with no glosses, to view it in 3D."""

    def job(task: Any) -> Any:
        from signstudio.pose.io import read_pose
        from signstudio.production.types import Production

        task.set_status("Reading pose file…")
        return Production(read_pose(path), [], [], language, [])

    return job


def export_job(pose: Any, path: str) -> Job:
    """Write ``pose`` to ``path`` (.pose, .mp4 or .gif): ``production.render.export``."""

    def job(task: Any) -> str:
        from signstudio.production.render import export

        task.set_status(f"Writing {path}…")
        try:
            return str(export(pose, path))
        except OSError as exc:  # a folder that is not there or not writable: the user's to fix
            from signstudio.errors import InputError

            raise InputError(f"could not write {path}: {exc.strerror or exc}") from None

    return job
