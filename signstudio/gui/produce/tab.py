"""The Produce tab: text (or glosses) → a pose sequence → an animated 3D skeleton.

Left: the text, the sign language, the glosses (filled by "Text → glosses", editable), "Sign",
progress with Cancel, errors as a one-line banner, what was signed, and export buttons. Right: the
3D signer (:class:`~signstudio.gui.skeleton3d.Skeleton3DView`) with a player (play/pause, scrub,
speed, loop) and the gloss strip, which highlights the gloss being signed.

Jobs run through the tab's :class:`~signstudio.gui.runner.JobRunner` on worker threads
(:mod:`signstudio.gui.produce.jobs` calls the core: ``production.pipeline`` and
``production.render``); the widgets here hold no job logic. The player and the gloss strip are in
:mod:`signstudio.gui.produce.player`. For tests the tab accepts its own ``produce`` and
``text_to_glosses`` functions.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFileDialog, QSplitter, QVBoxLayout, QWidget

from signstudio.errors import OutOfDomainError
from signstudio.gui.produce import jobs
from signstudio.gui.produce.form import EXPORT_FORMATS, ProduceForm
from signstudio.gui.produce.player import ProductionPlayer, fps_text
from signstudio.gui.produce.reliability import ReliabilityPanel
from signstudio.gui.runner import JobProgress
from signstudio.gui.shortcuts import bind
from signstudio.gui.tab import JobTab
from signstudio.gui.widgets import ellipsize

#: Tab states (the runner's job names).
GLOSSING, PRODUCING, EXPORTING, LOADING = "glossing", "producing", "exporting", "loading"
#: What a failed job's status line starts with.
FAILED_PREFIX = {GLOSSING: "Could not find the glosses: ", PRODUCING: "Could not sign: ",
                 EXPORTING: "Could not save: ", LOADING: "Could not open: "}

POSE_FILTER = "Pose files (*.pose);;All files (*)"


# ------------------------------------------------------------------------------------------------
# the tab
class ProduceTab(JobTab):
    """Turn text into signing shown by a 3D skeleton.

    Public entry points (also used by tests and the screenshot tool): :meth:`set_text`,
    :meth:`set_language`, :meth:`gloss`, :meth:`sign`, :meth:`cancel`, :meth:`show_production`,
    :meth:`open_pose`, :meth:`export_to`, :meth:`shutdown`; state: :attr:`state`,
    :meth:`is_busy`, :meth:`error_text`, :meth:`production`.

    Args:
        produce: the production function (default ``production.pipeline.produce``), called on a
            worker thread as ``produce(text, language, glosses=..., method=..., task=...)``.
        text_to_glosses: the glossing function (default ``pipeline.text_to_glosses``).

    Signals:
        status_message(str): a line for the window's status bar.
        busy_changed(bool): a job started (True) or the tab became idle (False).
        production_ready(object): a ``Production`` was loaded into the player.
        glosses_ready(list): "Text → glosses" filled the glosses field.
        exported(str): a file was written (its path).
        error_shown(str): an error message was shown.
        idle(): the tab returned to idle (after success, failure or cancel).
    """

    production_ready = Signal(object)
    glosses_ready = Signal(list)
    exported = Signal(str)

    def __init__(self, parent: QWidget | None = None, *,
                 produce: Callable[..., Any] | None = None,
                 text_to_glosses: Callable[..., list[str]] | None = None) -> None:
        super().__init__(parent, lists_models=False)
        self._produce = produce
        self._text_to_glosses = text_to_glosses
        self.backend = "auto"  # what runs the models (the window's setting)
        self._production: Any = None
        self._last_dir = ""
        self._build()
        runner = self.runner
        self.progress = JobProgress(runner, self.progress_bar, self.status_label,
                                    echo=self.status_message.emit)
        runner.state_changed.connect(self._update_controls)
        runner.busy_changed.connect(self.busy_changed)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(lambda _state: self._status("Cancelled"))
        runner.idle.connect(self.idle)
        self.form.fill_languages(*jobs.list_languages_safely())
        self._language_picked = False
        self.form.language_combo.activated.connect(lambda _i: setattr(self, "_language_picked", True))
        self._refresh_methods()
        self._update_controls()

    # ------------------------------------------------------------------------------------------
    # layout
    def _build(self) -> None:
        self.form = form = ProduceForm()
        self.left_panel = form
        # The form's widgets, named on the tab as well (the window and tests reach them here).
        self.language_combo, self.method_combo = form.language_combo, form.method_combo
        self.text_edit, self.glosses_edit = form.text_edit, form.glosses_edit
        self.gloss_button, self.sign_button = form.gloss_button, form.sign_button
        self.cancel_button, self.open_pose_button = form.cancel_button, form.open_pose_button
        self.export_buttons = form.export_buttons
        self.progress_bar, self.status_label = form.progress_bar, form.status_label
        self.banner, self.summary_label = form.banner, form.summary_label
        form.gloss_button.clicked.connect(self.gloss)
        form.glosses_edit.returnPressed.connect(self.sign)
        form.sign_button.clicked.connect(self.sign)
        form.cancel_button.clicked.connect(self.cancel)
        for suffix, button in form.export_buttons.items():
            button.clicked.connect(lambda _=False, s=suffix: self.choose_export(s))
        form.open_pose_button.clicked.connect(self.choose_pose)
        form.language_changed.connect(self._refresh_methods)
        # How reliable the glosses are, under them; the question for out-of-domain input.
        self.reliability = ReliabilityPanel()
        self._flagged: tuple[str, str, str] | None = None  # (text, language, glosses) to confirm
        panel_layout = form.glosses_edit.parentWidget().layout()  # the form's column
        panel_layout.insertWidget(panel_layout.indexOf(form.glosses_edit) + 1, self.reliability)
        self.reliability.produce_anyway.connect(lambda: self.sign(anyway=True))
        for changed in (form.text_edit.textChanged, form.glosses_edit.textEdited, form.language_changed):
            changed.connect(self._forget_reliability)

        self.player = ProductionPlayer()
        self.view = self.player.view

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(form)
        splitter.addWidget(self.player)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([360, 900])
        self.splitter = splitter

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(splitter)

        bind(self, "cancel", self.cancel)
        bind(self, "sign", self.sign)
        self.player.bind_keys(self)

    # ------------------------------------------------------------------------------------------
    # public API
    def apply_preferences(self, prefs) -> None:
        """The playback speed, what runs the models, and the sign language to start with (before
        the user picks one)."""
        self.player.set_speed(prefs.playback_speed)
        self.backend = prefs.backend
        combo = self.form.language_combo
        if prefs.produce_language and not self._language_picked:
            index = combo.findData(prefs.produce_language)
            if index >= 0:
                combo.setCurrentIndex(index)

    def production(self) -> Any:
        """The ``Production`` shown now, or ``None``."""
        return self._production

    def text(self) -> str:
        """The text in the text box."""
        return self.form.text()

    def set_text(self, text: str) -> None:
        """Put ``text`` in the text box."""
        self.form.set_text(text)

    def glosses(self) -> list[str]:
        """The glosses in the glosses field, split on spaces."""
        return self.form.glosses()

    def set_glosses(self, glosses: str | list[str]) -> None:
        """Put glosses (a list, or one space-separated string) in the glosses field."""
        self.form.set_glosses(glosses)

    def language(self) -> str:
        """The chosen sign language's code (e.g. "ase")."""
        return self.form.language()

    def set_language(self, code: str) -> bool:
        """Choose a sign language by code; False if it is not in the list."""
        return self.form.set_language(code)

    def method(self) -> str:
        """The chosen production method ("auto", "lexicon" or "model")."""
        return self.form.method()

    def gloss(self) -> bool:
        """Turn the text into glosses (on a worker); they fill the glosses field.

        Returns False (and shows why) if a job runs or there is no text.
        """
        if not self.runner.check_idle():
            return False
        text = self.text().strip()
        if not text:
            self._complain("Type a sentence first; its glosses appear below it.")
            return False
        self.banner.dismiss()
        return self.runner.start(GLOSSING, jobs.gloss_job(text, self.language(), self._text_to_glosses, self.backend),
                                 on_finished=lambda g, t=text: self._glossed(t, g),
                                 status="Finding the glosses…")

    def sign(self, anyway: bool = False) -> bool:
        """Make the signing of the glosses (or of the text if there are none) on a worker.

        Text the core flags (another language, outside the glossing model's domain) is not
        signed until the user answers the reliability panel's question: "Produce anyway" calls
        this with ``anyway=True``.

        Returns False (and shows why) if a job runs, there is nothing to sign, or the question is
        asked. The outcome arrives later: ``production_ready``, or a message in the banner, or the
        question; in any case ``idle``.
        """
        if not self.runner.check_idle():
            return False
        text = " ".join(self.text().split())
        glosses = self.glosses()
        if not text and not glosses:
            self._complain("Type a sentence (or glosses) to sign first.")
            return False
        if not anyway and glosses and self._flagged == (text, self.language(), " ".join(glosses)):
            self._ask()  # glosses of flagged text: ask again rather than sign them silently
            return False
        self.banner.dismiss()
        self.reliability.stop_asking()
        job = jobs.produce_job(text or " ".join(glosses), self.language(), glosses or None,
                               self.method(), produce=self._produce, strict=not anyway, backend=self.backend)
        what = " ".join(glosses) if glosses else ellipsize(text, 40)
        return self.runner.start(PRODUCING, jobs.with_scene(job), on_finished=self._produced,
                                 status=f"Signing {what}…")

    def cancel(self) -> None:
        """Cancel the running job (not a file being written); the tab returns to idle with a
        "Cancelled" status and keeps what it showed."""
        self.runner.cancel()

    def show_production(self, production: Any, scene: Any = None) -> bool:
        """Load ``production`` into the player and play it; False (with a message) if it cannot
        be drawn. ``scene``: its 3D geometry, if computed already (see :func:`build_scene`)."""
        try:
            self.player.load(production, scene)
        except (ValueError, AttributeError, IndexError, TypeError) as exc:
            self.show_error(f"This signing cannot be shown: {exc}")
            return False
        self._production = production
        self._show_reliability(getattr(production, "glossing", None))
        segments = list(getattr(production, "segments", []) or [])
        if segments:
            self.form.show_signed_glosses([str(s.gloss) for s in segments])
        summary, notes = _summary(production)
        self.summary_label.setText("\n".join([summary, *(f"• {n}" for n in notes)]))
        self._status(summary + (" Notes: " + "; ".join(notes) + "." if notes else ""))
        self._update_exports()
        self.player.play()
        self.production_ready.emit(production)
        return True

    def choose_pose(self) -> None:
        """Ask for a ``.pose`` file, then :meth:`open_pose` it."""
        if self.is_busy():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open a .pose file", self._start_dir(),
                                              POSE_FILTER)
        if path:
            self.open_pose(path)

    def open_pose(self, path: str | Path) -> bool:
        """Show a ``.pose`` file in 3D (no glosses); False if a job runs."""
        if not self.runner.check_idle():
            return False
        path = Path(path)
        self._last_dir = str(path.parent)
        self.banner.dismiss()
        job = jobs.with_scene(jobs.read_production_job(str(path), self.language()))
        return self.runner.start(LOADING, job, status=f"Reading {path.name}…",
                                 on_finished=lambda result, name=path.name: self._pose_opened(name, result))

    def choose_export(self, suffix: str) -> None:
        """Ask where to save the signing as ``suffix`` (".pose", ".mp4", ".gif"), then save."""
        if self._production is None or self.is_busy():
            return
        _text, filter_ = EXPORT_FORMATS[suffix]
        start = str(Path(self._start_dir()) / (self._default_name() + suffix))
        path, _ = QFileDialog.getSaveFileName(self, f"Save the signing as {suffix}", start,
                                              f"{filter_};;All files (*)")
        if path:
            if not path.lower().endswith(suffix):
                path += suffix
            self.export_to(path)

    def export_to(self, path: str | Path) -> bool:
        """Write the signing to ``path`` (.pose, .mp4 or .gif) on a worker; False if a job runs
        or there is nothing to save. A video shows what the 3D view shows: the same camera, the
        hand close-ups if they are on, and the gloss captions."""
        if self._production is None or not self.runner.check_idle():
            return False
        path = Path(path)
        self._last_dir = str(path.parent)
        self.banner.dismiss()
        view = self.player.view
        job = jobs.export_job(self._production, str(path), camera=view.camera(),
                              hands=view.hands_close_up())
        return self.runner.start(EXPORTING, job,
                                 on_finished=self._exported, cancellable=False,
                                 status=f"Saving {path.name}…")

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop playback, cancel every job and wait (up to ``timeout`` s) for their threads."""
        self.player.pause()
        super().shutdown(timeout)

    # playback, delegated ------------------------------------------------------------------------
    def play(self) -> None:
        """Play the signing."""
        self.player.play()

    def pause(self) -> None:
        """Pause the signing."""
        self.player.pause()

    def is_playing(self) -> bool:
        """True while the signing plays."""
        return self.player.is_playing()

    def show_frame(self, index: int) -> None:
        """Show frame ``index``."""
        self.player.show_frame(index)

    def frame_count(self) -> int:
        """Frames of the signing shown (0 if none)."""
        return self.player.frame_count()

    # ------------------------------------------------------------------------------------------
    # jobs
    def _on_failed(self, state: str, message: str, error: Any) -> None:
        if isinstance(error, OutOfDomainError):  # the core's question for the user, not a failure
            self._flagged = (" ".join(self.text().split()), self.language(), " ".join(self.glosses()))
            self.reliability.show_reliability(error.summary, error.warnings, ask=True)
            self._ask()
            return
        self.show_error(message)
        self._status(FAILED_PREFIX.get(state, "") + message)

    def _glossed(self, text: str, result: Any) -> None:
        glosses = [str(g) for g in getattr(result, "glosses", result)]
        joined = " ".join(glosses)
        self.form.set_auto_glosses(glosses)
        self._show_reliability(result if hasattr(result, "warnings") else None, ask=True)
        if glosses:
            self._status(f"Glosses: {joined}. Edit them if you like, then press Sign.")
            self.sign_button.setFocus()
        else:
            self.show_error("No glosses were found for this text.")
        self.glosses_ready.emit(list(glosses))

    def _produced(self, result: tuple[Any, Any]) -> None:
        self.show_production(*result)

    def _show_reliability(self, glossing: Any, ask: bool = False) -> None:
        """Show a core ``Glossing``'s summary and warnings under the glosses (and, with ``ask``,
        the question if it needs confirmation); given glosses keep what is shown."""
        if glossing is None:
            self.reliability.stop_asking()
            return
        needs = bool(ask and glossing.needs_confirmation)
        self._flagged = (" ".join(self.text().split()), self.language(), " ".join(glossing.glosses)) \
            if needs else None
        self.reliability.show_reliability(glossing.summary(), list(glossing.warnings), ask=needs)

    def _ask(self) -> None:
        self.reliability.show_reliability(self.reliability.summary_label.text(), self.reliability.warnings(),
                                          ask=True)
        self._status("Not signed yet: " + "; ".join(self.reliability.warnings())
                     + ". Choose “Produce anyway” to sign it.")
        self.reliability.anyway_button.setFocus()

    def _forget_reliability(self, *_args: Any) -> None:
        """The text, glosses or language changed: what was judged is gone."""
        self._flagged = None
        self.reliability.clear()

    def _pose_opened(self, name: str, result: tuple[Any, Any]) -> None:
        production = result[0]
        if self.show_production(*result):
            summary, _notes = _summary(production)
            self.summary_label.setText(f"{name}\n{summary}")
            self._status(f"{name}: {summary}")

    def _exported(self, path: str) -> None:
        self._status(f"Saved to {path}")
        self.banner.show_message(f"Saved to {path}", "info")
        self.exported.emit(str(path))

    # ------------------------------------------------------------------------------------------
    # helpers
    def _complain(self, message: str) -> None:
        self.show_error(message)
        self._status(message)
        self.text_edit.setFocus()

    def _status(self, text: str) -> None:
        self.progress.show_status(text)

    def _update_controls(self, _state: str = "") -> None:
        busy = self.is_busy()
        for widget in (self.gloss_button, self.sign_button, self.language_combo,
                       self.method_combo, self.open_pose_button):
            widget.setEnabled(not busy)
        self.cancel_button.setEnabled(self.runner.can_cancel())
        self._update_exports()

    def _update_exports(self) -> None:
        enabled = self._production is not None and not self.is_busy()
        for button in self.export_buttons.values():
            button.setEnabled(enabled)

    def _refresh_methods(self, _language: str = "") -> None:
        """Ask the core which methods the language has (on a worker: it may look for models)."""
        language = self.language()
        self.form.set_methods(["auto"])
        self.runner.run_background(lambda task: jobs.available_methods_safely(language),
                                   lambda result, lang=language: self._fill_methods(lang, *result),
                                   name="methods")

    def _fill_methods(self, language: str, methods: list[str], problem: str) -> None:
        if language == self.language():  # not an answer for a language chosen before
            self.form.set_methods(methods, problem)

    def _default_name(self) -> str:
        production = self._production
        glosses = [str(s.gloss) for s in getattr(production, "segments", [])][:6]
        name = "-".join(glosses) or "signing"
        return re.sub(r"[^\w\-]+", "_", name)[:60] or "signing"

    def _start_dir(self) -> str:
        return self._last_dir or str(Path.home())

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Pause playback when the tab is hidden (another tab chosen, window closed)."""
        self.player.pause()
        super().hideEvent(event)


def _summary(production: Any) -> tuple[str, list[str]]:
    """A one-line description of a production and its notes (for the status line)."""
    frames = int(production.frames)
    fps = float(production.fps) or 25.0
    segments = list(getattr(production, "segments", []) or [])
    seconds = f"{frames / fps:.1f} s ({frames} frames at {fps_text(fps)} frames/s)"
    if not segments:
        head = f"Showing a pose of {seconds}."
    else:
        counts: dict[str, int] = {}
        for seg in segments:
            counts[seg.source] = counts.get(seg.source, 0) + 1
        names = {"lexicon": "recorded", "fingerspelled": "fingerspelled", "model": "generated"}
        parts = ", ".join(f"{n} {names.get(s, s)}" for s, n in counts.items())
        glosses = "gloss" if len(segments) == 1 else "glosses"
        head = f"Signed {len(segments)} {glosses} in {seconds}: {parts}."
    notes = [str(n).strip() for n in (getattr(production, "notes", None) or []) if str(n).strip()]
    return head, notes
