"""One entry from a file to model input: a video or a `.pose` file becomes a :class:`Clip`.

Every path that turns a user's file into something a model reads goes through :func:`read_clip`
(landmarks: MediaPipe Holistic for a video, the file itself for a `.pose`) and
:func:`clip_features` (the features a checkpoint's feature spec asks for): ``signstudio
translate``, ``signstudio attention``, and the Translate and Attention tabs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from signstudio.errors import InputError, ModelError
from signstudio.tasks import TaskHandle

#: Video file suffixes the clip readers accept (anything OpenCV's FFmpeg reads may work too).
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
#: Suffixes of every file a sign-to-text model can read.
CLIP_SUFFIXES = (".pose", *VIDEO_SUFFIXES)
#: Feature kinds this version can compute from Holistic landmarks.
FEATURE_KINDS = ("hand_nose_tracks",)
#: Longest clip a model reads (seconds): three hours. Long input is read in windows (attention never
#: spans more than a few hundred frames) and a video keeps only body and hand landmarks, so memory
#: grows by ~1.8 MB a minute of video (``benchmarks/long_input_memory.py``).
MAX_CLIP_SECONDS = 3 * 3600.0


@dataclass
class Clip:
    """A clip's landmarks, ready for :func:`clip_features`.

    Attributes:
        path: the file read.
        pose: a pose-format ``Pose`` in MediaPipe Holistic layout, x and y in pixels, ``(T, 1, J, 3)``.
        seconds: wall time of landmark extraction in seconds (0 for a `.pose` file).
        extraction: the :class:`~signstudio.capture.holistic.PoseExtraction` of a video (its
            ``info`` and ``hands_detected``), None for a `.pose` file.
    """

    path: Path
    pose: Any
    seconds: float = 0.0
    extraction: Any = None

    @property
    def fps(self) -> float:
        """Frames per second of the landmarks (the video's frame rate)."""
        return float(self.pose.body.fps)

    @property
    def num_frames(self) -> int:
        """Frames in the clip."""
        return int(self.pose.body.data.shape[0])

    @property
    def is_video(self) -> bool:
        """True if the landmarks were extracted from a video here."""
        return self.extraction is not None


def read_clip(path: str | Path, task: TaskHandle | None = None, emit_frames: bool = False,
              components: Sequence[str] | None = None) -> Clip:
    """Read a `.pose` file, or run MediaPipe Holistic on a video.

    Args:
        task: progress and cancellation of the landmark extraction.
        emit_frames: hand every video frame with its landmarks to ``task.partial`` (a
            :class:`~signstudio.capture.holistic.FrameLandmarks`), for a live overlay.
        components: of a video, keep only these Holistic components (e.g.
            :data:`~signstudio.capture.holistic.BODY_AND_HANDS`); a `.pose` file is read whole.

    Raises:
        InputError: a missing, unreadable or empty file, or one that is neither a video nor a
            `.pose` file; a video longer than :data:`MAX_CLIP_SECONDS` (refused before MediaPipe
            runs); NoSignerError: nobody in the video; Cancelled: the task was cancelled.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: a folder, not a video or .pose file")
    if path.suffix.lower() == ".pose":
        from signstudio.pose.io import read_pose

        return Clip(path, read_pose(path))
    from signstudio.capture.video import probe_video

    info = probe_video(path)  # before MediaPipe: a video too long to translate is refused now
    if info.frame_count and info.frame_count / info.fps > MAX_CLIP_SECONDS:
        hours = info.frame_count / info.fps / 3600
        raise InputError(f"{path}: the video is {hours:.1f} hours long; a model reads at most "
                         f"{MAX_CLIP_SECONDS / 3600:.0f} hours: cut it into parts")
    from signstudio.capture.holistic import extract_pose

    extraction = extract_pose(path, task, emit_frames=emit_frames, components=components)
    return Clip(path, extraction.pose, extraction.seconds, extraction)


def check_feature_spec(spec: dict[str, Any], model_name: str = "the model") -> None:
    """Refuse a feature spec this version cannot compute.

    Raises:
        ModelError: ``spec["kind"]`` is not in :data:`FEATURE_KINDS`.
    """
    kind = (spec or {}).get("kind")
    if kind not in FEATURE_KINDS:
        raise ModelError(f"model {model_name!r} needs {kind!r} features, which this version cannot compute")


def clip_features(pose, spec: dict[str, Any]) -> np.ndarray:
    """The ``(T', F)`` float32 features of a Holistic ``pose`` for a model's feature spec.

    ``hand_nose_tracks``: hand and nose tracks (:func:`signstudio.pose.features.tracks_from_holistic`)
    normalised and resampled to :data:`signstudio.pose.features.FEATURE_FPS` (``T'`` frames at
    that rate), 12 features per frame (:func:`signstudio.pose.features.track_features`).

    Raises:
        ModelError: an unknown feature kind. InputError: the pose is not in Holistic layout, has
            an invalid frame rate or no hands, is longer than :data:`MAX_CLIP_SECONDS`, or its
            landmarks are so large that the features overflow; NoSignerError: nobody appears in it.
    """
    check_feature_spec(spec)
    from signstudio.pose.features import track_features, tracks_from_holistic

    fps = float(pose.body.fps)
    if not np.isfinite(fps) or fps <= 0:
        raise InputError(f"the pose's frame rate is {fps:g} fps; it must be a positive number")
    seconds = len(pose.body.data) / fps
    if seconds > MAX_CLIP_SECONDS:
        raise InputError(f"the clip is {seconds / 3600:.1f} hours long; a model reads at most "
                         f"{MAX_CLIP_SECONDS / 3600:.0f} hours: "
                         "cut it into parts")
    features = track_features(tracks_from_holistic(pose), fps)
    if not np.isfinite(features).all():
        raise InputError("the pose's landmarks give non-finite features (coordinates too large)")
    return features
