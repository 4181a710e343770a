"""Tests for signstudio.capture: OpenCV probing/decoding and MediaPipe Holistic extraction.

Real videos come from the shared data folder (``signstudio.paths.data_dir() / "videos"``); tests
that need them skip with a reason when it is absent. Tests that run MediaPipe are marked ``slow``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from signstudio.capture.video import VideoInfo, iter_frames, open_camera, probe_video
from signstudio.errors import Cancelled, InputError, NoSignerError
from signstudio.paths import data_dir
from signstudio.tasks import RecordingTask

VIDEOS = data_dir() / "videos"
HUMAN = VIDEOS / "human_signer.mp4"
WEBCAM = VIDEOS / "webcam_signer.mp4"


def _need(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"real data not found: {path} (set SIGNSTUDIO_DATA to the shared data folder)")
    return path


def _write_video(path: Path, frames: list[np.ndarray], fps: float = 25.0, fourcc: str = "mp4v"):
    h, w = frames[0].shape[:2] if frames else (64, 64)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    assert writer.isOpened()
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert msg and "\n" not in msg, repr(msg)
    return msg


# ---------------------------------------------------------------------------------------------
# video.py (OpenCV only, fast)


def test_probe_human_signer():
    info = probe_video(_need(HUMAN))
    assert isinstance(info, VideoInfo)
    assert (info.width, info.height) == (1280, 720)
    assert info.fps == pytest.approx(24.0, abs=0.1)
    assert info.frame_count == 135
    assert info.path == str(HUMAN)


def test_iter_frames_rgb_and_count():
    path = _need(WEBCAM)
    frames = list(iter_frames(path))
    assert len(frames) == probe_video(path).frame_count == 58
    assert all(f.shape == (720, 540, 3) and f.dtype == np.uint8 for f in frames)
    # RGB, not BGR: compare with OpenCV's own BGR decode of the first frame.
    ok, bgr = cv2.VideoCapture(str(path)).read()
    assert ok and np.array_equal(frames[0], bgr[:, :, ::-1])


def test_probe_missing_file(tmp_path):
    with pytest.raises(InputError) as exc:
        probe_video(tmp_path / "nope.mp4")
    assert _one_line(exc) == f"{tmp_path / 'nope.mp4'}: no such file"


@pytest.mark.parametrize("content", [b"this is a text file, not a video\n", b""],
                         ids=["text", "empty"])
def test_probe_not_a_video(tmp_path, content):
    path = tmp_path / "x.mp4"
    path.write_bytes(content)
    with pytest.raises(InputError) as exc:
        probe_video(path)
    assert _one_line(exc).startswith(f"{path}: not a video OpenCV can read")
    with pytest.raises(InputError):
        list(iter_frames(path))


def test_probe_zero_frame_videos(tmp_path):
    # An mp4 writer released without frames leaves a file without a 'moov' atom: OpenCV cannot
    # open it at all, so it is "not a video". An AVI header is written up front: OpenCV opens it,
    # reports 0 frames and decodes none.
    mp4 = _write_video(tmp_path / "zero.mp4", [])
    with pytest.raises(InputError) as exc:
        probe_video(mp4)
    assert _one_line(exc).startswith(f"{mp4}: not a video OpenCV can read")
    avi = _write_video(tmp_path / "zero.avi", [], fourcc="MJPG")
    with pytest.raises(InputError) as exc:
        probe_video(avi)
    assert _one_line(exc) == f"{avi}: the video has no frames"


def test_no_webcam():
    with pytest.raises(InputError) as exc:
        open_camera(99)
    assert _one_line(exc) == "no webcam found at index 99"


def test_video_module_does_not_import_mediapipe_or_qt():
    code = ("import sys, signstudio.capture, signstudio.capture.video; "
            "bad = [m for m in ('mediapipe', 'PySide6') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------
# holistic.py (MediaPipe)


@pytest.fixture(scope="module")
def webcam_extraction():
    from signstudio.capture.holistic import extract_pose

    task = RecordingTask()
    result = extract_pose(_need(WEBCAM), task, emit_frames=True)
    return result, task


@pytest.mark.slow
def test_extract_pose_roundtrip(webcam_extraction, tmp_path):
    from pose_format import Pose

    from signstudio.capture.holistic import NUM_POINTS, FrameLandmarks
    from signstudio.pose.features import tracks_from_holistic
    from signstudio.pose.io import write_pose

    result, task = webcam_extraction
    n_frames = len(list(iter_frames(WEBCAM)))
    assert result.info.fps == pytest.approx(29.9167, abs=1e-3)
    assert result.pose.body.data.shape == (n_frames, 1, NUM_POINTS, 3)
    assert 0 < result.hands_detected <= n_frames
    assert result.seconds > 0

    # task protocol: total announced, one advance and one partial per frame
    assert task.total == 58 and task.done == n_frames
    assert len(task.partials) == n_frames
    first = task.partials[0]
    assert isinstance(first, FrameLandmarks) and first.index == 0
    assert first.image.shape == (720, 540, 3) and first.points.shape == (NUM_POINTS, 3)
    assert first.confidence.shape == (NUM_POINTS,)

    out = tmp_path / "webcam.pose"
    write_pose(result.pose, out)
    pose = Pose.read(open(out, "rb").read())
    assert [c.name for c in pose.header.components] == [
        "POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS",
        "POSE_WORLD_LANDMARKS"]
    assert (pose.header.dimensions.width, pose.header.dimensions.height) == (540, 720)
    assert pose.body.data.shape == (n_frames, 1, NUM_POINTS, 3)
    assert pose.body.fps == pytest.approx(result.info.fps, rel=1e-6)
    np.testing.assert_allclose(pose.body.confidence, result.pose.body.confidence)

    # a hand that was not found: confidence 0 for all 21 points, and masked after reading back
    conf = pose.body.confidence[:, 0]
    lh_start = pose.header.get_point_index("LEFT_HAND_LANDMARKS", "WRIST")
    rh_start = pose.header.get_point_index("RIGHT_HAND_LANDMARKS", "WRIST")
    lh, rh = slice(lh_start, lh_start + 21), slice(rh_start, rh_start + 21)
    missing = [t for t in range(n_frames) if not conf[t, lh].any() or not conf[t, rh].any()]
    assert missing, "expected at least one frame with a hand missing"
    t = missing[0]
    part = lh if not conf[t, lh].any() else rh
    assert np.all(conf[t, part] == 0)
    assert np.all(pose.body.data.mask[t, 0, part])
    # found parts: the body has visibilities in (0, 1], face points confidence 1
    assert conf[:, :33].max() <= 1 and conf[:, :33].any()
    face = slice(33, 33 + 468)
    assert set(np.unique(conf[:, face])) <= {0.0, 1.0}
    # x, y in pixels, inside (roughly) the frame where the face was found
    xy = np.asarray(pose.body.data.data)[:, 0, face, :2][conf[:, face] > 0]
    assert 0 < xy[:, 0].mean() < 540 and 0 < xy[:, 1].mean() < 720

    tracks = tracks_from_holistic(pose)
    assert tracks.shape == (n_frames, 3, 2)
    assert not np.isnan(tracks[:, 2]).any(), "nose missing in some frame"


@pytest.mark.slow
def test_estimator_matches_pose_format(webcam_extraction):
    """Our layout equals pose-format's own load_holistic on the same frames."""
    from pose_format.utils.holistic import load_holistic

    result, _ = webcam_extraction
    frames = [f for _, f in zip(range(4), iter_frames(WEBCAM))]
    ref = load_holistic(frames, fps=30, width=540, height=720,
                        additional_holistic_config={"model_complexity": 1}, reuse=False)
    assert ref.header.total_points() == result.pose.header.total_points()
    ours = result.pose.body
    np.testing.assert_allclose(ours.confidence[:4], ref.body.confidence, atol=1e-5)
    np.testing.assert_allclose(np.asarray(ours.data.data)[:4], np.asarray(ref.body.data.data),
                               rtol=0, atol=1e-3)  # float32 rounding only


@pytest.mark.slow
def test_extract_pose_cancel():
    from signstudio.capture.holistic import extract_pose

    task = RecordingTask(cancel_after=5)
    with pytest.raises(Cancelled):
        extract_pose(_need(WEBCAM), task)
    assert task.done == 5


@pytest.mark.slow
def test_extract_pose_nobody(tmp_path):
    from signstudio.capture.holistic import extract_pose

    gray = [np.full((240, 320, 3), 128, np.uint8)] * 8
    path = _write_video(tmp_path / "gray.mp4", gray)
    with pytest.raises(NoSignerError) as exc:
        extract_pose(path)
    assert _one_line(exc) == f"{path}: nobody was found in the video"


@pytest.mark.slow
def test_extract_pose_keeps_only_the_components_asked_for(webcam_extraction):
    """A long video translated keeps body and hands only: 75 points, exactly those of the full pose."""
    from signstudio.capture.holistic import BODY_AND_HANDS, extract_pose

    full = webcam_extraction[0].pose
    small = extract_pose(_need(WEBCAM), components=BODY_AND_HANDS).pose
    assert [c.name for c in small.header.components] == list(BODY_AND_HANDS)
    assert small.body.data.shape == (*full.body.data.shape[:2], 75, 3)
    assert small.body.fps == full.body.fps
    np.testing.assert_allclose(np.ma.getdata(small.body.data),
                               np.ma.getdata(full.get_components(list(BODY_AND_HANDS)).body.data), atol=1e-4)


@pytest.mark.slow
def test_extract_pose_truncated_file(tmp_path):
    """A cut-off mp4 decodes as far as it goes; the status line says frames are missing."""
    from signstudio.capture.holistic import extract_pose

    path = tmp_path / "cut.mp4"
    path.write_bytes(_need(WEBCAM).read_bytes()[:50_000])
    task = RecordingTask()
    result = extract_pose(path, task)
    n = result.pose.body.data.shape[0]
    assert 0 < n < result.info.frame_count == 58
    assert task.done == n and "truncated" in task.statuses[-1]


def test_extract_pose_bad_inputs(tmp_path):
    # These fail in probe_video, before MediaPipe runs (the import itself is the only cost).
    from signstudio.capture.holistic import extract_pose

    with pytest.raises(InputError, match="no such file"):
        extract_pose(tmp_path / "missing.mp4")
    text = tmp_path / "x.mp4"
    text.write_text("not a video")
    with pytest.raises(InputError, match="not a video OpenCV can read"):
        extract_pose(text)


@pytest.mark.slow
def test_record_loop_stops_normally(monkeypatch):
    """record_camera's loop, fed from a file instead of a webcam: a cancel ends it normally."""
    from signstudio.capture import holistic

    class FakeCamera:
        width, height, fps = 540, 720, 30.0

        def __iter__(self):
            return iter_frames(_need(WEBCAM))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

    monkeypatch.setattr(holistic, "open_camera", lambda index: FakeCamera())
    task = RecordingTask(cancel_after=6)
    result = holistic.record_camera(0, task, max_seconds=60)
    assert result.pose.body.data.shape[0] == 6 == result.info.frame_count
    assert result.info.path == "camera:0" and result.info.fps > 0
    assert len(task.partials) == 6

    with pytest.raises(InputError, match="nothing was recorded"):
        holistic.record_camera(0, RecordingTask(), max_seconds=0)


def test_record_camera_no_webcam():
    from signstudio.capture.holistic import record_camera

    with pytest.raises(InputError, match="no webcam found at index 99"):
        record_camera(99, RecordingTask())
