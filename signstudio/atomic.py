"""Atomic file writes: write to a temporary file beside the target, then rename over it.

:func:`atomic_write` hands out an open file, :func:`atomic_path` a temporary *path* with the
target's suffix (for writers that open the file themselves and pick the format by its suffix,
such as OpenCV's ``VideoWriter`` or Pillow). Either way a crash or an exception leaves any
previous target untouched and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

#: Marks the temporary files made here: ``.NAME.<random>.tmp`` or ``.NAME.<random>.tmp.SUFFIX``.
TEMP_MARK = ".tmp"


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def publish(tmp: str | os.PathLike, path: str | os.PathLike) -> None:
    """Give the finished temporary file ``tmp`` the usual permissions (0666 less the umask; a
    ``mkstemp`` file has 0600) and rename it onto ``path``.

    Raises:
        OSError: the rename failed (``tmp`` is left for the caller to remove).
    """
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, path)


def temp_beside(path: str | os.PathLike, keep_suffix: bool = False) -> Path:
    """Create an empty temporary file in ``path``'s folder and return its path.

    Its name is ``.NAME.<random>.tmp`` (``keep_suffix``: ``.NAME.<random>.tmp.SUFFIX``, so that
    writers choosing a format by suffix still see ``path``'s).

    Raises:
        OSError: the folder is missing or not writable.
    """
    path = Path(path)
    suffix = TEMP_MARK + (path.suffix if keep_suffix else "")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    return Path(tmp)


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[BinaryIO]:
    """Open a temporary file next to ``path``; on success fsync it and rename it onto ``path``.

    A crash or exception leaves any previous ``path`` untouched and removes the temporary file.
    ``mode`` is ``"wb"`` or ``"w"`` (UTF-8). Missing parent folders are created.

    Raises:
        OSError: the folder is not writable, or the disk is full.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(path)
    try:
        with open(tmp, mode, **({"encoding": "utf-8"} if "b" not in mode else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        publish(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` with the same suffix, renamed onto ``path`` when the block
    ends normally and removed when it raises. Missing parent folders are created.

    Raises:
        OSError: the folder is not writable, or the rename fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(path, keep_suffix=True)
    try:
        yield tmp
        publish(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
