"""How2Sign (continuous ASL, instructional videos) as OpenPose keypoints with English sentences.

Format (Duarte et al., CVPR 2021, "How2Sign: A Large-scale Multimodal Dataset for Continuous
American Sign Language"; the keypoints are OpenPose 1.3 ``--face --hand`` JSON, one file per frame):

- ``openpose/CLIP/CLIP_000000000017_keypoints.json`` (the official download unpacks to
  ``openpose_output/json/CLIP/``): ``{"people": [{"pose_keypoints_2d": [x, y, c] * 25,
  "face_keypoints_2d": * 70, "hand_left_keypoints_2d": * 21, "hand_right_keypoints_2d": * 21}]}``,
  x and y in pixels of the 1280x720 ``rgb_front`` video, c the detection score (body in [0, 1];
  face and hand heatmap peaks may exceed 1 slightly, up to 1.07 in the sample); 0 0 0 = not found.
- sentences, read from the first that exists: ``openpose_sentences.tsv`` (``clip<TAB>frames<TAB>
  sentence``, as in the shared sample), line-aligned ``{split}.files`` / ``{split}.text`` pairs, or
  the official ``how2sign_realigned_{split}.csv`` (tab-separated, ``SENTENCE_NAME`` / ``SENTENCE``).

Sentences are stored as CSV fields: one that contains a comma is wrapped in double quotes, with
inner quotes doubled; such quoting is undone here. The shared sample holds 5 val clips (684 frames);
``val.files`` / ``val.text`` list 1739 val sentences. Licence: CC BY-NC 4.0.

Left and right are the signer's hands, as OpenPose labels them.
"""

from __future__ import annotations

import copy
import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from signstudio.errors import InputError
from signstudio.paths import data_dir

#: Frame rate of How2Sign's rgb_front clips, frames per second (the OpenPose JSON does not say).
HOW2SIGN_FPS = 24.0
#: Size of How2Sign's rgb_front videos in pixels (width, height).
HOW2SIGN_SIZE = (1280, 720)
#: OpenPose components in the order of the joint axis: (JSON key, number of keypoints).
OPENPOSE_PARTS = (("pose_keypoints_2d", 25), ("face_keypoints_2d", 70),
                  ("hand_left_keypoints_2d", 21), ("hand_right_keypoints_2d", 21))
#: Keypoints per frame: 25 body (BODY_25) + 70 face + 21 left hand + 21 right hand.
NUM_KEYPOINTS = sum(n for _, n in OPENPOSE_PARTS)
_FRAME_RE = re.compile(r"(\d+)_keypoints\.json$")


@dataclass
class How2SignClip:
    """One How2Sign sentence clip.

    Attributes:
        name: the clip (sentence) name, e.g. ``"_2FBDaOPYig_2-3-rgb_front"``.
        text: the English sentence (CSV quoting undone).
        frames: ``(T, 137, 3)`` float32: x, y in pixels and the OpenPose score (>= 0, about 1 at most) for
            BODY_25 (0-24), face (25-94), left hand (95-115), right hand (116-136). Frames where
            OpenPose found nobody, or lacks a file, are all zeros (confidence 0).
        fps: frames per second.
    """

    name: str
    text: str
    frames: np.ndarray
    fps: float = HOW2SIGN_FPS


def how2sign_dir() -> Path:
    """The shared How2Sign folder: ``<data>/how2sign`` (may not exist)."""
    return data_dir() / "how2sign"


def unquote(field: str) -> str:
    """Undo CSV quoting of one sentence (``'"a, ""b"" c"'`` -> ``'a, "b" c'``); other text is only stripped."""
    field = field.strip()
    if len(field) >= 2 and field[0] == field[-1] == '"':
        return field[1:-1].replace('""', '"')
    return field


def openpose_root(folder: str | Path) -> Path:
    """The folder of clip folders inside ``folder``: ``openpose/``, ``openpose_output/json/``, or
    ``folder`` itself."""
    folder = Path(folder)
    for sub in ("openpose", "openpose_output/json"):
        if (folder / sub).is_dir():
            return folder / sub
    return folder


def clip_folders(folder: str | Path) -> list[Path]:
    """The clip folders (those holding ``*_keypoints.json``) under :func:`openpose_root`, sorted."""
    root = openpose_root(folder)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and any(p.glob("*_keypoints.json")))


def _person(person: dict, where: str) -> np.ndarray:
    parts = []
    for key, n in OPENPOSE_PARTS:
        values = person.get(key) or [0.0] * (3 * n)  # a part OpenPose was not asked for: absent
        if len(values) != 3 * n:
            raise InputError(f"{where}: {key} has {len(values)} numbers, expected {3 * n} ({n} x (x, y, c))")
        parts.append(values)
    try:
        return np.array([v for p in parts for v in p], dtype=np.float32).reshape(NUM_KEYPOINTS, 3)
    except (TypeError, ValueError):
        raise InputError(f"{where}: keypoints are not numbers") from None


def read_openpose_frame(path: str | Path) -> np.ndarray:
    """One OpenPose JSON frame as ``(137, 3)`` float32 (x px, y px, confidence).

    With several people, the one with the highest summed confidence (the signer, in How2Sign's
    single-signer videos) is kept; with nobody, all zeros.

    Raises:
        InputError: not JSON, no ``people`` list, or parts of the wrong size.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable OpenPose JSON file ({type(exc).__name__})") from None
    people = data.get("people") if isinstance(data, dict) else None
    if not isinstance(people, list):
        raise InputError(f"{path}: no 'people' list, not an OpenPose keypoints file")
    if not people:
        return np.zeros((NUM_KEYPOINTS, 3), dtype=np.float32)
    candidates = [_person(p, str(path)) for p in people]
    return max(candidates, key=lambda a: float(a[:, 2].sum()))


def read_openpose_clip(folder: str | Path, num_frames: int | None = None) -> np.ndarray:
    """All frames of one clip folder of ``*_{frame}_keypoints.json`` as ``(T, 137, 3)`` float32.

    ``T`` is ``num_frames`` if given (frames OpenPose skipped at the end stay zero), else the
    highest frame number + 1; missing frame files are zeros (confidence 0).

    Raises:
        InputError: no keypoint files, or a malformed file (see :func:`read_openpose_frame`).
    """
    folder = Path(folder)
    files = {}
    for f in folder.glob("*_keypoints.json"):
        m = _FRAME_RE.search(f.name)
        if m:
            files[int(m.group(1))] = f
    if not files:
        raise InputError(f"{folder}: no OpenPose *_keypoints.json files")
    t = max(max(files) + 1, num_frames or 0)
    out = np.zeros((t, NUM_KEYPOINTS, 3), dtype=np.float32)
    for i, f in files.items():
        out[i] = read_openpose_frame(f)
    return out


def read_sentences(folder: str | Path) -> tuple[dict[str, tuple[str, int | None]], Path | None]:
    """Sentences of the clips in ``folder``: ``{clip: (text, frames or None)}`` and the file read.

    Sources, in order: ``openpose_sentences.tsv``; every ``{split}.files`` with its ``{split}.text``;
    every ``how2sign_realigned_*.csv``. Returns ``({}, None)`` when there is none.

    Raises:
        InputError: a TSV without ``clip``/``sentence`` columns or with a bad frame count,
            ``.files``/``.text`` of different lengths, or a CSV without ``SENTENCE_NAME``/``SENTENCE``.
    """
    folder = Path(folder)
    tsv = folder / "openpose_sentences.tsv"
    if tsv.is_file():
        lines = tsv.read_text(encoding="utf-8").splitlines()
        header = lines[0].split("\t") if lines else []
        if "clip" not in header or "sentence" not in header:
            raise InputError(f"{tsv}:1: expected a header with columns clip, frames, sentence")
        ci, si = header.index("clip"), header.index("sentence")
        fi = header.index("frames") if "frames" in header else None
        out = {}
        for n, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            cols = line.split("\t")
            if len(cols) != len(header):
                raise InputError(f"{tsv}:{n}: {len(cols)} tab-separated columns, the header has {len(header)}")
            frames = None
            if fi is not None:
                if not cols[fi].strip().isdigit():
                    raise InputError(f"{tsv}:{n}: frames {cols[fi]!r} is not a count")
                frames = int(cols[fi])
            out[cols[ci].strip()] = (unquote(cols[si]), frames)
        return out, tsv
    pairs = sorted(folder.glob("*.files"))
    if pairs:
        out = {}
        for files in pairs:
            out.update({n: (t, None) for n, t in split_sentences(files).items()})
        return out, pairs[0]
    csvs = sorted(folder.glob("how2sign_realigned_*.csv"))
    if csvs:
        out = {}
        for path in csvs:
            out.update({n: (t, None) for n, t in split_sentences(path).items()})
        return out, csvs[0]
    return {}, None


def load_how2sign(folder: str | Path | None = None, fps: float = HOW2SIGN_FPS) -> list[How2SignClip]:
    """Load every clip with OpenPose keypoints in a How2Sign folder (default: the shared sample).

    Args:
        folder: a folder with ``openpose/`` (or ``openpose_output/json/``, or the clip folders
            themselves) and a sentence file (see the module docstring).
        fps: frame rate of the clips (How2Sign: 24).

    Returns:
        Clips sorted by name, ``frames`` ``(T, 137, 3)``.

    Raises:
        InputError: the folder or its clips are missing, no sentence file, a clip without a
            sentence, or malformed keypoint files.
    """
    folder = Path(folder) if folder is not None else how2sign_dir()
    if not folder.is_dir():
        raise InputError(f"{folder}: no such How2Sign folder (set SIGNSTUDIO_DATA)")
    clips = clip_folders(folder)
    if not clips:
        raise InputError(f"{openpose_root(folder)}: no clip folders with OpenPose *_keypoints.json files")
    sentences, source = read_sentences(folder)
    if source is None:
        raise InputError(f"{folder}: no sentences (openpose_sentences.tsv, SPLIT.files + SPLIT.text "
                         "or how2sign_realigned_SPLIT.csv)")
    out = []
    for clip in clips:
        if clip.name not in sentences:
            raise InputError(f"clip {clip.name} has no sentence in {source}")
        text, frames = sentences[clip.name]
        out.append(How2SignClip(clip.name, text, read_openpose_clip(clip, frames), float(fps)))
    return out


def openpose_header(width: int = HOW2SIGN_SIZE[0], height: int = HOW2SIGN_SIZE[1]):
    """pose-format's OpenPose header (``pose_format.utils.openpose``): components
    ``pose_keypoints_2d`` (25), ``face_keypoints_2d`` (70), ``hand_left_keypoints_2d`` (21),
    ``hand_right_keypoints_2d`` (21), format ``XYC``, with their limbs."""
    from pose_format.pose_header import PoseHeader, PoseHeaderDimensions
    from pose_format.utils.openpose import OpenPose_Components

    return PoseHeader(version=0.2, dimensions=PoseHeaderDimensions(width=width, height=height, depth=0),
                      components=copy.deepcopy(OpenPose_Components))


def to_pose(clip: How2SignClip, width: int = HOW2SIGN_SIZE[0], height: int = HOW2SIGN_SIZE[1]):
    """A pose-format ``Pose`` of ``clip``: one person, ``body.data`` ``(T, 1, 137, 2)`` in pixels,
    masked where the confidence is 0, ``body.confidence`` ``(T, 1, 137)``; the header is
    :func:`openpose_header` (the layout ``pose_format.utils.openpose.load_openpose`` gives)."""
    from numpy import ma
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody

    frames = np.asarray(clip.frames, dtype=np.float32)
    if frames.ndim != 3 or frames.shape[1:] != (NUM_KEYPOINTS, 3):
        raise InputError(f"How2Sign frames must have shape (T, {NUM_KEYPOINTS}, 3), got {frames.shape}")
    conf = frames[:, None, :, 2]
    hidden = np.repeat((conf == 0)[..., None], 2, axis=-1)
    data = ma.masked_array(frames[:, None, :, :2].copy(), mask=hidden)
    body = NumPyPoseBody(fps=float(clip.fps), data=data, confidence=conf.copy())
    return Pose(openpose_header(width, height), body)


def split_sentences(listing: Path) -> dict[str, str]:
    """``{clip: sentence}`` of one How2Sign ``{split}.files`` (with its ``.text``) or
    ``how2sign_realigned_{split}.csv``.

    Raises:
        InputError: a ``.files`` without its ``.text`` or of another length.
    """
    if listing.suffix == ".files":
        text = listing.with_suffix(".text")
        if not text.is_file():
            raise InputError(f"{listing}: no matching {text.name}")
        names, lines = listing.read_text(encoding="utf-8").splitlines(), text.read_text(encoding="utf-8").splitlines()
        if len(names) != len(lines):
            raise InputError(f"{listing} has {len(names)} lines but {text} has {len(lines)}")
        return {n.strip(): unquote(t) for n, t in zip(names, lines) if n.strip()}
    with open(listing, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter="\t")
        if not reader.fieldnames or not {"SENTENCE_NAME", "SENTENCE"} <= set(reader.fieldnames):
            raise InputError(f"{listing}:1: expected tab-separated columns SENTENCE_NAME and SENTENCE")
        return {row["SENTENCE_NAME"].strip(): (row["SENTENCE"] or "").strip() for row in reader}
