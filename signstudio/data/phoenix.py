"""RWTH-PHOENIX-Weather-2014T annotations: German text and DGS glosses, line-aligned.

Files ``{train,dev,test}.{gloss,de}`` (7096 / 519 / 642 sentences, the official splits; text is
already lowercased and tokenised, as in Camgoz et al. 2018). Sign language: DGS (``gsg``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from signstudio.errors import InputError
from signstudio.paths import data_dir

SPLITS = ("train", "dev", "test")
PHOENIX_LANGUAGE = "gsg"  # ISO 639-3: German Sign Language (DGS)


@dataclass(frozen=True)
class TextGlossPair:
    """One sentence: ``text`` (spoken-language words) and ``glosses`` (sign glosses)."""

    id: str
    text: list[str]
    glosses: list[str]


def annotations_dir(path: str | Path | None = None) -> Path:
    """The annotation folder: ``path`` or ``<data>/phoenix14t/annotations``."""
    return Path(path) if path else data_dir() / "phoenix14t" / "annotations"


def load_phoenix_annotations(split: str, path: str | Path | None = None) -> list[TextGlossPair]:
    """Read one split of the PHOENIX-2014-T annotations (or any folder in the same format).

    Raises:
        InputError: unknown split, missing files, or files with different line counts.
    """
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    folder = annotations_dir(path)
    files = {kind: folder / f"{split}.{kind}" for kind in ("de", "gloss")}
    for f in files.values():
        if not f.is_file():
            raise InputError(f"missing annotation file {f} (expected {{train,dev,test}}.{{de,gloss}})")
    text = files["de"].read_text(encoding="utf-8").splitlines()
    gloss = files["gloss"].read_text(encoding="utf-8").splitlines()
    if len(text) != len(gloss):
        raise InputError(f"{files['de']} has {len(text)} lines but {files['gloss']} has {len(gloss)}")
    return [TextGlossPair(f"phoenix14t/{split}/{i}", t.split(), g.split())
            for i, (t, g) in enumerate(zip(text, gloss))]
