"""The 50-joint Progressive Transformers skeleton, as a pose-format ``Pose`` and from Holistic poses.

Progressive Transformers (Saunders et al. 2020) and SignLLM (Fang et al. 2024) produce 3D
skeletons of **50 joints**: 8 upper-body joints in OpenPose BODY_25 order (indices 0-7: nose,
neck, right shoulder, right elbow, right wrist, left shoulder, left elbow, left wrist), then 21
left-hand and 21 right-hand joints in OpenPose's hand layout (wrist base, thumb 1-4, index 5-8,
middle 9-12, ring 13-16, pinky 17-20). "Left"/"right" are the **signer's** hands.

Skeleton coordinates (``(T, 50, 3)``, called *skeleton units*) are what the PHOENIX-2014-T skels
files hold, checked against the data: every frame is centred on the neck (joint 1 is exactly 0);
bone lengths are constant (neck-shoulder 0.169, shoulder-elbow 0.298, elbow-wrist 0.212, nose-neck
0.205); **x grows towards the signer's right** (the right shoulder sits at x = +0.17, so the
skeleton is seen from behind the signer, mirrored with respect to a camera image), **y grows
downwards** (the nose is at y = -0.2, the hands at rest near y = +0.3), and **z grows towards the
viewer** (hands signing in front of the body have z = +0.1..+0.2). The wrists (4 and 7) lie 0.034
from the bases of the right (29) and left (8) hand blocks.

A ``.pose`` file written by :func:`skels_to_pose` stores the skeleton in pixel-like camera
coordinates so that any pose-format renderer draws a signer facing the viewer: on a
:data:`CANVAS` x :data:`CANVAS` canvas, ``x_px = ORIGIN_X - SCALE * x``, ``y_px = ORIGIN_Y +
SCALE * y``, ``z_px = -SCALE * z`` (like MediaPipe: smaller z is nearer the camera).
:func:`pose_to_skeleton` inverts this exactly for such poses, and maps MediaPipe Holistic poses
(user recordings) onto the same skeleton so that they can train the same model.
"""

from __future__ import annotations

import numpy as np
from numpy import ma
from pose_format import Pose
from pose_format.numpy.pose_body import NumPyPoseBody
from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

from signstudio.errors import InputError

#: Number of joints of the skeleton.
NUM_JOINTS = 50
#: Frames per second of the PHOENIX-2014-T skeletons.
SKELETON_FPS = 25.0
#: Upper-body joints, OpenPose BODY_25 names of indices 0-7.
BODY_POINTS = ("Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist")
#: Hand joints in OpenPose's order (the names pose-format uses for OpenPose hands).
HAND_POINTS = ("BASE", "T_STT", "T_BCMC", "T_MCP", "T_IP", "I_CMC", "I_MCP", "I_PIP", "I_DIP",
               "M_CMC", "M_MCP", "M_PIP", "M_DIP", "R_CMC", "R_MCP", "R_PIP", "R_DIP",
               "P_CMC", "P_MCP", "P_PIP", "P_DIP")
#: Bones of the upper body (OpenPose BODY_25 limbs restricted to joints 0-7).
BODY_LIMBS = ((1, 0), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7))
#: Bones of a hand: the base to each finger root, then along each finger.
HAND_LIMBS = tuple([(0, 1), (0, 5), (0, 9), (0, 13), (0, 17)]
                   + [(f + k, f + k + 1) for f in (1, 5, 9, 13, 17) for k in range(3)])
#: pose-format component names, in joint order: (name, first joint, number of joints).
COMPONENTS = (("BODY", 0, 8), ("LEFT_HAND", 8, 21), ("RIGHT_HAND", 29, 21))
#: Slices of the skeleton's joint axis.
BODY = slice(0, 8)
LEFT_HAND = slice(8, 29)
RIGHT_HAND = slice(29, 50)
NOSE, NECK, R_SHOULDER, R_ELBOW, R_WRIST, L_SHOULDER, L_ELBOW, L_WRIST = range(8)
#: Canvas of written `.pose` files, in pixels, and the skeleton-unit -> pixel transform.
CANVAS = 640
SCALE = 400.0
ORIGIN_X, ORIGIN_Y = 320.0, 256.0
#: Shoulder width (right to left shoulder) of the PHOENIX skeletons, in skeleton units: the scale
#: that Holistic poses are brought to.
SHOULDER_WIDTH = 0.3372

_HAND_COLORS = [(192, 0, 0)] * 5 + [(192, 0, 0)] * 3 + [(0, 0, 192)] * 3 + [(0, 192, 0)] * 3 + [
    (0, 192, 192)] * 3 + [(255, 128, 0)] * 3


def skeleton_header() -> PoseHeader:
    """A pose-format header (version 0.2) for the 50-joint skeleton: components ``BODY`` (8),
    ``LEFT_HAND`` (21), ``RIGHT_HAND`` (21), format ``XYZC``, with their bones as limbs."""
    body = PoseHeaderComponent(name="BODY", points=list(BODY_POINTS), limbs=list(BODY_LIMBS),
                               colors=[(255, 0, 0)] * len(BODY_LIMBS), point_format="XYZC")
    hands = [PoseHeaderComponent(name=name, points=list(HAND_POINTS), limbs=list(HAND_LIMBS),
                                 colors=list(_HAND_COLORS), point_format="XYZC")
             for name in ("LEFT_HAND", "RIGHT_HAND")]
    return PoseHeader(version=0.2, dimensions=PoseHeaderDimensions(width=CANVAS, height=CANVAS, depth=CANVAS),
                      components=[body, *hands])


def is_skeleton_pose(pose: Pose) -> bool:
    """True if ``pose`` has this module's 50-joint layout (as written by :func:`skels_to_pose`)."""
    return [(c.name, len(c.points)) for c in pose.header.components] == [(n, k) for n, _, k in COMPONENTS]


def skels_to_pose(frames: np.ndarray, fps: float = SKELETON_FPS, mask: np.ndarray | None = None) -> Pose:
    """A pose-format ``Pose`` of a skeleton sequence (one person, confidence 1).

    Args:
        frames: ``(T, 50, 3)`` joints in skeleton units (see the module docstring).
        fps: frames per second.
        mask: optional ``(T, 50)`` bool, False where a joint is missing (confidence 0 there).

    Returns:
        A ``Pose`` whose ``body.data`` is ``(T, 1, 50, 3)`` in canvas pixels (x right, y down as
        seen by a viewer facing the signer).

    Raises:
        InputError: ``frames`` does not have shape ``(T, 50, 3)``.
    """
    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 3 or frames.shape[1:] != (NUM_JOINTS, 3):
        raise InputError(f"a skeleton sequence must have shape (T, {NUM_JOINTS}, 3), got {frames.shape}")
    px = np.empty_like(frames)
    px[..., 0] = ORIGIN_X - SCALE * frames[..., 0]
    px[..., 1] = ORIGIN_Y + SCALE * frames[..., 1]
    px[..., 2] = -SCALE * frames[..., 2]
    conf = np.ones(frames.shape[:2], dtype=np.float32) if mask is None else np.asarray(mask, dtype=np.float32)
    hidden = np.repeat((conf == 0)[..., None], 3, axis=-1)
    data = ma.masked_array(px.astype(np.float32)[:, None], mask=hidden[:, None])
    body = NumPyPoseBody(fps=float(fps), data=data, confidence=conf[:, None])
    return Pose(skeleton_header(), body)


def pose_to_skeleton(pose: Pose, return_mask: bool = False):
    """Joints of the 50-joint skeleton from a pose-format ``Pose``.

    Two layouts are read:

    - this module's layout (:func:`skels_to_pose`): the canvas transform is inverted exactly;
    - a MediaPipe Holistic pose (``POSE_LANDMARKS``, ``LEFT_HAND_LANDMARKS``,
      ``RIGHT_HAND_LANDMARKS``; x, y in pixels, z as MediaPipe gives it in image widths): nose,
      shoulders, elbows and wrists come from the Pose landmarks, the neck is the mid-point of the
      shoulders, the hands are the 21 hand landmarks (MediaPipe's hand order equals OpenPose's).
      Hand depth is relative to the wrist in MediaPipe, so the Pose wrist's depth is added. The
      result is centred on the neck of each frame, mirrored and scaled to skeleton units so that
      the median shoulder width is :data:`SHOULDER_WIDTH`. Approximate: MediaPipe depth is coarse.

    Missing points (confidence 0, or absent from a reduced layout) are 0 and False in the mask.

    Args:
        pose: the pose (first person only).
        return_mask: also return the ``(T, 50)`` bool mask (True where the joint was found).

    Returns:
        ``(T, 50, 3)`` float32 joints in skeleton units, or ``(joints, mask)``.

    Raises:
        InputError: neither layout, or no frame with both shoulders (a Holistic pose).
    """
    if is_skeleton_pose(pose):
        px = np.asarray(pose.body.data.data, dtype=np.float64)[:, 0, :, :3]
        conf = np.asarray(pose.body.confidence, dtype=np.float64)[:, 0]
        out = np.stack([(ORIGIN_X - px[..., 0]) / SCALE, (px[..., 1] - ORIGIN_Y) / SCALE, -px[..., 2] / SCALE], -1)
        mask = conf > 0
    else:
        out, mask = _holistic_to_skeleton(pose)
    out = np.where(mask[..., None], out, 0.0).astype(np.float32)
    return (out, mask) if return_mask else out


def _holistic_to_skeleton(pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    header = pose.header
    names = {c.name: c for c in header.components}
    needed = ("POSE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS")
    if not all(n in names for n in needed):
        raise InputError("this pose is neither a 50-joint skeleton nor in MediaPipe Holistic layout "
                         "(it needs POSE_LANDMARKS, LEFT_HAND_LANDMARKS and RIGHT_HAND_LANDMARKS)")
    width = float(header.dimensions.width or 1)
    data = np.asarray(pose.body.data.data, dtype=np.float64)[:, 0]  # (T, P, D)
    conf = np.asarray(pose.body.confidence, dtype=np.float64)[:, 0]  # (T, P)
    t = data.shape[0]
    xyz = np.zeros((t, data.shape[1], 3))
    xyz[..., : min(3, data.shape[-1])] = data[..., :3]
    xyz[..., 2] *= width  # MediaPipe depth is in image widths: bring it to pixels like x

    def point(component: str, name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in names[component].points:
            return np.zeros((t, 3)), np.zeros(t, dtype=bool)
        i = header.get_point_index(component, name)
        return xyz[:, i], conf[:, i] > 0

    cam = np.zeros((t, NUM_JOINTS, 3))
    found = np.zeros((t, NUM_JOINTS), dtype=bool)
    nose, ok = point("POSE_LANDMARKS", "NOSE")
    cam[:, NOSE], found[:, NOSE] = nose, ok
    for joint, name in ((R_SHOULDER, "RIGHT_SHOULDER"), (R_ELBOW, "RIGHT_ELBOW"), (R_WRIST, "RIGHT_WRIST"),
                        (L_SHOULDER, "LEFT_SHOULDER"), (L_ELBOW, "LEFT_ELBOW"), (L_WRIST, "LEFT_WRIST")):
        cam[:, joint], found[:, joint] = point("POSE_LANDMARKS", name)
    cam[:, NECK] = (cam[:, R_SHOULDER] + cam[:, L_SHOULDER]) / 2
    found[:, NECK] = found[:, R_SHOULDER] & found[:, L_SHOULDER]
    hand_names = names["LEFT_HAND_LANDMARKS"].points
    for block, component, wrist in ((LEFT_HAND, "LEFT_HAND_LANDMARKS", L_WRIST),
                                    (RIGHT_HAND, "RIGHT_HAND_LANDMARKS", R_WRIST)):
        start = block.start
        for k, name in enumerate(hand_names[:21]):
            p, ok = point(component, name)
            # Hand depth is relative to the hand's wrist: place it at the Pose wrist's depth.
            p = p.copy()
            p[:, 2] += np.where(found[:, wrist], cam[:, wrist, 2], 0.0)
            cam[:, start + k], found[:, start + k] = p, ok
    if not found[:, NECK].any():
        raise InputError("this pose has no frame with both shoulders; it cannot be mapped onto a skeleton")
    shoulder = np.linalg.norm(cam[:, R_SHOULDER] - cam[:, L_SHOULDER], axis=-1)[found[:, NECK]]
    scale = float(np.median(shoulder)) / SHOULDER_WIDTH
    if not np.isfinite(scale) or scale <= 0:
        raise InputError("the signer's shoulders coincide in every frame; the pose cannot be scaled")
    neck = cam[:, NECK : NECK + 1]
    rel = (cam - neck) / scale
    out = np.stack([-rel[..., 0], rel[..., 1], -rel[..., 2]], -1)  # camera -> skeleton axes
    found &= found[:, NECK : NECK + 1]  # no neck: nothing can be placed in that frame
    return out, found


#: Bone lengths of the PHOENIX-2014-T skeletons' hands in skeleton units (median over the 1,942
#: frames of the 15 sample sentences; each varies by under 0.011): per pair of
#: :data:`HAND_LIMBS` (both hands alike), and from the body's wrist to the hand's base.
HAND_BONE_LENGTHS = (0.0323, 0.0824, 0.0780, 0.0695, 0.0631, 0.0414, 0.0328, 0.0276, 0.0406, 0.0249,
                     0.0216, 0.0411, 0.0252, 0.0204, 0.0379, 0.0233, 0.0183, 0.0306, 0.0168, 0.0151)
WRIST_TO_HAND = 0.0361


def reference_bones() -> list[tuple[int, int, float]]:
    """``(parent, child, length)`` of every hand bone, parents before their children: from each
    body wrist to its hand's base, then the hand's bones (:data:`HAND_BONE_LENGTHS`)."""
    bones = []
    for block, wrist in ((LEFT_HAND, L_WRIST), (RIGHT_HAND, R_WRIST)):
        bones.append((wrist, block.start, WRIST_TO_HAND))
        bones += [(block.start + a, block.start + b, length)
                  for (a, b), length in zip(HAND_LIMBS, HAND_BONE_LENGTHS)]
    return bones


def with_reference_bones(frames: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """``frames`` with every hand bone brought to its length in the data (:func:`reference_bones`),
    keeping each bone's direction: walking from the wrist, a child joint is placed at its parent's
    new position plus the reference length along the original parent-to-child direction. The body
    (nose, neck, shoulders, elbows, wrists) is not changed.

    The skeletons' hands have nearly constant bone lengths, so real data changes little (on a
    PHOENIX dev sentence a hand point moves by 0.018 units on average, at most 0.048, a seventh of
    the shoulder width, mostly the whole hand nearer its wrist); a model that has not learnt the hands
    (fingers 2-4 times too long, their lengths changing from frame to frame, the hand away from
    the wrist) gets hands of a hand's size attached to the wrists, though their fingers point where
    the model put them. A bone of zero length, or one whose joints are missing in ``mask``, keeps
    its child where it was (moved along with its parent).

    Args:
        frames: ``(T, 50, 3)`` joints in skeleton units.
        mask: optional ``(T, 50)`` bool, False where a joint is missing.

    Returns:
        a new ``(T, 50, 3)`` float32 array.

    Raises:
        InputError: ``frames`` does not have shape ``(T, 50, 3)``.
    """
    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 3 or frames.shape[1:] != (NUM_JOINTS, 3):
        raise InputError(f"a skeleton sequence must have shape (T, {NUM_JOINTS}, 3), got {frames.shape}")
    ok = np.ones(frames.shape[:2], bool) if mask is None else np.asarray(mask, bool)
    out = frames.copy()
    for parent, child, length in reference_bones():
        direction = frames[:, child] - frames[:, parent]
        norm = np.linalg.norm(direction, axis=-1, keepdims=True)
        use = (norm[:, 0] > 1e-9) & ok[:, parent] & ok[:, child]
        placed = out[:, parent] + direction / np.maximum(norm, 1e-9) * length
        shift = out[:, parent] - frames[:, parent]  # where the parent moved, the child follows
        out[:, child] = np.where(use[:, None], placed, frames[:, child] + shift)
    return out.astype(np.float32)
