"""WLASL (Li et al., WACV 2020): isolated ASL signs, in the dataset's own layout.

A WLASL folder holds the metadata (``WLASL_v0.3.json`` for all 2,000 glosses, or ``WLASL100.json``
etc. for a subset: a list of ``{"gloss", "instances": [{"video_id", "split", "signer_id", "fps",
"frame_start", "frame_end", "bbox", "source", ...}]}``), a split file ``nslt_N.json`` (``{video_id:
{"subset": "train"|"val"|"test", "action": [class, start, end]}}``; ``N`` = 100, 300, 1000 or 2000)
and the clips: videos ``VIDEO_ID.mp4`` (to be prepared) or, once prepared by
:func:`signstudio.data.prepare.prepare_wlasl`, landmarks ``poses/VIDEO_ID.pose``.

The class of a clip is ``action[0]`` of the split file, an index into the metadata's gloss order
(the first N glosses of ``WLASL_v0.3.json`` are WLASL-N). Splits are the official ones; ``val`` is
the dev split (checkpoint selection), ``test`` is never used for a decision.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from signstudio.errors import InputError
from signstudio.paths import data_dir

#: Split names of the split file, and the names SignStudio uses for them.
SPLIT_NAMES = {"train": "train", "val": "dev", "test": "test"}
#: Metadata file names, most specific first.
METADATA_NAMES = ("WLASL100.json", "WLASL300.json", "WLASL1000.json", "WLASL2000.json", "WLASL_v0.3.json")


@dataclass(frozen=True)
class WlaslClip:
    """One clip of a WLASL split.

    Attributes:
        video_id: the clip's id (its file is ``VIDEO_ID.mp4`` / ``poses/VIDEO_ID.pose``).
        gloss: the sign, as WLASL writes it (lower case, e.g. ``"book"``).
        label: the class index (``action[0]`` of the split file).
        split: ``"train"``, ``"dev"`` (WLASL's ``val``) or ``"test"``.
        signer: WLASL's ``signer_id`` (-1 if unknown).
        fps: the clip's frame rate in frames per second (metadata; 25 for WLASL's clips).
        frame_start, frame_end: 1-based inclusive frame range in the source video (``-1``: to the end).
    """

    video_id: str
    gloss: str
    label: int
    split: str
    signer: int = -1
    fps: float = 25.0
    frame_start: int = 1
    frame_end: int = -1


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not a readable {what} ({type(exc).__name__})") from None


def find_wlasl_files(folder: str | Path, split_file: str | Path | None = None,
                     metadata: str | Path | None = None) -> tuple[Path, Path]:
    """The split file and metadata of a WLASL folder: given ones win; else the first
    ``nslt_*.json`` and known metadata name found in ``folder``, its parent, or the shared
    ``wlasl100`` folder.

    Raises:
        InputError: none found (the message says what to pass).
    """
    folder = Path(folder)
    places = [folder, folder.parent, data_dir() / "wlasl100"]
    if split_file is None:
        found = [p for place in places if place.is_dir() for p in sorted(place.glob("nslt_*.json"))]
        if not found:
            raise InputError(f"{folder}: no WLASL split file (nslt_N.json) here or beside it; pass --split-file")
        split_file = found[0]
    split_file = Path(split_file)
    if not split_file.is_file():
        raise InputError(f"{split_file}: no such split file")
    if metadata is None:
        metadata = next((place / name for place in [split_file.parent, *places] for name in METADATA_NAMES
                         if (place / name).is_file()), None)
        if metadata is None:
            raise InputError(f"{folder}: no WLASL metadata (WLASL_v0.3.json or WLASL100.json); pass --metadata")
    metadata = Path(metadata)
    if not metadata.is_file():
        raise InputError(f"{metadata}: no such metadata file")
    return split_file, metadata


def split_size(split_file: str | Path) -> int | None:
    """``N`` of ``nslt_N.json`` (the vocabulary size), or None if the name does not say."""
    match = re.fullmatch(r"nslt_(\d+)\.json", Path(split_file).name)
    return int(match.group(1)) if match else None


def load_wlasl(split_file: str | Path, metadata: str | Path) -> list[WlaslClip]:
    """Every clip of a WLASL split file, with its gloss and signer from the metadata.

    Raises:
        InputError: unreadable or malformed files, or a class index the metadata does not have.
    """
    split_file, metadata = Path(split_file), Path(metadata)
    splits = _read_json(split_file, "WLASL split file")
    meta = _read_json(metadata, "WLASL metadata file")
    if not isinstance(splits, dict) or not isinstance(meta, list):
        raise InputError(f"{split_file} / {metadata}: not in the WLASL layout (a mapping of clips, a list of glosses)")
    glosses = [str(entry.get("gloss", "")) if isinstance(entry, dict) else "" for entry in meta]
    instances: dict[str, dict] = {}
    for entry in meta:
        for inst in (entry.get("instances") or []) if isinstance(entry, dict) else []:
            if isinstance(inst, dict) and "video_id" in inst:
                instances[str(inst["video_id"])] = inst
    clips = []
    for video_id, info in splits.items():
        try:
            subset, label = info["subset"], int(info["action"][0])
        except (KeyError, TypeError, ValueError, IndexError):
            raise InputError(f"{split_file}: clip {video_id!r} has no subset/action") from None
        if subset not in SPLIT_NAMES:
            raise InputError(f"{split_file}: clip {video_id!r} is in an unknown subset {subset!r}")
        if not 0 <= label < len(glosses):
            raise InputError(f"{split_file}: clip {video_id!r} has class {label}, the metadata has {len(glosses)} glosses")
        inst = instances.get(str(video_id), {})
        clips.append(WlaslClip(str(video_id), glosses[label], label, SPLIT_NAMES[subset],
                               int(inst.get("signer_id", -1)), float(inst.get("fps", 25) or 25),
                               int(inst.get("frame_start", 1)), int(inst.get("frame_end", -1))))
    return clips


def class_names(split_file: str | Path, metadata: str | Path) -> list[str]:
    """The glosses of the split file's classes, in class order, upper-cased (the field's way of
    writing glosses): the first ``N`` glosses of the metadata, ``N`` the largest class + 1.

    Raises:
        InputError: as :func:`load_wlasl`.
    """
    clips = load_wlasl(split_file, metadata)
    meta = _read_json(Path(metadata), "WLASL metadata file")
    n = max((c.label for c in clips), default=-1) + 1
    return [str(entry.get("gloss", f"class{i}")).upper() for i, entry in enumerate(meta[:n])]


def wlasl_folder(path: str | Path = "") -> Path:
    """A prepared WLASL folder.

    ``path`` absolute (or starting with ``~``): as given. Relative, e.g. ``wlasl100``: that folder
    in the user's prepared datasets (:func:`signstudio.paths.user_datasets_dir`, where
    ``signstudio datasets prepare wlasl`` writes by default) if it exists, else in the shared data
    folder (``../shared/data/wlasl100`` holds the test split's landmarks). Empty: ``wlasl100``.
    """
    from signstudio.paths import user_datasets_dir

    p = Path(path or "wlasl100").expanduser()
    if p.is_absolute():
        return p
    mine = user_datasets_dir() / p
    return mine if mine.is_dir() else data_dir() / p


def load_wlasl_folder(path: str | Path = "") -> tuple[dict[str, list[WlaslClip]], list[str]]:
    """``({"train", "dev", "test"} clips, class names)`` of a prepared WLASL folder (its split file
    and metadata in it; see :func:`class_names`).

    Raises:
        InputError: no such folder, or no split file / metadata in it.
    """
    folder = wlasl_folder(path)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such WLASL folder (prepare one with `signstudio datasets prepare wlasl`)")
    split_file, metadata = find_wlasl_files(folder)
    clips = load_wlasl(split_file, metadata)
    return {s: [c for c in clips if c.split == s] for s in ("train", "dev", "test")}, class_names(split_file, metadata)


def pose_path(folder: str | Path, clip: WlaslClip) -> Path:
    """Where a prepared clip's landmarks are: ``<folder>/poses/<video_id>.pose``."""
    return Path(folder) / "poses" / f"{clip.video_id}.pose"
