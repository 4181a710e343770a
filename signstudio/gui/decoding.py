"""A small line beside a model's output that says how it was decoded.

The Translate tab reads a clip with the runtime's translator or streaming recogniser (CTC, a
gloss LM, a sliding window) and the Attention tab with the attention decoder over the whole
clip: the same video and model can give different outputs, and each says why. The text comes
from the core (``Translation.decoding``, ``StreamingRecognizer.decoding``,
``AttentionRecord.decoding``); this label only shows it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from signstudio.gui.preferences import set_role

PREFIX = "Decoded: "


class DecodingLabel(QLabel):
    """``Decoded: <how>`` in small muted type; hidden when there is nothing to say."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAccessibleName("How the output was decoded")
        self.setToolTip("Another view of the same model (Translate, live captions, Attention) may "
                        "decode differently and so show a different output")
        font = self.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
        self.setFont(font)
        set_role(self, "muted")  # the theme's muted text colour (checked for contrast)
        self.hide()

    def show_decoding(self, how: str) -> None:
        """Show ``how`` (e.g. ``"streaming CTC, ..."``); ``""`` hides the line."""
        self.setText(PREFIX + how if how else "")
        self.setVisible(bool(how))

    def decoding(self) -> str:
        """What is shown, without the prefix ("" when hidden)."""
        return self.text().removeprefix(PREFIX) if not self.isHidden() else ""
