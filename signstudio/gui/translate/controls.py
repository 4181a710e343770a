"""The Translate tab's row of controls: open a video or a ``.pose`` file, the webcam and its
number, cancel, and the model selector. :meth:`SourceBar.update_state` sets what may be pressed
and what the webcam button says (Webcam, or Stop while the webcam runs) for the tab's state."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QStyle, QWidget

from signstudio.gui.models import InstalledModels, ModelSelector

#: The task of the models the tab offers.
TASK = "sign-to-text"


class SourceBar(QWidget):
    """The buttons and the model selector above the video (the tab connects them).

    Attributes:
        open_video_button, open_pose_button, webcam_button, camera_spin, cancel_button,
        model_combo: the controls, left to right.
    """

    def __init__(self, models: InstalledModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        style = self.style()
        icons = QStyle.StandardPixmap
        self.open_video_button = QPushButton("Open video…")
        self.open_video_button.setIcon(style.standardIcon(icons.SP_DialogOpenButton))
        self.open_video_button.setToolTip("Translate a video file of someone signing (Ctrl+O)")
        self.open_pose_button = QPushButton("Open .pose…")
        self.open_pose_button.setToolTip(
            "Translate landmarks saved earlier in a pose-format .pose file (Ctrl+Shift+O)")
        self.webcam_button = QPushButton("Webcam")
        self.webcam_button.setIcon(style.standardIcon(icons.SP_MediaPlay))
        self.camera_spin = QSpinBox()
        self.camera_spin.setRange(0, 9)
        self.camera_spin.setPrefix("Camera ")
        self.camera_spin.setToolTip("Which webcam to use (0 is the first one)")
        self.camera_spin.setAccessibleName("Webcam number")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setIcon(style.standardIcon(icons.SP_DialogCancelButton))
        self.cancel_button.setToolTip("Stop the current job and discard its result (Esc)")

        model_label = QLabel("&Model:")
        self.model_combo = ModelSelector(models, TASK, default_entry=True,
                                         tip="The model that turns landmarks into text.",
                                         empty_tip="No translation model is installed yet.")
        self.model_combo.setMinimumContentsLength(18)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_combo.setAccessibleName("Translation model")
        model_label.setBuddy(self.model_combo)

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.open_video_button, self.open_pose_button):
            row.addWidget(widget)
        row.addSpacing(12)
        row.addWidget(self.webcam_button)
        row.addWidget(self.camera_spin)
        row.addSpacing(12)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        row.addWidget(model_label)
        row.addWidget(self.model_combo)

    def update_state(self, busy: bool, webcam: str, can_cancel: bool, cancelling: bool,
                     webcam_tip: str) -> None:
        """Enable what may be pressed now.

        Args:
            busy: a job runs. webcam: "recording" or "live" while the webcam runs, else "".
            can_cancel: the job may be cancelled now. cancelling: a cancel was asked for.
            webcam_tip: the webcam button's tooltip while it is idle (what it will do).
        """
        for widget in (self.open_video_button, self.open_pose_button, self.camera_spin, self.model_combo):
            widget.setEnabled(not busy)
        button = self.webcam_button
        button.setEnabled(not busy or (bool(webcam) and not cancelling))
        button.setText("Stop" if webcam else "Webcam")
        button.setToolTip("Stop recording and translate what was signed" if webcam == "recording"
                          else "Stop the live captions (they stay in the history)" if webcam
                          else webcam_tip)
        icons = QStyle.StandardPixmap
        button.setIcon(self.style().standardIcon(icons.SP_MediaStop if webcam else icons.SP_MediaPlay))
        self.cancel_button.setEnabled(can_cancel)
