"""RWTH-BOSTON-104 (continuous ASL): hand and nose tracks with gloss sentences.

Files (``$SIGNSTUDIO_DATA/boston104``): ``hands_condensed.csv`` (``video, frame, left-x, left-y,
right-x, right-y, nose-x, nose-y``, pixels, 30 fps) and ``train_words.csv`` / ``test_words.csv``
(``video, speaker, word, startframe, endframe``): 161 training and 40 test sentences, 3 signers.
Left and right are the signer's hands. Licence: RWTH Aachen research database (non-commercial).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from signstudio.errors import InputError
from signstudio.paths import data_dir

#: Frame rate of the BOSTON-104 recordings, frames per second.
BOSTON_FPS = 30.0
SPLITS = ("train", "test")


@dataclass(frozen=True)
class BostonSentence:
    """One BOSTON-104 sentence.

    Attributes:
        video: the corpus's video number.
        speaker: ``woman-1``, ``woman-2`` or ``man-1``.
        glosses: the gloss sequence, e.g. ``["JOHN", "WRITE", "HOMEWORK"]``.
        tracks: ``(T, 3, 2)`` float64 ``[left hand, right hand, nose]`` x ``(x, y)`` in pixels.
        spans: per gloss, its ``(start, end)`` frames (inclusive) as annotated in the corpus.
    """

    video: int
    speaker: str
    glosses: tuple[str, ...]
    tracks: np.ndarray
    spans: tuple[tuple[int, int], ...] = ()


def boston_dir() -> Path:
    """The BOSTON-104 folder under the shared data folder (may not exist)."""
    return data_dir() / "boston104"


def load_boston104(split: str, root: str | Path | None = None) -> list[BostonSentence]:
    """Load the ``"train"`` (161) or ``"test"`` (40) sentences of RWTH-BOSTON-104, by video number.

    Raises:
        InputError: unknown split, or the folder or its files are missing.
    """
    if split not in SPLITS:
        raise InputError(f"unknown BOSTON-104 split {split!r}; known: {', '.join(SPLITS)}")
    root = Path(root) if root is not None else boston_dir()
    words_file = root / f"{split}_words.csv"
    tracks_file = root / "hands_condensed.csv"
    for f in (words_file, tracks_file):
        if not f.is_file():
            raise InputError(f"BOSTON-104 file not found: {f} (set SIGNSTUDIO_DATA)")

    glosses: dict[int, list[str]] = defaultdict(list)
    spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    speakers: dict[int, str] = {}
    with open(words_file, newline="") as f:
        for row in csv.DictReader(f):
            v = int(row["video"])
            glosses[v].append(row["word"])
            spans[v].append((int(row["startframe"]), int(row["endframe"])))
            speakers[v] = row["speaker"]

    frames: dict[int, list[tuple[int, list[float]]]] = defaultdict(list)
    cols = ("left-x", "left-y", "right-x", "right-y", "nose-x", "nose-y")
    with open(tracks_file, newline="") as f:
        for row in csv.DictReader(f):
            v = int(row["video"])
            if v in glosses:
                frames[v].append((int(row["frame"]), [float(row[c]) for c in cols]))

    out = []
    for v in sorted(glosses):
        if v not in frames:
            raise InputError(f"BOSTON-104 video {v} has glosses but no tracks in {tracks_file}")
        rows = sorted(frames[v])
        tracks = np.array([r[1] for r in rows], dtype=np.float64).reshape(-1, 3, 2)
        out.append(BostonSentence(v, speakers[v], tuple(glosses[v]), tracks, tuple(spans[v])))
    return out
