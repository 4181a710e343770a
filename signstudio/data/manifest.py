"""Manifests of a user's own recordings: a folder of ``.pose`` files listed in a TSV.

Format (SignStudio's own; the same as the ``.pose`` manifests of
:mod:`signstudio.data.skeletons`): a folder holding ``.pose`` files (pose-format) and either

- ``{split}.tsv`` (e.g. ``train.tsv``, ``dev.tsv``): every row belongs to that split, or
- ``manifest.tsv``: one file for all rows, with an optional ``split`` column (rows without one,
  or with an empty cell, are ``"train"``).

Each TSV starts with the header ``path<TAB>gloss<TAB>text`` (columns in any order, plus the
optional ``split``); a file without a header is read as ``path, gloss, text[, split]``. ``path`` is
relative to the folder (or absolute); ``gloss`` is a space-separated gloss sequence and ``text`` the
spoken-language sentence; either may be empty, not both. Fields are not quoted: a tab never
occurs inside one. Blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from signstudio.errors import InputError

#: Columns every manifest has, and the optional one.
COLUMNS = ("path", "gloss", "text")
SPLIT_COLUMN = "split"
#: The single-file manifest's name, and the split of its rows that name none.
MANIFEST_NAME = "manifest.tsv"
DEFAULT_SPLIT = "train"
#: ``{split}.tsv`` names recognised as manifests even without a header line.
USUAL_SPLITS = ("train", "dev", "val", "test")


@dataclass(frozen=True)
class ManifestItem:
    """One recording listed in a manifest.

    Attributes:
        path: the recording (absolute, or relative to the working directory if the folder was).
        glosses: the gloss sequence (may be empty when only ``text`` is known).
        text: the spoken-language sentence (may be empty when only glosses are known).
        split: ``"train"``, ``"dev"``, ``"test"`` or any name the user chose.
        line: the line of ``source`` it came from (1-based), for messages.
        source: the TSV file it came from.
    """

    path: Path
    glosses: list[str]
    text: str
    split: str
    line: int = 0
    source: Path | None = None


def manifest_files(folder: str | Path) -> list[Path]:
    """The manifest TSVs of ``folder``: ``manifest.tsv`` first, then each other ``*.tsv`` that starts
    with a manifest header or is named after a usual split (``train``, ``dev``, ``val``, ``test``)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    out = [folder / MANIFEST_NAME] if (folder / MANIFEST_NAME).is_file() else []
    for tsv in sorted(folder.glob("*.tsv")):
        if tsv.name != MANIFEST_NAME and tsv.is_file() and (tsv.stem in USUAL_SPLITS or _first_line_is_header(tsv)):
            out.append(tsv)
    return out


def is_manifest_folder(folder: str | Path) -> bool:
    """True if ``folder`` holds a manifest (see :func:`manifest_files`)."""
    return bool(manifest_files(folder))


def _header(line: str) -> list[str] | None:
    """The lower-cased column names if ``line`` is a manifest header, else None."""
    names = [h.strip().lower() for h in line.rstrip("\r\n").split("\t")]
    return names if names[0] == "path" or set(COLUMNS) <= set(names) else None


def _first_line_is_header(tsv: Path) -> bool:
    try:
        with open(tsv, encoding="utf-8") as f:
            return _header(f.readline()) is not None
    except (OSError, UnicodeDecodeError):
        return False


def read_manifest_tsv(tsv: str | Path, split: str | None = None, check_files: bool = True) -> list[ManifestItem]:
    """Read one manifest TSV.

    Args:
        tsv: the file.
        split: the split of every row (a ``{split}.tsv``); None reads the ``split`` column,
            :data:`DEFAULT_SPLIT` where it is absent or empty (a ``manifest.tsv``).
        check_files: raise if a listed recording does not exist.

    Raises:
        InputError: missing file, a header without ``path``/``gloss``/``text``, a row with the
            wrong number of columns, an empty path, a row with neither gloss nor text, or a listed
            recording that does not exist; all named by file and line.
    """
    tsv = Path(tsv)
    if not tsv.is_file():
        raise InputError(f"{tsv}: no such file")
    try:
        lines = tsv.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"{tsv}: not a UTF-8 text file") from None
    header = _header(lines[0]) if lines else None
    start = 1 if header else 0
    if header:
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise InputError(f"{tsv}:1: the header lacks column{'s' if len(missing) > 1 else ''} "
                             f"{', '.join(missing)} (expected path<TAB>gloss<TAB>text[<TAB>split])")
    else:  # no header: positional path, gloss, text[, split]
        header = [*COLUMNS, SPLIT_COLUMN]
    index = {name: header.index(name) for name in (*COLUMNS, SPLIT_COLUMN) if name in header}
    need = max(index[c] for c in COLUMNS) + 1
    out = []
    for n, line in enumerate(lines[start:], start=start + 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if not need <= len(cols) <= len(header):
            raise InputError(f"{tsv}:{n}: {len(cols)} tab-separated columns, expected "
                             f"{need if need == len(header) else f'{need} to {len(header)}'} ({', '.join(header)})")
        rel = cols[index["path"]].strip()
        if not rel:
            raise InputError(f"{tsv}:{n}: empty path")
        glosses = cols[index["gloss"]].split()
        text = cols[index["text"]].strip()
        if not glosses and not text:
            raise InputError(f"{tsv}:{n}: {rel} has neither gloss nor text")
        row_split = split
        if row_split is None:
            i = index.get(SPLIT_COLUMN)
            row_split = (cols[i].strip() if i is not None and i < len(cols) else "") or DEFAULT_SPLIT
        path = Path(rel).expanduser()
        path = path if path.is_absolute() else tsv.parent / path
        if check_files and not path.is_file():
            raise InputError(f"{tsv}:{n}: {rel}: no such file")
        out.append(ManifestItem(path, glosses, text, row_split, n, tsv))
    return out


def load_manifest(folder: str | Path, split: str | None = None, check_files: bool = True) -> list[ManifestItem]:
    """The recordings listed in a manifest folder, in file order.

    With ``split``, reads ``{split}.tsv`` if it exists, else the rows of ``manifest.tsv`` whose
    ``split`` is ``split``. Without, reads ``manifest.tsv`` and every ``{split}.tsv``.

    Raises:
        InputError: no such folder, no manifest in it, no rows (of that split), or a malformed
            row (see :func:`read_manifest_tsv`).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such manifest folder")
    if split is not None:
        if (folder / f"{split}.tsv").is_file() and f"{split}.tsv" != MANIFEST_NAME:
            items = read_manifest_tsv(folder / f"{split}.tsv", split, check_files)
            where = folder / f"{split}.tsv"
        elif (folder / MANIFEST_NAME).is_file():
            where = folder / MANIFEST_NAME
            items = [i for i in read_manifest_tsv(where, None, check_files) if i.split == split]
        else:
            raise InputError(f"{folder}: no {split}.tsv or {MANIFEST_NAME} (a TSV of path<TAB>gloss<TAB>text)")
        if not items:
            raise InputError(f"{where}: no recordings of split {split!r}")
        return items
    files = manifest_files(folder)
    if not files:
        raise InputError(f"{folder}: no {MANIFEST_NAME} or SPLIT.tsv (a TSV of path<TAB>gloss<TAB>text)")
    items = []
    for tsv in files:
        items.extend(read_manifest_tsv(tsv, None if tsv.name == MANIFEST_NAME else tsv.stem, check_files))
    if not items:
        raise InputError(f"{folder}: the manifest lists no recordings")
    return items


def split_counts(items: list[ManifestItem]) -> dict[str, int]:
    """``{split: number of items}``, in order of first appearance."""
    counts: dict[str, int] = {}
    for item in items:
        counts[item.split] = counts.get(item.split, 0) + 1
    return counts
