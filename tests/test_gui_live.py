"""Live captions in the Translate tab (pytest-qt, offscreen): a fake webcam replays real WLASL
videos through MediaPipe Holistic and a tiny CTC recogniser trained here; captions must appear in
the window while the stream runs, stay after Stop or a disconnect, and a model that cannot stream
records instead. The tiny model's words may be wrong: these tests check the mechanics."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from signstudio.gui.frames import DisplayFrame, FrameThrottle  # noqa: E402
from signstudio.gui.translate import TranslateTab, live  # noqa: E402
from signstudio.gui.translate.captions import CaptionItem, format_clock, history_line  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("no_leaked_widgets")]

STREAM_TIMEOUT_MS = 180_000
CTC_MODEL = "tiny-live-ctc"
ISOLATED_MODEL = "tiny-live-isolated"


# --- the tiny models (trained once per session) ----------------------------------------------------
def _wlasl_folder(src: Path, out: Path) -> None:
    """A WLASL folder of the shared test poses of the classes the shared test videos show (every
    fifth clip as val), with the real metadata."""
    split = json.loads((src / "nslt_100.json").read_text())
    classes = {split[v.stem]["action"][0] for v in (src / "videos").glob("*.mp4") if v.stem in split}
    (out / "poses").mkdir(parents=True)
    mine = {}
    chosen = [p for p in sorted((src / "poses").glob("*.pose")) if split.get(p.stem, {}).get("action", [-1])[0] in classes]
    for i, pose in enumerate(chosen):
        mine[pose.stem] = {**split[pose.stem], "subset": "val" if i % 5 == 4 else "train"}
        shutil.copy(pose, out / "poses" / pose.name)
    (out / "nslt_100.json").write_text(json.dumps(mine))
    shutil.copy(src / "WLASL100.json", out / "WLASL100.json")


def install_tiny_models(src: Path, folder: Path, models: Path) -> tuple[str, str]:
    """Train and install (in ``models``) two tiny landmark recognisers on a WLASL folder made in
    ``folder`` from ``src``; returns their names ``(ctc, isolated)``. The first has a CTC head:
    100 epochs (400 steps, d_model 32, 25 k parameters) on the shared WLASL test poses, then its
    blank made 3.5 nats less likely and its threshold set to 0.42 so that it captions a stream
    often, some glosses sure and some unsure (``?``). The second is the same without the CTC
    head (isolated signs only). About 20 s on one thread."""
    import torch

    from signstudio.runtime.checkpoint import load_model, save_model
    from signstudio.training.config import parse_config_text
    from signstudio.training.loop import fit

    _wlasl_folder(src, folder)
    text = (f"name: {CTC_MODEL}\n"
            "model:\n  type: recognizer\n  d_model: 32\n  ff_dim: 64\n  encoder_layers: 1\n  num_heads: 2\n"
            "  ctc: true\n"
            f"data:\n  path: {folder}\n"
            "train:\n  epochs: 100\n  batch_size: 8\n  eval_every: 100\n  threads: 1\n  ctc_weight: 1.0\n"
            "  sequences_per_batch: 4\n  dev_sequences: 8\n  warmup_steps: 20\n  learning_rate: 0.005\n")
    out = models / CTC_MODEL
    torch.set_num_threads(1)
    fit(parse_config_text(text), output=out, overwrite=True)
    loaded = load_model(out / "model.pt")
    model = loaded.model
    with torch.no_grad():
        model.ctc_head.bias[0] -= 3.5
    common = dict(model_type=loaded.model_type, gloss_vocab=None, text_vocab=None, features=loaded.features,
                  config=loaded.config)
    save_model(out / "model.pt", name=CTC_MODEL, model=model, metrics={**loaded.metrics, "threshold": 0.42},
               **common)
    model.ctc_head = None
    model.config.ctc = False
    save_model(models / ISOLATED_MODEL / "model.pt", name=ISOLATED_MODEL, model=model,
               metrics=loaded.metrics, **common)
    return CTC_MODEL, ISOLATED_MODEL


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """The tiny recognisers of :func:`install_tiny_models`, in the (temporary) user models folder."""
    from signstudio.paths import data_dir, user_models_dir

    src = data_dir() / "wlasl100"
    if not (src / "nslt_100.json").is_file() or not list((src / "videos").glob("*.mp4")):
        pytest.skip(f"the WLASL100 test poses and videos are not in {src}")
    return install_tiny_models(src, tmp_path_factory.mktemp("wlasl-live"), user_models_dir())


@pytest.fixture
def videos(data_dir):
    found = sorted((data_dir / "wlasl100" / "videos").glob("*.mp4"))
    if len(found) < 4:
        pytest.skip("the WLASL100 test videos are not in the data folder")
    return found


# --- a fake webcam -----------------------------------------------------------------------------------
class FakeCamera:
    """Stands in for ``live.open_camera_source``: real videos, one after the other (looped), at
    their own frame rate, as a webcam would deliver them. ``fail`` (an Event) makes it raise as an
    unplugged camera does; ``loop=False`` ends after the last video; ``released`` is set by the
    job's release."""

    def __init__(self, videos: list[Path], loop: bool = True, max_seconds: float = 150.0) -> None:
        self.videos, self.loop, self.max_seconds = videos, loop, max_seconds
        self.fail = threading.Event()
        self.released = threading.Event()
        self.frames = 0
        self.opened: list[int] = []

    def __call__(self, index: int):
        from signstudio.runtime.live import video_source

        self.opened.append(index)
        self.released.clear()  # a camera opened again

        def frames():
            offset, start = 0.0, time.monotonic()
            while not self.released.is_set() and time.monotonic() - start < self.max_seconds:
                for path in self.videos:
                    source, fps = video_source(str(path))
                    t = 0.0
                    for rgb, t in source:
                        if self.released.is_set():
                            return
                        if self.fail.is_set():
                            raise OSError("the camera was unplugged")
                        self.frames += 1
                        yield rgb, offset + t
                    offset += t + 1.0 / fps
                if not self.loop:
                    return

        return frames(), 25.0, self.released.set


@pytest.fixture
def tab(shown_widgets, qtbot, tiny_models):
    """A shown Translate tab (its own model list, with the tiny models) on the CTC model."""
    widget = shown_widgets(TranslateTab)
    qtbot.waitUntil(widget.models_ready, timeout=60_000)
    _choose(widget, CTC_MODEL)
    return widget


def _choose(tab, model: str | None) -> None:
    combo = tab.model_combo
    index = combo.findData(model)
    assert index >= 0, f"{model} is not offered: {combo.choices()}"
    combo.setCurrentIndex(index)


def _camera(monkeypatch, videos, **kw) -> FakeCamera:
    camera = FakeCamera(videos, **kw)
    monkeypatch.setattr(live, "open_camera_source", camera)
    return camera


# --- live captions -----------------------------------------------------------------------------------
def test_captions_appear_while_the_person_signs_and_stay_after_stop(tab, qtbot, monkeypatch, videos):
    camera = _camera(monkeypatch, videos[:6])
    assert tab.can_stream() and "Live captions" in tab.webcam_button.toolTip()
    gaps, last = [], [time.monotonic()]

    def tick():  # the GUI thread stays free while MediaPipe and the model run
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(50)
    assert tab.start_webcam(0)
    assert tab.state == "live" and tab.webcam_button.text() == "Stop"
    qtbot.waitUntil(lambda: len(tab.caption_history()) >= 2, timeout=STREAM_TIMEOUT_MS)
    # Captions arrived while the stream runs, with the frames and their landmarks.
    assert tab.state == "live" and tab.is_busy() and not camera.released.is_set()
    frame = tab.video_view.frame()
    assert isinstance(frame, DisplayFrame) and frame.image is not None and frame.points is not None
    assert max(frame.image.shape[:2]) <= 640
    assert tab.player.cache.bytes == 0  # a stream is not kept for playback
    shown = tab.caption_area.glosses
    assert tab.caption_area.showing_glosses() and not tab.history.isHidden()
    assert shown.caption_line() and shown.line_label.font().pointSizeF() >= 24
    assert shown.candidates() and shown.candidates_text()
    newest = tab.live_captions()[-1]
    assert shown.caption_line().split()[-1] == (newest.gloss or "?")
    assert "Live captions" in tab.status_label.text() or "No hands" in tab.status_label.text()
    timer.stop()
    assert max(gaps) < 2.0, f"the GUI thread was blocked for {max(gaps):.1f} s"

    with qtbot.waitSignal(tab.idle, timeout=60_000):
        tab.stop_webcam()
    assert camera.released.is_set()
    lines = tab.caption_history()
    assert len(lines) == len(tab.live_captions()) >= 2
    assert all(line.split()[0].count(":") == 1 for line in lines)  # each with its time
    assert tab.error_text() == "" and "Live captions stopped" in tab.status_label.text()
    assert tab.caption_area.showing_glosses() and shown.caption_line()
    assert tab.webcam_button.text() == "Webcam" and tab.webcam_button.isEnabled()
    # The history is selectable and copyable.
    tab.history.edit.setFocus()
    qtbot.keyClick(tab.history.edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(tab.history.edit, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.clipboard().text() == "\n".join(lines)
    QApplication.clipboard().clear()
    tab.history.copy_button.click()
    assert QApplication.clipboard().text() == "\n".join(lines)

    # The next stream starts afresh; Cancel (Esc) stops it like Stop and keeps its captions.
    assert tab.start_webcam(0)
    qtbot.waitUntil(lambda: tab.caption_history() != lines, timeout=STREAM_TIMEOUT_MS)  # replaced
    with qtbot.waitSignal(tab.idle, timeout=60_000):
        tab.cancel()
    assert tab.error_text() == "" and len(tab.caption_history()) == len(tab.live_captions())


def test_a_webcam_that_disconnects_keeps_the_captions(tab, qtbot, monkeypatch, videos):
    camera = _camera(monkeypatch, videos[2:8])
    tab.caption_added.connect(lambda caption: camera.fail.set())  # unplugged once a caption is there
    with qtbot.waitSignal(tab.idle, timeout=STREAM_TIMEOUT_MS):
        assert tab.start_webcam(0)
    assert tab.live_captions() and len(tab.caption_history()) == len(tab.live_captions())
    assert tab.banner.kind == "error" and "unplugged" in tab.error_text()
    assert "kept" in tab.error_text() and "Traceback" not in tab.error_text()
    assert "disconnected" in tab.status_label.text()
    assert tab.caption_area.showing_glosses() and not tab.history.isHidden()
    assert camera.released.is_set() and tab.webcam_button.isEnabled()


def test_a_stream_that_ends_says_the_webcam_stopped(tab, qtbot, monkeypatch, videos):
    _camera(monkeypatch, videos[:1], loop=False)
    with qtbot.waitSignal(tab.idle, timeout=STREAM_TIMEOUT_MS):
        assert tab.start_webcam(0)
    assert "stopped sending pictures" in tab.error_text()
    assert len(tab.caption_history()) == len(tab.live_captions())


def test_hands_out_of_view_are_reported(tab, qtbot, monkeypatch, tmp_path):
    cv2 = pytest.importorskip("cv2")
    empty = tmp_path / "empty_room.mp4"
    writer = cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"mp4v"), 25, (160, 120))
    for i in range(75):
        writer.write(np.full((120, 160, 3), 90 + i % 3, np.uint8))
    writer.release()
    _camera(monkeypatch, [empty])
    assert tab.start_webcam(0)
    qtbot.waitUntil(lambda: "No hands visible" in tab.status_label.text(), timeout=STREAM_TIMEOUT_MS)
    assert tab.caption_area.glosses.hint().startswith("No hands visible")
    with qtbot.waitSignal(tab.idle, timeout=60_000):
        tab.stop_webcam()
    assert tab.caption_history() == [] and tab.error_text() == ""


def _fake_record_camera_job(pose_path: Path, recorded: list):
    """Stands in for ``jobs.record_camera_job``: a webcam "recording" that replays a real pose's
    landmarks over grey frames until stopped, and returns that pose."""

    def make(index, max_seconds=60.0):
        recorded.append(index)

        def job(task):
            from signstudio.capture.holistic import FrameLandmarks, PoseExtraction
            from signstudio.capture.video import VideoInfo
            from signstudio.pose.io import read_pose

            pose = read_pose(pose_path)
            points = np.asarray(np.ma.getdata(pose.body.data)[:, 0], np.float32)
            conf = np.asarray(pose.body.confidence[:, 0], np.float32)
            width, height = pose.header.dimensions.width, pose.header.dimensions.height
            task.set_total(None, unit="frame")
            for i in range(3000):
                if task.cancelled:
                    break
                k = i % len(points)
                task.partial(FrameLandmarks(i, np.full((height, width, 3), 60, np.uint8), points[k], conf[k]))
                task.advance()
                time.sleep(0.02)
            info = VideoInfo(f"camera:{index}", width, height, float(pose.body.fps), len(points))
            return PoseExtraction(pose, info, hands_detected=len(points), seconds=0.1)

        return job

    return make


def test_a_model_that_cannot_stream_records_and_translates_after_stop(tab, qtbot, monkeypatch, videos, data_dir):
    pose = data_dir / "wlasl100" / "poses" / "07092.pose"
    if not pose.is_file():
        pytest.skip(f"{pose} is missing")
    recorded: list[int] = []
    from signstudio.gui.translate import jobs

    monkeypatch.setattr(jobs, "record_camera_job", _fake_record_camera_job(pose, recorded))
    camera = _camera(monkeypatch, videos[:2])

    # The BOSTON Signformer: known from its metadata; the tooltip says what happens.
    _choose(tab, "boston104-signformer")
    assert not tab.can_stream()
    assert "not a live stream" in tab.webcam_button.toolTip()
    assert tab.start_webcam(0) and tab.state == "recording"
    qtbot.waitUntil(lambda: tab.video_view.frame() is not None, timeout=30_000)
    with qtbot.waitSignal(tab.idle, timeout=60_000):
        tab.cancel()

    # A landmark recogniser without a CTC head: its checkpoint says it cannot stream, so it records.
    _choose(tab, ISOLATED_MODEL)
    assert not tab.can_stream()
    assert "not a live stream" in tab.webcam_button.toolTip()
    assert tab.start_webcam(0)
    qtbot.waitUntil(lambda: tab.state == "recording", timeout=60_000)
    assert recorded == [0, 0] and camera.opened == []  # the live camera was never opened
    qtbot.waitUntil(lambda: tab.video_view.frame() is not None, timeout=30_000)
    with qtbot.waitSignal(tab.translation_ready, timeout=60_000):
        tab.stop_webcam()
    qtbot.waitUntil(lambda: not tab.is_busy(), timeout=30_000)
    assert "not a live stream" in tab.webcam_button.toolTip()
    # A recogniser's translation shows as glosses (or why none is shown), with its history.
    assert tab.caption_area.showing_glosses()
    shown = tab.caption_area.glosses
    assert shown.caption_line() or shown.hint().startswith("No sign shown")


def test_a_pose_file_shows_the_recognisers_segments(tab, qtbot, data_dir):
    pose = data_dir / "wlasl100" / "poses" / "07092.pose"
    if not pose.is_file():
        pytest.skip(f"{pose} is missing")
    with qtbot.waitSignal(tab.translation_ready, timeout=120_000):
        assert tab.open_path(pose)
    qtbot.waitUntil(lambda: not tab.is_busy(), timeout=30_000)
    translation = tab.translation()
    assert translation.segments and tab.caption_area.showing_glosses()
    segment = translation.segments[0]
    shown = tab.caption_area.glosses
    assert shown.caption_line() == (segment["gloss"] or "?")
    assert [g for g, _ in shown.candidates()] == [g for g, _ in segment["alternatives"][:4]]
    assert len(tab.caption_history()) == 1 and "model " + CTC_MODEL in shown.hint()


# --- the caption widgets -----------------------------------------------------------------------------
def test_unsure_glosses_show_a_question_mark_with_their_candidates(shown_widgets):
    from signstudio.gui.translate.captions import CaptionArea
    from signstudio.runtime.sign2text import Translation

    area = shown_widgets(CaptionArea, size=(1000, 200))
    unsure = {"gloss": None, "start": 25, "end": 50, "confidence": 0.31,
              "alternatives": [["BOOK", 0.31], ["DRINK", 0.12], ["DEAF", 0.08]]}
    area.show_translation(Translation("", [], "m", 60, segments=[unsure],
                                      note="unsure: the best guess BOOK has 31% (shown from 40%)"), "model m", 25.0)
    assert area.showing_glosses() and area.glosses.caption_line() == "?"
    assert area.glosses.candidates_text().splitlines() == ["Unsure (?) — maybe:", "BOOK 31%", "DRINK 12%", "DEAF 8%"]
    assert "Unsure: the best guess BOOK" in area.glosses.hint()
    assert area.history.lines() == ["0:01.0  ?  (BOOK 31%, DRINK 12%)"]

    area.show_translation(Translation("", [], "m", 60, note="no hand is visible in the clip"), "", 25.0)
    assert area.glosses.caption_line() == "" and area.glosses.hint() == "No sign shown: no hand is visible in the clip."

    area.begin_live("sign")
    for i in range(40):  # a long stream: the line keeps the newest glosses that fit
        area.add_caption(CaptionItem(None if i % 3 == 1 else f"GLOSS{i}", i, i + 0.5, 0.6, [("GLOSS", 0.6)]))
    words = area.glosses.caption_line().split()
    assert words[-1] == "GLOSS39" and 1 < len(words) < 40
    assert len(area.history.lines()) == 40 and area.history.lines()[1].startswith("0:01.0  ?")

    area.show_translation(Translation("John writes.", ["JOHN", "WRITE"], "signformer", 60), "meta", 25.0)
    assert not area.showing_glosses() and area.sentence.glosses() == "JOHN WRITE" and area.history.isHidden()
    area.show_translation(Translation("JOHN WRITE", ["JOHN", "WRITE"], "signformer", 60), "", 25.0)  # gloss-only
    area.clear("Sign, then press Stop.")  # the hint shows again after a gloss-only translation
    assert area.sentence.text() == "Sign, then press Stop." and not area.sentence.text_label.isHidden()


def test_history_lines_and_clock():
    assert format_clock(0) == "0:00.0" and format_clock(63.25) == "1:03.2" and format_clock(3725.0) == "1:02:05.0"
    assert history_line(CaptionItem("BOOK", 3.2, 4.0, 0.623)) == "0:03.2  BOOK  62%"
    assert history_line(CaptionItem(None, 4.0, 4.5, 0.3)) == "0:04.0  ?"


def test_the_live_view_is_throttled_and_downscaled_on_the_worker_thread():
    from signstudio.runtime.live import LiveFrame

    now = [0.0]
    throttle = FrameThrottle(max_fps=18, clock=lambda: now[0])
    shown = []
    for i in range(60):  # two seconds of a 30 fps camera
        now[0] = i / 30
        frame = LiveFrame(i, i / 30, np.zeros((720, 1280, 3), np.uint8), np.ones((543, 3), np.float32) * 100,
                          np.ones(543, np.float32), True)
        out = throttle(frame)
        if out is not None:
            shown.append(out)
    assert 28 <= len(shown) <= 36 and throttle.dropped == 60 - len(shown)
    assert shown[0].image.shape == (360, 640, 3) and np.allclose(shown[0].points, 50)
    caption = object()
    assert throttle(caption) is caption  # anything else passes unchanged


def test_only_landmark_recognisers_may_stream():
    class Info:
        def __init__(self, kind):
            self.features = {"kind": kind}

    assert live.may_stream(Info("holistic_landmarks")) and not live.may_stream(Info("hand_nose_tracks"))
    assert not live.may_stream(None)
    from signstudio.runtime.recognize import FEATURE_KIND

    assert live.LANDMARK_KIND == FEATURE_KIND
    memory = live.ModelMemory()
    memory.no_stream["m"] = "isolated signs only"
    assert not memory.can_stream("m", Info("holistic_landmarks")) and memory.can_stream("n", Info("holistic_landmarks"))
    assert "not a live stream" in memory.webcam_note("m", None)
