"""The Train tab's curves: training loss and the dev metric by epoch, with the best point starred.

:class:`TrainingCurves` draws what a :class:`~signstudio.training.monitor.TrainingMonitor` holds
(:meth:`TrainingCurves.show_run`); which metric is plotted and whether lower is better are the
monitor's (the training recipe's), never guessed here.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QWidget

from signstudio.gui.widgets import adopt_menus

INK = "#1d2733"


class TrainingCurves(QWidget):
    """Two plots side by side: the training loss and the dev metric, by epoch.

    Attributes: ``loss_plot``, ``loss_curve``, ``dev_plot``, ``dev_curve``, ``best_marker``
    (the best evaluation so far, a star), ``loss_hint`` and ``dev_hint`` (notes shown while a
    plot is empty).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = self._make_plot("Training loss", "loss")
        self.loss_curve = self.loss_plot.plot([], [], pen=pg.mkPen("#1f6feb", width=2), symbol="o",
                                              symbolSize=6, symbolBrush="#1f6feb", symbolPen=None)
        self.dev_plot = self._make_plot("Dev score", "")
        self.dev_curve = self.dev_plot.plot([], [], pen=pg.mkPen("#d9480f", width=2), symbol="o",
                                            symbolSize=6, symbolBrush="#d9480f", symbolPen=None)
        self.best_marker = pg.ScatterPlotItem(size=16, symbol="star", brush=pg.mkBrush("#f2c230"),
                                              pen=pg.mkPen("#7a5c00"))
        self.dev_plot.addItem(self.best_marker)
        self.loss_hint = self._plot_hint(self.loss_plot, "The loss appears here\nafter each evaluation.")
        self.dev_hint = self._plot_hint(self.dev_plot, "The dev score appears here\nafter each evaluation.")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.dev_plot)

    def set_eval_every(self, epochs: int) -> None:
        """Say in the empty plots how often points arrive (every ``epochs`` epochs)."""
        every = "" if epochs == 1 else f"\n(every {epochs} epochs)"
        self.loss_hint.setText(f"The loss appears here\nafter each evaluation{every}.")
        self.dev_hint.setText(f"The dev score appears here\nafter each evaluation{every}.")

    def show_run(self, monitor) -> None:
        """Draw the loss, the selection metric and its best point of ``monitor``'s run."""
        ex, ey = monitor.loss_points()
        self.loss_curve.setData(ex, ey)
        dx, dy = monitor.metric_points()
        self.dev_curve.setData(dx, dy)
        self.loss_hint.setVisible(not ex)
        self.dev_hint.setVisible(not dx)
        if not ex and not dx:
            for plot in (self.loss_plot, self.dev_plot):
                plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
                plot.enableAutoRange()
        if monitor.metric:
            self.dev_plot.setTitle(monitor.metric_title(), color=INK, size="11pt")
            self.dev_plot.setLabel("left", monitor.metric_label, color=INK)
        best = monitor.best()
        if best is None:
            self.best_marker.setData([], [])
        else:
            self.best_marker.setData([best[0]], [best[1]])
            self.best_marker.setToolTip(monitor.best_text())

    def _make_plot(self, title: str, ylabel: str) -> pg.PlotWidget:
        plot = pg.PlotWidget(background="w")
        plot.setTitle(title, color=INK, size="11pt")
        plot.setLabel("bottom", "epoch", color=INK)
        if ylabel:
            plot.setLabel("left", ylabel, color=INK)
        plot.showGrid(x=True, y=True, alpha=0.25)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setPen("#5f6873")
            plot.getAxis(axis).setTextPen(INK)
        plot.setMenuEnabled(False)
        adopt_menus(self, plot.plotItem)
        plot.setMinimumHeight(180)
        plot.setAccessibleName(title)
        return plot

    @staticmethod
    def _plot_hint(plot: pg.PlotWidget, text: str) -> pg.TextItem:
        """A grey note in the middle of an empty plot (hidden once it has points)."""
        hint = pg.TextItem(text, color="#8d96a0", anchor=(0.5, 0.5))
        hint.setPos(0.5, 0.5)
        plot.addItem(hint, ignoreBounds=True)
        return hint
