"""The Produce tab's left panel: sign language, text, glosses, method, Sign/Cancel, progress,
messages, what was signed, and the export and open buttons.

:class:`ProduceForm` builds these widgets and keeps what the user typed consistent (glosses made
from an earlier text are dropped when the text or the language changes); the tab connects its
buttons to its actions and runs the jobs.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QComboBox, QFrame, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit,
                               QProgressBar, QPushButton, QScrollArea, QSizePolicy, QStyle, QVBoxLayout,
                               QWidget)

from signstudio.gui.preferences import set_role
from signstudio.gui.widgets import MessageBanner

DEFAULT_LANGUAGE = "ase"
#: Export formats: suffix → (button text, file-dialog filter).
EXPORT_FORMATS = {
    ".pose": (".pose…", "Pose files (*.pose)"),
    ".mp4": (".mp4 video…", "MP4 videos (*.mp4)"),
    ".gif": (".gif…", "GIF animations (*.gif)"),
}
METHOD_LABELS = {
    "auto": "Automatic",
    "lexicon": "Lexicon (recorded signs)",
    "model": "Model (generated)",
}
METHOD_TIPS = {
    "auto": "Use a trained production model if there is one, otherwise recorded signs",
    "lexicon": "Stitch real recorded signs together; unknown words are fingerspelled",
    "model": "Generate the movement with a trained production model",
}
TEXT_PLACEHOLDER = "A sentence to sign, e.g. “My house is sad.”"
GLOSSES_PLACEHOLDER = "e.g. HOUSE SAD (empty: sign the text)"


class ProduceForm(QWidget):
    """The inputs and messages of the Produce tab (they scroll in a small window; the save and
    open buttons under them stay in sight).

    Signals:
        language_changed(str): another sign language was chosen (its code).
    """

    language_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._auto_glosses = ""  # what "Text → glosses" put in the field (cleared if stale)
        style = self.style()
        icons = QStyle.StandardPixmap

        language_label = QLabel("Sign &language")
        self.language_combo = QComboBox()
        self.language_combo.setAccessibleName("Sign language")
        self.language_combo.setToolTip("The sign language to produce")
        self.language_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.language_combo.setMinimumContentsLength(16)
        language_label.setBuddy(self.language_combo)
        self.language_combo.currentIndexChanged.connect(self._language_changed)

        text_label = QLabel("Te&xt")
        self.text_edit = QPlainTextEdit()
        self.text_edit.setPlaceholderText(TEXT_PLACEHOLDER)
        self.text_edit.setAccessibleName("Text to sign")
        self.text_edit.setTabChangesFocus(True)
        self.text_edit.setMinimumHeight(self.fontMetrics().lineSpacing() * 4 + 16)
        self.text_edit.setMaximumHeight(self.fontMetrics().lineSpacing() * 7 + 16)
        text_label.setBuddy(self.text_edit)
        self.text_edit.textChanged.connect(self._text_changed)

        self.gloss_button = QPushButton("Text → &glosses")
        self.gloss_button.setToolTip("Turn the text into glosses you can check and edit "
                                     "before signing")

        glosses_label = QLabel("Gl&osses (editable)")
        self.glosses_edit = QLineEdit()
        self.glosses_edit.setPlaceholderText(GLOSSES_PLACEHOLDER)
        self.glosses_edit.setAccessibleName("Glosses to sign")
        self.glosses_edit.setToolTip("The signs to make, in order, separated by spaces. "
                                     "Words with no recorded sign are fingerspelled.")
        self.glosses_edit.setClearButtonEnabled(True)
        glosses_label.setBuddy(self.glosses_edit)

        self.method_label = QLabel("&Method")
        self.method_combo = QComboBox()
        self.method_combo.setAccessibleName("Production method")
        self.method_label.setBuddy(self.method_combo)
        self.method_combo.addItem(METHOD_LABELS["auto"], "auto")

        self.sign_button = QPushButton("&Sign")
        self.sign_button.setIcon(style.standardIcon(icons.SP_MediaPlay))
        self.sign_button.setToolTip("Make the signing: the glosses if there are any, otherwise "
                                    "the text (Ctrl+Enter)")
        self.sign_button.setDefault(True)
        font = QFont(self.sign_button.font())
        font.setBold(True)
        self.sign_button.setFont(font)
        self.sign_button.setMinimumHeight(self.sign_button.sizeHint().height() + 6)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setIcon(style.standardIcon(icons.SP_DialogCancelButton))
        self.cancel_button.setToolTip("Stop the current job and discard its result (Esc)")

        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setAccessibleName("Job progress")
        self.status_label = QLabel("")
        self.status_label.setAccessibleName("Job status")
        self.status_label.setWordWrap(True)

        self.banner = MessageBanner()

        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                                   | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.summary_label.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # notes readable by keyboard
        self.summary_label.setAccessibleName("What was signed, and notes")
        self.summary_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        set_role(self.summary_label, "muted")
        # Every note is shown (no hover needed); many notes scroll inside this area.
        self.summary_area = QScrollArea()
        self.summary_area.setWidget(self.summary_label)
        self.summary_area.setWidgetResizable(True)
        self.summary_area.setFrameShape(QFrame.Shape.NoFrame)
        self.summary_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.summary_area.setMinimumHeight(self.fontMetrics().lineSpacing() * 3 + 8)
        self.summary_area.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

        save_label = QLabel("Save the signing as")
        sfont = QFont(save_label.font())
        sfont.setBold(True)
        save_label.setFont(sfont)
        self.export_buttons: dict[str, QPushButton] = {}
        save_row = QHBoxLayout()
        save_row.setSpacing(6)
        for suffix, (text, _filter) in EXPORT_FORMATS.items():
            button = QPushButton(text)
            button.setIcon(style.standardIcon(icons.SP_DialogSaveButton))
            button.setToolTip({".pose": "Save the poses (pose-format), to open again or use "
                                        "in other tools",
                               ".mp4": "Save a video of the skeleton signing",
                               ".gif": "Save an animated picture of the skeleton signing",
                               }[suffix])
            self.export_buttons[suffix] = button
            save_row.addWidget(button)
        self.open_pose_button = QPushButton("Open .pose…")
        self.open_pose_button.setIcon(style.standardIcon(icons.SP_DialogOpenButton))
        self.open_pose_button.setToolTip("Show any pose-format .pose file as a 3D skeleton")

        panel = QWidget()
        form = QVBoxLayout(panel)
        form.setContentsMargins(0, 0, 8, 0)
        form.setSpacing(6)
        form.addWidget(language_label)
        form.addWidget(self.language_combo)
        form.addSpacing(6)
        form.addWidget(text_label)
        form.addWidget(self.text_edit)
        gloss_row = QHBoxLayout()
        gloss_row.addWidget(self.gloss_button)
        gloss_row.addStretch(1)
        form.addLayout(gloss_row)
        form.addSpacing(6)
        form.addWidget(glosses_label)
        form.addWidget(self.glosses_edit)
        method_row = QHBoxLayout()
        method_row.addWidget(self.method_label)
        method_row.addWidget(self.method_combo, 1)
        form.addLayout(method_row)
        form.addSpacing(6)
        action_row = QHBoxLayout()
        action_row.addWidget(self.sign_button, 1)
        action_row.addWidget(self.cancel_button)
        form.addLayout(action_row)
        form.addWidget(self.progress_bar)
        form.addWidget(self.status_label)
        form.addWidget(self.banner)
        form.addWidget(self.summary_area, 1)  # the room left is for the notes
        self.scroll = QScrollArea()
        self.scroll.setWidget(panel)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        # Saving and opening sit under the scrolling part, so a small window never hides them.
        footer = QVBoxLayout()
        footer.setContentsMargins(0, 6, 8, 0)
        footer.setSpacing(6)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        footer.addWidget(line)
        footer.addWidget(save_label)
        footer.addLayout(save_row)
        open_row = QHBoxLayout()
        open_row.addWidget(self.open_pose_button)
        open_row.addStretch(1)
        footer.addLayout(open_row)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.scroll, 1)
        outer.addLayout(footer)
        self.setMinimumWidth(300)
        self.setMaximumWidth(460)

    # --- the sign language and the method ------------------------------------------------------
    def fill_languages(self, languages: list[Any], problem: str = "") -> None:
        """Offer ``languages`` (``known_languages()``; ASL alone if empty, ``problem`` says why)
        and choose ASL."""
        self.language_combo.blockSignals(True)
        self.language_combo.clear()
        for language in languages:
            code = str(getattr(language, "code", language))
            name = str(getattr(language, "name", code))
            abbreviation = str(getattr(language, "abbreviation", "") or code.upper())
            self.language_combo.addItem(f"{abbreviation} — {name}", code)
            self.language_combo.setItemData(self.language_combo.count() - 1,
                                            f"{name} ({code}), from "
                                            f"{getattr(language, 'spoken', '?')} text",
                                            Qt.ItemDataRole.ToolTipRole)
        if not languages:  # the list could not be read: still let the user try ASL
            self.language_combo.addItem("ASL — American Sign Language", DEFAULT_LANGUAGE)
            self.language_combo.setToolTip(f"Could not list the sign languages: {problem}")
        index = self.language_combo.findData(DEFAULT_LANGUAGE)
        self.language_combo.setCurrentIndex(max(index, 0))
        self.language_combo.blockSignals(False)

    def method(self) -> str:
        """The chosen production method ("auto", "lexicon" or "model")."""
        return str(self.method_combo.currentData() or "auto")

    def set_methods(self, methods: list[str], problem: str = "") -> None:
        """Offer ``methods`` ("auto", "lexicon", "model"); the selector shows only if there is a
        choice. ``problem``: why the list is not complete."""
        current = self.method_combo.currentData()
        self.method_combo.blockSignals(True)
        self.method_combo.clear()
        for method in methods:
            self.method_combo.addItem(METHOD_LABELS.get(method, method.capitalize()), method)
            self.method_combo.setItemData(self.method_combo.count() - 1,
                                          METHOD_TIPS.get(method, method),
                                          Qt.ItemDataRole.ToolTipRole)
        index = self.method_combo.findData(current)
        self.method_combo.setCurrentIndex(max(index, 0))
        self.method_combo.blockSignals(False)
        self.method_combo.setToolTip(f"Could not list the methods: {problem}" if problem
                                     else "How the signs are made")
        several = len(methods) > 1
        self.method_label.setVisible(several)
        self.method_combo.setVisible(several)

    # --- the text and the glosses ----------------------------------------------------------------
    def text(self) -> str:
        """The text in the text box."""
        return self.text_edit.toPlainText()

    def set_text(self, text: str) -> None:
        """Put ``text`` in the text box."""
        self.text_edit.setPlainText(text)

    def glosses(self) -> list[str]:
        """The glosses in the glosses field, split on spaces."""
        return self.glosses_edit.text().split()

    def set_glosses(self, glosses: str | list[str]) -> None:
        """Put glosses (a list, or one space-separated string) in the glosses field."""
        text = glosses if isinstance(glosses, str) else " ".join(glosses)
        self._auto_glosses = ""
        self.glosses_edit.setText(text)

    def language(self) -> str:
        """The chosen sign language's code (e.g. "ase")."""
        return str(self.language_combo.currentData() or DEFAULT_LANGUAGE)

    def set_language(self, code: str) -> bool:
        """Choose a sign language by code; False if it is not in the list."""
        index = self.language_combo.findData(code)
        if index < 0:
            return False
        self.language_combo.setCurrentIndex(index)
        return True

    def set_auto_glosses(self, glosses: list[str]) -> None:
        """Fill the glosses field with glosses made from the text (dropped if the text changes)."""
        joined = " ".join(glosses)
        self.glosses_edit.setText(joined)
        self._auto_glosses = joined

    def show_signed_glosses(self, glosses: list[str]) -> None:
        """Show the glosses of what was signed in the field (the user's to edit)."""
        self.glosses_edit.blockSignals(True)
        self.glosses_edit.setText(" ".join(glosses))
        self.glosses_edit.blockSignals(False)
        self._auto_glosses = ""

    def _text_changed(self) -> None:
        # Glosses made from an earlier text would sign the wrong thing: drop them, unless the user
        # edited them by hand.
        if self._auto_glosses and self.glosses_edit.text() == self._auto_glosses:
            self.glosses_edit.clear()
        self._auto_glosses = ""

    def _language_changed(self, _index: int) -> None:
        if self._auto_glosses and self.glosses_edit.text() == self._auto_glosses:
            self.glosses_edit.clear()
            self._auto_glosses = ""
        self.language_changed.emit(self.language())
