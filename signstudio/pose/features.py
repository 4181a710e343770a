"""Hand-and-nose trajectory features, computed by one function for every source.

RWTH-BOSTON-104 ships, per frame, the pixel positions of the signer's left hand, right hand and
nose (``hands_condensed.csv``). MediaPipe Holistic gives 543 landmarks per frame. Both are reduced
to the same ``(T, 3, 2)`` *tracks* — ``[left hand, right hand, nose]`` x ``(x, y)`` in pixels, with
left/right meaning the **signer's** hands as in both sources — and then to the same features by
:func:`track_features`. A model trained on BOSTON's tracks therefore runs on any video.

Normalisation (:func:`normalize_tracks`) removes the signer's position and size: positions are
taken relative to the nose in each frame and divided by the signer's *reach*, a robust per-clip
length (the 90th percentile of hand-to-nose distances, i.e. roughly hands at rest or at full
extension). The clip is resampled to :data:`FEATURE_FPS` so that speed means the same for every
camera.
"""

from __future__ import annotations

import numpy as np

from signstudio.errors import InputError, NoSignerError

#: Frame rate every clip is resampled to before features are computed (BOSTON-104 is 30 fps).
FEATURE_FPS = 30.0
#: Points of a track, in order.
TRACK_POINTS = ("left_hand", "right_hand", "nose")
#: Number of features per frame returned by :func:`track_features`.
NUM_FEATURES = 12
#: Velocities are multiplied by this so that they have roughly unit scale.
_VELOCITY_GAIN = 10.0

# MediaPipe Pose landmarks averaged to place a hand when the hand model found none.
_POSE_HAND_POINTS = {
    "LEFT": ("LEFT_WRIST", "LEFT_PINKY", "LEFT_INDEX", "LEFT_THUMB"),
    "RIGHT": ("RIGHT_WRIST", "RIGHT_PINKY", "RIGHT_INDEX", "RIGHT_THUMB"),
}


def tracks_from_holistic(pose) -> np.ndarray:
    """Reduce a MediaPipe Holistic pose-format ``Pose`` to hand and nose tracks.

    A hand is the mean of its 21 hand landmarks where the hand model found it, else the mean of
    the Pose model's wrist, pinky, index and thumb landmarks (which Holistic estimates even for a
    hand it cannot resolve), else missing. Only the first person is used.

    Args:
        pose: a ``pose_format.Pose`` with the Holistic components ``POSE_LANDMARKS``,
            ``LEFT_HAND_LANDMARKS`` and ``RIGHT_HAND_LANDMARKS`` (as written by
            ``signstudio pose``), x and y in pixels.

    Returns:
        ``(T, 3, 2)`` float64 tracks in pixels, ``NaN`` where a point was not found.

    Raises:
        InputError: the pose lacks the Holistic components.
    """
    names = [c.name for c in pose.header.components]
    needed = ("POSE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS")
    missing = [n for n in needed if n not in names]
    if missing:
        raise InputError(
            "this pose is not in MediaPipe Holistic layout (missing " + ", ".join(missing) + "); "
            "make one with `signstudio pose VIDEO`"
        )
    # Only the points used are copied (as float64): an hour of a 576-point pose would be 830 MB.
    data = np.ma.getdata(pose.body.data)  # (T, P, J, D)
    conf = np.ma.getdata(pose.body.confidence)  # (T, P, J)
    frames = data.shape[0]
    header = pose.header

    def idx(component: str, point: str) -> int:
        return header.get_point_index(component, point)

    def mean_of(indices: list[int]) -> np.ndarray:
        if not indices:
            return np.full((frames, 2), np.nan)
        pts = np.asarray(data[:, 0, indices, :2], dtype=np.float64)  # (T, K, 2)
        ok = np.asarray(conf[:, 0, indices], dtype=np.float64) > 0  # (T, K)
        counts = ok.sum(axis=1, keepdims=True)  # (T, 1)
        total = (pts * ok[..., None]).sum(axis=1)  # (T, 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = total / counts
        out[counts[:, 0] == 0] = np.nan
        return out

    def points_of(component: str, wanted) -> list[int]:
        comp = [c for c in header.components if c.name == component]
        have = set(comp[0].points) if comp else set()
        return [idx(component, p) for p in wanted if p in have]

    tracks = np.full((frames, 3, 2), np.nan)
    hand_points = [c.points for c in header.components if c.name == "LEFT_HAND_LANDMARKS"][0]
    for slot, side in ((0, "LEFT"), (1, "RIGHT")):
        tracks[:, slot] = mean_of(points_of(f"{side}_HAND_LANDMARKS", hand_points))
        fallback = points_of("POSE_LANDMARKS", _POSE_HAND_POINTS[side])
        if fallback:
            from_pose = mean_of(fallback)
            tracks[:, slot] = np.where(np.isnan(tracks[:, slot]), from_pose, tracks[:, slot])
    # The nose: the Pose model's NOSE, else face-mesh point 1 (the nose tip), else the face's
    # centre (reduced layouts such as pose-format's 128-point face subset).
    face = [c.points for c in header.components if c.name == "FACE_LANDMARKS"]
    nose = (points_of("POSE_LANDMARKS", ["NOSE"]) or points_of("FACE_LANDMARKS", ["1"])
            or points_of("FACE_LANDMARKS", face[0] if face else []))
    if not nose:
        raise InputError("this pose has no nose or face landmarks to centre the signer on")
    tracks[:, 2] = mean_of(nose)
    return tracks


def fill_missing(tracks: np.ndarray) -> np.ndarray:
    """Fill ``NaN`` gaps in ``(T, P, 2)`` tracks by linear interpolation over time.

    Gaps at the start or end take the nearest found value.

    Raises:
        NoSignerError: the nose was never found (nobody in the video).
        InputError: a hand was never found in any frame.
    """
    tracks = np.array(tracks, dtype=np.float64, copy=True)
    t = np.arange(tracks.shape[0])
    for p in range(tracks.shape[1]):
        found = ~np.isnan(tracks[:, p]).any(axis=1)
        if not found.any():
            name = TRACK_POINTS[p] if p < len(TRACK_POINTS) else f"point {p}"
            if name == "nose":
                raise NoSignerError("nobody was found in the video (no face or body in any frame)")
            raise InputError(f"the signer's {name.replace('_', ' ')} was not found in any frame")
        for d in range(tracks.shape[2]):
            tracks[:, p, d] = np.interp(t, t[found], tracks[found, p, d])
    return tracks


def normalize_tracks(tracks: np.ndarray) -> np.ndarray:
    """Make ``(T, 3, 2)`` gap-free pixel tracks independent of the signer's position and size.

    Returns ``(T, 2, 2)`` hand positions relative to the nose of the same frame, divided by the
    signer's reach (the 90th percentile over the clip of both hands' distances to the nose;
    unitless, about 1 for a hand at rest).

    Raises:
        InputError: the clip has no extent (hands and nose on one spot in every frame).
    """
    rel = tracks[:, :2] - tracks[:, 2:3]  # (T, 2, 2)
    reach = float(np.percentile(np.linalg.norm(rel, axis=-1), 90))
    if not np.isfinite(reach) or reach < 1e-6:
        raise InputError("the hands never leave the nose: these tracks carry no signing")
    return rel / reach


def resample(x: np.ndarray, fps: float, target_fps: float = FEATURE_FPS) -> np.ndarray:
    """Linearly resample ``(T, ...)`` frames from ``fps`` to ``target_fps`` (frames per second).

    Raises:
        InputError: ``fps`` is not positive.
    """
    if not fps or fps <= 0:
        raise InputError(f"invalid frame rate {fps!r} frames per second")
    if abs(fps - target_fps) < 1e-6 or x.shape[0] < 2:
        return np.asarray(x)
    duration = (x.shape[0] - 1) / fps
    n_out = max(2, int(round(duration * target_fps)) + 1)
    src_t = np.arange(x.shape[0]) / fps
    dst_t = np.linspace(0.0, duration, n_out)
    flat = x.reshape(x.shape[0], -1)
    out = np.stack([np.interp(dst_t, src_t, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    return out.reshape((n_out,) + x.shape[1:])


def track_features(tracks: np.ndarray, fps: float) -> np.ndarray:
    """Model input features from hand and nose tracks — the one function for every source.

    Args:
        tracks: ``(T, 3, 2)`` ``[left hand, right hand, nose]`` x ``(x, y)`` in pixels, ``NaN``
            where a point was not found (see :func:`fill_missing`).
        fps: the clip's frame rate in frames per second.

    Returns:
        ``(T', NUM_FEATURES)`` float32 at :data:`FEATURE_FPS`: per frame the normalised left and
        right hand positions (4), their velocities (4), the right-minus-left hand offset (2) and
        the hands' distances to the nose (2).

    Raises:
        NoSignerError, InputError: see :func:`fill_missing` and :func:`normalize_tracks`.
    """
    tracks = np.asarray(tracks, dtype=np.float64)
    if tracks.ndim != 3 or tracks.shape[1:] != (3, 2):
        raise InputError(f"tracks must have shape (T, 3, 2), got {tracks.shape}")
    if tracks.shape[0] == 0:
        raise InputError("no frames")
    hands = normalize_tracks(fill_missing(tracks))  # (T, 2, 2)
    hands = resample(hands, fps)
    vel = np.diff(hands, axis=0, prepend=hands[:1]) * _VELOCITY_GAIN
    offset = hands[:, 1] - hands[:, 0]
    dist = np.linalg.norm(hands, axis=-1)
    feats = np.concatenate(
        [hands.reshape(len(hands), 4), vel.reshape(len(hands), 4), offset, dist], axis=1
    )
    return feats.astype(np.float32)
