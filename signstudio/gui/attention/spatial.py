"""The Attention tab's spatial panel: a video model's 2D pixel-wise self-attention (Ruiz &
Martinez 2025, Sec. 3.2) drawn over the frame it came from.

The user picks a sampled frame (slider), a query position of the 7x7 map (or the mean over
positions: where the frame's attention lands) and a head; the map is computed and drawn by
:mod:`signstudio.interpret.spatial`, the panel only shows it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from signstudio.interpret.spatial import grid_side, overlay, spatial_map


class SpatialPanel(QWidget):
    """Shows one frame of a record with ``spatial`` attention and its map.

    Signals:
        frame_changed(int): the sampled frame shown (0 .. T-1).
    """

    frame_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.record: Any = None
        self.image = QLabel("")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(224, 224)
        self.image.setAccessibleName("Frame with its spatial attention")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setAccessibleName("Sampled frame")
        self.slider.valueChanged.connect(self._changed)
        self.position_combo = QComboBox()
        self.position_combo.setAccessibleName("Query position")
        self.position_combo.setToolTip("Which position of the 7x7 map to show the attention of; the mean over "
                                       "positions shows where the frame's attention lands")
        self.position_combo.currentIndexChanged.connect(self._changed)
        self.head_combo = QComboBox()
        self.head_combo.setAccessibleName("Spatial attention head")
        self.head_combo.currentIndexChanged.connect(self._changed)
        for combo in (self.position_combo, self.head_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.frame_label = QLabel("")
        frames = QHBoxLayout()
        frames.addWidget(QLabel("Frame"))
        frames.addWidget(self.slider, 1)
        frames.addWidget(self.frame_label)
        row = QHBoxLayout()
        row.addWidget(QLabel("Position"))
        row.addWidget(self.position_combo)
        row.addWidget(QLabel("Head"))
        row.addWidget(self.head_combo)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.image, 1)
        layout.addLayout(frames)
        layout.addLayout(row)
        layout.addWidget(self.caption)

    def set_record(self, record: Any) -> None:
        """Show ``record`` (it must have ``spatial`` attention) from its first frame, mean over positions."""
        self.record = record
        side = grid_side(record)
        for combo in (self.position_combo, self.head_combo, self.slider):
            combo.blockSignals(True)
        self.position_combo.clear()
        self.position_combo.addItem("mean over positions", -1)
        for p in range(side * side):
            self.position_combo.addItem(f"row {p // side + 1}, column {p % side + 1}", p)
        self.head_combo.clear()
        self.head_combo.addItem("mean of heads", -1)
        for h in range(record.spatial.shape[1]):
            self.head_combo.addItem(str(h), h)
        self.slider.setRange(0, record.spatial.shape[0] - 1)
        self.slider.setValue(0)
        for combo in (self.position_combo, self.head_combo, self.slider):
            combo.blockSignals(False)
        self._changed()

    def show_frame(self, frame: int) -> None:
        """Show sampled frame ``frame`` (clamped to the record's frames)."""
        self.slider.setValue(frame)

    def set_position(self, position: int | None) -> None:
        """Show what ``position`` (``row * 7 + column``) attends, or the mean over positions (None)."""
        self.position_combo.setCurrentIndex(0 if position is None else position + 1)

    def displayed_map(self):
        """The ``(7, 7)`` map shown now, or None."""
        if self.record is None:
            return None
        return spatial_map(self.record, self.slider.value(), self._position(), self._head())

    def _position(self) -> int | None:
        p = self.position_combo.currentData()
        return None if p is None or p < 0 else int(p)

    def _head(self) -> int | None:
        h = self.head_combo.currentData()
        return None if h is None or h < 0 else int(h)

    def _changed(self, *_args) -> None:
        if self.record is None:
            return
        frame, position = self.slider.value(), self._position()
        weights = self.displayed_map()
        side = grid_side(self.record)
        cell = None if position is None else divmod(position, side)
        rgb = overlay(self.record.frame_images[frame], weights, position=cell).copy()
        h, w = rgb.shape[:2]
        image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        size = max(224, min(self.image.width(), self.image.height()))
        self.image.setPixmap(QPixmap.fromImage(image).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                                             Qt.TransformationMode.SmoothTransformation))
        self.frame_label.setText(f"{frame + 1} / {self.record.spatial.shape[0]}")
        seconds = self.record.frame_times[frame] if self.record.frame_times is not None else 0.0
        r, c = divmod(int(weights.argmax()), side)
        what = "all positions" if position is None else f"row {cell[0] + 1}, column {cell[1] + 1}"
        self.caption.setText(f"Frame {frame + 1} of {self.record.spatial.shape[0]} ({seconds:.2f} s): the 2D "
                             f"self-attention of {what} peaks at row {r + 1}, column {c + 1}.")
        self.frame_changed.emit(frame)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Redraw the frame at the new size."""
        super().resizeEvent(event)
        self._changed()
