"""A 3D skeleton viewer for any pose-format pose: :class:`Skeleton3DView` (pyqtgraph.opengl).

The geometry is computed once per pose by :func:`build_scene` (NumPy only, no Qt): which points
and bones to draw (from the header's components and limbs, through
:func:`signstudio.gui.skeleton.skeleton_from_components`: world landmarks dropped, the face mesh
reduced to its contours, body points that repeat the face or the fingers hidden), and every
frame's points mapped to view coordinates — centred, scaled to a figure about 2 units tall, the
image's y axis flipped so the signer stands upright. Per frame the view only indexes those arrays.

View axes: x to the signer's left on screen (image x), z up (image -y), y away from the camera
(the pose's depth). Poses in pixels with MediaPipe's normalised depth (``z`` about the size of
``x / width``) get their depth converted to pixels and, where the names allow it, each hand is
anchored to the body's wrist and the face to the nose (MediaPipe gives hand and face depth
relative to the wrist and the face centre).

pyqtgraph's GL items blend additively by default, which is invisible on a light background: every
item here uses ``glOptions='translucent'``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QSizePolicy, QStackedWidget, QToolButton,
                               QVBoxLayout, QWidget)

from signstudio.gui.skeleton import skeleton_from_components

#: Background of the 3D view (light: the figure's colours are dark enough to read on it).
BACKGROUND = QColor(247, 248, 250)

#: Colours (RGBA 0-1) and line widths by part style, chosen to read on :data:`BACKGROUND`.
STYLE_COLORS = {
    "body": (0.12, 0.35, 0.68, 1.0),
    "left_hand": (0.92, 0.47, 0.02, 1.0),
    "right_hand": (0.80, 0.10, 0.52, 1.0),
    "face": (0.42, 0.45, 0.50, 0.9),
    "other": (0.15, 0.55, 0.28, 1.0),
}
STYLE_WIDTHS = {"body": 4.0, "left_hand": 2.6, "right_hand": 2.6, "face": 1.5, "other": 2.5}
STYLE_DOT_SIZES = {"body": 9.0, "left_hand": 6.0, "right_hand": 6.0, "face": 2.5, "other": 6.0}
#: Legend entries: (style, label), shown for the styles a pose has.
LEGEND = (("body", "body"), ("left_hand", "left hand"), ("right_hand", "right hand"),
          ("face", "face"))

#: MediaPipe Pose points 25-32 (knees, ankles, heels, toes): outside a signer's frame, guessed.
MEDIAPIPE_LEG_POINTS = frozenset(range(25, 33))
#: MediaPipe's depth (in image widths) is exaggerated, the nose and wrists far ahead of the
#: shoulders: scaled by this it puts the nose about 10 cm and signing hands 15-30 cm in front.
DEPTH_SCALE = 0.2
#: Height of the figure in view units (the camera distance is fitted to it).
FIGURE_SIZE = 2.0
#: Field of view of the camera (pyqtgraph's horizontal fov, degrees); narrow = little distortion.
FOV = 35.0
#: The initial camera: slightly from the signer's right and above, so the depth is visible.
DEFAULT_ELEVATION = 8.0
DEFAULT_AZIMUTH = -78.0


# ------------------------------------------------------------------------------------------------
# geometry (no Qt)
@dataclass(frozen=True)
class LineGroup:
    """Bones drawn in one colour and width: pairs ``(a[k], b[k])`` of flat point indices."""

    style: str
    a: np.ndarray
    b: np.ndarray
    color: tuple[float, float, float, float]
    width: float


@dataclass
class SkeletonScene:
    """A pose's drawable geometry in view coordinates, computed once by :func:`build_scene`.

    Attributes:
        positions: (T, J, 3) float32 view coordinates of every point of the pose.
        visible: (T, J) bool; points with confidence 0 (or not finite) are not drawn.
        groups: the bones, one group per part.
        dot_index: (P,) flat indices of the points drawn as dots, with ``dot_color`` (P, 4) and
            ``dot_size`` (P,) in pixels.
        floor: the lowest height (view z) of the figure, for the floor grid.
        styles: the part styles present ("body", "left_hand", ...).
        notes: remarks about the conversion (e.g. "depth converted from image widths").
    """

    positions: np.ndarray
    visible: np.ndarray
    groups: tuple[LineGroup, ...]
    dot_index: np.ndarray
    dot_color: np.ndarray
    dot_size: np.ndarray
    floor: float
    styles: frozenset[str]
    notes: tuple[str, ...] = ()

    @property
    def frames(self) -> int:
        """Number of frames."""
        return int(self.positions.shape[0])

    def lines(self, frame: int, group: LineGroup) -> np.ndarray:
        """(2K, 3) vertex pairs of ``group``'s bones at ``frame`` whose both ends are visible."""
        vis = self.visible[frame]
        keep = vis[group.a] & vis[group.b]
        pos = self.positions[frame]
        out = np.empty((int(keep.sum()) * 2, 3), np.float32)
        out[0::2] = pos[group.a[keep]]
        out[1::2] = pos[group.b[keep]]
        return out

    def dots(self, frame: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(positions (N, 3), colours (N, 4), sizes (N,))`` of the visible dots at ``frame``."""
        keep = self.visible[frame][self.dot_index]
        idx = self.dot_index[keep]
        return self.positions[frame][idx], self.dot_color[keep], self.dot_size[keep]


def _first_person(array: Any) -> np.ndarray:
    """``(T, P, J, ...)`` pose-format data (masked or not) → float (T, J, ...) of person 0."""
    if isinstance(array, np.ma.MaskedArray):
        array = array.filled(0)
    array = np.asarray(array, dtype=np.float32)
    return array[:, 0] if array.ndim >= 3 else array


def _name_index(components: list, styles: list[str | None]) -> dict[tuple[str, str], int]:
    """Flat index of each (style, POINT_NAME) pair."""
    index, offset = {}, 0
    for comp, style in zip(components, styles):
        for i, name in enumerate(comp.points):
            if style is not None:
                index.setdefault((style, str(name).upper()), offset + i)
        offset += len(comp.points)
    return index


def build_scene(pose: Any) -> SkeletonScene:
    """The drawable geometry of a pose-format ``Pose`` (any header), for :class:`Skeleton3DView`.

    Raises:
        ValueError: the pose holds no frames or no drawable point.
    """
    header = pose.header
    components = list(header.components)
    skeleton = skeleton_from_components(components)
    data = _first_person(pose.body.data)  # (T, J, D)
    if data.ndim != 3 or data.shape[0] == 0:
        raise ValueError("the pose holds no frames")
    conf = _first_person(pose.body.confidence)  # (T, J)
    frames, joints, dims = data.shape
    xyz = np.zeros((frames, joints, 3), np.float32)
    xyz[..., : min(dims, 3)] = data[..., :3]
    visible = (conf[:, :joints] > 0) & np.isfinite(xyz).all(axis=-1)
    xyz[~np.isfinite(xyz)] = 0.0

    # Which points and bones are drawn.
    groups: list[LineGroup] = []
    dot_idx: list[int] = []
    dot_style: list[str] = []
    drawn = np.zeros(joints, bool)
    for part in skeleton.parts:
        hidden = set(part.hidden)
        if part.style == "body" and part.count == 33:
            hidden |= MEDIAPIPE_LEG_POINTS
        limbs = [(a, b) for a, b in part.limbs
                 if a < part.count and b < part.count and a not in hidden and b not in hidden]
        if part.style == "face":
            if limbs:
                points = sorted({i for pair in limbs for i in pair})
            else:  # a face with no contours: a sparse sample of its points
                step = max(1, part.count // 60)
                points = list(range(0, part.count, step))
        else:
            points = [i for i in range(part.count) if i not in hidden]
        points = [i for i in points if part.offset + i < joints]
        limbs = [(a, b) for a, b in limbs if part.offset + max(a, b) < joints]
        if limbs:
            a = np.array([part.offset + x for x, _ in limbs], dtype=np.intp)
            b = np.array([part.offset + y for _, y in limbs], dtype=np.intp)
            groups.append(LineGroup(part.style, a, b, STYLE_COLORS.get(part.style,
                                                                       STYLE_COLORS["other"]),
                                    STYLE_WIDTHS.get(part.style, 2.5)))
        for i in points:
            dot_idx.append(part.offset + i)
            dot_style.append(part.style)
            drawn[part.offset + i] = True
        for a_, b_ in limbs:
            drawn[part.offset + a_] = drawn[part.offset + b_] = True
    if not skeleton.parts:  # an unknown layout: every point, as dots
        dot_idx = list(range(joints))
        dot_style = ["other"] * joints
        drawn[:] = True
    if not drawn.any():
        raise ValueError("the pose has no point to draw")

    sample = visible & drawn[None, :]
    if not sample.any():
        sample = drawn[None, :].repeat(frames, axis=0)
    pts = xyz[sample]
    lo = np.percentile(pts, 1, axis=0)
    hi = np.percentile(pts, 99, axis=0)
    span = hi - lo
    xy_span = float(max(span[0], span[1]))

    # Pixels with MediaPipe's depth (a fraction of the image width): depth to pixels, anchored.
    notes: list[str] = []
    if dims >= 3 and xy_span > 20.0 and float(np.percentile(np.abs(pts[:, 2]), 99)) < 5.0:
        width = float(getattr(header.dimensions, "width", 0) or 0) or xy_span
        xyz[..., 2] *= width * DEPTH_SCALE
        _anchor_depths(xyz, visible, components, skeleton)
        notes.append("depth converted from image widths")
        pts = xyz[sample]
        lo = np.percentile(pts, 1, axis=0)
        hi = np.percentile(pts, 99, axis=0)
        span = hi - lo
    centre = (lo + hi) / 2.0
    scale = FIGURE_SIZE / max(float(max(span[0], span[1])), 1e-6)
    view = np.empty_like(xyz)
    view[..., 0] = (xyz[..., 0] - centre[0]) * scale
    view[..., 1] = (xyz[..., 2] - centre[2]) * scale
    view[..., 2] = -(xyz[..., 1] - centre[1]) * scale
    floor = float(np.percentile(view[sample][:, 2], 1)) if sample.any() else -1.0

    idx = np.array(dot_idx, dtype=np.intp)
    colors = np.array([STYLE_COLORS.get(s, STYLE_COLORS["other"]) for s in dot_style],
                      dtype=np.float32).reshape(-1, 4)
    sizes = np.array([STYLE_DOT_SIZES.get(s, 6.0) for s in dot_style], dtype=np.float32)
    styles = frozenset(p.style for p in skeleton.parts) or frozenset({"other"})
    return SkeletonScene(view.astype(np.float32), visible, tuple(groups), idx, colors, sizes,
                         floor, styles, tuple(notes))


def _anchor_depths(xyz: np.ndarray, visible: np.ndarray, components: list, skeleton) -> None:
    """Shift each hand's depth to its body wrist and the face's to the nose (MediaPipe)."""
    styles = [None] * len(components)
    by_name = {p.name: p for p in skeleton.parts}
    for i, comp in enumerate(components):
        part = by_name.get(comp.name)
        styles[i] = part.style if part is not None else None
    names = _name_index(components, styles)
    for part in skeleton.parts:
        if part.style in ("left_hand", "right_hand"):
            side = "LEFT" if part.style == "left_hand" else "RIGHT"
            target = names.get(("body", f"{side}_WRIST"))
            anchor = names.get((part.style, "WRIST"), part.offset)
        elif part.style == "face":
            target = names.get(("body", "NOSE"))
            anchor = None
        else:
            continue
        if target is None:
            continue
        sl = slice(part.offset, part.offset + part.count)
        if anchor is None:
            vis = visible[:, sl]
            counts = np.maximum(vis.sum(axis=1), 1)
            source = (xyz[:, sl, 2] * vis).sum(axis=1) / counts
            ok = vis.any(axis=1) & visible[:, target]
        else:
            source = xyz[:, anchor, 2]
            ok = visible[:, anchor] & visible[:, target]
        shift = np.where(ok, xyz[:, target, 2] - source, 0.0).astype(np.float32)
        xyz[:, sl, 2] += shift[:, None]


# ------------------------------------------------------------------------------------------------
# the widget
def gl_available() -> bool:
    """True if pyqtgraph.opengl (and PyOpenGL) can be imported."""
    try:
        import pyqtgraph.opengl  # noqa: F401
    except Exception:  # noqa: BLE001 - PyOpenGL missing or broken: the view says so
        return False
    return True


def _rgb(color: tuple[float, ...]) -> str:
    return "#%02x%02x%02x" % tuple(int(round(c * 255)) for c in color[:3])


class Skeleton3DView(QWidget):
    """Shows one frame of a pose as a 3D skeleton the user can turn (drag) and zoom (wheel).

    A strip above the view holds the colour key, a hint and a "Reset view" button. Before a pose
    is set (or when OpenGL is unavailable) a placeholder text is shown instead.

    Args:
        use_gl: build the OpenGL view (default: when pyqtgraph.opengl imports). With False the
            view keeps its geometry and frame index but draws nothing (a placeholder label).
    """

    def __init__(self, parent: QWidget | None = None, use_gl: bool | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.scene: SkeletonScene | None = None
        self._frame = 0
        self._placeholder = ""
        self._gl = None
        self._line_items: list = []
        self._dots = None
        self._grid = None
        self._auto_distance = 0.0
        self._showing = False
        use_gl = gl_available() if use_gl is None else bool(use_gl)

        self.legend_label = QLabel("")
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setAccessibleName("Colour key")
        self.legend_label.setToolTip("Left and right are the signer's own hands")
        self.hint_label = QLabel("Drag to turn · wheel to zoom")
        self.hint_label.setStyleSheet("color: #6b7480;")
        self.hint_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # In a narrow window the hint gives way; the colour key stays whole.
        self.hint_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.reset_button = QToolButton()
        self.reset_button.setText("Reset view")
        self.reset_button.setToolTip("Look at the signer from the front again")
        self.reset_button.setAutoRaise(False)
        self.reset_button.clicked.connect(self.reset_view)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.legend_label)
        bar.addWidget(self.hint_label, 1)
        bar.addSpacing(8)
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
            f"QLabel {{ background: {BACKGROUND.name()}; color: #4a525c;"
            " border: 1px solid #d9dde3; border-radius: 8px; }")

        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder_label)
        if use_gl:
            self._build_gl()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        self.setAccessibleName("3D skeleton of the signer")
        self._update_chrome()

    def _build_gl(self) -> None:
        import pyqtgraph.opengl as gl

        view = gl.GLViewWidget()
        view.setBackgroundColor(BACKGROUND)
        view.opts["fov"] = FOV
        view.setAccessibleName("3D skeleton: drag to turn, wheel to zoom")
        view.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        grid = gl.GLGridItem(color=(170, 176, 186, 110), glOptions="translucent")
        grid.setSize(4, 4)
        grid.setSpacing(0.25, 0.25)
        view.addItem(grid)
        dots = gl.GLScatterPlotItem(pos=np.zeros((1, 3), np.float32), size=1.0, pxMode=True,
                                    glOptions="translucent")
        dots.setVisible(False)
        view.addItem(dots)
        self._gl, self._grid, self._dots = view, grid, dots
        self.stack.addWidget(view)

    # --- state ---------------------------------------------------------------------------------
    def has_gl(self) -> bool:
        """True if this view draws with OpenGL (False: placeholder only)."""
        return self._gl is not None

    @property
    def gl_view(self):
        """The ``GLViewWidget`` (``None`` without OpenGL)."""
        return self._gl

    def set_placeholder(self, text: str) -> None:
        """The text shown while there is no pose."""
        self._placeholder = text
        self._update_chrome()

    def set_pose(self, pose: Any, scene: SkeletonScene | None = None) -> SkeletonScene:
        """Show ``pose`` (a pose-format ``Pose``) from frame 0.

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
        if self._gl is not None:
            import pyqtgraph.opengl as gl

            for item in self._line_items:
                self._gl.removeItem(item)
            self._line_items = []
            for group in scene.groups:
                item = gl.GLLinePlotItem(pos=np.zeros((2, 3), np.float32), color=group.color,
                                         width=group.width, mode="lines", antialias=True,
                                         glOptions="translucent")
                self._gl.addItem(item)
                self._line_items.append(item)
            self._grid.resetTransform()
            self._grid.translate(0, 0, scene.floor - 0.05)
        self._update_chrome()
        self.show_frame(0)
        self.reset_view()
        return scene

    def clear(self) -> None:
        """Forget the pose; the placeholder is shown."""
        self.scene = None
        self._frame = 0
        if self._gl is not None:
            for item in self._line_items:
                self._gl.removeItem(item)
            self._line_items = []
            self._dots.setVisible(False)
        self._update_chrome()

    def frame(self) -> int:
        """The frame shown now."""
        return self._frame

    def show_frame(self, index: int) -> None:
        """Draw frame ``index`` (clamped to the pose's frames)."""
        scene = self.scene
        if scene is None:
            return
        index = min(max(int(index), 0), scene.frames - 1)
        self._frame = index
        if self._gl is None:
            return
        for item, group in zip(self._line_items, scene.groups):
            pos = scene.lines(index, group)
            if len(pos):
                item.setData(pos=pos)
            item.setVisible(len(pos) > 0)
        pos, color, size = scene.dots(index)
        if len(pos):
            self._dots.setData(pos=pos, color=color, size=size, pxMode=True)
        self._dots.setVisible(len(pos) > 0)

    def reset_view(self) -> None:
        """Front view (slightly turned), the whole figure in sight."""
        if self._gl is None:
            return
        self._auto_distance = self._fit_distance()
        self._gl.setCameraPosition(pos=_vector(0.0, 0.0, 0.0), distance=self._auto_distance,
                                   elevation=DEFAULT_ELEVATION, azimuth=DEFAULT_AZIMUTH)

    def camera(self) -> dict:
        """The camera's distance, elevation and azimuth (for tests)."""
        if self._gl is None:
            return {}
        return {k: float(self._gl.opts[k]) for k in ("distance", "elevation", "azimuth")}

    def _fit_distance(self) -> float:
        half = FIGURE_SIZE / 2.0 * 1.18  # a margin around the figure
        tan = float(np.tan(np.radians(FOV / 2.0)))
        w, h = max(self.stack.width(), 1), max(self.stack.height(), 1)
        # pyqtgraph's fov is horizontal: the vertical half-angle shrinks with the aspect ratio.
        return max(half / tan, half / (tan * h / w))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_hint()
        if self._gl is not None and self.scene is not None:
            current = float(self._gl.opts["distance"])
            if abs(current - self._auto_distance) < 1e-6:  # the user has not zoomed: keep fitted
                self._auto_distance = self._fit_distance()
                self._gl.opts["distance"] = self._auto_distance
                self._gl.update()

    def _update_chrome(self) -> None:
        showing = self.scene is not None and self._gl is not None
        if showing:
            self.stack.setCurrentWidget(self._gl)
        else:
            text = self._placeholder
            if self.scene is not None:  # a pose, but no OpenGL to draw it with
                text = ("The 3D view needs OpenGL (PyOpenGL and a display); it is not "
                        "available here.")
            elif self._gl is None and not text:
                text = "The 3D view needs OpenGL (PyOpenGL); it is not available here."
            self.placeholder_label.setText(text)
            self.stack.setCurrentWidget(self.placeholder_label)
        self.reset_button.setEnabled(showing)
        self._showing = showing
        styles = self.scene.styles if self.scene is not None else frozenset()
        entries = [(STYLE_COLORS[s], label) for s, label in LEGEND if s in styles]
        self.legend_label.setText("&nbsp;&nbsp;&nbsp;".join(
            f"<span style='color:{_rgb(c)}; font-size:large'>●</span>&nbsp;{label}"
            for c, label in entries))
        self._fit_hint()

    def _fit_hint(self) -> None:
        """Show the mouse hint only when it fits beside the colour key whole."""
        needed = (self.legend_label.sizeHint().width() + self.reset_button.sizeHint().width()
                  + self.hint_label.fontMetrics().horizontalAdvance(self.hint_label.text()) + 40)
        self.hint_label.setVisible(self._showing and self.width() >= needed)


def _vector(x: float, y: float, z: float):
    from PySide6.QtGui import QVector3D

    return QVector3D(x, y, z)
