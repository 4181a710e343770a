"""The Train tab: edit a training config, run it in a child process, watch the curves.

Left: a config template (the shipped ``resources/configs/*.yaml``, or "Open config…"), the YAML
in an editor that is validated as you type (:func:`signstudio.training.process.parse_config_text`;
Start stays disabled while it is invalid), and where the model will be saved. Right: live
curves (training loss and the dev metric, by epoch), a progress bar in steps with the time left,
the status line and a log.

Training never runs in the window's process: Start writes the config to
``<output>/config.yaml`` and starts ``signstudio train --events`` in a child process
(:class:`signstudio.training.process.TrainingProcess`), whose events a timer polls every
200 ms. A crash or kill of the child is shown as a message in the tab. Resume continues a
stopped run from ``<output>/train_state.pt``; its earlier curve points come from
``<output>/metrics.jsonl``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QMessageBox, QPlainTextEdit,
                               QProgressBar, QPushButton, QSizePolicy, QSplitter, QStyle,
                               QVBoxLayout, QWidget)

from signstudio.errors import ConfigError
from signstudio.gui.widgets import MessageBanner
from signstudio.paths import PROJECT_ROOT
from signstudio.training.process import (TrainingProcess, can_resume, parse_config_text,
                                         read_metrics, resolve_output)
from signstudio.training.run import holds_run

#: Tab states.
IDLE, RUNNING, CANCELLING = "idle", "running", "cancelling"
#: How often the child's events are read, in milliseconds.
POLL_MS = 200
#: How long the editor waits after the last keystroke before validating, in milliseconds.
VALIDATE_DELAY_MS = 300
#: Where the shipped config templates live.
CONFIG_DIR = PROJECT_ROOT / "resources" / "configs"
#: Written into the output folder at Start; the child trains from it.
CONFIG_NAME = "config.yaml"
OPEN_CONFIG = "Open config…"

#: Display names of dev metrics (key in the metrics rows → axis label) and whether lower is better.
METRIC_LABELS = {
    "dev_wer": ("dev WER", True),
    "dev_bleu4": ("dev BLEU-4", False),
    "dev_rouge_l": ("dev ROUGE-L", False),
    "dev_dtw_mje": ("dev DTW-MJE", True),
}
#: What each model type does, for the template list and the validation line.
TASKS = {
    "signformer": "sign video → glosses/text",
    "text-transformer": "text ↔ glosses",
    "signllm": "glosses → signing pose",
}
_DIRECTIONS = {"text2gloss": "text → glosses", "gloss2text": "glosses → text"}

_OK_STYLE = "color: #1f7a3a;"
_ERROR_STYLE = "color: #b3261e; font-weight: bold;"
_MUTED_STYLE = "color: #5f6873;"


def metric_label(key: str) -> str:
    """Axis label of a ``dev_*`` metric key, e.g. ``"dev_bleu4"`` → ``"dev BLEU-4"``."""
    if key in METRIC_LABELS:
        return METRIC_LABELS[key][0]
    return key.replace("_", " ")


def lower_is_better(key: str) -> bool:
    """True for error-like metrics (WER, DTW-MJE), False for scores (BLEU, ROUGE)."""
    if key in METRIC_LABELS:
        return METRIC_LABELS[key][1]
    return not any(word in key for word in ("bleu", "rouge", "acc", "chrf"))


def dev_metric_key(row: dict[str, Any]) -> str | None:
    """The row's main dev metric: its first ``dev_*`` number (``dev_wer``, ``dev_bleu4``...)."""
    for key, value in row.items():
        if key.startswith("dev_") and isinstance(value, (int, float)) and not isinstance(value, bool):
            return key
    return None


def format_duration(seconds: float) -> str:
    """A rough, readable duration: "40 s", "12 min", "1 h 5 min"."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def task_of(cfg) -> str:
    """What a config trains, in words (e.g. "text → glosses on phoenix14t")."""
    what = TASKS.get(cfg.model_type, cfg.model_type)
    if cfg.model_type == "text-transformer":
        what = _DIRECTIONS.get(cfg.data.direction, what)
    return f"{what} on {cfg.data.dataset}"


class TrainTab(QWidget):
    """Train a model from a YAML config in a child process, with live curves.

    Public entry points (also used by tests): :meth:`load_config_text`, :meth:`load_config_file`,
    :meth:`validate`, :meth:`start`, :meth:`resume`, :meth:`cancel`, :meth:`shutdown`; state:
    :attr:`state`, :meth:`is_busy`, :meth:`error_text`, :attr:`output`, :attr:`process`.

    Signals:
        status_message(str): a line for the window's status bar.
        busy_changed(bool): a run started (True) or ended (False).
        run_finished(str): a run ended: "done", "cancelled" or "failed".
        model_saved(str): a run finished and saved ``<folder>/model.pt`` (the folder's path), so
            the window can refresh its model lists.
    """

    status_message = Signal(str)
    busy_changed = Signal(bool)
    run_finished = Signal(str)
    model_saved = Signal(str)

    def __init__(self, parent: QWidget | None = None, config_dir: str | Path | None = None) -> None:
        super().__init__(parent)
        self._config_dir = Path(config_dir) if config_dir is not None else CONFIG_DIR
        self._state = IDLE
        self._cfg: Any = None
        self._config_error = ""
        self.output: Path | None = None
        self.process: TrainingProcess | None = None
        self._rows: list[dict[str, Any]] = []
        self._metric: str | None = None
        self._total: int | None = None
        self._done = 0
        self._rate_start: tuple[float, int] | None = None
        self._run_started = 0.0
        self._last_combo_index = 0
        self._build()
        self._fill_templates()
        self._set_state(IDLE)

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

        self.banner = MessageBanner()

        # --- left: the config -------------------------------------------------------------------
        self.editor = QPlainTextEdit()
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setTabChangesFocus(True)
        self.editor.setAccessibleName("Training config (YAML)")
        self.editor.setToolTip("The training config in YAML; unknown keys are errors")
        self.editor.textChanged.connect(self._schedule_validation)
        self.validation_label = QLabel()
        self.validation_label.setWordWrap(True)
        self.validation_label.setTextFormat(Qt.TextFormat.PlainText)
        self.validation_label.setAccessibleName("Config check")
        self.output_label = QLabel()
        self.output_label.setWordWrap(True)
        self.output_label.setTextFormat(Qt.TextFormat.PlainText)
        self.output_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.output_label.setAccessibleName("Output folder")
        self.output_label.setToolTip("Set `output:` in the config to change it; a relative path is "
                                     f"relative to {PROJECT_ROOT}")
        self.output_label.setStyleSheet(_MUTED_STYLE)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.editor, 1)
        left_layout.addWidget(self.validation_label)
        left_layout.addWidget(self.output_label)

        # --- right: curves, progress, log -------------------------------------------------------
        self.loss_plot = self._make_plot("Training loss", "loss")
        self.loss_curve = self.loss_plot.plot([], [], pen=pg.mkPen("#1f6feb", width=2), symbol="o",
                                              symbolSize=6, symbolBrush="#1f6feb", symbolPen=None)
        self.dev_plot = self._make_plot("Dev score", "")
        self.dev_curve = self.dev_plot.plot([], [], pen=pg.mkPen("#d9480f", width=2), symbol="o",
                                            symbolSize=6, symbolBrush="#d9480f", symbolPen=None)
        self.best_marker = pg.ScatterPlotItem(size=16, symbol="star", brush=pg.mkBrush("#f2c230"),
                                              pen=pg.mkPen("#7a5c00"))
        self.dev_plot.addItem(self.best_marker)
        self.loss_hint = self._plot_hint(self.loss_plot, "The loss appears here\nafter each evaluation.")
        self.dev_hint = self._plot_hint(self.dev_plot, "The dev score appears here\nafter each evaluation.")
        plots = QHBoxLayout()
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.dev_plot)

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
        right_layout.addLayout(plots, 3)
        right_layout.addLayout(progress)
        right_layout.addWidget(self.status_label)
        right_layout.addWidget(self.log_view, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        left.setMinimumWidth(self.fontMetrics().horizontalAdvance("x") * 34)
        self._sized = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)

        self._validate_timer = QTimer(self)
        self._validate_timer.setSingleShot(True)
        self._validate_timer.setInterval(VALIDATE_DELAY_MS)
        self._validate_timer.timeout.connect(self.validate)
        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(POLL_MS)
        self._poll_timer.timeout.connect(self._poll)

        shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.cancel)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._sized:  # the editor gets about 40 % of the width, the curves the rest
            self._sized = True
            width = max(self.splitter.width(), 800)
            editor = max(self.splitter.widget(0).minimumWidth(), int(width * 0.38))
            self.splitter.setSizes([editor, width - editor])

    @staticmethod
    def _plot_hint(plot: pg.PlotWidget, text: str) -> pg.TextItem:
        """A grey note in the middle of an empty plot (hidden once it has points)."""
        hint = pg.TextItem(text, color="#8d96a0", anchor=(0.5, 0.5))
        hint.setPos(0.5, 0.5)
        plot.addItem(hint, ignoreBounds=True)
        return hint

    def _make_plot(self, title: str, ylabel: str) -> pg.PlotWidget:
        plot = pg.PlotWidget(background="w")
        plot.setTitle(title, color="#1d2733", size="11pt")
        plot.setLabel("bottom", "epoch", color="#1d2733")
        if ylabel:
            plot.setLabel("left", ylabel, color="#1d2733")
        plot.showGrid(x=True, y=True, alpha=0.25)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setPen("#5f6873")
            plot.getAxis(axis).setTextPen("#1d2733")
        plot.setMenuEnabled(False)
        # pyqtgraph builds its context menus without a parent: tie them to this tab so that they
        # are deleted with it instead of lingering as top-level widgets.
        for menu in (plot.plotItem.ctrlMenu, plot.plotItem.vb.menu):
            if menu is not None and menu.parent() is None:
                menu.setParent(self, menu.windowFlags())
        plot.setMinimumHeight(180)
        plot.setAccessibleName(title)
        return plot

    # ------------------------------------------------------------------------------------------
    # templates
    def _fill_templates(self) -> None:
        self.template_combo.clear()
        for path in sorted(self._config_dir.glob("*.yaml")):
            label, tip = path.stem, str(path)
            try:
                text = path.read_text(encoding="utf-8")
                label = f"{path.stem} ({task_of(parse_config_text(text))})"
                comments = [ln.lstrip("# ").rstrip() for ln in text.splitlines() if ln.startswith("#")]
                tip = " ".join(comments[:2]) or tip
            except (OSError, ConfigError):
                pass
            self.template_combo.addItem(label, str(path))
            self.template_combo.setItemData(self.template_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.template_combo.insertSeparator(self.template_combo.count())
        self.template_combo.addItem(OPEN_CONFIG, None)
        if self.template_combo.count() > 2:
            self.template_combo.setCurrentIndex(0)
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
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.show_error(f"Cannot read {path}: {getattr(exc, 'strerror', None) or exc}")
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
            write_config(self.editor.toPlainText(), path)
        except ConfigError as exc:
            self.show_error(f"Not saved: {exc}")
            return False
        except OSError as exc:
            self.show_error(f"Cannot write {path}: {exc.strerror or exc}")
            return False
        self._status(f"Saved the config to {path}")
        return True

    # ------------------------------------------------------------------------------------------
    # the config
    def load_config_text(self, text: str) -> bool:
        """Put YAML ``text`` in the editor and check it now; returns whether it is valid."""
        self.editor.setPlainText(text)
        return self.validate()

    def config_text(self) -> str:
        """The YAML in the editor."""
        return self.editor.toPlainText()

    def _schedule_validation(self) -> None:
        self._validate_timer.start()

    def validate(self) -> bool:
        """Check the editor's YAML; show the result under it; enable Start only if it is valid."""
        self._validate_timer.stop()
        try:
            cfg = parse_config_text(self.editor.toPlainText())
        except ConfigError as exc:
            self._cfg, self._config_error = None, str(exc).splitlines()[0] if str(exc) else "invalid config"
            self.validation_label.setText(f"✗ {self._config_error}")
            self.validation_label.setStyleSheet(_ERROR_STYLE)
            if self._state == IDLE:
                self.output = None
                self.output_label.setText("Fix the config to see where the model will be saved.")
        else:
            self._cfg, self._config_error = cfg, ""
            tc = cfg.train
            self.validation_label.setText(
                f"✓ Config OK: {cfg.name}, {task_of(cfg)}; {tc.epochs} epochs, "
                f"checked on dev every {tc.eval_every}")
            self.validation_label.setStyleSheet(_OK_STYLE)
            if self._state == IDLE:
                self.output = resolve_output(cfg)
                self._show_output()
                every = "" if tc.eval_every == 1 else f"\n(every {tc.eval_every} epochs)"
                self.loss_hint.setText(f"The loss appears here\nafter each evaluation{every}.")
                self.dev_hint.setText(f"The dev score appears here\nafter each evaluation{every}.")
        self._update_buttons()
        return self._cfg is not None

    def config_error(self) -> str:
        """Why the editor's config is invalid ("" when it is valid)."""
        return self._config_error

    def stopped_epoch(self, out: Path | None = None) -> int | None:
        """The last evaluated epoch of a stopped, resumable run in ``out`` (default: the output
        folder); ``None`` if there is none, or if the run there reached its last epoch."""
        out = out if out is not None else self.output
        if out is None or not can_resume(out):
            return None
        rows = read_metrics(out)
        epoch = rows[-1].get("epoch") if rows else 0
        epoch = int(epoch) if isinstance(epoch, (int, float)) else 0
        if self._cfg is not None and epoch >= self._cfg.train.epochs:
            return None  # finished: there is nothing left to resume
        return epoch

    def _show_output(self) -> None:
        if self.output is None:
            return
        text = f"Model will be saved to: {self.output / 'model.pt'}"
        stopped = self.stopped_epoch()
        if stopped is not None:
            at = f" after epoch {stopped}" if stopped else ""
            text += f"\nA run stopped there{at}: Resume continues it; Start begins again and replaces it."
        elif (self.output / "model.pt").is_file():
            text += "\nA trained model is there already: Start asks before replacing it."
        self.output_label.setText(text)

    # ------------------------------------------------------------------------------------------
    # state
    @property
    def state(self) -> str:
        """"idle", "running" or "cancelling"."""
        return self._state

    def is_busy(self) -> bool:
        """True while a training process runs."""
        return self._state != IDLE

    def error_text(self) -> str:
        """The message shown in the banner ("" if none)."""
        return self.banner.text()

    def show_error(self, message: str) -> None:
        """Show a one-line error in the banner."""
        self.banner.show_message(message, "error")
        self.status_message.emit(message)

    def _status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_message.emit(text)

    def _log(self, text: str) -> None:
        self.log_view.appendPlainText(f"{time.strftime('%H:%M:%S')}  {text}")

    def _set_state(self, state: str) -> None:
        was_busy = self.is_busy()
        self._state = state
        idle = state == IDLE
        self.editor.setReadOnly(not idle)
        self.template_combo.setEnabled(idle)
        self._update_buttons()
        if was_busy != self.is_busy():
            self.busy_changed.emit(self.is_busy())

    def _update_buttons(self) -> None:
        idle = self._state == IDLE
        valid = self._cfg is not None
        self.start_button.setEnabled(idle and valid)
        self.resume_button.setEnabled(idle and valid and self.stopped_epoch() is not None)
        self.cancel_button.setEnabled(self._state == RUNNING)
        self.save_button.setEnabled(valid)
        if not valid:
            self.start_button.setToolTip(f"Fix the config first: {self._config_error}")
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
        if self.is_busy():
            return False
        if not self.validate():
            self.show_error(f"The config is not valid: {self._config_error}")
            return False
        from signstudio.training.process import write_config

        out = resolve_output(self._cfg)
        if resume and self.stopped_epoch(out) is None:
            why = ("the run there is finished" if can_resume(out) else
                   "no train_state.pt (a run saves it at each evaluation)")
            self.show_error(f"Nothing to resume in {out}: {why}. Press Start to train again.")
            return False
        overwrite = not resume and holds_run(out)
        if overwrite and not self.confirm_overwrite(out):
            self._status(f"Not started: {out} keeps its run")
            return False
        config_path = out / CONFIG_NAME
        try:
            write_config(self.editor.toPlainText(), config_path)
            process = TrainingProcess(config_path, output=out, resume=resume, overwrite=overwrite)
            process.start()
        except ConfigError as exc:
            self.show_error(str(exc))
            return False
        except OSError as exc:
            self.show_error(f"Cannot start training in {out}: {exc.strerror or exc}")
            return False
        self.banner.dismiss()
        self.process, self.output = process, out
        self._reset_run(resume)
        self._log(f"{'Resuming' if resume else 'Starting'} {self._cfg.name} → {out}")
        self._status("Starting the training process…")
        self._set_state(RUNNING)
        self._poll_timer.start()
        return True

    def _reset_run(self, resume: bool) -> None:
        self._rows = read_metrics(self.output) if resume and self.output is not None else []
        self._metric = None
        self._total, self._done = None, 0
        self._rate_start = None
        self._run_started = time.monotonic()
        self.progress_bar.setFormat("%v / %m steps")
        self.progress_bar.setRange(0, 0)  # busy until the run announces its steps
        self.time_label.setText("")
        self._redraw_curves()

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
        if self._state != RUNNING or self.process is None:
            return
        self.process.cancel()
        self._status("Cancelling… (the run stops after the current step or evaluation)")
        self._log("Cancel requested")
        self._set_state(CANCELLING)

    def shutdown(self, timeout: float = 5.0) -> None:
        """For window close: cancel a running training and wait up to ``timeout`` s, then kill it.

        A cancelled run keeps its best model and ``train_state.pt``: Resume continues it later.
        """
        self._validate_timer.stop()
        self._poll_timer.stop()
        process = self.process
        if process is None or not process.running:
            return
        process.cancel(kill_after=None)
        if process.wait(timeout) is None:
            process.kill()
            process.wait(2.0)

    # ------------------------------------------------------------------------------------------
    # events
    def _poll(self) -> None:
        process = self.process
        if process is None:
            self._poll_timer.stop()
            return
        events = process.poll()
        for event in events:
            try:
                self._handle(event)
            except Exception as exc:  # a malformed event must not take the window down
                self._log(f"(ignored an unexpected event: {type(exc).__name__}: {exc})")
        if any(e.get("event") in ("progress", "total") for e in events):
            self._update_progress()

    def _handle(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "started":
            epochs = event.get("epochs")
            self._log(f"Training process {event.get('pid')} started: {event.get('name')}, {epochs} epochs"
                      + (" (resumed)" if event.get("resume") else ""))
        elif kind == "total":
            self._total = int(event["total"]) if event.get("total") else None
            self._done = 0
        elif kind == "progress":
            self._done = int(event.get("done") or 0)
            if event.get("total"):
                self._total = int(event["total"])
            if self._rate_start is None:
                self._rate_start = (time.monotonic(), self._done)
        elif kind == "status":
            text = str(event.get("text", ""))
            self._status(text)
            self._log(text)
        elif kind == "metrics":
            self._add_row(dict(event.get("row") or {}))
        elif kind == "done":
            self._finished_ok(dict(event.get("result") or {}))
        elif kind == "cancelled":
            pass  # "exited" follows with the outcome
        elif kind == "error":
            self._log(f"Error: {event.get('message', '')}")
        elif kind == "exited":
            self._exited(event)

    def _add_row(self, row: dict[str, Any]) -> None:
        epoch = row.get("epoch")
        if isinstance(epoch, (int, float)):
            self._rows = [r for r in self._rows if not (isinstance(r.get("epoch"), (int, float))
                                                        and r["epoch"] >= epoch)]
        self._rows.append(row)
        self._redraw_curves()  # the log gets the trainer's own status line about this evaluation

    def _redraw_curves(self) -> None:
        rows = [r for r in self._rows if isinstance(r.get("epoch"), (int, float))]
        if self._metric is None:
            self._metric = next((k for k in map(dev_metric_key, rows) if k), None)
        loss = [(r["epoch"], r["loss"]) for r in rows if _finite(r.get("loss"))]
        self.loss_curve.setData([e for e, _ in loss], [v for _, v in loss])
        key = self._metric
        dev = [(r["epoch"], r[key]) for r in rows if key and _finite(r.get(key))]
        self.dev_curve.setData([e for e, _ in dev], [v for _, v in dev])
        self.loss_hint.setVisible(not loss)
        self.dev_hint.setVisible(not dev)
        if not loss and not dev:
            for plot in (self.loss_plot, self.dev_plot):
                plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
                plot.enableAutoRange()
        if key:
            better = "lower" if lower_is_better(key) else "higher"
            self.dev_plot.setTitle(f"{metric_label(key)} ({better} is better)", color="#1d2733", size="11pt")
            self.dev_plot.setLabel("left", metric_label(key), color="#1d2733")
        if dev:
            pick = min if lower_is_better(key) else max
            best = pick(dev, key=lambda p: p[1])
            self.best_marker.setData([best[0]], [best[1]])
            self.best_marker.setToolTip(f"best so far: epoch {best[0]}, {metric_label(key)} {best[1]:.4g}")
        else:
            self.best_marker.setData([], [])

    def _update_progress(self) -> None:
        if self._total:
            self.progress_bar.setRange(0, self._total)
            self.progress_bar.setValue(min(self._done, self._total))
        if self._rate_start is None or not self._total:
            return
        t0, done0 = self._rate_start
        elapsed, steps = time.monotonic() - t0, self._done - done0
        if steps > 0 and elapsed >= 1.0:
            left = (self._total - self._done) * elapsed / steps
            self.time_label.setText(f"about {format_duration(left)} left" if left >= 1 else "almost done")

    def _finished_ok(self, result: dict[str, Any]) -> None:
        out = Path(str(result.get("output") or self.output or ""))
        if self._total:
            self._done = self._total
            self._update_progress()
        metrics = result.get("metrics") or {}
        key = next((k for k in metrics if k == self._metric), None) or dev_metric_key(metrics)
        score = f", {metric_label(key)} {metrics[key]:.4g}" if key and _finite(metrics.get(key)) else ""
        where = out / "model.pt"
        use = f"It is listed in the other tabs as {out.name}."
        message = (f"Training finished. The best model (epoch {result.get('best_epoch')}{score}) "
                   f"was saved to {where}. {use}")
        self.banner.show_message(message, "info")
        self._log(f"Saved {where}")
        self.model_saved.emit(str(out))

    def _exited(self, event: dict[str, Any]) -> None:
        self._poll_timer.stop()
        outcome = str(event.get("outcome", "failed"))
        took = format_duration(time.monotonic() - self._run_started)
        if outcome == "done":
            self.time_label.setText(f"done in {took}")
            self._status(f"Training finished in {took}.")
            self._log(f"Finished in {took}")
        elif outcome == "cancelled":
            self.time_label.setText("cancelled")
            epoch = self.stopped_epoch()
            if epoch is not None:
                more = (f" Resume continues after epoch {epoch}, its last evaluation." if epoch
                        else " Resume continues from its last evaluation.")
            else:
                more = " It stopped before its first evaluation, so nothing was saved."
            self.banner.show_message(f"Training cancelled.{more}", "warning")
            self._status("Training cancelled.")
            self._log("Cancelled")
        else:
            message = str(event.get("message") or "the training process failed")
            self.time_label.setText("failed")
            log = self.process.log_path if self.process is not None else None
            detail = f" (details in {log})" if log is not None else ""
            self.show_error(f"Training failed: {message}{detail}")
            self.status_label.setText("Training failed.")
            self._log(f"Failed: {message}")
        if self.progress_bar.maximum() == 0:  # never got a total
            self.progress_bar.setFormat("no steps done")
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(0)
        self._set_state(IDLE)
        if self._cfg is not None:
            self._show_output()
        self._update_buttons()
        # The banner above took some height from the log: keep its last lines in view.
        QTimer.singleShot(0, self._scroll_log_to_end)
        self.run_finished.emit(outcome)

    def _scroll_log_to_end(self) -> None:
        bar = self.log_view.verticalScrollBar()
        bar.setValue(bar.maximum())


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
