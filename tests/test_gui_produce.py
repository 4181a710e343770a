"""The Produce tab, offscreen (pytest-qt): real productions from real poses, player, jobs."""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from signstudio.errors import InputError  # noqa: E402
from signstudio.gui.produce import ProduceTab  # noqa: E402
from signstudio.pose.caption import Caption  # noqa: E402
from signstudio.pose.draw import Camera, render  # noqa: E402
from signstudio.pose.io import read_pose  # noqa: E402
from signstudio.production.types import Production, Segment  # noqa: E402

from helpers import run_until_cancelled  # noqa: E402  (tests/ is on sys.path under pytest)

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("no_leaked_widgets")]

JOB_TIMEOUT_MS = 30_000


# --- fixtures ----------------------------------------------------------------------------------
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


def test_the_view_captions_the_gloss_and_the_spelled_letter(make_tab, house_sad, qtbot):
    segments = [house_sad.segments[0],
                Segment("SAD", 96, 169, "fingerspelled", ("s", "a", "d"))]
    production = Production(house_sad.pose, ["HOUSE", "SAD"], segments, "ase")
    tab = make_tab()
    with qtbot.waitSignal(tab.production_ready, timeout=5000):
        assert tab.show_production(production)
    tab.pause()
    view = tab.view
    tab.show_frame(10)
    assert view._caption == Caption("HOUSE")
    tab.show_frame(92)  # between the signs: an empty band, kept
    assert view._caption is None and view._band
    tab.show_frame(150)  # the last third of S-A-D: D
    assert view._caption == Caption("SAD", ("s", "a", "d"), 2)
    assert view._caption.current_letter == "D"
    image = view.image()
    assert np.array_equal(image, render(view.scene, 150, view.camera(), view.render_size(),
                                        caption=Caption("SAD", ("s", "a", "d"), 2),
                                        show_caption=True))


def test_video_export_saves_what_the_view_shows(make_tab, house_sad, qtbot, tmp_path, monkeypatch):
    import signstudio.production.render as render_module

    calls = []
    monkeypatch.setattr(render_module, "export",
                        lambda pose, path, **kwargs: calls.append((pose, path, kwargs)) or path)
    tab = make_tab()
    tab.show_production(house_sad)
    tab.pause()
    tab.view.orbit(-40, 5)
    tab.view.set_hands_close_up(True)
    with qtbot.waitSignal(tab.idle, timeout=JOB_TIMEOUT_MS):
        assert tab.export_to(tmp_path / "signing.mp4")
    ((pose, path, kwargs),) = calls
    assert pose is house_sad.pose and path == str(tmp_path / "signing.mp4")
    assert kwargs == {"segments": house_sad.segments, "hands": True,
                      "camera": Camera().orbit(-40, 5)}


def test_at_the_minimum_window_size_the_slider_and_save_buttons_stay(qapp, qtbot, house_sad,
                                                                    flush_deletes):
    from signstudio.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    try:
        window.tabs.setCurrentIndex(1)
        tab = window.produce_tab
        tab.show_production(house_sad)
        tab.pause()
        window.resize(window.minimumSize())
        qtbot.waitUntil(lambda: window.size() == window.minimumSize(), timeout=5000)
        for _ in range(3):
            qapp.processEvents()
        assert window.width() <= 800 and window.height() <= 560
        player = tab.player
        assert player.slider.isVisible() and player.slider.width() >= 200
        assert player.slider.width() > 0.8 * player.width()
        for button in [*tab.export_buttons.values(), tab.open_pose_button, player.play_button]:
            assert button.isVisible(), button.text()
            box = button.rect().translated(button.mapTo(tab, button.rect().topLeft()))
            assert tab.rect().contains(box), (button.text(), box, tab.rect())
            assert button.visibleRegion().boundingRect().size() == button.size(), button.text()
        assert tab.view.canvas.width() >= 160 and tab.view.canvas.height() >= 120
        assert tab.view.image() is not None
    finally:
        window.close()
        window.deleteLater()
        flush_deletes()


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
