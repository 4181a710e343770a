"""The Attention tab's two rows of controls: the model, the files, the sentence, Run and progress.

:class:`AttentionBar` builds them; the tab connects the buttons to its actions.
"""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
                               QStyle, QVBoxLayout, QWidget)

from signstudio.gui.models import InstalledModels, ModelSelector
from signstudio.interpret.session import ATTENTION_TASKS, order_models
from signstudio.runtime.installed import ATTENTION_MODEL

SENTENCE_PLACEHOLDER = ("A sentence for a text model, e.g. “Morgen regnet es im Norden.” "
                        "(Enter to record)")
MODEL_TIP = ("The model whose attention is recorded: a sign-to-text model for videos and .pose "
             "files, a text model for text")


class AttentionBar(QWidget):
    """The model selector, Open video/.pose, Open text, Open record, Save record, Export PNG/CSV;
    then the sentence, Run, Cancel, the progress bar and the status line.

    Args:
        models: the installed models the selector offers (those whose attention can be recorded).
    """

    def __init__(self, models: InstalledModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        style = self.style()
        icons = QStyle.StandardPixmap

        def button(text: str, tip: str, icon=None) -> QPushButton:
            b = QPushButton(text)
            if icon is not None:
                b.setIcon(style.standardIcon(icon))
            b.setToolTip(tip)
            return b

        model_label = QLabel("&Model:")
        self.model_combo = ModelSelector(
            models, ATTENTION_TASKS, show_task=True, tip=MODEL_TIP,
            order=lambda found: order_models(found, ATTENTION_MODEL))
        self.model_combo.setAccessibleName("Model whose attention is recorded")
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_combo.setMinimumContentsLength(22)
        model_label.setBuddy(self.model_combo)

        self.open_clip_button = button("Open video/.pose…", "Record a sign-to-text model's attention "
                                       "on a video or a .pose file", icons.SP_DialogOpenButton)
        self.open_text_button = button("Open text…", "Record a text model's attention on a UTF-8 text "
                                       "file (one sentence)")
        self.open_record_button = button("Open record (.npz)…", "Show an attention record saved earlier "
                                         "(here or with `signstudio attention --save`)")
        self.save_record_button = button("Save record…", "Save every attention map of this run as .npz",
                                         icons.SP_DialogSaveButton)
        self.export_png_button = button("Export PNG…", "Save the matrix shown as a PNG heatmap")
        self.export_csv_button = button("Export CSV…", "Save the matrix shown as CSV: one row per token, "
                                        "one column per frame")
        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(model_label)
        top.addWidget(self.model_combo)
        top.addStretch(1)
        for widget in (self.open_clip_button, self.open_text_button, self.open_record_button):
            top.addWidget(widget)

        sentence_label = QLabel("&Sentence:")
        self.sentence_edit = QLineEdit()
        self.sentence_edit.setPlaceholderText(SENTENCE_PLACEHOLDER)
        self.sentence_edit.setClearButtonEnabled(True)
        self.sentence_edit.setAccessibleName("Sentence for a text model")
        sentence_label.setBuddy(self.sentence_edit)
        self.run_button = button("&Run", "Record the attention again: the sentence for a text model, "
                                 "otherwise the file opened last, with the model chosen", icons.SP_MediaPlay)
        font = QFont(self.run_button.font())
        font.setBold(True)
        self.run_button.setFont(font)
        self.cancel_button = button("Cancel", "Stop the current job and keep what is shown (Esc)",
                                    icons.SP_DialogCancelButton)
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFixedWidth(220)
        self.progress_bar.setAccessibleName("Job progress")
        self.status_label = QLabel("")
        self.status_label.setAccessibleName("Job status")
        second = QHBoxLayout()
        second.setSpacing(6)
        second.addWidget(sentence_label)
        second.addWidget(self.sentence_edit, 1)
        for widget in (self.run_button, self.cancel_button):
            second.addWidget(widget)
        # Three short rows, so that at the window's minimum width (800 px) no button is cut.
        third = QHBoxLayout()
        third.setSpacing(6)
        third.addWidget(self.progress_bar)
        third.addWidget(self.status_label, 1)
        third.addStretch(1)  # the buttons keep their own width while the progress is hidden
        for widget in (self.save_record_button, self.export_png_button, self.export_csv_button):
            third.addWidget(widget)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addLayout(second)
        layout.addLayout(third)
