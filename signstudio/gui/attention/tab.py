"""The Attention tab: what a translation model looked at when it produced each token.

For researchers. A model (a Signformer with a decoder, or a text transformer) is run on a video, a
``.pose`` file, a text file or a typed sentence, and every attention map of that run is recorded
(:mod:`signstudio.interpret.record`, through the tab's :class:`~signstudio.gui.runner.JobRunner`
and :mod:`signstudio.gui.attention.jobs`). The record, the map chosen in it, the selected token
and SignAttention's analyses of them live in a Qt-free :class:`~signstudio.interpret.session.
AttentionSession`, which :class:`~signstudio.gui.attention.view.AttentionView` shows: heatmap,
diagonal score, clusters, contributions, and the clip, which jumps to the frames a token attends.
Records can be saved and opened again (``.npz``), the matrix shown exported as PNG or CSV. Errors
show as a one-line banner and never replace what is shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFileDialog, QLabel, QStackedWidget, QVBoxLayout, QWidget

from signstudio.gui.attention import jobs
from signstudio.gui.attention.bar import AttentionBar
from signstudio.gui.attention.jobs import AttentionRun, SourceClip
from signstudio.gui.attention.view import AttentionView, intro_page, summary_html
from signstudio.gui.frames import FrameCache
from signstudio.gui.models import InstalledModels
from signstudio.gui.runner import JobProgress
from signstudio.gui.shortcuts import bind
from signstudio.gui.tab import JobTab
from signstudio.gui.widgets import ellipsize, start_folder
from signstudio.interpret.session import (AttentionSession, input_kind, looks_like_path, pick_model,
                                          run_choice)

#: Tab states (the runner's job names).
RECORDING, OPENING, LOADING_SOURCE, SAVING = "recording", "opening", "loading source", "saving"
#: What a failed job's status line starts with.
FAILED_PREFIX = {RECORDING: "Could not record the attention: ", OPENING: "Could not open: ",
                 SAVING: "Could not save: ", LOADING_SOURCE: "Could not load the clip: "}

VIDEO_FILTER = ("Videos and pose files (*.mp4 *.mov *.avi *.mkv *.webm *.m4v *.mpg *.mpeg "
                "*.pose);;All files (*)")
TEXT_FILTER = "Text files (*.txt);;All files (*)"
RECORD_FILTER = "Attention records (*.npz);;All files (*)"


class AttentionTab(JobTab):
    """Record, show and export the attention of a sign-to-text or text model.

    Public entry points (also for tests and screenshots): :meth:`run`, :meth:`record_path`,
    :meth:`record_text`, :meth:`open_record`, :meth:`load_record_object`, :meth:`set_view`,
    :meth:`select_token`, :meth:`save_record_to`, :meth:`export_png_to`, :meth:`export_csv_to`,
    :meth:`cancel`, :meth:`shutdown`; state: :meth:`record`, :meth:`view`,
    :meth:`displayed_matrix`, :meth:`current_token`, :meth:`player_position`, :meth:`is_busy`,
    :meth:`error_text`; the analyses are in :attr:`session`.

    Args:
        models: the window's installed models (default: the tab lists them itself).

    Signals:
        status_message(str): a line for the window's status bar.
        busy_changed(bool): a job started (True) or the tab became idle (False).
        record_shown(object): an ``AttentionRecord`` is now shown.
        source_loaded(): the player got the clip of the record shown.
        token_selected(int): the selected decoding step changed.
        exported(str): a file was written (its path).
        error_shown(str): an error message was shown.
        idle(): the tab returned to idle (after success, failure or cancel).
        models_loaded(): the model selector was filled.
    """

    record_shown = Signal(object)
    source_loaded = Signal()
    token_selected = Signal(int)
    exported = Signal(str)
    models_loaded = Signal()

    def __init__(self, parent: QWidget | None = None, models: InstalledModels | None = None) -> None:
        super().__init__(parent, models)
        self.setAcceptDrops(True)
        self.session = AttentionSession()
        self._record_path = ""
        self._input_path = ""
        self._clip_source = ""
        self._last_dir = ""
        self._build()
        runner = self.runner
        self.progress = JobProgress(runner, self.progress_bar, self.status_label, echo=self.status_message.emit)
        runner.state_changed.connect(self._update_controls)
        runner.busy_changed.connect(self.busy_changed)
        runner.progress.connect(self._on_progress)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(lambda _state: self._status("Cancelled; the view is unchanged."))
        runner.idle.connect(self.idle)
        self._update_controls()

    # ------------------------------------------------------------------------------------------
    # layout
    def _build(self) -> None:
        self.bar = bar = AttentionBar(self.models)
        # The bar's widgets, named on the tab as well (tests and screenshots reach them here).
        self.model_combo, self.sentence_edit = bar.model_combo, bar.sentence_edit
        self.open_clip_button, self.open_text_button = bar.open_clip_button, bar.open_text_button
        self.open_record_button, self.save_record_button = bar.open_record_button, bar.save_record_button
        self.export_png_button, self.export_csv_button = bar.export_png_button, bar.export_csv_button
        self.run_button, self.cancel_button = bar.run_button, bar.cancel_button
        self.progress_bar, self.status_label = bar.progress_bar, bar.status_label
        for widget, slot in ((bar.open_clip_button, self.choose_clip), (bar.open_text_button, self.choose_text),
                             (bar.open_record_button, self.choose_record),
                             (bar.save_record_button, self.choose_save_record),
                             (bar.export_png_button, self.choose_export_png),
                             (bar.export_csv_button, self.choose_export_csv),
                             (bar.run_button, self.run_clicked), (bar.cancel_button, self.cancel)):
            widget.clicked.connect(slot)
        bar.sentence_edit.returnPressed.connect(self.run_clicked)
        bar.model_combo.currentIndexChanged.connect(self._model_changed)
        bar.model_combo.models_loaded.connect(self.models_loaded)

        self.summary_label = QLabel("")
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_label.setAccessibleName("Record shown")

        self.analysis = view = AttentionView(self.session)
        view.token_selected.connect(self.token_selected)
        # The view's widgets, named on the tab as well (tests and screenshots reach them here).
        self.splitter, self.heatmap, self.contribution = view, view.heatmap, view.contribution
        self.kind_combo, self.layer_combo, self.head_combo = view.kind_combo, view.layer_combo, view.head_combo
        self.diagonal_label, self.contribution_title = view.diagonal_label, view.contribution_title
        self.player, self.source_view, self.clip_stack = view.player, view.source_view, view.clip_stack
        self.token_list, self.cluster_label = view.token_list, view.cluster_label

        self.body = QStackedWidget()
        self.body.addWidget(intro_page())
        self.body.addWidget(view)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(6)
        layout.addWidget(bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.body, 1)

        bind(self, "cancel", self.cancel)
        self.player.bind_keys(self)

    def apply_preferences(self, prefs) -> None:
        """The default model and the playback speed."""
        self.player.set_speed(prefs.playback_speed)
        self.model_combo.set_preferred(prefs.attention_model)

    # ------------------------------------------------------------------------------------------
    # models
    def refresh_models(self) -> None:
        """List the installed models again (the selector follows when the list is made)."""
        self.models.refresh()

    def models_ready(self) -> bool:
        """True once the model selector has been filled."""
        return self.model_combo.is_ready()

    def selected_model(self) -> str | None:
        """The model chosen in the selector (None while the list is not there)."""
        return self.model_combo.selected()

    def _pick_model(self, kind: str, explicit: str | None) -> str | None:
        """The model to run on input of ``kind`` (:func:`~signstudio.interpret.session.pick_model`);
        the selector follows, and the status line names the model run."""
        name = pick_model(self.model_combo.choices(), kind, self.selected_model(), explicit)
        self.model_combo.select(name)
        return name

    def _model_changed(self, _index: int) -> None:
        name = self.selected_model()
        record = self.session.record
        if name and record is not None and name != getattr(record, "model", ""):
            self._status(f"Press Run to record {name}'s attention.")

    # ------------------------------------------------------------------------------------------
    # public API: state
    def record(self) -> Any:
        """The ``AttentionRecord`` shown, or None."""
        return self.session.record

    def view(self) -> tuple[str, int, int | None]:
        """``(kind, layer, head)`` shown: kind among ``KINDS``, layer index (0-based), head index
        or None for the mean of heads."""
        return self.session.view

    def displayed_matrix(self) -> np.ndarray | None:
        """A copy of the matrix in the heatmap (rows x columns), or None."""
        return self.heatmap.matrix()

    def current_token(self) -> int | None:
        """The selected decoding step (row of the cross-attention), or None."""
        return self.session.token

    def player_position(self) -> int:
        """The player's frame index (0-based; 0 with no clip)."""
        return self.analysis.player_position()

    def pose_fps(self) -> float:
        """Frames per second of the clip in the player (0 with none)."""
        return self.analysis.pose_fps()

    def clusters(self, token: int | None = None) -> list:
        """The frame clusters of ``token`` (default: the selected one) in the analysed
        cross-attention (see :meth:`AttentionSession.clusters`)."""
        return self.session.clusters(token)

    def diagonal_score(self) -> float:
        """The diagonal score shown (NaN when undefined)."""
        return self.session.diagonal() if self.session.record is not None else float("nan")

    # ------------------------------------------------------------------------------------------
    # public API: running
    def run(self, path_or_text: str | Path, model_name: str | None = None) -> bool:
        """Record ``model_name``'s attention (None: the model chosen, or one that fits) on a file
        (a ``Path``, or a string naming an existing file or ending in a file suffix) or a
        sentence; a ``.npz`` is opened as a saved record (:meth:`open_record`). Returns False if
        a job runs or there is nothing to record; the outcome arrives later (``record_shown`` or
        the banner, in any case ``idle``)."""
        if isinstance(path_or_text, Path) or looks_like_path(str(path_or_text)):
            if str(path_or_text).lower().endswith(".npz"):
                return self.open_record(path_or_text)
            return self.record_path(path_or_text, model_name)
        return self.record_text(str(path_or_text), model_name)

    def record_path(self, path: str | Path, model_name: str | None = None) -> bool:
        """Record the attention on a video or ``.pose`` file (sign model) or a text file (text
        model) on a worker; see :meth:`run`."""
        if not self.runner.check_idle():
            return False
        path = Path(path)
        self._last_dir = str(path.parent)
        model = self._pick_model(input_kind(path), model_name)
        self.banner.dismiss()
        return self.runner.start(RECORDING, jobs.record_job(str(path), model),
                                 on_finished=lambda result, p=str(path): self._recorded(result, p),
                                 status=f"Recording {model or 'the default model'} on {path.name}…")

    def record_text(self, text: str, model_name: str | None = None) -> bool:
        """Record a text model's attention on a typed sentence on a worker; see :meth:`run`."""
        if not self.runner.check_idle():
            return False
        text = " ".join(str(text).split())
        if not text:
            self._complain("Type a sentence first, or open a file.")
            return False
        if self.sentence_edit.text().strip() != text:
            self.sentence_edit.setText(text)
        model = self._pick_model(input_kind(text), model_name)
        self.banner.dismiss()
        return self.runner.start(RECORDING, jobs.record_text_job(text, model),
                                 on_finished=lambda result: self._recorded(result, ""),
                                 status=f"Recording {model or 'the default model'} on “{ellipsize(text, 40)}”…")

    def run_clicked(self) -> None:
        """The Run button: the sentence for a text model (or when no file is open), otherwise
        the file opened last, with the model chosen."""
        choice = run_choice(self.sentence_edit.text(), self.models.task_of(self.selected_model()),
                            self._input_path)
        if choice is None:
            self._complain("Open a video, .pose or text file, or type a sentence, first.")
        elif choice[0] == "text":
            self.record_text(choice[1])
        else:
            self.record_path(choice[1], self.selected_model())

    def open_record(self, path: str | Path) -> bool:
        """Show a record saved as ``.npz`` (read on a worker); then, for a sign model, look for
        its clip (its saved input path, or a file of that name beside the ``.npz``)."""
        if not self.runner.check_idle():
            return False
        path = Path(path)
        self._last_dir = str(path.parent)
        self.banner.dismiss()
        return self.runner.start(OPENING, jobs.open_record_job(str(path)), status=f"Reading {path.name}…",
                                 on_finished=lambda result, p=str(path): self._record_opened(result, p))

    def load_record_object(self, record: Any, source_path: str | Path | None = None,
                           pose: Any = None, info: Any = None,
                           frames: FrameCache | None = None) -> bool:
        """Show ``record`` (an ``AttentionRecord``) without running a model.

        Args:
            source_path: the clip to play beside it (a ``.pose`` file or a video, loaded on a
                worker; ``source_loaded`` fires when it is in the player). None: no clip,
                unless ``pose`` is given.
            pose, info, frames: the clip itself, shown at once (a pose-format ``Pose``, its
                ``VideoInfo`` and downscaled frames, as an ``AttentionRun`` holds them).

        Returns:
            False (with a message) if a job runs or the record is inconsistent.
        """
        if not self.runner.check_idle():
            return False
        source = str(source_path) if source_path is not None and pose is not None else ""
        if not self._show_run(AttentionRun(record, pose, info, frames, source)):
            return False
        self.banner.dismiss()
        if source_path is not None and pose is None:
            self._load_source(Path(source_path))
        return True

    def cancel(self) -> None:
        """Cancel the running job (not a file being written); what is shown stays."""
        self.runner.cancel()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop playback, cancel every job and wait (up to ``timeout`` s) for their threads; for
        closing the window."""
        self.player.pause()
        super().shutdown(timeout)

    # ------------------------------------------------------------------------------------------
    # public API: view
    def set_view(self, kind: str | None = None, layer: int | None = None,
                 head: int | None | str = "keep") -> None:
        """Show another map: ``kind`` (``KINDS``), ``layer`` (0-based; negative counts from the
        last) and ``head`` (an index, None for the mean of heads, "keep" to leave it).

        Raises:
            ValueError: unknown kind, or no such layer or head (the view stays as it was).
        """
        self.analysis.set_view(kind, layer, head)

    def select_token(self, step: int, jump: bool = True) -> None:
        """Select decoding step ``step``: highlight it and, with ``jump``, move the player to the
        first frame of the cluster of frames it attends most (time in seconds of the record,
        turned into a frame of the clip at the clip's own frame rate)."""
        self.analysis.select_token(step, jump)

    # ------------------------------------------------------------------------------------------
    # public API: files
    def choose_clip(self) -> None:
        """Ask for a video or ``.pose`` file, then record it."""
        self._ask_open("Open a video or .pose file of signing", VIDEO_FILTER, self.record_path)

    def choose_text(self) -> None:
        """Ask for a text file (one sentence), then record it with a text model."""
        self._ask_open("Open a text file", TEXT_FILTER, self.record_path)

    def choose_record(self) -> None:
        """Ask for a saved record (``.npz``), then show it."""
        self._ask_open("Open an attention record", RECORD_FILTER, self.open_record)

    def choose_save_record(self) -> None:
        """Ask where to save the record (``.npz``), then save it."""
        self._ask_save("Save the attention record", ".npz", RECORD_FILTER, "", self.save_record_to)

    def choose_export_png(self) -> None:
        """Ask where to save the matrix shown as PNG, then save it."""
        self._ask_save("Export the heatmap as PNG", ".png", "PNG images (*.png)", "view", self.export_png_to)

    def choose_export_csv(self) -> None:
        """Ask where to save the matrix shown as CSV, then save it."""
        self._ask_save("Export the matrix as CSV", ".csv", "CSV files (*.csv)", "view", self.export_csv_to)

    def save_record_to(self, path: str | Path) -> bool:
        """Write the record to ``path`` (``.npz``) on a worker; False if busy or nothing shown."""
        record = self.session.record
        return record is not None and self._save(jobs.save_record_job(record, str(path)), path)

    def export_png_to(self, path: str | Path) -> bool:
        """Write the matrix shown (kind, layer, head) as a PNG heatmap on a worker."""
        record = self.session.record
        return record is not None and self._save(jobs.export_png_job(record, str(path), *self.view()), path)

    def export_csv_to(self, path: str | Path) -> bool:
        """Write the matrix shown as CSV on a worker: a ``token`` column then one column per frame
        (seconds) or source token; one row per row of the heatmap."""
        record = self.session.record
        return record is not None and self._save(jobs.export_csv_job(record, str(path), *self.view()), path)

    def _save(self, job, path: str | Path) -> bool:
        if not self.runner.check_idle():
            return False
        path = Path(path)
        self._last_dir = str(path.parent)
        self.banner.dismiss()
        return self.runner.start(SAVING, job, on_finished=self._saved, cancellable=False,
                                 status=f"Saving {path.name}…")

    def _ask_open(self, title: str, filter_: str, then) -> None:
        if not self.is_busy():
            path, _ = QFileDialog.getOpenFileName(self, title, self._start_dir(), filter_)
            if path:
                then(path)

    def _ask_save(self, title: str, suffix: str, filter_: str, what: str, then) -> None:
        if self.session.record is None or self.is_busy():
            return
        start = str(Path(self._start_dir()) / (self.session.default_name(what) + suffix))
        path, _ = QFileDialog.getSaveFileName(self, title, start, f"{filter_};;All files (*)")
        if path:
            then(path if path.lower().endswith(suffix) else path + suffix)

    # ------------------------------------------------------------------------------------------
    # the jobs' outcomes
    def _on_progress(self, done: int, total: int, unit: str) -> None:
        if total > 0 and unit == "frame":
            self._status(f"Finding hands and body: frame {done} of {total}")

    def _on_failed(self, state: str, message: str, _error: Any) -> None:
        if state == LOADING_SOURCE:
            self.banner.show_message("The record is shown, but its clip could not be loaded for "
                                     f"playback: {message}", "warning")
            self.error_shown.emit(message)
        else:
            self.show_error(message)
        self._status(FAILED_PREFIX.get(state, "") + message)

    def _recorded(self, run: AttentionRun, path: str) -> None:
        if not self._show_run(run):
            return
        if path:
            self._input_path = path
        self._record_path = ""
        words = " ".join(t for t in run.record.tokens if t != "</s>") or "(nothing)"
        self._status(f"Recorded {run.record.model}: {words}.")

    def _record_opened(self, run: AttentionRun, path: str) -> None:
        if not self._show_run(run):
            return
        self._record_path = path
        source = jobs.find_source(run.record, path)
        if source is not None:
            self._input_path = str(source)
            self._load_source(source)
        else:
            self._status(f"Opened {Path(path).name}.")
            if run.record.model_type == "signformer":
                self.banner.show_message(
                    f"The clip this record was made from ({run.record.input or 'unknown'}) was "
                    "not found, so there is nothing to play.", "info")

    def _load_source(self, path: Path) -> None:
        self.runner.start(LOADING_SOURCE, jobs.load_source_job(str(path)), on_finished=self._source_ready,
                          status=f"Loading {path.name} for playback…")

    def _source_ready(self, clip: SourceClip) -> None:
        self._set_clip(clip.pose, clip.info, clip.frames, clip.source)
        self._status(f"Showing the attention with {Path(clip.source).name}.")
        if self.session.token is not None:
            self.analysis.jump_to_token(self.session.token)
        self.source_loaded.emit()

    def _saved(self, path: str) -> None:
        self._status(f"Saved to {path}")
        self.banner.show_message(f"Saved to {path}", "info")
        self.exported.emit(str(path))

    # ------------------------------------------------------------------------------------------
    # showing a record
    def _show_run(self, run: AttentionRun) -> bool:
        """Show ``run``'s record (and clip); False, with the reason in the banner and what was
        shown kept, if the record cannot be shown."""
        try:
            self.session.set_record(run.record)
        except ValueError as exc:
            self.show_error(f"This attention record cannot be shown: {exc}")
            return False
        if run.pose is not None:
            self._set_clip(run.pose, run.info, run.frames, run.source)
        else:
            self.analysis.clear_clip()
            self._clip_source = ""
        self.analysis.show_record()
        self._show_summary()
        self.body.setCurrentIndex(1)
        self._update_controls()
        self.record_shown.emit(run.record)
        return True

    def _set_clip(self, pose: Any, info: Any, frames: FrameCache | None, source: str) -> None:
        self.analysis.set_clip(pose, info, frames)
        self._clip_source = source
        self._show_summary()

    def _show_summary(self) -> None:
        record = self.session.record
        if record is not None:
            self.summary_label.setText(summary_html(record, self._clip_source or record.input))

    # ------------------------------------------------------------------------------------------
    # helpers
    def _status(self, text: str) -> None:
        self.progress.show_status(text)

    def _complain(self, message: str) -> None:
        self.show_error(message)
        self._status(message)

    def _update_controls(self, _state: str = "") -> None:
        busy = self.is_busy()
        for widget in (self.model_combo, self.open_clip_button, self.open_text_button,
                       self.open_record_button, self.run_button, self.sentence_edit):
            widget.setEnabled(not busy)
        self.cancel_button.setEnabled(self.runner.can_cancel())
        self.cancel_button.setVisible(busy)
        enabled = self.session.record is not None and not busy
        for widget in (self.save_record_button, self.export_png_button, self.export_csv_button):
            widget.setEnabled(enabled)

    def _start_dir(self) -> str:
        return self._last_dir or start_folder()

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Pause playback when the tab is hidden."""
        self.player.pause()
        super().hideEvent(event)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Accept a dragged file while idle."""
        if not self.is_busy() and event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """A dropped ``.npz`` is opened as a record; any other file is recorded."""
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            path = urls[0].toLocalFile()
            if path.lower().endswith(".npz"):
                self.open_record(path)
            else:
                self.record_path(path)
