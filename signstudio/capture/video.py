"""Frames from video files and webcams, with OpenCV (``cv2`` from opencv-contrib-python).

Every frame handed out is RGB ``uint8`` with shape ``(H, W, 3)`` (OpenCV decodes BGR; the
conversion happens here, once). This module does not import MediaPipe, so it is cheap to import.

Failures a user can cause raise :class:`~signstudio.errors.InputError` with a one-line message.
FFmpeg (inside OpenCV) prints its own diagnostics (``moov atom not found``) from C on file
descriptor 2; OpenCV's API cannot silence them, so every open and read runs under
:func:`signstudio.quiet.native_stderr_silenced` (visible with ``SIGNSTUDIO_VERBOSE=1``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Iterator

from signstudio.quiet import native_stderr_silenced, quiet_native_env

quiet_native_env()  # before cv2 loads FFmpeg: OPENCV_FFMPEG_LOGLEVEL, OPENCV_LOG_LEVEL

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from signstudio.errors import InputError  # noqa: E402
from signstudio.files import check_input_file  # noqa: E402


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` learnt about a video.

    Attributes:
        path: the video's path as given (a string), or ``"camera:N"`` for webcam ``N``.
        width: frame width in pixels (of the decoded frames, after any rotation OpenCV applies).
        height: frame height in pixels.
        fps: frame rate in frames per second (> 0).
        frame_count: number of frames as reported by the container; approximate for some
            formats, and 0 where the container does not say. The frames actually decoded by
            :func:`iter_frames` are the truth.
    """

    path: str
    width: int
    height: int
    fps: float
    frame_count: int


def _open(path: str | os.PathLike) -> cv2.VideoCapture:
    """Open ``path`` with OpenCV, raising the one-line errors of :func:`probe_video`."""
    p = check_input_file(path, "video")
    if p.stat().st_size == 0:
        raise InputError(f"{path}: not a video OpenCV can read (the file is empty)")
    with native_stderr_silenced():
        cap = cv2.VideoCapture(str(p))
        opened = cap.isOpened()
        if not opened:
            cap.release()
    if not opened:
        raise InputError(f"{path}: not a video OpenCV can read")
    return cap


def _read(cap: cv2.VideoCapture) -> tuple[bool, np.ndarray | None]:
    """``cap.read()`` with FFmpeg's decoder messages silenced."""
    with native_stderr_silenced():
        return cap.read()


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Open a video, decode its first frame, and report its size, frame rate and frame count.

    Args:
        path: a video file OpenCV's FFmpeg backend can decode (mp4/H.264, HEVC, avi, webm, ...).

    Returns:
        A :class:`VideoInfo`; ``width``/``height`` in pixels are those of the decoded first frame,
        ``fps`` in frames per second, ``frame_count`` as the container reports it.

    Raises:
        InputError: ``"PATH: no such file"``; ``"PATH: not a video OpenCV can read"`` (not a
            video, an empty file, a codec OpenCV cannot decode); ``"PATH: the video has no
            frames"``; or the video reports no usable frame rate.
    """
    cap = _open(path)
    try:
        reported = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        fps = cap.get(cv2.CAP_PROP_FPS)
        ok, frame = _read(cap)
    finally:
        with native_stderr_silenced():
            cap.release()
    frame_count = int(reported) if math.isfinite(reported) and reported > 0 else 0
    if not ok or frame is None:
        if frame_count == 0:
            raise InputError(f"{path}: the video has no frames")
        raise InputError(f"{path}: not a video OpenCV can read (its frames cannot be decoded)")
    if not math.isfinite(fps) or fps <= 0:
        raise InputError(f"{path}: the video has no valid frame rate (OpenCV reports {fps!r} fps)")
    height, width = frame.shape[:2]
    return VideoInfo(path=str(path), width=int(width), height=int(height), fps=float(fps),
                     frame_count=frame_count)


def iter_timed_frames(path: str | os.PathLike, max_fps: float | None = None) -> Iterator[tuple[np.ndarray, float]]:
    """Yield ``(rgb, seconds)`` for the frames of a video, by their time stamps in the file.

    With ``max_fps``, frames closer than ``1 / max_fps`` seconds to the last one yielded are
    decoded but skipped: a phone or browser recording that claims 1000 fps and repeats each real
    frame many times gives about ``max_fps`` frames per second, not every stored copy. Time stamps
    are the container's (``CAP_PROP_POS_MSEC``); where it gives none, ``index / fps``.

    Raises:
        InputError: as :func:`iter_frames`.
    """
    cap = _open(path)
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = fps if math.isfinite(fps) and fps > 0 else 30.0
    period = 1.0 / max_fps if max_fps else 0.0
    last = -math.inf
    previous = -math.inf
    try:
        index = 0
        while True:
            ok, bgr = _read(cap)
            if not ok or bgr is None:
                return
            stamp = cap.get(cv2.CAP_PROP_POS_MSEC)
            t = stamp / 1000.0 if math.isfinite(stamp) and stamp > 0 else index / fps
            t = max(t, previous)  # never backwards
            previous = t
            index += 1
            if period and t < last + period - 1e-6:
                continue
            last = t if not period or t >= last + 2 * period else last + period
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t
    finally:
        with native_stderr_silenced():
            cap.release()


def iter_frames(path: str | os.PathLike) -> Iterator[np.ndarray]:
    """Yield every decodable frame of a video as RGB ``uint8`` with shape ``(H, W, 3)``.

    Decoding stops quietly at the first frame OpenCV cannot read (the end, or a truncated file),
    so the number of frames yielded may differ from :attr:`VideoInfo.frame_count`. The file is
    closed when the generator is exhausted or closed.

    Raises:
        InputError: the file is missing or OpenCV cannot open it (see :func:`probe_video`). A
            video that opens but yields nothing is *not* an error here; callers check the count.
    """
    cap = _open(path)
    try:
        while True:
            ok, bgr = _read(cap)
            if not ok or bgr is None:
                return
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        with native_stderr_silenced():
            cap.release()


class Camera:
    """An open webcam: iterate it for RGB ``uint8`` ``(H, W, 3)`` frames until it stops.

    Attributes:
        index: the OpenCV camera index.
        width, height: frame size in pixels (of the first frame read).
        fps: the frame rate the driver reports, in frames per second (30.0 when it reports none).

    Use as a context manager (or call :meth:`close`) to release the device. Iteration ends when
    the camera stops delivering frames (unplugged) or after :meth:`close`.
    """

    def __init__(self, index: int, cap: cv2.VideoCapture, first_bgr: np.ndarray) -> None:
        self.index = index
        self._cap = cap
        self._first: np.ndarray | None = first_bgr
        self.height, self.width = (int(v) for v in first_bgr.shape[:2])
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if math.isfinite(fps) and fps > 0 else 30.0

    def __iter__(self) -> Iterator[np.ndarray]:
        while self._cap is not None:
            if self._first is not None:
                bgr, self._first = self._first, None
            else:
                ok, bgr = self._cap.read()
                if not ok or bgr is None:
                    return
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        """Release the device (safe to call twice)."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self) -> "Camera":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_camera(index: int = 0) -> Camera:
    """Open webcam ``index`` and read one frame to make sure it delivers pictures.

    Returns:
        A :class:`Camera` (iterable of RGB ``(H, W, 3)`` uint8 frames, with ``fps``, ``width``
        and ``height``).

    Raises:
        InputError: ``"no webcam found at index N"`` when OpenCV cannot open it, or
            ``"webcam N opened but gave no picture"`` when its first read fails.
    """
    previous = cv2.getLogLevel()
    cv2.setLogLevel(0)  # silent: OpenCV's V4L2 warnings say no more than our message
    try:
        with native_stderr_silenced():
            cap = cv2.VideoCapture(int(index))
            opened = cap.isOpened()
    finally:
        cv2.setLogLevel(previous)
    if not opened:
        cap.release()
        raise InputError(f"no webcam found at index {index}")
    cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # hand out the newest frame, not a stale queued one
    ok, bgr = cap.read()
    if not ok or bgr is None:
        cap.release()
        raise InputError(f"webcam {index} opened but gave no picture")
    return Camera(int(index), cap, bgr)
