"""The Translate tab's caption area: a sentence, or recognised glosses as they come, and their history.

A sentence translation (the BOSTON Signformer) shows in the :class:`~signstudio.gui.widgets.CaptionView`.
A recogniser's glosses — live from the webcam, or the segments of a clip — show in the
:class:`GlossCaptionView`: the last glosses in large type, the newest one's best candidates small
beside it (``?`` and the candidates when the model is unsure). Every gloss also goes to the
:class:`CaptionHistory`, a read-only, scrollable, copyable list with time stamps that the tab
places beside the video. :class:`CaptionArea` switches between the two views. These widgets only
display what they are given.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (QApplication, QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QSizePolicy,
                               QStackedLayout, QToolButton, QVBoxLayout, QWidget)

from signstudio.gui import theme
from signstudio.gui.preferences import set_role
from signstudio.gui.widgets import CaptionView, scaled_font

#: Sign shown for a gloss the model is unsure of.
UNSURE = "?"
#: Candidates listed beside the caption line.
CANDIDATES = 4
#: Lines the history keeps (the oldest go first): an hour of signing fits.
HISTORY_LINES = 20_000



@dataclass
class CaptionItem:
    """One gloss to show: from a live ``Caption`` or a clip's segment.

    Attributes:
        gloss: the gloss, or None when the model is unsure.
        start, end: seconds from the start of the stream or clip.
        confidence: the gloss's probability (0-1).
        alternatives: the best ``(gloss, probability)`` pairs, most probable first.
    """

    gloss: str | None
    start: float
    end: float
    confidence: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)

    @classmethod
    def from_caption(cls, caption: Any) -> "CaptionItem":
        """From a :class:`signstudio.runtime.stream.Caption`."""
        return cls(caption.gloss, float(caption.start), float(caption.end), float(caption.confidence),
                   [(str(g), float(p)) for g, p in caption.alternatives])

    @classmethod
    def from_segment(cls, segment: dict, fps: float) -> "CaptionItem":
        """From a ``Translation.segments`` entry (frame indices) of a clip at ``fps``."""
        fps = fps if fps and fps > 0 else 25.0
        return cls(segment.get("gloss"), float(segment.get("start", 0)) / fps, float(segment.get("end", 0)) / fps,
                   float(segment.get("confidence", 0.0)),
                   [(str(g), float(p)) for g, p in segment.get("alternatives") or []])

    @property
    def shown(self) -> str:
        """What the caption line shows: the gloss, or ``?``."""
        return self.gloss or UNSURE


def format_clock(seconds: float) -> str:
    """``63.25`` → ``"1:03.2"`` (``"1:02:03.2"`` past an hour)."""
    tenths = max(0, int(round(float(seconds) * 10)))
    minutes, rest = divmod(tenths, 600)
    hours, minutes = divmod(minutes, 60)
    clock = f"{minutes}:{rest // 10:02d}.{rest % 10}"
    return f"{hours}:{clock.zfill(7)}" if hours else clock


def history_line(item: CaptionItem) -> str:
    """One line of the history: ``"0:03.2  BOOK  62%"``, or ``"0:04.0  ?  (BOOK 31%, DRINK 12%)"``
    for an unsure gloss (its two best candidates)."""
    if item.gloss:
        return f"{format_clock(item.start)}  {item.gloss}  {item.confidence:.0%}"
    maybe = ", ".join(f"{g} {p:.0%}" for g, p in item.alternatives[:2])
    return f"{format_clock(item.start)}  {UNSURE}  ({maybe})" if maybe else f"{format_clock(item.start)}  {UNSURE}"


class GlossCaptionView(QFrame):
    """Recognised glosses in large type, the newest last (older ones dimmer; as many as fit), and
    the newest one's best candidates small beside them; a hint line below (what to do, a note,
    the model and timing)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("GlossCaptionView")
        self.setFrameShape(QFrame.Shape.StyledPanel)  # coloured by the theme's style sheet
        self._items: list[CaptionItem] = []
        self._keep = 64  # recent glosses kept for the line (it shows those that fit)
        self._empty = ""

        self.line_label = QLabel()
        self.line_label.setObjectName("captionLine")
        self._line_pt = max(30.0, self.font().pointSizeF() * 2.7)
        self._candidates_pt = max(12.0, self.font().pointSizeF() * 1.2)
        self.line_label.setTextFormat(Qt.TextFormat.RichText)
        self.line_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.line_label.setAccessibleName("Recognised glosses")

        self.hint_label = QLabel()
        self.hint_label.setObjectName("captionHint")
        self.hint_label.setWordWrap(True)
        self.hint_label.setTextFormat(Qt.TextFormat.PlainText)
        set_role(self.hint_label, "caption-muted")
        self.hint_label.setAccessibleName("Caption details")

        self.candidates_title = QLabel()
        self.candidates_title.setObjectName("candidatesTitle")
        tfont = QFont(self.font())
        tfont.setBold(True)
        self.candidates_title.setFont(tfont)
        self.candidates_label = QLabel()
        self.candidates_label.setObjectName("candidates")
        self.candidates_label.setTextFormat(Qt.TextFormat.RichText)
        self.candidates_label.setAccessibleName("Best candidates")
        for label in (self.hint_label, self.candidates_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        side = QFrame()
        side.setObjectName("candidatesBox")
        side.setFixedWidth(270)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(12, 8, 12, 8)
        side_layout.setSpacing(2)
        side_layout.addWidget(self.candidates_title)
        side_layout.addWidget(self.candidates_label, 1)
        self.candidates_box = side

        main = QVBoxLayout()
        main.setSpacing(4)
        main.addWidget(self.line_label)
        main.addWidget(self.hint_label)
        main.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(24, 12, 12, 12)
        layout.setSpacing(16)
        layout.addLayout(main, 1)
        layout.addWidget(side)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.set_caption_style(1.0, "")
        self.clear()

    def set_caption_style(self, scale: float, family: str = "") -> None:
        """Caption size ``scale`` (1.0 to 3.0 of the default) in font ``family`` ("" = the
        window's); the theme's current colours are used from now on."""
        font = scaled_font(self.font(), self._line_pt * scale, family, bold=True)
        self.line_label.setFont(font)
        self._small_pt = max(12.0, font.pointSizeF() * 0.45)
        self.line_label.setMinimumHeight(QFontMetrics(font).height() + 4)
        self.candidates_label.setFont(scaled_font(self.font(), self._candidates_pt * min(scale, 1.5), family))
        self.candidates_box.setFixedWidth(round(270 * min(scale, 1.5)))
        self._render()

    # --- content -------------------------------------------------------------------------------
    def clear(self, hint: str = "", empty: str = "Glosses appear here as they are recognised.") -> None:
        """No glosses; ``hint`` below the (empty) line, ``empty`` in the candidate box."""
        self._items = []
        self._empty = empty
        self.set_hint(hint)
        self._render()

    def set_hint(self, text: str) -> None:
        """The small line below the glosses."""
        self.hint_label.setText(text)
        self.hint_label.setVisible(bool(text))

    def add(self, item: CaptionItem) -> None:
        """Append a gloss at the end of the line; its candidates replace those shown."""
        self._items.append(item)
        del self._items[: -self._keep]
        self._render()

    def set_items(self, items: Sequence[CaptionItem], empty: str = "No sign was recognised.") -> None:
        """Show these glosses (the newest last); ``empty`` in the candidate box if there are none."""
        self._items = list(items)[-self._keep:]
        self._empty = empty
        self._render()

    # --- reading (tests, accessibility) ----------------------------------------------------------
    def caption_line(self) -> str:
        """The glosses shown in the line, as plain text ("BOOK ? DRINK"; "" when none)."""
        return " ".join(item.shown for item in self._visible())

    def candidates(self) -> list[tuple[str, float]]:
        """The candidates shown beside the line (the newest gloss's alternatives)."""
        return list(self._items[-1].alternatives[:CANDIDATES]) if self._items else []

    def candidates_text(self) -> str:
        """The candidate box as plain text (its title, then one "GLOSS 62%" per line)."""
        if not self._items:
            return ""
        rows = [f"{g} {p:.0%}" for g, p in self.candidates()]
        return "\n".join([self.candidates_title.text(), *rows])

    def hint(self) -> str:
        """The small line below the glosses."""
        return self.hint_label.text()

    # --- drawing -------------------------------------------------------------------------------
    def _visible(self) -> list[CaptionItem]:
        """The newest glosses that fit the line's width (at least the newest one)."""
        if not self._items:
            return []
        metrics = QFontMetrics(self.line_label.font())
        width = max(self.line_label.width(), 200) - 8
        shown: list[CaptionItem] = []
        for item in reversed(self._items):
            # an unsure gloss's small guess takes about half its width in the large font
            trial = "   ".join(i.shown + ("" if i.gloss or not i.alternatives else
                                          i.alternatives[0][0][: len(i.alternatives[0][0]) // 2 + 1])
                               for i in [item, *shown])
            if shown and metrics.horizontalAdvance(trial) > width:
                break
            shown.insert(0, item)
        return shown

    def _render(self) -> None:
        t = theme.current()
        items = self._visible()
        spans = []
        for k, item in enumerate(items):
            newest = k == len(items) - 1
            color = t.caption_unsure if item.gloss is None else (t.caption_gloss if newest else t.caption_text)
            span = f'<span style="color:{color}">{html.escape(item.shown)}</span>'
            if item.gloss is None and item.alternatives:  # "?" with its best guess, small
                guess = html.escape(item.alternatives[0][0].lower())
                span += (f'<span style="color:{t.caption_muted}; font-size:{self._small_pt:.0f}pt; '
                         f'font-weight:normal">{guess}</span>')
            spans.append(span)
        self.line_label.setText("&nbsp;&nbsp;&nbsp;".join(spans))
        self.line_label.setAccessibleDescription(" ".join(item.shown for item in items))
        newest = self._items[-1] if self._items else None
        if newest is None:
            self.candidates_title.setText("Best candidates")
            self.candidates_title.setStyleSheet(f"color: {t.caption_muted};")
            self.candidates_label.setText(f'<span style="color:{t.caption_muted}">{html.escape(self._empty)}</span>')
            self.candidates_label.setWordWrap(True)
            return
        self.candidates_label.setWordWrap(False)
        if newest.gloss is None:
            self.candidates_title.setText("Unsure (?) — maybe:")
            self.candidates_title.setStyleSheet(f"color: {t.caption_unsure};")
        else:
            self.candidates_title.setText("Best candidates")
            self.candidates_title.setStyleSheet(f"color: {t.caption_muted};")
        rows = []
        for i, (gloss, p) in enumerate(self.candidates()):
            color = t.caption_gloss if i == 0 and newest.gloss is not None else t.caption_text
            bar = "▮" * max(1, round(p * 10))
            rows.append(f'<tr><td style="color:{color}; padding-right:10px">{html.escape(gloss)}</td>'
                        f'<td align="right" style="color:{t.caption_text}; padding-right:8px">{p:.0%}</td>'
                        f'<td style="color:{t.caption_muted}">{bar}</td></tr>')
        self.candidates_label.setText("<table cellspacing=0>" + "".join(rows) + "</table>")

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Fit the line to the new width."""
        super().resizeEvent(event)
        self._render()


class CaptionHistory(QFrame):
    """Every recognised gloss with its time, newest last: read-only, scrollable, selectable
    (Ctrl+A, Ctrl+C) and copied whole with its "Copy" button. It follows the newest line unless
    the user scrolled up to read."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CaptionHistory")
        title = QLabel("Caption history")
        font = QFont(title.font())
        font.setBold(True)
        title.setFont(font)
        self.copy_button = QToolButton()
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy the whole history to the clipboard")
        self.copy_button.setAccessibleName("Copy caption history")
        self.copy_button.clicked.connect(self.copy_all)
        self.edit = QPlainTextEdit()
        self.edit.setReadOnly(True)
        self.edit.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.edit.setMaximumBlockCount(HISTORY_LINES)
        self.edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self._edit_pt = max(11.0, self.edit.font().pointSizeF() * 1.1)
        self.set_caption_style(1.0, "")
        self.edit.setPlaceholderText("Each recognised gloss is listed here with its time.")
        self.edit.setAccessibleName("Caption history")
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.edit, 1)
        self.setMinimumWidth(220)

    def add(self, item: CaptionItem) -> None:
        """Append a line for ``item`` (keeps the view on the newest line if it was there)."""
        bar = self.edit.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        self.edit.appendPlainText(history_line(item))
        if at_end:
            bar.setValue(bar.maximum())

    def clear(self) -> None:
        """Forget every line."""
        self.edit.clear()

    def lines(self) -> list[str]:
        """The lines shown, oldest first."""
        text = self.edit.toPlainText()
        return text.splitlines() if text else []

    def text(self) -> str:
        """The whole history as plain text."""
        return self.edit.toPlainText()

    def set_caption_style(self, scale: float, family: str = "") -> None:
        """History text at ``scale`` (up to 2x; it sits beside the video) in font ``family``."""
        self.edit.setFont(scaled_font(self.edit.font(), self._edit_pt * min(scale, 2.0), family))

    def copy_all(self) -> None:
        """Put the whole history on the clipboard."""
        QApplication.clipboard().setText(self.text())


class CaptionArea(QWidget):
    """The caption area under the video: :attr:`sentence` (a translation's sentence) or
    :attr:`glosses` (a recogniser's glosses), one at a time, and :attr:`history` (not in this
    widget's layout: the tab places it beside the video; it is shown while it has a use)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sentence = CaptionView()
        self.glosses = GlossCaptionView()
        self.history = CaptionHistory(self)  # until the tab places it
        self._stack = QStackedLayout(self)
        self._stack.setContentsMargins(0, 0, 0, 0)
        self._stack.addWidget(self.sentence)
        self._stack.addWidget(self.glosses)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.history.hide()

    def set_caption_style(self, scale: float, family: str = "") -> None:
        """Caption size ``scale`` (1.0 to 3.0) and font ``family`` for all three views."""
        for view in (self.sentence, self.glosses, self.history):
            view.set_caption_style(scale, family)

    def showing_glosses(self) -> bool:
        """True while the gloss view (not the sentence view) is shown."""
        return self._stack.currentWidget() is self.glosses

    def reset(self, hint: str = "The translation will appear here.") -> None:
        """Nothing shown: the sentence view with ``hint``; the history emptied and hidden."""
        self.clear(hint)
        self.history.clear()
        self.history.hide()

    def clear(self, hint: str = "The translation will appear here.") -> None:
        """Show ``hint`` in place of a translation (the history stays)."""
        self.sentence.clear(hint)
        self._stack.setCurrentWidget(self.sentence)

    def begin_live(self, hint: str) -> None:
        """A live stream starts: the gloss view, empty, with ``hint``; an empty history shown."""
        self.glosses.clear(hint)
        self._stack.setCurrentWidget(self.glosses)
        self.history.clear()
        self.history.show()

    def add_caption(self, item: CaptionItem) -> None:
        """A gloss recognised in the stream: at the end of the line and of the history."""
        if not self.showing_glosses():
            self._stack.setCurrentWidget(self.glosses)
            self.history.show()
        self.glosses.add(item)
        self.history.add(item)

    def set_hint(self, text: str) -> None:
        """The gloss view's small line (what to do, a note)."""
        self.glosses.set_hint(text)

    def show_translation(self, translation: Any, meta: str = "", fps: float = 25.0) -> None:
        """Show a ``Translation``: a recogniser's (it has ``segments`` or a ``note``) as glosses,
        ``?`` and candidates when unsure, the note when nothing is shown, and the segments in
        the history with their times (``fps``: the clip's frame rate); any other as a sentence."""
        segments = list(getattr(translation, "segments", None) or [])
        note = str(getattr(translation, "note", "") or "")
        if not segments and not note:
            glosses = " ".join(str(g) for g in (getattr(translation, "glosses", None) or []))
            self.sentence.set_translation(glosses, str(getattr(translation, "text", "") or ""), meta)
            self._stack.setCurrentWidget(self.sentence)
            self.history.clear()
            self.history.hide()
            return
        items = [CaptionItem.from_segment(s, fps) for s in segments]
        self.glosses.set_items(items)
        if not items:
            note = f"No sign shown: {note}." if note else "No sign shown."
        elif note:
            note = note[:1].upper() + note[1:] + "."
        self.glosses.set_hint(" · ".join(bit for bit in (note, meta) if bit))
        self._stack.setCurrentWidget(self.glosses)
        self.history.clear()
        for item in items:
            self.history.add(item)
        self.history.show()


def meta_line(translation: Any, extraction: Any = None) -> str:
    """The small details line of a translation: model, frames, landmark and model time."""
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
    if isinstance(seconds, dict) and "backbone" in seconds:  # a video model reads the frames itself
        frames_s = sum(float(seconds.get(k, 0.0)) for k in ("read", "flow", "backbone"))
        bits.append(f"frames, flow and CNN maps {frames_s:.1f} s")
    if isinstance(seconds, dict) and "model" in seconds:
        bits.append(f"translation {seconds['model'] * 1000:.0f} ms")
    return " · ".join(bits)
