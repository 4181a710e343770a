"""Video sign-language corpora for the frame models, as a user brings them (issue 13).

- **PHOENIX-2014-T frame folders** (Camgoz et al. 2018; the spatio-temporal transformer's
  benchmark): ``ROOT/features/fullFrame-210x260px/{split}/{name}/*.png`` (one PNG per frame,
  210x260 pixels, 25 fps) with the slt annotations (:mod:`signstudio.data.slt`, ``name``
  ``"{split}/{name}"``, glosses and German text). :func:`load_phoenix_frames`.
- **CoL-SLTD-style lists** (Colombian Sign Language, Rodríguez et al. 2021: videos and their
  sentences): a folder of videos and a ``|``-separated list ``VIDEO|SENTENCE[|SPLIT]`` (one clip per
  line; a first line ``video|sentence...`` is a header). :func:`load_sentence_list`.

Either gives :class:`FrameClip` s, whose frames :func:`clip_frames` reads as the RGB squares
:func:`signstudio.data.video_features.clip_images` samples and turns into flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from signstudio.data.video_features import read_frames, square
from signstudio.errors import InputError

#: The frame folder of PHOENIX-2014-T's full frames, under the corpus root.
PHOENIX_FRAMES = Path("features") / "fullFrame-210x260px"
PHOENIX_FPS = 25.0


@dataclass
class FrameClip:
    """One clip of a video corpus.

    Attributes:
        id: the clip's name (PHOENIX: ``"dev/11August_2010_Wednesday_tagesschau-2"``).
        split: ``"train"``, ``"dev"`` or ``"test"``.
        glosses: its gloss sequence (empty when the corpus has none).
        text: its spoken-language sentence, tokenised (lower case).
        frames: the frame images, in order (a frame-folder corpus), or empty.
        video: the video file (a video corpus), or None.
        fps: frames per second.
    """

    id: str
    split: str
    glosses: list[str]
    text: list[str]
    frames: list[Path] = field(default_factory=list)
    video: Path | None = None
    fps: float = PHOENIX_FPS


def load_phoenix_frames(root: str | Path, split: str, annotations: str | Path | None = None) -> list[FrameClip]:
    """The clips of one PHOENIX-2014-T split whose frame folder exists under ``root``.

    Args:
        root: the corpus root (holding ``features/fullFrame-210x260px``).
        annotations: the slt annotation file or its folder (default: the data folder's copy).

    Raises:
        InputError: no frame folder, unreadable annotations, or no clip of the split has frames.
    """
    from signstudio.data.slt import load_slt

    base = Path(root) / PHOENIX_FRAMES
    if not base.is_dir():
        raise InputError(f"{root}: no PHOENIX-2014-T frame folder ({PHOENIX_FRAMES} expected inside)")
    out = []
    for ex in load_slt(split, annotations):
        folder = base / ex.name
        frames = sorted(folder.glob("*.png")) if folder.is_dir() else []
        if frames:
            out.append(FrameClip(ex.name, split, list(ex.glosses), ex.text.split(), frames=frames))
    if not out:
        raise InputError(f"{base / split}: none of the {split} clips has a frame folder with .png frames")
    return out


def load_sentence_list(folder: str | Path, listing: str | Path | None = None, fps: float = 30.0) -> list[FrameClip]:
    """Clips of a CoL-SLTD-style corpus: videos in ``folder`` and their sentences in a list file.

    Args:
        listing: the ``VIDEO|SENTENCE[|SPLIT]`` file (default: ``sentences.txt`` or ``sentences.csv``
            in ``folder``); a missing split is ``train``. Sentences are lower-cased and split on spaces.
        fps: the videos' frame rate (the videos' own is used when they are read).

    Raises:
        InputError: no list, a malformed line (with its number), a video that is not there, or an
            unknown split.
    """
    folder = Path(folder)
    if listing is None:
        listing = next((folder / n for n in ("sentences.txt", "sentences.csv") if (folder / n).is_file()), None)
        if listing is None:
            raise InputError(f"{folder}: no sentence list (sentences.txt: VIDEO|SENTENCE[|SPLIT] per line)")
    lines = Path(listing).read_text(encoding="utf-8").splitlines()
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or (number == 1 and line.lower().startswith("video|")):
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise InputError(f"{listing}:{number}: expected VIDEO|SENTENCE[|SPLIT], got {line[:80]!r}")
        split = parts[2] if len(parts) == 3 else "train"
        if split not in ("train", "dev", "test"):
            raise InputError(f"{listing}:{number}: unknown split {split!r} (train, dev or test)")
        video = folder / parts[0]
        if not video.is_file():
            raise InputError(f"{listing}:{number}: no video {video}")
        out.append(FrameClip(Path(parts[0]).stem, split, [], parts[1].lower().split(), video=video, fps=fps))
    return out


def clip_frames(clip: FrameClip, size: int = 224) -> list[np.ndarray]:
    """The clip's frames as ``(size, size, 3)`` RGB squares (centre crop, area resize).

    Raises:
        InputError: an unreadable frame or video.
    """
    if clip.video is not None:
        return read_frames(clip.video, size=size)
    out = []
    for path in clip.frames:
        image = cv2.imread(str(path))
        if image is None:
            raise InputError(f"{path}: not a readable image")
        out.append(square(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), size))
    return out


#: How2Sign's split names in its sentence files, as SignStudio's.
HOW2SIGN_SPLITS = {"train": "train", "val": "dev", "dev": "dev", "test": "test"}


def load_how2sign_videos(folder: str | Path, sentences: str | Path | None = None, fps: float = 24.0) -> list[FrameClip]:
    """How2Sign clips as videos (``CLIP.mp4``, e.g. ``-d5dN54tH2E_0-1-rgb_front.mp4``) with their sentences.

    Args:
        folder: the videos (searched recursively).
        sentences: the folder with the sentence files (default: ``folder``): ``{split}.files`` +
            ``{split}.text`` or ``how2sign_realigned_{split}.csv`` give each clip's split (``val``
            is dev); ``openpose_sentences.tsv`` has no split (train).
        fps: the videos' frame rate (How2Sign: 24; the video's own is used when it is read).

    Raises:
        InputError: no sentence file, or none of its clips has a video.
    """
    from signstudio.data.how2sign import read_sentences, split_sentences

    folder = Path(folder)
    source = Path(sentences) if sentences is not None else folder
    texts: dict[str, tuple[str, str]] = {}
    used = None
    for split, ours in HOW2SIGN_SPLITS.items():
        for listing in (source / f"{split}.files", source / f"how2sign_realigned_{split}.csv"):
            if listing.is_file():
                used = listing
                texts.update({n: (t, ours) for n, t in split_sentences(listing).items()})
    if used is None:
        found, used = read_sentences(source)
        texts = {n: (t, "train") for n, (t, _) in found.items()}
    if used is None:
        raise InputError(f"{source}: no How2Sign sentences (SPLIT.files + SPLIT.text, "
                         "how2sign_realigned_SPLIT.csv or openpose_sentences.tsv)")
    videos = {p.stem: p for p in folder.rglob("*.mp4")}
    out = [FrameClip(name, split, [], text.lower().split(), video=videos[name], fps=fps)
           for name, (text, split) in sorted(texts.items()) if name in videos]
    if not out:
        raise InputError(f"{folder}: none of the {len(texts)} clips in {used.name} has a video (CLIP.mp4)")
    return out
