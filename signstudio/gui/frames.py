"""Frames for display: downscaling, a memory-bounded frame cache, landmarks per frame.

No Qt here (NumPy and OpenCV only), so these functions may run on worker threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Frames are kept at most this size for display (the view scales them further to fit).
DISPLAY_MAX_WIDTH = 640
DISPLAY_MAX_HEIGHT = 480
#: Downscaled frames kept for playback; frames past the budget play as the skeleton alone.
CACHE_BUDGET_BYTES = 400 * 1024 * 1024


def fit_scale(width: int, height: int, max_width: int = DISPLAY_MAX_WIDTH,
              max_height: int = DISPLAY_MAX_HEIGHT) -> float:
    """The factor (<= 1) that makes ``width x height`` fit in ``max_width x max_height``."""
    if width <= 0 or height <= 0:
        return 1.0
    return min(1.0, max_width / width, max_height / height)


def downscale(image: np.ndarray, scale: float) -> np.ndarray:
    """``image`` (H, W, 3) uint8 resized by ``scale`` (area interpolation), C-contiguous."""
    if scale >= 1.0:
        return np.ascontiguousarray(image)
    import cv2

    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.ascontiguousarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))


@dataclass
class DisplayFrame:
    """What the video view shows for one frame.

    Attributes:
        index: frame number (0-based).
        image: RGB uint8 (h, w, 3) at display size, or ``None`` (draw the skeleton alone).
        size: (width, height) of the display canvas in pixels.
        points: (J, 2) float landmark positions in display pixels, or ``None``.
        confidence: (J,) float; points with confidence 0 are not drawn.
    """

    index: int
    image: np.ndarray | None
    size: tuple[int, int]
    points: np.ndarray | None = None
    confidence: np.ndarray | None = None


def display_frame_from_landmarks(frame: Any, max_width: int = DISPLAY_MAX_WIDTH,
                                 max_height: int = DISPLAY_MAX_HEIGHT) -> DisplayFrame:
    """Turn a capture ``FrameLandmarks`` (``index``, ``image`` RGB full size, ``points`` (J, 3)
    pixels, ``confidence`` (J,)) into a downscaled :class:`DisplayFrame`.

    Meant to run on the worker thread (as a worker's ``map_partial``), so the GUI thread only
    paints small frames.
    """
    image = np.asarray(frame.image)
    h, w = image.shape[:2]
    scale = fit_scale(w, h, max_width, max_height)
    small = downscale(image, scale)
    points = confidence = None
    if getattr(frame, "points", None) is not None:
        points = np.asarray(frame.points, dtype=np.float32)[:, :2] * scale
        confidence = np.asarray(frame.confidence, dtype=np.float32).reshape(-1)
    return DisplayFrame(int(frame.index), small, (small.shape[1], small.shape[0]), points,
                        confidence)


class FrameThrottle:
    """A worker's ``map_partial`` for a live stream: landmark frames (anything with ``index``,
    ``image``, ``points`` and ``confidence``, e.g. a ``LiveFrame``) become downscaled
    :class:`DisplayFrame` objects at most ``max_fps`` times a second (the others are dropped:
    ``None``); every other partial result (a caption, a state change) passes unchanged.

    It runs on the worker thread, so the GUI thread only paints small frames, and no faster than
    the eye needs, whatever rate the pipeline reaches.
    """

    def __init__(self, max_fps: float = 18.0, clock=None) -> None:
        import time

        self.interval = 1.0 / max_fps if max_fps > 0 else 0.0
        self._clock = clock or time.monotonic
        self._next = float("-inf")
        self.shown = 0
        self.dropped = 0

    def __call__(self, item: Any) -> Any:
        if not all(hasattr(item, name) for name in ("index", "image", "points", "confidence")):
            return item
        now = self._clock()
        if now < self._next:
            self.dropped += 1
            return None
        self._next = now + self.interval
        self.shown += 1
        return display_frame_from_landmarks(item)


class FrameCache:
    """Downscaled frames by index, up to ``budget_bytes`` in total.

    Frames offered after the budget is spent are not kept (:meth:`add` returns False), so a long
    video cannot exhaust memory; playback then draws the skeleton alone for those frames.
    """

    def __init__(self, budget_bytes: int = CACHE_BUDGET_BYTES) -> None:
        self.budget_bytes = int(budget_bytes)
        self.bytes = 0
        self._frames: dict[int, np.ndarray] = {}
        self.dropped = 0

    def add(self, index: int, image: np.ndarray) -> bool:
        """Keep ``image`` for frame ``index`` if the budget allows; True if kept."""
        if index in self._frames:
            return True
        if self.bytes + image.nbytes > self.budget_bytes:
            self.dropped += 1
            return False
        self._frames[index] = image
        self.bytes += image.nbytes
        return True

    def get(self, index: int) -> np.ndarray | None:
        """The frame ``index``, or ``None`` if it was never kept."""
        return self._frames.get(index)

    def __len__(self) -> int:
        return len(self._frames)

    def clear(self) -> None:
        """Forget every frame."""
        self._frames.clear()
        self.bytes = 0
        self.dropped = 0


class PoseTrack:
    """Per-frame 2D landmarks of a pose-format ``Pose`` (first person), scaled for display.

    Args:
        pose: a pose-format ``Pose`` with a NumPy body (points in pixels of the source video).
        scale: factor from source pixels to display pixels.
    """

    def __init__(self, pose: Any, scale: float = 1.0) -> None:
        body = pose.body
        data = np.ma.getdata(body.data)  # (frames, people, points, dims)
        conf = np.asarray(body.confidence)  # (frames, people, points)
        self.frames = int(data.shape[0])
        self.fps = float(body.fps) if body.fps else 25.0
        if data.ndim == 4 and data.shape[1] > 0:
            self._xy = np.asarray(data[:, 0, :, :2], dtype=np.float32) * scale
            self._conf = np.asarray(conf[:, 0, :], dtype=np.float32)
        else:
            self._xy = np.zeros((self.frames, 0, 2), np.float32)
            self._conf = np.zeros((self.frames, 0), np.float32)
        # NaN/inf points are treated as missing.
        bad = ~np.isfinite(self._xy).all(axis=-1)
        self._conf = np.where(bad, 0.0, self._conf)
        self._xy = np.nan_to_num(self._xy)
        dims = pose.header.dimensions
        self.size = (max(1, round(dims.width * scale)), max(1, round(dims.height * scale)))

    def landmarks(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(points (J, 2), confidence (J,)) of frame ``index`` (clamped to the track)."""
        i = min(max(int(index), 0), self.frames - 1)
        return self._xy[i], self._conf[i]
