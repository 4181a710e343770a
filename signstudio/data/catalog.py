"""What sign-language data is on this machine: a scan of the data folder for every known format.

:func:`find_datasets` walks ``signstudio.paths.data_dir()`` (or any folder) and recognises, by
their files, the formats SignStudio reads:

===================== ====================================== =========================================
kind                  recognised by                          read with
===================== ====================================== =========================================
``boston104``         ``hands_condensed.csv`` + words CSVs   :mod:`signstudio.data.boston104`
``phoenix-text``      ``{split}.de`` + ``{split}.gloss``     :mod:`signstudio.data.phoenix`
``slt-pickle``        gzip'd pickles ``*.{train,dev,test}``  :mod:`signstudio.data.slt`
``pt-skels``          ``{split}.skels``                      :mod:`signstudio.data.skeletons`
``how2sign-openpose`` ``openpose/CLIP/*_keypoints.json``     :mod:`signstudio.data.how2sign`
``msl150-npy``        ``SIGN/SEQ/FRAME.npy``                 (MediaPipe, 226 floats a frame)
``asl-app-json``      ``metadata.json`` + ``signs/*.json``   (MediaPipe landmarks as JSON)
``manifest``          ``manifest.tsv`` / ``{split}.tsv``     :mod:`signstudio.data.manifest`
``pose-files``        ``*.pose`` (pose-format)               :mod:`signstudio.pose.io`
===================== ====================================== =========================================

Counts are read from the files (sentences, clips, recordings; frames in the notes). A dataset
whose files are broken is still listed, with the one-line reason in its notes. The walk goes at
most :data:`MAX_DEPTH` folders deep and does not enter recognised datasets, hidden folders or
folders of more than :data:`MAX_SUBDIRS` sub-folders (frame folders of raw corpora), so it stays
fast on a full corpus.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from signstudio.errors import InputError, SignStudioError
from signstudio.paths import data_dir

#: How deep below the root the scan looks for datasets.
MAX_DEPTH = 4
#: A folder with more sub-folders than this is a folder of samples, not of datasets: not entered.
MAX_SUBDIRS = 500
#: Frames of ``.pose`` files are counted (by reading them) only up to this many files.
MAX_POSE_FILES_READ = 200
#: Files larger than this (bytes) are not parsed for the listing: lines are counted, or nothing.
LARGE_FILE = 256 * 2**20
#: How2Sign folders with more clips than this are counted by folder, without listing each clip.
MAX_CLIPS_SCANNED = 300
SPLIT_ORDER = ("train", "dev", "val", "test")

_UNKNOWN_LICENCE = "unknown: check the source"
#: Folders of the shared data (relative to the root) whose generic format does not say which corpus
#: they are: their name and licence (from the shared data's README).
KNOWN_FOLDERS = {
    "phoenix14t/skels": ("RWTH-PHOENIX-Weather-2014T", "CC BY-NC-SA 4.0"),
    "poses": ("ASL poses (MediaPipe)", "MIT"),
}


@dataclass
class DatasetInfo:
    """One dataset found on disk.

    Attributes:
        name: the corpus (``"RWTH-BOSTON-104"``) or, for generic formats, the folder.
        kind: the format (see the module docstring), e.g. ``"slt-pickle"``.
        path: the folder (or file) that holds it.
        splits: ``{split: number of sentences / clips / recordings}``, in split order; ``"all"``
            for sets without splits; empty when the files could not be read or were too large
            to count (the notes say which).
        task: what it serves, e.g. ``"continuous recognition (ASL): tracks -> glosses"``.
        licence: the licence, as far as known.
        notes: further facts (frames, vocabulary, what is missing) or why it could not be read.
    """

    name: str
    kind: str
    path: Path
    splits: dict[str, int] = field(default_factory=dict)
    task: str = ""
    licence: str = _UNKNOWN_LICENCE
    notes: str = ""

    @property
    def total(self) -> int:
        """Items over all splits."""
        return sum(self.splits.values())


def _ordered(splits: dict) -> dict:
    """``splits`` with its keys in split order (train, dev, val, test, then others by name)."""
    rank = {s: i for i, s in enumerate(SPLIT_ORDER)}
    return dict(sorted(splits.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


# --- one function per format: (folder, entry names, root) -> infos ------------------------------


def _boston(folder: Path, names: set[str], root: Path) -> list[DatasetInfo]:
    if "hands_condensed.csv" not in names or not names & {"train_words.csv", "test_words.csv"}:
        return []
    from signstudio.data.boston104 import BOSTON_FPS, SPLITS, load_boston104

    info = DatasetInfo("RWTH-BOSTON-104", "boston104", folder,
                       task="recognition (ASL tracks -> glosses)",
                       licence="RWTH research, non-commercial")
    sentences = {s: load_boston104(s, folder) for s in SPLITS if (folder / f"{s}_words.csv").is_file()}
    info.splits = {s: len(v) for s, v in sentences.items()}
    every = [x for v in sentences.values() for x in v]
    info.notes = (f"{len({g for x in every for g in x.glosses})} glosses, "
                  f"{sum(x.tracks.shape[0] for x in every)} frames at {BOSTON_FPS:g} fps, "
                  f"{len({x.speaker for x in every})} signers")
    return [info]


def _phoenix_text(folder: Path, names: set[str], root: Path) -> list[DatasetInfo]:
    from signstudio.data.phoenix import SPLITS, load_phoenix_annotations

    present = [s for s in SPLITS if {f"{s}.de", f"{s}.gloss"} <= names]
    if not present:
        return []
    info = DatasetInfo("RWTH-PHOENIX-Weather-2014T", "phoenix-text", folder,
                       task="text <-> gloss (German / DGS)",
                       licence="CC BY-NC-SA 3.0")
    pairs = {s: load_phoenix_annotations(s, folder) for s in present}
    info.splits = {s: len(v) for s, v in pairs.items()}
    every = [p for v in pairs.values() for p in v]
    info.notes = (f"{len({g for p in every for g in p.glosses})} gloss types, "
                  f"{len({w for p in every for w in p.text})} German word types; no video or poses")
    return [info]


def _slt(folder: Path, names: set[str], root: Path) -> list[DatasetInfo]:
    files = {}
    for n in sorted(names):
        stem, _, split = n.rpartition(".")
        if stem and split in ("train", "dev", "test") and (folder / n).is_file():
            with open(folder / n, "rb") as f:
                magic = f.read(2)
            if magic == b"\x1f\x8b" or magic[:1] == b"\x80":
                files[split] = folder / n
    if not files:
        return []
    from signstudio.data.slt import load_slt

    info = DatasetInfo("RWTH-PHOENIX-Weather-2014T", "slt-pickle", folder,
                       task="sign-to-text (DGS -> German)",
                       licence="CC BY-NC-SA 3.0")
    large = {s: p for s, p in files.items() if p.stat().st_size > LARGE_FILE}
    loaded = {s: load_slt(p) for s, p in files.items() if s not in large}
    info.splits = _ordered({s: len(v) for s, v in loaded.items()})
    every = [e for v in loaded.values() for e in v]
    with_features = [e for e in every if e.features is not None]
    streams = sorted({s for e in every for s in e.alignment_streams})
    notes = []
    if with_features:
        dims = sorted({e.features.shape[1] for e in with_features})
        notes.append(f"features (T, {'/'.join(map(str, dims))}) for {len(with_features)} of {len(every)}")
    elif every:
        notes.append("annotations only: no 'sign' features (bring slt's (T, 1024) features to train on video)")
    if every:
        notes.append(f"{sum(e.num_frames for e in every)} frames at 25 fps, {len({e.signer for e in every})} signers")
    if streams:
        notes.append(f"frame alignments {', '.join(streams)}")
    notes += [f"{s} not counted ({p.stat().st_size / 2**30:.1f} GiB: read it with load_slt)"
              for s, p in _ordered(large).items()]
    info.notes = "; ".join(notes)
    return [info]


def _line_count(path: Path) -> int:
    """Lines of a text file (a last line without a newline counts), read in 16 MiB blocks."""
    n, last = 0, b"\n"
    with open(path, "rb") as f:
        while block := f.read(1 << 24):
            n += block.count(b"\n")
            last = block[-1:]
    return n + (last != b"\n")


def _skels(folder: Path, names: set[str], root: Path) -> list[DatasetInfo]:
    from signstudio.data.skeletons import SPLITS, load_skels

    present = [s for s in SPLITS if f"{s}.skels" in names]
    if not present:
        return []
    name, licence = _known(folder, root, folder.name)
    info = DatasetInfo(name, "pt-skels", folder, task="production (gloss/text -> 3D skeleton)",
                       licence=licence)
    if sum((folder / f"{s}.skels").stat().st_size for s in present) <= LARGE_FILE:
        loaded = {s: load_skels(folder, s) for s in present}
        info.splits = {s: len(v) for s, v in loaded.items()}
        frames = f"{sum(e.frames.shape[0] for v in loaded.values() for e in v)} frames at 25 fps"
    else:  # a full corpus: count sentences, not frames
        for s in present:
            counts = {k: _line_count(folder / f"{s}.{k}") for k in ("skels", "gloss", "text")}
            if len(set(counts.values())) != 1:
                raise InputError(f"{folder}/{s}.*: the files are not line-aligned ({counts})")
            info.splits[s] = counts["skels"]
        frames = "25 fps (frames not counted: large files)"
    info.notes = f"Progressive Transformers format: 50 joints x (x, y, z), {frames}"
    return [info]


def _how2sign(folder: Path, names: set[str], root: Path) -> list[DatasetInfo]:
    if not names & {"openpose", "openpose_output", "openpose_sentences.tsv"}:
        return []
    from signstudio.data.how2sign import HOW2SIGN_FPS, clip_folders, openpose_root, read_sentences

    subdirs = [p for p in openpose_root(folder).iterdir() if p.is_dir()] if openpose_root(folder).is_dir() else []
    small = len(subdirs) <= MAX_CLIPS_SCANNED
    clips = clip_folders(folder) if small else subdirs
    if not clips:
        return []
    info = DatasetInfo("How2Sign", "how2sign-openpose", folder,
                       task="translation/production (ASL, English)",
                       licence="CC BY-NC 4.0")
    sentences, source = read_sentences(folder)
    split_of = {}
    listed = []
    for files in sorted(folder.glob("*.files")):
        clip_names = [ln.strip() for ln in files.read_text(encoding="utf-8").splitlines() if ln.strip()]
        split_of.update(dict.fromkeys(clip_names, files.stem))
        listed.append(f"{files.stem}.files lists {len(clip_names)} sentences")
    counts: dict[str, int] = {}
    for c in clips:
        s = split_of.get(c.name, "all")
        counts[s] = counts.get(s, 0) + 1
    info.splits = _ordered(counts)
    if small:
        frames = f"{sum(1 for c in clips for _ in c.glob('*_keypoints.json'))} frames"
    else:
        frames = "frames not counted"
    missing = [c.name for c in clips if c.name not in sentences]
    notes = [f"{len(clips)} clips with keypoints ({frames}, {HOW2SIGN_FPS:g} fps, 137 points)", *listed]
    if source is None:
        notes.append("no sentence file")
    elif missing:
        notes.append(f"{len(missing)} clips without a sentence in {source.name}")
    info.notes = "; ".join(notes)
    return [info]


def _msl150(folder: Path, names: set[str], root: Path) -> list[DatasetInfo]:
    signs = sorted(p for p in (folder / n for n in names) if p.is_dir())
    if not signs or len(signs) > MAX_SUBDIRS:
        return []
    sequences = {}
    for sign in signs:
        seqs = [p for p in sign.iterdir() if p.is_dir() and (p / "0.npy").is_file()]
        if seqs:
            sequences[sign.name] = seqs
    if not sequences or len(sequences) < len(signs):
        return []
    import numpy as np

    first = next(iter(sequences.values()))[0] / "0.npy"
    try:
        shape = np.load(first, mmap_mode="r").shape
    except (OSError, ValueError):
        shape = "unreadable"
    frames = sum(1 for seqs in sequences.values() for s in seqs for _ in s.glob("*.npy"))
    n = sum(len(v) for v in sequences.values())
    msl = folder.name.lower() in ("msl150", "msl-150")
    signs_text = f"{len(sequences)} signs ({', '.join(sorted(sequences)[:10])}{', ...' if len(sequences) > 10 else ''})"
    return [DatasetInfo("MSL-150 (sample)" if msl else _known(folder, root, folder.name)[0], "msl150-npy", folder,
                        {"all": n}, task="isolated recognition" + (" (MSL)" if msl else ""),
                        licence="MIT" if msl else _UNKNOWN_LICENCE,
                        notes=f"{signs_text}, {frames} frames, each a .npy of shape {shape}")]


def _asl_app(folder: Path, names: set[str], root: Path) -> list[DatasetInfo]:
    if not {"metadata.json", "signs"} <= names or not (folder / "signs").is_dir():
        return []
    files = sorted((folder / "signs").glob("*.json"))
    info = DatasetInfo("ASL-App", "asl-app-json", folder, {"all": len(files)},
                       task="isolated recognition (ASL)",
                       licence="MIT")
    try:
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        signs = meta.get("signs", {})
        frames = sum(int(v.get("frame_count", 0)) for v in signs.values())
        unlisted = [f.stem for f in files if f.stem not in signs]
        info.notes = (f"{len(files)} signs, {frames} frames (metadata.json), categories "
                      f"{', '.join(meta.get('categories', []))}"
                      + (f"; {len(unlisted)} files not in metadata.json" if unlisted else ""))
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        info.notes = f"metadata.json unreadable ({type(exc).__name__})"
    return [info]


def _manifest(folder: Path, names: set[str], root: Path) -> list[DatasetInfo]:
    from signstudio.data.manifest import is_manifest_folder, load_manifest, split_counts

    if not is_manifest_folder(folder):
        return []
    name, licence = _known(folder, root, folder.name)
    info = DatasetInfo(name, "manifest", folder, task="your recordings",
                       licence=licence if licence != _UNKNOWN_LICENCE else "your own recordings")
    items = load_manifest(folder)
    info.splits = _ordered(split_counts(items))
    info.notes = f"{len({g for i in items for g in i.glosses})} gloss types"
    return [info]


def _pose_files(folder: Path, names: set[str], root: Path) -> list[DatasetInfo]:
    if not any(n.endswith(".pose") for n in names):
        return []
    from signstudio.pose.io import read_pose

    files = sorted(folder.rglob("*.pose"))
    name, licence = _known(folder, root, folder.name)
    info = DatasetInfo(name, "pose-files", folder, {"all": len(files)},
                       task="pose sequences",
                       licence=licence)
    if len(files) <= MAX_POSE_FILES_READ:
        frames, layouts, bad = 0, set(), 0
        for f in files:
            try:
                pose = read_pose(f)
            except SignStudioError:
                bad += 1
                continue
            frames += pose.body.data.shape[0]
            layouts.add(sum(len(c.points) for c in pose.header.components))
        info.notes = (f"{frames} frames; {'/'.join(map(str, sorted(layouts)))} points a frame"
                      + (f"; {bad} unreadable" if bad else ""))
    return [info]


#: Detectors in the order they are tried on each folder, with the kind each reports.
_DETECTORS = ((_boston, "boston104"), (_phoenix_text, "phoenix-text"), (_slt, "slt-pickle"), (_skels, "pt-skels"),
              (_how2sign, "how2sign-openpose"), (_asl_app, "asl-app-json"), (_manifest, "manifest"),
              (_msl150, "msl150-npy"), (_pose_files, "pose-files"))


def _known(folder: Path, root: Path, default: str) -> tuple[str, str]:
    try:
        rel = folder.relative_to(root).as_posix()
    except ValueError:
        rel = ""
    return KNOWN_FOLDERS.get(rel, (default if rel in ("", ".") else rel, _UNKNOWN_LICENCE))


def find_datasets(root: str | Path | None = None) -> list[DatasetInfo]:
    """Every dataset found under ``root`` (default :func:`signstudio.paths.data_dir`), by path.

    Returns ``[]`` when the folder does not exist. A dataset whose files cannot be read is listed
    with empty ``splits`` and the reason in ``notes``.
    """
    root = Path(root).expanduser() if root is not None else data_dir()
    if not root.is_dir():
        return []
    found: list[DatasetInfo] = []

    def visit(folder: Path, depth: int) -> None:
        try:
            with os.scandir(folder) as it:
                entries = [e for e in it if not e.name.startswith(".")]
        except OSError:
            return
        names = {e.name for e in entries}
        for detect, kind in _DETECTORS:
            try:
                infos = detect(folder, names, root)
            except (SignStudioError, OSError) as exc:
                infos = [DatasetInfo(_known(folder, root, folder.name)[0], kind, folder, notes=f"unreadable: {exc}")]
            if infos:
                found.extend(infos)
                return  # a recognised dataset is not searched further
        subdirs = sorted(e.path for e in entries if e.is_dir(follow_symlinks=True))
        if depth < MAX_DEPTH and len(subdirs) <= MAX_SUBDIRS:
            for sub in subdirs:
                visit(Path(sub), depth + 1)

    visit(root, 0)
    return sorted(found, key=lambda i: str(i.path))


def _splits_text(splits: dict[str, int]) -> str:
    return ", ".join(f"{s} {n}" for s, n in splits.items()) if splits else "-"


def format_table(infos: list[DatasetInfo], root: str | Path | None = None) -> str:
    """A plain-text table of ``infos`` for the CLI: one row per dataset (name, format, splits,
    task, licence), then its path (relative to ``root``, default the data folder) and notes."""
    if not infos:
        return "no datasets found"
    root = Path(root) if root is not None else data_dir()
    head = ("dataset", "format", "splits", "task", "licence")
    rows = [(i.name, i.kind, _splits_text(i.splits), i.task, i.licence) for i in infos]
    widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    for info, row in zip(infos, rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        try:
            where = info.path.relative_to(root).as_posix() + "/"
        except ValueError:
            where = str(info.path)
        lines.append(f"    {where}" + (f": {info.notes}" if info.notes else ""))
    return "\n".join(lines)
