"""The Translate tab: a video or the webcam → landmarks → sign-to-text model → captions.

The tab runs core jobs through its :class:`~signstudio.gui.runner.JobRunner`, shows the frames
with their landmarks as they arrive, then plays the clip back with its landmarks while the
translation appears in large captions. With a continuous (CTC) recogniser the webcam gives *live
captions*: each gloss appears while the person signs, and a time-stamped history beside the video
keeps them all (:mod:`signstudio.gui.translate.captions`); with any other model the webcam
records, and the recording is translated after Stop. Errors from the core appear as a one-line
banner; what was shown before stays until a new clip really replaces it, and the tab always
returns to an idle state where the user can try again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QProgressBar, QSplitter, QVBoxLayout, QWidget

from signstudio.errors import ModelError
from signstudio.gui.decoding import DecodingLabel
from signstudio.gui.frames import DisplayFrame, FrameThrottle, display_frame_from_landmarks
from signstudio.gui.models import InstalledModels
from signstudio.gui.player import ClipPlayer
from signstudio.gui.runner import BUSY_MESSAGE, IDLE, JobProgress
from signstudio.gui.shortcuts import bind
from signstudio.gui.tab import JobTab
from signstudio.gui.translate import jobs, live
from signstudio.gui.translate.captions import CaptionArea, CaptionItem, meta_line
from signstudio.gui.translate.controls import SourceBar
from signstudio.gui.widgets import start_folder

VIDEO_FILTER = "Videos (*.mp4 *.mov *.avi *.mkv *.webm *.m4v *.mpg *.mpeg);;All files (*)"
POSE_FILTER = "Pose files (*.pose);;All files (*)"
PLACEHOLDER = ("Open a video of someone signing, or start the webcam.\n\n"
               "SignStudio finds the hands, face and body in every frame,\n"
               "then translates the signing into text.\n\n"
               "You can also drop a video file here.")

#: Tab states (the runner's job names).
LOADING, EXTRACTING, RECORDING, TRANSLATING = "loading", "extracting", "recording", "translating"
#: The webcam with live captions.
LIVE = "live"
#: States whose job replaces the clip shown.
NEW_CLIP = (LOADING, EXTRACTING, RECORDING, LIVE)
#: States in which the webcam runs (its button says "Stop").
WEBCAM = (RECORDING, LIVE)
#: Frames per second the live view shows at most (the rest are dropped on the worker thread).
LIVE_VIEW_FPS = 18.0
LIVE_HINT = "Sign in front of the camera: each gloss appears as it is recognised."


class TranslateTab(JobTab):
    """Translate signing in a video file, a ``.pose`` file or the webcam into text.

    Public entry points (also used by tests and the screenshot tool): :meth:`open_path`,
    :meth:`start_webcam`, :meth:`stop_webcam`, :meth:`toggle_webcam`, :meth:`cancel`,
    :meth:`play`, :meth:`pause`, :meth:`show_frame`, :meth:`shutdown`; state:
    :attr:`state`, :meth:`is_busy`, :meth:`error_text`, :meth:`translation`, :meth:`pose`,
    :meth:`can_stream`, :meth:`live_captions`, :meth:`caption_history`.

    Args:
        models: the window's installed models (default: the tab lists them itself).

    Signals:
        status_message(str): a line for the window's status bar.
        busy_changed(bool): a job started (True) or the tab became idle (False).
        translation_ready(object): a ``Translation`` was shown.
        caption_added(object): a live ``Caption`` was shown.
        error_shown(str): an error message was shown.
        idle(): the tab returned to idle (after success, failure or cancel).
        models_loaded(): the model selector was filled.
    """

    translation_ready = Signal(object)
    caption_added = Signal(object)
    models_loaded = Signal()

    def __init__(self, parent: QWidget | None = None, models: InstalledModels | None = None) -> None:
        super().__init__(parent, models)
        self.setAcceptDrops(True)
        self._source = ""
        self._opened: str | None = None  # the file being translated (None for a webcam)
        self._pending_source = ""
        self._replaced = True  # the clip shown belongs to the job that runs (or none runs)
        self._pose: Any = None
        self._extraction: Any = None
        self._translation: Any = None
        self._memory = live.ModelMemory()
        self.backend = "auto"  # what runs the models (the window's setting)
        self._live = live.LiveState()
        self._last_dir = ""
        self._build()
        self.decoding_label = DecodingLabel()  # how the output above was decoded
        self.layout().addWidget(self.decoding_label)
        self._live_decoding = ""  # how the live recogniser reads the stream (kept across _replace)
        runner = self.runner
        self.progress = JobProgress(runner, self.progress_bar, self.status_label, follow_status=False)
        runner.state_changed.connect(self._update_controls)
        runner.busy_changed.connect(self.busy_changed)
        runner.progress.connect(self._on_progress)
        runner.status.connect(self._on_status)
        runner.partial.connect(self._on_partial)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(self._on_cancelled)
        runner.idle.connect(self.idle)
        self._update_controls()

    # ------------------------------------------------------------------------------------------
    # layout
    def _build(self) -> None:
        bar = self.source_bar = SourceBar(self.models)
        self.open_video_button, self.open_pose_button = bar.open_video_button, bar.open_pose_button
        self.webcam_button, self.camera_spin = bar.webcam_button, bar.camera_spin
        self.cancel_button, self.model_combo = bar.cancel_button, bar.model_combo
        self.open_video_button.clicked.connect(self.choose_video)
        self.open_pose_button.clicked.connect(self.choose_pose)
        self.webcam_button.clicked.connect(self.toggle_webcam)
        self.cancel_button.clicked.connect(self.cancel)
        self.model_combo.currentIndexChanged.connect(self._model_changed)
        self.model_combo.models_loaded.connect(self._models_listed)

        self.player = ClipPlayer(PLACEHOLDER)
        self.video_view = self.player.view
        self.caption_area = CaptionArea()
        self.captions = self.caption_area.sentence
        self.history = self.caption_area.history
        middle = QSplitter(Qt.Orientation.Horizontal)
        middle.addWidget(self.player)
        middle.addWidget(self.history)
        middle.setStretchFactor(0, 1)
        middle.setChildrenCollapsible(False)
        middle.setSizes([900, 300])

        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFixedWidth(280)
        self.progress_bar.setAccessibleName("Job progress")
        self.status_label = QLabel("")
        self.status_label.setAccessibleName("Job status")
        progress = QHBoxLayout()
        progress.addWidget(self.progress_bar)
        progress.addWidget(self.status_label, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        layout.addWidget(bar)
        layout.addWidget(self.banner)
        layout.addWidget(middle, 1)
        layout.addLayout(progress)
        layout.addWidget(self.caption_area)

        # The window's one keyboard map: Esc cancels, the player's keys (Space, arrows, +/-).
        bind(self, "cancel", self.cancel)
        self.player.bind_keys(self)

    def apply_preferences(self, prefs) -> None:
        """Caption size, font and colours, the default model and the playback speed."""
        self.caption_area.set_caption_style(prefs.caption_scale / 100, prefs.caption_font)
        self.player.set_speed(prefs.playback_speed)
        if prefs.backend != self.backend:  # models loaded by the other backend are loaded again
            self.backend = prefs.backend
            self._memory.clear()
        self.model_combo.set_preferred(prefs.translate_model)

    # ------------------------------------------------------------------------------------------
    # public API: state
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

    def live_captions(self) -> list[Any]:
        """The ``Caption`` objects of the last live stream (those so far while it runs)."""
        return list(self._live.captions)

    def caption_history(self) -> list[str]:
        """The lines of the caption history ("0:03.2  BOOK  62%"), oldest first."""
        return self.history.lines()

    def can_stream(self, model: Any = ...) -> bool:
        """Whether the webcam gives live captions with ``model`` (default: the one selected):
        an installed landmark recogniser not yet found to lack a CTC head. Others record, and
        translate after Stop."""
        model = self.selected_model() if model is ... else model
        return self._memory.can_stream(model, self.models.info(model))

    def models_ready(self) -> bool:
        """True once the model selector has been filled."""
        return self.model_combo.is_ready()

    def refresh_models(self) -> None:
        """List the installed models again (the selector follows when the list is made)."""
        self.models.refresh()

    def _models_listed(self) -> None:
        self._memory.clear()  # a model retrained under the same name is loaded again
        self._update_controls()
        self.models_loaded.emit()

    # ------------------------------------------------------------------------------------------
    # public API: running
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
        path, _ = QFileDialog.getOpenFileName(self, "Open a .pose file", self._start_dir(), POSE_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Translate a video file (landmarks are extracted first) or a ``.pose`` file.

        Returns False (and does nothing) while another job runs. The outcome arrives later:
        captions (``translation_ready``), a message in the banner (``error_shown``), and in any
        case ``idle``. The clip shown so far stays until the new one's first frame.
        """
        if not self.runner.check_idle():
            return False
        path = Path(path)
        self._last_dir = str(path.parent)
        self._expect_new(path.name)
        self._opened = str(path)  # a model of video frames reads the file itself
        state = LOADING if path.suffix.lower() == ".pose" else EXTRACTING
        return self.runner.start(state, jobs.read_clip_job(str(path)), on_finished=self._clip_ready,
                                 map_partial=display_frame_from_landmarks,
                                 status=f"{'Reading' if state == LOADING else 'Opening'} {path.name}…")

    def start_webcam(self, index: int | None = None) -> bool:
        """Start webcam ``index`` (default: the number in the selector): live captions with a
        model that can stream (:meth:`can_stream`), else a recording translated after Stop."""
        if not self.runner.check_idle():
            return False
        index = self.camera_spin.value() if index is None else int(index)
        model = self.selected_model()
        self._expect_new(f"webcam {index}")
        self._opened = None
        if not self.can_stream(model):
            return self._record(index)
        return self.runner.start(LIVE, live.live_camera_job(index, model, self._memory.loaded_for(model), self.backend),
                                 on_finished=lambda result, i=index, m=model: self._live_done(i, m, result),
                                 map_partial=FrameThrottle(LIVE_VIEW_FPS), discard_on_cancel=False,
                                 status=f"Opening webcam {index} for live captions…")

    def _record(self, index: int) -> bool:
        return self.runner.start(RECORDING, jobs.record_camera_job(index), on_finished=self._clip_ready,
                                 map_partial=display_frame_from_landmarks,
                                 status=f"Opening webcam {index}…")

    def stop_webcam(self) -> None:
        """Stop the webcam: live captions end (they stay); a recording is translated."""
        if self.state in WEBCAM and self.runner.stop():  # both jobs return what they have
            self._status("Stopping the webcam…")
            self.webcam_button.setEnabled(False)

    def toggle_webcam(self) -> None:
        """Start the webcam, or stop it if it runs."""
        if self.state in WEBCAM:
            self.stop_webcam()
        else:
            self.start_webcam()

    def cancel(self) -> None:
        """Cancel the running job; the tab returns to idle with a "Cancelled" status."""
        self.runner.cancel()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel every job and wait (up to ``timeout`` s) for their threads; for window close."""
        self.player.pause()
        super().shutdown(timeout)

    # ------------------------------------------------------------------------------------------
    # the jobs' signals
    def _expect_new(self, source: str) -> None:
        self._pending_source = source
        self._replaced = False
        self.banner.dismiss()

    def _replace(self) -> None:
        """The new clip's first frame arrived: forget what was shown before."""
        if not self._replaced:
            self._replaced = True
            self._reset_result(self._pending_source)
            if self.state == LIVE:
                self.caption_area.begin_live(LIVE_HINT)
                self.decoding_label.show_decoding(self._live_decoding)
                self.player.set_badge("● LIVE")
            elif self.state == RECORDING:
                self.caption_area.clear(f"{self._webcam_note()}.")
                self.player.set_badge("● REC")
            else:
                self.caption_area.clear("Finding the hands, face and body in each frame…")

    def _on_progress(self, done: int, total: int, unit: str) -> None:
        self.progress.show_progress(done, total, "frame")
        rate = self.runner.rate()
        per_second = f" · {rate:.1f} frames/s" if rate > 0 else ""
        if self.state == EXTRACTING:
            counted = f"frame {done} of {total}" if total > 0 else f"{done} frames"
            self._status(f"Finding hands and body: {counted}{per_second}")
        elif self.state == RECORDING:
            self._status(f"Recording from the webcam: {done} frames{per_second} — "
                         "press Stop to translate (this model translates whole clips, not live)")
        elif self.state == LIVE and not self.runner.cancelling:
            self._status(self._live.progress_line(done, rate))

    def _on_status(self, text: str) -> None:
        # Once frames flow, the progress line (with frames/s) says more than the job's status.
        own = self.runner.cancelling or text == BUSY_MESSAGE
        if not own and self.state in (EXTRACTING, *WEBCAM) and self._replaced \
                and self.video_view.frame() is not None:
            return
        self._status(text + ("" if text.endswith(("…", ".")) else "…"))

    def _on_partial(self, item: Any) -> None:
        if isinstance(item, DisplayFrame):
            self._replace()
            self.player.show_live(item, keep=self.state != LIVE)
        elif isinstance(item, live.Decoding):
            self._live_decoding = item.text
            self.decoding_label.show_decoding(item.text)
        elif isinstance(item, live.HandsSeen):
            self._live.hands = item.recently
            self.caption_area.set_hint(LIVE_HINT if item.recently else live.NO_HANDS)
            if not item.recently:
                self._status(live.NO_HANDS)
        elif hasattr(item, "gloss") and hasattr(item, "alternatives"):  # a live Caption
            self._replace()
            self._live.captions.append(item)
            self.caption_area.add_caption(CaptionItem.from_caption(item))
            self.caption_added.emit(item)

    def _live_done(self, index: int, model: str | None, result: Any) -> None:
        """The live stream ended (or the model turned out unable to stream: record instead)."""
        if isinstance(result, live.CannotStream):
            self._memory.no_stream[model] = result.reason
            self._record(index)
            self._status(f"{self._webcam_note()}: recording instead.")
            return
        self._memory.loaded[model] = result.loaded
        self.player.set_badge("")
        error, status, hint = self._live.ended(result)
        if error:
            self.show_error(error)
        self._status(status)
        self.caption_area.set_hint(hint)

    def _on_failed(self, state: str, message: str, error: Any) -> None:
        self.show_error(message)
        if state in NEW_CLIP and not self._replaced:
            self._status("Failed: " + message)  # what was shown before stays
        elif state == LIVE:  # the captions so far stay
            self._status("The live captions stopped: " + message)
        elif state == TRANSLATING and self.player.has_clip():
            if isinstance(error, ModelError):
                hint = (f"No translation: the model could not be loaded. Models are folders in "
                        f"{jobs.models_folders_text()}. The landmarks can still be played back.")
            else:
                hint = "No translation (see the message above). The landmarks can still be played back."
            self.caption_area.clear(hint)
            self._status("Landmarks ready; translation failed.")
        else:
            self.caption_area.reset()
            if not self.player.has_clip():
                self.player.clear()
            self._status("Failed: " + message)
        self._replaced = True

    def _on_cancelled(self, state: str) -> None:
        if state == TRANSLATING and self.player.has_clip():
            self.caption_area.clear("Translation cancelled.")
        elif self._replaced:
            self._reset_result("")
        self._replaced = True
        self._status("Cancelled")

    def _clip_ready(self, clip: Any) -> None:
        """A clip's landmarks (a ``Clip`` from a file, a ``PoseExtraction`` from the webcam)."""
        self._replace()
        extraction = getattr(clip, "extraction", clip)
        self._extraction = extraction
        hands = getattr(extraction, "hands_detected", None)
        if isinstance(hands, (int, float)) and not isinstance(hands, bool) and hands == 0:
            self.banner.show_message("No hands were found in this clip; a translation of it is "
                                     "unlikely to mean much.", "warning")
        self._pose = clip.pose
        self.player.load_pose(clip.pose, getattr(extraction, "info", None))
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
        self.caption_area.clear("Translating…")
        self.runner.start(TRANSLATING, jobs.translate_job(self._pose, model, self._memory.translators.get(model),
                                                           self.backend, self._opened),
                          on_finished=lambda result, m=model: self._translation_done(m, result),
                          status="Translating…")

    def _translation_done(self, model: str | None, result: jobs.TranslateResult) -> None:
        translation, translator = result.translation, result.translator
        self._memory.translators[model] = translator
        self._translation = translation
        fps = float(getattr(getattr(self._pose, "body", None), "fps", 0) or 25.0)
        self.caption_area.show_translation(translation, meta_line(translation, self._extraction), fps)
        self.decoding_label.show_decoding(str(getattr(translation, "decoding", "") or ""))
        name = getattr(translation, "model", "") or getattr(translator, "name", "")
        self._status(f"Translated {self._source} with {name}.")
        self.translation_ready.emit(translation)

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
    def _status(self, text: str) -> None:
        self.progress.show_status(text)
        self.status_message.emit(text)

    def _update_controls(self, _state: str = "") -> None:
        state, busy = self.state, self.is_busy()
        self.source_bar.update_state(busy, state if state in WEBCAM else "", self.runner.can_cancel(),
                                     self.runner.cancelling, self._webcam_note())
        if not busy:
            self.player.set_badge("")
        self.player.set_seekable(state in (IDLE, TRANSLATING))

    def _reset_result(self, source: str) -> None:
        self._source = source
        self._pose = None
        self._extraction = None
        self._translation = None
        self._live.reset()
        self.banner.dismiss()
        self.player.clear()
        self.caption_area.reset()
        self.decoding_label.show_decoding("")

    def _webcam_note(self) -> str:
        model = self.selected_model()
        return self._memory.webcam_note(model, self.models.info(model), self.models.default_name)

    def _model_changed(self, _index: int) -> None:
        self._update_controls()
        if not self.is_busy() and self._pose is not None:
            self.banner.dismiss()
            self._translate()

    def _start_dir(self) -> str:
        return self._last_dir or start_folder()

    # drag and drop -----------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Accept a dragged file while idle."""
        if not self.is_busy() and event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Translate a dropped file."""
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.open_path(urls[0].toLocalFile())

