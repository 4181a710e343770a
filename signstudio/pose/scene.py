"""The drawable 3D geometry of any pose-format pose: :func:`build_scene` → :class:`SkeletonScene`.

NumPy only (no Qt, no drawing): :mod:`signstudio.pose.draw` draws a scene for the window's 3D view
and for exported videos alike. The geometry is computed once per pose: which points and bones to
draw (from the header's components and limbs, through
:func:`signstudio.pose.limbs.skeleton_from_components`: world landmarks dropped, the face mesh
reduced to its contours, body points that repeat the face or the fingers hidden), the parts that
are not in the header but make a readable figure (a bone from each body wrist to its hand, a neck
from the shoulders to the head, the head as the outline of the face points or, with no face, an
oval around the nose, the palms and the torso as surfaces), and every frame's points mapped to view
coordinates: centred, scaled to a figure about :data:`FIGURE_SIZE` units tall, the image's y axis
flipped so the signer stands upright. Each hand is enlarged about its wrist by ``hand_scale`` so
that handshapes read at the size of a window or a video.

View axes: x to the signer's left on screen (image x), y away from the camera (the pose's depth),
z up (image -y). Poses in pixels with MediaPipe's normalised depth (``z`` about the size of
``x / width``) get their depth converted to pixels and, where the names allow it, each hand is
anchored to the body's wrist and the face to the nose (MediaPipe gives hand and face depth
relative to the wrist and the face centre). A 50-joint Progressive Transformers skeleton (SignLLM's
output) gets its hands' bones at the lengths of the real skeletons, each hand attached to its
wrist (:func:`signstudio.pose.skeletons.with_reference_bones`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from signstudio.pose.limbs import Skeleton, skeleton_from_components

#: MediaPipe Pose points 25-32 (knees, ankles, heels, toes): outside a signer's frame, guessed.
MEDIAPIPE_LEG_POINTS = frozenset(range(25, 33))
#: MediaPipe's depth (in image widths) is exaggerated, the nose and wrists far ahead of the
#: shoulders: scaled by this it puts the nose about 10 cm and signing hands 15-30 cm in front.
DEPTH_SCALE = 0.2
#: Height (or width) of the figure in view units.
FIGURE_SIZE = 2.0
#: Each hand is drawn this many times its size, about its wrist: at 512 px a real hand is ~50 px
#: tall and a fist or a fingerspelled letter is a blot; 1.5 x keeps it attached and readable.
HAND_SCALE = 1.5
#: Points of a 21-point hand (MediaPipe and OpenPose share the order): the wrist, and the palm
#: outline (wrist, thumb base, index, middle, ring and little finger knuckles).
HAND_WRIST = 0
HAND_PALM = (0, 1, 5, 9, 13, 17)
#: The head of a layout without face points, as a fraction of the shoulder width: half-width,
#: half-height, and how far its centre sits above the nose.
HEAD_HALF_WIDTH, HEAD_HALF_HEIGHT, HEAD_ABOVE_NOSE = 0.21, 0.28, 0.06

_SIDES = {"LEFT": ("LEFT_", "L"), "RIGHT": ("RIGHT_", "R")}


@dataclass(frozen=True)
class LineGroup:
    """Bones of one part: pairs ``(a[k], b[k])`` of flat point indices, and the part's joints.

    Attributes:
        style: "body", "left_hand", "right_hand", "face", "features" (a body's eyes, ears and
            mouth) or "other"; picks colour and width.
        a, b: (K,) int flat indices of each bone's ends.
        joints: (M,) int flat indices of the points drawn as joints of this part.
    """

    style: str
    a: np.ndarray
    b: np.ndarray
    joints: np.ndarray


@dataclass(frozen=True)
class Hand:
    """One hand: its style ("left_hand" is the signer's left), flat indices of its points
    ``index`` (K,), its wrist, its palm outline (flat indices, empty if not a 21-point hand) and
    ``extent``: (T,) its size per frame in view units, smoothed (for close-ups)."""

    style: str
    index: np.ndarray
    wrist: int
    palm: np.ndarray
    extent: np.ndarray


@dataclass
class SkeletonScene:
    """A pose's drawable geometry in view coordinates, computed once by :func:`build_scene`.

    Attributes:
        positions: (T, J, 3) float32 view coordinates of every point of the pose (hands enlarged).
        visible: (T, J) bool; points with confidence 0 (or not finite) are not drawn.
        groups: the bones, one group per part (a hand's group includes the bone from the body's
            wrist to the hand's wrist).
        hands: the hands (for palms and close-ups).
        face: (F,) flat indices of the face points (the head is their outline); empty if none.
        head_centre: (T, 3) the head's centre (face centre, or above the nose); ``head_visible``
            (T,) bool where it is known; ``head_size`` (half-width, half-height) in view units.
        neck: (T, 2, 3) the neck's base (the neck joint or the shoulders' midpoint) and top (the
            head's centre); ``neck_visible`` (T,) bool. ``shoulder_width`` in view units.
        torso: (4,) flat indices (left shoulder, right shoulder, right hip, left hip) or empty.
        bounds: (2, 3) low and high corners of the figure (1st/99th percentiles over all frames).
        styles: the part styles present ("body", "left_hand", ...).
        notes: remarks about the conversion (e.g. "depth converted from image widths").
    """

    positions: np.ndarray
    visible: np.ndarray
    groups: tuple[LineGroup, ...]
    hands: tuple[Hand, ...]
    face: np.ndarray
    head_centre: np.ndarray
    head_visible: np.ndarray
    head_size: tuple[float, float]
    neck: np.ndarray
    neck_visible: np.ndarray
    shoulder_width: float
    torso: np.ndarray
    bounds: np.ndarray
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


def _first_person(array: Any) -> np.ndarray:
    """``(T, P, J, ...)`` pose-format data (masked or not) → float (T, J, ...) of person 0."""
    if isinstance(array, np.ma.MaskedArray):
        array = array.filled(0)
    array = np.asarray(array, dtype=np.float32)
    return array[:, 0] if array.ndim >= 3 else array


def _name_index(components: list, skeleton: Skeleton) -> dict[tuple[str, str], int]:
    """Flat index of each (style, POINT_NAME) pair of the drawn parts."""
    by_name = {p.name: p for p in skeleton.parts}
    index, offset = {}, 0
    for comp in components:
        part = by_name.get(comp.name)
        for i, name in enumerate(comp.points):
            if part is not None:
                index.setdefault((part.style, str(name).upper()), offset + i)
        offset += len(comp.points)
    return index


def _body_point(names: dict, side: str | None, what: str) -> int | None:
    """A body point by MediaPipe (``LEFT_WRIST``) or OpenPose (``LWrist``) name."""
    if side is None:
        return names.get(("body", what))
    long, short = _SIDES[side]
    return names.get(("body", long + what), names.get(("body", short + what)))


def _skeleton_pose(pose: Any) -> tuple[Any, list[str]]:
    """A 50-joint skeleton with its hand bones at the data's lengths; other layouts unchanged."""
    from signstudio.pose.skeletons import (is_skeleton_pose, pose_to_skeleton, skels_to_pose,
                                           with_reference_bones)

    if not is_skeleton_pose(pose) or len(pose.body.data) == 0:
        return pose, []
    joints, mask = pose_to_skeleton(pose, return_mask=True)
    fixed = skels_to_pose(with_reference_bones(joints, mask), float(pose.body.fps), mask)
    return fixed, ["hand bones drawn at the skeleton's lengths"]


def build_scene(pose: Any, hand_scale: float = HAND_SCALE) -> SkeletonScene:
    """The drawable geometry of a pose-format ``Pose`` (any header).

    Args:
        pose: ``pose.body.data`` ``(T, P, J, D)`` (person 0 is drawn), ``D`` >= 2.
        hand_scale: each hand is drawn this many times its size about its wrist (1: true size).

    Raises:
        ValueError: the pose holds no frames or no drawable point.
    """
    pose, notes = _skeleton_pose(pose)
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
    names = _name_index(components, skeleton)

    groups, drawn = _groups(skeleton, joints, names)
    if not drawn.any():
        raise ValueError("the pose has no point to draw")
    sample = visible & drawn[None, :]
    if not sample.any():
        sample = drawn[None, :].repeat(frames, axis=0)
    lo, hi = _percentiles(xyz[sample])
    span = hi - lo
    xy_span = float(max(span[0], span[1]))

    # Pixels with MediaPipe's depth (a fraction of the image width): depth to pixels, anchored.
    if dims >= 3 and xy_span > 20.0 and float(np.percentile(np.abs(xyz[sample][:, 2]), 99)) < 5.0:
        width = float(getattr(header.dimensions, "width", 0) or 0) or xy_span
        xyz[..., 2] *= width * DEPTH_SCALE
        _anchor_depths(xyz, visible, skeleton, names)
        notes.append("depth converted from image widths")
        lo, hi = _percentiles(xyz[sample])
        span = hi - lo
    centre = (lo + hi) / 2.0
    scale = FIGURE_SIZE / max(float(max(span[0], span[1])), 1e-6)
    view = np.empty_like(xyz)
    view[..., 0] = (xyz[..., 0] - centre[0]) * scale
    view[..., 1] = (xyz[..., 2] - centre[2]) * scale
    view[..., 2] = -(xyz[..., 1] - centre[1]) * scale

    hands = _hands(skeleton, names, view, visible, hand_scale)
    face = np.array(sorted({int(i) for g in groups if g.style == "face" for i in g.joints}),
                    dtype=np.intp)
    shoulders = (_body_point(names, "LEFT", "SHOULDER"), _body_point(names, "RIGHT", "SHOULDER"))
    shoulder_width = _shoulder_width(view, visible, shoulders)
    head_centre, head_visible, head_size = _head(view, visible, face, names, shoulder_width)
    neck, neck_visible = _neck(view, visible, names, shoulders, head_centre, head_visible)
    nose = _body_point(names, None, "NOSE")
    if not len(face) and nose is not None:  # the oval head and the neck replace the neck-nose bone
        groups = [_without(g, nose) if g.style == "body" else g for g in groups]
    hips = (_body_point(names, "RIGHT", "HIP"), _body_point(names, "LEFT", "HIP"))
    corners = (*shoulders, *hips)
    torso = np.array(corners if None not in corners else [], dtype=np.intp)

    bounds = _bounds(view, visible & drawn[None, :], head_centre, head_visible, head_size)
    styles = frozenset(p.style for p in skeleton.parts) or frozenset({"other"})
    return SkeletonScene(view.astype(np.float32), visible, tuple(groups), hands, face,
                         head_centre, head_visible, head_size, neck, neck_visible,
                         shoulder_width, torso, bounds.astype(np.float32), styles, tuple(notes))


def _bounds(view: np.ndarray, shown: np.ndarray, head_centre: np.ndarray, head_visible: np.ndarray,
            head_size: tuple[float, float]) -> np.ndarray:
    """(2, 3) corners holding the figure in nearly every frame: each frame's extremes (the
    fingertips of a raised hand, the top of the head), then their 2nd/98th percentile over frames
    (a glitch of a few frames does not shrink the figure)."""
    frames = np.flatnonzero(shown.any(axis=1))
    if not len(frames):
        return np.stack(_percentiles(view.reshape(-1, 3)))
    big = np.float32(1e9)
    pts = np.where(shown[frames, :, None], view[frames], np.nan)
    lows, highs = np.nanmin(pts, axis=1), np.nanmax(pts, axis=1)
    top = np.where(head_visible[frames], head_centre[frames, 2] + head_size[1], -big)
    highs[:, 2] = np.maximum(highs[:, 2], top)
    return np.stack([np.percentile(lows, 2, axis=0), np.percentile(highs, 98, axis=0)])


def _percentiles(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.percentile(points, 1, axis=0), np.percentile(points, 99, axis=0)


def _groups(skeleton: Skeleton, joints: int,
            names: dict) -> tuple[list[LineGroup], np.ndarray]:
    """One :class:`LineGroup` per drawn part, and which points are drawn at all."""
    groups: list[LineGroup] = []
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
        points = [part.offset + i for i in points if part.offset + i < joints]
        pairs = [(part.offset + a, part.offset + b) for a, b in limbs
                 if part.offset + max(a, b) < joints]
        if part.style in ("left_hand", "right_hand") and part.count == 21:
            wrist = _body_point(names, "LEFT" if part.style == "left_hand" else "RIGHT", "WRIST")
            if wrist is not None and part.offset + HAND_WRIST < joints:
                pairs.append((wrist, part.offset + HAND_WRIST))  # the forearm reaches the hand
        if part.style == "body" and part.count == 33:  # eyes, ears, mouth: thin, on the head
            features = [(x, y) for x, y in pairs if max(x, y) - part.offset < 11]
            pairs = [pair for pair in pairs if pair not in features]
            if features:
                ends = sorted({i for f in features for i in f})
                groups.append(_group("features", features, ends))
                drawn[ends] = True
                points = [i for i in points if i - part.offset >= 11]
        drawn[points] = True
        groups.append(_group(part.style, pairs, points))
    if not skeleton.parts:  # an unknown layout: every point, as joints
        empty = np.zeros(0, np.intp)
        groups.append(LineGroup("other", empty, empty, np.arange(joints, dtype=np.intp)))
        drawn[:] = True
    return groups, drawn


def _group(style: str, pairs: list[tuple[int, int]], points: list[int]) -> LineGroup:
    return LineGroup(style, np.array([x for x, _ in pairs], dtype=np.intp),
                     np.array([y for _, y in pairs], dtype=np.intp), np.array(points, dtype=np.intp))


def _without(group: LineGroup, point: int) -> LineGroup:
    """``group`` without ``point`` and its bones."""
    keep = (group.a != point) & (group.b != point)
    return LineGroup(group.style, group.a[keep], group.b[keep], group.joints[group.joints != point])


def _hands(skeleton: Skeleton, names: dict, view: np.ndarray, visible: np.ndarray,
           hand_scale: float) -> tuple[Hand, ...]:
    """The hands, each enlarged ``hand_scale`` times about its wrist (in ``view``, in place)."""
    hands = []
    joints = view.shape[1]
    for part in skeleton.parts:
        if part.style not in ("left_hand", "right_hand") or part.offset + part.count > joints:
            continue
        index = np.arange(part.offset, part.offset + part.count, dtype=np.intp)
        wrist = part.offset + HAND_WRIST
        if hand_scale != 1.0:
            base = view[:, wrist : wrist + 1]
            view[:, index] = base + (view[:, index] - base) * float(hand_scale)
        palm = (np.array([part.offset + i for i in HAND_PALM], dtype=np.intp)
                if part.count == 21 else np.zeros(0, np.intp))
        hands.append(Hand(part.style, index, wrist, palm, _extents(view[:, index],
                                                                   visible[:, index])))
    return tuple(hands)


def _extents(points: np.ndarray, visible: np.ndarray, window: int = 7) -> np.ndarray:
    """(T,) a hand's size per frame (largest side of its box), for close-ups: the largest over
    ``window`` frames either side, so a close-up zooms smoothly and rarely cuts a finger; frames
    without the hand get the median."""
    frames = points.shape[0]
    sizes = np.full(frames, np.nan)
    for t in np.flatnonzero(visible.sum(axis=1) >= 3):
        sizes[t] = float(np.ptp(points[t, visible[t]], axis=0).max())
    known = np.isfinite(sizes)
    if not known.any():
        return np.full(frames, 0.3, np.float32)
    sizes[~known] = np.median(sizes[known])
    padded = np.pad(sizes, window, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * window + 1)
    return np.maximum(windows.max(axis=1), 1e-3).astype(np.float32)


def _shoulder_width(view: np.ndarray, visible: np.ndarray, shoulders: tuple) -> float:
    """Median shoulder width in view units (a fifth of the figure if there are no shoulders)."""
    left, right = shoulders
    if left is not None and right is not None:
        ok = visible[:, left] & visible[:, right]
        if ok.any():
            return float(np.median(np.linalg.norm(view[ok, left] - view[ok, right], axis=-1)))
    return FIGURE_SIZE / 5.0


def _head(view: np.ndarray, visible: np.ndarray, face: np.ndarray, names: dict,
          shoulder_width: float) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """The head's centre per frame, where it is known, and its half-width and half-height."""
    frames = view.shape[0]
    if len(face):
        vis = visible[:, face]
        counts = vis.sum(axis=1)
        centre = (view[:, face] * vis[..., None]).sum(axis=1) / np.maximum(counts, 1)[:, None]
        ok = counts >= 3
        sizes = [np.ptp(view[t, face[vis[t]]], axis=0) for t in np.flatnonzero(ok)]
        half = np.median(sizes, axis=0) / 2 if sizes else np.zeros(3)
        return centre.astype(np.float32), ok, (float(half[0]), float(half[2]))
    nose = _body_point(names, None, "NOSE")
    size = (HEAD_HALF_WIDTH * shoulder_width, HEAD_HALF_HEIGHT * shoulder_width)
    if nose is None:
        return np.zeros((frames, 3), np.float32), np.zeros(frames, bool), size
    centre = view[:, nose].copy()
    centre[:, 2] += HEAD_ABOVE_NOSE * shoulder_width
    return centre.astype(np.float32), visible[:, nose].copy(), size


def _neck(view: np.ndarray, visible: np.ndarray, names: dict, shoulders: tuple,
          head_centre: np.ndarray, head_visible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 2, 3) neck base and top, and (T,) where both are known."""
    frames = view.shape[0]
    neck = np.zeros((frames, 2, 3), np.float32)
    base = _body_point(names, None, "NECK")
    left, right = shoulders
    if base is not None:
        neck[:, 0] = view[:, base]
        ok = visible[:, base].copy()
    elif left is not None and right is not None:
        neck[:, 0] = (view[:, left] + view[:, right]) / 2
        ok = visible[:, left] & visible[:, right]
    else:
        ok = np.zeros(frames, bool)
    neck[:, 1] = head_centre
    return neck, ok & head_visible


def _anchor_depths(xyz: np.ndarray, visible: np.ndarray, skeleton: Skeleton, names: dict) -> None:
    """Shift each hand's depth to its body wrist and the face's to the nose (MediaPipe)."""
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
