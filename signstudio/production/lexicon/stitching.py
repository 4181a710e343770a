"""Stitching: recorded signs joined into one pose the way spoken-to-signed does it (trim,
normalise, cap each sign's duration, smooth the seams), keeping where each sign ended up."""

from __future__ import annotations

import copy
from typing import Sequence

from pose_format import Pose

from signstudio.errors import InputError
from signstudio.production.lexicon.base import MAX_SIGN_SECONDS, PADDING_SECONDS, _quiet

# Frame rates within this fraction of the output's are relabelled rather than resampled.
_FPS_TOLERANCE = 0.01

def _layout(pose: Pose) -> list[tuple[str, str]]:
    return [(c.name, p) for c in pose.header.components for p in c.points]


def stitch(pieces: Sequence[Pose], *, spans: Sequence[tuple[int, int] | None] | None = None,
           max_sign_seconds: Sequence[float | None] | float | None = MAX_SIGN_SECONDS,
           fps: float | None = None,
           names: Sequence[str] | None = None) -> tuple[Pose, list[tuple[int, int]]]:
    """Stitch signs into one pose the way spoken-to-signed's ``concatenate_poses`` does, and return
    where each sign ended up.

    Args:
        pieces: MediaPipe Holistic poses, each ``(T_i, 1, J_i, 3)``; not modified.
        spans: per piece, the active-signing ``(first, last)`` frames if known (else the library's
            elbow heuristic trims it).
        max_sign_seconds: cap on a sign's duration after trimming (seconds; one value, or one per
            piece; ``None``: no cap).
        fps: output frame rate; default the first piece's. Pieces more than 1 % off are resampled
            (linear interpolation), the others relabelled.
        names: per piece, where it came from (a file), for error messages.

    Returns:
        ``(pose, ranges)``: the pose ``(T, 1, 178, 3)`` at ``fps``, in pixels of a 512 x 512 canvas
        (shoulder width about 204.8), and one ``[start, end)`` frame range per piece. Consecutive
        ranges are separated by ``int(0.07 * fps)`` padding frames; the first starts at 0 and the
        last ends at ``T``.

    Raises:
        InputError: the pieces do not share one point layout after ``reduce_holistic``.
    """
    from pose_format.utils.generic import correct_wrists, normalize_pose_size, reduce_holistic
    from spoken_to_signed.gloss_to_pose.concatenate import (
        hide_lowered_hands,
        normalize_pose,
        process_sign,
    )
    from spoken_to_signed.gloss_to_pose.smoothing import smooth_concatenate_poses

    if not pieces:
        raise InputError("nothing to sign: the text is empty")
    n = len(pieces)
    spans = list(spans) if spans is not None else [None] * n
    if isinstance(max_sign_seconds, (list, tuple)):
        caps = list(max_sign_seconds)
    else:
        caps = [max_sign_seconds] * n
    names = list(names) if names is not None else [f"sign {i + 1}" for i in range(n)]
    with _quiet():
        poses = []
        for name, pose in zip(names, pieces):
            try:
                reduced = reduce_holistic(pose)
            except (ValueError, KeyError, IndexError) as exc:  # points reduce_holistic keeps are absent
                raise InputError(f"{name}: not a full MediaPipe Holistic layout; reduce_holistic "
                                 f"failed ({exc})") from None
            poses.append(Pose(copy.deepcopy(reduced.header), reduced.body.copy()))
        layout = _layout(poses[0])
        for i, pose in enumerate(poses[1:], start=1):
            if _layout(pose) != layout:
                raise InputError(f"{names[i]} has {len(_layout(pose))} points after reduce_holistic "
                                 f"where {names[0]} has {len(layout)}; the signs use different "
                                 "pose layouts")

        target = float(fps) if fps else float(poses[0].body.fps)
        for i, pose in enumerate(poses):
            own = float(pose.body.fps)
            if abs(own - target) > _FPS_TOLERANCE * target and len(pose.body.data) > 1:
                pose.body = pose.body.interpolate(target, kind="linear")
                if spans[i] is not None:
                    frames = len(pose.body.data)
                    spans[i] = (min(frames, round(spans[i][0] * target / own)),
                                min(frames, round(spans[i][1] * target / own)))
            pose.body.fps = target
            shoulders = [pose.header.get_point_index("POSE_LANDMARKS", f"{side}_SHOULDER")
                         for side in ("LEFT", "RIGHT")]
            if not (pose.body.confidence[:, 0, shoulders] > 0).all(-1).any():
                raise InputError(f"{names[i]}: the shoulders are never both detected, so the signer "
                                 "cannot be normalised")

        poses = [normalize_pose(p) for p in poses]
        poses = [process_sign(p, keep_onset=i == 0, keep_offset=i == n - 1,
                              max_sign_seconds=caps[i], span=spans[i])
                 for i, p in enumerate(poses)]
        # smooth_concatenate_poses trims every pose's body in place to the part it keeps and appends
        # the padding to all but the last: the lengths afterwards give the frame ranges.
        result = smooth_concatenate_poses(poses, padding=PADDING_SECONDS)
        kept = [len(p.body.data) for p in poses]
        pad = int(PADDING_SECONDS * target) if n > 1 else 0
        total = len(result.body.data)
        if sum(kept) != total:  # the library changed how it concatenates
            raise RuntimeError(f"stitched pose has {total} frames but its pieces {sum(kept)}")
        ranges, offset = [], 0
        for i, length in enumerate(kept):
            own = length - (pad if i < n - 1 else 0)
            ranges.append((offset, offset + max(own, 0)))
            offset += length

        result = correct_wrists(result)
        normalize_pose_size(result)
        result = hide_lowered_hands(result)
    return result, ranges
