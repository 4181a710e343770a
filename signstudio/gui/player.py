"""The clip player: the video view with its landmarks, play/pause, a position slider.

It shows live frames while landmarks are being found (:meth:`ClipPlayer.show_live`), keeps a
memory-bounded cache of downscaled frames, and once the pose is known plays the clip back at its
frame rate with the landmarks of the pose (:meth:`ClipPlayer.load_pose`). No job logic here.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QPushButton, QSlider, QStyle,
                               QVBoxLayout, QWidget)

from signstudio.gui.frames import (CACHE_BUDGET_BYTES, DisplayFrame, FrameCache, PoseTrack,
                                   fit_scale)
from signstudio.gui.preferences import SPEEDS
from signstudio.gui.shortcuts import bind, key_text
from signstudio.pose.limbs import holistic_skeleton, skeleton_for_pose
from signstudio.gui.widgets import VideoView


def next_speed(speed: float, step: int) -> float:
    """The speed ``step`` places from ``speed`` in :data:`SPEEDS` (clamped at the ends)."""
    index = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - speed))
    return SPEEDS[min(max(index + step, 0), len(SPEEDS) - 1)]


class ClipPlayer(QWidget):
    """A :class:`VideoView` with playback controls underneath.

    Signals:
        frame_shown(int): a frame (live or played back) was put on screen.
    """

    frame_shown = Signal(int)

    def __init__(self, placeholder: str = "", cache_budget_bytes: int = CACHE_BUDGET_BYTES,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cache = FrameCache(cache_budget_bytes)
        self._track: PoseTrack | None = None
        self._index = 0
        self._seekable = True
        self._speed = 1.0

        self.view = VideoView()
        self.view.set_placeholder(placeholder)

        self.play_button = QPushButton()
        self.play_button.setToolTip(f"Play or pause the clip ({key_text('play')}); "
                                    f"{key_text('step_back')}/{key_text('step_forward')} step a frame, "
                                    "+/- change the speed")
        self.play_button.setAccessibleName("Play or pause")
        self.play_button.clicked.connect(self.toggle_play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setAccessibleName("Frame position")
        self.slider.setToolTip("Drag to move through the clip")
        self.slider.valueChanged.connect(self._slider_moved)
        self.frame_label = QLabel("")
        self.frame_label.setMinimumWidth(120)
        self.landmarks_check = QCheckBox("Show &landmarks")
        self.landmarks_check.setChecked(True)
        self.landmarks_check.setToolTip(
            "Draw the body (blue), the signer's left hand (orange), right hand (pink) and face")
        self.landmarks_check.toggled.connect(self.view.set_show_landmarks)

        # A click does not take the keyboard focus, so Space stays play/pause after a click on
        # "Show landmarks"; Tab still reaches every control.
        for control in (self.play_button, self.slider, self.landmarks_check):
            control.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.frame_label)
        controls.addWidget(self.landmarks_check)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.view, 1)
        layout.addLayout(controls)

        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._update_controls()

    # --- content -------------------------------------------------------------------------------
    def clear(self) -> None:
        """Forget the clip and its frames; the view shows its placeholder."""
        self._timer.stop()
        self.cache.clear()
        self._track = None
        self._index = 0
        self.view.set_frame(None)
        self.view.set_badge("")
        self.frame_label.setText("")
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self._update_controls()

    def show_live(self, frame: DisplayFrame, keep: bool = True) -> None:
        """Show a frame as it arrives from the landmark job, and keep it for playback (unless
        ``keep`` is False: a live stream that is never played back)."""
        if self.view.frame() is None:
            self.view.set_skeleton(holistic_skeleton())
        if keep and frame.image is not None:
            self.cache.add(frame.index, frame.image)
        self.view.set_frame(frame)
        self.frame_label.setText(f"frame {frame.index + 1}")
        self.frame_shown.emit(frame.index)

    def load_pose(self, pose: Any, info: Any = None) -> None:
        """Play ``pose`` (a pose-format ``Pose``) back over the frames cached so far.

        Args:
            pose: landmarks in pixels of the source video.
            info: the video's ``VideoInfo`` (width, height, fps), or ``None`` for a ``.pose``
                file (its header's dimensions and fps are used, with no video behind it).
        """
        self._timer.stop()
        dims = pose.header.dimensions
        width = getattr(info, "width", None) or dims.width
        height = getattr(info, "height", None) or dims.height
        scale = fit_scale(width, height) * (width / dims.width if dims.width else 1.0)
        self._track = PoseTrack(pose, scale)
        if info is not None and getattr(info, "fps", 0):
            self._track.fps = float(info.fps)
        self.view.set_skeleton(skeleton_for_pose(pose))
        self.view.set_badge("")
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(self._track.frames - 1, 0))
        self.slider.blockSignals(False)
        self.show_frame(0)

    def set_badge(self, text: str) -> None:
        """A label in the view's corner ("● LIVE"); "" hides it."""
        self.view.set_badge(text)

    def set_seekable(self, seekable: bool) -> None:
        """Allow (True) or block (False) moving through the clip, e.g. while a job runs."""
        self._seekable = bool(seekable)
        self._update_controls()

    def has_clip(self) -> bool:
        """True once a pose is loaded for playback."""
        return self._track is not None

    def frame_count(self) -> int:
        """Frames of the loaded clip (0 if none)."""
        return self._track.frames if self._track is not None else 0

    # --- playback ------------------------------------------------------------------------------
    def bind_keys(self, host: QWidget) -> None:
        """Answer the players' keys (:data:`signstudio.gui.shortcuts.SHORTCUTS`) while the focus is
        anywhere in ``host`` (the tab holding this player)."""
        bind(host, "play", self.toggle_play)
        bind(host, "step_back", lambda: self.step(-1))
        bind(host, "step_forward", lambda: self.step(1))
        bind(host, "jump_back", lambda: self.step(-self._one_second()))
        bind(host, "jump_forward", lambda: self.step(self._one_second()))
        bind(host, "start", lambda: self.step(-self.frame_count()))
        bind(host, "faster", lambda: self.set_speed(next_speed(self._speed, 1)))
        bind(host, "slower", lambda: self.set_speed(next_speed(self._speed, -1)))

    def _fps(self) -> float:
        return self._track.fps if self._track is not None and self._track.fps > 0 else 25.0

    def _one_second(self) -> int:
        return max(1, round(self._fps()))

    def speed(self) -> float:
        """The playback speed (1.0: the clip's frame rate)."""
        return self._speed

    def set_speed(self, speed: float) -> None:
        """Play at ``speed`` times the clip's frame rate (e.g. 0.5 for half speed)."""
        self._speed = max(0.05, float(speed))
        if self._timer.isActive():
            self._timer.setInterval(self._interval())
        self._show_position()

    def _interval(self) -> int:
        return max(1, round(1000.0 / (self._fps() * self._speed)))

    def step(self, frames: int) -> None:
        """Pause and move ``frames`` frames (negative: back), within the clip."""
        if self._track is None or not self._seekable:
            return
        self.pause()
        self.show_frame(self._index + int(frames))

    def play(self) -> None:
        """Play the clip at its frame rate times the speed, looping."""
        if self._track is None or self._track.frames < 1:
            return
        self._timer.start(self._interval())
        self._update_controls()

    def pause(self) -> None:
        """Stop at the current frame."""
        self._timer.stop()
        self._update_controls()

    def toggle_play(self) -> None:
        """Play if paused, pause if playing."""
        if self._timer.isActive():
            self.pause()
        else:
            self.play()

    def is_playing(self) -> bool:
        """True while the clip plays."""
        return self._timer.isActive()

    def show_frame(self, index: int) -> None:
        """Show frame ``index`` of the loaded clip with its landmarks."""
        track = self._track
        if track is None:
            return
        index = min(max(int(index), 0), track.frames - 1)
        self._index = index
        points, conf = track.landmarks(index)
        image = self.cache.get(index)
        size = (image.shape[1], image.shape[0]) if image is not None else track.size
        self.view.set_frame(DisplayFrame(index, image, size, points, conf))
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        self._show_position()
        self.frame_shown.emit(index)

    def _show_position(self) -> None:
        if self._track is None:
            return
        speed = "" if self._speed == 1.0 else f"  ·  {self._speed:g}×"
        self.frame_label.setText(f"frame {self._index + 1} / {self._track.frames}{speed}")

    def _tick(self) -> None:
        if self._track is None:
            self._timer.stop()
            return
        self.show_frame((self._index + 1) % max(self._track.frames, 1))

    def _slider_moved(self, value: int) -> None:
        if self._track is not None and value != self._index:
            self.show_frame(value)

    def _update_controls(self) -> None:
        playing = self._timer.isActive()
        icons = QStyle.StandardPixmap
        icon = icons.SP_MediaPause if playing else icons.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play")
        has_clip = self._track is not None
        self.play_button.setEnabled(has_clip)
        self.slider.setEnabled(has_clip and self._seekable)
