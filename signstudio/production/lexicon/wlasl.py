"""A prepared WLASL folder as a lexicon: per gloss, its clearest recording.

``signstudio lexicon WLASL_FOLDER --lang asl`` on a folder prepared by ``signstudio datasets
prepare wlasl`` (split file, metadata, ``poses/VIDEO_ID.pose``) writes an ``index.csv`` with one
row per gloss, pointing at the recording :func:`clarity` scores best among that gloss's clips:
the hands tracked, the signer centred, a typical length. The lexicon lives in the user's data
folder; nothing of it is committed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from signstudio.errors import InputError
from signstudio.languages import SignLanguage, get_language


def clarity(pose, typical_frames: float) -> float:
    """How good a recording is as a dictionary sign (higher is better, at most 1).

    The share of frames in which both hands are found (the signing hand counts double: a
    one-handed sign's other hand may rest out of view), minus how far the shoulders' midpoint is
    from the frame's centre (in frame widths), minus how far the length is from the gloss's
    typical (median) length (relative).

    Args:
        pose: a Holistic ``Pose`` (body and hands at least). typical_frames: the median length.
    """
    from signstudio.pose.landmarks import NUM_BODY, NUM_HAND, canonical_handedness, select_landmarks, shoulder_centre

    points, found = select_landmarks(pose)
    points, found, _ = canonical_handedness(points, found)
    right = found[:, NUM_BODY + NUM_HAND:].any(-1).mean()
    left = found[:, NUM_BODY:NUM_BODY + NUM_HAND].any(-1).mean()
    hands = (2 * right + left) / 3
    width = float(pose.header.dimensions.width or 1)
    centre = shoulder_centre(points, found)
    offset = abs(float(centre[0]) / width - 0.5)
    length = abs(len(points) - typical_frames) / max(typical_frames, 1.0)
    return float(hands - offset - 0.5 * min(length, 1.0))


def is_wlasl_folder(folder: str | Path) -> bool:
    """Whether ``folder`` holds a prepared WLASL layout (an ``nslt_*.json`` and ``poses/``)."""
    folder = Path(folder)
    return (folder / "poses").is_dir() and any(folder.glob("nslt_*.json"))


def index_wlasl(folder: str | Path, language: SignLanguage | str = "ase") -> tuple[Path, int, list[str]]:
    """Write ``index.csv`` into a prepared WLASL folder: one row per gloss, its clearest recording.

    Returns:
        ``(index path, glosses indexed, glosses without any prepared recording)``.

    Raises:
        InputError: not a prepared WLASL folder, no recording at all, or the index cannot be written.
    """
    from signstudio.data.wlasl import find_wlasl_files, load_wlasl, pose_path
    from signstudio.files import check_output_file
    from signstudio.pose.io import read_pose
    from signstudio.production.lexicon.index import write_index

    folder = Path(folder).expanduser().resolve()
    if not is_wlasl_folder(folder):
        raise InputError(f"{folder}: not a prepared WLASL folder (nslt_N.json and poses/; "
                         "see `signstudio datasets prepare wlasl`)")
    language = get_language(language)
    index = check_output_file(folder / "index.csv", (".csv",))
    split_file, metadata = find_wlasl_files(folder)
    by_gloss: dict[str, list] = {}
    for clip in load_wlasl(split_file, metadata):
        if pose_path(folder, clip).is_file():
            by_gloss.setdefault(clip.gloss.upper(), []).append(clip)
    glosses = sorted({c.gloss.upper() for c in load_wlasl(split_file, metadata)})
    missing = [g for g in glosses if g not in by_gloss]
    rows = []
    for gloss in sorted(by_gloss):
        poses = []
        for clip in by_gloss[gloss]:
            try:
                poses.append((clip, read_pose(pose_path(folder, clip))))
            except InputError:
                continue
        if not poses:
            missing.append(gloss)
            continue
        typical = float(np.median([len(p.body.data) for _, p in poses]))
        best = max(poses, key=lambda cp: clarity(cp[1], typical))[0]
        rel = pose_path(folder, best).relative_to(folder).as_posix()
        rows.append([rel, language.spoken, language.code, 0, 0, gloss.lower(), gloss, 0])
    if not rows:
        raise InputError(f"{folder}: no prepared recording to index")
    write_index(index, rows)
    return index, len(rows), sorted(missing)
