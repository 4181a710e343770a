"""The shipped WLASL100 recognisers on real ASL from signers nobody here recorded: the card's
numbers reproduce, the test videos give their glosses, and continuous signing comes out live."""

from __future__ import annotations

import json

import numpy as np
import pytest

from signstudio.cli import main
from signstudio.paths import data_dir, models_dir

ISOLATED = models_dir() / "wlasl100-recognizer"
CONTINUOUS = models_dir() / "wlasl100-continuous"
WLASL = data_dir() / "wlasl100"

needs_isolated = pytest.mark.skipif(not (ISOLATED / "model.pt").is_file(), reason="wlasl100-recognizer is not installed")
needs_continuous = pytest.mark.skipif(not (CONTINUOUS / "model.pt").is_file(),
                                      reason="wlasl100-continuous is not installed")
needs_data = pytest.mark.skipif(not (WLASL / "nslt_100.json").is_file(), reason=f"WLASL100 is not in {data_dir()}")


def _card(model) -> dict:
    from signstudio.runtime.checkpoint import read_metadata

    return read_metadata(model)["metrics"]


def _glosses_of_videos() -> dict[str, str]:
    """``{video path: gloss}`` of the shared test videos."""
    from signstudio.data.wlasl import load_wlasl

    clips = {c.video_id: c.gloss.upper() for c in load_wlasl(WLASL / "nslt_100.json", WLASL / "WLASL100.json")}
    return {str(v): clips[v.stem] for v in sorted((WLASL / "videos").glob("*.mp4"))}


@needs_isolated
@needs_data
def test_the_isolated_model_reproduces_its_cards_test_accuracy(capsys):
    card = _card(ISOLATED)
    assert main(["evaluate", str(ISOLATED), "--split", "test", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n"] == 258 and res["missing"] == 0
    assert res["top1"] == pytest.approx(card["test_top1"], abs=0.01)
    assert res["top5"] == pytest.approx(card["test_top5"], abs=0.01)
    assert res["top1"] > 55.43  # above Pose-TGCN, the WLASL paper's pose baseline


@needs_continuous
@needs_data
def test_the_continuous_model_reproduces_its_cards_numbers(capsys):
    card = _card(CONTINUOUS)
    assert main(["evaluate", str(CONTINUOUS), "--split", "test", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n"] == 258 and res["top1"] == pytest.approx(card["test_top1"], abs=0.01)
    assert res["sequences"] == 500 and res["wer"] == pytest.approx(card["test_wer"], abs=1e-4)
    assert res["live_sequences"] == 100
    assert res["wer_streaming"] == pytest.approx(card["test_wer_streaming"], abs=1e-4)


@needs_continuous
@needs_data
def test_the_test_videos_give_their_glosses(capsys):
    card = _card(CONTINUOUS)
    right = 0
    for video, gloss in _glosses_of_videos().items():
        assert main(["translate", video, "-m", str(CONTINUOUS), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        right += out["glosses"] == [gloss]
        for seg in out["segments"]:
            assert 0 <= seg["start"] < seg["end"] and len(seg["alternatives"]) == 5
    assert right == card["test_videos_right"]


def _mirrored(pose):
    """The pose of the same video seen in a mirror: x flipped, and what MediaPipe calls the left
    hand (and every LEFT_ body point) is now the right one."""
    from pose_format import Pose

    header = pose.header
    data = np.ma.getdata(pose.body.data).copy()
    conf = np.ma.getdata(pose.body.confidence).copy()
    order = []
    for comp in header.components:
        for point in comp.points:
            other_comp = {"LEFT_HAND_LANDMARKS": "RIGHT_HAND_LANDMARKS",
                          "RIGHT_HAND_LANDMARKS": "LEFT_HAND_LANDMARKS"}.get(comp.name, comp.name)
            other = point.replace("LEFT", "#").replace("RIGHT", "LEFT").replace("#", "RIGHT")
            other = other if other in next(c for c in header.components if c.name == other_comp).points else point
            order.append(header.get_point_index(other_comp, other))
    data, conf = data[:, :, order], conf[:, :, order]
    data[..., 0] = np.where(conf > 0, header.dimensions.width - data[..., 0], 0.0)
    from pose_format.numpy import NumPyPoseBody

    return Pose(header, NumPyPoseBody(pose.body.fps, data, conf))


@needs_continuous
@needs_data
def test_a_mirrored_clip_gives_the_same_gloss():
    from signstudio.pose.io import read_pose
    from signstudio.runtime.sign2text import load_translator

    translator = load_translator(str(CONTINUOUS))
    for path in sorted((WLASL / "poses").glob("*.pose"))[:10]:
        pose = read_pose(path)
        a, b = translator.translate_pose(pose), translator.translate_pose(_mirrored(pose))
        assert a.glosses == b.glosses and a.segments[0]["alternatives"] == b.segments[0]["alternatives"]


@needs_continuous
@needs_data
def test_live_on_three_clips_joined_gives_their_glosses_in_order(tmp_path, capsys):
    cv2 = pytest.importorskip("cv2")
    from signstudio.capture.video import iter_frames

    glosses = _glosses_of_videos()
    chosen = []  # three clips of different glosses that the model reads right on their own
    for video, gloss in glosses.items():
        if len(chosen) < 3 and gloss not in {glosses[c] for c in chosen}:
            assert main(["translate", video, "-m", str(CONTINUOUS), "--json"]) == 0
            if json.loads(capsys.readouterr().out)["glosses"] == [gloss]:
                chosen.append(video)
    joined = tmp_path / "three.mp4"
    writer = cv2.VideoWriter(str(joined), cv2.VideoWriter_fourcc(*"mp4v"), 25, (256, 256))
    for video in chosen:
        for rgb in iter_frames(video):
            writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    assert main(["live", "--video", str(joined), "--fast", "-m", str(CONTINUOUS), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [c["gloss"] for c in lines if c["gloss"]] == [_glosses_of_videos()[v] for v in chosen]
    assert all(a["time"] <= b["time"] for a, b in zip(lines, lines[1:]))


@needs_continuous
@needs_data
def test_streaming_and_offline_decoding_agree_on_a_recorded_sequence():
    """A recorded sequence (four test clips joined) gives the same glosses, sure and unsure, frame
    by frame as a webcam stream and read offline from its file (``translate``); and the live reading
    costs the model no more than 0.05 WER against one attention pass over each whole sequence."""
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody

    from signstudio.pose.io import read_pose
    from signstudio.pose.landmarks import select_landmarks
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.sign2text import load_translator
    from signstudio.runtime.stream import StreamingRecognizer, recognize_stream

    poses = [read_pose(p) for p in sorted((WLASL / "poses").glob("*.pose"))[:4]]
    body = NumPyPoseBody(poses[0].body.fps, np.concatenate([np.ma.getdata(p.body.data) for p in poses]),
                         np.concatenate([np.ma.getdata(p.body.confidence) for p in poses]))
    recorded = Pose(poses[0].header, body)
    points, found = select_landmarks(recorded)
    fps = float(recorded.body.fps)
    live = list(recognize_stream(StreamingRecognizer(load_installed(str(CONTINUOUS))),
                                 ((points[i], found[i], i / fps) for i in range(len(points)))))
    offline = load_translator(str(CONTINUOUS)).translate_pose(recorded)
    assert len(live) >= 3
    assert [c.gloss for c in live] == [s["gloss"] for s in offline.segments]
    assert [c.alternatives[0][0] for c in live] == [s["alternatives"][0][0] for s in offline.segments]
    card = _card(CONTINUOUS)
    assert abs(card["test_wer_streaming"] - card["test_wer"]) <= 0.05
