"""The 3D signer view: :class:`Skeleton3DView` shows frames drawn by :mod:`signstudio.pose.draw`.

The view paints the image that the Qt-free renderer draws (OpenCV, on the CPU), the same renderer
that makes exported ``.mp4``/``.gif`` files: what the window shows is what a video shows, and the
view needs no OpenGL context, GPU driver or X server (it draws offscreen and under any Qt
platform). Dragging turns the signer (:meth:`Skeleton3DView.orbit`), the wheel zooms
(:meth:`~Skeleton3DView.zoom`), a double-click or "Reset view" returns to the first view
(:meth:`~Skeleton3DView.reset_view`), "Hands close-up" adds close-ups of both hands.

The geometry comes from :func:`signstudio.pose.scene.build_scene` (computed once per pose, on a
worker thread by the Produce tab); a frame is rendered when it is shown, when the camera or the
size changes, and only when the view is painted (a burst of resizes renders once).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QSizePolicy, QStackedWidget, QToolButton,
                               QVBoxLayout, QWidget)

from signstudio.gui import theme
from signstudio.gui.preferences import set_role
from signstudio.pose.caption import Caption
from signstudio.pose.draw import BACKGROUND, STYLE_COLORS, Camera, render
from signstudio.pose.scene import SkeletonScene, build_scene

#: Legend entries: (style, label), shown for the styles a pose has.
LEGEND = (("body", "body"), ("left_hand", "left hand"), ("right_hand", "right hand"))
#: Degrees turned per pixel dragged, and zoom per wheel notch (120 units).
DRAG_DEGREES = 0.4
WHEEL_ZOOM = 1.15


def _hex(color: tuple[int, int, int]) -> str:
    return "#%02x%02x%02x" % tuple(int(c) for c in color[:3])


class _Canvas(QWidget):
    """Paints the view's current image; turns mouse drags and the wheel into camera moves."""

    def __init__(self, view: "Skeleton3DView") -> None:
        super().__init__()
        self._view = view
        self._last: QPointF | None = None
        self.setMinimumSize(160, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # Tab reaches it: Ctrl+arrows turn it
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setAccessibleName("3D skeleton: drag or Ctrl+arrow keys to turn, wheel or Ctrl+plus/minus to zoom")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(640, 480)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        qimage = self._view._qimage()
        if qimage is None:
            painter.fillRect(self.rect(), QColor(*BACKGROUND))
        else:
            painter.drawImage(self.rect(), qimage)
        if self.hasFocus():  # the same thick ring as every other focused control
            pen = QPen(QColor(theme.current().focus), 3)
            painter.setPen(pen)
            painter.drawRect(self.rect().adjusted(1, 1, -2, -2))
        painter.end()

    def focusInEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().focusOutEvent(event)
        self.update()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._view._dirty = True

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self._last is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        delta = event.position() - self._last
        self._last = event.position()
        # Dragging right turns the signer to the right (the camera goes left); down looks from above.
        self._view.orbit(-delta.x() * DRAG_DEGREES, delta.y() * DRAG_DEGREES)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._last = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._view.reset_view()

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt's name
        notches = event.angleDelta().y() / 120.0
        if notches:
            self._view.zoom(WHEEL_ZOOM ** notches)
        event.accept()


class Skeleton3DView(QWidget):
    """Shows one frame of a pose as a 3D signer the user can turn (drag) and zoom (wheel).

    A strip above the view holds the colour key, a hint, a checkable "Hands close-up" button and
    "Reset view". Before a pose is set a placeholder text is shown instead.

    Signals:
        camera_changed(object): the :class:`~signstudio.pose.draw.Camera` changed.
        hands_toggled(bool): the hand close-ups were switched on or off.
    """

    camera_changed = Signal(object)
    hands_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 200)
        self.scene: SkeletonScene | None = None
        self._frame = 0
        self._camera = Camera()
        self._hands = False
        self._caption: Caption | None = None
        self._band = False
        self._placeholder = ""
        self._image: np.ndarray | None = None
        self._qimage_cache: QImage | None = None
        self._dirty = True
        self._showing = False

        self.legend_label = QLabel("")
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setAccessibleName("Colour key")
        self.legend_label.setToolTip("Left and right are the signer's own hands")
        self.hint_label = QLabel("Drag or Ctrl+arrows to turn · wheel or Ctrl+± to zoom · Ctrl+0 front")
        set_role(self.hint_label, "muted")
        self.hint_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # In a narrow window the hint gives way; the colour key stays whole.
        self.hint_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hands_button = QToolButton()
        self.hands_button.setText("Hands close-up")
        self.hands_button.setCheckable(True)
        self.hands_button.setToolTip("Show both hands enlarged beside the signer (also in "
                                     "saved videos)")
        self.hands_button.toggled.connect(self.set_hands_close_up)
        self.reset_button = QToolButton()
        self.reset_button.setText("Reset view")
        self.reset_button.setToolTip("Look at the signer from the front again (or double-click)")
        self.reset_button.clicked.connect(self.reset_view)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.legend_label)
        bar.addWidget(self.hint_label, 1)
        bar.addSpacing(8)
        bar.addWidget(self.hands_button)
        bar.addWidget(self.reset_button)

        self.placeholder_label = QLabel("")
        self.placeholder_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder_label.setWordWrap(True)
        self.placeholder_label.setMargin(30)
        self.placeholder_label.setAutoFillBackground(True)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.placeholder_label.setFont(font)
        self.placeholder_label.setStyleSheet(
            f"QLabel {{ background: {_hex(BACKGROUND)}; color: #3d4550;"  # dark text on the light view: 9:1
            " border: 1px solid #d9dde3; border-radius: 8px; }")
        self.placeholder_label.setMinimumSize(160, 120)

        self.canvas = _Canvas(self)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder_label)
        self.stack.addWidget(self.canvas)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        self.setAccessibleName("3D skeleton of the signer")
        self._update_chrome()

    # --- content -------------------------------------------------------------------------------
    def set_placeholder(self, text: str) -> None:
        """The text shown while there is no pose."""
        self._placeholder = text
        self._update_chrome()

    def set_pose(self, pose: Any, scene: SkeletonScene | None = None) -> SkeletonScene:
        """Show ``pose`` (a pose-format ``Pose``) from frame 0, from the first camera.

        Args:
            pose: the pose.
            scene: its geometry if already computed (e.g. by :func:`build_scene` on a worker
                thread); computed here otherwise.

        Raises:
            ValueError: the pose cannot be drawn (no frames, no drawable point).
        """
        if scene is None:
            scene = build_scene(pose)
        self.scene = scene
        self._frame = 0
        self._caption = None
        self._camera = Camera()
        self._update_chrome()
        self._changed()
        return scene

    def clear(self) -> None:
        """Forget the pose; the placeholder is shown."""
        self.scene = None
        self._frame = 0
        self._image = None
        self._qimage_cache = None
        self._update_chrome()

    def frame(self) -> int:
        """The frame shown now."""
        return self._frame

    def set_caption_band(self, shown: bool) -> None:
        """Keep a caption band under the signer (for a production with glosses) or not."""
        if bool(shown) != self._band:
            self._band = bool(shown)
            self._changed()

    def show_frame(self, index: int, caption: Caption | None = None) -> None:
        """Show frame ``index`` (clamped to the pose's frames) with ``caption`` in the band."""
        scene = self.scene
        if scene is None:
            return
        self._frame = min(max(int(index), 0), scene.frames - 1)
        self._caption = caption
        self._changed()

    # --- camera --------------------------------------------------------------------------------
    def camera(self) -> Camera:
        """The current camera (azimuth, elevation in degrees; zoom)."""
        return self._camera

    def set_camera(self, camera: Camera) -> None:
        """Look from ``camera``."""
        if camera != self._camera:
            self._camera = camera
            self._changed()
            self.camera_changed.emit(camera)

    def orbit(self, d_azimuth_deg: float, d_elevation_deg: float) -> None:
        """Turn the camera around the signer by ``d_azimuth_deg`` (positive: towards the signer's
        left) and raise it by ``d_elevation_deg`` degrees."""
        self.set_camera(self._camera.orbit(d_azimuth_deg, d_elevation_deg))

    def zoom(self, factor: float) -> None:
        """Magnify by ``factor`` (> 1 closer, < 1 farther; kept within the renderer's range)."""
        self.set_camera(self._camera.zoomed(factor))

    def reset_view(self) -> None:
        """The first view: from the front (slightly turned), the whole figure in sight."""
        self.set_camera(Camera())

    # --- hands ---------------------------------------------------------------------------------
    def hands_close_up(self) -> bool:
        """True while close-ups of both hands are shown."""
        return self._hands

    def set_hands_close_up(self, on: bool) -> None:
        """Show (or hide) close-ups of both hands beside the signer."""
        on = bool(on)
        if self.hands_button.isChecked() != on:
            self.hands_button.setChecked(on)  # comes back here through toggled
            return
        if on != self._hands:
            self._hands = on
            self._changed()
            self.hands_toggled.emit(on)

    # --- the image -----------------------------------------------------------------------------
    def render_size(self) -> tuple[int, int]:
        """``(width, height)`` in device pixels of the image the canvas shows."""
        ratio = self.canvas.devicePixelRatioF()
        return (max(int(round(self.canvas.width() * ratio)), 16),
                max(int(round(self.canvas.height() * ratio)), 16))

    def image(self) -> np.ndarray | None:
        """The image shown now, ``(H, W, 3)`` uint8 RGB, rendered if out of date (``None``
        without a pose)."""
        if self.scene is None:
            return None
        size = self.render_size()
        if self._dirty or self._image is None or self._image.shape[1::-1] != size:
            self._image = render(self.scene, self._frame, self._camera, size, hands=self._hands,
                                 caption=self._caption, show_caption=self._band)
            self._qimage_cache = None
            self._dirty = False
        return self._image

    def _qimage(self) -> QImage | None:
        image = self.image()
        if image is None:
            return None
        if self._qimage_cache is None:
            h, w, _ = image.shape
            qimage = QImage(image.data, w, h, 3 * w, QImage.Format.Format_RGB888)
            qimage.setDevicePixelRatio(self.canvas.devicePixelRatioF())
            self._qimage_cache = qimage  # shares image's memory: self._image keeps it alive
        return self._qimage_cache

    def _changed(self) -> None:
        self._dirty = True
        self.canvas.update()

    # --- chrome --------------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_hint()

    def _update_chrome(self) -> None:
        showing = self.scene is not None
        if showing:
            self.stack.setCurrentWidget(self.canvas)
        else:
            self.placeholder_label.setText(self._placeholder)
            self.stack.setCurrentWidget(self.placeholder_label)
        self.reset_button.setEnabled(showing)
        self.hands_button.setEnabled(showing)
        self._showing = showing
        styles = self.scene.styles if self.scene is not None else frozenset()
        entries = [(STYLE_COLORS[s], label) for s, label in LEGEND if s in styles]
        self.legend_label.setText("&nbsp;&nbsp;&nbsp;".join(
            f"<span style='color:{_hex(c)}; font-size:large'>●</span>&nbsp;{label}"
            for c, label in entries))
        self._fit_hint()

    def _fit_hint(self) -> None:
        """Show the mouse hint only when it fits beside the colour key whole."""
        needed = (self.legend_label.sizeHint().width() + self.reset_button.sizeHint().width()
                  + self.hands_button.sizeHint().width()
                  + self.hint_label.fontMetrics().horizontalAdvance(self.hint_label.text()) + 48)
        self.hint_label.setVisible(self._showing and self.width() >= needed)
