"""Reusable widgets: the video view with a landmark overlay, the caption panel, an error banner.

They display what they are given and hold no job logic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton,
                               QVBoxLayout, QWidget)

from signstudio.gui.frames import DisplayFrame
from signstudio.gui.preferences import set_role
from signstudio.gui.theme import BANNER_COLORS
from signstudio.pose.limbs import Skeleton

#: Background of the video view (also used by tests to tell drawn pixels from empty ones).
VIEW_BACKGROUND = QColor(24, 26, 30)

#: Colours of the landmark overlay, by skeleton part style.
PART_COLORS = {
    "body": QColor(90, 220, 255),
    "left_hand": QColor(255, 176, 46),
    "right_hand": QColor(255, 84, 190),
    "face": QColor(235, 235, 235, 150),
    "other": QColor(140, 255, 140),
}
_OUTLINE = QColor(0, 0, 0, 150)


def ellipsize(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in "…" if it was longer."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def start_folder() -> str:
    """Where an "Open" dialog starts before the user picked a folder: the data folder's
    ``videos/`` if it is there, else the home folder."""
    try:
        from signstudio.paths import data_dir

        videos = data_dir() / "videos"
        if videos.is_dir():
            return str(videos)
    except Exception:  # noqa: BLE001 - only a starting folder
        pass
    return str(Path.home())


def adopt_menus(owner: QWidget, *items: Any) -> None:
    """Give the context menus pyqtgraph makes without a parent (a plot's "Plot Options", its view
    box's menu) to ``owner``, so they are deleted with it instead of outliving the window."""
    for item in items:
        menus = [getattr(item, "ctrlMenu", None)]
        getter = getattr(item, "getViewBox", None)
        if getter is not None:
            menus.append(getattr(getter(), "menu", None))
        for menu in menus:
            if menu is not None and menu.parent() is None:
                menu.setParent(owner, menu.windowFlags())



def numpy_to_qimage(image: np.ndarray) -> QImage:
    """Wrap an RGB uint8 (H, W, 3) array as a QImage (a deep copy, safe after the array dies)."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    h, w = image.shape[:2]
    return QImage(image.data, w, h, image.strides[0], QImage.Format.Format_RGB888).copy()


class VideoView(QWidget):
    """Shows one frame, scaled to fit with its aspect ratio kept, and its landmarks drawn on top.

    Landmarks are drawn in widget coordinates, so lines stay crisp and equally thick at any
    window size. With no frame, a short hint (``placeholder``) is shown instead.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(QPalette.ColorRole.Window, VIEW_BACKGROUND)
        self.setPalette(pal)
        self.setAccessibleName("Video with hand and body landmarks")
        self._frame: DisplayFrame | None = None
        self._qimage: QImage | None = None
        self._skeleton: Skeleton | None = None
        self._show_landmarks = True
        self._placeholder = ""
        self._badge = ""

    # --- state ---------------------------------------------------------------------------------
    def set_placeholder(self, text: str) -> None:
        """The hint shown while there is no frame."""
        self._placeholder = text
        self.update()

    def set_badge(self, text: str) -> None:
        """A small label in the top-left corner (e.g. "LIVE", "Frame 12 / 58"); "" hides it."""
        self._badge = text
        self.update()

    def set_skeleton(self, skeleton: Skeleton | None) -> None:
        """Which points to join with lines (``None``: dots only)."""
        self._skeleton = skeleton
        self.update()

    def set_frame(self, frame: DisplayFrame | None) -> None:
        """Show ``frame`` (``None`` clears the view back to the placeholder)."""
        self._frame = frame
        has_image = frame is not None and frame.image is not None
        self._qimage = numpy_to_qimage(frame.image) if has_image else None
        self.update()

    def frame(self) -> DisplayFrame | None:
        """The frame shown now."""
        return self._frame

    def set_show_landmarks(self, show: bool) -> None:
        """Draw (True) or hide (False) the landmark overlay."""
        self._show_landmarks = bool(show)
        self.update()

    def show_landmarks(self) -> bool:
        """Whether the landmark overlay is drawn."""
        return self._show_landmarks

    # --- painting ------------------------------------------------------------------------------
    def _target_rect(self) -> QRectF:
        assert self._frame is not None
        fw, fh = self._frame.size
        scale = min(self.width() / max(fw, 1), self.height() / max(fh, 1))
        w, h = fw * scale, fh * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.fillRect(self.rect(), VIEW_BACKGROUND)
        if self._frame is None:
            self._paint_placeholder(painter)
        else:
            target = self._target_rect()
            if self._qimage is not None:
                painter.drawImage(target, self._qimage)
            else:
                painter.fillRect(target, QColor(12, 13, 15))
            if self._show_landmarks and self._frame.points is not None:
                self._paint_landmarks(painter, target)
                self._paint_legend(painter, target)
        if self._badge:
            self._paint_badge(painter)
        painter.end()

    def _paint_placeholder(self, painter: QPainter) -> None:
        if not self._placeholder:
            return
        painter.setPen(QColor(200, 204, 212))
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        painter.setFont(font)
        rect = self.rect().adjusted(40, 40, -40, -40)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                         self._placeholder)

    def _paint_badge(self, painter: QPainter) -> None:
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        w = metrics.horizontalAdvance(self._badge) + 16
        h = metrics.height() + 8
        rect = QRectF(10, 10, w, h)
        live = self._badge.upper().lstrip("● ").startswith(("LIVE", "REC"))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(200, 30, 40, 220) if live else QColor(0, 0, 0, 170))
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self._badge)

    def _paint_legend(self, painter: QPainter, target: QRectF) -> None:
        """A small key to the colours, in the picture's bottom-left corner."""
        if self._skeleton is None or not self._skeleton.parts:
            return
        styles = {p.style for p in self._skeleton.parts}
        entries = [(label, PART_COLORS[style]) for style, label in
                   (("body", "body"), ("left_hand", "left hand"), ("right_hand", "right hand"))
                   if style in styles]
        if not entries:
            return
        font = QFont(self.font())
        font.setPointSizeF(max(8.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        metrics = painter.fontMetrics()
        dot, gap, pad = 10.0, 14.0, 8.0
        width = pad * 2 + sum(dot + 5 + metrics.horizontalAdvance(t) for t, _ in entries) \
            + gap * (len(entries) - 1)
        height = metrics.height() + pad
        if width > target.width() - 16:
            return
        rect = QRectF(target.left() + 8, target.bottom() - height - 8, width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(rect, 6, 6)
        x = rect.left() + pad
        cy = rect.center().y()
        for text, color in entries:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawEllipse(QPointF(x + dot / 2, cy), dot / 2, dot / 2)
            x += dot + 5
            painter.setPen(QColor(240, 240, 240))
            tw = metrics.horizontalAdvance(text)
            painter.drawText(QRectF(x, rect.top(), tw + 2, rect.height()),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
            x += tw + gap

    def _paint_landmarks(self, painter: QPainter, target: QRectF) -> None:
        frame = self._frame
        assert frame is not None and frame.points is not None
        fw, fh = frame.size
        sx, sy = target.width() / max(fw, 1), target.height() / max(fh, 1)
        pts = frame.points
        conf = frame.confidence if frame.confidence is not None else np.ones(len(pts))
        n = len(pts)
        xs = target.left() + pts[:, 0] * sx
        ys = target.top() + pts[:, 1] * sy
        visible = conf > 0
        # Thickness follows the picture's size so a small window is not drowned in lines.
        unit = max(1.0, min(target.width(), target.height()) / 360.0)
        painter.save()
        painter.setClipRect(target)
        parts = self._skeleton.parts if self._skeleton is not None else ()
        if not parts:  # unknown layout: dots only
            self._paint_dots(painter, xs, ys, visible, range(n), PART_COLORS["other"], 2.0 * unit)
        for part in parts:
            color = PART_COLORS.get(part.style, PART_COLORS["other"])
            face = part.style == "face"
            width = (1.0 if face else 2.2) * unit
            path = QPainterPath()
            for a, b in part.limbs:
                i, j = part.offset + a, part.offset + b
                if i < n and j < n and visible[i] and visible[j]:
                    path.moveTo(xs[i], ys[i])
                    path.lineTo(xs[j], ys[j])
            if not face:
                painter.setPen(QPen(_OUTLINE, width + 2.0 * unit, Qt.PenStyle.SolidLine,
                                    Qt.PenCapStyle.RoundCap))
                painter.drawPath(path)
            painter.setPen(QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawPath(path)
            if not face:
                radius = (2.6 if "hand" in part.style else 3.0) * unit
                idx = [part.offset + i for i in range(part.count)
                       if i not in part.hidden and part.offset + i < n]
                self._paint_dots(painter, xs, ys, visible, idx, color, radius)
        painter.restore()

    @staticmethod
    def _paint_dots(painter: QPainter, xs, ys, visible, indices, color: QColor,
                    radius: float) -> None:
        painter.setPen(QPen(_OUTLINE, 1.0))
        painter.setBrush(color)
        for i in indices:
            if visible[i]:
                painter.drawEllipse(QPointF(xs[i], ys[i]), radius, radius)


def scaled_font(base: QFont, points: float, family: str = "", bold: bool = False) -> QFont:
    """A copy of ``base`` at ``points`` (point size), in ``family`` if given, bold if asked."""
    font = QFont(base)
    if family:
        font.setFamily(family)
    font.setPointSizeF(max(1.0, points))
    font.setBold(bold)
    return font


class CaptionView(QFrame):
    """The translation in large type: the gloss line, the text line, and a small details line.

    Before any translation it shows a one-line hint; after a failed translation it shows why.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CaptionView")
        self.setFrameShape(QFrame.Shape.StyledPanel)  # coloured by the theme's style sheet
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 14)
        layout.setSpacing(6)

        self.glosses_label = QLabel()
        self.glosses_label.setObjectName("glosses")
        self._gloss_pt = max(26.0, self.font().pointSizeF() * 2.4)
        self._text_pt = max(20.0, self.font().pointSizeF() * 1.9)
        set_role(self.glosses_label, "gloss")

        self.text_label = QLabel()
        self.text_label.setObjectName("text")

        self.meta_label = QLabel()
        self.meta_label.setObjectName("meta")
        set_role(self.meta_label, "caption-muted")

        for label in (self.glosses_label, self.text_label, self.meta_label):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
            label.setTextFormat(Qt.TextFormat.PlainText)
            layout.addWidget(label)
        self.glosses_label.setAccessibleName("Glosses")
        self.text_label.setAccessibleName("Translation")
        self.meta_label.setAccessibleName("Model and timing")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.set_caption_style(1.0, "")
        self.clear()

    def set_caption_style(self, scale: float, family: str = "") -> None:
        """Caption size ``scale`` (1.0 to 3.0 of the default) in font ``family`` ("" = the window's)."""
        gfont = scaled_font(self.font(), self._gloss_pt * scale, family, bold=True)
        gfont.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 104)
        self.glosses_label.setFont(gfont)
        self.text_label.setFont(scaled_font(self.font(), self._text_pt * scale, family))

    def clear(self, hint: str = "The translation will appear here.") -> None:
        """Show ``hint`` in place of a translation."""
        self.glosses_label.setText("")
        self.glosses_label.hide()
        self.text_label.setText(hint)
        set_role(self.text_label, "caption-muted")
        self.text_label.setVisible(bool(hint))  # a gloss-only translation hid it
        self.meta_label.setText("")
        self.meta_label.hide()

    def set_translation(self, glosses: str, text: str, meta: str = "") -> None:
        """Show a translation: ``glosses`` (e.g. "JOHN WRITE HOMEWORK") and ``text``."""
        if not glosses and not text:
            text = "(the model recognised no signs in this clip)"
        if _same_words(glosses, text):
            text = ""  # a gloss-only model: its text is the gloss line, shown once
        self.glosses_label.setText(glosses)
        self.glosses_label.setVisible(bool(glosses))
        self.text_label.setText(text)
        set_role(self.text_label, "")
        self.text_label.setVisible(bool(self.text_label.text()))
        self.meta_label.setText(meta)
        self.meta_label.setVisible(bool(meta))

    def glosses(self) -> str:
        """The gloss line shown now ("" if none)."""
        return self.glosses_label.text()

    def text(self) -> str:
        """The text line shown now (the hint when there is no translation)."""
        return self.text_label.text()


def _same_words(a: str, b: str) -> bool:
    return bool(a) and " ".join(a.lower().split()) == " ".join(b.lower().split())


class MessageBanner(QFrame):
    """An inline message strip (error, warning or info) with a close button.

    Errors are shown here, not in modal dialogs, so the message stays visible next to what caused
    it and the window stays usable. ``closed`` is emitted when the user dismisses it.
    """

    closed = Signal()

    _STYLES = BANNER_COLORS

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MessageBanner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 8, 8)
        self.icon_label = QLabel()
        font = QFont(self.font())
        font.setBold(True)
        self.icon_label.setFont(font)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.setAccessibleName("Message")
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Dismiss this message")
        close.setAccessibleName("Dismiss message")
        close.setAutoRaise(True)
        close.clicked.connect(self.dismiss)
        layout.addWidget(self.icon_label)
        layout.addWidget(self.message_label, 1)
        layout.addWidget(close)
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "error") -> None:
        """Show ``text``; ``kind`` is "error", "warning" or "info"."""
        bg, fg, title = self._STYLES.get(kind, self._STYLES["error"])
        self.kind = kind
        self.setStyleSheet(f"#MessageBanner {{ background: {bg}; border-radius: 6px; }}"
                           f" QLabel, QToolButton {{ color: {fg}; background: transparent; }}")
        self.icon_label.setText(f"{title}:")
        self.message_label.setText(text)
        self.show()

    def text(self) -> str:
        """The message shown now ("" when hidden)."""
        return self.message_label.text() if not self.isHidden() else ""

    def dismiss(self) -> None:
        """Hide the banner."""
        self.hide()
        self.message_label.setText("")
        self.kind = ""
        self.closed.emit()
