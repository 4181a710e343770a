"""Body and hand landmarks as model input, chosen by component and point name.

A recogniser must run on a webcam's full MediaPipe Holistic pose (576 points with the face) and on
a dataset's reduced one (``wlasl100/poses``: body and hands, 75 points) alike, so it never relies on
point indices: :func:`select_landmarks` looks the points of :data:`BODY_POINTS` and the 21 points of
each hand up by name. Then (:func:`landmark_features`):

- **Position and size.** Coordinates are centred on the midpoint of the shoulders and divided by
  the shoulder width (median over the clip), so the signer's place in the frame and distance to
  the camera do not matter.
- **Handedness.** :func:`canonical_handedness` mirrors a clip whose left hand moves more than its
  right, so a left-handed signer looks like a right-handed one (a mirrored clip gives exactly the
  same features).
- **Hand shape.** Besides their place, both hands are also given in their own frame: relative to
  the wrist and divided by the hand's size, with MediaPipe's relative depth.
- **Missing points** (a hand out of view, confidence 0, NaN) are 0, and a per-hand flag says
  whether the hand was found.
- **Frame rate.** Clips are resampled to the model's rate by time stamps (:func:`resample_frames`).
"""

from __future__ import annotations

import numpy as np

from signstudio.errors import InputError

#: MediaPipe Pose points used for the body (upper body and head; hips and legs are often out of view).
BODY_POINTS = ("NOSE", "LEFT_EYE", "RIGHT_EYE", "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT",
               "LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST")
BODY_COMPONENT = "POSE_LANDMARKS"
HAND_COMPONENTS = ("LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS")
#: MediaPipe's 21 hand points, in its order (WRIST first).
HAND_POINTS = ("WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP", "INDEX_FINGER_MCP", "INDEX_FINGER_PIP",
               "INDEX_FINGER_DIP", "INDEX_FINGER_TIP", "MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP",
               "MIDDLE_FINGER_TIP", "RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP",
               "PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP")
NUM_BODY = len(BODY_POINTS)
NUM_HAND = len(HAND_POINTS)
#: Points of :func:`select_landmarks`: body, left hand, right hand.
NUM_POINTS = NUM_BODY + 2 * NUM_HAND
#: Features per frame of :func:`landmark_features`: body and both hands in the body frame (x, y),
#: their velocities (x, y per frame), both hands in their own frame (x, y, z), two hand flags.
NUM_FEATURES = 2 * (NUM_BODY * 2 + 2 * NUM_HAND * 2) + 2 * NUM_HAND * 3 + 2
#: Velocities are multiplied by this (shoulder widths per frame are small numbers).
VELOCITY_GAIN = 10.0
_SWAP_BODY = [BODY_POINTS.index(n.replace("LEFT", "#").replace("RIGHT", "LEFT").replace("#", "RIGHT"))
              for n in BODY_POINTS]
_LEFT_SHOULDER, _RIGHT_SHOULDER = BODY_POINTS.index("LEFT_SHOULDER"), BODY_POINTS.index("RIGHT_SHOULDER")
_HAND_SCALE_POINT = HAND_POINTS.index("MIDDLE_FINGER_MCP")


#: Points a pose must have (the rest of :data:`BODY_POINTS` may be missing: then never found).
REQUIRED_BODY_POINTS = ("LEFT_SHOULDER", "RIGHT_SHOULDER")


def landmark_indices(components) -> np.ndarray:
    """Positions of :data:`BODY_POINTS` and both hands' :data:`HAND_POINTS` among the points of a
    pose with these ``components`` (pose-format header components, in order); -1 for a body
    point the pose does not have (other than :data:`REQUIRED_BODY_POINTS`).

    Raises:
        InputError: a needed component or point is missing (the message names it).
    """
    comps = {c.name: c for c in components}
    offsets, offset = {}, 0
    for c in components:
        offsets[c.name] = offset
        offset += len(c.points)
    indices = []
    for comp, names in [(BODY_COMPONENT, BODY_POINTS)] + [(h, HAND_POINTS) for h in HAND_COMPONENTS]:
        if comp not in comps:
            raise InputError(f"the pose has no {comp} (needs MediaPipe Holistic body and hand landmarks; "
                             f"it has {', '.join(comps) or 'no components'})")
        points = list(comps[comp].points)
        for name in names:
            if name in points:
                indices.append(offsets[comp] + points.index(name))
            elif comp == BODY_COMPONENT and name not in REQUIRED_BODY_POINTS:
                indices.append(-1)
            else:
                raise InputError(f"the pose's {comp} has no point {name}")
    return np.asarray(indices)


def pick_landmarks(points: np.ndarray, confidence: np.ndarray, indices: np.ndarray,
                   width: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The selected points of raw frames: ``points`` ``(..., J, D)`` and ``confidence`` ``(..., J)``
    -> ``(..., NUM_POINTS, 3)`` float32 (z times ``width``, MediaPipe's z being in image widths) and
    ``(..., NUM_POINTS)`` found-mask (confidence > 0 and finite); missing points are 0."""
    have = indices >= 0
    safe = np.where(have, indices, 0)
    raw = np.asarray(points)[..., safe, :].astype(np.float32)
    xyz = np.zeros(raw.shape[:-1] + (3,), dtype=np.float32)
    dims = min(3, raw.shape[-1])
    xyz[..., :dims] = raw[..., :dims]
    xyz[..., 2] *= width
    found = (np.asarray(confidence)[..., safe] > 0) & np.isfinite(xyz).all(-1) & have
    xyz[~found] = 0.0
    return xyz, found


def select_landmarks(pose) -> tuple[np.ndarray, np.ndarray]:
    """The body and hand points of a MediaPipe Holistic pose-format ``Pose``, by name.

    Returns:
        ``points`` ``(T, 55, 3)`` float32 (x, y and z in pixels; MediaPipe's z, relative depth in
        image widths, times the width) and ``found`` ``(T, 55)`` bool (False where the point is
        missing: confidence 0 or not finite). Order: :data:`BODY_POINTS`, then the left hand's and
        the right hand's :data:`HAND_POINTS`. Only the first person is used.

    Raises:
        InputError: the pose has no frames, or lacks a needed component or point.
    """
    indices = landmark_indices(pose.header.components)
    data = np.ma.getdata(pose.body.data)
    if data.ndim != 4 or data.shape[0] == 0:
        raise InputError("the pose holds no frames")
    width = float(getattr(pose.header.dimensions, "width", 0) or 1)
    return pick_landmarks(data[:, 0], np.ma.getdata(pose.body.confidence)[:, 0], indices, width)


def resample_frames(points: np.ndarray, found: np.ndarray, fps: float, target_fps: float,
                    times: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pick frames at ``target_fps`` by time stamp (nearest frame; no blending of landmarks).

    A recording that claims a higher rate than it has real frames (phones, browsers: 1000 fps with
    each frame repeated) is reduced to the target rate instead of being read frame by frame.

    Args:
        points: ``(T, P, 3)``; found: ``(T, P)``. fps: the recording's frame rate (frames per second).
        times: ``(T,)`` seconds of each frame when known (a webcam); else ``index / fps``.

    Returns:
        ``(T', P, 3)`` and ``(T', P)`` at ``target_fps`` (at least one frame), and ``(T',)`` the
        index of the source frame each one is.

    Raises:
        InputError: a frame rate that is not a positive finite number.
    """
    if times is None:
        if not np.isfinite(fps) or fps <= 0:
            raise InputError(f"the frame rate is {fps:g} fps; it must be a positive number")
        times = np.arange(len(points)) / fps
    times = np.asarray(times, dtype=np.float64)
    if len(times) == 0:
        return points, found, np.arange(0)
    n = max(1, int(np.floor((times[-1] - times[0]) * target_fps + 1e-6)) + 1)
    want = times[0] + np.arange(n) / target_fps
    after = np.clip(np.searchsorted(times, want), 0, len(times) - 1)
    before = np.clip(after - 1, 0, len(times) - 1)
    idx = np.where(np.abs(times[before] - want) <= np.abs(times[after] - want), before, after)
    return points[idx], found[idx], idx


def mirror(points: np.ndarray, found: np.ndarray, width: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The clip seen in a mirror: x flipped (about ``width / 2``, default the points' own centre),
    left and right body points and hands swapped."""
    pts = points.copy()
    centre = width / 2 if width is not None else 0.0
    pts[..., 0] = np.where(found, 2 * centre - pts[..., 0], 0.0)
    order = list(_SWAP_BODY) + list(range(NUM_BODY + NUM_HAND, NUM_POINTS)) + list(range(NUM_BODY, NUM_BODY + NUM_HAND))
    return pts[:, order], found[:, order]


def hand_motion(points: np.ndarray, found: np.ndarray) -> tuple[float, float]:
    """How much each hand is used: frames it is found plus its wrist's path length, relative to
    the shoulder width (left, right)."""
    scale = shoulder_width(points, found)
    out = []
    for side in (0, 1):
        start = NUM_BODY + side * NUM_HAND
        ok = found[:, start]
        wrist = points[ok, start, :2]
        path = float(np.linalg.norm(np.diff(wrist, axis=0), axis=-1).sum()) / scale if len(wrist) > 1 else 0.0
        out.append(float(ok.mean()) + path)
    return out[0], out[1]


def canonical_handedness(points: np.ndarray, found: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Mirror a clip whose left hand is used more than its right (:func:`hand_motion`).

    Returns:
        ``(points, found, mirrored)``.
    """
    left, right = hand_motion(points, found)
    if left > right:
        pts, fnd = mirror(points, found)
        return pts, fnd, True
    return points, found, False


def shoulder_width(points: np.ndarray, found: np.ndarray) -> float:
    """Median distance between the shoulders over the frames where both are found (pixels); if
    they never are, a tenth of the points' spread, and at least 1e-3."""
    both = found[:, _LEFT_SHOULDER] & found[:, _RIGHT_SHOULDER]
    if both.any():
        d = np.linalg.norm(points[both, _LEFT_SHOULDER, :2] - points[both, _RIGHT_SHOULDER, :2], axis=-1)
        width = float(np.median(d))
    else:
        xy = points[found][:, :2]
        width = float(np.ptp(xy, axis=0).max()) / 10 if len(xy) else 1.0
    return max(width, 1e-3)


def shoulder_centre(points: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Median midpoint of the shoulders (x, y); the median of all found points if they never are."""
    both = found[:, _LEFT_SHOULDER] & found[:, _RIGHT_SHOULDER]
    if both.any():
        mid = (points[both, _LEFT_SHOULDER, :2] + points[both, _RIGHT_SHOULDER, :2]) / 2
        return np.median(mid, axis=0)
    xy = points[found][:, :2]
    return np.median(xy, axis=0) if len(xy) else np.zeros(2, dtype=np.float32)


def normalize_landmarks(points: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Points centred on the shoulders' midpoint and divided by the shoulder width (medians over
    the frames given), so that 1 unit is one shoulder width; missing points 0. ``(T, P, 3)``
    float32 (z divided by the same width)."""
    centre = shoulder_centre(points, found)
    scale = shoulder_width(points, found)
    out = points.astype(np.float32, copy=True)
    out[..., :2] = (out[..., :2] - centre) / scale
    out[..., 2] = out[..., 2] / scale
    out[~found] = 0.0
    return out


def normalized_features(points: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Per-frame features ``(T, NUM_FEATURES)`` float32 of :func:`normalize_landmarks` output: the
    body and both hands (x, y), their velocities (the change from the previous frame, 0 where a
    point is missing in either, times :data:`VELOCITY_GAIN`), both hands in their own frame
    (relative to the wrist, divided by the hand's size; x, y, z), and a found-flag per hand."""
    t = len(points)
    xy = np.where(found[..., None], points[..., :2], 0.0)
    both = found.copy()
    both[1:] &= found[:-1]
    velocity = np.zeros_like(xy)
    velocity[1:] = xy[1:] - xy[:-1]
    velocity = np.where(both[..., None], velocity, 0.0) * VELOCITY_GAIN
    feats = [xy.reshape(t, -1), velocity.reshape(t, -1)]
    flags = []
    for side in (0, 1):
        start = NUM_BODY + side * NUM_HAND
        hand, ok = points[:, start:start + NUM_HAND], found[:, start:start + NUM_HAND]
        present = ok[:, 0] & (ok.sum(-1) >= NUM_HAND // 2)
        rel = hand - hand[:, :1]
        size = np.linalg.norm(rel[:, _HAND_SCALE_POINT, :2], axis=-1)
        size = np.where(present & (size > 1e-6), size, 1.0)[:, None, None]
        local = np.where((ok & present[:, None])[..., None], rel / size, 0.0)
        feats.append(local.reshape(t, -1))
        flags.append(present.astype(np.float32)[:, None])
    out = np.concatenate(feats + flags, axis=1).astype(np.float32)
    return np.nan_to_num(np.clip(out, -20.0, 20.0))


def landmark_features(points: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Per-frame features ``(T, NUM_FEATURES)`` float32 of selected landmarks (see the module):
    :func:`normalized_features` of :func:`normalize_landmarks`.

    Args:
        points: ``(T, NUM_POINTS, 3)`` from :func:`select_landmarks` (pixels); found: ``(T, NUM_POINTS)``.
    """
    return normalized_features(normalize_landmarks(points, found), found)


def hands_visible(found: np.ndarray) -> np.ndarray:
    """``(T,)`` True where at least one hand was found."""
    return found[:, NUM_BODY:].any(-1)


def active_span(found: np.ndarray, margin: int = 2) -> tuple[int, int]:
    """``(start, end)``: the frames from the first to the last with a hand, ``margin`` frames
    wider on each side; the whole clip if no hand is ever found."""
    visible = np.flatnonzero(hands_visible(found))
    if len(visible) == 0:
        return 0, len(found)
    return max(0, int(visible[0]) - margin), min(len(found), int(visible[-1]) + 1 + margin)


def clip_landmarks(pose, fps: float, times: np.ndarray | None = None,
                   trim: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A Holistic pose as a recogniser reads it: the points by name (:func:`select_landmarks`),
    resampled to ``fps`` by time stamps, handedness made canonical, and (``trim``) the idle frames
    at both ends cut (:func:`active_span`).

    Returns:
        ``(points (T, NUM_POINTS, 3), found (T, NUM_POINTS), frames (T,))``, ``frames`` the index
        in the pose of each frame kept.

    Raises:
        InputError: missing components, no frames, or an invalid frame rate.
    """
    points, found = select_landmarks(pose)
    points, found, frames = resample_frames(points, found, float(pose.body.fps), fps, times)
    points, found, _ = canonical_handedness(points, found)
    a, b = active_span(found) if trim else (0, len(points))
    return points[a:b], found[a:b], frames[a:b]
