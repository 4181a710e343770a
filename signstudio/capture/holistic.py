"""MediaPipe Holistic landmarks from video files and webcams, as pose-format poses.

The landmark layout is exactly pose-format's Holistic layout (what ``video_to_pose`` writes and
:func:`signstudio.pose.features.tracks_from_holistic` reads): the components of
``pose_format.utils.holistic.holistic_components("XYZC")`` in order —

=======================  ======  ==============================================
component                points  coordinates
=======================  ======  ==============================================
``POSE_LANDMARKS``       33      x, y in pixels; z as MediaPipe gives (relative
                                 depth, roughly the scale of x in image widths)
``FACE_LANDMARKS``       468     as above
``LEFT_HAND_LANDMARKS``  21      as above (the signer's left hand)
``RIGHT_HAND_LANDMARKS`` 21      as above (the signer's right hand)
``POSE_WORLD_LANDMARKS`` 33      MediaPipe's metric world landmarks multiplied
                                 by width/height exactly as pose-format does
=======================  ======  ==============================================

— ``J = 576`` points per frame. Confidence is the Pose model's ``visibility`` for the two body
components, 1 for every point of a found face or hand, and 0 for every point of a part MediaPipe
did not find (pose-format's NumPy body masks exactly those points).

Models: mediapipe 0.10.21 Holistic with ``model_complexity=1``, the only complexity whose models
ship in the wheel, so everything works offline. Importing this module loads MediaPipe (~1 s).

MediaPipe, TFLite and absl log about ten lines from C++ on file descriptor 2 per video, from the
graph's own threads at any time while it runs: a :class:`HolisticEstimator` keeps
:func:`signstudio.quiet.native_stderr_silenced` on from its creation until :meth:`~HolisticEstimator.close`, and
the libraries' log levels are set before the import (:func:`signstudio.quiet.quiet_native_env`).
``SIGNSTUDIO_VERBOSE=1`` keeps their lines.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from typing import Iterable, Sequence

from signstudio.quiet import native_stderr_silenced, quiet_native_env

quiet_native_env()  # GLOG_minloglevel, TF_CPP_MIN_LOG_LEVEL: read when MediaPipe loads

with native_stderr_silenced():
    import mediapipe as mp  # noqa: E402
import numpy as np  # noqa: E402
from pose_format import Pose  # noqa: E402
from pose_format.numpy.pose_body import NumPyPoseBody  # noqa: E402
from pose_format.pose_header import PoseHeader, PoseHeaderDimensions  # noqa: E402
from pose_format.utils.holistic import body_points, component_points, holistic_components  # noqa: E402

from signstudio.capture.video import VideoInfo, iter_frames, iter_timed_frames, open_camera, probe_video  # noqa: E402
from signstudio.errors import InputError, NoSignerError  # noqa: E402
from signstudio.tasks import NullTask, TaskHandle, check_cancelled  # noqa: E402

#: Keyword arguments for ``mediapipe.solutions.holistic.Holistic``. ``model_complexity=1`` is the
#: only complexity whose models ship in the mediapipe 0.10.21 wheel; ``static_image_mode=False``
#: tracks landmarks from frame to frame (faster and steadier on video).
HOLISTIC_CONFIG: dict = {
    "model_complexity": 1,
    "static_image_mode": False,
    "smooth_landmarks": True,
    "enable_segmentation": False,
    "refine_face_landmarks": False,
    "min_detection_confidence": 0.5,
    "min_tracking_confidence": 0.5,
}

#: The components of a frame, in order, with their number of points.
COMPONENTS: tuple[tuple[str, int], ...] = tuple(
    (c.name, len(c.points)) for c in holistic_components("XYZC")
)
#: Points per frame (576).
NUM_POINTS: int = sum(n for _, n in COMPONENTS)


def _slice(name: str) -> slice:
    start = 0
    for comp, n in COMPONENTS:
        if comp == name:
            return slice(start, start + n)
        start += n
    raise KeyError(name)


_POSE = _slice("POSE_LANDMARKS")
_LEFT_HAND = _slice("LEFT_HAND_LANDMARKS")
_RIGHT_HAND = _slice("RIGHT_HAND_LANDMARKS")


@dataclass
class FrameLandmarks:
    """One frame and its landmarks, handed to ``task.partial`` for live overlays.

    Attributes:
        index: the frame's position in the video or recording (0-based).
        image: the frame, RGB ``uint8`` ``(H, W, 3)``.
        points: ``(J, 3)`` float32 landmarks in the Holistic layout (x, y in pixels).
        confidence: ``(J,)`` float32, 0 where a part was not found.
    """

    index: int
    image: np.ndarray
    points: np.ndarray
    confidence: np.ndarray


@dataclass
class PoseExtraction:
    """The result of :func:`extract_pose` or :func:`record_camera`.

    Attributes:
        pose: a pose-format ``Pose`` with a ``NumPyPoseBody`` of shape ``(T, 1, J, 3)``, one pose
            frame per video frame, ``pose.body.fps`` = the video's frame rate.
        info: the video's :class:`~signstudio.capture.video.VideoInfo` (for a webcam: path
            ``"camera:N"``, ``frame_count`` = frames recorded, ``fps`` = the rate achieved).
        hands_detected: number of frames in which at least one hand was found.
        seconds: wall time in seconds of decoding and estimation, model loading included.
    """

    pose: Pose
    info: VideoInfo
    hands_detected: int
    seconds: float


class HolisticEstimator:
    """MediaPipe Holistic on a stream of frames, returning points in pose-format's layout.

    Frames must be given in order: with ``static_image_mode=False`` MediaPipe tracks landmarks
    from one frame to the next, so use one estimator per video. Use as a context manager (or call
    :meth:`close`) to free the MediaPipe graph.

    Args:
        **overrides: keys of :data:`HOLISTIC_CONFIG` to change (unknown keys raise ``TypeError``
            from MediaPipe).
    """

    def __init__(self, **overrides) -> None:
        config = {**HOLISTIC_CONFIG, **overrides}
        if config.get("refine_face_landmarks"):
            raise ValueError("refine_face_landmarks changes the face layout; it is not supported")
        self.config = config
        # MediaPipe's graph threads log when they get to it, also between and after our calls:
        # descriptor 2 stays silenced for the estimator's whole life, until close().
        self._quiet = contextlib.ExitStack()
        self._quiet.enter_context(native_stderr_silenced())
        self._holistic = None
        try:
            self._holistic = mp.solutions.holistic.Holistic(**config)
        except BaseException:
            self._quiet.close()
            raise

    def process(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Estimate the landmarks of one frame.

        Args:
            rgb: RGB ``uint8`` image of shape ``(H, W, 3)``.

        Returns:
            ``points``: ``(J, 3)`` float32, J = :data:`NUM_POINTS` = 576 in the order of
            :data:`COMPONENTS`; x and y in pixels of this image, z as MediaPipe gives it (for
            ``POSE_WORLD_LANDMARKS`` all three are MediaPipe's metres scaled by width/height,
            as pose-format does). ``confidence``: ``(J,)`` float32, 0 for every point of a part
            that was not found (its points are 0 as well).

        Raises:
            ValueError: ``rgb`` is not an ``(H, W, 3)`` uint8 array.
        """
        if self._holistic is None:
            raise RuntimeError("this HolisticEstimator is closed")
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}")
        h, w = rgb.shape[:2]
        results = self._holistic.process(np.ascontiguousarray(rgb))
        parts = [
            body_points(results.pose_landmarks, w, h, 33),
            component_points(results.face_landmarks, w, h, 468),
            component_points(results.left_hand_landmarks, w, h, 21),
            component_points(results.right_hand_landmarks, w, h, 21),
            body_points(results.pose_world_landmarks, w, h, 33),
        ]
        points = np.concatenate([p for p, _ in parts]).astype(np.float32)
        confidence = np.concatenate([c for _, c in parts]).astype(np.float32)
        return points, confidence

    def close(self) -> None:
        """Free the MediaPipe graph and end the silencing of stderr (safe to call twice)."""
        holistic, self._holistic = getattr(self, "_holistic", None), None
        try:
            if holistic is not None:
                holistic.close()
        finally:
            quiet = getattr(self, "_quiet", None)
            if quiet is not None:
                quiet.close()  # restores descriptor 2 (once)

    def __del__(self) -> None:  # an estimator never closed must not keep stderr silenced
        with contextlib.suppress(Exception):
            self.close()

    def __enter__(self) -> "HolisticEstimator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def holistic_header(width: int, height: int, components: Sequence[str] | None = None) -> PoseHeader:
    """A pose-format header (version 0.2) for Holistic poses of a ``width`` x ``height`` video.

    Args:
        width, height: the video's frame size in pixels.
        components: keep only these Holistic components, in Holistic order (default: all).

    Returns:
        A ``PoseHeader`` with ``holistic_components("XYZC")`` (J = 576 points, fewer with
        ``components``) and dimensions ``(width, height, depth=0)``.
    """
    comps = holistic_components("XYZC")
    if components is not None:
        comps = [c for c in comps if c.name in components]
    return PoseHeader(version=0.2,
                      dimensions=PoseHeaderDimensions(width=int(width), height=int(height), depth=0),
                      components=comps)


#: What a sign-to-text model reads of a video (body and hands, 75 of the 576 points): a long video
#: translated keeps only these.
BODY_AND_HANDS = ("POSE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS")


def holistic_indices(components: Sequence[str]) -> np.ndarray:
    """Indices ``(J',)`` into the 576 Holistic points of ``components``, in Holistic order.

    Raises:
        KeyError: a name that is not a Holistic component.
    """
    for name in components:
        _slice(name)  # KeyError for an unknown name
    return np.concatenate([np.arange(_slice(c).start, _slice(c).stop) for c, _ in COMPONENTS if c in components])


def poses_to_pose(points: Sequence[np.ndarray] | np.ndarray,
                  confidences: Sequence[np.ndarray] | np.ndarray,
                  fps: float, width: int, height: int, components: Sequence[str] | None = None) -> Pose:
    """Assemble per-frame Holistic landmarks into a pose-format ``Pose``.

    Args:
        points: ``(T, J, 3)`` landmarks (x, y in pixels), a list of ``(J, 3)`` arrays or one array.
        confidences: ``(T, J)`` confidences, 0 where a part was not found.
        fps: frame rate in frames per second.
        width, height: frame size in pixels.
        components: the points are those of these components only (:func:`holistic_indices`).

    Returns:
        A ``Pose`` with :func:`holistic_header` and a ``NumPyPoseBody`` of shape
        ``(T, 1, J, 3)`` float32, masked where confidence is 0.

    Raises:
        ValueError: the shapes do not match the Holistic layout or each other.
    """
    data = np.asarray(points, dtype=np.float32)
    conf = np.asarray(confidences, dtype=np.float32)
    header = holistic_header(width, height, components)
    n = header.total_points()
    if data.ndim != 3 or data.shape[1:] != (n, 3):
        raise ValueError(f"points must have shape (T, {n}, 3), got {data.shape}")
    if conf.shape != data.shape[:2]:
        raise ValueError(f"confidences must have shape {data.shape[:2]}, got {conf.shape}")
    body = NumPyPoseBody(fps=float(fps), data=data[:, None], confidence=conf[:, None])
    return Pose(header, body)


def _hands_found(conf: np.ndarray) -> bool:
    return bool(conf[_LEFT_HAND].any() or conf[_RIGHT_HAND].any())


#: The most frames per second :func:`extract_pose` estimates; faster (or falsely fast) videos are
#: sampled by their time stamps at this rate.
MAX_POSE_FPS = 30.0


def extract_pose(path, task: TaskHandle | None = None, emit_frames: bool = False,
                 max_fps: float = MAX_POSE_FPS, components: Sequence[str] | None = None) -> PoseExtraction:
    """Run MediaPipe Holistic on every frame of a video file (at most ``max_fps`` a second).

    Progress goes to ``task``: ``set_total(frame_count, unit="frame")`` (``None`` when the
    container does not say), ``advance()`` per frame, status lines; with ``emit_frames`` also
    ``partial(FrameLandmarks)`` per frame (the GUI's live overlay). Cancellation is checked
    before every frame.

    Args:
        path: a video file (see :func:`~signstudio.capture.video.probe_video`).
        task: the job's task handle (a :class:`~signstudio.tasks.NullTask` when ``None``).
        emit_frames: hand each frame and its landmarks to ``task.partial``.
        max_fps: a video whose frame rate is higher (60 fps, or a phone's claimed 1000 fps with
            each real frame repeated) is sampled by its frames' time stamps at this rate, and the
            pose is at this rate; slower videos keep every frame and their own rate.
        components: keep only these Holistic components (e.g. :data:`BODY_AND_HANDS`: 75 points,
            13 % of the memory of all 576, for a model that reads no face); default all.

    Returns:
        A :class:`PoseExtraction`: ``pose`` holds ``(T, 1, J, 3)`` with T = frames estimated
        (one pose frame per video frame kept) at the pose's fps. Decoding stops quietly at the first
        unreadable frame (a truncated file gives fewer frames than ``info.frame_count``; the last
        status line then says so).

    Raises:
        InputError: the file is missing, not a video, or has no frames (see ``probe_video``).
        NoSignerError: ``"PATH: nobody was found in the video"`` — no body in any frame.
        Cancelled: ``task.cancelled`` became true.
    """
    task = task if task is not None else NullTask()
    start = time.perf_counter()
    info = probe_video(path)
    task.set_total(info.frame_count or None, unit="frame")
    task.set_status("loading MediaPipe Holistic")
    points: list[np.ndarray] = []
    confs: list[np.ndarray] = []
    hands = 0
    somebody = False
    keep = holistic_indices(components) if components is not None else None
    sampled = info.fps > max_fps
    fps = max_fps if sampled else info.fps
    if sampled:
        task.set_total(int(info.frame_count * max_fps / info.fps) or None, unit="frame")
    with HolisticEstimator() as estimator:
        task.set_status(f"estimating poses in {os.path.basename(str(path))}")
        frames = (rgb for rgb, _ in iter_timed_frames(path, max_fps)) if sampled else iter_frames(path)
        try:
            for index, rgb in enumerate(frames):
                check_cancelled(task)
                pts, conf = estimator.process(rgb)
                points.append(pts if keep is None else pts[keep])
                confs.append(conf if keep is None else conf[keep])
                hands += _hands_found(conf)
                somebody = somebody or bool(conf[_POSE].any())
                if emit_frames:
                    task.partial(FrameLandmarks(index, rgb, pts, conf))
                task.advance()
        finally:
            frames.close()
    seconds = time.perf_counter() - start
    if not points:
        raise InputError(f"{path}: the video has no frames")
    if not somebody:
        raise NoSignerError(f"{path}: nobody was found in the video")
    if info.frame_count and not sampled and len(points) < info.frame_count - 1:
        task.set_status(f"decoded only {len(points)} of {info.frame_count} frames: "
                        "the file may be truncated or damaged")
    pose = poses_to_pose(points, confs, fps, info.width, info.height, components)
    return PoseExtraction(pose=pose, info=info, hands_detected=hands, seconds=seconds)


def _record(frames: Iterable[np.ndarray], task: TaskHandle, max_seconds: float,
            estimator: HolisticEstimator):
    """Estimate frames until they end, ``task.cancelled`` or ``max_seconds``; normal return."""
    points: list[np.ndarray] = []
    confs: list[np.ndarray] = []
    stamps: list[float] = []
    hands = 0
    start = time.perf_counter()
    for index, rgb in enumerate(frames):
        now = time.perf_counter()
        if task.cancelled or now - start >= max_seconds:
            break
        pts, conf = estimator.process(rgb)
        points.append(pts)
        confs.append(conf)
        stamps.append(now)
        hands += _hands_found(conf)
        task.partial(FrameLandmarks(index, rgb, pts, conf))
        task.advance()
    return points, confs, stamps, hands


def record_camera(index: int, task: TaskHandle, max_seconds: float = 60.0) -> PoseExtraction:
    """Record poses live from webcam ``index`` until the user stops or ``max_seconds`` pass.

    Every frame is run through Holistic and handed to ``task.partial`` as a
    :class:`FrameLandmarks` (the GUI's live view); ``task.advance()`` counts frames (the total is
    unknown: ``set_total(None, unit="frame")``).

    Stopping is **not** an error: when ``task.cancelled`` becomes true, when ``max_seconds``
    (wall-clock seconds) have passed, or when the camera stops delivering frames, the recording
    ends and the pose recorded so far is returned (no :class:`~signstudio.errors.Cancelled`).

    The pose's fps is the rate actually achieved (frames recorded / time between the first and
    last frame), since Holistic (≈15 frames per second on a laptop CPU) is usually slower than
    the camera; it falls back to the camera's reported rate for a single frame. Frames in which
    nobody was found are kept (confidence 0); unlike :func:`extract_pose` this raises no
    :class:`~signstudio.errors.NoSignerError`.

    Returns:
        A :class:`PoseExtraction` (``pose`` of shape ``(T, 1, J, 3)``, ``info.path`` =
        ``"camera:N"``, ``info.frame_count`` = T).

    Raises:
        InputError: ``"no webcam found at index N"`` / the webcam gives no picture (see
            :func:`~signstudio.capture.video.open_camera`), or nothing was recorded before the
            recording stopped.
    """
    start = time.perf_counter()
    task.set_status(f"opening webcam {index}")
    with open_camera(index) as camera:
        task.set_total(None, unit="frame")
        task.set_status("loading MediaPipe Holistic")
        with HolisticEstimator() as estimator:
            task.set_status(f"recording from webcam {index}")
            points, confs, stamps, hands = _record(camera, task, max_seconds, estimator)
        width, height, camera_fps = camera.width, camera.height, camera.fps
    seconds = time.perf_counter() - start
    if not points:
        raise InputError(f"webcam {index}: nothing was recorded before the recording stopped")
    span = stamps[-1] - stamps[0]
    fps = (len(stamps) - 1) / span if len(stamps) > 1 and span > 0 else camera_fps
    info = VideoInfo(path=f"camera:{index}", width=width, height=height, fps=float(fps),
                     frame_count=len(points))
    pose = poses_to_pose(points, confs, fps, width, height)
    return PoseExtraction(pose=pose, info=info, hands_detected=hands, seconds=seconds)
