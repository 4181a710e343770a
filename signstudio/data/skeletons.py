"""Gloss-to-skeleton datasets for sign language production (Progressive Transformers format, `.pose` manifests).

Two on-disk formats give the same :class:`SkeletonExample`:

- **Progressive Transformers** (Saunders et al. 2020; also SignLLM's Prompt2Sign): per split
  ``{split}.skels``, ``{split}.gloss``, ``{split}.text``, ``{split}.files``, line-aligned, one
  sentence per line. A ``.skels`` line is all frames of a sentence flattened: 151 floats per frame
  = 50 joints x (x, y, z) then a counter ``t / T`` in [0, 1) (PHOENIX-2014-T skels: 25 fps).
- **A `.pose` manifest** (a user's own recordings): ``{split}.tsv`` with lines
  ``path<TAB>glosses<TAB>text`` (an optional first line ``path<TAB>gloss<TAB>text`` is a header);
  paths are relative to the folder. Each ``.pose`` (MediaPipe Holistic or the 50-joint layout) is
  mapped with :func:`signstudio.pose.skeletons.pose_to_skeleton` and resampled to 25 fps.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


import numpy as np

from signstudio.errors import ConfigError, InputError
from signstudio.pose.skeletons import NUM_JOINTS, SKELETON_FPS, pose_to_skeleton

#: Floats per frame in a ``.skels`` line: 50 joints x 3 + the counter.
FLOATS_PER_FRAME = NUM_JOINTS * 3 + 1
#: Named skeleton datasets: name -> (folder under ``signstudio.paths.data_dir()``, sign language code).
SKELETON_DATASETS = {"phoenix14t-skels": ("phoenix14t/skels", "gsg")}
SPLITS = ("train", "dev", "test")


@dataclass
class SkeletonExample:
    """One sentence: glosses, spoken-language text and its skeleton frames.

    Attributes:
        id: e.g. ``"train/11August_2010_Wednesday_tagesschau-1"`` (the ``.files`` line) or the
            ``.pose`` path.
        glosses: the gloss sequence (untagged, as in the files).
        text: the spoken-language sentence.
        frames: ``(T, 50, 3)`` float32 joints in skeleton units (see :mod:`signstudio.pose.skeletons`).
        counter: ``(T,)`` float32 progress ``t / T`` of each frame, in [0, 1).
        fps: frames per second.
        mask: ``(T, 50)`` bool, False where a joint was not found (user recordings), or None.
    """

    id: str
    glosses: list[str]
    text: str
    frames: np.ndarray
    counter: np.ndarray
    fps: float
    mask: np.ndarray | None = None


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    return path.read_text(encoding="utf-8").splitlines()


def load_skels(folder: str | Path, split: str) -> list[SkeletonExample]:
    """Read one split of a Progressive Transformers skeleton folder.

    Raises:
        InputError: a missing file, files of different line counts, or a malformed ``.skels``
            line (not numbers, or a count that is not a positive multiple of 151), named by file
            and line.
    """
    folder = Path(folder)
    skels_path = folder / f"{split}.skels"
    skels = _read_lines(skels_path)
    glosses = _read_lines(folder / f"{split}.gloss")
    texts = _read_lines(folder / f"{split}.text")
    files_path = folder / f"{split}.files"
    files = _read_lines(files_path) if files_path.is_file() else [f"{split}/{i}" for i in range(len(skels))]
    counts = {".skels": len(skels), ".gloss": len(glosses), ".text": len(texts), ".files": len(files)}
    if len(set(counts.values())) != 1:
        raise InputError(f"{folder}/{split}.*: the files are not line-aligned (lines: "
                         + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")")
    out = []
    for i, line in enumerate(skels):
        try:
            values = np.array(line.split(), dtype=np.float32)
        except ValueError:
            raise InputError(f"{skels_path}:{i + 1}: not a list of numbers") from None
        if values.size == 0 or values.size % FLOATS_PER_FRAME:
            raise InputError(f"{skels_path}:{i + 1}: {values.size} numbers is not a positive multiple of "
                             f"{FLOATS_PER_FRAME} (50 joints x 3 + counter per frame)")
        per_frame = values.reshape(-1, FLOATS_PER_FRAME)
        out.append(SkeletonExample(
            id=files[i].strip(), glosses=glosses[i].split(), text=texts[i].strip(),
            frames=np.ascontiguousarray(per_frame[:, :-1].reshape(-1, NUM_JOINTS, 3)),
            counter=np.ascontiguousarray(per_frame[:, -1]), fps=SKELETON_FPS))
    return out


def _resample(x: np.ndarray, fps: float, target: float) -> np.ndarray:
    from signstudio.pose.features import resample

    return resample(x, fps, target)


def load_pose_manifest(folder: str | Path, split: str) -> list[SkeletonExample]:
    """Read one split of a folder of ``.pose`` recordings listed in ``{split}.tsv``.

    Each pose is mapped to the 50-joint skeleton (:func:`pose_to_skeleton`), resampled to 25 fps;
    joints missing in a frame are 0 with ``mask`` False (or, after resampling, wherever a missing
    frame took part in the interpolation).

    Raises:
        InputError: a missing or malformed manifest (see :func:`signstudio.data.manifest.load_manifest`),
            a missing or unreadable pose file.
    """
    from signstudio.data.manifest import load_manifest
    from signstudio.pose.io import read_pose

    out = []
    for item in load_manifest(folder, split):
        pose = read_pose(item.path)
        fps = float(pose.body.fps)
        frames, mask = pose_to_skeleton(pose, return_mask=True)
        frames = _resample(frames.astype(np.float64), fps, SKELETON_FPS).astype(np.float32)
        mask = _resample(mask.astype(np.float64), fps, SKELETON_FPS) > 0.999
        frames = np.where(mask[..., None], frames, 0.0).astype(np.float32)
        t = frames.shape[0]
        out.append(SkeletonExample(id=os.path.relpath(item.path, folder), glosses=list(item.glosses),
                                   text=item.text.strip(), frames=frames,
                                   counter=(np.arange(t) / t).astype(np.float32), fps=SKELETON_FPS,
                                   mask=None if mask.all() else mask))
    return out


def skeleton_folder(dataset: str, path: str = "") -> Path:
    """The folder of a named skeleton dataset, or ``path`` (a user folder) if given.

    Raises:
        ConfigError: neither a known dataset name nor a path.
    """
    if path:
        return Path(path).expanduser()
    if dataset not in SKELETON_DATASETS:
        raise ConfigError(f"unknown skeleton dataset {dataset!r}; known: {', '.join(SKELETON_DATASETS)} "
                          "(or set data.path to a folder of .skels or .tsv/.pose files)")
    from signstudio.paths import data_dir

    return data_dir() / SKELETON_DATASETS[dataset][0]


def dataset_language(dataset: str, language: str = "") -> str:
    """The sign language code of a dataset: ``language`` if given, else the named dataset's.

    Raises:
        ConfigError: no language given for a dataset that does not define one.
    """
    if language:
        return language
    if dataset in SKELETON_DATASETS:
        return SKELETON_DATASETS[dataset][1]
    raise ConfigError("set data.language (a sign language code such as 'gsg' or 'ase') for this dataset")


def load_split(folder: str | Path, split: str) -> list[SkeletonExample]:
    """One split of a folder in either format (``.skels`` preferred, else a manifest of ``.pose``
    files, see :mod:`signstudio.data.manifest`); ``[]`` if it has neither.

    Raises:
        InputError: as :func:`load_skels` / :func:`load_pose_manifest`.
    """
    folder = Path(folder)
    if (folder / f"{split}.skels").is_file():
        return load_skels(folder, split)
    from signstudio.data.manifest import load_manifest

    if (folder / f"{split}.tsv").is_file() or (folder / "manifest.tsv").is_file() and any(
            i.split == split for i in load_manifest(folder, check_files=False)):
        return load_pose_manifest(folder, split)
    return []


def load_skeleton_splits(dataset: str, path: str = "", dev_every: int = 10) -> dict[str, list[SkeletonExample]]:
    """``{"train", "dev", "test"}`` skeleton sentences of a named dataset or a user folder.

    Args:
        dataset: a name such as ``phoenix14t-skels``; ``path`` (a user folder) wins over it.
        dev_every: a folder without a dev split holds out every ``dev_every``-th training
            sentence as dev (0: none).

    Raises:
        ConfigError: unknown dataset. InputError: no training sentences, or malformed files.
    """
    folder = skeleton_folder(dataset, path)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such data folder (set SIGNSTUDIO_DATA or data.path)")
    splits = {s: load_split(folder, s) for s in SPLITS}
    if not splits["train"]:
        raise InputError(f"{folder}: no training data (train.skels or train.tsv)")
    if not splits["dev"] and dev_every and len(splits["train"]) >= 2:
        splits["dev"] = [e for i, e in enumerate(splits["train"]) if i % dev_every == dev_every - 1]
        splits["train"] = [e for i, e in enumerate(splits["train"]) if i % dev_every != dev_every - 1]
    return splits


def language_tag(language: str) -> str:
    """The Prompt2LangGloss tag token of a language, e.g. ``"<gsg>"``."""
    return f"<{language}>"


def tag_glosses(glosses: list[str], language: str) -> list[str]:
    """Glosses with their language attribute (Prompt2LangGloss): ``["<gsg>", "gsg:JETZT", ...]``."""
    return [language_tag(language)] + [f"{language}:{g}" for g in glosses]
