"""Draw one frame of a :class:`~signstudio.pose.scene.SkeletonScene` as an RGB image (OpenCV).

The one renderer of SignStudio's signer: the Produce tab's 3D view shows its images and every
``.mp4``/``.gif`` export is made of them, so the window and the files look the same, and neither
needs OpenGL, a GPU or an X server. No Qt here.

How a frame is drawn (:func:`render`): the scene's points are turned by the :class:`Camera`
(azimuth about the vertical axis, elevation), projected with a mild perspective (the camera
:data:`CAMERA_DISTANCE` figure units away) and fitted into the image. Every element (a bone, a
joint, the palm of a hand, the torso, the neck, the head) is one item with a depth; items are
drawn farthest first (painter's algorithm), so a hand in front of the face covers it. Bones are
shaded tubes: a dark outline, the part's colour, a light streak along the top; their thickness is
a fixed fraction of the figure, grows with nearness (perspective) and a farther bone is also
darker (:data:`FAR_DARKEN`). The head is the filled outline of the face with its contours (or an
oval around the nose for layouts without a face), joined to the shoulders by a neck.

Optional: close-ups of both hands in a column on the right (each hand drawn again, centred and
scaled to fill its box, from the same camera angle) and a caption band at the bottom (the gloss
being signed and, when fingerspelling, the letters with the current one highlighted; see
:mod:`signstudio.pose.caption`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from signstudio.pose.caption import Caption, draw_caption, draw_label
from signstudio.pose.scene import Hand, SkeletonScene

#: Colours (RGB) of the background, of each part style, and of the surfaces.
BACKGROUND = (247, 248, 250)
STYLE_COLORS = {
    "body": (38, 96, 178),
    "left_hand": (232, 118, 0),
    "right_hand": (200, 24, 128),
    "face": (72, 78, 88),
    "features": (72, 78, 88),
    "other": (38, 140, 71),
}
HEAD_FILL = (242, 232, 220)
TORSO_FILL = (222, 231, 244)
INSET_BACKGROUND = (255, 255, 255)
INSET_BORDER = (205, 211, 219)
#: Thickness of a bone of each style, in figure units (the figure is about 2 units tall).
STYLE_WIDTHS = {"body": 0.085, "left_hand": 0.036, "right_hand": 0.036, "face": 0.012,
                "features": 0.016, "other": 0.04}
#: A joint of each style: its dot's radius as a fraction of the bone's thickness.
JOINT_RADIUS = {"body": 0.62, "left_hand": 0.72, "right_hand": 0.72, "other": 0.8}
#: Thickness of the neck as a fraction of the shoulder width.
NECK_WIDTH = 0.26
#: The camera's distance from the figure's centre (figure units): small enough to show depth.
CAMERA_DISTANCE = 6.0
#: The farthest item is drawn this much darker (0: no depth shading) and this much thinner.
FAR_DARKEN, FAR_THIN = 0.35, 0.25
#: Free border around the figure, as a fraction of the drawing area.
MARGIN = 0.04
#: The first camera: from the front, slightly from the signer's left and above.
DEFAULT_AZIMUTH = 12.0
DEFAULT_ELEVATION = 6.0
ZOOM_RANGE = (0.3, 8.0)
#: Hand close-ups: the hand's size (its box's largest side, which a turned hand may exceed on
#: screen) fills this fraction of its box, below a label taking this fraction; bones at most as
#: thick as with a hand this many box sides tall.
INSET_FILL, INSET_LABEL, INSET_THICKNESS = 0.8, 0.1, 0.8


@dataclass(frozen=True)
class Camera:
    """Where the figure is seen from.

    Attributes:
        azimuth: degrees about the vertical axis; 0 is straight in front of the signer, positive
            moves the camera towards the signer's left (the right of the image).
        elevation: degrees above the signer's chest height (-89..89).
        zoom: magnification of the fitted figure (1: the whole figure fits, with a margin).
    """

    azimuth: float = DEFAULT_AZIMUTH
    elevation: float = DEFAULT_ELEVATION
    zoom: float = 1.0

    def orbit(self, d_azimuth: float, d_elevation: float) -> "Camera":
        """This camera turned by ``d_azimuth`` and raised by ``d_elevation`` degrees (the elevation
        stays within -89..89, the azimuth within -180..180)."""
        azimuth = (self.azimuth + float(d_azimuth) + 180.0) % 360.0 - 180.0
        elevation = min(max(self.elevation + float(d_elevation), -89.0), 89.0)
        return replace(self, azimuth=azimuth, elevation=elevation)

    def zoomed(self, factor: float) -> "Camera":
        """This camera with its zoom multiplied by ``factor`` (kept within :data:`ZOOM_RANGE`)."""
        if not factor > 0:
            raise ValueError(f"a zoom factor must be positive, got {factor}")
        zoom = min(max(self.zoom * float(factor), ZOOM_RANGE[0]), ZOOM_RANGE[1])
        return replace(self, zoom=zoom)

    def rotation(self) -> np.ndarray:
        """(3, 3) matrix from view coordinates to (screen right, depth away, screen up)."""
        a, e = math.radians(self.azimuth), math.radians(self.elevation)
        return np.array([[math.cos(a), math.sin(a), 0.0],
                         [-math.sin(a) * math.cos(e), math.cos(a) * math.cos(e), -math.sin(e)],
                         [-math.sin(a) * math.sin(e), math.cos(a) * math.sin(e), math.cos(e)]])


@dataclass(frozen=True)
class Layout:
    """Where the parts of an image go: ``(x, y, width, height)`` in pixels."""

    figure: tuple[int, int, int, int]
    insets: tuple[tuple[int, int, int, int], ...]
    band: tuple[int, int, int, int] | None


def layout(width: int, height: int, *, hands: bool = False, caption: bool = False) -> Layout:
    """The figure's area, the hand close-ups' boxes (a column on the right, two stacked boxes,
    at most a third of the width) and the caption band (the bottom ~11 %, 24-90 px)."""
    band_h = int(round(min(max(height * 0.11, 24), 90))) if caption else 0
    band_h = min(band_h, height // 2)
    top = height - band_h
    insets: tuple = ()
    column = 0
    if hands:
        column = max(min(top // 2, width // 3), 0)
        half = top // 2
        insets = ((width - column, 0, column, half), (width - column, half, column, top - half))
    band = (0, top, width, band_h) if band_h else None
    return Layout((0, 0, width - column, top), insets, band)


@dataclass(frozen=True)
class Projection:
    """A frame's points on the image: ``xy`` (J, 2) pixels, ``depth`` (J,) figure units from the
    figure's centre (larger is farther), ``scale`` pixels per figure unit at the centre; and how
    to project other points the same way (:meth:`at`)."""

    xy: np.ndarray
    depth: np.ndarray
    scale: float
    centre: np.ndarray
    rotation: np.ndarray
    origin: tuple[float, float]

    def at(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) pixels of other points (N, 3) in view coordinates (e.g. the neck's ends)."""
        return _project(points, self.centre, self.rotation, self.origin, self.scale)[0]


def _project(points: np.ndarray, centre: np.ndarray, rot: np.ndarray, origin: tuple[float, float],
             scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cam = (np.asarray(points, np.float64) - centre) @ rot.T
    near = CAMERA_DISTANCE / np.maximum(CAMERA_DISTANCE + cam[:, 1], 0.2 * CAMERA_DISTANCE)
    xy = np.empty((len(cam), 2))
    xy[:, 0] = origin[0] + scale * near * cam[:, 0]
    xy[:, 1] = origin[1] - scale * near * cam[:, 2]
    return xy, cam[:, 1], near


def _fit(scene: SkeletonScene, rot: np.ndarray, area: tuple[int, int, int, int],
         zoom: float) -> tuple[np.ndarray, tuple[float, float], float, float]:
    """Centre, origin (px), scale (px per unit) and depth half-range fitting the figure."""
    lo, hi = scene.bounds.astype(np.float64)
    centre = (lo + hi) / 2
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                        for z in (lo[2], hi[2])]) - centre
    cam = corners @ rot.T
    half_w = max(float(np.abs(cam[:, 0]).max()), 1e-6)
    half_h = max(float(np.abs(cam[:, 2]).max()), 1e-6)
    x, y, w, h = area
    scale = min(w / (2 * half_w), h / (2 * half_h)) * (1 - 2 * MARGIN) * zoom
    return centre, (x + w / 2.0, y + h / 2.0), scale, max(float(np.abs(cam[:, 1]).max()), 1e-6)


def project(scene: SkeletonScene, frame: int, camera: Camera | None = None,
            size: tuple[int, int] = (512, 512), *, hands: bool = False,
            caption: bool = False) -> Projection:
    """Where :func:`render` puts every point of ``frame`` (same arguments; for tests and tools).

    Raises:
        IndexError: ``frame`` is outside the scene.
    """
    camera = camera or Camera()
    rot = camera.rotation()
    area = layout(int(size[0]), int(size[1]), hands=hands, caption=caption).figure
    centre, origin, scale, _depth_range = _fit(scene, rot, area, camera.zoom)
    xy, depth, _near = _project(scene.positions[frame], centre, rot, origin, scale)
    return Projection(xy, depth, scale, centre, rot, origin)


def render(scene: SkeletonScene, frame: int, camera: Camera | None = None,
           size: tuple[int, int] = (512, 512), *, hands: bool = False,
           caption: Caption | None = None, show_caption: bool | None = None) -> np.ndarray:
    """Draw ``frame`` of ``scene``.

    Args:
        scene: from :func:`signstudio.pose.scene.build_scene`.
        frame: frame index (``0 <= frame < scene.frames``).
        camera: the view (default :class:`Camera()`).
        size: ``(width, height)`` of the image in pixels (each at least 16).
        hands: add close-ups of both hands in a column on the right.
        caption: the text of the caption band (``None``: an empty band if ``show_caption``).
        show_caption: keep a caption band (default: when ``caption`` is given). A player passes
            True for every frame of a production so the figure does not jump between signs.

    Returns:
        ``(height, width, 3)`` uint8 RGB image.

    Raises:
        ValueError: a size under 16 px. IndexError: ``frame`` outside the scene.
    """
    import cv2

    width, height = int(size[0]), int(size[1])
    if width < 16 or height < 16:
        raise ValueError(f"an image of {width} x {height} px is too small (at least 16 x 16)")
    if not 0 <= frame < scene.frames:
        raise IndexError(f"frame {frame} is outside the pose's {scene.frames} frames")
    camera = camera or Camera()
    show_caption = caption is not None if show_caption is None else bool(show_caption)
    parts = layout(width, height, hands=hands, caption=show_caption)
    image = np.empty((height, width, 3), np.uint8)
    image[:] = BACKGROUND
    rot = camera.rotation()
    centre, origin, scale, depth_range = _fit(scene, rot, parts.figure, camera.zoom)
    items = _figure_items(scene, frame, centre, rot, origin, scale, depth_range)
    _draw_items(cv2, image, items)
    for box, hand in zip(parts.insets, _inset_order(scene.hands)):
        _draw_inset(cv2, image, scene, frame, hand, box, rot)
    if parts.band is not None:
        draw_caption(image, parts.band, caption)
    return image


# ------------------------------------------------------------------------------------------------
# items: (depth, kind, payload); drawn farthest first
def _shade(color: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    k = 1.0 - FAR_DARKEN * min(max(t, 0.0), 1.0)
    return tuple(int(c * k) for c in color)


def _figure_items(scene: SkeletonScene, frame: int, centre: np.ndarray, rot: np.ndarray,
                  origin: tuple[float, float], scale: float, depth_range: float,
                  only: Hand | None = None, thickness: float | None = None) -> list[tuple]:
    """Every drawable item of ``frame`` (``only``: that hand's items alone). Bones are
    ``thickness`` (default ``scale``) pixels per figure unit of :data:`STYLE_WIDTHS` thick."""
    xy, depth, near = _project(scene.positions[frame], centre, rot, origin, scale)
    vis = scene.visible[frame]

    def far(d: float) -> float:  # 0 nearest .. 1 farthest
        return 0.5 + 0.5 * d / depth_range

    items: list[tuple] = []
    hand_styles = {h.style: h for h in scene.hands}
    for group in scene.groups:
        if only is not None and group.style != only.style:
            continue
        color = STYLE_COLORS.get(group.style, STYLE_COLORS["other"])
        width = STYLE_WIDTHS.get(group.style, STYLE_WIDTHS["other"]) * (thickness or scale)
        flat = group.style in ("face", "features")
        for a, b in zip(group.a, group.b):
            if not (vis[a] and vis[b]):
                continue
            d = float(depth[a] + depth[b]) / 2
            t = far(d)
            w = width * float(near[a] + near[b]) / 2 * (1 - FAR_THIN * t)
            kind = "flat" if flat else "bone"
            items.append((d, kind, (xy[a], xy[b], w, _shade(color, t))))
        radius = JOINT_RADIUS.get(group.style)
        if radius is not None:
            for j in group.joints:
                if vis[j]:
                    t = far(float(depth[j]))
                    r = radius * width * float(near[j]) * (1 - FAR_THIN * t)
                    items.append((float(depth[j]) - 1e-4, "joint", (xy[j], r, _shade(color, t))))
        hand = hand_styles.get(group.style)
        if hand is not None and len(hand.palm) and vis[hand.palm].all():
            d = float(depth[hand.palm].mean())
            fill = tuple(int(c + (255 - c) * 0.62) for c in color)
            items.append((d + 0.02, "poly", (xy[hand.palm], _shade(fill, far(d) * 0.5),
                                             _shade(color, far(d)), 1.0)))
    if only is not None:
        return items
    if len(scene.torso) and vis[scene.torso].all():
        d = float(depth[scene.torso].mean()) + 0.08
        items.append((d, "poly", (xy[scene.torso], TORSO_FILL, None, 0.0)))
    if scene.head_visible[frame]:
        hxy, hdepth, hnear = _project(scene.head_centre[frame][None], centre, rot, origin, scale)
        d = float(hdepth[0])
        outline = max(1.5, 0.012 * scale)
        if scene.neck_visible[frame]:
            nxy, ndepth, nnear = _project(scene.neck[frame], centre, rot, origin, scale)
            w = NECK_WIDTH * scene.shoulder_width * scale * float(nnear.mean())
            items.append((d + 0.01, "bone", (nxy[0], nxy[1], w, _shade(HEAD_FILL, 0.3))))
        if len(scene.face):
            face = scene.face[vis[scene.face]]
            if len(face) >= 3:
                items.append((d, "hull", (xy[face], HEAD_FILL, STYLE_COLORS["face"], outline)))
        else:
            rx, ry = (s * scale * float(hnear[0]) for s in scene.head_size)
            items.append((d, "ellipse", (hxy[0], (rx, ry), HEAD_FILL, STYLE_COLORS["face"],
                                         outline)))
        # The face's contours lie on the head: just in front of it, behind anything nearer.
        items = [(d - 1e-3 if k == "flat" else dd, k, p) for dd, k, p in items]
    return items


def _fixed(point) -> tuple[int, int]:
    """Pixel coordinates as OpenCV's 4-bit fixed point (``shift=4``): sub-pixel positions."""
    return int(round(float(point[0]) * 16)), int(round(float(point[1]) * 16))


def _darker(color, k: float = 0.55) -> tuple[int, int, int]:
    return tuple(int(c * k) for c in color)


def _lighter(color, k: float = 0.45) -> tuple[int, int, int]:
    return tuple(int(c + (255 - c) * k) for c in color)


def _draw_items(cv2, image: np.ndarray, items: list[tuple]) -> None:
    aa = cv2.LINE_AA
    for _depth, kind, p in sorted(items, key=lambda item: -item[0]):
        if kind == "bone":
            a, b, w, color = p
            w = max(float(w), 1.0)
            pa, pb = _fixed(a), _fixed(b)
            edge = max(1, int(round(w * 0.14)))
            cv2.line(image, pa, pb, _darker(color), int(round(w)) + 2 * edge, aa, 4)
            cv2.line(image, pa, pb, color, max(1, int(round(w))), aa, 4)
            if w >= 5:  # a light streak along the top: the tube catches light from above
                off = np.array([0.0, -0.2 * w])
                cv2.line(image, _fixed(a + off), _fixed(b + off), _lighter(color),
                         max(1, int(round(w * 0.28))), aa, 4)
        elif kind == "flat":
            a, b, w, color = p
            cv2.line(image, _fixed(a), _fixed(b), color, max(1, int(round(w))), aa, 4)
        elif kind == "joint":
            c, r, color = p
            r = max(float(r), 1.0)
            cv2.circle(image, _fixed(c), int(round(r * 16)), _darker(color, 0.7), -1, aa, 4)
            cv2.circle(image, _fixed(c), int(round(r * 0.62 * 16)), color, -1, aa, 4)
        elif kind in ("poly", "hull"):
            pts, fill, outline, w = p
            pts = np.asarray(pts, np.float64)
            if kind == "hull":
                pts = cv2.convexHull(pts.astype(np.float32))[:, 0]
            fixed = np.round(pts * 16).astype(np.int32).reshape(-1, 1, 2)
            cv2.fillPoly(image, [fixed], fill, aa, 4)
            if outline is not None and w > 0:
                cv2.polylines(image, [fixed], True, outline, max(1, int(round(w))), aa, 4)
        elif kind == "ellipse":
            c, (rx, ry), fill, outline, w = p
            axes = (int(round(rx * 16)), int(round(ry * 16)))
            cv2.ellipse(image, _fixed(c), axes, 0, 0, 360, fill, -1, aa, 4)
            cv2.ellipse(image, _fixed(c), axes, 0, 0, 360, outline, max(1, int(round(w))), aa, 4)


# ------------------------------------------------------------------------------------------------
# hand close-ups
def _inset_order(hands: tuple[Hand, ...]) -> list[Hand | None]:
    """The signer's right hand in the upper box, the left in the lower (None where absent)."""
    by_style = {h.style: h for h in hands}
    return [by_style.get("right_hand"), by_style.get("left_hand")]


def _draw_inset(cv2, image: np.ndarray, scene: SkeletonScene, frame: int, hand: Hand | None,
                box: tuple[int, int, int, int], rot: np.ndarray) -> None:
    x, y, w, h = box
    if w < 8 or h < 8:
        return
    pad = max(2, min(w, h) // 40)
    inner = (x + pad, y + pad, w - 2 * pad, h - 2 * pad)
    ix, iy, iw, ih = inner
    image[iy:iy + ih, ix:ix + iw] = INSET_BACKGROUND
    cv2.rectangle(image, (ix, iy), (ix + iw - 1, iy + ih - 1), INSET_BORDER, 1, cv2.LINE_AA)
    label = "right hand" if hand is None or hand.style == "right_hand" else "left hand"
    seen = hand is not None and scene.visible[frame, hand.index].sum() >= 3
    if seen:
        vis = scene.visible[frame, hand.index]
        points = scene.positions[frame, hand.index[vis]].astype(np.float64)
        centre = (points.min(axis=0) + points.max(axis=0)) / 2
        extent = float(hand.extent[frame])
        side = min(iw, ih)
        scale = INSET_FILL * side / extent
        # Below the label; a fist fills the box as a spread hand does, its fingers not thicker.
        origin = (iw / 2.0, ih / 2.0 + INSET_LABEL * side / 2)
        items = _figure_items(scene, frame, centre, rot, origin, scale, extent / 2, only=hand,
                              thickness=min(scale, INSET_THICKNESS * side))
        inset = np.ascontiguousarray(image[iy:iy + ih, ix:ix + iw])  # OpenCV draws in place
        _draw_items(cv2, inset, items)
        image[iy:iy + ih, ix:ix + iw] = inset
    draw_label(image, inner, label, faded=not seen)
    if not seen:
        draw_label(image, inner, "not in view", faded=True, centred=True)
