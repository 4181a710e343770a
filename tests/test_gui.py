"""The desktop window, offscreen (pytest-qt): tabs, the Qt worker, errors, real extraction."""

from __future__ import annotations

import glob
import threading
import time

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtWidgets import QApplication, QLabel, QPushButton  # noqa: E402

from signstudio.errors import InputError  # noqa: E402
from signstudio.gui.main_window import MainWindow  # noqa: E402
from signstudio.gui.workers import Worker  # noqa: E402

from helpers import run_until_cancelled  # noqa: E402  (tests/ is on sys.path under pytest)

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("no_leaked_widgets")]

EXTRACT_TIMEOUT_MS = 180_000


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture
def window(shown_widgets, qtbot):
    """A shown MainWindow whose model list has loaded; closed (which cancels running jobs and
    waits for their threads) and deleted afterwards. Not resized: a test checks its own size."""
    win = shown_widgets(MainWindow, size=None)
    qtbot.waitUntil(win.translate_tab.models_ready, timeout=60_000)
    return win


def _to_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    h, w = image.height(), image.width()
    buf = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    return buf.reshape(h, image.bytesPerLine())[:, : w * 4].reshape(h, w, 4)[..., :3].copy()


def _overlay_pixels(view) -> int:
    """Pixels that change when the landmark overlay is switched on."""
    view.set_show_landmarks(False)
    plain = _to_array(view.grab().toImage())
    view.set_show_landmarks(True)
    drawn = _to_array(view.grab().toImage())
    return int((np.abs(drawn.astype(int) - plain.astype(int)).sum(axis=-1) > 30).sum())


def _open_and_wait(qtbot, tab, path, timeout=EXTRACT_TIMEOUT_MS):
    with qtbot.waitSignal(tab.idle, timeout=timeout):
        assert tab.open_path(path)
    assert not tab.is_busy()


# --- the window --------------------------------------------------------------------------------
def test_window_has_four_tabs_title_and_size(window):
    assert window.windowTitle() == "SignStudio"
    names = [window.tabs.tabText(i).replace("&", "") for i in range(window.tabs.count())]
    assert names == ["Translate", "Produce", "Attention", "Train"]
    assert (window.width(), window.height()) == (1280, 800)
    assert window.statusBar().currentMessage()


def test_run_shows_the_window_and_returns_the_exit_code(qapp):
    from signstudio.gui.app import run

    titles = []

    def look_and_quit():
        titles.extend(w.windowTitle() for w in QApplication.topLevelWidgets()
                      if isinstance(w, MainWindow) and w.isVisible())
        qapp.exit(0)

    QTimer.singleShot(300, look_and_quit)
    assert run(["signstudio"]) == 0
    assert titles == ["SignStudio"]


def test_attention_and_train_tabs_are_working_tabs(window):
    assert window.tabs.widget(2) is window.attention_tab
    assert window.tabs.widget(3) is window.train_tab
    assert window.train_tab.findChildren(QPushButton)  # Start, Cancel, Resume: real controls
    # One list of installed models for the window: a model that finishes training (the Train
    # tab refreshes it) is offered in the other tabs without restarting.
    for tab in (window.translate_tab, window.attention_tab, window.train_tab):
        assert tab.models is window.models


def test_model_selector_offers_the_default_model(window):
    combo = window.translate_tab.model_combo
    assert combo.count() >= 1
    assert combo.itemData(0) is None  # None = load_translator's default
    assert "Default" in combo.itemText(0)


def test_model_selector_offers_only_sign_to_text_models(window, qtbot):
    from signstudio.runtime.installed import list_models

    combo = window.translate_tab.model_combo
    qtbot.waitUntil(window.translate_tab.models_ready, timeout=20000)
    offered = " ".join(combo.itemText(i) for i in range(combo.count()))
    for m in list_models():
        assert (m.name in offered) == (m.task == "sign-to-text"), m.name


# --- the worker --------------------------------------------------------------------------------
def test_worker_delivers_progress_status_partial_and_result(qtbot):
    threads = []

    def job(task):
        threads.append(threading.current_thread())
        task.set_total(3, unit="frame")
        task.set_status("working")
        for i in range(3):
            task.partial(i * 10)
            task.advance()
        return "result"

    worker = Worker(job)
    progress, partials, statuses = [], [], []
    worker.signals.progress.connect(lambda done, total: progress.append((done, total)))
    worker.signals.partial.connect(partials.append)
    worker.signals.status.connect(statuses.append)
    failed = []
    worker.signals.failed.connect(failed.append)
    with qtbot.waitSignal(worker.signals.finished, timeout=10_000) as blocker:
        worker.start()
    assert blocker.args == ["result"]
    assert progress == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert partials == [0, 10, 20]
    assert statuses == ["working"]
    assert not failed
    assert threads and threads[0] is not threading.main_thread()


def test_worker_map_partial_runs_on_the_worker_thread(qtbot):
    seen = []

    def shrink(item):
        seen.append(threading.current_thread())
        return None if item % 2 else item * 100  # None drops the partial

    worker = Worker(lambda task: [task.partial(i) for i in range(4)], map_partial=shrink)
    partials = []
    worker.signals.partial.connect(partials.append)
    with qtbot.waitSignal(worker.signals.finished, timeout=10_000):
        worker.start()
    assert partials == [0, 200]
    assert all(t is not threading.main_thread() for t in seen)


def test_worker_cancel_stops_the_job(qtbot):
    started = threading.Event()

    def job(task):
        run_until_cancelled(task, started)
        return "should not finish"

    worker = Worker(job)
    finished = []
    worker.signals.finished.connect(finished.append)
    with qtbot.waitSignal(worker.signals.cancelled, timeout=10_000):
        worker.start()
        assert started.wait(5)
        worker.cancel()
    assert worker.is_cancelled
    assert worker.wait(5)
    assert not finished


def test_worker_reports_a_user_error_as_its_one_line_message(qtbot):
    def job(task):
        raise InputError("clip.mp4: not a video OpenCV can read")

    worker = Worker(job)
    with qtbot.waitSignal(worker.signals.failed, timeout=10_000) as blocker:
        worker.start()
    assert blocker.args == ["clip.mp4: not a video OpenCV can read"]


def test_worker_reports_a_bug_readably_and_logs_the_traceback(qtbot, capfd):
    def job(task):
        raise ZeroDivisionError("division by zero")

    worker = Worker(job)
    with qtbot.waitSignal(worker.signals.failed, timeout=10_000) as blocker:
        worker.start()
    message = blocker.args[0]
    assert "ZeroDivisionError" in message and "\n" not in message
    assert "Traceback" not in message
    assert "Traceback" in capfd.readouterr().err


# --- the Translate tab: bad input --------------------------------------------------------------
def test_text_file_named_mp4_shows_a_readable_error(window, qtbot, tmp_path):
    bad = tmp_path / "x.mp4"
    bad.write_text("this is not a video\n")
    tab = window.translate_tab
    with qtbot.waitSignal(tab.error_shown, timeout=60_000) as blocker:
        assert tab.open_path(bad)
    qtbot.waitUntil(lambda: not tab.is_busy(), timeout=10_000)
    message = blocker.args[0]
    assert "x.mp4" in message and "Traceback" not in message
    assert tab.error_text() == message
    assert tab.banner.isVisible()
    assert tab.banner.message_label.text() == message  # the message is in the widget
    # ... and the tab is usable again.
    assert tab.open_video_button.isEnabled() and not tab.cancel_button.isEnabled()
    assert tab.video_view.frame() is None


def test_missing_file_and_broken_pose_file_show_errors(window, qtbot, tmp_path):
    tab = window.translate_tab
    _open_and_wait(qtbot, tab, tmp_path / "nowhere.mp4", timeout=60_000)
    assert "no such file" in tab.error_text()
    broken = tmp_path / "x.pose"
    broken.write_bytes(b"not a pose file at all")
    _open_and_wait(qtbot, tab, broken, timeout=60_000)
    assert "x.pose" in tab.error_text() and "pose" in tab.error_text()
    assert tab.open_pose_button.isEnabled()


def test_webcam_that_does_not_exist_shows_the_message(window, qtbot):
    tab = window.translate_tab
    with qtbot.waitSignal(tab.idle, timeout=60_000):
        assert tab.start_webcam(9)
        if tab.state == "recording":  # a machine with ten cameras: stop at once
            tab.stop_webcam()
    if not glob.glob("/dev/video9"):
        assert tab.error_text() == "no webcam found at index 9"
        assert tab.video_view.frame() is None
    assert tab.webcam_button.text() == "Webcam" and tab.webcam_button.isEnabled()


def test_video_with_nobody_in_it_shows_no_signer_message(window, qtbot, tmp_path):
    cv2 = pytest.importorskip("cv2")
    path = tmp_path / "empty_room.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (160, 120))
    for i in range(8):
        writer.write(np.full((120, 160, 3), 90 + i, np.uint8))
    writer.release()
    tab = window.translate_tab
    _open_and_wait(qtbot, tab, path)
    assert "nobody" in tab.error_text()
    assert tab.pose() is None and tab.video_view.frame() is None


def _synthetic_pose(frames: int = 12):
    """A Holistic-layout pose of a still figure with both hands, 320x240."""
    from signstudio.capture.holistic import NUM_POINTS, poses_to_pose

    rng = np.random.default_rng(0)
    points = np.zeros((frames, NUM_POINTS, 3), np.float32)
    points[..., 0] = rng.uniform(60, 260, (frames, NUM_POINTS))
    points[..., 1] = rng.uniform(40, 200, (frames, NUM_POINTS))
    confidence = np.ones((frames, NUM_POINTS), np.float32)
    return poses_to_pose(points, confidence, fps=25.0, width=320, height=240)


def test_pose_file_with_a_model_shows_large_captions(window, qtbot, tmp_path, monkeypatch):
    inference = pytest.importorskip("signstudio.runtime.sign2text")
    from signstudio.pose.io import write_pose

    class FakeTranslator:
        name = "fake-model"

        def translate_pose(self, pose):
            return inference.Translation(text="John writes his homework.",
                                         glosses=["JOHN", "WRITE", "HOMEWORK"], model=self.name,
                                         frames=int(pose.body.data.shape[0]),
                                         seconds={"pose": 0.0, "model": 0.012})

    import signstudio.runtime.translator as translator_module

    monkeypatch.setattr(translator_module, "load_translator", lambda name=None, *_a, **_k: FakeTranslator())
    path = tmp_path / "still.pose"
    write_pose(_synthetic_pose(), path)
    tab = window.translate_tab
    with qtbot.waitSignal(tab.translation_ready, timeout=60_000):
        assert tab.open_path(path)
    qtbot.waitUntil(lambda: not tab.is_busy(), timeout=10_000)
    assert tab.error_text() == ""
    assert tab.captions.glosses() == "JOHN WRITE HOMEWORK"
    assert tab.captions.text() == "John writes his homework."
    assert "fake-model" in tab.captions.meta_label.text()
    assert tab.captions.glosses_label.font().pointSizeF() >= 24  # large, readable captions
    assert "fake-model" in window.statusBar().currentMessage()
    tab.pause()
    assert _overlay_pixels(tab.video_view) > 100  # the skeleton is drawn with no video


def _fake_record_camera_job(index, max_seconds=60.0):
    """Stands in for ``jobs.record_camera_job``: a synthetic webcam that records until stopped."""

    def job(task):
        from signstudio.capture.holistic import FrameLandmarks, PoseExtraction
        from signstudio.capture.video import VideoInfo

        task.set_total(None, unit="frame")
        points, confs = [], []
        pose = _synthetic_pose(1)
        for i in range(3000):
            if task.cancelled:
                break
            image = np.full((240, 320, 3), 70, np.uint8)
            image[100:140, 140:180] = 200
            pts = np.asarray(pose.body.data[0, 0], np.float32)
            conf = np.ones(len(pts), np.float32)
            points.append(pts)
            confs.append(conf)
            task.partial(FrameLandmarks(i, image, pts, conf))
            task.advance()
            time.sleep(0.01)
        from signstudio.capture.holistic import poses_to_pose

        recorded = poses_to_pose(points, confs, 25.0, 320, 240)
        info = VideoInfo(f"camera:{index}", 320, 240, 25.0, len(points))
        return PoseExtraction(recorded, info, hands_detected=len(points), seconds=0.1)

    return job


@pytest.fixture
def fake_webcam(monkeypatch, window, qtbot):
    """A fake webcam recording, with a model that translates after Stop (BOSTON-104's Signformer;
    the default model captions live, see test_gui_live.py)."""
    from signstudio.gui.translate import jobs

    monkeypatch.setattr(jobs, "record_camera_job", _fake_record_camera_job)
    tab = window.translate_tab
    qtbot.waitUntil(tab.models_ready, timeout=20_000)
    index = tab.model_combo.findData("boston104-signformer")
    if index < 0:
        pytest.skip("boston104-signformer is not installed")
    tab.model_combo.setCurrentIndex(index)
    assert not tab.can_stream()


def test_webcam_stop_translates_what_was_recorded(window, qtbot, fake_webcam):
    tab = window.translate_tab
    assert tab.start_webcam(0)
    assert tab.state == "recording" and tab.webcam_button.text() == "Stop"
    qtbot.waitUntil(lambda: tab.video_view.frame() is not None
                    and tab.video_view.frame().index >= 5, timeout=30_000)
    assert not tab.open_video_button.isEnabled()
    with qtbot.waitSignal(tab.idle, timeout=60_000):
        tab.stop_webcam()
    assert tab.pose() is not None and tab.pose().body.data.shape[0] >= 6
    assert tab.translation() is not None or tab.banner.kind == "error"
    assert tab.webcam_button.text() == "Webcam"
    tab.pause()
    tab.show_frame(2)
    assert tab.video_view.frame().image is not None
    assert _overlay_pixels(tab.video_view) > 100


def test_webcam_cancel_discards_the_recording(window, qtbot, fake_webcam):
    tab = window.translate_tab
    assert tab.start_webcam(0)
    qtbot.waitUntil(lambda: tab.video_view.frame() is not None, timeout=30_000)
    with qtbot.waitSignal(tab.idle, timeout=60_000):
        tab.cancel()
    assert tab.pose() is None and tab.video_view.frame() is None
    assert tab.error_text() == ""
    assert window.statusBar().currentMessage() == "Cancelled"


# --- display helpers ---------------------------------------------------------------------------
def test_frame_cache_keeps_memory_bounded():
    from signstudio.gui.frames import FrameCache

    cache = FrameCache(budget_bytes=3 * 100 * 100 * 3)
    kept = [cache.add(i, np.zeros((100, 100, 3), np.uint8)) for i in range(5)]
    assert kept == [True, True, True, False, False]
    assert len(cache) == 3 and cache.dropped == 2 and cache.get(4) is None


def test_live_frames_are_downscaled_with_their_landmarks():
    from signstudio.capture.holistic import FrameLandmarks
    from signstudio.gui.frames import display_frame_from_landmarks

    points = np.array([[1280.0, 720.0, 0.0], [640.0, 360.0, 0.0]], np.float32)
    frame = FrameLandmarks(3, np.zeros((720, 1280, 3), np.uint8), points, np.ones(2, np.float32))
    shown = display_frame_from_landmarks(frame)
    assert shown.image.shape == (360, 640, 3) and shown.size == (640, 360)
    assert np.allclose(shown.points, [[640, 360], [320, 180]])
    assert shown.index == 3


# --- the Translate tab: real video -------------------------------------------------------------
@pytest.mark.slow
def test_real_video_shows_landmarks_then_captions_or_a_model_error(window, qtbot, data_dir,
                                                                   tmp_path):
    video = data_dir / "videos" / "webcam_signer.mp4"
    if not video.is_file():
        pytest.skip(f"{video} is missing")
    tab = window.translate_tab
    live_frames = []
    tab.video_view.set_frame = _spy(tab, tab.video_view.set_frame, live_frames)
    _open_and_wait(qtbot, tab, video)

    assert tab.pose() is not None and tab.pose().body.data.shape[0] == 58
    assert sorted(set(live_frames)) == list(range(58))  # every frame shown while MediaPipe ran
    if tab.translation() is not None:  # a model is installed
        translation = tab.translation()
        # a sentence model's text, or a recogniser's glosses (the default model's)
        shown = " ".join([tab.captions.text(), tab.captions.glosses(), tab.caption_area.glosses.caption_line()])
        assert translation.text in shown
        assert tab.error_text() == "" or tab.banner.kind != "error"
    else:  # no loadable model: the ModelError's message is shown, not a traceback
        assert tab.banner.kind == "error"
        assert "model" in tab.error_text().lower()
        assert "Traceback" not in tab.error_text()

    # Playback: a cached frame with the extracted landmarks drawn on it.
    assert tab.is_playing()
    tab.pause()
    tab.show_frame(29)
    frame = tab.video_view.frame()
    assert frame.image is not None and frame.points is not None
    assert max(frame.image.shape[:2]) <= 640
    assert _overlay_pixels(tab.video_view) > 300

    # The same landmarks from a .pose file: the skeleton alone, no video.
    from signstudio.pose.io import write_pose

    pose_path = tmp_path / "signer.pose"
    write_pose(tab.pose(), pose_path)
    _open_and_wait(qtbot, tab, pose_path)
    assert tab.pose().body.data.shape[0] == 58
    tab.pause()
    tab.show_frame(29)
    assert tab.video_view.frame().image is None
    assert _overlay_pixels(tab.video_view) > 300


@pytest.mark.slow
def test_cancel_during_extraction_returns_to_idle_without_an_error(window, qtbot, data_dir):
    video = data_dir / "videos" / "human_signer.mp4"
    if not video.is_file():
        pytest.skip(f"{video} is missing")
    tab = window.translate_tab
    assert tab.open_path(video)
    assert tab.is_busy() and tab.cancel_button.isEnabled()
    assert not tab.open_path(video)  # one job at a time
    qtbot.waitUntil(lambda: tab.video_view.frame() is not None, timeout=EXTRACT_TIMEOUT_MS)
    with qtbot.waitSignal(tab.idle, timeout=60_000):
        tab.cancel()
    assert window.statusBar().currentMessage() == "Cancelled"
    assert tab.error_text() == ""
    assert tab.pose() is None and tab.video_view.frame() is None
    assert tab.open_video_button.isEnabled()


def _spy(tab, method, calls):
    """Wrap ``VideoView.set_frame`` to record the frames shown during extraction."""

    def wrapper(frame):
        if frame is not None and tab.state == "extracting":
            calls.append(frame.index)
        return method(frame)

    return wrapper
