"""Inputs for the probe (tests/test_probe_cli.py; tests/test_probe_gui.py uses its pose and record
helpers): real files, and real files broken the ways users break them — poses that lie about their
frame rate, length or numbers, videos that are not videos, attention records that would unpack to
gigabytes, hostile lexicon folders. Everything is made in a temporary folder from the shared real
data; nothing is copied into the repository."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np

from signstudio.paths import data_dir

DATA = data_dir()
SMALL_POSE = DATA / "wlasl100" / "poses" / "00625.pose"  # 35 frames, pose + hands (v0.2)
HOLISTIC_POSE = DATA / "poses" / "asl" / "standard_landmarks" / "colin-SAD.pose"  # full Holistic
LEGACY_POSE = DATA / "poses" / "mediapipe.pose"  # pose-format v0.1
VIDEO = DATA / "videos" / "webcam_signer.mp4"  # 58 frames

# --------------------------------------------------------------------------------------------
# Inputs: real files, and real files broken the ways users break them
# --------------------------------------------------------------------------------------------


def _read(path: Path):
    from pose_format import Pose

    return Pose.read(path.read_bytes())


def write_pose(pose, path: Path) -> Path:
    """``pose`` written to ``path``; returns ``path``."""
    with open(path, "wb") as f:
        pose.write(f)
    return path


def pose_with(pose, fps=None, data=None, confidence=None):
    """``pose`` with its frame rate, data or confidence replaced (the others kept)."""
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody

    body = pose.body
    return Pose(pose.header, NumPyPoseBody(fps=body.fps if fps is None else fps,
                                           data=np.ma.getdata(body.data) if data is None else data,
                                           confidence=body.confidence if confidence is None else confidence))


def npz_bomb(path: Path, gib: float = 1.0) -> Path:
    """A record whose cross_0.npy declares (and holds) ``gib`` GiB of zeros, compressed to ~1 MB."""
    n = int(gib * 1024 ** 3) // 4
    header = {"descr": "<f4", "fortran_order": False, "shape": (n,)}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("header.npy", "w") as f:
            np.lib.format.write_array(f, np.array(json.dumps({"format": "signstudio-attention", "version": 1})))
        with zf.open("cross_0.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, header)
            chunk = bytes(16 * 1024 ** 2)
            for _ in range(n * 4 // len(chunk)):
                f.write(chunk)
    return path


def lying_npy(path: Path) -> Path:
    """A small member whose .npy header declares a 10^12-element array."""
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("header.npy", "w") as f:
            np.lib.format.write_array(f, np.array("{}"))
        with zf.open("cross_0.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False,
                                                     "shape": (10 ** 6, 10 ** 6)})
            f.write(bytes(64))
    return path


def make_inputs(d: Path) -> dict[str, Path]:
    """Every input file of the probe's table, made in ``d`` (names are the table's ``{placeholders}``)."""
    p: dict[str, Path] = {"dir": d, "pose": SMALL_POSE, "holistic": HOLISTIC_POSE, "video": VIDEO}
    small = _read(SMALL_POSE)
    data = np.ma.getdata(small.body.data).copy()
    p["nan_fps"] = write_pose(pose_with(small, fps=float("nan")), d / "nan_fps.pose")
    p["inf_fps"] = write_pose(pose_with(small, fps=float("inf")), d / "inf_fps.pose")
    p["zero_fps"] = write_pose(pose_with(small, fps=0.0), d / "zero_fps.pose")
    p["neg_fps"] = write_pose(pose_with(small, fps=-25.0), d / "neg_fps.pose")
    p["huge_fps"] = write_pose(pose_with(small, fps=1e12), d / "huge_fps.pose")
    p["nan_all"] = write_pose(pose_with(small, data=np.full_like(data, np.nan)), d / "nan_all.pose")
    p["inf_all"] = write_pose(pose_with(small, data=np.full_like(data, np.inf)), d / "inf_all.pose")
    some = data.copy()
    some[3:6] = np.nan
    p["nan_some"] = write_pose(pose_with(small, data=some), d / "nan_some.pose")
    p["huge_coords"] = write_pose(pose_with(small, data=data * np.float32(1e34)), d / "huge_coords.pose")
    p["no_frames"] = write_pose(pose_with(small, data=data[:0], confidence=small.body.confidence[:0]), d / "no_frames.pose")
    conf = np.ma.getdata(small.body.confidence)
    mid = len(data) // 2
    p["three_frames"] = write_pose(pose_with(small, data=data[mid : mid + 3], confidence=conf[mid : mid + 3]),
                                   d / "three_frames.pose")
    no_hands = conf.copy()
    no_hands[:, :, 33:] = 0  # after the 33 body points: both hands never found
    p["no_hands"] = write_pose(pose_with(small, confidence=no_hands), d / "no_hands.pose")
    p["body_only"] = write_pose(small.get_components(["POSE_LANDMARKS"]), d / "body_only.pose")
    p["no_people"] = write_pose(pose_with(small, data=data[:, :0], confidence=small.body.confidence[:, :0]),
                                d / "no_people.pose")
    raw = SMALL_POSE.read_bytes()
    (d / "cut.pose").write_bytes(raw[:-1000])
    p["cut"] = d / "cut.pose"
    (d / "stray.pose").write_bytes(raw + b"\0" * 17)
    p["stray"] = d / "stray.pose"
    legacy = LEGACY_POSE.read_bytes()
    (d / "legacy_cut.pose").write_bytes(legacy[:-100])
    p["legacy_cut"] = d / "legacy_cut.pose"
    frame = 178 * 4 * 4  # one frame of the legacy file: 178 points x (x, y, z, confidence) float32
    (d / "legacy_frame_cut.pose").write_bytes(legacy[:-frame])
    p["legacy_frame_cut"] = d / "legacy_frame_cut.pose"
    (d / "header_only.pose").write_bytes(raw[:200])
    p["header_only"] = d / "header_only.pose"
    (d / "empty.pose").write_bytes(b"")
    p["empty_pose"] = d / "empty.pose"
    (d / "garbage.pose").write_bytes(bytes(range(256)) * 40)
    p["garbage_pose"] = d / "garbage.pose"
    (d / "text.pose").write_text("this is a text file\n")
    p["text_pose"] = d / "text.pose"
    (d / "folder.pose").mkdir()
    p["folder_pose"] = d / "folder.pose"
    (d / "notvideo.mp4").write_text("not a video\n")
    p["text_mp4"] = d / "notvideo.mp4"
    (d / "empty.mp4").write_bytes(b"")
    p["empty_mp4"] = d / "empty.mp4"
    (d / "cut.mp4").write_bytes(VIDEO.read_bytes()[:5000])
    p["cut_mp4"] = d / "cut.mp4"
    (d / "folder.mp4").mkdir()
    p["folder_mp4"] = d / "folder.mp4"
    p["a_file"] = d / "a_file.txt"
    p["a_file"].write_text("a regular file, used as a folder below\n")
    # a long clip (150 s of the small pose repeated): longer than a model's window
    reps = math.ceil(150 * small.body.fps / len(data))
    p["long"] = write_pose(pose_with(small, data=np.tile(data, (reps, 1, 1, 1)),
                                     confidence=np.tile(small.body.confidence, (reps, 1, 1))), d / "long.pose")
    # text inputs for text models
    (d / "sentence.txt").write_text("morgen regnet es im norden\n", encoding="utf-8")
    p["sentence"] = d / "sentence.txt"
    (d / "empty.txt").write_text("")
    p["empty_txt"] = d / "empty.txt"
    (d / "blank.txt").write_text("   \n\t\n")
    p["blank_txt"] = d / "blank.txt"
    (d / "latin1.txt").write_bytes("grüße aus köln\n".encode("latin-1"))
    p["latin1_txt"] = d / "latin1.txt"
    (d / "binary.txt").write_bytes(b"\x00\x01\x02binary\x00" * 50)
    p["binary_txt"] = d / "binary.txt"
    (d / "huge.txt").write_text("wort " * 300_000)
    p["huge_txt"] = d / "huge.txt"
    (d / "long.txt").write_text("morgen " * 500)
    p["long_txt"] = d / "long.txt"
    # broken checkpoints
    (d / "garbage.pt").write_bytes(b"not a torch file" * 100)
    p["garbage_pt"] = d / "garbage.pt"
    (d / "empty_model").mkdir()
    p["empty_model"] = d / "empty_model"
    # a non-UTF-8 file name (Linux allows any bytes but / and NUL)
    if sys.platform.startswith("linux"):
        odd = os.fsdecode(str(d).encode() + b"/caf\xe9.pose")
        Path(odd).write_bytes(raw)
        p["odd_name"] = Path(odd)
    p.update(_lexicons(d))
    return p


def _lexicon(root: Path, name: str, index: str | bytes | None, files: dict[str, Path | bytes] = ()) -> Path:
    folder = root / name
    folder.mkdir()
    for fname, content in dict(files).items():
        target = folder / fname
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copy(content, target)
        else:
            target.write_bytes(content)
    if index is not None:
        (folder / "index.csv").write_bytes(index.encode() if isinstance(index, str) else index)
    return folder


HEADER = "path,spoken_language,signed_language,start,end,words,glosses,priority\n"


def _lexicons(d: Path) -> dict[str, Path]:
    """Lexicon folders: a good one, hostile index.csv files, and folders of bad recordings."""
    root = d / "lexicons"
    root.mkdir()
    good = {"HOUSE.pose": HOLISTIC_POSE}
    out = {"lex_good": _lexicon(root, "good", HEADER + "HOUSE.pose,en,ase,0,0,house,HOUSE,0\n", good)}
    rows = {
        "lex_dotdot": "../../../../../../etc/passwd,en,ase,0,0,house,HOUSE,0\n",
        "lex_absolute": "/etc/passwd,en,ase,0,0,house,HOUSE,0\n",
        "lex_outside": "../good/HOUSE.pose,en,ase,0,0,house,HOUSE,0\n",
        "lex_windows": "C:\\Windows\\win.ini,en,ase,0,0,house,HOUSE,0\n",
        "lex_remote": "https://example.com/house.pose,en,ase,0,0,house,HOUSE,0\n",
        "lex_missing_file": "gone.pose,en,ase,0,0,house,HOUSE,0\n",
        "lex_empty_path": ",en,ase,0,0,house,HOUSE,0\n",
        "lex_extra_cells": "HOUSE.pose,en,ase,0,0,house,HOUSE,0,surprise,more\n",
        "lex_negative": "HOUSE.pose,en,ase,-500,0,house,HOUSE,0\n",
        "lex_backwards": "HOUSE.pose,en,ase,2000,1000,house,HOUSE,0\n",
        "lex_inf": "HOUSE.pose,en,ase,inf,0,house,HOUSE,0\n",
        "lex_nan_priority": "HOUSE.pose,en,ase,0,0,house,HOUSE,nan\n",
        "lex_words": "HOUSE.pose,en,ase,zero,0,house,HOUSE,0\n",
        "lex_tiny_clip": "HOUSE.pose,en,ase,0,10,house,HOUSE,0\n",
    }
    for key, row in rows.items():
        out[key] = _lexicon(root, key, HEADER + row, good)
    link = _lexicon(root, "lex_symlink", HEADER + "HOUSE.pose,en,ase,0,0,house,HOUSE,0\n")
    (link / "HOUSE.pose").symlink_to(HOLISTIC_POSE)  # a link to a file outside the folder
    out["lex_symlink"] = link
    out["lex_garbage_row"] = _lexicon(root, "lex_garbage_row", HEADER + "junk.pose,en,ase,0,0,house,HOUSE,0\n",
                                      {"junk.pose": b"not a pose"})
    out["lex_binary_index"] = _lexicon(root, "lex_binary_index", bytes(range(256)) * 8, good)
    out["lex_nul_index"] = _lexicon(root, "lex_nul_index", HEADER.encode() + b"HOUSE.pose\0,en,ase,0,0,h,H,0\n", good)
    out["lex_header_only"] = _lexicon(root, "lex_header_only", HEADER, good)
    out["lex_no_columns"] = _lexicon(root, "lex_no_columns", "file,gloss\nHOUSE.pose,HOUSE\n", good)
    out["lex_huge_field"] = _lexicon(root, "lex_huge_field", HEADER + "HOUSE.pose,en,ase,0,0," + "x" * 200_000
                                     + ",HOUSE,0\n", good)
    out["lex_no_index"] = _lexicon(root, "lex_no_index", None, good)
    idx_dir = _lexicon(root, "lex_index_is_dir", None, good)
    (idx_dir / "index.csv").mkdir()
    out["lex_index_is_dir"] = idx_dir
    # folders for `signstudio lexicon` (recordings checked when indexed)
    small = _read(SMALL_POSE)
    holistic = _read(HOLISTIC_POSE)
    hdata = np.ma.getdata(holistic.body.data)

    def pose_bytes(pose) -> bytes:
        import io

        buf = io.BytesIO()
        pose.write(buf)
        return buf.getvalue()

    out["rec_nan"] = _lexicon(root, "rec_nan", None, {
        "HOUSE.pose": HOLISTIC_POSE, "SAD.pose": pose_bytes(pose_with(holistic, data=np.full_like(hdata, np.nan)))})
    out["rec_one_frame"] = _lexicon(root, "rec_one_frame", None, {
        "HOUSE.pose": HOLISTIC_POSE,
        "SAD.pose": pose_bytes(pose_with(holistic, data=hdata[:1], confidence=holistic.body.confidence[:1]))})
    out["rec_cut"] = _lexicon(root, "rec_cut", None, {"HOUSE.pose": HOLISTIC_POSE,
                                                      "SAD.pose": HOLISTIC_POSE.read_bytes()[:-5000]})
    hands_only = small.get_components(["LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"])
    out["rec_not_holistic"] = _lexicon(root, "rec_not_holistic", None, {"HOUSE.pose": HOLISTIC_POSE,
                                                                        "SAD.pose": pose_bytes(hands_only)})
    out["rec_garbage"] = _lexicon(root, "rec_garbage", None, {"sub/HOUSE.pose": b"\x00garbage" * 99})
    out["rec_good"] = _lexicon(root, "rec_good", None, {"anna-HOUSE.pose": HOLISTIC_POSE,
                                                        "take-2.pose": HOLISTIC_POSE})
    out["rec_none"] = _lexicon(root, "rec_none", None, {"readme.txt": b"no recordings here"})
    no_shoulders = holistic.body.confidence.copy()
    no_shoulders[:, :, :33] = 0
    out["rec_no_shoulders"] = _lexicon(root, "rec_no_shoulders", None, {
        "SAD.pose": pose_bytes(pose_with(holistic, confidence=no_shoulders))})
    if sys.platform.startswith("linux"):
        odd = _lexicon(root, "rec_odd_name", None, {"HOUSE.pose": HOLISTIC_POSE})
        shutil.copy(HOLISTIC_POSE, os.fsdecode(bytes(odd) + b"/caf\xe9-SAD.pose"))
        out["rec_odd_name"] = odd
    link = _lexicon(root, "rec_link_out", None, {"HOUSE.pose": HOLISTIC_POSE})
    (link / "SAD.pose").symlink_to(HOLISTIC_POSE)
    out["rec_link_out"] = link
    return out
