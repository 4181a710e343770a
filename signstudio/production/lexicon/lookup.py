"""A lexicon folder in memory: :func:`load_lexicon` reads and checks its index
(:mod:`~signstudio.production.lexicon.index`), :class:`Lexicon` finds a sign for a word or gloss
through spoken-to-signed's ``PoseLookup`` and reads its recording through SignStudio's checks."""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pose_format import Pose

from signstudio.errors import InputError, SignStudioError
from signstudio.languages import SignLanguage, get_language
from signstudio.pose.io import read_pose
from signstudio.production.lexicon.base import _lock, _pose_cache, check_holistic, complete_holistic
from signstudio.production.lexicon.index import LexiconEntry, read_index


@dataclass(frozen=True)
class LexiconMatch:
    """A sign found in a lexicon.

    Attributes:
        pose: the sign's clip: ``pose.body.data`` is ``(T, 1, J, 3)`` at ``pose.body.fps``, in the
            file's own units (pixels of the recording). Its arrays are a private copy.
        signing_span: ``(first, last)`` frames of active signing within the clip, if the index
            recorded a segmentation (``segment_start``/``segment_end`` columns), else ``None``.
        entry: the index row that matched.
        file: absolute path of the ``.pose`` file.
        lexicon: the lexicon folder it came from.
    """

    pose: Pose
    signing_span: tuple[int, int] | None
    entry: LexiconEntry
    file: Path
    lexicon: Path


def _make_lookup(rows: list[dict], folder: Path):
    """A spoken-to-signed ``PoseLookup`` over ``rows`` whose ``path`` values are absolute."""
    from spoken_to_signed.gloss_to_pose.lookup.lookup import PoseLookup

    class _FolderLookup(PoseLookup):
        """``PoseLookup`` reading through SignStudio's checks and a shared cache keyed by absolute
        path; ``end`` 0 means the whole file (the library would drop the last frame)."""

        def read_pose(self, pose_path: str) -> Pose:
            pose = complete_holistic(read_pose(pose_path))  # one-line InputError for missing/garbage files
            check_holistic(pose, Path(pose_path))
            return pose

        def get_pose(self, row):
            try:
                stat = os.stat(row["path"])
            except OSError:
                raise InputError(f"{row['path']}: no such file") from None
            key = (row["path"], stat.st_mtime_ns, stat.st_size)  # a rewritten file is read again
            with _lock:
                pose = self.cache.get(key)
                if pose is None:
                    pose = self.read_pose(row["path"])
                    self.cache.set(key, pose)
            frame_ms = 1000 / pose.body.fps
            total = len(pose.body.data)
            first = math.floor(row["start"] / frame_ms)
            last = min(total, math.ceil(row["end"] / frame_ms)) if row["end"] > 0 else total
            if last - first < 2:
                raise InputError(f"{row['path']}: the clip {row['start']}-{row['end']} ms holds "
                                 f"{max(0, last - first)} frame(s) of {total}; a sign needs at least 2")
            clip = Pose(copy.deepcopy(pose.header), pose.body[first:last].copy())
            span = None
            if (row["segment_start"], row["segment_end"]) != (row["start"], row["end"]):
                s = math.floor(row["segment_start"] / frame_ms) - first
                e = math.ceil(row["segment_end"] / frame_ms) - first
                span = (max(0, s), min(len(clip.body.data), e))
            return clip, span

    return _FolderLookup(rows=rows, directory=str(folder), cache=_pose_cache())


class Lexicon:
    """A folder of recorded signs with a spoken-to-signed ``index.csv``; build it with
    :func:`load_lexicon`.

    Attributes:
        folder: the lexicon folder (absolute).
        entries: the index rows, in file order.
    """

    def __init__(self, folder: Path, entries: Sequence[LexiconEntry], rows: list[dict]) -> None:
        self.folder = folder
        self.entries: tuple[LexiconEntry, ...] = tuple(entries)
        self._lookup = _make_lookup(rows, folder)
        # (absolute path, start, end, priority, term) -> entry, to name the row the library picked
        self._by_term: dict[tuple, LexiconEntry] = {}
        for row, entry in zip(rows, self.entries):
            for term in (entry.words, entry.glosses):
                key = (row["path"], entry.start, entry.end, entry.priority, term)
                self._by_term.setdefault(key, entry)

    @property
    def name(self) -> str:
        """The folder's name, for messages."""
        return self.folder.name

    @property
    def languages(self) -> tuple[str, ...]:
        """ISO 639-3 codes of the sign languages with at least one entry, sorted."""
        return tuple(sorted({e.signed_language for e in self.entries}))

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"Lexicon({str(self.folder)!r}, {len(self)} entries, languages={list(self.languages)})"

    def lookup(self, word: str, gloss: str, language: SignLanguage | str) -> LexiconMatch | None:
        """Find the sign for ``(word, gloss)`` in ``language``, or ``None``.

        The gloss is tried first, then the word, each through spoken-to-signed's
        ``gloss_candidates`` normalisation (exact, lower-cased, glosser artefacts such as ``+``,
        ``--`` and ``-IX`` removed, letters only) and case-insensitively; entries of the language's
        own spoken language (``language.spoken``) come before entries of other spoken languages.
        Among several matching rows the lowest ``priority`` wins (``PoseLookup.get_best_row``).

        Raises:
            InputError: the matching ``.pose`` file is unreadable, not MediaPipe Holistic, or its
                clip holds fewer than 2 frames.
        """
        from spoken_to_signed.gloss_to_pose.lookup.lookup import gloss_candidates

        language = get_language(language)
        lk = self._lookup
        terms = [(lk.glosses_index, c) for c in gloss_candidates(gloss or "")]
        terms += [(lk.words_index, c) for c in gloss_candidates(word or "")]
        terms += [(lk.glosses_index, c) for c in gloss_candidates(word or "")]
        spoken = [language.spoken] + sorted(s for s in lk.words_index if s != language.spoken)
        for index, term in terms:
            for sp in spoken:
                rows = index.get(sp, {}).get(language.code, {}).get(term.lower())
                if not rows:
                    continue
                row = lk.get_best_row(rows, term)
                pose, span = lk.get_pose(row)
                entry = self._by_term[(row["path"], row["start"], row["end"], row["priority"],
                                       row["term"])]
                return LexiconMatch(pose, span, entry, Path(row["path"]), self.folder)
        return None

_loaded: dict[tuple[str, int, int], Lexicon] = {}


def load_lexicon(folder: str | os.PathLike) -> Lexicon:
    """Read and check a lexicon folder (``index.csv`` + ``.pose`` files, spoken-to-signed format).

    The index is read once per change (cached by path, modification time and size); the poses are
    read when first used and kept in a shared LRU cache (``signstudio lexicon`` checks every
    recording when it writes the index: :func:`~signstudio.production.lexicon.index.index_folder`).

    Raises:
        InputError: the folder or its ``index.csv`` is missing or unreadable, or a row is refused
            by :func:`~signstudio.production.lexicon.index.read_index`: a required column missing,
            an empty, remote or absolute path, a path or link that leads out of the folder, a
            ``start``/``end``/``priority`` that is not a whole number >= 0, a file that does not
            exist, or no rows at all. The message names the index and the line.
    """
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise InputError(f"{folder}: no such lexicon folder")
    index = folder / "index.csv"
    if not index.is_file():
        raise InputError(f"{folder}: not a lexicon folder (no index.csv with columns "
                         "path,spoken_language,signed_language,start,end,words,glosses,priority)")
    stat = index.stat()
    key = (str(index), stat.st_mtime_ns, stat.st_size)
    with _lock:
        if key in _loaded:
            return _loaded[key]
    entries, rows = read_index(folder)
    lexicon = Lexicon(folder, entries, rows)
    with _lock:
        _loaded[key] = lexicon
    return lexicon


def fingerspelling_lexicon() -> Lexicon:
    """spoken-to-signed's fingerspelling lexicon (letters of 20 sign languages, 626 ``.pose``
    files recorded with MediaPipe Holistic at 25-30 fps), as a :class:`Lexicon`.

    Raises:
        SignStudioError: spoken-to-signed is not installed.
    """
    from signstudio.languages import fingerspelling_index_path

    index = fingerspelling_index_path()
    if index is None:
        raise SignStudioError("spoken-to-signed is not installed (pip install spoken-to-signed)")
    return load_lexicon(index.parent)
