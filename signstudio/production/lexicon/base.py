"""What the lexicon modules share: limits, the library lock and cache, and the check that a
recording is a MediaPipe Holistic pose the stitching steps can use."""

from __future__ import annotations

import contextlib
import io
import threading
from pathlib import Path
from typing import Iterator

import numpy as np
from pose_format import Pose

from signstudio.errors import InputError

#: The most glosses one production may have; longer input must be split into sentences.
MAX_GLOSSES = 60

#: A sign longer than this (seconds, after trimming) is sped up to it: spoken-to-signed's default,
#: because citation-form dictionary signs are far slower than fluent signing.
MAX_SIGN_SECONDS = 0.8

#: Seconds of interpolated padding that ``smooth_concatenate_poses`` puts between two signs.
PADDING_SECONDS = 0.07

#: Components and body points a lexicon pose needs (MediaPipe Holistic; the trimming, stitching
#: and hand-hiding steps of spoken-to-signed address them by name).
HOLISTIC_COMPONENTS = (
    "POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS")
HOLISTIC_BODY_POINTS = tuple(f"{side}_{joint}" for side in ("LEFT", "RIGHT")
                             for joint in ("SHOULDER", "ELBOW", "WRIST", "HIP"))

_lock = threading.RLock()  # the library's LRU caches are not thread-safe


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Swallow what spoken-to-signed prints to stdout (its progress lines)."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


_POSE_CACHE = None


def _pose_cache():
    """The process-wide cache of read ``.pose`` files (spoken-to-signed's ``LRUCache``, 256 files),
    keyed by ``(absolute path, modification time, size)``."""
    global _POSE_CACHE
    if _POSE_CACHE is None:
        from spoken_to_signed.gloss_to_pose.lookup.lru_cache import LRUCache

        _POSE_CACHE = LRUCache(maxsize=256)
    return _POSE_CACHE


def complete_holistic(pose: Pose) -> Pose:
    """A body-and-hands recording (e.g. WLASL's prepared landmarks: ``POSE_LANDMARKS`` and both
    hands, no face) in the full Holistic layout the stitching steps address, the face present
    but never found (confidence 0: nothing is drawn for it). A pose that has a face is returned
    unchanged.
    """
    names = [c.name for c in pose.header.components]
    if "FACE_LANDMARKS" in names or "POSE_LANDMARKS" not in names:
        return pose
    from pose_format.numpy import NumPyPoseBody

    from signstudio.capture.holistic import holistic_header

    dims = pose.header.dimensions
    header = holistic_header(int(dims.width or 1), int(dims.height or 1))
    header.components = [c for c in header.components if c.name in HOLISTIC_COMPONENTS]
    data, conf = np.ma.getdata(pose.body.data), np.ma.getdata(pose.body.confidence)
    full = np.zeros((data.shape[0], data.shape[1], header.total_points(), data.shape[-1]), dtype=np.float32)
    found = np.zeros(full.shape[:-1], dtype=np.float32)
    for comp in pose.header.components:
        if comp.name not in HOLISTIC_COMPONENTS:
            continue
        target = next(c for c in header.components if c.name == comp.name)
        for point in comp.points:
            if point in target.points:
                src = pose.header.get_point_index(comp.name, point)
                dst = header.get_point_index(comp.name, point)
                full[:, :, dst], found[:, :, dst] = data[:, :, src], conf[:, :, src]
    return Pose(header, NumPyPoseBody(pose.body.fps, full, found))


def check_holistic(pose: Pose, path: Path | str) -> None:
    """Refuse a pose without the MediaPipe Holistic components and body points stitching needs.

    Raises:
        InputError: no ``POSE_LANDMARKS``, a missing component of :data:`HOLISTIC_COMPONENTS`,
            or body points of :data:`HOLISTIC_BODY_POINTS` missing (the message names them).
    """
    names = [c.name for c in pose.header.components]
    if "POSE_LANDMARKS" not in names:
        raise InputError(f"{path}: not a MediaPipe Holistic pose (no POSE_LANDMARKS component; "
                         f"it has {', '.join(names) or 'none'}); "
                         "lexicon signs must be MediaPipe Holistic")
    missing = [c for c in HOLISTIC_COMPONENTS if c not in names]
    if missing:
        raise InputError(f"{path}: not a complete MediaPipe Holistic pose "
                         f"(missing {', '.join(missing)})")
    body = next(c for c in pose.header.components if c.name == "POSE_LANDMARKS")
    missing = [p for p in HOLISTIC_BODY_POINTS if p not in body.points]
    if missing:
        raise InputError(f"{path}: its POSE_LANDMARKS lack {', '.join(missing)}; "
                         "lexicon signs must be MediaPipe Holistic")


def check_recording(pose: Pose, path: Path | str) -> None:
    """Check that a recording can be stitched: Holistic layout (:func:`check_holistic`), at least
    2 frames, and both shoulders found together in at least one frame (signs are normalised by
    shoulder width). NaN/infinite landmarks are already masked by
    :func:`signstudio.pose.io.read_pose` (a file of nothing but NaN is refused there).

    Raises:
        InputError: one line naming ``path`` and the problem.
    """
    check_holistic(pose, path)
    frames = len(pose.body.data)
    if frames < 2:
        raise InputError(f"{path}: holds {frames} frame; a sign needs at least 2")
    shoulders = [pose.header.get_point_index("POSE_LANDMARKS", f"{side}_SHOULDER") for side in ("LEFT", "RIGHT")]
    confidence = np.asarray(pose.body.confidence)
    if not (confidence[:, 0, shoulders] > 0).all(-1).any():
        raise InputError(f"{path}: the shoulders are never both detected, so the signer cannot be normalised")
