"""Lexicon-based production (spoken-to-signed): languages, lookup, fingerspelling, stitching, export.

Real inputs only: the fingerspelling lexicon installed with spoken-to-signed, and recorded ASL
signs (HOUSE, SAD, LIBRARY) from the shared data folder's ``poses/asl``.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from pose_format import Pose
from pose_format.numpy import NumPyPoseBody
from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

from signstudio.errors import Cancelled, InputError
from signstudio.languages import fingerspelling_index_path, get_language, known_languages
from signstudio.production.lexicon import (
    MAX_GLOSSES,
    PADDING_SECONDS,
    fingerspelling_lexicon,
    load_lexicon,
    missing_letters,
    produce_from_lexicon,
    spell,
)
from signstudio.pose.draw import BACKGROUND
from signstudio.production.render import export, export_video
from signstudio.tasks import RecordingTask

INDEX_HEADER = "path,spoken_language,signed_language,start,end,words,glosses,priority\n"

# Recorded ASL signs in the shared data: (file under poses/asl, word, gloss)
SIGNS = [
    ("standard_landmarks/colin-1-HOUSE.pose", "house", "HOUSE"),  # 1280x720, 30.1 fps
    ("standard_landmarks/colin-SAD.pose", "sad", "SAD"),
    ("mixed/000017451997373907346-LIBRARY.pose", "library", "LIBRARY"),  # 640x480, another signer
]


def _read(path: Path) -> Pose:
    return Pose.read(path.read_bytes())


def _shoulder_width(pose: Pose, start: int = 0, end: int | None = None) -> float:
    """Median 2D distance between the shoulders over frames [start, end)."""
    header = pose.header
    left = header.get_point_index("POSE_LANDMARKS", "LEFT_SHOULDER")
    right = header.get_point_index("POSE_LANDMARKS", "RIGHT_SHOULDER")
    data = np.ma.getdata(pose.body.data)[start:end, 0]
    return float(np.median(np.linalg.norm(data[:, left, :2] - data[:, right, :2], axis=-1)))


@pytest.fixture
def asl_lexicon(data_dir, tmp_path) -> Path:
    """A user lexicon folder: copies of real recorded ASL signs and an index.csv naming them."""
    folder = tmp_path / "my-asl"
    folder.mkdir()
    lines = [INDEX_HEADER]
    for source, word, gloss in SIGNS:
        name = f"{word}.pose"
        shutil.copy(data_dir / "poses" / "asl" / source, folder / name)
        lines.append(f"{name},en,ase,0,0,{word},{gloss},0\n")
    (folder / "index.csv").write_text("".join(lines), encoding="utf-8")
    return folder


# --------------------------------------------------------------------------------------------
# languages
# --------------------------------------------------------------------------------------------


def test_get_language_by_code_abbreviation_alias_and_name():
    assert get_language("asl").code == "ase"
    assert get_language("ASL") is get_language("ase")
    assert get_language("dgs").code == "gsg"
    assert get_language("ÖGS").code == "asq" and get_language("ogs").code == "asq"
    assert get_language("german sign language").code == "gsg"
    asl = get_language("ase")
    assert (asl.name, asl.abbreviation, asl.spoken) == ("American Sign Language", "ASL", "en")
    assert asl.tag == "<ase>"


def test_known_languages_are_the_fingerspelling_index_pairs():
    with open(fingerspelling_index_path(), encoding="utf-8") as f:
        pairs = {(r["spoken_language"], r["signed_language"]) for r in csv.DictReader(f)}
    languages = known_languages()
    assert {(lang.spoken, lang.code) for lang in languages} == pairs
    assert len(languages) == len(pairs) == 20
    assert len({lang.abbreviation.casefold() for lang in languages}) == 20  # unambiguous
    assert languages[0].code == "ase"


def test_unknown_language_lists_the_known_ones():
    with pytest.raises(InputError) as err:
        get_language("xyz")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("unknown sign language 'xyz'; known: ase (ASL), gsg (DGS), ")
    for lang in known_languages():
        assert f"{lang.code} ({lang.abbreviation})" in message


# --------------------------------------------------------------------------------------------
# fingerspelling
# --------------------------------------------------------------------------------------------


def test_fingerspelled_word_is_one_segment_and_a_readable_pose(tmp_path, capsys):
    task = RecordingTask()
    production = produce_from_lexicon([("hello", "HELLO")], "asl", task=task)
    assert capsys.readouterr().out == ""  # the library's progress prints would break --json
    assert production.language == "ase"
    assert production.glosses == ["HELLO"]
    assert [s.source for s in production.segments] == ["fingerspelled"]
    assert production.segments[0].start == 0 and production.segments[0].end == production.frames
    assert production.frames > 5 * production.fps * 0.2  # five letters, not a blink
    assert production.pose.body.data.shape == (production.frames, 1, 178, 3)
    assert production.notes == ["HELLO was fingerspelled (h-e-l-l-o)"]
    assert (task.total, task.done) == (1, 1)

    path = export(production.pose, tmp_path / "hello.pose")
    again = _read(path)
    assert again.body.data.shape == production.pose.body.data.shape
    assert again.body.fps == pytest.approx(production.fps)


def test_missing_letters_are_named():
    assert missing_letters("straße", "dgs") == []  # DGS spells ß
    assert spell("Schule", "dsgs") == (["sch", "u", "l", "e"], [])  # longest alphabet key first
    assert spell("Schule", "asl") == (["s", "c", "h", "u", "l", "e"], [])
    assert missing_letters("straße", "asl") == ["ß"]
    with pytest.raises(InputError) as err:
        produce_from_lexicon([("straße", "STRASSE")], "asl")
    assert str(err.value) == ("no sign for 'straße' in ASL and the ASL fingerspelling alphabet "
                              "has no 'ß'")
    with pytest.raises(InputError, match=r"alphabet has no '2'$"):
        produce_from_lexicon([("r2d2", "R2D2")], "asl")


def test_fingerspelling_off_is_an_error():
    with pytest.raises(InputError, match=r"^no sign for 'bob' in ASL \(fingerspelling is off\)$"):
        produce_from_lexicon([("bob", "BOB")], "asl", fingerspell=False)


# --------------------------------------------------------------------------------------------
# user lexicons
# --------------------------------------------------------------------------------------------


def test_user_lexicon_comes_before_fingerspelling(asl_lexicon):
    task = RecordingTask()
    items = [("house", "HOUSE"), ("Bob", "BOB"), ("sad", "SAD")]
    production = produce_from_lexicon(items, "ASL", [asl_lexicon], task=task)
    assert production.glosses == ["HOUSE", "BOB", "SAD"]
    assert [s.source for s in production.segments] == ["lexicon", "fingerspelled", "lexicon"]
    assert (task.total, task.done) == (3, 3)
    assert task.statuses[-1] == "stitching"

    # segments: ordered, inside [0, T), covering everything but the padding between signs
    segments, frames = production.segments, production.frames
    pad = int(PADDING_SECONDS * production.fps)
    assert segments[0].start == 0 and segments[-1].end == frames
    for a, b in zip(segments, segments[1:]):
        assert a.start < a.end <= b.start < b.end
        assert b.start - a.end == pad
    assert all(0 <= s.start < s.end <= frames for s in segments)
    assert production.segment_at(segments[1].start) == 1

    # gloss and word are matched case-insensitively through gloss_candidates ("house+" -> "house")
    again = produce_from_lexicon([("", "house+")], "ase", [asl_lexicon])
    assert again.segments[0].source == "lexicon"


def test_segment_lengths_match_the_stitched_pieces(asl_lexicon):
    """Recompute, with spoken-to-signed's own steps, how many frames of each sign survive the
    stitching, and compare with the segments."""
    from pose_format.utils.generic import reduce_holistic
    from spoken_to_signed.gloss_to_pose.concatenate import normalize_pose, process_sign
    from spoken_to_signed.gloss_to_pose.smoothing import find_best_connection_point

    lexicon = load_lexicon(asl_lexicon)
    asl = get_language("asl")
    clips = [lexicon.lookup(word, gloss, asl).pose for _, word, gloss in SIGNS]
    production = produce_from_lexicon([(w, g) for _, w, g in SIGNS], asl, [lexicon])

    fps = clips[0].body.fps
    pieces = []
    for i, clip in enumerate(clips):
        pose = normalize_pose(reduce_holistic(clip))
        pose.body.fps = fps
        pieces.append(process_sign(pose, keep_onset=i == 0, keep_offset=i == len(clips) - 1,
                                   max_sign_seconds=0.8))
    start, expected = 0, []
    for i, piece in enumerate(pieces):
        if i < len(pieces) - 1:
            end, next_start = find_best_connection_point(piece, pieces[i + 1])
        else:
            end, next_start = len(piece.body.data), None
        expected.append(end - start)
        start = next_start
    assert [s.end - s.start for s in production.segments] == expected


def test_same_result_as_the_library_concatenation(asl_lexicon):
    """For signs at one frame rate our step-by-step stitching equals spoken-to-signed's
    concatenate_poses (the pipeline sign.mt runs)."""
    import contextlib
    import io

    from spoken_to_signed.gloss_to_pose.concatenate import concatenate_poses

    lexicon = load_lexicon(asl_lexicon)
    asl = get_language("asl")
    house, sad = (lexicon.lookup(w, g, asl).pose for w, g in [("house", "HOUSE"), ("sad", "SAD")])
    sad.body.fps = house.body.fps  # 30.10 vs 30.05 fps: we relabel within 1 %
    with contextlib.redirect_stdout(io.StringIO()):
        expected = concatenate_poses([house, sad])
    production = produce_from_lexicon([("house", "HOUSE"), ("sad", "SAD")], asl, [lexicon])
    assert production.frames == len(expected.body.data)
    np.testing.assert_allclose(np.ma.getdata(production.pose.body.data),
                               np.ma.getdata(expected.body.data), atol=1e-3)


def test_signers_are_normalised_to_one_size(asl_lexicon):
    lexicon = load_lexicon(asl_lexicon)
    asl = get_language("asl")
    raw_house = _shoulder_width(lexicon.lookup("house", "HOUSE", asl).pose)
    raw_library = _shoulder_width(lexicon.lookup("library", "LIBRARY", asl).pose)
    assert raw_house / raw_library > 1.5  # recorded at different sizes (1280x720 vs 640x480)

    production = produce_from_lexicon([("house", "HOUSE"), ("library", "LIBRARY")], asl, [lexicon])
    house, library = production.segments
    widths = [_shoulder_width(production.pose, s.start, s.end) for s in (house, library)]
    assert widths[0] == pytest.approx(widths[1], rel=0.15)
    assert np.mean(widths) == pytest.approx(512 / 1.25 / 2, rel=0.15)  # normalize_pose_size


def test_cancel_between_items(asl_lexicon):
    task = RecordingTask(cancel_after=1)
    with pytest.raises(Cancelled):
        produce_from_lexicon([("house", "HOUSE"), ("sad", "SAD"), ("x", "X")], "asl", [asl_lexicon],
                             task=task)
    assert task.done == 1


def test_input_bounds():
    with pytest.raises(InputError, match=r"^nothing to sign: the text is empty$"):
        produce_from_lexicon([], "asl")
    with pytest.raises(InputError, match=r"^nothing to sign: the text is empty$"):
        produce_from_lexicon([("", " ")], "asl")
    with pytest.raises(InputError) as err:
        produce_from_lexicon([("a", "A")] * 75, "asl")
    assert str(err.value) == (f"too long: 75 glosses (the limit is {MAX_GLOSSES}); "
                              "split the text into shorter sentences")
    with pytest.raises(InputError, match="unknown sign language 'klingon'"):
        produce_from_lexicon([("a", "A")], "klingon")


def test_bad_lexicon_folders(asl_lexicon, tmp_path, data_dir):
    with pytest.raises(InputError, match="no such lexicon folder"):
        load_lexicon(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match=r"empty: not a lexicon folder \(no index.csv"):
        produce_from_lexicon([("house", "HOUSE")], "asl", [empty])

    (empty / "index.csv").write_text("path,signed_language,words\nhouse.pose,ase,house\n")
    with pytest.raises(InputError, match=r"index.csv: missing column\(s\) spoken_language, glosses"):
        load_lexicon(empty)

    index = asl_lexicon / "index.csv"
    index.write_text(index.read_text() + "gone.pose,en,ase,0,0,gone,GONE,0\n")
    with pytest.raises(InputError) as err:
        load_lexicon(asl_lexicon)
    assert "index.csv line 5" in str(err.value) and "gone.pose does not exist" in str(err.value)

    # a real pose without MediaPipe's POSE_LANDMARKS (only the hands kept)
    hands_only = tmp_path / "hands"
    hands_only.mkdir()
    pose = _read(data_dir / "poses" / "asl" / SIGNS[0][0])
    pose.get_components(["LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"]).write(
        (hands_only / "wave.pose").open("wb"))
    (hands_only / "index.csv").write_text(INDEX_HEADER + "wave.pose,en,ase,0,0,wave,WAVE,0\n")
    with pytest.raises(InputError) as err:
        produce_from_lexicon([("wave", "WAVE")], "asl", [hands_only])
    assert "wave.pose: not a MediaPipe Holistic pose (no POSE_LANDMARKS" in str(err.value)
    assert "\n" not in str(err.value)

    (hands_only / "junk.pose").write_bytes(b"not a pose file at all")
    (hands_only / "index.csv").write_text(INDEX_HEADER + "junk.pose,en,ase,0,0,junk,JUNK,0\n")
    with pytest.raises(InputError, match=r"junk.pose: not a readable .pose file"):
        produce_from_lexicon([("junk", "JUNK")], "asl", [hands_only])


def test_packaged_fingerspelling_lexicon_loads():
    lexicon = fingerspelling_lexicon()
    with open(fingerspelling_index_path(), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(lexicon) == len(rows) > 500
    assert lexicon.languages == tuple(sorted(lang.code for lang in known_languages()))
    match = lexicon.lookup("b", "B", "asl")
    assert match is not None and match.entry.words == "B" and match.file.is_file()


# --------------------------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------------------------


def _not_blank(rgb: np.ndarray) -> float:
    """Fraction of pixels that are not the renderer's background (RGB)."""
    from signstudio.pose.draw import BACKGROUND

    return float((np.abs(rgb.astype(int) - BACKGROUND).max(-1) > 16).mean())


def test_export_mp4_gif_and_bad_suffix(tmp_path):
    import cv2
    from PIL import Image

    pose = produce_from_lexicon([("hi", "HI")], "asl").pose
    frames = len(pose.body.data)

    mp4 = export(pose, tmp_path / "hi.mp4", size=256)
    capture = cv2.VideoCapture(str(mp4))
    assert capture.isOpened()
    read = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        read.append(frame)
    capture.release()
    assert len(read) == frames
    assert read[0].shape == (256, 256, 3)
    assert _not_blank(read[frames // 2][..., ::-1]) > 0.01

    gif = export(pose, tmp_path / "hi.gif", size=128)
    with Image.open(gif) as image:
        assert image.n_frames == frames and image.size == (128, 128)
        image.seek(frames // 2)
        rgb = np.asarray(image.convert("RGB"))
        assert _not_blank(rgb) > 0.01
        assert tuple(rgb[0, 0]) == BACKGROUND  # the margin is the plain background

    with pytest.raises(InputError) as err:
        export(pose, tmp_path / "hi.avi")
    assert str(err.value) == "can't export to '.avi'; use .pose, .mp4 or .gif"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hi.gif", "hi.mp4"]  # no temp files


def test_export_a_non_mediapipe_3d_skeleton(data_dir, tmp_path):
    """A Progressive Transformers skeleton (50 joints, normalised 3D, 25 fps) renders too."""
    import cv2

    line = (data_dir / "phoenix14t" / "skels" / "dev.skels").open().readline().split()
    values = np.asarray(line, dtype=np.float32).reshape(-1, 151)[:20]
    data = values[:, :150].reshape(-1, 1, 50, 3)
    points = [f"J{i}" for i in range(50)]
    limbs = [(0, 1), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7)]
    component = PoseHeaderComponent("SKELETON", points, limbs, [(200, 0, 0)], "XYZC")
    header = PoseHeader(0.1, PoseHeaderDimensions(1, 1, 1), [component])
    pose = Pose(header, NumPyPoseBody(25, data, np.ones(data.shape[:3], dtype=np.float32)))

    path = export_video(pose, tmp_path / "skeleton.mp4", size=128)
    capture = cv2.VideoCapture(str(path))
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    ok, frame = capture.read()
    capture.release()
    assert ok and count == 20
    drawn = np.argwhere(frame.astype(int).sum(-1) < 3 * 200)
    assert len(drawn) > 50 and frame.shape == (128, 128, 3)
    # fitted into the canvas with a margin: the drawing spans most of it but touches no edge
    extent = drawn.max(0) - drawn.min(0)
    assert extent.max() > 0.5 * 128 and drawn.min() > 0 and drawn.max() < 127
    assert np.ma.getdata(pose.body.data)[0, 0, 0, 0] == values[0, 0]  # the input was not modified

    hidden = Pose(header, NumPyPoseBody(25, data, np.zeros(data.shape[:3], dtype=np.float32)))
    with pytest.raises(InputError, match="nothing to draw"):
        export(hidden, tmp_path / "hidden.gif")
    assert not (tmp_path / "hidden.gif").exists()
