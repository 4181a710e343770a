"""The Translate tab: a video or the webcam → landmarks → sign-to-text model → captions.

The tab starts core jobs on worker threads (:mod:`signstudio.gui.workers`), shows the frames
with their landmarks as they arrive, then plays the clip back with its landmarks while the
translation appears in large captions. Errors from the core appear as a one-line banner; the tab
always returns to an idle state where the user can try again.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSpinBox, QStyle, QVBoxLayout, QWidget)

from signstudio.errors import ModelError
from signstudio.gui import jobs
from signstudio.gui.frames import DisplayFrame, display_frame_from_landmarks
from signstudio.gui.player import ClipPlayer
from signstudio.gui.widgets import CaptionView, MessageBanner
from signstudio.gui.workers import Worker

VIDEO_FILTER = "Videos (*.mp4 *.mov *.avi *.mkv *.webm *.m4v *.mpg *.mpeg);;All files (*)"
POSE_FILTER = "Pose files (*.pose);;All files (*)"
PLACEHOLDER = ("Open a video of someone signing, or start the webcam.\n\n"
               "SignStudio finds the hands, face and body in every frame,\n"
               "then translates the signing into text.\n\n"
               "You can also drop a video file here.")

#: Tab states.
IDLE, LOADING, EXTRACTING, RECORDING, TRANSLATING = (
    "idle", "loading", "extracting", "recording", "translating")


class TranslateTab(QWidget):
    """Translate signing in a video file, a ``.pose`` file or the webcam into text.

    Public entry points (also used by tests and the screenshot tool): :meth:`open_path`,
    :meth:`start_webcam`, :meth:`stop_webcam`, :meth:`toggle_webcam`, :meth:`cancel`,
    :meth:`play`, :meth:`pause`, :meth:`show_frame`, :meth:`shutdown`; state:
    :attr:`state`, :meth:`is_busy`, :meth:`error_text`, :meth:`translation`, :meth:`pose`.

    Signals:
        status_message(str): a line for the window's status bar.
        busy_changed(bool): a job started (True) or the tab became idle (False).
        translation_ready(object): a ``Translation`` was shown.
        error_shown(str): an error message was shown.
        idle(): the tab returned to idle (after success, failure or cancel).
        models_loaded(): the model selector was filled.
    """

    status_message = Signal(str)
    busy_changed = Signal(bool)
    translation_ready = Signal(object)
    error_shown = Signal(str)
    idle = Signal()
    models_loaded = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self._state = IDLE
        self._shut_down = False
        self._worker: Worker | None = None
        self._workers: set[Worker] = set()
        self._discard = False
        self._source = ""
        self._pose: Any = None
        self._extraction: Any = None
        self._translation: Any = None
        self._translators: dict[str | None, Any] = {}
        self._last_dir = ""
        self._build()
        self.refresh_models()
        self._set_state(IDLE)

    # ------------------------------------------------------------------------------------------
    # layout
    def _build(self) -> None:
        style = self.style()
        self.open_video_button = QPushButton("Open video…")
        icons = QStyle.StandardPixmap
        self.open_video_button.setIcon(style.standardIcon(icons.SP_DialogOpenButton))
        self.open_video_button.setToolTip("Translate a video file of someone signing (Ctrl+O)")
        self.open_video_button.clicked.connect(self.choose_video)

        self.open_pose_button = QPushButton("Open .pose…")
        self.open_pose_button.setToolTip(
            "Translate landmarks saved earlier in a pose-format .pose file (Ctrl+Shift+O)")
        self.open_pose_button.clicked.connect(self.choose_pose)

        self.webcam_button = QPushButton("Webcam")
        self.webcam_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.webcam_button.setToolTip("Sign in front of your webcam; press Stop when you are done")
        self.webcam_button.clicked.connect(self.toggle_webcam)

        self.camera_spin = QSpinBox()
        self.camera_spin.setRange(0, 9)
        self.camera_spin.setPrefix("Camera ")
        self.camera_spin.setToolTip("Which webcam to use (0 is the first one)")
        self.camera_spin.setAccessibleName("Webcam number")

        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogCancelButton))
        self.cancel_button.setToolTip("Stop the current job and discard its result (Esc)")
        self.cancel_button.clicked.connect(self.cancel)

        model_label = QLabel("&Model:")
        self.model_combo = QComboBox()
        self.model_combo.setMinimumContentsLength(18)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_combo.setAccessibleName("Translation model")
        model_label.setBuddy(self.model_combo)
        self.model_combo.currentIndexChanged.connect(self._model_changed)

        top = QHBoxLayout()
        top.addWidget(self.open_video_button)
        top.addWidget(self.open_pose_button)
        top.addSpacing(12)
        top.addWidget(self.webcam_button)
        top.addWidget(self.camera_spin)
        top.addSpacing(12)
        top.addWidget(self.cancel_button)
        top.addStretch(1)
        top.addWidget(model_label)
        top.addWidget(self.model_combo)

        self.banner = MessageBanner()

        self.player = ClipPlayer(PLACEHOLDER)
        self.video_view = self.player.view

        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFixedWidth(280)
        self.progress_bar.setAccessibleName("Job progress")
        self.status_label = QLabel("")
        self.status_label.setAccessibleName("Job status")
        progress = QHBoxLayout()
        progress.addWidget(self.progress_bar)
        progress.addWidget(self.status_label, 1)

        self.captions = CaptionView()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.player, 1)
        layout.addLayout(progress)
        layout.addWidget(self.captions)

        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        # Esc cancels. Play/pause is Alt+P (the button's mnemonic), not Space: Space must keep
        # pressing the focused button for keyboard users.
        shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        shortcut.setContext(context)
        shortcut.activated.connect(self.cancel)

    # ------------------------------------------------------------------------------------------
    # public API
    @property
    def state(self) -> str:
        """"idle", "loading", "extracting", "recording" or "translating"."""
        return self._state

    def is_busy(self) -> bool:
        """True while a job runs."""
        return self._state != IDLE

    def error_text(self) -> str:
        """The error or note shown in the banner ("" if none)."""
        return self.banner.text()

    def translation(self) -> Any:
        """The last ``Translation`` shown, or ``None``."""
        return self._translation

    def pose(self) -> Any:
        """The pose-format ``Pose`` shown now, or ``None``."""
        return self._pose

    def selected_model(self) -> str | None:
        """The model name or path chosen in the selector (``None``: the default model)."""
        return self.model_combo.currentData()

    def refresh_models(self) -> None:
        """Fill the model selector from :func:`signstudio.runtime.installed.list_models`.

        Listing imports torch (seconds), so it runs on a worker thread; ``models_loaded`` fires
        when the selector is filled.
        """
        self._models_ready = False
        if self.model_combo.count() == 0:
            self.model_combo.addItem("Default model", None)
        self.model_combo.setToolTip("Looking for installed models…")
        worker = Worker(lambda task: jobs.list_models_safely(), name="models")
        self._workers.add(worker)
        worker.signals.finished.connect(lambda result: self._fill_models(*result))
        worker.signals.failed.connect(lambda message: self._fill_models([], "", message))
        worker.signals.done.connect(lambda w=worker: self._workers.discard(w))
        worker.start()

    def models_ready(self) -> bool:
        """True once the model selector has been filled."""
        return self._models_ready

    def _fill_models(self, models: list, default: str, problem: str) -> None:
        if self._shut_down:
            return
        current = self.model_combo.currentData()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        installed = [str(getattr(m, "name", m)) for m in models]
        label = "Default model"
        if default:
            label = f"Default ({default})" if default in installed or problem else \
                f"Default ({default}, not installed)"
        self.model_combo.addItem(label, None)
        self.model_combo.setItemData(0, "The model SignStudio ships as its default",
                                     Qt.ItemDataRole.ToolTipRole)
        for info in models:
            name = str(getattr(info, "name", info))
            if name == default:
                continue
            self.model_combo.addItem(name, name)
            self.model_combo.setItemData(self.model_combo.count() - 1, _model_tooltip(info),
                                         Qt.ItemDataRole.ToolTipRole)
        if problem:
            tip = f"Could not list the models: {problem}"
        elif not installed:
            tip = "No translation model is installed yet."
        elif default and default not in installed:
            tip = f"The default model ({default}) is not installed; pick another."
        else:
            tip = "The model that turns landmarks into text."
        self.model_combo.setToolTip(tip)
        index = self.model_combo.findData(current)
        self.model_combo.setCurrentIndex(max(index, 0))
        self.model_combo.blockSignals(False)
        self._models_ready = True
        self.models_loaded.emit()

    def choose_video(self) -> None:
        """Ask for a video file, then :meth:`open_path` it."""
        if self.is_busy():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open a video of signing",
                                              self._start_dir(), VIDEO_FILTER)
        if path:
            self.open_path(path)

    def choose_pose(self) -> None:
        """Ask for a ``.pose`` file, then :meth:`open_path` it."""
        if self.is_busy():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open a .pose file", self._start_dir(),
                                              POSE_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Translate a video file (landmarks are extracted first) or a ``.pose`` file.

        Returns False (and does nothing) while another job runs. The outcome arrives later:
        captions (``translation_ready``), a message in the banner (``error_shown``), and in any
        case ``idle``.
        """
        if self.is_busy():
            self._status("Busy: cancel the current job first.")
            return False
        path = Path(path)
        self._last_dir = str(path.parent)
        self._reset_result(path.name)
        if path.suffix.lower() == ".pose":
            self._start(LOADING, jobs.read_pose_job(str(path)), f"Reading {path.name}…",
                        on_finished=lambda pose: self._pose_ready(pose, None))
        else:
            self.captions.clear("Finding the hands, face and body in each frame…")
            self._start(EXTRACTING, jobs.extract_video_job(str(path)),
                        f"Opening {path.name}…", on_finished=self._extraction_done,
                        map_partial=display_frame_from_landmarks)
        return True

    def start_webcam(self, index: int | None = None) -> bool:
        """Start recording from webcam ``index`` (default: the number in the selector)."""
        if self.is_busy():
            return False
        index = self.camera_spin.value() if index is None else int(index)
        self._reset_result(f"webcam {index}")
        self.captions.clear("Sign in front of the camera, then press Stop.")
        self.player.set_badge("● LIVE")
        self._start(RECORDING, jobs.record_camera_job(index), f"Opening webcam {index}…",
                    on_finished=self._extraction_done, map_partial=display_frame_from_landmarks)
        return True

    def stop_webcam(self) -> None:
        """Stop recording and translate what was recorded."""
        if self._state == RECORDING and self._worker is not None:
            self._status("Stopping the webcam…")
            self.webcam_button.setEnabled(False)
            self._worker.cancel()  # record_camera returns normally when cancelled

    def cancel(self) -> None:
        """Cancel the running job; the tab returns to idle with a "Cancelled" status."""
        if self._worker is None or not self.is_busy():
            return
        self._discard = True
        self._status("Cancelling…")
        self.cancel_button.setEnabled(False)
        self._worker.cancel()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel every job and wait (up to ``timeout`` s) for their threads; for window close."""
        self._shut_down = True
        self.player.pause()
        self._discard = True
        for worker in list(self._workers):
            worker.cancel()
        deadline = time.monotonic() + timeout
        for worker in list(self._workers):
            worker.wait(max(0.0, deadline - time.monotonic()))

    # ------------------------------------------------------------------------------------------
    # jobs
    def _start(self, state: str, job, status: str, on_finished,
               map_partial=None) -> Worker:
        worker = Worker(job, name=state, map_partial=map_partial)
        self._worker = worker
        self._workers.add(worker)
        self._discard = False
        self._progress_t0: float | None = None
        self._progress_done0 = 0
        sig = worker.signals
        sig.progress.connect(lambda done, total, w=worker: self._on_progress(w, done, total))
        sig.status.connect(lambda text, w=worker: self._on_status(w, text))
        sig.partial.connect(lambda item, w=worker: self._on_partial(w, item))
        sig.finished.connect(lambda result, w=worker: self._on_finished(w, result, on_finished))
        sig.failed.connect(lambda message, w=worker: self._on_failed(w, message))
        sig.cancelled.connect(lambda w=worker: self._on_cancelled(w))
        sig.done.connect(lambda w=worker: self._workers.discard(w))
        self._set_state(state)
        self._status(status)
        self.progress_bar.setRange(0, 0)  # busy indicator until a total is known
        worker.start()
        return worker

    def _current(self, worker: Worker) -> bool:
        # After shutdown() the widgets may already be deleted: late queued signals are ignored.
        return worker is self._worker and not self._shut_down

    def _on_progress(self, worker: Worker, done: int, total: int) -> None:
        if not self._current(worker):
            return
        now = time.monotonic()
        if self._progress_t0 is None or done == 0:
            self._progress_t0 = now
            self._progress_done0 = done
        rate = ""
        elapsed = now - self._progress_t0
        if elapsed > 0.2 and done > self._progress_done0:
            rate = f" · {(done - self._progress_done0) / elapsed:.1f} frames/s"
        if total > 0:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(min(done, total))
            self.progress_bar.setFormat("%v / %m frames")
            counted = f"frame {done} of {total}"
        else:
            self.progress_bar.setRange(0, 0)
            counted = f"{done} frames"
        if self._state == EXTRACTING:
            self._status(f"Finding hands and body: {counted}{rate}")
        elif self._state == RECORDING:
            self._status(f"Recording from the webcam: {done} frames{rate} — press Stop when done")

    def _on_status(self, worker: Worker, text: str) -> None:
        if not self._current(worker) or not text:
            return
        # Once frames flow, the progress line (with frames/s) says more than the job's status.
        if self._state in (EXTRACTING, RECORDING) and self.video_view.frame() is not None:
            return
        self._status(text[:1].upper() + text[1:] + ("" if text.endswith(("…", ".")) else "…"))

    def _on_partial(self, worker: Worker, item: Any) -> None:
        if not self._current(worker) or not isinstance(item, DisplayFrame):
            return
        self.player.show_live(item)

    def _on_finished(self, worker: Worker, result: Any, handler) -> None:
        if not self._current(worker):
            return
        if self._discard:
            self._on_cancelled(worker)
            return
        handler(result)

    def _on_failed(self, worker: Worker, message: str) -> None:
        if not self._current(worker):
            return
        failed_state = self._state
        self._worker = None
        self.show_error(message)
        if failed_state == TRANSLATING and self.player.has_clip():
            if isinstance(worker.error, ModelError):
                hint = (f"No translation: the model could not be loaded. Models are folders in "
                        f"{_models_dir()}. The landmarks can still be played back.")
            else:
                hint = ("No translation (see the message above). "
                        "The landmarks can still be played back.")
            self.captions.clear(hint)
            self._status("Landmarks ready; translation failed.")
        else:
            self.captions.clear()
            if not self.player.has_clip():
                self.player.clear()
            self._status("Failed: " + message)
        self._set_state(IDLE)

    def _on_cancelled(self, worker: Worker) -> None:
        if not self._current(worker):
            return
        cancelled_state = self._state
        self._worker = None
        if cancelled_state == TRANSLATING and self.player.has_clip():
            self.captions.clear("Translation cancelled.")
        else:
            self._reset_result("")
            self.captions.clear()
        self._set_state(IDLE)
        self._status("Cancelled")

    def _extraction_done(self, extraction: Any) -> None:
        self._extraction = extraction
        info = getattr(extraction, "info", None)
        hands = getattr(extraction, "hands_detected", None)
        if isinstance(hands, (int, float)) and not isinstance(hands, bool) and hands == 0:
            self.banner.show_message("No hands were found in this clip; a translation of it is "
                                     "unlikely to mean much.", "warning")
        self._pose_ready(extraction.pose, info)

    def _pose_ready(self, pose: Any, info: Any) -> None:
        self._pose = pose
        self.player.load_pose(pose, info)
        if self.player.cache.dropped:
            self.banner.show_message(
                f"This clip is long: {len(self.player.cache)} frames are kept for playback, "
                "later frames play as the skeleton alone.", "info")
        self.player.play()
        self._translate()

    def _translate(self) -> None:
        if self._pose is None:
            return
        model = self.selected_model()
        self.captions.clear("Translating…")
        self._start(TRANSLATING, jobs.translate_job(self._pose, model,
                                                     self._translators.get(model)),
                    "Translating…", on_finished=self._translation_done)

    def _translation_done(self, result: jobs.TranslateResult) -> None:
        self._worker = None
        translation = result.translation
        translator = result.translator
        self._translators[self.selected_model()] = translator
        self._translation = translation
        glosses = " ".join(str(g) for g in (getattr(translation, "glosses", None) or []))
        text = str(getattr(translation, "text", "") or "")
        self.captions.set_translation(glosses, text, _meta_line(translation, self._extraction))
        model = getattr(translation, "model", "") or getattr(translator, "name", "")
        self._status(f"Translated {self._source} with {model}.")
        self.translation_ready.emit(translation)
        self._set_state(IDLE)

    # ------------------------------------------------------------------------------------------
    # playback (delegated to the player)
    def play(self) -> None:
        """Play the clip with its landmarks (loops)."""
        self.player.play()

    def pause(self) -> None:
        """Pause playback."""
        self.player.pause()

    def is_playing(self) -> bool:
        """True while the clip plays."""
        return self.player.is_playing()

    def frame_count(self) -> int:
        """Frames of the clip loaded now (0 if none)."""
        return self.player.frame_count()

    def show_frame(self, index: int) -> None:
        """Show frame ``index`` of the clip with its landmarks."""
        self.player.show_frame(index)

    # ------------------------------------------------------------------------------------------
    # helpers
    def show_error(self, message: str) -> None:
        """Show a one-line error in the banner (and emit ``error_shown``)."""
        self.banner.show_message(message, "error")
        self.error_shown.emit(message)

    def _status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_message.emit(text)

    def _set_state(self, state: str) -> None:
        was_busy = self.is_busy()
        self._state = state
        busy = state != IDLE
        recording = state == RECORDING
        self.open_video_button.setEnabled(not busy)
        self.open_pose_button.setEnabled(not busy)
        self.camera_spin.setEnabled(not busy)
        self.model_combo.setEnabled(not busy)
        self.webcam_button.setEnabled(not busy or recording)
        self.webcam_button.setText("Stop" if recording else "Webcam")
        self.webcam_button.setToolTip(
            "Stop recording and translate what was signed" if recording
            else "Sign in front of your webcam; press Stop when you are done")
        icons = QStyle.StandardPixmap
        self.webcam_button.setIcon(self.style().standardIcon(
            icons.SP_MediaStop if recording else icons.SP_MediaPlay))
        self.cancel_button.setEnabled(busy)
        self.progress_bar.setVisible(busy)
        self.status_label.setVisible(busy)  # idle: the window's status bar keeps the last line
        if not busy:
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(0)
            self.player.set_badge("")
        self.player.set_seekable(state in (IDLE, TRANSLATING))
        if busy != was_busy:
            self.busy_changed.emit(busy)
        if not busy:
            self.idle.emit()

    def _reset_result(self, source: str) -> None:
        self._source = source
        self._pose = None
        self._extraction = None
        self._translation = None
        self.banner.dismiss()
        self.player.clear()
        self.captions.clear()

    def toggle_webcam(self) -> None:
        """Start the webcam, or stop it if it is recording."""
        if self._state == RECORDING:
            self.stop_webcam()
        else:
            self.start_webcam()

    def _model_changed(self, _index: int) -> None:
        if not self.is_busy() and self._pose is not None:
            self.banner.dismiss()
            self._translate()

    def _start_dir(self) -> str:
        if self._last_dir:
            return self._last_dir
        try:
            from signstudio.paths import data_dir

            videos = data_dir() / "videos"
            if videos.is_dir():
                return str(videos)
        except Exception:  # noqa: BLE001 - only a starting folder
            pass
        return str(Path.home())

    # drag and drop -----------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if not self.is_busy() and event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt's name
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.open_path(urls[0].toLocalFile())


def _models_dir() -> str:
    from signstudio.paths import models_dir

    return str(models_dir())


def _model_tooltip(info: Any) -> str:
    parts = [str(getattr(info, "name", info))]
    task = getattr(info, "task", "")
    if task:
        parts.append(f"task: {task}")
    params = getattr(info, "parameters", None)
    if isinstance(params, (int, float)) and params:
        parts.append(f"{params / 1e6:.1f} M parameters" if params >= 1e5
                     else f"{params:,} parameters")
    metrics = getattr(info, "metrics", None) or {}
    if isinstance(metrics, dict) and metrics:
        shown = ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                          for k, v in list(metrics.items())[:4])
        parts.append(shown)
    path = getattr(info, "path", None)
    if path:
        parts.append(str(path))
    return "\n".join(parts)


def _meta_line(translation: Any, extraction: Any) -> str:
    bits = []
    model = getattr(translation, "model", "")
    if model:
        bits.append(f"model {model}")
    frames = getattr(translation, "frames", None)
    if frames:
        bits.append(f"{frames} frames")
    pose_s = getattr(extraction, "seconds", None)
    if isinstance(pose_s, (int, float)):
        bits.append(f"landmarks {pose_s:.1f} s")
    seconds = getattr(translation, "seconds", None) or {}
    if isinstance(seconds, dict) and "model" in seconds:
        bits.append(f"translation {seconds['model'] * 1000:.0f} ms")
    return " · ".join(bits)
