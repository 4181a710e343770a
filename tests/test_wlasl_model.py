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

    chosen = [v for v, g in _glosses_of_videos().items()][::7][:3]
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
    import torch

    from signstudio.pose.io import read_pose
    from signstudio.pose.landmarks import canonical_handedness, landmark_features, select_landmarks
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.recognize import ctc_runs
    from signstudio.runtime.stream import StreamingRecognizer, recognize_stream

    loaded = load_installed(str(CONTINUOUS))
    poses = [read_pose(p) for p in sorted((WLASL / "poses").glob("*.pose"))[:4]]
    points = np.concatenate([select_landmarks(p)[0] for p in poses])
    found = np.concatenate([select_landmarks(p)[1] for p in poses])
    offline_p, offline_f, _ = canonical_handedness(points, found)
    with torch.no_grad():
        memory, _ = loaded.model.encode(torch.from_numpy(landmark_features(offline_p, offline_f))[None],
                                        torch.tensor([len(points)]))
        offline = [loaded.features["classes"][label] for label, _, _ in
                   ctc_runs(loaded.model.ctc_log_probs(memory)[0].numpy())]
    stream = [c.gloss or c.alternatives[0][0] for c in
              recognize_stream(StreamingRecognizer(loaded), ((points[i], found[i], i / 25.0) for i in range(len(points))))]
    assert stream == offline and len(stream) >= 3
