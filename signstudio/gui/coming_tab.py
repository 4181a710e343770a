"""Tabs for features that are not in this version yet: an honest description, no fake controls."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget


@dataclass(frozen=True)
class PlannedFeature:
    """What a planned tab will do: a title, one summary sentence and a few concrete points."""

    title: str
    summary: str
    points: tuple[str, ...]
    today: str = ""


ATTENTION = PlannedFeature(
    "Attention",
    "See what a translation model looked at when it produced each word.",
    (
        "For each output word: which frames of the video it relied on (a heatmap over time).",
        "Which body parts mattered: hands, face or body.",
        "Frames grouped by similarity, to spot where signs begin and end.",
        "Works on any translation you made in the Translate tab.",
    ),
)

TRAIN = PlannedFeature(
    "Train",
    "Fine-tune or train a translation model on your own videos, in the background.",
    (
        "Pick a model and a dataset (videos or .pose files with their translations).",
        "Training runs in the background: a progress bar, live loss and accuracy curves, and a "
        "Cancel button.",
        "Checkpoints are saved as it goes; the best one appears in the Translate tab's model "
        "list.",
        "The same training can run from the command line, on a laptop or a GPU server.",
    ),
)


class ComingTab(QScrollArea):
    """A tab that says, plainly, what a feature will do and that it is not available yet."""

    def __init__(self, feature: PlannedFeature, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.feature = feature
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)

        card = QFrame()
        card.setObjectName("ComingCard")
        card.setMaximumWidth(760)
        card.setStyleSheet("#ComingCard { background: palette(base); border-radius: 12px; }")
        layout = QVBoxLayout(card)
        layout.setContentsMargins(36, 32, 36, 32)
        layout.setSpacing(14)

        badge = QLabel("Not available yet — planned for a later version")
        badge.setObjectName("badge")
        badge.setStyleSheet("QLabel#badge { background: #e8eefc; color: #1d3a8a;"
                            " border-radius: 10px; padding: 4px 12px; }")
        layout.addWidget(badge, 0, Qt.AlignmentFlag.AlignLeft)

        title = QLabel(feature.title)
        tfont = QFont(self.font())
        tfont.setPointSizeF(tfont.pointSizeF() * 2.2)
        tfont.setBold(True)
        title.setFont(tfont)
        layout.addWidget(title)

        summary = QLabel(feature.summary)
        sfont = QFont(self.font())
        sfont.setPointSizeF(sfont.pointSizeF() * 1.35)
        summary.setFont(sfont)
        summary.setWordWrap(True)
        layout.addWidget(summary)

        heading = QLabel("What it will do")
        hfont = QFont(self.font())
        hfont.setBold(True)
        hfont.setPointSizeF(hfont.pointSizeF() * 1.1)
        heading.setFont(hfont)
        layout.addSpacing(6)
        layout.addWidget(heading)

        items = "".join(f"<li style='margin-bottom:6px'>{_escape(p)}</li>" for p in feature.points)
        points = QLabel(f"<ul style='margin-left:-18px'>{items}</ul>")
        points.setTextFormat(Qt.TextFormat.RichText)
        points.setWordWrap(True)
        pfont = QFont(self.font())
        pfont.setPointSizeF(pfont.pointSizeF() * 1.1)
        points.setFont(pfont)
        layout.addWidget(points)

        footer = QLabel(feature.today or
                        "Today, use the Translate tab to turn signing from a video or your "
                        "webcam into text.")
        footer.setWordWrap(True)
        footer.setStyleSheet("color: #5b6470;")
        layout.addWidget(footer)
        layout.addStretch(1)

        # Centred with stretches, not an alignment flag: word-wrapped labels then get the height
        # they need for the card's width (an aligned widget loses height-for-width).
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card, 4)
        row.addStretch(1)
        outer = QWidget()
        outer_layout = QVBoxLayout(outer)
        outer_layout.setContentsMargins(24, 32, 24, 24)
        outer_layout.addLayout(row)
        outer_layout.addStretch(1)
        self.setWidget(outer)
        self.setAccessibleName(f"{feature.title}: not available yet")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
