"""The Produce tab's reliability panel, under the glosses: who glossed the text, how sure the
model is (unknown words, confidence), the warnings, and, for out-of-domain input, the question
whether to produce anyway.

The panel only shows: the core decides (:class:`~signstudio.production.types.Glossing`'s
``summary()``, ``warnings`` and ``needs_confirmation``; ``OutOfDomainError`` from a strict
``produce``) and the tab wires the answer to :meth:`ProduceTab.sign`. The question is non-modal:
the window stays usable, and editing the text withdraws it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from signstudio.gui.theme import BANNER_COLORS

#: Colours of the panel: a plain note (the theme's colours, a frame), and warnings (the message
#: banner's "warning" colours, whose contrast the theme's test checks).
PLAIN_STYLE = "#ReliabilityPanel { border: 1px solid palette(mid); border-radius: 6px; }"
WARNING_STYLE = (f"#ReliabilityPanel {{ background: {BANNER_COLORS['warning'][0]}; border-radius: 6px; }}"
                 f" QLabel {{ color: {BANNER_COLORS['warning'][1]}; background: transparent; }}")
QUESTION = "Produce the signing anyway?"


def _sentence(line: str) -> str:
    """``line`` with a capital first letter, unless it starts with a name such as
    ``phoenix14t-text2gloss`` (digits, hyphens or underscores in its first word)."""
    first = line.split(" ", 1)[0]
    return line if not line or any(c in first for c in "-_0123456789") else line[:1].upper() + line[1:]


class ReliabilityPanel(QFrame):
    """How reliable the glosses are, shown next to them (never only in a tooltip).

    Signals:
        produce_anyway(): the user chose to produce out-of-domain input.
    """

    produce_anyway = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReliabilityPanel")
        self.summary_label = QLabel("")
        self.warnings_label = QLabel("")
        self.question_label = QLabel(QUESTION)
        for label in (self.summary_label, self.warnings_label, self.question_label):
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_label.setAccessibleName("How the text was glossed")
        self.warnings_label.setAccessibleName("Warnings about the glosses")
        self.anyway_button = QPushButton("Produce anyway")
        self.anyway_button.setToolTip("Sign these glosses although the text is outside what the glossing knows")
        self.anyway_button.clicked.connect(self.produce_anyway)
        self.not_now_button = QPushButton("Not now")
        self.not_now_button.setToolTip("Keep the warning and change the text or the sign language first")
        self.not_now_button.clicked.connect(self.stop_asking)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.anyway_button)
        buttons.addWidget(self.not_now_button)
        buttons.addStretch(1)
        self._question = QWidget()
        question = QVBoxLayout(self._question)
        question.setContentsMargins(0, 4, 0, 0)
        question.addWidget(self.question_label)
        question.addLayout(buttons)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(3)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.warnings_label)
        layout.addWidget(self._question)
        self.clear()

    def show_reliability(self, summary: str, warnings: list[str], ask: bool = False) -> None:
        """Show ``summary`` (one line) and ``warnings`` (one bullet each); with ``ask``, also the
        question with "Produce anyway" (non-modal)."""
        self.summary_label.setText(_sentence(summary))
        self.summary_label.setVisible(bool(summary))
        self.warnings_label.setText("\n".join(f"⚠ {_sentence(w)}" for w in warnings))
        self.warnings_label.setVisible(bool(warnings))
        self.setStyleSheet(WARNING_STYLE if warnings else PLAIN_STYLE)
        self._question.setVisible(ask)
        self.setVisible(bool(summary or warnings))

    def stop_asking(self) -> None:
        """Withdraw the question, keep the warnings."""
        self._question.hide()

    def asking(self) -> bool:
        """True while the question is shown."""
        return not self.isHidden() and not self._question.isHidden()

    def warnings(self) -> list[str]:
        """The warnings shown now (one per line), [] if none."""
        text = self.warnings_label.text() if not self.isHidden() and not self.warnings_label.isHidden() else ""
        return [line.removeprefix("⚠ ") for line in text.splitlines() if line]

    def clear(self) -> None:
        """Hide the panel (nothing glossed, or the text changed)."""
        self.summary_label.setText("")
        self.warnings_label.setText("")
        self._question.hide()
        self.hide()
