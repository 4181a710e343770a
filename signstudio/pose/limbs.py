"""Which landmarks to connect when drawing a pose over a frame (no Qt, no drawing here).

A :class:`Skeleton` lists, per pose-format component, its first index in the flat point array,
its point count, the pairs of points to join, and a drawing style ("body", "left_hand",
"right_hand", "face"). It is built from a pose-format header (for ``.pose`` files and extracted
poses) or from :func:`pose_format.utils.holistic.holistic_components` (for live frames, whose
points come in that order: body 33, face 468, left hand 21, right hand 21, world body 33).

World landmarks (metres, not pixels) are never drawn; the face is drawn as its contours (oval,
eyes, eyebrows, lips) rather than its 2,556-edge tessellation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

#: MediaPipe Pose points 0-10 (nose, eyes, ears, mouth) duplicate the face mesh.
BODY_FACE_POINTS = frozenset(range(11))
#: MediaPipe Pose points 17-22 (pinky, index, thumb of each hand) duplicate the hand skeletons.
BODY_HAND_POINTS = frozenset(range(17, 23))


@dataclass(frozen=True)
class SkeletonPart:
    """One drawable component: points ``offset .. offset+count-1`` of the flat array."""

    name: str
    offset: int
    count: int
    limbs: tuple[tuple[int, int], ...]  # index pairs within the component
    style: str  # "body" | "left_hand" | "right_hand" | "face" | "other"
    hidden: frozenset[int] = frozenset()  # points (within the part) drawn by another part


@dataclass(frozen=True)
class Skeleton:
    """The drawable parts of a pose layout and the total number of points it addresses."""

    parts: tuple[SkeletonPart, ...]
    total_points: int = field(default=0)

    def drawable_indices(self) -> np.ndarray:
        """Flat indices of every point that belongs to a drawn part."""
        if not self.parts:
            return np.zeros(0, dtype=int)
        return np.concatenate([np.array([p.offset + i for i in range(p.count)
                                         if i not in p.hidden], dtype=int) for p in self.parts])


def _style_for(name: str) -> str | None:
    upper = name.upper()
    if "WORLD" in upper:
        return None  # metres, not pixels
    if "LEFT_HAND" in upper:
        return "left_hand"
    if "RIGHT_HAND" in upper:
        return "right_hand"
    if "FACE" in upper:
        return "face"
    if "POSE" in upper or "BODY" in upper:
        return "body"
    return "other"


@lru_cache(maxsize=1)
def _face_contours() -> tuple[tuple[int, int], ...]:
    """MediaPipe's face-mesh contour edges (oval, eyes, brows, lips), or nothing if unavailable."""
    try:
        from mediapipe.python.solutions.face_mesh_connections import FACEMESH_CONTOURS
    except Exception:  # noqa: BLE001 - drawing the face is a nicety
        return ()
    return tuple(sorted((int(a), int(b)) for a, b in FACEMESH_CONTOURS))


def skeleton_from_components(components: Iterable) -> Skeleton:
    """Build a :class:`Skeleton` from pose-format header components (``.name``, ``.points``,
    ``.limbs``), in order."""
    components = list(components)
    has_face_mesh = any(_style_for(c.name) == "face" and len(c.points) >= 468 for c in components)
    has_hands = any(_style_for(c.name) in ("left_hand", "right_hand") for c in components)
    parts = []
    offset = 0
    for comp in components:
        count = len(comp.points)
        style = _style_for(comp.name)
        if style is not None:
            limbs: Sequence[tuple[int, int]] = [(int(a), int(b)) for a, b in comp.limbs]
            hidden: frozenset[int] = frozenset()
            if style == "face" and count >= 468:
                limbs = [pair for pair in _face_contours() if max(pair) < count]
            elif style == "body" and count == 33:
                # MediaPipe's body repeats the face (0-10) and the fingers (17-22) coarsely; when
                # the face mesh and hand skeletons are there, they draw those parts instead.
                hidden = (BODY_FACE_POINTS if has_face_mesh else frozenset()) | \
                    (BODY_HAND_POINTS if has_hands else frozenset())
                limbs = [(a, b) for a, b in limbs if a not in hidden and b not in hidden]
            parts.append(SkeletonPart(comp.name, offset, count, tuple(limbs), style, hidden))
        offset += count
    return Skeleton(tuple(parts), offset)


@lru_cache(maxsize=1)
def holistic_skeleton() -> Skeleton:
    """The skeleton of MediaPipe Holistic points in pose-format order (576 points)."""
    try:
        from pose_format.utils.holistic import holistic_components
    except Exception:  # noqa: BLE001 - mediapipe missing: points only, no lines
        return _plain_holistic()
    return skeleton_from_components(holistic_components())


def _plain_holistic() -> Skeleton:
    sizes = [("POSE_LANDMARKS", 33), ("FACE_LANDMARKS", 468), ("LEFT_HAND_LANDMARKS", 21),
             ("RIGHT_HAND_LANDMARKS", 21), ("POSE_WORLD_LANDMARKS", 33)]
    parts, offset = [], 0
    for name, count in sizes:
        style = _style_for(name)
        if style is not None:
            parts.append(SkeletonPart(name, offset, count, (), style))
        offset += count
    return Skeleton(tuple(parts), offset)


def skeleton_for_pose(pose) -> Skeleton:
    """The skeleton of a pose-format ``Pose`` (from its header)."""
    return skeleton_from_components(pose.header.components)
