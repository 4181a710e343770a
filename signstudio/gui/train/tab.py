"""The Train tab: edit a training config, run it in a child process, watch the curves.

Left: a config template and its YAML, checked as you type (:mod:`signstudio.gui.train.editor`),
and where the model will be saved. Right: live curves, progress with the time left, a log.

Training never runs in the window's process: Start writes the config to
``<output>/config.yaml`` and starts ``signstudio train --events`` in a child process
(:class:`signstudio.training.process.TrainingProcess`), run by the tab's
:class:`~signstudio.gui.runner.JobRunner` like any other job (a
:class:`~signstudio.gui.workers.ProcessWorker` polls its events). The events go to a Qt-free
:class:`~signstudio.training.monitor.TrainingMonitor`, which holds the curves, the best point by
the recipe's own metric, the progress and the outcome; the tab only draws it
(:mod:`signstudio.gui.train.curves`). A crash or kill of the child is shown as a message in the
tab. Resume continues a stopped run from ``<output>/train_state.pt``; its earlier curve points
come from ``<output>/metrics.jsonl``.

Runs started here always go to the user's models folder
(:func:`~signstudio.training.config.resolve_output`), never over a shipped model; replacing a
run already in the output folder is confirmed first.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QMessageBox, QPlainTextEdit,
                               QProgressBar, QPushButton, QSizePolicy, QSplitter, QStyle,
                               QVBoxLayout, QWidget)

from signstudio.errors import ConfigError
from signstudio.gui.models import InstalledModels
from signstudio.gui.tab import JobTab
from signstudio.gui.train.curves import TrainingCurves
from signstudio.gui.train.editor import ConfigEditor, template_items
from signstudio.gui.workers import ProcessWorker, write_problem
from signstudio.paths import PROJECT_ROOT
from signstudio.training.config import resolve_output
from signstudio.training.monitor import TrainingMonitor, shipped_model_folder, stopped_epoch
from signstudio.training.process import TrainingProcess
from signstudio.training.run import can_resume, holds_run

#: Tab states (``running`` is the runner's job; ``cancelling`` while a cancel is under way).
RUNNING, CANCELLING = "running", "cancelling"
#: How often the child's events are read, in milliseconds.
POLL_MS = 200
#: Where the shipped config templates live.
CONFIG_DIR = PROJECT_ROOT / "resources" / "configs"
#: Written into the output folder at Start; the child trains from it.
CONFIG_NAME = "config.yaml"
OPEN_CONFIG = "Open config…"
#: The largest config file the editor opens (a config is a page of YAML).
MAX_CONFIG_BYTES = 1024 ** 2

class TrainTab(JobTab):
    """Train a model from a YAML config in a child process, with live curves.

    Public entry points (also used by tests): :meth:`load_config_text`, :meth:`load_config_file`,
    :meth:`validate`, :meth:`start`, :meth:`resume`, :meth:`cancel`, :meth:`shutdown`; state:
    :attr:`state`, :meth:`is_busy`, :meth:`error_text`, :attr:`output`, :attr:`process`,
    :attr:`monitor` (the run's :class:`~signstudio.training.monitor.TrainingMonitor`).

    Args:
        config_dir: where the config templates are (default: the shipped ``resources/configs``).
        models: the window's installed models, refreshed when a run has saved a model.
        confirm: asks whether a fresh run may replace the run in a folder (``confirm(folder)``
            returns True to go ahead); default: a question box (:meth:`confirm_overwrite`).

    Signals:
        status_message(str): a line for the window's status bar.
        busy_changed(bool): a run started (True) or ended (False).
        run_finished(str): a run ended: "done", "cancelled" or "failed".
        model_saved(str): a run finished and saved ``<folder>/model.pt`` (the folder's path), so
            the window can refresh its model lists.
    """

    run_finished = Signal(str)
    model_saved = Signal(str)

    def __init__(self, parent: QWidget | None = None, config_dir: str | Path | None = None,
                 models: InstalledModels | None = None,
                 confirm: Callable[[Path], bool] | None = None) -> None:
        super().__init__(parent, models, autoload_models=False)
        self._config_dir = Path(config_dir) if config_dir is not None else CONFIG_DIR
        self._confirm = confirm
        self.output: Path | None = None
        self.process: TrainingProcess | None = None
        self.monitor: TrainingMonitor | None = None
        self._last_combo_index = 0
        self._build()
        runner = self.runner
        runner.state_changed.connect(self._state_changed)
        runner.busy_changed.connect(self.busy_changed)
        runner.status.connect(self._status)
        runner.partial.connect(self._event)
        for signal in (runner.finished, runner.failed, runner.cancelled):
            signal.connect(self._ended)
        self._state_changed()

    # ------------------------------------------------------------------------------------------
    # layout
    def _build(self) -> None:
        style = self.style()
        icons = QStyle.StandardPixmap

        config_label = QLabel("&Config:")
        self.template_combo = QComboBox()
        self.template_combo.setMinimumContentsLength(34)
        self.template_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.template_combo.setAccessibleName("Config template")
        self.template_combo.setToolTip("Start from a shipped example config, or open your own")
        config_label.setBuddy(self.template_combo)
        self.template_combo.activated.connect(self._template_chosen)

        self.save_button = QPushButton("Save as…")
        self.save_button.setIcon(style.standardIcon(icons.SP_DialogSaveButton))
        self.save_button.setToolTip("Save the config in the editor to a YAML file (it is checked first)")
        self.save_button.clicked.connect(self.choose_save_path)

        self.start_button = QPushButton("Start")
        self.start_button.setIcon(style.standardIcon(icons.SP_MediaPlay))
        self.start_button.setToolTip("Train a new model with this config (in a separate process)")
        self.start_button.clicked.connect(self.start)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setIcon(style.standardIcon(icons.SP_MediaSeekForward))
        self.resume_button.setToolTip("Continue the stopped run in the output folder from its last evaluation")
        self.resume_button.clicked.connect(self.resume)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setIcon(style.standardIcon(icons.SP_DialogCancelButton))
        self.cancel_button.setToolTip("Stop training after the current step; the best model so far is kept (Esc)")
        self.cancel_button.clicked.connect(self.cancel)

        top = QHBoxLayout()
        top.addWidget(config_label)
        top.addWidget(self.template_combo)
        top.addWidget(self.save_button)
        top.addStretch(1)
        top.addWidget(self.start_button)
        top.addWidget(self.resume_button)
        top.addWidget(self.cancel_button)

        # --- left: the config -------------------------------------------------------------------
        self.config_editor = left = ConfigEditor()
        left.validated.connect(self._config_checked)
        self.editor, self.validation_label = left.editor, left.validation_label
        self.output_label = left.output_label

        # --- right: curves, progress, log -------------------------------------------------------
        self.curves = curves = TrainingCurves()
        # The curves' items, named on the tab as well (tests reach them here).
        self.loss_plot, self.loss_curve = curves.loss_plot, curves.loss_curve
        self.dev_plot, self.dev_curve, self.best_marker = curves.dev_plot, curves.dev_curve, curves.best_marker

        self.progress_bar = QProgressBar()
        self.progress_bar.setAccessibleName("Training progress")
        self.progress_bar.setFormat("no training running")
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.time_label = QLabel("")
        self.time_label.setAccessibleName("Time left")
        self.time_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("about 55 min left") + 12)
        progress = QHBoxLayout()
        progress.addWidget(self.progress_bar, 1)
        progress.addWidget(self.time_label)
        self.status_label = QLabel("Press Start to train this config; it runs in a separate process, "
                                   "so you can keep using the other tabs.")
        self.status_label.setAccessibleName("Training status")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setWordWrap(True)
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(2000)
        self.log_view.setAccessibleName("Training log")
        self.log_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log_view.setPlaceholderText("What the training run reports appears here.")
        self.log_view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.log_view.setMinimumHeight(self.fontMetrics().height() * 5)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(curves, 3)
        right_layout.addLayout(progress)
        right_layout.addWidget(self.status_label)
        right_layout.addWidget(self.log_view, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        self._sized = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)

        shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.cancel)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """The first time the tab is shown, list the templates and load the first (reading a
        config loads PyTorch and builds the model's shapes: seconds, not while the window
        opens) and give the editor about 40 % of the width."""
        super().showEvent(event)
        if self.template_combo.count() == 0:  # reading the templates loads PyTorch
            self._fill_templates()
        if not self._sized:  # the editor gets about 40 % of the width, the curves the rest
            self._sized = True
            width = max(self.splitter.width(), 800)
            editor = max(self.splitter.widget(0).minimumWidth(), int(width * 0.38))
            self.splitter.setSizes([editor, width - editor])

    # ------------------------------------------------------------------------------------------
    # templates
    def _fill_templates(self) -> None:
        self.template_combo.clear()
        for label, path, tip in template_items(self._config_dir):
            self.template_combo.addItem(label, path)
            self.template_combo.setItemData(self.template_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.template_combo.insertSeparator(self.template_combo.count())
        self.template_combo.addItem(OPEN_CONFIG, None)
        if self.template_combo.count() > 2:
            self.template_combo.setCurrentIndex(0)
            if not self.config_editor.text() and self.process is None:
                self._template_chosen(0)

    def _template_chosen(self, index: int) -> None:
        path = self.template_combo.itemData(index)
        if path is None:  # "Open config…"
            self.template_combo.setCurrentIndex(self._last_combo_index)
            self.choose_config_file()
            return
        self._last_combo_index = index
        self.load_config_file(path)

    def choose_config_file(self) -> None:
        """Ask for a YAML config file and load it into the editor."""
        path, _ = QFileDialog.getOpenFileName(self, "Open a training config", str(self._config_dir),
                                              "Training configs (*.yaml *.yml);;All files (*)")
        if path:
            self.load_config_file(path)

    def load_config_file(self, path: str | Path) -> bool:
        """Put the text of config file ``path`` in the editor (validated); False if unreadable."""
        path = Path(path)
        try:
            if path.is_file() and path.stat().st_size > MAX_CONFIG_BYTES:
                size = path.stat().st_size / 1024 ** 2
                self.show_error(f"Cannot read {path}: {size:.1f} MB is too large for a training config")
                return False
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.show_error(f"Cannot read {path}: not a UTF-8 text file (a training config is YAML text)")
            return False
        except OSError as exc:
            self.show_error(f"Cannot read {path}: {exc.strerror or exc}")
            return False
        index = self.template_combo.findData(str(path))
        if index < 0:
            index = self.template_combo.count() - 2  # before the separator and "Open config…"
            self.template_combo.insertItem(index, path.name, str(path))
            self.template_combo.setItemData(index, str(path), Qt.ItemDataRole.ToolTipRole)
        self.template_combo.setCurrentIndex(index)
        self._last_combo_index = index
        self.load_config_text(text)
        return True

    def choose_save_path(self) -> None:
        """Ask where to save the editor's config, and save it (only if it is valid)."""
        if not self.validate():
            return
        start = str(Path.home() / f"{self._cfg.name}.yaml")
        path, _ = QFileDialog.getSaveFileName(self, "Save the training config", start,
                                              "Training configs (*.yaml *.yml)")
        if path:
            self.save_config(path)

    def save_config(self, path: str | Path) -> bool:
        """Write the editor's config to ``path`` (checked first, written atomically)."""
        from signstudio.training.process import write_config

        try:
            write_config(self.config_text(), path)
        except ConfigError as exc:
            self.show_error(f"Not saved: {exc}")
            return False
        except OSError as exc:
            self.show_error(f"Cannot write {path}: {write_problem(path, exc)}")
            return False
        self._status(f"Saved the config to {path}")
        return True

    # ------------------------------------------------------------------------------------------
    # the config
    def load_config_text(self, text: str) -> bool:
        """Put YAML ``text`` in the editor and check it now; returns whether it is valid."""
        return self.config_editor.set_text(text)

    def config_text(self) -> str:
        """The YAML in the editor."""
        return self.config_editor.text()

    def validate(self) -> bool:
        """Check the editor's YAML; show the result under it; enable Start only if it is valid."""
        return self.config_editor.validate()

    @property
    def _cfg(self) -> Any:
        return self.config_editor.config

    def config_error(self) -> str:
        """Why the editor's config is invalid ("" when it is valid)."""
        return self.config_editor.error

    def _config_checked(self, valid: bool) -> None:
        if not self.is_busy():  # a run keeps its own output folder
            self.output = resolve_output(self._cfg) if valid else None
            if valid:
                self._show_output()
                self.curves.set_eval_every(self._cfg.train.eval_every)
            else:
                self.output_label.setText("Fix the config to see where the model will be saved.")
        self._update_buttons()

    def stopped_epoch(self, out: Path | None = None) -> int | None:
        """The last evaluated epoch of a stopped, resumable run in ``out`` (default: the output
        folder); ``None`` if there is none, or if the run there reached its last epoch."""
        out = out if out is not None else self.output
        return stopped_epoch(out, self._cfg.train.epochs if self._cfg is not None else None)

    def _show_output(self) -> None:
        if self.output is None:
            return
        text = f"Model will be saved to: {self.output / 'model.pt'}"
        stopped = self.stopped_epoch()
        if shipped_model_folder(self.output) is not None:
            text += "\nThat is a shipped model's folder: Start refuses to replace it."
        elif stopped is not None:
            at = f" after epoch {stopped}" if stopped else ""
            text += f"\nA run stopped there{at}: Resume continues it; Start begins again and replaces it."
        elif (self.output / "model.pt").is_file():
            text += "\nA trained model is there already: Start asks before replacing it."
        self.config_editor.show_output(text)

    # ------------------------------------------------------------------------------------------
    # state
    @property
    def state(self) -> str:
        """"idle", "running" or "cancelling"."""
        return CANCELLING if self.runner.cancelling else self.runner.state

    def error_text(self) -> str:
        """The message shown in the banner ("" if none)."""
        return self.banner.text()

    def show_error(self, message: str) -> None:
        """Show a one-line error in the banner (and on the status bar)."""
        super().show_error(message)
        self.status_message.emit(message)

    def _status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_message.emit(text)

    def _log(self, text: str) -> None:
        self.log_view.appendPlainText(f"{time.strftime('%H:%M:%S')}  {text}")

    def _state_changed(self, _state: str = "") -> None:
        idle = not self.is_busy()
        self.config_editor.set_read_only(not idle)
        self.template_combo.setEnabled(idle)
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = not self.is_busy()
        valid = self._cfg is not None
        self.start_button.setEnabled(idle and valid)
        self.resume_button.setEnabled(idle and valid and self.stopped_epoch() is not None)
        self.cancel_button.setEnabled(self.runner.can_cancel())
        self.save_button.setEnabled(valid)
        if not valid:
            self.start_button.setToolTip(f"Fix the config first: {self.config_error()}")
        else:
            self.start_button.setToolTip("Train a new model with this config (in a separate process)")

    # ------------------------------------------------------------------------------------------
    # runs
    def start(self) -> bool:
        """Train a new model with the editor's config; False (with a message) if it cannot start."""
        return self._launch(resume=False)

    def resume(self) -> bool:
        """Continue the stopped run in the output folder; False (with a message) if it cannot."""
        return self._launch(resume=True)

    def _launch(self, resume: bool) -> bool:
        if not self.runner.check_idle():
            return False
        if not self.validate():
            self.show_error(f"The config is not valid: {self.config_error()}")
            return False
        from signstudio.training.process import write_config

        out = resolve_output(self._cfg)
        shipped = shipped_model_folder(out)
        if shipped is not None:
            self.show_error(f"Not started: {out} is in the shipped models folder ({shipped}), and SignStudio "
                            "never replaces a shipped model. Point SIGNSTUDIO_USER_MODELS at your own folder.")
            return False
        if resume and self.stopped_epoch(out) is None:
            why = ("the run there is finished" if can_resume(out) else
                   "no train_state.pt (a run saves it at each evaluation)")
            self.show_error(f"Nothing to resume in {out}: {why}. Press Start to train again.")
            return False
        overwrite = not resume and holds_run(out)
        if overwrite and not (self._confirm or self.confirm_overwrite)(out):
            self._status(f"Not started: {out} keeps its run")
            return False
        config_path = out / CONFIG_NAME
        try:
            write_config(self.config_text(), config_path)
            process = TrainingProcess(config_path, output=out, resume=resume, overwrite=overwrite)
            monitor = TrainingMonitor.for_config(self._cfg, out, resume)
            self.runner.start(RUNNING, ProcessWorker(process, name="training", poll_ms=POLL_MS),
                              discard_on_cancel=False)
        except ConfigError as exc:
            self.show_error(str(exc))
            return False
        except OSError as exc:
            self.show_error(f"Cannot start training in {out}: {write_problem(out / CONFIG_NAME, exc)}")
            return False
        self.banner.dismiss()
        self.process, self.output, self.monitor = process, out, monitor
        self.progress_bar.setFormat("%v / %m steps")
        self.progress_bar.setRange(0, 0)  # busy until the run announces its steps
        self.time_label.setText("")
        self.curves.show_run(monitor)
        self._log(f"{'Resuming' if resume else 'Starting'} {self._cfg.name} → {out}")
        self._status("Starting the training process…")
        return True

    def confirm_overwrite(self, out: Path) -> bool:
        """Ask before a fresh run replaces the run in ``out`` (its model, metrics and state)."""
        answer = QMessageBox.question(
            self, "Replace the trained model?",
            f"{out} already holds a training run. Starting again deletes its model and metrics.\n\n"
            "Replace it?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def cancel(self) -> None:
        """Ask the running training to stop (after its current step); the best model is kept."""
        if self.runner.cancel():
            self._status("Cancelling… (the run stops after the current step or evaluation)")
            self._log("Cancel requested")

    def shutdown(self, timeout: float = 5.0) -> None:
        """For window close: cancel a running training and wait up to ``timeout`` s, then kill it.

        A cancelled run keeps its best model and ``train_state.pt``: Resume continues it later.
        """
        self.config_editor.stop()
        super().shutdown(timeout)

    # ------------------------------------------------------------------------------------------
    # the run's events, through the monitor
    def _event(self, event: Any) -> None:
        monitor = self.monitor
        if monitor is None:
            return
        for line in monitor.feed(event):
            self._log(line)
        kind = event.get("event") if isinstance(event, dict) else None
        if kind in ("started", "metrics"):
            self.curves.show_run(monitor)
        elif kind in ("total", "progress", "done"):
            self._show_progress()

    def _show_progress(self) -> None:
        monitor = self.monitor
        if monitor.total:
            self.progress_bar.setRange(0, monitor.total)
            self.progress_bar.setValue(min(monitor.done, monitor.total))
        text = monitor.time_text()
        if text:
            self.time_label.setText(text)

    def _ended(self, *_outcome: Any) -> None:
        """The child exited (the monitor has its outcome): say how it went, then idle."""
        monitor = self.monitor
        self._show_progress()
        kind, message = monitor.message(self.process.log_path if self.process is not None else None)
        if kind == "error":
            self.show_error(message)
            self.status_label.setText(monitor.status_line())
        else:
            self.banner.show_message(message, kind)
            self._status(monitor.status_line())
        if self.progress_bar.maximum() == 0:  # never got a total
            self.progress_bar.setFormat("no steps done")
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(0)
        if self._cfg is not None:
            self._show_output()
        self._state_changed()
        # The banner above took some height from the log: keep its last lines in view.
        QTimer.singleShot(0, self._scroll_log_to_end)
        if monitor.outcome == "done":
            self.models.refresh()
            self.model_saved.emit(str(monitor.result.get("output") or self.output or ""))
        self.run_finished.emit(monitor.outcome or "failed")

    def _scroll_log_to_end(self) -> None:
        bar = self.log_view.verticalScrollBar()
        bar.setValue(bar.maximum())
