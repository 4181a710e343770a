"""Jobs of the Produce tab: thin adapters from the production core to a runner's ``job(task)``.

Each function binds arguments and calls into the core (``production.pipeline``,
``production.render``, ``pose.io``); none holds logic of its own. Core modules are imported
inside the jobs, on the worker thread, so the window opens without loading torch, and a missing
piece shows up as a readable message rather than a crash.
"""

from __future__ import annotations

from typing import Any, Callable

Job = Callable[[Any], Any]


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
              text_to_glosses: Callable[..., Any] | None = None, backend: str = "auto") -> Job:
    """Glosses for ``text``: ``pipeline.gloss_text(text, language, backend=backend)``, a
    ``Glossing`` with its reliability and warnings (or the given function, for tests, which may
    return a plain list of glosses)."""

    def job(task: Any) -> Any:
        task.set_status("Finding the glosses…")
        if text_to_glosses is None:
            from signstudio.production.pipeline import gloss_text

            return gloss_text(text, language, backend=backend)
        result = text_to_glosses(text, language)
        return [str(g) for g in result] if isinstance(result, (list, tuple)) else result

    return job


def produce_job(text: str, language: str, glosses: list[str] | None = None,
                method: str = "auto", produce: Callable[..., Any] | None = None,
                strict: bool = False, backend: str = "auto") -> Job:
    """A ``Production``: ``pipeline.produce(text, language, glosses=..., method=..., strict=...,
    backend=..., task=task)`` (or the given function, for tests, called without ``backend``).
    ``strict``: raise ``OutOfDomainError`` for text the user should confirm first."""

    def job(task: Any) -> Any:
        task.set_status("Preparing the signs…")
        kwargs = {"glosses": list(glosses) if glosses else None, "method": method, "strict": strict, "task": task}
        if produce is None:
            from signstudio.production.pipeline import produce as pipeline_produce

            return pipeline_produce(text, language, backend=backend, **kwargs)
        return produce(text, language, **kwargs)

    return job


def read_production_job(path: str, language: str) -> Job:
    """A ``.pose`` file as a ``Production`` with no glosses, to view it in 3D."""

    def job(task: Any) -> Any:
        from signstudio.pose.io import read_pose
        from signstudio.production.types import Production

        task.set_status("Reading pose file…")
        return Production(read_pose(path), [], [], language, [])

    return job


def export_job(production: Any, path: str, *, camera: Any = None, hands: bool = False) -> Job:
    """Write ``production`` (its pose; for a video also its segments as captions, seen from
    ``camera`` with hand close-ups if ``hands``) to ``path`` (.pose, .mp4 or .gif):
    ``production.render.export``."""

    def job(task: Any) -> str:
        from signstudio.production.render import export

        task.set_status(f"Writing {path}…")
        try:
            return str(export(production.pose, path, segments=list(production.segments),
                              hands=hands, camera=camera))
        except OSError as exc:  # a folder that is not there or not writable: the user's to fix
            from signstudio.errors import InputError

            from signstudio.gui.workers import write_problem

            raise InputError(f"could not write {path}: {write_problem(path, exc)}") from None

    return job


def with_scene(job: Callable[[Any], Any]) -> Callable[[Any], tuple[Any, Any]]:
    """``job`` (returning a ``Production``), then its 3D geometry, both on the worker thread:
    ``(production, scene)``; ``scene`` is ``None`` if the pose cannot be drawn (the GUI thread
    then says why)."""

    def run(task: Any) -> tuple[Any, Any]:
        from signstudio.pose.scene import build_scene

        production = job(task)
        task.set_status("Preparing the 3D view…")
        try:
            return production, build_scene(production.pose)
        except (ValueError, AttributeError, IndexError, TypeError):
            return production, None

    return run
