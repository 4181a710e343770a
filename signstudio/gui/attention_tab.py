"""The Attention tab: what a translation model looked at when it produced each token.

For researchers. A model (a Signformer with a decoder, or a text transformer) is run on a video, a
``.pose`` file, a text file or a typed sentence, and every attention map of that run is recorded
(:mod:`signstudio.interpret.record`; the recording runs on a worker thread through
:mod:`signstudio.gui.attention_jobs`). The tab shows:

- a heatmap of the chosen map: cross-attention (output tokens x frames, time in seconds; or x
  source tokens for a text model), decoder self-attention (tokens x tokens so far) or encoder
  self-attention (frames x frames), of one layer and one head or the mean of the heads, with a
  colour bar;
- SignAttention's analyses (Dal Bianco et al. 2024, :mod:`signstudio.interpret.analysis`): the
  diagonal (alignment) score of the shown layer, the frame clusters of the selected token, and per
  decoding step the norm-based share of cross-attention vs decoder self-attention (Kobayashi et
  al. 2020);
- the clip with its landmarks: selecting a token jumps to the first frame of the cluster of frames
  it attends most.

Records can be saved and opened again (``.npz``); the shown matrix can be exported as PNG and CSV
(:mod:`signstudio.interpret.plot`). Errors show as a one-line banner and never replace what is
shown.
"""

from __future__ import annotations

import html
import math
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QFrame,
                               QGraphicsRectItem, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QSizePolicy, QSplitter, QStackedWidget,
                               QStyle, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from signstudio.gui import attention_jobs as ajobs
from signstudio.gui.attention_jobs import AttentionRun, SourceClip
from signstudio.gui.frames import FrameCache
from signstudio.gui.player import ClipPlayer
from signstudio.gui.widgets import MessageBanner
from signstudio.gui.workers import JobTabMixin, Worker

#: Tab states.
IDLE, RECORDING, OPENING, LOADING_SOURCE, SAVING = (
    "idle", "recording", "opening", "loading source", "saving")

#: Attention kinds, in the selector's order.
KINDS = ("cross", "decoder_self", "encoder_self")
#: The "head" that means the mean over all heads.
MEAN = None

VIDEO_FILTER = ("Videos and pose files (*.mp4 *.mov *.avi *.mkv *.webm *.m4v *.mpg *.mpeg "
                "*.pose);;All files (*)")
TEXT_FILTER = "Text files (*.txt);;All files (*)"
RECORD_FILTER = "Attention records (*.npz);;All files (*)"

INTRO = (
    "<h3>What did the model look at?</h3>"
    "<p>Pick a model, then open a <b>video</b> or <b>.pose</b> file of signing (sign-to-text "
    "model), or open a <b>text</b> file or type a sentence (text model), and SignStudio records "
    "every attention map of one translation.</p>"
    "<p>You will see, for each output token, which frames it attended to (a heatmap over time), "
    "how well tokens and frames line up (the diagonal score), and how much each decoding step "
    "relied on the video rather than on the tokens it had already produced.</p>"
    "<p>Click a token to jump to the frames it looked at. Records can be saved as <b>.npz</b> "
    "and opened again; heatmaps can be exported as PNG or CSV.</p>")
CLIP_PLACEHOLDER = "The clip of the recorded video or .pose file plays here."
SENTENCE_PLACEHOLDER = ("A sentence for a text model, e.g. “Morgen regnet es im Norden.” "
                        "(Enter to record)")

#: Colours (viridis' ends are dark purple and yellow: the marks must stand out on both).
ROW_PEN = QColor("#ff3b30")
CLUSTER_PEN = QColor("#ffffff")
CURSOR_PEN = QColor(255, 255, 255, 200)
CROSS_BRUSH = QColor("#3b7dd8")
SELF_BRUSH = QColor("#f0a13a")
HIGHLIGHT_BRUSH = QColor(255, 59, 48, 45)
AXIS_PEN = QColor("#4a4f57")
TEXT_PEN = QColor("#1f2329")


# ------------------------------------------------------------------------------------------------
# pure helpers (NumPy only)
def attention_matrix(record: Any, kind: str, layer: int, head: int | None) -> np.ndarray:
    """The ``(rows, columns)`` matrix the tab shows: ``getattr(record, kind)[layer]`` at ``head``,
    or its mean over heads for ``head`` None. Rows/columns: cross ``(U, T)``, decoder_self
    ``(U, U)``, encoder_self ``(T, T)`` (``U`` tokens, ``T`` frames or source tokens).

    Raises:
        ValueError: unknown kind. IndexError: no such layer or head.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown attention kind {kind!r}; known: {', '.join(KINDS)}")
    arr = np.asarray(getattr(record, kind)[layer])
    return arr.mean(axis=0) if head is None else arr[head]


def player_frame(seconds: float, fps: float, frames: int) -> int:
    """The player's frame index (0-based, clamped to ``[0, frames - 1]``) at ``seconds`` from the
    clip's start, for a clip of ``frames`` frames at ``fps`` frames per second.

    Record times are seconds of the features (resampled to the record's fps); the player plays the
    source at its own rate, so the time, not the record's frame index, is what carries over.
    """
    if frames <= 0:
        return 0
    fps = fps if fps and fps > 0 else 25.0
    return int(min(max(int(round(float(seconds) * fps)), 0), frames - 1))


def strongest_cluster(clusters: list) -> Any:
    """The :class:`~signstudio.interpret.analysis.Cluster` holding the most attention (the earlier
    one on a tie), or None for an empty list."""
    best = None
    for cluster in clusters:
        if best is None or cluster.mass > best.mass:
            best = cluster
    return best


def _adopt_menus(owner: QWidget, *items: Any) -> None:
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


# ------------------------------------------------------------------------------------------------
# plots
class _LabelAxis(pg.AxisItem):
    """An axis with one text label per cell (centred at ``i + 0.5``), thinned so labels never
    overlap; with no labels it is pyqtgraph's numeric axis (seconds)."""

    def __init__(self, orientation: str, **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self._labels: list[str] | None = None
        self.setPen(pg.mkPen(AXIS_PEN))
        self.setTextPen(pg.mkPen(TEXT_PEN))

    def set_labels(self, labels: list[str] | None) -> None:
        """One label per cell, or None for numbers."""
        self._labels = None if labels is None else [str(s) for s in labels]
        self.picture = None
        self.update()

    def labels(self) -> list[str] | None:
        """The labels shown (None: numbers)."""
        return None if self._labels is None else list(self._labels)

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph's names
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
        metrics = QFontMetricsF(self.style.get("tickFont") or QFont())
        if self.orientation in ("left", "right"):
            need = metrics.height() + 1
        else:
            need = max(metrics.horizontalAdvance(s) for s in labels[lo:hi + 1]) + 10
        per_cell = size / max(maxVal - minVal, 1e-9)
        step = max(1, math.ceil(need / max(per_cell, 1e-9)))
        start = (lo // step) * step
        return [(float(step), [i + 0.5 for i in range(start, hi + 1, step)])]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        labels = self._labels
        if labels is None:
            return super().tickStrings(values, scale, spacing)
        out = []
        for v in values:
            i = int(math.floor(v))
            out.append(labels[i] if 0 <= i < len(labels) else "")
        return out


class _AxisSpec:
    """One heatmap axis: ``n`` cells, cell ``i`` spanning ``[start + i*step, start + (i+1)*step]``
    in plot units (seconds for a time axis, cell indices for a label axis)."""

    def __init__(self, n: int, labels: list[str] | None = None, start: float = 0.0,
                 step: float = 1.0, title: str = "") -> None:
        self.n, self.labels, self.start, self.step, self.title = n, labels, start, step, title

    def cell(self, value: float) -> int:
        """The cell at plot coordinate ``value`` (may be out of range)."""
        return int(math.floor((value - self.start) / self.step))

    def centre(self, index: float) -> float:
        """Plot coordinate of the centre of cell ``index``."""
        return self.start + (index + 0.5) * self.step

    def edge(self, index: float) -> float:
        """Plot coordinate of the start of cell ``index``."""
        return self.start + index * self.step


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
        self.left_axis = _LabelAxis("left")
        self.bottom_axis = _LabelAxis("bottom")
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
        _adopt_menus(self, self.plot, self.colorbar)
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
        self._rows: _AxisSpec | None = None
        self._cols: _AxisSpec | None = None
        self.scene().sigMouseClicked.connect(self._clicked)

    def set_matrix(self, matrix: np.ndarray, rows: _AxisSpec, cols: _AxisSpec) -> None:
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

    def axes(self) -> tuple[_AxisSpec | None, _AxisSpec | None]:
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
        self.step_axis = _LabelAxis("bottom")
        super().__init__(parent, background="w", axisItems={"bottom": self.step_axis})
        self.setAccessibleName("Cross- vs self-attention contribution per decoding step")
        item = self.getPlotItem()
        _adopt_menus(self, item)
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


# ------------------------------------------------------------------------------------------------
# the tab
class AttentionTab(JobTabMixin, QWidget):
    """Record, show and export the attention of a sign-to-text or text model.

    Public entry points (also for tests and screenshots): :meth:`run`, :meth:`record_path`,
    :meth:`record_text`, :meth:`open_record`, :meth:`load_record_object`, :meth:`set_view`,
    :meth:`select_token`, :meth:`save_record_to`, :meth:`export_png_to`, :meth:`export_csv_to`,
    :meth:`cancel`, :meth:`shutdown`; state: :meth:`record`, :meth:`view`,
    :meth:`displayed_matrix`, :meth:`current_token`, :meth:`player_position`, :meth:`is_busy`,
    :meth:`error_text`.

    Signals:
        status_message(str): a line for the window's status bar.
        busy_changed(bool): a job started (True) or the tab became idle (False).
        record_shown(object): an ``AttentionRecord`` is now shown.
        source_loaded(): the player got the clip of the record shown.
        token_selected(int): the selected decoding step changed.
        exported(str): a file was written (its path).
        error_shown(str): an error message was shown.
        idle(): the tab returned to idle (after success, failure or cancel).
        models_loaded(): the model selector was filled.
    """

    status_message = Signal(str)
    busy_changed = Signal(bool)
    record_shown = Signal(object)
    source_loaded = Signal()
    token_selected = Signal(int)
    exported = Signal(str)
    error_shown = Signal(str)
    idle = Signal()
    models_loaded = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self._state = IDLE
        self._shut_down = False
        self._worker: Worker | None = None
        self._workers: set[Worker] = set()
        self._discard = False
        self._record: Any = None
        self._record_path = ""
        self._input_path = ""
        self._clip_source = ""
        self._pose_fps = 0.0
        self._token: int | None = None
        self._query_row: int | None = None
        self._clusters: list[list] = []
        self._contrib: dict[int, np.ndarray] = {}
        self._diagonal = float("nan")
        self._model_tasks: dict[str, str] = {}
        self._models_ready = False
        self._last_dir = ""
        self._build()
        self.refresh_models()
        self._set_state(IDLE)

    # ------------------------------------------------------------------------------------------
    # layout
    def _build(self) -> None:
        style = self.style()
        icons = QStyle.StandardPixmap

        model_label = QLabel("&Model:")
        self.model_combo = QComboBox()
        self.model_combo.setAccessibleName("Model whose attention is recorded")
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_combo.setMinimumContentsLength(22)
        model_label.setBuddy(self.model_combo)
        self.model_combo.currentIndexChanged.connect(self._model_changed)

        self.open_clip_button = QPushButton("Open video/.pose…")
        self.open_clip_button.setIcon(style.standardIcon(icons.SP_DialogOpenButton))
        self.open_clip_button.setToolTip("Record a sign-to-text model's attention on a video or "
                                         "a .pose file")
        self.open_clip_button.clicked.connect(self.choose_clip)
        self.open_text_button = QPushButton("Open text…")
        self.open_text_button.setToolTip("Record a text model's attention on a UTF-8 text file "
                                         "(one sentence)")
        self.open_text_button.clicked.connect(self.choose_text)
        self.open_record_button = QPushButton("Open record (.npz)…")
        self.open_record_button.setToolTip("Show an attention record saved earlier (here or with "
                                           "`signstudio attention --save`)")
        self.open_record_button.clicked.connect(self.choose_record)

        self.save_record_button = QPushButton("Save record…")
        self.save_record_button.setIcon(style.standardIcon(icons.SP_DialogSaveButton))
        self.save_record_button.setToolTip("Save every attention map of this run as .npz")
        self.save_record_button.clicked.connect(self.choose_save_record)
        self.export_png_button = QPushButton("Export PNG…")
        self.export_png_button.setToolTip("Save the matrix shown as a PNG heatmap")
        self.export_png_button.clicked.connect(self.choose_export_png)
        self.export_csv_button = QPushButton("Export CSV…")
        self.export_csv_button.setToolTip("Save the matrix shown as CSV: one row per token, one "
                                          "column per frame")
        self.export_csv_button.clicked.connect(self.choose_export_csv)

        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(model_label)
        top.addWidget(self.model_combo)
        top.addSpacing(10)
        top.addWidget(self.open_clip_button)
        top.addWidget(self.open_text_button)
        top.addWidget(self.open_record_button)
        top.addStretch(1)
        top.addWidget(self.save_record_button)
        top.addWidget(self.export_png_button)
        top.addWidget(self.export_csv_button)

        sentence_label = QLabel("&Sentence:")
        self.sentence_edit = QLineEdit()
        self.sentence_edit.setPlaceholderText(SENTENCE_PLACEHOLDER)
        self.sentence_edit.setClearButtonEnabled(True)
        self.sentence_edit.setAccessibleName("Sentence for a text model")
        sentence_label.setBuddy(self.sentence_edit)
        self.sentence_edit.returnPressed.connect(self.run_clicked)
        self.run_button = QPushButton("&Run")
        self.run_button.setIcon(style.standardIcon(icons.SP_MediaPlay))
        self.run_button.setToolTip("Record the attention again: the sentence for a text model, "
                                   "otherwise the file opened last, with the model chosen")
        font = QFont(self.run_button.font())
        font.setBold(True)
        self.run_button.setFont(font)
        self.run_button.clicked.connect(self.run_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setIcon(style.standardIcon(icons.SP_DialogCancelButton))
        self.cancel_button.setToolTip("Stop the current job and keep what is shown (Esc)")
        self.cancel_button.clicked.connect(self.cancel)
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
        second.addWidget(self.run_button)
        second.addWidget(self.cancel_button)
        second.addWidget(self.progress_bar)
        second.addWidget(self.status_label)

        self.banner = MessageBanner()

        self.summary_label = QLabel("")
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_label.setAccessibleName("Record shown")

        # --- the heatmap column
        self.kind_combo = QComboBox()
        self.kind_combo.setAccessibleName("Attention kind")
        self.kind_combo.setToolTip("Cross-attention: what each output token looked at in the "
                                   "input.\nDecoder self-attention: which earlier tokens it looked "
                                   "at.\nEncoder self-attention: how input positions look at "
                                   "each other.")
        kind_label = QLabel("&Attention:")
        kind_label.setBuddy(self.kind_combo)
        self.layer_combo = QComboBox()
        self.layer_combo.setAccessibleName("Layer")
        self.layer_combo.setToolTip("Layer of the map shown (0 is the first)")
        layer_label = QLabel("&Layer:")
        layer_label.setBuddy(self.layer_combo)
        self.head_combo = QComboBox()
        self.head_combo.setAccessibleName("Head")
        self.head_combo.setToolTip("One attention head, or the mean of all heads")
        for combo in (self.kind_combo, self.layer_combo, self.head_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        head_label = QLabel("&Head:")
        head_label.setBuddy(self.head_combo)
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        self.layer_combo.currentIndexChanged.connect(self._view_changed)
        self.head_combo.currentIndexChanged.connect(self._view_changed)
        self.diagonal_label = QLabel("")
        self.diagonal_label.setAccessibleName("Diagonal score")
        selectors = QHBoxLayout()
        selectors.setSpacing(6)
        for label, combo in ((kind_label, self.kind_combo), (layer_label, self.layer_combo),
                             (head_label, self.head_combo)):
            selectors.addWidget(label)
            selectors.addWidget(combo)
            selectors.addSpacing(8)
        selectors.addStretch(1)
        selectors.addWidget(self.diagonal_label)

        self.heatmap = AttentionHeatmap()
        self.heatmap.cell_clicked.connect(self._cell_clicked)
        self.contribution_title = QLabel("")
        self.contribution_title.setTextFormat(Qt.TextFormat.RichText)
        self.contribution_title.setWordWrap(True)
        self.contribution_title.setStyleSheet("color: #3b4350;")
        self.contribution = ContributionPlot()
        self.contribution.setFixedHeight(170)
        self.contribution.step_clicked.connect(lambda u: self.select_token(u))

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.setSpacing(6)
        left_layout.addLayout(selectors)
        left_layout.addWidget(self.heatmap, 1)
        left_layout.addWidget(self.contribution_title)
        left_layout.addWidget(self.contribution)

        # --- the right column: clip (or source sentence), tokens, clusters
        self.player = ClipPlayer(CLIP_PLACEHOLDER)
        self.player.view.setMinimumSize(280, 200)
        self.player.frame_shown.connect(self._player_moved)
        self.source_view = QLabel("")
        self.source_view.setWordWrap(True)
        self.source_view.setTextFormat(Qt.TextFormat.RichText)
        self.source_view.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.source_view.setObjectName("SourceView")
        self.source_view.setStyleSheet("#SourceView { background: #111318; color: #f2f2f2; "
                                       "border-radius: 8px; padding: 12px; }")
        self.source_view.setAccessibleName("Source sentence")
        self.clip_stack = QStackedWidget()
        self.clip_stack.addWidget(self.player)
        self.clip_stack.addWidget(self.source_view)

        tokens_label = QLabel("Output tokens (click one to see what it looked at)")
        bold = QFont(tokens_label.font())
        bold.setBold(True)
        tokens_label.setFont(bold)
        self.token_list = QTreeWidget()
        self.token_list.setAccessibleName("Output tokens")
        self.token_list.setRootIsDecorated(False)
        self.token_list.setUniformRowHeights(True)
        self.token_list.setAlternatingRowColors(True)
        self.token_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.token_list.setHeaderLabels(["#", "Token", "Looks at", "From video"])
        header = self.token_list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.token_list.currentItemChanged.connect(self._token_item_changed)
        self.token_list.setMinimumHeight(110)

        self.cluster_label = QLabel("")
        self.cluster_label.setTextFormat(Qt.TextFormat.RichText)
        self.cluster_label.setWordWrap(True)
        self.cluster_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.cluster_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cluster_label.setAccessibleName("Clusters of the selected token")
        self.cluster_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(6, 0, 0, 0)
        right_layout.setSpacing(6)
        right_layout.addWidget(self.clip_stack, 3)
        right_layout.addWidget(tokens_label)
        right_layout.addWidget(self.token_list, 2)
        right_layout.addWidget(self.cluster_label)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setSizes([820, 420])
        self.splitter = splitter

        self.intro = QLabel(INTRO)
        self.intro.setTextFormat(Qt.TextFormat.RichText)
        self.intro.setWordWrap(True)
        self.intro.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.intro.setMinimumWidth(560)
        self.intro.setMaximumWidth(720)
        intro_page = QFrame()
        intro_layout = QHBoxLayout(intro_page)
        intro_layout.addStretch(1)
        intro_layout.addWidget(self.intro)
        intro_layout.addStretch(1)

        self.body = QStackedWidget()
        self.body.addWidget(intro_page)
        self.body.addWidget(splitter)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addLayout(second)
        layout.addWidget(self.banner)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.body, 1)

        shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.cancel)

    # ------------------------------------------------------------------------------------------
    # models
    def refresh_models(self) -> None:
        """Fill the model selector with the installed models whose attention can be recorded
        (on a worker: listing loads every checkpoint); ``models_loaded`` fires when done."""
        self._models_ready = False
        if self.model_combo.count() == 0:
            self.model_combo.addItem("Looking for models…", None)
        worker = Worker(lambda task: ajobs.list_attention_models_safely(), name="models")
        self._workers.add(worker)
        worker.signals.finished.connect(lambda result: self._fill_models(*result))
        worker.signals.failed.connect(lambda message: self._fill_models([], message))
        worker.signals.done.connect(lambda w=worker: self._workers.discard(w))
        worker.start()

    def models_ready(self) -> bool:
        """True once the model selector has been filled."""
        return self._models_ready

    def _fill_models(self, models: list, problem: str) -> None:
        if self._shut_down:
            return
        current = self.model_combo.currentData()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self._model_tasks = {}
        order = list(models)  # sign-to-text first, the default model first of all
        for info in order:
            self._model_tasks[info.name] = info.task
            self.model_combo.addItem(f"{info.name}  ({info.task})", info.name)
            tip = [info.name, f"task: {info.task}"]
            if getattr(info, "language", ""):
                tip.append(f"sign language: {info.language}")
            tip.append(str(info.path))
            self.model_combo.setItemData(self.model_combo.count() - 1, "\n".join(tip),
                                         Qt.ItemDataRole.ToolTipRole)
        if not order:
            self.model_combo.addItem("No model installed", None)
        if problem:
            self.model_combo.setToolTip(f"Could not list the models: {problem}")
        else:
            self.model_combo.setToolTip("The model whose attention is recorded: a sign-to-text "
                                        "model for videos and .pose files, a text model for text")
        index = self.model_combo.findData(current) if current is not None else -1
        self.model_combo.setCurrentIndex(max(index, 0))
        self.model_combo.blockSignals(False)
        self._models_ready = True
        self.models_loaded.emit()

    def selected_model(self) -> str | None:
        """The model chosen in the selector (None while the list is not there)."""
        return self.model_combo.currentData()

    def _pick_model(self, kind: str, explicit: str | None) -> str | None:
        """The model to run on input of ``kind`` ("sign", "text" or "glosses"): ``explicit``, or
        the selected one if it fits, or the first installed one that does, preferring
        text-to-gloss for text and gloss-to-text for glosses (the selector follows; the status
        line names the model run)."""
        combo = self.model_combo
        if explicit:
            index = combo.findData(explicit)
            if index >= 0:
                combo.blockSignals(True)
                combo.setCurrentIndex(index)
                combo.blockSignals(False)
            return explicit
        if kind == "sign":
            preferred: tuple[str, ...] = (ajobs.SIGN_TASK,)
        elif kind == "glosses":
            preferred = ("gloss-to-text", "text-to-gloss")
        else:
            preferred = ("text-to-gloss", "gloss-to-text")
        current = self.selected_model()
        if current is None or not self._model_tasks or self._model_tasks.get(current) in preferred:
            return current
        names = [combo.itemData(i) for i in range(combo.count())]
        for task in preferred:
            for i, name in enumerate(names):
                if self._model_tasks.get(name) == task:
                    combo.blockSignals(True)
                    combo.setCurrentIndex(i)
                    combo.blockSignals(False)
                    return name
        return current

    def _model_changed(self, _index: int) -> None:
        name = self.selected_model()
        if name and self._record is not None and name != getattr(self._record, "model", ""):
            self._status(f"Press Run to record {name}'s attention.")

    # ------------------------------------------------------------------------------------------
    # public API: state
    @property
    def state(self) -> str:
        """"idle", "recording", "opening", "loading source" or "saving"."""
        return self._state

    def record(self) -> Any:
        """The ``AttentionRecord`` shown, or None."""
        return self._record

    def view(self) -> tuple[str, int, int | None]:
        """``(kind, layer, head)`` shown: kind among :data:`KINDS`, layer index (0-based), head
        index or None for the mean of heads."""
        return self._kind(), self._layer(), self._head()

    def displayed_matrix(self) -> np.ndarray | None:
        """A copy of the matrix in the heatmap (rows x columns), or None."""
        return self.heatmap.matrix()

    def current_token(self) -> int | None:
        """The selected decoding step (row of the cross-attention), or None."""
        return self._token

    def player_position(self) -> int:
        """The player's frame index (0-based; 0 with no clip)."""
        return self.player.slider.value() if self.player.has_clip() else 0

    def pose_fps(self) -> float:
        """Frames per second of the clip in the player (0 with none)."""
        return self._pose_fps

    def clusters(self, token: int | None = None) -> list:
        """The frame clusters (:class:`~signstudio.interpret.analysis.Cluster`, frame indices of
        the record, inclusive) of ``token`` (default: the selected one) in the analysed
        cross-attention."""
        token = self._token if token is None else token
        if token is None or not 0 <= token < len(self._clusters):
            return []
        return list(self._clusters[token])

    # ------------------------------------------------------------------------------------------
    # public API: running
    def run(self, path_or_text: str | Path, model_name: str | None = None) -> bool:
        """Record ``model_name``'s attention (None: the model chosen, or one that fits) on a file
        (a ``Path``, or a string naming an existing file or ending in a file suffix) or a
        sentence; a ``.npz`` is opened as a saved record (:meth:`open_record`). Returns False if a job runs or there is nothing to record; the outcome arrives
        later (``record_shown`` or the banner, in any case ``idle``)."""
        if isinstance(path_or_text, Path) or _looks_like_path(str(path_or_text)):
            if str(path_or_text).lower().endswith(".npz"):
                return self.open_record(path_or_text)
            return self.record_path(path_or_text, model_name)
        return self.record_text(str(path_or_text), model_name)

    def record_path(self, path: str | Path, model_name: str | None = None) -> bool:
        """Record the attention on a video or ``.pose`` file (sign model) or a text file (text
        model) on a worker; see :meth:`run`."""
        if self.is_busy():
            self._status("Busy: cancel the current job first.")
            return False
        path = Path(path)
        self._last_dir = str(path.parent)
        model = self._pick_model("sign" if path.suffix.lower() in ajobs.SIGN_SUFFIXES else "text",
                                 model_name)
        self.banner.dismiss()
        self._start(RECORDING, ajobs.record_job(str(path), model),
                    f"Recording {model or 'the default model'} on {path.name}…",
                    on_finished=lambda result, p=str(path): self._recorded(result, p))
        return True

    def record_text(self, text: str, model_name: str | None = None) -> bool:
        """Record a text model's attention on a typed sentence on a worker; see :meth:`run`."""
        if self.is_busy():
            self._status("Busy: cancel the current job first.")
            return False
        text = " ".join(str(text).split())
        if not text:
            self._complain("Type a sentence first, or open a file.")
            return False
        if self.sentence_edit.text().strip() != text:
            self.sentence_edit.setText(text)
        model = self._pick_model("glosses" if _looks_like_glosses(text) else "text", model_name)
        self.banner.dismiss()
        self._start(RECORDING, ajobs.record_text_job(text, model),
                    f"Recording {model or 'the default model'} on “{_ellipsize(text, 40)}”…",
                    on_finished=lambda result: self._recorded(result, ""))
        return True

    def run_clicked(self) -> None:
        """The Run button: the sentence for a text model (or when no file is open), otherwise
        the file opened last, with the model chosen."""
        text = self.sentence_edit.text().strip()
        is_text_model = self._model_tasks.get(self.selected_model() or "") in ajobs.TEXT_TASKS
        if text and (is_text_model or not self._input_path):
            self.record_text(text)
        elif self._input_path:
            self.record_path(self._input_path, self.selected_model())
        else:
            self._complain("Open a video, .pose or text file, or type a sentence, first.")

    def open_record(self, path: str | Path) -> bool:
        """Show a record saved as ``.npz`` (read on a worker); then, for a sign model, look for
        its clip (its saved input path, or a file of that name beside the ``.npz``)."""
        if self.is_busy():
            self._status("Busy: cancel the current job first.")
            return False
        path = Path(path)
        self._last_dir = str(path.parent)
        self.banner.dismiss()
        self._start(OPENING, ajobs.open_record_job(str(path)), f"Reading {path.name}…",
                    on_finished=lambda result, p=str(path): self._record_opened(result, p))
        return True

    def load_record_object(self, record: Any, source_path: str | Path | None = None,
                           pose: Any = None, info: Any = None,
                           frames: FrameCache | None = None) -> bool:
        """Show ``record`` (an ``AttentionRecord``) without running a model.

        Args:
            source_path: the clip to play beside it (a ``.pose`` file or a video, loaded on a
                worker; ``source_loaded`` fires when it is in the player). None: no clip,
                unless ``pose`` is given.
            pose, info, frames: the clip itself, shown at once (a pose-format ``Pose``, its
                ``VideoInfo`` and downscaled frames, as an ``AttentionRun`` holds them).

        Returns:
            False (with a message) if a job runs or the record is inconsistent.
        """
        if self.is_busy():
            self._status("Busy: cancel the current job first.")
            return False
        try:
            record.validate()
        except (ValueError, AttributeError) as exc:
            self.show_error(f"This attention record cannot be shown: {exc}")
            return False
        self.banner.dismiss()
        source = str(source_path) if source_path is not None and pose is not None else ""
        self._show_run(AttentionRun(record, pose, info, frames, source))
        if source_path is not None and pose is None:
            self._load_source(Path(source_path))
        return True

    def cancel(self) -> None:
        """Cancel the running job; what is shown stays."""
        if self._worker is None or not self.is_busy() or self._state == SAVING:
            return
        self._discard = True
        self._status("Cancelling…")
        self.cancel_button.setEnabled(False)
        self._worker.cancel()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop playback, cancel every job and wait (up to ``timeout`` s) for their threads; for
        closing the window."""
        self._shut_down = True
        self.player.pause()
        self._discard = True
        for worker in list(self._workers):
            worker.cancel()
        deadline = time.monotonic() + timeout
        for worker in list(self._workers):
            worker.wait(max(0.0, deadline - time.monotonic()))

    # ------------------------------------------------------------------------------------------
    # public API: view
    def set_view(self, kind: str | None = None, layer: int | None = None,
                 head: int | None | str = "keep") -> None:
        """Show another map: ``kind`` (:data:`KINDS`), ``layer`` (0-based; negative counts from
        the last) and ``head`` (an index, None for the mean of heads, "keep" to leave it)."""
        if self._record is None:
            return
        if kind is not None:
            index = self.kind_combo.findData(kind)
            if index < 0:
                raise ValueError(f"unknown attention kind {kind!r}; known: {', '.join(KINDS)}")
            self.kind_combo.setCurrentIndex(index)
        if layer is not None:
            n = self.layer_combo.count()
            if not -n <= layer < n:
                raise ValueError(f"no layer {layer}: this map has {n}")
            self.layer_combo.setCurrentIndex(layer % n)
        if head != "keep":
            index = self.head_combo.findData(-1 if head is None else int(head))
            if index < 0:
                raise ValueError(f"no head {head}: the model has {self._record.num_heads}")
            self.head_combo.setCurrentIndex(index)

    def select_token(self, step: int, jump: bool = True) -> None:
        """Select decoding step ``step``: highlight it and, with ``jump``, move the player to the
        first frame of the cluster of frames it attends most (time in seconds of the record,
        turned into a frame of the clip at the clip's own frame rate)."""
        record = self._record
        if record is None or not 0 <= step < record.num_steps:
            return
        changed = step != self._token
        self._token = step
        item = self.token_list.topLevelItem(step)
        if item is not None and self.token_list.currentItem() is not item:
            self.token_list.blockSignals(True)
            self.token_list.setCurrentItem(item)
            self.token_list.blockSignals(False)
        self._update_marks()
        self._update_details()
        if jump:
            self._jump_to_token(step)
        if changed:
            self.token_selected.emit(step)

    # ------------------------------------------------------------------------------------------
    # public API: files
    def choose_clip(self) -> None:
        """Ask for a video or ``.pose`` file, then record it."""
        if self.is_busy():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open a video or .pose file of signing",
                                              self._start_dir(), VIDEO_FILTER)
        if path:
            self.record_path(path)

    def choose_text(self) -> None:
        """Ask for a text file (one sentence), then record it with a text model."""
        if self.is_busy():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open a text file", self._start_dir(),
                                              TEXT_FILTER)
        if path:
            self.record_path(path)

    def choose_record(self) -> None:
        """Ask for a saved record (``.npz``), then show it."""
        if self.is_busy():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open an attention record",
                                              self._start_dir(), RECORD_FILTER)
        if path:
            self.open_record(path)

    def choose_save_record(self) -> None:
        """Ask where to save the record (``.npz``), then save it."""
        path = self._ask_save("Save the attention record", ".npz", RECORD_FILTER, "")
        if path:
            self.save_record_to(path)

    def choose_export_png(self) -> None:
        """Ask where to save the matrix shown as PNG, then save it."""
        path = self._ask_save("Export the heatmap as PNG", ".png", "PNG images (*.png)", "view")
        if path:
            self.export_png_to(path)

    def choose_export_csv(self) -> None:
        """Ask where to save the matrix shown as CSV, then save it."""
        path = self._ask_save("Export the matrix as CSV", ".csv", "CSV files (*.csv)", "view")
        if path:
            self.export_csv_to(path)

    def save_record_to(self, path: str | Path) -> bool:
        """Write the record to ``path`` (``.npz``) on a worker; False if busy or nothing shown."""
        if self._record is None or self.is_busy():
            return False
        return self._save(ajobs.save_record_job(self._record, str(path)), path)

    def export_png_to(self, path: str | Path) -> bool:
        """Write the matrix shown (kind, layer, head) as a PNG heatmap on a worker."""
        if self._record is None or self.is_busy():
            return False
        kind, layer, head = self.view()
        return self._save(ajobs.export_png_job(self._record, str(path), kind, layer, head), path)

    def export_csv_to(self, path: str | Path) -> bool:
        """Write the matrix shown as CSV on a worker: a ``token`` column then one column per frame
        (seconds) or source token; one row per row of the heatmap."""
        if self._record is None or self.is_busy():
            return False
        kind, layer, head = self.view()
        return self._save(ajobs.export_csv_job(self._record, str(path), kind, layer, head), path)

    def _save(self, job, path: str | Path) -> bool:
        path = Path(path)
        self._last_dir = str(path.parent)
        self.banner.dismiss()
        self._start(SAVING, job, f"Saving {path.name}…", on_finished=self._saved)
        return True

    def _ask_save(self, title: str, suffix: str, filter_: str, what: str) -> str:
        if self._record is None or self.is_busy():
            return ""
        start = str(Path(self._start_dir()) / (self._default_name(what) + suffix))
        path, _ = QFileDialog.getSaveFileName(self, title, start, f"{filter_};;All files (*)")
        if path and not path.lower().endswith(suffix):
            path += suffix
        return path

    # ------------------------------------------------------------------------------------------
    # jobs
    def _on_progress(self, worker: Worker, done: int, total: int) -> None:
        if not self._current(worker):
            return
        if total > 0:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(min(done, total))
            unit = getattr(worker.handle, "unit", "") or ""
            self.progress_bar.setFormat(f"%v / %m {unit + 's' if unit == 'frame' else ''}".rstrip())
            if unit == "frame":
                self._status(f"Finding hands and body: frame {done} of {total}")
        else:
            self.progress_bar.setRange(0, 0)

    def _on_failed(self, worker: Worker, message: str) -> None:
        if not self._current(worker):
            return
        failed = self._state
        self._worker = None
        self._set_state(IDLE)
        prefix = {RECORDING: "Could not record the attention: ", OPENING: "Could not open: ",
                  SAVING: "Could not save: ", LOADING_SOURCE: "Could not load the clip: "}
        if failed == LOADING_SOURCE:
            self.banner.show_message("The record is shown, but its clip could not be loaded for "
                                     f"playback: {message}", "warning")
            self.error_shown.emit(message)
        else:
            self.show_error(message)
        self._status(prefix.get(failed, "") + message)
        self.idle.emit()

    def _on_cancelled(self, worker: Worker) -> None:
        if not self._current(worker):
            return
        self._worker = None
        self._set_state(IDLE)
        self._status("Cancelled; the view is unchanged.")
        self.idle.emit()

    def _recorded(self, run: AttentionRun, path: str) -> None:
        if path:
            self._input_path = path
        self._record_path = ""
        self._show_run(run)
        record = run.record
        words = " ".join(t for t in record.tokens if t != "</s>") or "(nothing)"
        self._status(f"Recorded {record.model}: {words}.")

    def _record_opened(self, run: AttentionRun, path: str) -> None:
        self._record_path = path
        self._show_run(run)
        source = ajobs.find_source(run.record, path)
        if source is not None:
            self._input_path = str(source)
            self._load_source(source)
        else:
            self._status(f"Opened {Path(path).name}.")
            if run.record.model_type == "signformer":
                self.banner.show_message(
                    f"The clip this record was made from ({run.record.input or 'unknown'}) was "
                    "not found, so there is nothing to play.", "info")

    def _load_source(self, path: Path) -> None:
        self._start(LOADING_SOURCE, ajobs.load_source_job(str(path)),
                    f"Loading {path.name} for playback…", on_finished=self._source_ready)

    def _source_ready(self, clip: SourceClip) -> None:
        self._set_clip(clip.pose, clip.info, clip.frames, clip.source)
        self._status(f"Showing the attention with {Path(clip.source).name}.")
        if self._token is not None:
            self._jump_to_token(self._token)
        self.source_loaded.emit()

    def _saved(self, path: str) -> None:
        self._status(f"Saved to {path}")
        self.banner.show_message(f"Saved to {path}", "info")
        self.exported.emit(str(path))

    # ------------------------------------------------------------------------------------------
    # showing a record
    def _show_run(self, run: AttentionRun) -> None:
        record = run.record
        self._record = record
        self._contrib = {}
        self._token = None
        self._query_row = None
        if run.pose is not None:
            self._set_clip(run.pose, run.info, run.frames, run.source)
        else:
            self._clear_clip()
        text_model = bool(record.source_tokens) or record.frame_times is None
        self.clip_stack.setCurrentWidget(self.source_view if text_model else self.player)
        self.token_list.headerItem().setText(3, "From source" if text_model else "From video")
        self.token_list.headerItem().setToolTip(
            3, "Share of the cross-attention in what attention adds at this step (norm-based, "
               "Kobayashi et al. 2020), in the layer analysed")
        self.token_list.headerItem().setToolTip(
            2, "The cluster of frames (seconds) this token attends most" if not text_model
            else "The source token this token attends most")

        self.kind_combo.blockSignals(True)
        self.kind_combo.clear()
        cols = "source" if text_model else "frames"
        self.kind_combo.addItem(f"Cross: tokens × {cols}", "cross")
        self.kind_combo.addItem("Decoder self: tokens × tokens", "decoder_self")
        self.kind_combo.addItem(f"Encoder self: {cols} × {cols}", "encoder_self")
        self.kind_combo.setCurrentIndex(0)
        self.kind_combo.blockSignals(False)
        self.head_combo.blockSignals(True)
        self.head_combo.clear()
        self.head_combo.addItem("mean of heads", -1)
        for h in range(record.num_heads):
            self.head_combo.addItem(f"{h}", h)
        self.head_combo.setCurrentIndex(0)
        self.head_combo.blockSignals(False)
        self._fill_layers(-1)

        self.summary_label.setText(_summary_html(record, self._clip_source or record.input))
        self.body.setCurrentIndex(1)
        self._refresh(keep_token=False)
        self._update_buttons()
        self.record_shown.emit(record)

    def _set_clip(self, pose: Any, info: Any, frames: FrameCache | None, source: str) -> None:
        self.player.pause()
        self.player.clear()
        if frames is not None:
            self.player.cache = frames
        self.player.load_pose(pose, info)
        fps = float(getattr(info, "fps", 0) or 0) or float(getattr(pose.body, "fps", 0) or 0)
        self._pose_fps = fps if fps > 0 else 25.0
        self._clip_source = source
        if self._record is not None:
            self.summary_label.setText(_summary_html(self._record, source or self._record.input))

    def _clear_clip(self) -> None:
        self.player.pause()
        self.player.clear()
        self._pose_fps = 0.0
        self._clip_source = ""
        self.heatmap.set_cursor(None)

    def _fill_layers(self, keep: int) -> None:
        record = self._record
        n = len(getattr(record, self._kind()))
        where = "encoder" if self._kind() == "encoder_self" else "decoder"
        self.layer_combo.setToolTip(f"The {where} layer of the map shown (0 is the first)")
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for i in range(n):
            self.layer_combo.addItem(f"{i}" + (" (last)" if i == n - 1 and n > 1 else ""), i)
        self.layer_combo.setCurrentIndex(keep % n if -n <= keep < n else n - 1)
        self.layer_combo.blockSignals(False)

    def _kind(self) -> str:
        return str(self.kind_combo.currentData() or "cross")

    def _layer(self) -> int:
        data = self.layer_combo.currentData()
        return int(data) if data is not None else 0

    def _head(self) -> int | None:
        data = self.head_combo.currentData()
        return None if data is None or int(data) < 0 else int(data)

    def _analysis_layer(self) -> tuple[int, int | None]:
        """(decoder layer, head) of the cross-attention the analyses use: the layer and head shown
        for a decoder map; the last decoder layer and the mean of heads for an encoder map."""
        if self._kind() == "encoder_self":
            return len(self._record.cross) - 1, None
        return self._layer(), self._head()

    def _kind_changed(self, _index: int) -> None:
        if self._record is None:
            return
        self._fill_layers(self._layer())
        self._query_row = None
        self._refresh(keep_token=True)

    def _view_changed(self, _index: int) -> None:
        if self._record is not None:
            self._refresh(keep_token=True)

    def _refresh(self, keep_token: bool) -> None:
        """Redraw the heatmap, the analyses and the token list for the kind/layer/head chosen."""
        from signstudio.interpret.analysis import attention_clusters, diagonal_score

        record = self._record
        kind, layer, head = self.view()
        matrix = attention_matrix(record, kind, layer, head)
        rows, cols = self._axes(kind)
        self.heatmap.set_matrix(matrix, rows, cols)

        a_layer, a_head = self._analysis_layer()
        cross = attention_matrix(record, "cross", a_layer, a_head)
        self._clusters = attention_clusters(cross)
        n = record.num_steps - 1 if record.num_steps > 1 and record.tokens[-1] == "</s>" else \
            record.num_steps
        diag = diagonal_score(cross[:n])
        which = _which(a_layer, a_head)
        if kind == "encoder_self":
            which = f"cross-attention, {which}"
        if np.isfinite(diag):
            self.diagonal_label.setText(f"Diagonal score: <b>{diag:.2f}</b>")
        else:
            why = "fewer than 2 tokens" if n < 2 else "more tokens than input positions"
            self.diagonal_label.setText(f"Diagonal score: n/a ({why})")
        self.diagonal_label.setToolTip(
            f"How diagonal the cross-attention ({which}) is (SignAttention): 1 = the tokens attend "
            "consecutive blocks of the input in order, 0 = no better than uniform attention. "
            "The final </s> step is left out.")
        self._diagonal = float(diag)

        share = self._cross_share(a_layer)
        text_model = record.frame_times is None
        self.contribution.set_shares(share, list(record.tokens))
        self.contribution_title.setText(
            "<b>What each decoding step draws on:</b>&nbsp; "
            f"<span style='color:{CROSS_BRUSH.name()}'>■</span>&nbsp;cross-attention&nbsp;"
            f"({'the&nbsp;source&nbsp;sentence' if text_model else 'the&nbsp;video'}) vs.&nbsp; "
            f"<span style='color:{SELF_BRUSH.name()}'>■</span>&nbsp;decoder&nbsp;self-attention&nbsp;"
            "(the&nbsp;tokens&nbsp;so&nbsp;far) "
            f"<span style='color:#6b7480'>— norm-based shares, decoder layer {a_layer}, all heads "
            "(Kobayashi et al. 2020)</span>")
        self._fill_tokens(share)
        if keep_token and self._token is not None:
            self.select_token(self._token, jump=False)
        else:
            self._token = None
            self.select_token(0, jump=True)

    def _cross_share(self, layer: int) -> np.ndarray:
        if layer not in self._contrib:
            from signstudio.interpret.analysis import record_contributions

            self._contrib[layer] = np.asarray(record_contributions(self._record, layer).cross_share)
        return self._contrib[layer]

    def diagonal_score(self) -> float:
        """The diagonal score shown (NaN when undefined)."""
        return self._diagonal

    def _axes(self, kind: str) -> tuple[_AxisSpec, _AxisSpec]:
        record = self._record
        u, t = record.num_steps, record.num_frames
        tokens = list(record.tokens)
        if record.frame_times is not None and not record.source_tokens:
            fps = record.fps if record.fps > 0 else 30.0
            start = float(record.frame_times[0]) if len(record.frame_times) else 0.0
            frames = _AxisSpec(t, None, start, 1.0 / fps, "time (s)")
            query = _AxisSpec(t, None, start, 1.0 / fps, "query frame: time (s)")
        else:
            keys = record.key_labels
            frames = _AxisSpec(t, keys, title="source token")
            query = _AxisSpec(t, keys, title="query: source token")
        if kind == "cross":
            return _AxisSpec(u, tokens, title="output token"), frames
        if kind == "decoder_self":
            return (_AxisSpec(u, tokens, title="output token"),
                    _AxisSpec(u, list(record.decoder_inputs), title="decoder input (tokens so far)"))
        return query, frames

    def _fill_tokens(self, share: np.ndarray) -> None:
        record = self._record
        self.token_list.blockSignals(True)
        self.token_list.clear()
        keys = record.key_labels
        for u, token in enumerate(record.tokens):
            best = strongest_cluster(self._clusters[u]) if u < len(self._clusters) else None
            if best is None:
                looks = ""
            elif record.frame_times is not None and not record.source_tokens:
                looks = f"{_seconds(record, best.start)}–{_seconds(record, best.end, end=True)} s"
            else:
                looks = keys[best.peak] if 0 <= best.peak < len(keys) else ""
            value = share[u] if u < len(share) else float("nan")
            item = QTreeWidgetItem([str(u), str(token), looks,
                                    "" if not np.isfinite(value) else f"{value * 100:.0f}%"])
            item.setTextAlignment(0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(1, f"Step {u} produced {token}")
            self.token_list.addTopLevelItem(item)
        self.token_list.blockSignals(False)

    def _update_marks(self) -> None:
        kind = self._kind()
        if kind == "encoder_self":
            self.heatmap.set_highlight(self._query_row)
        else:
            spans = [] if kind != "cross" else [(c.start, c.end) for c in self.clusters()]
            self.heatmap.set_highlight(self._token, spans)
        self.contribution.set_step(self._token)
        self._player_moved(self.player_position())

    def _update_details(self) -> None:
        record = self._record
        u = self._token
        if record is None or u is None:
            self.cluster_label.setText("")
            return
        a_layer, a_head = self._analysis_layer()
        clusters = self.clusters()
        best = strongest_cluster(clusters)
        timed = record.frame_times is not None and not record.source_tokens
        token = html.escape(str(record.tokens[u]))
        lines = [f"<b>{token}</b> (step {u} of {record.num_steps}) — clusters in the "
                 f"cross-attention, {_which(a_layer, a_head)}:"]
        if not clusters:
            lines.append("no attention")
        for c in clusters[:6]:
            if timed:
                span = (f"{_seconds(record, c.start)}–{_seconds(record, c.end, end=True)} s "
                        f"(frames {c.start}–{c.end})")
            else:
                words = record.key_labels[c.start:c.end + 1]
                span = "“" + html.escape(" ".join(words)) + "”"
            mark = " ◀ strongest" if c is best else ""
            lines.append(f"&nbsp;• {span}: {c.mass * 100:.0f}% of its attention{mark}")
        if len(clusters) > 6:
            lines.append(f"&nbsp;… and {len(clusters) - 6} more")
        share = self._cross_share(a_layer)
        if u < len(share) and np.isfinite(share[u]):
            source = "the video" if timed else "the source"
            lines.append(f"Draws {share[u] * 100:.0f}% on {source}, {(1 - share[u]) * 100:.0f}% "
                         "on the tokens so far.")
        self.cluster_label.setText("<br>".join(lines))
        if not timed:
            self._update_source_view(u, a_layer, a_head)

    def _update_source_view(self, u: int, layer: int, head: int | None) -> None:
        record = self._record
        row = attention_matrix(record, "cross", layer, head)[u]
        top = float(row.max()) if row.size else 0.0
        parts = []
        for word, weight in zip(record.key_labels, row):
            alpha = 0.0 if top <= 0 else float(weight) / top
            bg = f"rgba(253, 231, 37, {alpha * 0.85:.2f})"
            fg = "#111318" if alpha > 0.5 else "#f2f2f2"
            parts.append(f"<span style='background:{bg}; color:{fg}'>&nbsp;{html.escape(word)}"
                         "&nbsp;</span>")
        self.source_view.setText(
            "<p style='color:#9aa3ad'>Source sentence — shaded by how much "
            f"<b style='color:#ffd24d'>{html.escape(str(record.tokens[u]))}</b> attends to each "
            "token:</p><p style='font-size:15pt; line-height:160%'>" + " ".join(parts) + "</p>")

    def _jump_to_token(self, step: int) -> None:
        record = self._record
        best = strongest_cluster(self.clusters(step))
        if best is None or record.frame_times is None or not self.player.has_clip():
            return
        self._show_time(float(record.frame_times[best.start]))

    def _show_time(self, seconds: float) -> None:
        self.player.pause()
        self.player.show_frame(player_frame(seconds, self._pose_fps, self.player.frame_count()))

    def _cell_clicked(self, row: int, col: int) -> None:
        if self._record is None:
            return
        if self._kind() == "encoder_self":
            self._query_row = row
            self._update_marks()
            times = self._record.frame_times
            if times is not None and self.player.has_clip():
                self._show_time(float(times[row]))
            return
        self.select_token(row, jump=True)

    def _token_item_changed(self, current, _previous) -> None:
        if current is not None:
            self.select_token(self.token_list.indexOfTopLevelItem(current), jump=True)

    def _player_moved(self, index: int) -> None:
        record = self._record
        if (record is None or record.frame_times is None or not self.player.has_clip()
                or self._pose_fps <= 0):
            self.heatmap.set_cursor(None)
            return
        self.heatmap.set_cursor(index / self._pose_fps)

    # ------------------------------------------------------------------------------------------
    # helpers
    def _complain(self, message: str) -> None:
        self.show_error(message)
        self._status(message)

    def _set_state(self, state: str) -> None:
        was_busy = self.is_busy()
        self._state = state
        busy = state != IDLE
        for widget in (self.model_combo, self.open_clip_button, self.open_text_button,
                       self.open_record_button, self.run_button, self.sentence_edit):
            widget.setEnabled(not busy)
        self.cancel_button.setEnabled(busy and state != SAVING)
        self.cancel_button.setVisible(busy)
        self.progress_bar.setVisible(busy)
        self.status_label.setVisible(busy)
        if not busy:
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(0)
        self._update_buttons()
        if busy != was_busy:
            self.busy_changed.emit(busy)

    def _update_buttons(self) -> None:
        enabled = self._record is not None and not self.is_busy()
        for button in (self.save_record_button, self.export_png_button, self.export_csv_button):
            button.setEnabled(enabled)

    def _default_name(self, what: str) -> str:
        record = self._record
        stem = Path(record.input).stem if record.input and len(record.input) < 200 else ""
        stem = re.sub(r"[^\w\-]+", "_", stem or record.model)[:50] or "attention"
        if what == "view":
            kind, layer, head = self.view()
            stem += f"_{kind}_layer{layer}_" + ("mean" if head is None else f"head{head}")
        return stem

    def _start_dir(self) -> str:
        if self._last_dir:
            return self._last_dir
        try:
            from signstudio.paths import data_dir

            videos = data_dir() / "videos"
            if videos.is_dir():
                return str(videos)
        except Exception:  # noqa: BLE001 - only a starting folder
            pass
        return str(Path.home())

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Pause playback when the tab is hidden."""
        self.player.pause()
        super().hideEvent(event)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if not self.is_busy() and event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """A dropped ``.npz`` is opened as a record; any other file is recorded."""
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            path = urls[0].toLocalFile()
            if path.lower().endswith(".npz"):
                self.open_record(path)
            else:
                self.record_path(path)


# ------------------------------------------------------------------------------------------------
def _looks_like_path(text: str) -> bool:
    """True for a string that names a file rather than a sentence: an existing file, a path
    with a separator and no spaces, or a known file suffix."""
    stripped = text.strip()
    if not stripped or "\n" in stripped:
        return False
    try:
        if Path(stripped).expanduser().is_file():
            return True
    except OSError:
        return False
    suffix = Path(stripped).suffix.lower()
    return suffix in (*ajobs.SIGN_SUFFIXES, ".txt", ".npz") or ("/" in stripped and " " not in stripped)


def _looks_like_glosses(text: str) -> bool:
    """True for a gloss sequence such as "MORGEN loc-NORD REGEN" (every word with a letter is
    upper case after its last hyphen, so PHOENIX prefixes such as "loc-" pass), not a sentence
    such as "Morgen regnet es im Norden."."""
    words = [w.rsplit("-", 1)[-1] for w in text.split() if any(c.isalpha() for c in w)]
    return bool(words) and all(w == w.upper() for w in words)


def _seconds(record: Any, frame: int, end: bool = False) -> str:
    """Start (or, with ``end``, end) of record frame ``frame`` in seconds, as "1.23"."""
    t = float(record.frame_times[frame])
    if end and record.fps > 0:
        t += 1.0 / record.fps
    return f"{t:.2f}"


def _which(layer: int, head: int | None) -> str:
    return f"layer {layer}, " + ("mean of heads" if head is None else f"head {head}")


def _ellipsize(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _summary_html(record: Any, source: str) -> str:
    """One line about a record: its output in bold, then model, input, length, decoding, sizes."""
    words = " ".join(t for t in record.tokens if t != "</s>") or "(no tokens)"
    bits = [record.model]
    timed = record.frame_times is not None and not record.source_tokens
    if source:
        try:
            is_file = len(source) < 1000 and Path(source).is_file()
        except OSError:
            is_file = False
        bits.append("on " + (Path(source).name if is_file else f"“{_ellipsize(source, 60)}”"))
    if timed:
        seconds = record.num_frames / record.fps if record.fps > 0 else 0.0
        bits.append(f"{record.num_frames} frames at {record.fps:g} fps ({seconds:.2f} s)")
    else:
        bits.append(f"{record.num_frames} source tokens")
    if record.decoding:
        bits.append(record.decoding)
    bits.append(f"{len(record.encoder_self)} encoder / {len(record.cross)} decoder layers, "
                f"{record.num_heads} heads")
    # Break lines only between the parts, never inside one.
    details = " · ".join(html.escape(b).replace(" ", "&nbsp;") for b in bits)
    return (f"<span style='font-size:13pt'><b>{html.escape(words)}</b></span>"
            f"&nbsp;&nbsp; <span style='color:#5b6472'>{details}</span>")
