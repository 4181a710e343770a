"""Reading and writing `.pose` files (pose-format), with one-line errors for bad files.

pose-format reads what it can: a legacy (v0.1) file cut short loses its last frames *and* reads
landmark bytes as confidences, a v0.2 file with bytes after its last frame reads fine, and NaN,
infinite or negative frame rates pass. :func:`read_pose` checks the file's layout against its
header before pose-format parses it, and the numbers after.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
from pose_format import Pose
from pose_format.numpy import NumPyPoseBody

from signstudio.atomic import atomic_write
from signstudio.errors import InputError
from signstudio.files import check_input_file

#: Largest `.pose` file read (bytes): about two hours of 576-point Holistic frames at 30 fps.
MAX_POSE_BYTES = 2 * 1024 ** 3
#: Frame rates accepted (frames per second): above zero, at most this.
MAX_FPS = 1000.0


def read_pose(path: str | Path) -> Pose:
    """Read a `.pose` file into a pose-format :class:`Pose` (NumPy body, masked where confidence is 0).

    Points whose coordinates or confidence are NaN or infinite are treated as not found: their
    confidence becomes 0 and their coordinates 0 (some writers store a hand MediaPipe did not
    find as NaN).

    Returns:
        The pose: ``pose.body.data`` ``(T, P, J, D)`` float32 (masked), ``pose.body.confidence``
        ``(T, P, J)``, ``pose.body.fps`` frames per second.

    Raises:
        InputError: one line naming the file: missing, a folder, unreadable, empty or larger than
            :data:`MAX_POSE_BYTES`; not a pose-format file; truncated (the body is shorter than
            its header and frame count say) or followed by stray bytes; a frame rate that is not a
            number in ``(0, MAX_FPS]``; no frames, no people or no points; or no finite landmark
            at all.
    """
    shown = str(path)
    path = check_input_file(path, ".pose file")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{shown}: the file is empty, not a .pose file")
    if size > MAX_POSE_BYTES:
        raise InputError(f"{shown}: {size / 1024 ** 3:.1f} GB is too large for a .pose file "
                         f"(the limit is {MAX_POSE_BYTES // 1024 ** 3} GB)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{shown}: {exc.strerror or type(exc).__name__}") from None
    return parse_pose(data, shown)


def _header(data: bytes, name: str):
    """The header of a `.pose` buffer and the offset where its body starts."""
    from pose_format.pose_header import PoseHeader
    from pose_format.utils.reader import BufferReader

    try:
        reader = BufferReader(data)
        header = PoseHeader.read(reader)
    except Exception:  # struct.error, UnicodeDecodeError, ... on garbage
        raise InputError(f"{name}: not a readable .pose file (no pose-format header: another kind of "
                         "file, or a damaged one)") from None
    return header, reader.read_offset


def _check_layout(data: bytes, header, offset: int, name: str) -> None:
    """Compare the body's size with what the header and the frame count declare.

    Raises:
        InputError: unknown version, a body too short (truncated) or too long (stray bytes), or
            a header that declares no points or dimensions.
    """
    version = round(float(header.version), 3)
    if version == 0:  # the oldest layout (people per frame): pose-format's reader checks it
        return
    if version not in (0.1, 0.2):
        raise InputError(f"{name}: .pose version {header.version:g} is not supported "
                         "(pose-format 0, 0.1 or 0.2)")
    points = sum(len(c.points) for c in header.components)
    dims = max((len(c.format) for c in header.components), default=1) - 1
    if points <= 0 or dims <= 0:
        raise InputError(f"{name}: the .pose header declares {points} point(s) of {dims} dimension(s)")
    if version == 0.1:  # fps, frames (uint16 each), people (uint16), then the floats
        fixed = 6
        if len(data) < offset + fixed:
            raise InputError(f"{name}: the .pose file is truncated (it ends inside the body header)")
        _, declared, people = struct.unpack_from("<HHH", data, offset)
    else:  # fps (float32), frames (uint32), people (uint16)
        fixed = 10
        if len(data) < offset + fixed:
            raise InputError(f"{name}: the .pose file is truncated (it ends inside the body header)")
        _, declared, people = struct.unpack_from("<fIH", data, offset)
    if people == 0:
        raise InputError(f"{name}: the .pose file holds no people")
    frame_bytes = people * points * (dims + 1) * 4  # float32 landmarks and confidences
    body = len(data) - offset - fixed
    if version == 0.1:
        # pose-format derives v0.1's frame count from the size (the uint16 field overflows past
        # 65535 frames), so a cut file silently loses frames and misreads confidences.
        held, rest = divmod(body, frame_bytes)
        if rest or held % 65536 != declared:
            raise InputError(f"{name}: the .pose file is truncated or damaged (the header declares "
                             f"{declared} frame(s); the body holds {body / frame_bytes:.2f})")
        return
    want = declared * frame_bytes
    if body < want:
        raise InputError(f"{name}: the .pose file is truncated (the header declares {declared} frame(s); "
                         f"the body holds {body / frame_bytes:.2f})")
    if body > want:
        raise InputError(f"{name}: {body - want} stray byte(s) after the last of {declared} frame(s); "
                         "the file is damaged")


def parse_pose(data: bytes, name: str = "the pose") -> Pose:
    """Parse and check the bytes of a `.pose` file (see :func:`read_pose`; ``name`` is for messages).

    Raises:
        InputError: as :func:`read_pose`.
    """
    if not data:
        raise InputError(f"{name}: the file is empty, not a .pose file")
    header, offset = _header(data, name)
    _check_layout(data, header, offset, name)
    try:
        pose = Pose.read(data)
        body = pose.body
        frames = body.data.shape[0]
    except Exception as exc:  # pose-format raises struct/ValueError/IndexError on garbage
        raise InputError(f"{name}: not a readable .pose file ({type(exc).__name__})") from None
    fps = float(body.fps)
    if not math.isfinite(fps) or not 0 < fps <= MAX_FPS:
        raise InputError(f"{name}: the frame rate is {fps:g} fps; it must be a number above 0 "
                         f"and at most {MAX_FPS:g}")
    if frames == 0:
        raise InputError(f"{name}: the .pose file holds no frames")
    coords = np.asarray(np.ma.getdata(body.data))
    conf = np.asarray(body.confidence)
    bad = ~(np.isfinite(coords).all(-1) & np.isfinite(conf))
    if bad.any():
        if bad.all():
            raise InputError(f"{name}: every landmark is NaN or infinite")
        coords = np.where(bad[..., None], 0, coords).astype(coords.dtype)
        conf = np.where(bad, 0, conf).astype(conf.dtype)
        pose = Pose(pose.header, NumPyPoseBody(fps=body.fps, data=coords, confidence=conf))
    return pose


def write_pose(pose: Pose, path: str | Path) -> None:
    """Write ``pose`` to ``path`` atomically (a temporary file, then a rename).

    Raises:
        OSError: the folder is not writable or the disk is full (nothing is left at ``path``).
    """
    with atomic_write(path) as f:
        pose.write(f)
