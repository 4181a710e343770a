"""Live captions from a camera or a replayed video: frames -> MediaPipe Holistic -> streaming
recognition, pipelined so that neither stage stalls the other.

:func:`live_captions` runs three stages: the *source* (a webcam, or a video replayed at its own
frame rate, or as fast as it decodes with ``fast``) on a thread, MediaPipe Holistic on a second
thread, and the :class:`~signstudio.runtime.stream.StreamingRecognizer` in the caller's thread.
In real time the Holistic stage always takes the newest frame (older ones are dropped when it
falls behind, and the recogniser picks frames by their time stamps), so the camera is never held
up; with ``fast`` nothing is dropped. Only the recogniser's window and two frames in flight are
kept, so memory does not grow with the stream's length.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from signstudio.errors import InputError
from signstudio.runtime.stream import Caption, StreamingRecognizer
from signstudio.tasks import NullTask, TaskHandle

_END = object()


@dataclass
class LiveFrame:
    """One frame of the live pipeline, for a live view (``task.partial``).

    Attributes:
        index: the frame's number in the source. time: seconds from the stream's start.
        image: RGB ``uint8`` ``(H, W, 3)``. points, confidence: all Holistic landmarks
            ``(J, 3)`` (pixels) and ``(J,)``, as :class:`~signstudio.capture.holistic.FrameLandmarks`.
        hands: whether a hand was found in it.
    """

    index: int
    time: float
    image: np.ndarray
    points: np.ndarray
    confidence: np.ndarray
    hands: bool


def video_source(path: str, fast: bool = False, max_fps: float | None = None
                 ) -> tuple[Iterator[tuple[np.ndarray, float]], float]:
    """Frames of a video file as ``(rgb, seconds)`` by their time stamps, paced at real time
    unless ``fast``; with ``max_fps`` at most that many a second (a recording claiming 1000 fps
    is sampled, not estimated frame by frame). Paced as a camera is: a frame whose time has
    passed by more than a frame's length while the consumer was busy is skipped, so a slow
    machine falls behind by frames dropped, never by a growing delay.

    Returns:
        The frame iterator and the video's frame rate.

    Raises:
        InputError: as :func:`signstudio.capture.video.probe_video`.
    """
    from signstudio.capture.video import iter_timed_frames, probe_video

    info = probe_video(path)

    period = 1.0 / max(1.0, min(info.fps, max_fps) if max_fps else info.fps)

    def frames():
        start = time.perf_counter()
        for rgb, t in iter_timed_frames(path, max_fps):
            if not fast:
                wait = start + t - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                elif -wait > period:
                    continue  # its moment has passed: a camera would show a newer picture
            yield rgb, t

    return frames(), info.fps


def camera_source(index: int) -> tuple[Iterator[tuple[np.ndarray, float]], float, Callable[[], None]]:
    """Frames of webcam ``index`` as ``(rgb, seconds since the first frame)``.

    Returns:
        The frame iterator, the camera's reported frame rate, and a function that releases it.

    Raises:
        InputError: no webcam at ``index``, or it gives no picture.
    """
    from signstudio.capture.video import open_camera

    camera = open_camera(index)

    def frames():
        start = None
        for rgb in camera:
            now = time.perf_counter()
            start = now if start is None else start
            yield rgb, now - start

    return frames(), camera.fps, camera.close


def live_captions(recognizer: StreamingRecognizer, source: Iterator[tuple[np.ndarray, float]], *,
                  real_time: bool = True, task: TaskHandle | None = None,
                  on_frame: Callable[[LiveFrame], Any] | None = None) -> Iterator[Caption]:
    """Captions of a frame stream, as they are recognised (see the module).

    Args:
        source: ``(rgb (H, W, 3) uint8, seconds)`` frames in order.
        real_time: drop frames Holistic cannot keep up with (a camera, a real-time replay);
            False processes every frame (``live --fast``, tests).
        task: cancellation (the stream then ends quietly, with the captions so far) and progress.
        on_frame: called with every processed :class:`LiveFrame` (on the caller's thread).

    Raises:
        InputError: the source fails to start; the landmark layout lacks what the model needs.
    """
    from signstudio.capture.holistic import HolisticEstimator, holistic_header
    from signstudio.pose.landmarks import landmark_indices, pick_landmarks

    task = task or NullTask()
    indices = landmark_indices(holistic_header(1, 1).components)
    frames_q: queue.Queue = queue.Queue(maxsize=1 if real_time else 8)
    marks_q: queue.Queue = queue.Queue(maxsize=2 if real_time else 64)
    stop = threading.Event()
    errors: list[BaseException] = []

    def put_latest(q: queue.Queue, item) -> None:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                if real_time and item is not _END:
                    try:
                        q.get_nowait()  # drop the stale frame: the newest one counts
                    except queue.Empty:
                        pass

    def read() -> None:
        try:
            for i, (rgb, t) in enumerate(source):
                if stop.is_set() or task.cancelled:
                    break
                put_latest(frames_q, (i, rgb, t))
        except BaseException as exc:  # noqa: BLE001 - reported in the caller's thread
            errors.append(exc)
        finally:
            put_latest(frames_q, _END)

    def estimate() -> None:
        try:
            with HolisticEstimator() as estimator:
                while not stop.is_set():
                    item = frames_q.get()
                    if item is _END:
                        break
                    i, rgb, t = item
                    pts, conf = estimator.process(rgb)
                    width = float(rgb.shape[1])
                    selected, found = pick_landmarks(pts, conf, indices, width)
                    put_latest(marks_q, (i, rgb, t, pts, conf, selected, found))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            put_latest(marks_q, _END)

    threads = [threading.Thread(target=read, name="live-source", daemon=True),
               threading.Thread(target=estimate, name="live-holistic", daemon=True)]
    for th in threads:
        th.start()
    task.set_total(None, unit="frame")
    recognizer.reset()
    try:
        while True:
            item = marks_q.get()
            if item is _END:
                break
            i, rgb, t, pts, conf, selected, found = item
            if on_frame is not None:
                on_frame(LiveFrame(i, t, rgb, pts, conf, bool(found[-42:].any())))
            task.advance()
            yield from recognizer.push(selected, found, t)
            if task.cancelled:
                break
        # the captions so far, the one being read included, are kept even when the source failed
        yield from recognizer.flush()
        if errors and not isinstance(errors[0], (StopIteration, GeneratorExit)):
            err = errors[0]
            if isinstance(err, InputError):
                raise err
            raise InputError(f"the stream stopped: {type(err).__name__}: {err}") from None
    finally:
        stop.set()
        for th in threads:
            th.join(timeout=5)
        close = getattr(source, "close", None)
        if close is not None:
            try:
                close()
            except (RuntimeError, ValueError):  # a generator still running in its thread
                pass
