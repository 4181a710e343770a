"""The Attention tab's plots (pyqtgraph): the attention heatmap and the contribution bars.

:class:`AttentionHeatmap` draws one attention matrix with its axes (output tokens, frames in
seconds, source tokens; :class:`~signstudio.interpret.session.Axis`), a colour bar and the marks
of the selection; :class:`ContributionPlot` draws, per decoding step, the norm-based shares of
cross- and decoder self-attention. They display what they are given and compute nothing.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF
from PySide6.QtWidgets import QGraphicsRectItem, QWidget

from signstudio.gui.widgets import adopt_menus
from signstudio.interpret.session import Axis

#: Colours (viridis' ends are dark purple and yellow: the marks must stand out on both).
ROW_PEN = QColor("#ff3b30")
CLUSTER_PEN = QColor("#ffffff")
CURSOR_PEN = QColor(255, 255, 255, 200)
CROSS_BRUSH = QColor("#3b7dd8")
SELF_BRUSH = QColor("#f0a13a")
HIGHLIGHT_BRUSH = QColor(255, 59, 48, 45)
AXIS_PEN = QColor("#4a4f57")
TEXT_PEN = QColor("#1f2329")


class LabelAxis(pg.AxisItem):
    """An axis with one text label per cell (centred at ``i + 0.5``), thinned so labels never
    overlap; with no labels it is pyqtgraph's numeric axis (seconds). A vertical axis is made as
    wide as its longest label (up to :attr:`MAX_TEXT_WIDTH` pixels, longer ones are elided):
    pyqtgraph only widens an axis after drawing it, and skips a label that does not fit."""

    MAX_TEXT_WIDTH = 160  # pixels

    def __init__(self, orientation: str, **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self._labels: list[str] | None = None
        self.setPen(pg.mkPen(AXIS_PEN))
        self.setTextPen(pg.mkPen(TEXT_PEN))

    def set_labels(self, labels: list[str] | None) -> None:
        """One label per cell, or None for numbers."""
        self._labels = None if labels is None else [str(s) for s in labels]
        if self.orientation in ("left", "right"):
            if self._labels:
                metrics = self._metrics()
                widest = max(metrics.horizontalAdvance(s) for s in self._labels)
                width = int(math.ceil(min(widest, self.MAX_TEXT_WIDTH))) + 4
                self.setStyle(autoExpandTextSpace=False, tickTextWidth=width)
            else:
                self.setStyle(autoExpandTextSpace=True)
        self.picture = None
        self.update()

    def _metrics(self) -> QFontMetricsF:
        return QFontMetricsF(self.style.get("tickFont") or QFont())

    def labels(self) -> list[str] | None:
        """The labels shown (None: numbers)."""
        return None if self._labels is None else list(self._labels)

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph's names
        """Ticks at cell centres, every ``step`` cells so that labels do not overlap."""
        labels = self._labels
        if labels is None:
            return super().tickValues(minVal, maxVal, size)
        if not labels or size <= 0:
            return []
        minVal, maxVal = min(minVal, maxVal), max(minVal, maxVal)  # an inverted axis gives (max, min)
        lo = max(0, int(math.floor(minVal)))
        hi = min(len(labels) - 1, int(math.ceil(maxVal)) - 1)
        if hi < lo:
            return []
        metrics = self._metrics()
        if self.orientation in ("left", "right"):
            need = metrics.height() + 1
        else:
            need = max(metrics.horizontalAdvance(s) for s in labels[lo:hi + 1]) + 10
        per_cell = size / max(maxVal - minVal, 1e-9)
        step = max(1, math.ceil(need / max(per_cell, 1e-9)))
        start = (lo // step) * step
        return [(float(step), [i + 0.5 for i in range(start, hi + 1, step)])]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        """The label of the cell at each tick (numbers when the axis has no labels)."""
        labels = self._labels
        if labels is None:
            return super().tickStrings(values, scale, spacing)
        vertical = self.orientation in ("left", "right")
        metrics = self._metrics()
        out = []
        for v in values:
            i = int(math.floor(v))
            text = labels[i] if 0 <= i < len(labels) else ""
            if vertical:
                text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, self.MAX_TEXT_WIDTH)
            out.append(text)
        return out



class AttentionHeatmap(pg.GraphicsLayoutWidget):
    """An attention matrix as a viridis heatmap: rows top to bottom (output tokens, or query
    frames), columns left to right (frames in seconds, source tokens or decoder inputs), with a
    colour bar from 0 to the matrix maximum. Marks: the selected row (red), the clusters of frames
    it attends (white boxes) and the player's position (a white line).

    Signals:
        cell_clicked(int row, int column): a click inside the matrix.
    """

    cell_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.setAccessibleName("Attention heatmap")
        self.setMinimumHeight(160)
        self.left_axis = LabelAxis("left")
        self.bottom_axis = LabelAxis("bottom")
        self.plot = self.addPlot(row=0, col=0, axisItems={"left": self.left_axis,
                                                         "bottom": self.bottom_axis})
        self.plot.invertY(True)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.getViewBox().setBackgroundColor("#f4f5f7")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"),
                                        interactive=False, width=14, colorMapMenu=False)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        adopt_menus(self, self.plot, self.colorbar)
        self.colorbar.axis.setPen(pg.mkPen(AXIS_PEN))
        self.colorbar.axis.setTextPen(pg.mkPen(TEXT_PEN))
        self.colorbar.axis.enableAutoSIPrefix(False)
        self.colorbar.axis.setWidth(66)  # room for "0.015" and the axis title beside it
        self.colorbar.axis.setLabel("attention weight", color=TEXT_PEN.name())

        self.row_box = QGraphicsRectItem()
        self.row_box.setPen(pg.mkPen(ROW_PEN, width=2))
        self.row_box.setZValue(20)
        self.row_box.hide()
        self.plot.addItem(self.row_box, ignoreBounds=True)
        self._cluster_boxes: list[QGraphicsRectItem] = []
        self.cursor = pg.InfiniteLine(angle=90, movable=False,
                                      pen=pg.mkPen(CURSOR_PEN, width=1.5,
                                                   style=Qt.PenStyle.DashLine))
        self.cursor.setZValue(15)
        self.cursor.hide()
        self.plot.addItem(self.cursor, ignoreBounds=True)
        self._rows: Axis | None = None
        self._cols: Axis | None = None
        self.scene().sigMouseClicked.connect(self._clicked)

    def set_matrix(self, matrix: np.ndarray, rows: Axis, cols: Axis) -> None:
        """Show ``matrix`` (``rows.n`` x ``cols.n``) with these axes; colours from 0 to its max."""
        m = np.asarray(matrix, dtype=np.float32)
        self._rows, self._cols = rows, cols
        vmax = float(np.nanmax(m)) if m.size else 1.0
        vmax = vmax if vmax > 0 and np.isfinite(vmax) else 1.0
        self.image.setImage(m, autoLevels=False, levels=(0.0, vmax))
        width, height = cols.n * cols.step, rows.n * rows.step
        self.image.setRect(QRectF(cols.start, rows.start, width, height))
        self.colorbar.setLevels((0.0, vmax))
        self.left_axis.set_labels(rows.labels)
        self.bottom_axis.set_labels(cols.labels)
        self.plot.setLabel("left", rows.title, color=TEXT_PEN.name())
        self.plot.setLabel("bottom", cols.title, color=TEXT_PEN.name())
        vb = self.plot.getViewBox()
        vb.setLimits(xMin=cols.start, xMax=cols.start + width, yMin=rows.start,
                     yMax=rows.start + height, minXRange=min(width, 3 * cols.step))
        vb.setRange(xRange=(cols.start, cols.start + width), yRange=(rows.start, rows.start + height),
                    padding=0)

    def matrix(self) -> np.ndarray | None:
        """The matrix shown now (rows x columns), or None."""
        return None if self.image.image is None else np.array(self.image.image)

    def axes(self) -> tuple[Axis | None, Axis | None]:
        """The (rows, columns) axes shown now."""
        return self._rows, self._cols

    def set_highlight(self, row: int | None, spans: list[tuple[int, int]] = ()) -> None:
        """Outline ``row`` (None: no row) and, inside it, the column ``spans`` (inclusive)."""
        for box in self._cluster_boxes:
            self.plot.removeItem(box)
        self._cluster_boxes = []
        rows, cols = self._rows, self._cols
        if row is None or rows is None or cols is None or not 0 <= row < rows.n:
            self.row_box.hide()
            return
        y = rows.edge(row)
        self.row_box.setRect(QRectF(cols.start, y, cols.n * cols.step, rows.step))
        self.row_box.show()
        for start, end in spans:
            box = QGraphicsRectItem(QRectF(cols.edge(start), y, (end - start + 1) * cols.step,
                                           rows.step))
            box.setPen(pg.mkPen(CLUSTER_PEN, width=2))
            box.setZValue(21)
            self.plot.addItem(box, ignoreBounds=True)
            self._cluster_boxes.append(box)

    def highlighted_row(self) -> int | None:
        """The outlined row, or None."""
        if not self.row_box.isVisible() or self._rows is None:
            return None
        return self._rows.cell(self.row_box.rect().center().y())

    def cluster_spans(self) -> list[tuple[int, int]]:
        """The column spans (inclusive) boxed in the outlined row."""
        cols = self._cols
        if cols is None:
            return []
        out = []
        for box in self._cluster_boxes:
            r = box.rect()
            start = cols.cell(r.left() + cols.step / 2)
            out.append((start, start + int(round(r.width() / cols.step)) - 1))
        return out

    def set_cursor(self, x: float | None) -> None:
        """Draw the player's position at plot coordinate ``x`` (seconds); None hides it."""
        if x is None:
            self.cursor.hide()
        else:
            self.cursor.setValue(float(x))
            self.cursor.show()

    def clear_matrix(self) -> None:
        """Show nothing."""
        self.image.clear()
        self._rows = self._cols = None
        self.set_highlight(None)
        self.cursor.hide()

    def view_point(self, row: float, col: float) -> QPoint:
        """Widget (viewport) coordinates of the centre of cell ``(row, col)``; for tests."""
        rows, cols = self._rows, self._cols
        assert rows is not None and cols is not None
        scene = self.plot.getViewBox().mapViewToScene(QPointF(cols.centre(col), rows.centre(row)))
        return self.mapFromScene(scene)

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._rows is None or self._cols is None:
            return
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        p = vb.mapSceneToView(event.scenePos())
        row, col = self._rows.cell(p.y()), self._cols.cell(p.x())
        if 0 <= row < self._rows.n and 0 <= col < self._cols.n:
            self.cell_clicked.emit(row, col)


class ContributionPlot(pg.PlotWidget):
    """Per decoding step, the norm-based share of the cross-attention (the video, or the source
    sentence) and of the decoder self-attention (the tokens produced so far) in what attention
    adds to the decoder (Kobayashi et al. 2020, as SignAttention measures it). Stacked bars summing
    to 1; the selected step is shaded.

    Signals:
        step_clicked(int): a click on step ``u``'s bar.
    """

    step_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        self.step_axis = LabelAxis("bottom")
        super().__init__(parent, background="w", axisItems={"bottom": self.step_axis})
        self.setAccessibleName("Cross- vs self-attention contribution per decoding step")
        item = self.getPlotItem()
        adopt_menus(self, item)
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        left = item.getAxis("left")
        left.setPen(pg.mkPen(AXIS_PEN))
        left.setTextPen(pg.mkPen(TEXT_PEN))
        left.setWidth(44)
        item.setLabel("left", "share", color=TEXT_PEN.name())
        item.setYRange(0, 1.0, padding=0.02)
        self.band = pg.LinearRegionItem((0, 1), movable=False, brush=pg.mkBrush(HIGHLIGHT_BRUSH),
                                        pen=pg.mkPen(None))
        self.band.setZValue(-10)
        self.band.hide()
        item.addItem(self.band, ignoreBounds=True)
        self.cross_bars = pg.BarGraphItem(x=[0.5], height=[0.0], width=0.7, brush=CROSS_BRUSH,
                                          pen=pg.mkPen(None))
        self.self_bars = pg.BarGraphItem(x=[0.5], y0=[0.0], height=[0.0], width=0.7,
                                         brush=SELF_BRUSH, pen=pg.mkPen(None))
        item.addItem(self.cross_bars)
        item.addItem(self.self_bars)
        self._cross = np.zeros(0)
        self.scene().sigMouseClicked.connect(self._clicked)

    def set_shares(self, cross_share: np.ndarray, labels: list[str]) -> None:
        """Bars for ``cross_share`` (``(U,)`` in [0, 1], NaN: undefined, drawn empty) per step."""
        cross = np.nan_to_num(np.asarray(cross_share, dtype=np.float64), nan=0.0)
        defined = np.isfinite(np.asarray(cross_share, dtype=np.float64))
        own = np.where(defined, 1.0 - cross, 0.0)
        x = np.arange(len(cross)) + 0.5
        self._cross = np.asarray(cross_share, dtype=np.float64)
        self.cross_bars.setOpts(x=x, height=cross, width=0.7)
        self.self_bars.setOpts(x=x, y0=cross, height=own, width=0.7)
        self.step_axis.set_labels(labels)
        item = self.getPlotItem()
        item.setXRange(0, max(len(cross), 1), padding=0.01)
        item.setYRange(0, 1.0, padding=0.02)

    def shares(self) -> np.ndarray:
        """The cross-attention shares shown (``(U,)``)."""
        return np.array(self._cross)

    def set_step(self, step: int | None) -> None:
        """Shade step ``step`` (None: none)."""
        if step is None:
            self.band.hide()
        else:
            self.band.setRegion((step, step + 1))
            self.band.show()

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not len(self._cross):
            return
        vb = self.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        step = int(math.floor(vb.mapSceneToView(event.scenePos()).x()))
        if 0 <= step < len(self._cross):
            self.step_clicked.emit(step)
