"""Lexicon-based sign language production: glosses -> real recorded signs, stitched into one pose.

This is the pipeline of spoken-to-signed (sign.mt; Moryossef et al. 2023, "An Open-Source
Gloss-Based Baseline for Spoken to Signed Language Translation"), run step by step so that we know
which frames of the result sign which gloss:

1. look every ``(word, gloss)`` up in the user's lexicons (in order), else fingerspell the word
   letter by letter from the package's fingerspelling lexicon (``FingerspellingPoseLookup``);
2. ``reduce_holistic`` (MediaPipe Holistic -> 178 points: 8 body, 128 face contour, 2 x 21 hands)
   and resample every sign to one frame rate;
3. ``normalize_pose``: shoulders centred at the origin, mean shoulder width 1, per sign;
4. ``process_sign``: trim to the active signing span (wrist above elbow), cap a sign's duration
   (0.8 s; for a fingerspelled word 0.8 s per letter: the library's ``gloss_to_pose`` caps a whole
   spelled word at 0.8 s, which makes a long word unreadable);
5. ``smooth_concatenate_poses``: join each pair at the closest frames, insert ``0.07 s`` of
   interpolated padding, low-pass filter the seams (Butterworth; Walsh et al., BMVC 2024,
   "Sign Stitching");
6. ``correct_wrists``, ``normalize_pose_size`` (shoulder width 204.8, the signer inside a
   512 x 512 canvas) and ``hide_lowered_hands``.

A lexicon is a folder in spoken-to-signed's format: ``index.csv`` with the columns
``path,spoken_language,signed_language,start,end,words,glosses,priority`` (``start``/``end`` in
milliseconds, ``end`` 0 = the whole file; lower ``priority`` wins) plus the ``.pose`` files it names,
recorded with MediaPipe Holistic.

Every call into spoken-to-signed runs under ``contextlib.redirect_stdout``: the library prints
progress ("Reducing poses...") that would otherwise corrupt the CLI's ``--json`` output.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import math
import os
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from pose_format import Pose

from signstudio.errors import InputError, SignStudioError
from signstudio.languages import SignLanguage, get_language
from signstudio.pose.io import read_pose
from signstudio.production.types import Production, Segment, Source
from signstudio.tasks import NullTask, TaskHandle, check_cancelled

#: The most glosses one production may have; longer input must be split into sentences.
MAX_GLOSSES = 60

#: A sign longer than this (seconds, after trimming) is sped up to it: spoken-to-signed's default,
#: because citation-form dictionary signs are far slower than fluent signing.
MAX_SIGN_SECONDS = 0.8

#: Seconds of interpolated padding that ``smooth_concatenate_poses`` puts between two signs.
PADDING_SECONDS = 0.07

#: Columns an ``index.csv`` must have; ``start``, ``end`` and ``priority`` default to 0.
REQUIRED_COLUMNS = ("path", "spoken_language", "signed_language", "words", "glosses")
OPTIONAL_COLUMNS = ("start", "end", "priority")
INDEX_FORMAT = "path,spoken_language,signed_language,start,end,words,glosses,priority"

#: Components and body points a lexicon pose needs (MediaPipe Holistic; the trimming, stitching
#: and hand-hiding steps of spoken-to-signed address them by name).
HOLISTIC_COMPONENTS = (
    "POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS")
HOLISTIC_BODY_POINTS = tuple(f"{side}_{joint}" for side in ("LEFT", "RIGHT")
                             for joint in ("SHOULDER", "ELBOW", "WRIST", "HIP"))

# Frame rates within this fraction of the output's are relabelled rather than resampled.
_FPS_TOLERANCE = 0.01

_lock = threading.RLock()  # the library's LRU caches are not thread-safe


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Swallow what spoken-to-signed prints to stdout (its progress lines)."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def _pose_cache():
    """The process-wide cache of read ``.pose`` files (spoken-to-signed's ``LRUCache``, 256 files),
    keyed by ``(absolute path, modification time, size)``."""
    global _POSE_CACHE
    if _POSE_CACHE is None:
        from spoken_to_signed.gloss_to_pose.lookup.lru_cache import LRUCache

        _POSE_CACHE = LRUCache(maxsize=256)
    return _POSE_CACHE


_POSE_CACHE = None


# --------------------------------------------------------------------------------------------
# Lexicons
# --------------------------------------------------------------------------------------------


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


def _check_holistic(pose: Pose, path: Path) -> None:
    """Raise :class:`InputError` unless ``pose`` has the MediaPipe Holistic components we need."""
    names = [c.name for c in pose.header.components]
    if "POSE_LANDMARKS" not in names:
        raise InputError(f"{path}: not a MediaPipe Holistic pose (no POSE_LANDMARKS component; "
                         f"it has {', '.join(names) or 'none'}); "
                         "lexicon signs must be MediaPipe Holistic")
    missing = [c for c in HOLISTIC_COMPONENTS if c not in names]
    if missing:
        raise InputError(f"{path}: not a complete MediaPipe Holistic pose "
                         f"(missing {', '.join(missing)})")
    body = next(c for c in pose.header.components if c.name == "POSE_LANDMARKS")
    missing = [p for p in HOLISTIC_BODY_POINTS if p not in body.points]
    if missing:
        raise InputError(f"{path}: its POSE_LANDMARKS lack {', '.join(missing)}; "
                         "lexicon signs must be MediaPipe Holistic")


def _make_lookup(rows: list[dict], folder: Path):
    """A spoken-to-signed ``PoseLookup`` over ``rows`` whose ``path`` values are absolute."""
    from spoken_to_signed.gloss_to_pose.lookup.lookup import PoseLookup

    class _FolderLookup(PoseLookup):
        """``PoseLookup`` reading through SignStudio's checks and a shared cache keyed by absolute
        path; ``end`` 0 means the whole file (the library would drop the last frame)."""

        def read_pose(self, pose_path: str) -> Pose:
            pose = read_pose(pose_path)  # one-line InputError for missing/garbage files
            _check_holistic(pose, Path(pose_path))
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
    read when first used and kept in a shared LRU cache.

    Raises:
        InputError: the folder or its ``index.csv`` is missing or unreadable, a required column
            (``path, spoken_language, signed_language, words, glosses``) is missing, a row has an
            empty path, a remote path, a ``start``/``end``/``priority`` that is not a whole number,
            or names a file that does not exist, or the index has no rows. The message names the
            path (and the line).
    """
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise InputError(f"{folder}: no such lexicon folder")
    index = folder / "index.csv"
    if not index.is_file():
        raise InputError(f"{folder}: not a lexicon folder (no index.csv with columns {INDEX_FORMAT})")
    stat = index.stat()
    key = (str(index), stat.st_mtime_ns, stat.st_size)
    with _lock:
        if key in _loaded:
            return _loaded[key]
    try:
        with open(index, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            raw_rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{index}: not a readable UTF-8 CSV file ({exc})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InputError(f"{index}: missing column(s) {', '.join(missing)}; "
                         f"a lexicon index needs {INDEX_FORMAT}")
    if not raw_rows:
        raise InputError(f"{index}: the lexicon has no entries")

    entries: list[LexiconEntry] = []
    rows: list[dict] = []
    for line, raw in enumerate(raw_rows, start=2):
        raw = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        where = f"{index} line {line}"
        path = raw["path"]
        if not path:
            raise InputError(f"{where}: empty path")
        if "://" in path:
            raise InputError(f"{where}: {path} is remote; a lexicon's poses must be local files")
        numbers = {}
        for column in OPTIONAL_COLUMNS + ("segment_start", "segment_end"):
            value = raw.get(column) or "0"
            try:
                numbers[column] = int(float(value)) if column != "priority" else int(value)
            except ValueError:
                raise InputError(f"{where}: {column} {value!r} is not a whole number") from None
        file = (folder / path).resolve()
        if not file.is_file():
            raise InputError(f"{where}: {file} does not exist")
        entry = LexiconEntry(path, raw["spoken_language"], raw["signed_language"], numbers["start"],
                             numbers["end"], raw["words"], raw["glosses"], numbers["priority"])
        row = {"path": str(file), "spoken_language": entry.spoken_language,
               "signed_language": entry.signed_language, "start": entry.start, "end": entry.end,
               "words": entry.words, "glosses": entry.glosses, "priority": entry.priority}
        if raw.get("segment_start") or raw.get("segment_end"):
            row["segment_start"] = numbers["segment_start"]
            row["segment_end"] = numbers["segment_end"] or entry.end
        entries.append(entry)
        rows.append(row)
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


# --------------------------------------------------------------------------------------------
# Fingerspelling
# --------------------------------------------------------------------------------------------

_fingerspeller = None


def _fingerspeller_lookup():
    """The library's ``FingerspellingPoseLookup`` (one per process; its pose cache is shared)."""
    global _fingerspeller
    with _lock:
        if _fingerspeller is None:
            from spoken_to_signed.gloss_to_pose.lookup.fingerspelling_lookup import (
                FingerspellingPoseLookup,
            )

            _fingerspeller = FingerspellingPoseLookup()
        return _fingerspeller


def fingerspelling_text(word: str) -> str:
    """What is fingerspelled for ``word``: lower-cased (as spoken-to-signed does) without
    punctuation or spaces (``"Don't"`` -> ``"dont"``, ``"New York"`` -> ``"newyork"``)."""
    kept = [c for c in word if not (unicodedata.category(c).startswith(("P", "Z")) or c.isspace())]
    return "".join(kept).lower()


def alphabet(language: SignLanguage | str) -> list[str]:
    """The fingerspelling alphabet of ``language`` (lower-case keys of spoken-to-signed's
    fingerspelling lexicon, longest first: e.g. DSGS ``["sch", ...]``); empty if it has none."""
    language = get_language(language)
    fs = _fingerspeller_lookup()
    return list(fs.alphabets.get(language.spoken, {}).get(language.code, []))


def spell(word: str, language: SignLanguage | str) -> tuple[list[str], list[str]]:
    """Split ``fingerspelling_text(word)`` into ``language``'s alphabet keys.

    Mirrors ``FingerspellingPoseLookup.characters_lookup``: the longest key found in the text is
    spelled, then the parts before and after it, recursively. Returns ``(letters, missing)``: the
    keys in signing order (DSGS ``"Schule"`` -> ``["sch", "u", "l", "e"]``) and the characters no key
    covers, once each in order of appearance (empty when the word can be spelled).
    """
    keys = alphabet(language)
    letters: list[str] = []
    missing: list[str] = []

    def walk(text: str) -> None:
        if not text:
            return
        for key in keys:
            if key in text:
                i = text.index(key)
                walk(text[:i])
                letters.append(key)
                walk(text[i + len(key):])
                return
        missing.extend(text)  # no key occurs in it, so none of its characters is a key

    walk(fingerspelling_text(word))
    return letters, list(dict.fromkeys(missing))


def missing_letters(word: str, language: SignLanguage | str) -> list[str]:
    """Characters of ``word`` (lower-cased, without punctuation) that ``language``'s
    fingerspelling alphabet lacks, once each in order; ``[]`` if it can be spelled (see
    :func:`spell`)."""
    return spell(word, language)[1]


def fingerspell(word: str, language: SignLanguage | str) -> Pose:
    """Fingerspell ``word`` letter by letter with spoken-to-signed's ``FingerspellingPoseLookup``.

    The letters are stitched by the library (trimmed, 0.8 s each at most, the last one held twice
    as long), giving a pose of 178 reduced Holistic points, ``(T, 1, 178, 3)``, at the alphabet's
    fps (25, or 29.97/30 for bzs, gsg, sgg, tsm), scaled into a 512 x 512 canvas.

    Raises:
        InputError: nothing is left to spell, the language has no fingerspelling alphabet, or the
            alphabet lacks some of the word's characters (they are named).
    """
    language = get_language(language)
    text = fingerspelling_text(word)
    abbr = language.abbreviation
    if not text:
        raise InputError(f"nothing to fingerspell in {word!r}")
    if not alphabet(language):
        raise InputError(f"no sign for {word!r} in {abbr} and {abbr} has no fingerspelling alphabet")
    missing = missing_letters(word, language)
    if missing:
        raise InputError(f"no sign for {word!r} in {abbr} and the {abbr} fingerspelling alphabet "
                         f"has no {', '.join(repr(c) for c in missing)}")
    fs = _fingerspeller_lookup()
    with _lock, _quiet():
        return fs.lookup(text, text, language.spoken, language.code).pose


# --------------------------------------------------------------------------------------------
# Production
# --------------------------------------------------------------------------------------------


@dataclass
class _Piece:
    """One looked-up sign before stitching."""

    pose: Pose
    span: tuple[int, int] | None
    gloss: str
    source: Source
    origin: str  # file, or "fingerspelling", for messages
    letters: list[str] = field(default_factory=list)  # the alphabet keys, when fingerspelled


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


def _sign_item(word: str, gloss: str, language: SignLanguage, lexicons: Sequence[Lexicon],
               fingerspell_missing: bool) -> _Piece | None:
    label = gloss or word.upper()
    for lexicon in lexicons:
        match = lexicon.lookup(word, gloss, language)
        if match is not None:
            return _Piece(match.pose, match.signing_span, label, "lexicon",
                          f"{lexicon.name}/{match.entry.path}")
    abbr = language.abbreviation
    text = word or gloss
    if not fingerspelling_text(text):
        return None  # punctuation only
    if not fingerspell_missing:
        raise InputError(f"no sign for {text!r} in {abbr} (fingerspelling is off)")
    pose = fingerspell(text, language)
    return _Piece(pose, None, label, "fingerspelled", "fingerspelling",
                  letters=spell(text, language)[0])


def produce_from_lexicon(items: Sequence[tuple[str, str]], language: SignLanguage | str,
                         lexicons: Sequence[str | os.PathLike | Lexicon] = (), *,
                         fingerspell: bool = True, task: TaskHandle | None = None,
                         max_sign_seconds: float | None = MAX_SIGN_SECONDS,
                         fps: float | None = None) -> Production:
    """Sign a gloss sequence with recorded signs (spoken-to-signed / sign.mt's lexicon baseline).

    Args:
        items: ``(word, gloss)`` pairs, e.g. ``[("house", "HOUSE"), ("Anna", "ANNA")]``; an empty
            word falls back to the gloss and vice versa.
        language: a :class:`SignLanguage` or a name for :func:`get_language` (``"asl"``).
        lexicons: lexicon folders (or loaded :class:`Lexicon`), searched in order for every item
            (gloss first, then word; see :meth:`Lexicon.lookup`).
        fingerspell: spell a word that no lexicon has letter by letter with the package's
            fingerspelling alphabet (``False``: that is an error).
        task: progress handle: ``set_total(len(items))``, one ``advance()`` per item; checked for
            cancellation between items and before stitching.
        max_sign_seconds: a lexicon sign longer than this after trimming is sped up to it
            (spoken-to-signed's default 0.8 s); a fingerspelled word gets this per letter, plus
            one for the held last letter. ``None``: keep recorded speed.
        fps: output frame rate (default: the first sign's).

    Returns:
        a :class:`Production`: ``pose.body.data`` ``(T, 1, 178, 3)`` (reduced Holistic: 8 body,
        128 face, 21 + 21 hand points) in pixels of a 512 x 512 canvas, one :class:`Segment` per
        signed item (source ``"lexicon"`` or ``"fingerspelled"``) with its ``[start, end)`` frames,
        and notes naming where each sign came from. Items that are only punctuation are skipped
        (with a note).

    Raises:
        InputError: no items (``nothing to sign: the text is empty``), more than
            :data:`MAX_GLOSSES`, an unknown language, a bad lexicon folder or pose file, or a word
            with no sign that cannot be fingerspelled (the missing letters are named).
        Cancelled: the task was cancelled.
    """
    language = get_language(language)
    clean: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, str) or len(item) != 2:
            raise InputError(f"expected (word, gloss) pairs, got {item!r}")
        word, gloss = (str(x or "").strip() for x in item)
        if word or gloss:
            clean.append((word, gloss))
    if not clean:
        raise InputError("nothing to sign: the text is empty")
    if len(clean) > MAX_GLOSSES:
        raise InputError(f"too long: {len(clean)} glosses (the limit is {MAX_GLOSSES}); "
                         "split the text into shorter sentences")
    loaded = [lex if isinstance(lex, Lexicon) else load_lexicon(lex) for lex in lexicons]
    task = task if task is not None else NullTask()
    task.set_total(len(clean), unit="gloss")

    pieces: list[_Piece] = []
    notes: list[str] = []
    for word, gloss in clean:
        check_cancelled(task)
        task.set_status(gloss or word)
        piece = _sign_item(word, gloss, language, loaded, fingerspell)
        if piece is None:
            notes.append(f"skipped {word or gloss!r}: nothing to sign")
        elif piece.source == "fingerspelled":
            notes.append(f"{piece.gloss} was fingerspelled ({'-'.join(piece.letters)})")
        else:
            notes.append(f"{piece.gloss} from {piece.origin}")
        if piece is not None:
            pieces.append(piece)
        task.advance()
    if not pieces:
        raise InputError("nothing to sign: the text is empty")
    check_cancelled(task)
    task.set_status("stitching")

    caps: list[float | None] = []
    for piece in pieces:
        if max_sign_seconds is None:
            caps.append(None)
        elif piece.source == "fingerspelled":
            caps.append(max_sign_seconds * (len(piece.letters) + 1))
        else:
            caps.append(max_sign_seconds)
    pose, ranges = stitch([p.pose for p in pieces], spans=[p.span for p in pieces],
                          max_sign_seconds=caps, fps=fps, names=[p.origin for p in pieces])
    segments = [Segment(p.gloss, start, end, p.source) for p, (start, end) in zip(pieces, ranges)]
    return Production(pose=pose, glosses=[p.gloss for p in pieces], segments=segments,
                      language=language.code, notes=notes)


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


def index_folder(folder: str | os.PathLike, language: SignLanguage | str) -> tuple[Path, list[str]]:
    """Write ``index.csv`` for a folder of ``.pose`` recordings named after their gloss.

    Every ``*.pose`` below ``folder`` whose name ends with a gloss in capitals (see
    :func:`gloss_from_filename`) becomes a row (word = the gloss in lower case, whole clip,
    priority by file order); the index is written atomically, replacing an existing one.

    Returns:
        the index path and the files skipped because their name carries no gloss.

    Raises:
        InputError: no such folder, or no recording with a gloss in its name.
    """
    from signstudio.atomic import atomic_write

    language = get_language(language)
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    rows, skipped = [], []
    for path in sorted(folder.rglob("*.pose")):
        gloss = gloss_from_filename(path)
        if gloss is None:
            skipped.append(str(path.relative_to(folder)))
            continue
        rows.append([path.relative_to(folder).as_posix(), language.spoken, language.code, 0, 0,
                     gloss.lower(), gloss, len(rows)])
    if not rows:
        raise InputError(f"{folder}: no .pose file whose name ends with a gloss in capitals "
                         "(e.g. HOUSE.pose or anna-HOUSE.pose)")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(INDEX_FORMAT.split(","))
    writer.writerows(rows)
    index = folder / "index.csv"
    with atomic_write(index, "w") as f:
        f.write(buf.getvalue())
    return index, skipped
