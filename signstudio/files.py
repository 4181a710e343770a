"""Files a user names: inputs checked before they are read, outputs checked before the work that
fills them and written all together or not at all.

:func:`check_input_file` turns every way a named input can be missing (no such file, a folder,
a device or pipe, no permission to read) into one line.

Two promises for every file a command writes:

1. **Checked first.** :func:`check_output_file` / :func:`check_output_folder` refuse, in one
   line, a target that could not be written — a wrong suffix, an existing folder where a file
   should go, a missing parent folder, a parent that is a file, a folder that is read-only or
   not writable, a disk that is full — *before* minutes of MediaPipe or model time.
2. **All or none.** :class:`OutputGroup` writes each output of a job to a temporary file beside
   its target and renames them onto their targets only when the whole job succeeded; a job that
   fails half-way leaves the previous files untouched and no partial or temporary file behind.

An :class:`OSError` while writing becomes an :class:`~signstudio.errors.InputError` naming the
*target* (not the temporary file) and the reason, e.g. ``out.pose: No space left on device``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from signstudio.atomic import publish, temp_beside
from signstudio.errors import InputError, os_error_message

#: Bytes written (and removed) to prove a folder takes data: catches a full disk, not just a
#: read-only folder.
PROBE_BYTES = 4096


def _suffix_text(suffixes: tuple[str, ...]) -> str:
    """``.pose`` / ``.mp4 or .gif`` / ``.a, .b or .c``."""
    if len(suffixes) <= 1:
        return "".join(suffixes)
    return ", ".join(suffixes[:-1]) + " or " + suffixes[-1]


def _probe_folder(folder: Path, shown: str) -> None:
    """Create, fill with :data:`PROBE_BYTES` and remove a file in ``folder``.

    Raises:
        InputError: ``"SHOWN: cannot write in FOLDER (REASON)"``.
    """
    tmp = None
    try:
        tmp = temp_beside(folder / ".signstudio-write-check")
        with open(tmp, "wb") as f:
            f.write(b"\0" * PROBE_BYTES)
            f.flush()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"{shown}: cannot write in {folder} ({reason})") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def check_input_file(path: str | os.PathLike, kind: str = "file") -> Path:
    """Check that ``path`` names a regular file this process can open for reading.

    Args:
        path: the file; ``~`` is expanded.
        kind: what it should be, for the messages (``"video"``, ``".pose file"``).

    Returns:
        The file as a :class:`~pathlib.Path` (``~`` expanded).

    Raises:
        InputError: ``"PATH: no such file"``, ``"PATH: is a folder, not a KIND"``, ``"PATH: not a
            regular file (a device or pipe), not a KIND"``, or ``"PATH: REASON"`` when it cannot be
            opened (e.g. ``Permission denied``).
    """
    shown = str(path)
    target = Path(path).expanduser()
    try:
        st = target.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(f"{shown}: no such file") from None
    except OSError as exc:
        raise InputError(os_error_message(exc, shown)) from None
    except ValueError:  # an embedded NUL byte
        raise InputError(f"{shown!r}: not a valid file name") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{shown}: is a folder, not a {kind}")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{shown}: not a regular file (a device or pipe), not a {kind}")
    try:
        with open(target, "rb"):
            pass
    except OSError as exc:
        raise InputError(os_error_message(exc, shown)) from None
    return target


def check_output_file(path: str | os.PathLike, suffixes: Iterable[str] | None = None, *,
                      option: str | None = None) -> Path:
    """Refuse, before any slow work, a file target that cannot be written.

    Nothing is created or changed (a probe file is written in the folder and removed again).

    Args:
        path: the file a command will write; ``~`` is expanded.
        suffixes: accepted suffixes, with the dot, compared case-insensitively (e.g.
            ``(".pose",)``); ``None`` accepts any.
        option: the command-line option that named ``path`` (``"-o"``), for the suffix message
            (``-o must name a .pose file, got 'x.txt'``).

    Returns:
        The target as a :class:`~pathlib.Path` (``~`` expanded).

    Raises:
        InputError: one line naming the path: an empty path; a suffix not in ``suffixes``; an
            existing folder or other non-regular file (a device, a pipe) at ``path``; a parent
            folder that does not exist or is a file; a folder that cannot be written (permission
            denied, read-only file system, disk full).
    """
    if path is None or not str(path).strip():
        raise InputError("an empty output path was given")
    shown = str(path)
    target = Path(path).expanduser()
    if suffixes is not None:
        allowed = tuple(s.lower() for s in suffixes)
        if target.suffix.lower() not in allowed:
            if option:
                raise InputError(f"{option} must name a {_suffix_text(allowed)} file, got {target.name!r}")
            raise InputError(f"{shown}: expected a {_suffix_text(allowed)} file")
    try:
        st = target.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:  # e.g. ENOTDIR: a parent is a file; ELOOP; EACCES
        parent = target.parent
        if exc.errno == errno.ENOTDIR:
            raise InputError(f"{shown}: {_first_non_folder(parent)} is not a folder") from None
        raise InputError(os_error_message(exc, shown)) from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{shown}: is a folder; give a file name")
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{shown}: not a regular file (a device or pipe); give a file name")
    parent = target.parent
    if not parent.exists():
        first = _first_non_folder(parent)
        if first.exists():
            raise InputError(f"{shown}: {first} is not a folder")
        raise InputError(f"{shown}: the folder {parent} does not exist")
    if not parent.is_dir():
        raise InputError(f"{shown}: {parent} is not a folder")
    _probe_folder(parent, shown)
    return target


def _first_non_folder(path: Path) -> Path:
    """The shortest ancestor of ``path`` (or ``path`` itself) that is not an existing folder."""
    for p in reversed([path, *path.parents]):
        if not p.is_dir():
            return p
    return path


def check_output_folder(path: str | os.PathLike) -> Path:
    """Refuse, before any slow work, a folder target (e.g. a training run's output) that cannot
    be written. A missing folder is fine when the nearest existing ancestor is a writable folder
    (it will be created); nothing is created here.

    Args:
        path: the folder; ``~`` is expanded.

    Returns:
        The folder as a :class:`~pathlib.Path` (``~`` expanded).

    Raises:
        InputError: one line naming the path: an empty path; ``path`` or one of its ancestors is
            an existing file; the folder (or its nearest existing ancestor) cannot be written
            (permission denied, read-only file system, disk full).
    """
    if path is None or not str(path).strip():
        raise InputError("an empty output folder was given")
    shown = str(path)
    target = Path(path).expanduser()
    if target.exists() and not target.is_dir():
        raise InputError(f"{shown}: is a file, not a folder")
    existing = target
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"{shown}: {existing} is not a folder")
    _probe_folder(existing, shown)
    return target


class OutputGroup:
    """The output files of one job, written all together or not at all.

    Use as a context manager: ask :meth:`path` for a temporary path per target and let the
    writers write there; when the block ends normally every temporary file is renamed onto its
    target (:meth:`commit`), when it raises every one is removed (:meth:`discard`) and the
    targets keep their previous content. An :class:`OSError` raised in the block or while
    renaming becomes an :class:`~signstudio.errors.InputError` naming the target::

        with OutputGroup() as out:
            save_record(record, out.path("a.npz"))
            record_heatmap_png(record, out.path("a.png"))

    The renames happen one after another at the end, once the slow work is done; only a failing
    rename (which the checks above make unlikely) can leave some targets updated and others not.
    """

    def __init__(self) -> None:
        self._temps: dict[Path, tuple[Path, Path]] = {}  # absolute target -> (target, temporary path)
        self._current: Path | None = None

    def path(self, target: str | os.PathLike) -> Path:
        """A fresh temporary path beside ``target`` with ``target``'s suffix (an empty file
        already exists there); write ``target``'s content to it.

        Raises:
            InputError: ``target`` was already given to this group, or its folder is not writable.
        """
        target = Path(target).expanduser()
        key = target.absolute()
        if key in self._temps:
            raise InputError(f"{target}: named twice as an output")
        self._current = target
        try:
            tmp = temp_beside(target, keep_suffix=True)
        except OSError as exc:
            raise InputError(os_error_message(exc, str(target))) from None
        self._temps[key] = (target, tmp)
        return tmp

    def commit(self) -> None:
        """Rename every temporary file onto its target.

        Raises:
            InputError: a rename failed (the remaining temporary files are removed).
        """
        try:
            for key, (target, tmp) in list(self._temps.items()):
                self._current = target
                publish(tmp, target)
                del self._temps[key]
        except OSError as exc:
            self.discard()
            raise InputError(os_error_message(exc, str(self._current))) from None

    def discard(self) -> None:
        """Remove every temporary file not yet renamed (safe to call twice)."""
        for _, tmp in self._temps.values():
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self._temps.clear()

    def __enter__(self) -> "OutputGroup":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.commit()
            return False
        name = self._target_of(exc) if isinstance(exc, OSError) else None
        self.discard()
        if isinstance(exc, OSError):
            raise InputError(os_error_message(exc, name)) from None
        return False

    def _target_of(self, exc: OSError) -> str | None:
        """The target whose temporary file ``exc`` names, else the one written last."""
        filename = getattr(exc, "filename", None)
        if filename is not None:
            for target, tmp in self._temps.values():
                if os.fspath(filename) == os.fspath(tmp):
                    return str(target)
        return str(self._current) if self._current is not None else None

