"""Reading and writing `.pose` files (pose-format), with one-line errors for bad files."""

from __future__ import annotations

from pathlib import Path

from pose_format import Pose

from signstudio.atomic import atomic_write
from signstudio.errors import InputError


def read_pose(path: str | Path) -> Pose:
    """Read a `.pose` file into a pose-format :class:`Pose` (NumPy body, masked where confidence is 0).

    Raises:
        InputError: the file is missing, empty, truncated or not a pose-format file, or it holds
            no frames.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    data = path.read_bytes()
    if not data:
        raise InputError(f"{path}: the file is empty, not a .pose file")
    try:
        pose = Pose.read(data)
        n_frames = pose.body.data.shape[0]
    except Exception as exc:  # pose-format raises struct/ValueError/IndexError on garbage
        raise InputError(f"{path}: not a readable .pose file ({type(exc).__name__})") from None
    if n_frames == 0:
        raise InputError(f"{path}: the .pose file holds no frames")
    return pose


def write_pose(pose: Pose, path: str | Path) -> None:
    """Write ``pose`` to ``path`` atomically (a temporary file, then a rename)."""
    with atomic_write(path) as f:
        pose.write(f)
