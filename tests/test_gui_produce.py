"""The Produce tab, offscreen (pytest-qt): real productions from real poses, player, jobs."""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from numpy import ma  # noqa: E402
from pose_format import Pose  # noqa: E402
from pose_format.numpy.pose_body import NumPyPoseBody  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from signstudio.errors import InputError  # noqa: E402
from signstudio.gui.produce import ProduceTab  # noqa: E402
from signstudio.gui.skeleton3d import Skeleton3DView, build_scene, gl_available  # noqa: E402
from signstudio.pose.io import read_pose  # noqa: E402
from signstudio.production.types import Production, Segment  # noqa: E402

from helpers import run_until_cancelled  # noqa: E402  (tests/ is on sys.path under pytest)

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("no_leaked_widgets")]

JOB_TIMEOUT_MS = 30_000


# --- fixtures ----------------------------------------------------------------------------------
def _concat(poses: list[Pose]) -> Pose:
    """Real recorded signs (same layout) one after the other, as one pose."""
    data = ma.concatenate([p.body.data for p in poses], axis=0)
    conf = np.concatenate([p.body.confidence for p in poses], axis=0)
    return Pose(poses[0].header, NumPyPoseBody(fps=float(poses[0].body.fps), data=data,
                                               confidence=conf))


@pytest.fixture
def house_sad(data_dir):
    """A production of two real ASL signs (HOUSE, then SAD) with hand-made segments."""
    folder = data_dir / "poses" / "asl" / "standard_landmarks"
    house = read_pose(folder / "colin-1-HOUSE.pose")  # 93 frames
    sad = read_pose(folder / "colin-SAD.pose")  # 76 frames
    pose = _concat([house, sad])
    segments = [Segment("HOUSE", 0, 90, "lexicon"), Segment("SAD", 96, 169, "fingerspelled")]
    return Production(pose, ["HOUSE", "SAD"], segments, "ase",
                      ["SAD was fingerspelled (s-a-d)"])


@pytest.fixture
def skeleton50_pose(data_dir):
    """A real PHOENIX-2014-T sentence as the 50-joint skeleton (Progressive Transformers)."""
    skeletons = pytest.importorskip("signstudio.pose.skeletons")
    path = data_dir / "phoenix14t" / "skels" / "dev.skels"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    with open(path) as f:
        values = np.array(f.readline().split(), dtype=np.float32)
    frames = values.reshape(-1, 151)[:, :150].reshape(-1, 50, 3)
    return skeletons.skels_to_pose(frames)


class Calls:
    """Records the calls of a fake core function."""

    def __init__(self):
        self.args: list = []
        self.threads: list = []


@pytest.fixture
def make_tab(shown_widgets):
    """``make_tab(**kwargs)``: a shown 1200x760 ProduceTab, shut down and deleted after the test."""
    return lambda **kwargs: shown_widgets(lambda: ProduceTab(**kwargs), size=(1200, 760))


def _fake_produce(production, calls: Calls | None = None):
    def produce(text, language, *, glosses=None, method="auto", task=None, **_):
        if calls is not None:
            calls.args.append((text, language, glosses, method))
            calls.threads.append(threading.current_thread())
        task.set_total(2, unit="gloss")
        task.advance(2)
        return production

    return produce


def _sign_and_wait(qtbot, tab, timeout=JOB_TIMEOUT_MS):
    with qtbot.waitSignal(tab.idle, timeout=timeout):
        assert tab.sign()
    assert not tab.is_busy()


# --- building ----------------------------------------------------------------------------------
def test_tab_builds_with_languages_and_an_empty_view(make_tab):
    tab = make_tab()
    combo = tab.language_combo
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert "ASL — American Sign Language" in labels
    assert tab.language() == "ase" and combo.currentText() == "ASL — American Sign Language"
    assert combo.count() >= 2  # every language of the lexicon, not only ASL
    assert tab.set_language("gsg") and tab.language() == "gsg"
    assert not tab.set_language("xyz")
    assert tab.sign_button.isEnabled() and tab.gloss_button.isEnabled()
    assert not tab.cancel_button.isEnabled()
    assert not any(b.isEnabled() for b in tab.export_buttons.values())
    assert not tab.player.play_button.isEnabled()
    assert tab.view.scene is None
    assert "Sign" in tab.view.placeholder_label.text()  # tells the user what to do
    assert tab.view.stack.currentWidget() is tab.view.placeholder_label
    assert tab.player.strip.texts() == []


def test_gl_view_constructs_offscreen_and_draws_a_real_pose(qtbot, data_dir):
    pose = read_pose(data_dir / "poses" / "asl" / "standard_landmarks" / "colin-SAD.pose")
    view = Skeleton3DView()
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    assert view.has_gl() == gl_available()
    scene = view.set_pose(pose)
    view.show_frame(40)
    assert view.frame() == 40
    view.show_frame(10_000)
    assert view.frame() == scene.frames - 1  # clamped
    if view.has_gl():
        assert view.stack.currentWidget() is view.gl_view
        lines = [item for item in view.gl_view.items if type(item).__name__ == "GLLinePlotItem"]
        assert len(lines) == len(scene.groups) == 4
        from pyqtgraph.opengl.GLGraphicsItem import GLOptions

        # Additive blending (pyqtgraph's default) is invisible on a light background.
        for item in view.gl_view.items:
            drawn = getattr(item, "lineplot", None) or item  # a grid draws with a child item
            assert drawn._GLGraphicsItem__glOpts == GLOptions["translucent"], item
        camera = view.camera()
        view.gl_view.setCameraPosition(azimuth=10, distance=50)
        view.reset_view()
        assert view.camera() == camera
    assert "left hand" in view.legend_label.text() and "right hand" in view.legend_label.text()
    view.clear()
    assert view.scene is None
    view.close()
    view.deleteLater()


def test_view_without_gl_shows_a_placeholder(qtbot, house_sad):
    view = Skeleton3DView(use_gl=False)
    qtbot.addWidget(view)
    view.set_placeholder("nothing yet")
    assert view.placeholder_label.text() == "nothing yet"
    view.set_pose(house_sad.pose)
    view.show_frame(5)
    assert view.frame() == 5 and not view.has_gl()
    assert "OpenGL" in view.placeholder_label.text()
    view.close()
    view.deleteLater()


# --- geometry ----------------------------------------------------------------------------------
def test_scene_of_a_holistic_pose_is_upright_centred_and_coloured_by_part(house_sad):
    scene = build_scene(house_sad.pose)
    assert scene.positions.shape == (169, 576, 3)
    assert scene.styles == {"body", "face", "left_hand", "right_hand"}
    # Bones come from the header's limbs; the face mesh is reduced to its contours.
    by_style = {g.style: g for g in scene.groups}
    assert len(by_style["left_hand"].a) == len(by_style["right_hand"].a) == 21
    assert 50 < len(by_style["face"].a) < 300
    face_dots = (scene.dot_index >= 33) & (scene.dot_index < 33 + 468)
    assert face_dots.sum() < 200
    assert not np.isin(np.arange(25, 33), scene.dot_index).any()  # MediaPipe's guessed legs
    assert np.isin(np.arange(33 + 468 + 42, 576), scene.dot_index).sum() == 0  # world points
    assert not np.allclose(scene.dot_color[0], scene.dot_color[-1])  # hands not body-coloured
    # Upright: shoulders (11, 12) above hips (23, 24), the face above the shoulders.
    frame = 50
    z = scene.positions[frame, :, 2]
    assert min(z[11], z[12]) > max(z[23], z[24])
    assert z[33 + 10] > max(z[11], z[12])  # face-mesh forehead
    # Centred and scaled: the drawn points of a frame lie around the origin, about 2 units tall.
    pos, colors, sizes = scene.dots(frame)
    assert len(pos) == len(colors) == len(sizes) > 50
    assert np.abs(pos).max() < 2.5 and np.ptp(pos[:, 2]) > 1.0
    # Points with confidence 0 are not drawn.
    hand = np.arange(33 + 468, 33 + 468 + 21)
    missing = np.flatnonzero(~scene.visible[:, hand].any(axis=1))
    if len(missing):
        lines = scene.lines(int(missing[0]), by_style["left_hand"])
        assert len(lines) == 0


def test_scene_of_the_50_joint_skeleton(skeleton50_pose):
    scene = build_scene(skeleton50_pose)
    assert scene.positions.shape[1:] == (50, 3)
    assert {g.style: len(g.a) for g in scene.groups} == {"body": 7, "left_hand": 20,
                                                         "right_hand": 20}
    assert len(scene.dot_index) == 50
    z = scene.positions[:, :, 2]
    assert (z[:, 0] > z[:, 1]).all()  # the nose above the neck: upright
    assert np.isfinite(scene.positions).all()
    assert np.abs(scene.positions[scene.visible]).max() < 3.0
    assert not scene.notes  # already 3D in pixels: depth used as it is


def test_scene_rejects_a_pose_without_frames(house_sad):
    empty = Pose(house_sad.pose.header, NumPyPoseBody(
        fps=25.0, data=ma.zeros((0, 1, 576, 3), np.float32), confidence=np.zeros((0, 1, 576))))
    with pytest.raises(ValueError):
        build_scene(empty)


# --- the player --------------------------------------------------------------------------------
def test_loading_a_real_production_sets_the_slider_and_the_gloss_strip(make_tab, house_sad,
                                                                       qtbot):
    tab = make_tab()
    with qtbot.waitSignal(tab.production_ready, timeout=5000):
        assert tab.show_production(house_sad)
    tab.pause()
    player = tab.player
    assert player.slider.minimum() == 0 and player.slider.maximum() == 168
    assert tab.frame_count() == 169
    assert player.strip.texts() == ["HOUSE", "SAD"]
    assert tab.glosses_edit.text() == "HOUSE SAD"
    strip = player.strip
    assert strip.buttons[1].font().italic() and not strip.buttons[0].font().italic()
    assert "fingerspelled" in strip.buttons[1].toolTip()
    assert "recorded sign" in strip.buttons[0].toolTip()
    # The highlighted gloss follows the frame, through the transition between the signs.
    changes = []
    player.segment_changed.connect(changes.append)
    tab.show_frame(10)
    assert player.current_segment() == 0 and strip.current() == 0
    assert "#ffd24d" in strip.buttons[0].styleSheet()
    tab.show_frame(92)
    assert player.current_segment() is None
    tab.show_frame(120)
    assert player.current_segment() == 1 and strip.current() == 1
    assert "#ffd24d" in strip.buttons[1].styleSheet()
    assert "#ffd24d" not in strip.buttons[0].styleSheet()
    assert changes == [0, None, 1] or changes == [None, 1]
    # Scrubbing moves the frame; clicking a gloss jumps to its first frame.
    player.slider.setValue(30)
    assert player.frame() == 30 and tab.view.frame() == 30
    qtbot.mouseClick(strip.buttons[1], Qt.MouseButton.LeftButton)
    assert player.frame() == 96 and player.current_segment() == 1
    assert "5.6 s" in player.time_label.text()
    # What was signed and the production's notes are shown.
    assert "2 glosses" in tab.summary_label.text()
    assert "SAD was fingerspelled" in tab.summary_label.text()
    assert all(b.isEnabled() for b in tab.export_buttons.values())


def test_speed_changes_the_timer_interval(make_tab, house_sad):
    tab = make_tab()
    tab.show_production(house_sad)
    player = tab.player
    assert player.is_playing()
    one = round(1000 / house_sad.fps)
    assert player._timer.interval() == one
    player.speed_combo.setCurrentIndex(player.speed_combo.findData(2.0))
    assert player.speed() == 2.0
    assert player._timer.interval() == round(1000 / (house_sad.fps * 2)) < one
    player.set_speed(0.25)
    assert player.speed_combo.currentData() == 0.25
    assert player._timer.interval() == round(1000 / (house_sad.fps * 0.25))
    player.set_speed(9)
    assert player.speed() == 2.0  # clamped to the offered range


def test_playback_advances_loops_and_stops_when_hidden(make_tab, house_sad, qtbot):
    tab = make_tab()
    tab.show_production(house_sad)
    player = tab.player
    player.set_speed(2.0)
    tab.show_frame(150)
    player.play()
    qtbot.waitUntil(lambda: player.frame() < 100, timeout=5000)  # looped past the end
    assert player.is_playing()
    tab.pause()
    assert not player.is_playing()
    # Without looping, playback stops on the last frame.
    player.loop_check.setChecked(False)
    tab.show_frame(160)
    player.play()
    qtbot.waitUntil(lambda: not player.is_playing(), timeout=5000)
    assert player.frame() == 168
    player.play()  # from the end: starts again at the beginning
    assert player.frame() < 5 and player.is_playing()
    # Space plays and pauses while the focus is in the player (in the text box it types).
    with qtbot.waitActive(tab):
        tab.activateWindow()
    player.slider.setFocus()
    qtbot.keyClick(player.slider, Qt.Key.Key_Space)
    assert not player.is_playing()
    qtbot.keyClick(player.slider, Qt.Key.Key_Space)
    assert player.is_playing()
    tab.text_edit.setFocus()
    qtbot.keyClick(tab.text_edit, Qt.Key.Key_Space)
    assert player.is_playing() and tab.text() == " "
    tab.hide()  # another tab, a closed window: the timer stops
    assert not player.is_playing()


# --- jobs --------------------------------------------------------------------------------------
def test_sign_runs_the_injected_produce_on_a_worker(make_tab, house_sad, qtbot):
    calls = Calls()
    tab = make_tab(produce=_fake_produce(house_sad, calls))
    tab.set_text("My house is sad.")
    tab.set_glosses("HOUSE  SAD")
    statuses = []
    tab.status_message.connect(statuses.append)
    with qtbot.waitSignal(tab.production_ready, timeout=JOB_TIMEOUT_MS) as blocker:
        assert tab.sign()
        assert tab.is_busy() and tab.cancel_button.isEnabled()
        assert not tab.sign_button.isEnabled()
        assert not tab.sign()  # one job at a time
    assert blocker.args == [house_sad]
    qtbot.waitUntil(lambda: not tab.is_busy(), timeout=5000)
    assert calls.args == [("My house is sad.", "ase", ["HOUSE", "SAD"], "auto")]
    assert calls.threads[0] is not threading.main_thread()
    assert tab.production() is house_sad and tab.text() == "My house is sad."
    assert tab.is_playing()
    assert any("SAD was fingerspelled" in s for s in statuses)  # the notes reach the status line


def test_sign_without_glosses_signs_the_text(make_tab, house_sad, qtbot):
    calls = Calls()
    tab = make_tab(produce=_fake_produce(house_sad, calls))
    tab.set_text("  my   house\nis sad ")
    _sign_and_wait(qtbot, tab)
    assert calls.args == [("my house is sad", "ase", None, "auto")]
    assert tab.glosses_edit.text() == "HOUSE SAD"  # what was signed, ready to edit


def test_an_input_error_is_shown_and_the_text_is_kept(make_tab, qtbot):
    def produce(text, language, **_):
        raise InputError("can't sign 'xyzzy': no recorded sign and no letters for it in ASL")

    tab = make_tab(produce=produce)
    tab.set_text("xyzzy plugh")
    tab.set_glosses("XYZZY")
    with qtbot.waitSignal(tab.error_shown, timeout=JOB_TIMEOUT_MS) as blocker:
        assert tab.sign()
    qtbot.waitUntil(lambda: not tab.is_busy(), timeout=5000)
    message = blocker.args[0]
    assert message == "can't sign 'xyzzy': no recorded sign and no letters for it in ASL"
    assert tab.error_text() == message and tab.banner.isVisible()
    assert tab.banner.message_label.text() == message
    assert tab.text() == "xyzzy plugh" and tab.glosses_edit.text() == "XYZZY"
    assert tab.sign_button.isEnabled() and not tab.cancel_button.isEnabled()
    assert tab.production() is None


def test_a_bug_in_produce_is_a_readable_line(make_tab, qtbot, capfd):
    def produce(text, language, **_):
        raise KeyError("lexicon index")

    tab = make_tab(produce=produce)
    tab.set_text("hello")
    _sign_and_wait(qtbot, tab)
    message = tab.error_text()
    assert "KeyError" in message and "\n" not in message and "Traceback" not in message
    assert tab.text() == "hello"
    capfd.readouterr()


def test_cancel_stops_the_job_and_keeps_the_last_result(make_tab, house_sad, qtbot):
    started = threading.Event()

    def slow_produce(text, language, *, task=None, **_):
        run_until_cancelled(task, started)
        return house_sad

    tab = make_tab(produce=slow_produce)
    tab.show_production(house_sad)  # an earlier result stays on screen
    tab.set_text("hello")
    assert tab.sign()
    assert started.wait(10)
    statuses = []
    tab.status_message.connect(statuses.append)
    with qtbot.waitActive(tab):
        tab.activateWindow()
    tab.text_edit.setFocus()
    with qtbot.waitSignal(tab.idle, timeout=JOB_TIMEOUT_MS):
        qtbot.keyClick(tab.text_edit, Qt.Key.Key_Escape)  # Esc cancels
    assert statuses[-1] == "Cancelled"
    assert tab.error_text() == "" and tab.production() is house_sad
    assert tab.text() == "hello" and tab.sign_button.isEnabled()


def test_nothing_to_sign_says_so(make_tab):
    tab = make_tab(produce=lambda *a, **k: pytest.fail("nothing should be produced"))
    assert not tab.sign()
    assert "Type a sentence" in tab.error_text()
    assert not tab.is_busy()


def test_gloss_fills_the_field_and_a_new_text_drops_stale_glosses(make_tab, qtbot):
    calls = Calls()

    def text_to_glosses(text, language):
        calls.args.append((text, language))
        return ["HOUSE", "SAD"]

    tab = make_tab(text_to_glosses=text_to_glosses)
    tab.set_text("My house is sad.")
    with qtbot.waitSignal(tab.glosses_ready, timeout=JOB_TIMEOUT_MS):
        assert tab.gloss()
    qtbot.waitUntil(lambda: not tab.is_busy(), timeout=5000)
    assert calls.args == [("My house is sad.", "ase")]
    assert tab.glosses_edit.text() == "HOUSE SAD"
    tab.set_text("Something else entirely.")
    assert tab.glosses_edit.text() == ""  # glosses of the old text are not signed by mistake
    # Glosses the user typed are theirs: a text edit keeps them.
    tab.glosses_edit.setText("MY OWN")
    tab.set_text("Yet another text.")
    assert tab.glosses_edit.text() == "MY OWN"


def test_gloss_errors_are_shown(make_tab, qtbot):
    def text_to_glosses(text, language):
        raise InputError("the text is too long: 900 words (at most 60 glosses)")

    tab = make_tab(text_to_glosses=text_to_glosses)
    assert not tab.gloss()  # no text yet
    tab.set_text("a " * 900)
    with qtbot.waitSignal(tab.idle, timeout=JOB_TIMEOUT_MS):
        assert tab.gloss()
    assert "too long" in tab.error_text()
    assert tab.text().startswith("a a a")


def test_ctrl_return_signs(make_tab, house_sad, qtbot):
    calls = Calls()
    tab = make_tab(produce=_fake_produce(house_sad, calls))
    with qtbot.waitActive(tab):
        tab.activateWindow()
    tab.text_edit.setFocus()
    tab.set_text("house")
    with qtbot.waitSignal(tab.idle, timeout=JOB_TIMEOUT_MS):
        qtbot.keyClick(tab.text_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        if not tab.is_busy() and not calls.args:
            pytest.skip("this Qt platform does not deliver shortcuts to an inactive window")
    assert calls.args and tab.text() == "house"  # the shortcut signed; no newline was typed


def test_export_pose_writes_a_readable_file(make_tab, house_sad, qtbot, tmp_path):
    pytest.importorskip("signstudio.production.render")
    tab = make_tab()
    tab.show_production(house_sad)
    out = tmp_path / "house-sad.pose"
    statuses = []
    tab.status_message.connect(statuses.append)
    with qtbot.waitSignal(tab.exported, timeout=JOB_TIMEOUT_MS) as blocker:
        assert tab.export_to(out)
        assert not tab.cancel_button.isEnabled()  # a file write is not half-cancellable
    qtbot.waitUntil(lambda: not tab.is_busy(), timeout=5000)
    assert blocker.args == [str(out)]
    assert read_pose(out).body.data.shape == house_sad.pose.body.data.shape
    assert statuses[-1] == f"Saved to {out}"
    # A suffix the renderer does not know is the renderer's one-line error.
    with qtbot.waitSignal(tab.idle, timeout=JOB_TIMEOUT_MS):
        assert tab.export_to(tmp_path / "x.txt")
    assert tab.error_text() and "Traceback" not in tab.error_text()
    # A folder that cannot exist (its parent is a file): a readable line, not a traceback.
    blocker_file = tmp_path / "a-file"
    blocker_file.write_text("x")
    with qtbot.waitSignal(tab.idle, timeout=JOB_TIMEOUT_MS):
        assert tab.export_to(blocker_file / "x.pose")
    assert "x.pose" in tab.error_text() and "\n" not in tab.error_text()
    assert "Something went wrong" not in tab.error_text()


def test_open_pose_shows_a_real_pose_file(make_tab, qtbot, data_dir):
    tab = make_tab()
    path = data_dir / "poses" / "mediapipe.pose"
    with qtbot.waitSignal(tab.idle, timeout=JOB_TIMEOUT_MS):
        assert tab.open_pose(path)
    assert tab.error_text() == ""
    assert tab.frame_count() == 170 and tab.player.strip.texts() == []
    assert not tab.player.strip.hint.isHidden()
    assert "mediapipe.pose" in tab.summary_label.text()
    with qtbot.waitSignal(tab.idle, timeout=JOB_TIMEOUT_MS):
        assert tab.open_pose(data_dir / "nowhere.pose")
    assert "no such file" in tab.error_text()
    assert tab.frame_count() == 170  # the last good result stays


def test_main_window_has_the_produce_tab(qapp, qtbot, house_sad, flush_deletes):
    from signstudio.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    try:
        assert window.tabs.widget(1) is window.produce_tab
        assert window.tabs.tabText(1).replace("&", "") == "Produce"
        window.tabs.setCurrentIndex(1)
        tab = window.produce_tab
        tab.show_production(house_sad)
        assert tab.is_playing()
        assert "2 glosses" in window.statusBar().currentMessage()
        window.tabs.setCurrentIndex(0)  # another tab: playback stops
        assert not tab.is_playing()
    finally:
        window.close()
        window.deleteLater()
        flush_deletes()


@pytest.mark.slow
def test_real_pipeline_signs_glosses_with_the_lexicon(make_tab, qtbot):
    pipeline = pytest.importorskip("signstudio.production.pipeline")
    tab = make_tab()
    qtbot.waitUntil(lambda: tab.method_combo.count() >= 1, timeout=10_000)
    tab.set_text("hello")
    tab.set_glosses("HELLO")
    if tab.method_combo.findData("lexicon") >= 0:
        tab.method_combo.setCurrentIndex(tab.method_combo.findData("lexicon"))
    _sign_and_wait(qtbot, tab, timeout=120_000)
    assert tab.error_text() == "", tab.error_text()
    production = tab.production()
    assert production is not None and production.frames > 10
    assert tab.player.strip.texts() == [s.gloss for s in production.segments]
    assert pipeline  # the core function the tab called
