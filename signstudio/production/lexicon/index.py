"""A lexicon's ``index.csv``: reading and checking its rows, and writing one for a folder.

The format is spoken-to-signed's: the columns ``path,spoken_language,signed_language,start,end,
words,glosses,priority`` (``start``/``end`` in milliseconds, ``end`` 0 = the whole file; lower
``priority`` wins), optionally ``segment_start``/``segment_end``.

**A lexicon folder stays a folder.** A row's ``path`` is relative to the folder and must stay
inside it: absolute paths, ``..`` that climb out, and symbolic links that point out are refused
with a line naming the row, so an index handed to us cannot make SignStudio read other files.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from signstudio.errors import InputError
from signstudio.languages import SignLanguage, get_language

#: Columns an ``index.csv`` must have; ``start``, ``end`` and ``priority`` default to 0.
REQUIRED_COLUMNS = ("path", "spoken_language", "signed_language", "words", "glosses")
OPTIONAL_COLUMNS = ("start", "end", "priority")
INDEX_FORMAT = "path,spoken_language,signed_language,start,end,words,glosses,priority"
#: Largest ``index.csv`` read (bytes).
MAX_INDEX_BYTES = 64 * 1024 ** 2
#: Most recordings :func:`index_folder` indexes in one folder.
MAX_RECORDINGS = 20_000


@dataclass(frozen=True)
class LexiconEntry:
    """One row of a lexicon's ``index.csv``.

    Attributes:
        path: the ``.pose`` file as written in the index (relative to the lexicon folder).
        spoken_language: ISO 639-1 code of ``words``/``glosses``, e.g. ``"en"``.
        signed_language: ISO 639-3 code of the sign, e.g. ``"ase"``.
        start, end: the sign's clip in the file, milliseconds (``end`` 0: to the end of the file).
        words, glosses: the spoken word and the gloss the sign stands for.
        priority: lower wins when several entries match.
    """

    path: str
    spoken_language: str
    signed_language: str
    start: int
    end: int
    words: str
    glosses: str
    priority: int


def row_file(folder: Path, path: str, where: str) -> Path:
    """The file a row's ``path`` names, which must lie inside the lexicon ``folder``.

    Args:
        folder: the lexicon folder, already resolved (absolute, no links).
        path: the row's ``path`` value. where: ``"INDEX line N"``, for messages.

    Returns:
        The resolved absolute path of an existing regular file inside ``folder``.

    Raises:
        InputError: an empty, remote or absolute path; one that climbs out of the folder
            (``../../etc/passwd``); a symbolic link (or a linked folder on the way) pointing out
            of it; or a file that does not exist or is not a regular file.
    """
    if not path:
        raise InputError(f"{where}: empty path")
    if "://" in path:
        raise InputError(f"{where}: {path} is remote; a lexicon's poses must be local files")
    if "\0" in path:
        raise InputError(f"{where}: the path holds a NUL character")
    if PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute() or PureWindowsPath(path).drive:
        raise InputError(f"{where}: {path!r} is an absolute path; a lexicon's paths are relative "
                         "to its folder")
    lexical = Path(os.path.normpath(folder / path))
    if not lexical.is_relative_to(folder):
        raise InputError(f"{where}: {path!r} points outside the lexicon folder {folder}")
    file = lexical.resolve()
    if not file.is_relative_to(folder):
        raise InputError(f"{where}: {path!r} is a link to {file}, outside the lexicon folder {folder}")
    if not file.is_file():
        raise InputError(f"{where}: {file} does not exist")
    return file


def _whole(value: str, column: str, where: str) -> int:
    """A cell as a whole number >= 0 (``start``, ``end``, ``segment_*`` may be written as floats)."""
    try:
        number = float(value) if column != "priority" else int(value)
        if not math.isfinite(number):
            raise ValueError
        number = int(number)
    except (ValueError, OverflowError):
        raise InputError(f"{where}: {column} {value!r} is not a whole number") from None
    if column != "priority" and number < 0:
        raise InputError(f"{where}: {column} {value!r} is negative")
    return number


def read_index(folder: Path) -> tuple[list[LexiconEntry], list[dict]]:
    """Read and check ``folder/index.csv`` (``folder`` resolved).

    Returns:
        ``(entries, rows)``: one :class:`LexiconEntry` per row, and the rows as spoken-to-signed's
        ``PoseLookup`` takes them (``path`` absolute, numbers as ``int``).

    Raises:
        InputError: one line naming the index (and the line): missing, too large, not UTF-8 CSV,
            a required column missing, no rows, a row with more cells than the header, a number
            that is not a whole number >= 0, ``end`` before ``start``, or a path refused by
            :func:`row_file`.
    """
    index = folder / "index.csv"
    if not index.is_file():
        raise InputError(f"{folder}: not a lexicon folder (no index.csv with columns {INDEX_FORMAT})")
    if index.stat().st_size > MAX_INDEX_BYTES:
        raise InputError(f"{index}: {index.stat().st_size / 1024 ** 2:.0f} MB is too large for a lexicon index")
    try:
        with open(index, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            raw_rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{index}: not a readable UTF-8 CSV file ({str(exc).splitlines()[0]})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InputError(f"{index}: missing column(s) {', '.join(missing)}; "
                         f"a lexicon index needs {INDEX_FORMAT}")
    if not raw_rows:
        raise InputError(f"{index}: the lexicon has no entries")

    entries: list[LexiconEntry] = []
    rows: list[dict] = []
    for line, raw in enumerate(raw_rows, start=2):
        where = f"{index} line {line}"
        if None in raw:
            raise InputError(f"{where}: more cells than the header has columns")
        raw = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        numbers = {c: _whole(raw.get(c) or "0", c, where)
                   for c in OPTIONAL_COLUMNS + ("segment_start", "segment_end")}
        if numbers["end"] and numbers["end"] <= numbers["start"]:
            raise InputError(f"{where}: end {numbers['end']} ms is not after start {numbers['start']} ms")
        file = row_file(folder, raw["path"], where)
        entry = LexiconEntry(raw["path"], raw["spoken_language"], raw["signed_language"], numbers["start"],
                             numbers["end"], raw["words"], raw["glosses"], numbers["priority"])
        row = {"path": str(file), "spoken_language": entry.spoken_language,
               "signed_language": entry.signed_language, "start": entry.start, "end": entry.end,
               "words": entry.words, "glosses": entry.glosses, "priority": entry.priority}
        if raw.get("segment_start") or raw.get("segment_end"):
            row["segment_start"] = numbers["segment_start"]
            row["segment_end"] = numbers["segment_end"] or entry.end
        entries.append(entry)
        rows.append(row)
    return entries, rows


# --------------------------------------------------------------------------------------------
# Making a lexicon from a folder of recordings
# --------------------------------------------------------------------------------------------

_GLOSS_IN_NAME = re.compile(r"(?:^|[-_ ])([A-Z][A-Z0-9+]*(?:-[A-Z0-9+]+)*)$")


def gloss_from_filename(path: str | os.PathLike) -> str | None:
    """The gloss a recording's file name ends with, in capitals: ``colin-1-HOUSE.pose`` -> ``HOUSE``,
    ``HOUSE.pose`` -> ``HOUSE``; ``None`` when the name ends with no capitalised word."""
    stem = Path(path).stem
    if stem.endswith("-needs-trim"):
        stem = stem[: -len("-needs-trim")]
    m = _GLOSS_IN_NAME.search(stem)
    return m.group(1) if m else None


def check_recording_file(file: Path, folder: Path, shown: str) -> None:
    """Read a recording and check it can be stitched (see
    :func:`~signstudio.production.lexicon.base.check_recording`).

    Raises:
        InputError: a link out of ``folder``, an unreadable, truncated, NaN-only or non-Holistic
            `.pose`, fewer than 2 frames, or shoulders never detected.
    """
    from signstudio.pose.io import read_pose
    from signstudio.production.lexicon.base import check_recording, complete_holistic

    if not file.resolve().is_relative_to(folder):
        raise InputError(f"{shown}: a link to {file.resolve()}, outside the lexicon folder {folder}")
    check_recording(complete_holistic(read_pose(file)), shown)


def write_index(index: Path, rows: list[list]) -> None:
    """Write ``rows`` (one per recording, the columns of :data:`INDEX_FORMAT`) as ``index.csv``,
    atomically.

    Raises:
        OSError: the file cannot be written (nothing is left half-written).
    """
    from signstudio.files import OutputGroup

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(INDEX_FORMAT.split(","))
    writer.writerows(rows)
    with OutputGroup() as outputs:
        outputs.path(index).write_text(buf.getvalue(), encoding="utf-8")


def index_folder(folder: str | os.PathLike, language: SignLanguage | str) -> tuple[Path, list[str]]:
    """Write ``index.csv`` for a folder of ``.pose`` recordings named after their gloss.

    Every ``*.pose`` below ``folder`` whose name ends with a gloss in capitals (see
    :func:`gloss_from_filename`) becomes a row (word = the gloss in lower case, whole clip,
    priority by file order). The folder is checked to be writable first, then every recording is
    read and checked (:func:`check_recording_file`: unreadable or truncated files, NaN-only
    landmarks, zero or one frame, not MediaPipe Holistic, no shoulders); the index is written
    atomically, replacing an existing one, only when all of them are good.

    Returns:
        the index path and the files skipped because their name carries no gloss.

    Raises:
        InputError: no such folder, a folder where ``index.csv`` cannot be written, no recording
            with a gloss in its name, more than :data:`MAX_RECORDINGS`, or a bad recording (the
            first is named, with the number of bad ones).
    """
    from signstudio.files import check_output_file

    language = get_language(language)
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    index = check_output_file(folder / "index.csv", (".csv",))
    rows, skipped, bad = [], [], []
    for path in sorted(folder.rglob("*.pose")):
        relative = path.relative_to(folder).as_posix()
        try:
            relative.encode("utf-8")
        except UnicodeEncodeError:  # undecodable bytes in the name cannot go into a UTF-8 index
            bad.append(f"{relative.encode('utf-8', 'surrogateescape').decode('utf-8', 'replace')}: the file "
                       "name is not valid UTF-8; rename it")
            continue
        gloss = gloss_from_filename(path)
        if gloss is None:
            skipped.append(relative)
            continue
        if len(rows) >= MAX_RECORDINGS:
            raise InputError(f"{folder}: more than {MAX_RECORDINGS} recordings; index a smaller folder")
        try:
            check_recording_file(path, folder, str(path))
        except InputError as exc:
            bad.append(str(exc))
            continue
        rows.append([relative, language.spoken, language.code, 0, 0, gloss.lower(), gloss, len(rows)])
    if bad:
        more = f" (and {len(bad) - 1} more bad recording(s))" if len(bad) > 1 else ""
        raise InputError(f"{bad[0]}{more}; no index written")
    if not rows:
        raise InputError(f"{folder}: no .pose file whose name ends with a gloss in capitals "
                         "(e.g. HOUSE.pose or anna-HOUSE.pose)")
    write_index(index, rows)
    return index, skipped
