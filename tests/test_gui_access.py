"""Issue 11 in the window: preferences that persist, WCAG AA colours, one keyboard map, no
mnemonic clashes, a visible focus ring, help without hovering, the minimum size laid out."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (QAbstractButton, QApplication, QGroupBox, QLabel, QPushButton, QSlider,
                               QWidget)

from signstudio.gui.main_window import MainWindow
from signstudio.gui.preferences import Preferences, load_preferences, save_preferences
from signstudio.gui.shortcuts import SHORTCUTS, shortcuts_html
from signstudio.gui.theme import (AA_TEXT, CAPTION_SCHEMES, THEMES, contrast_ratio, make_theme, style_sheet,
                                  text_pairs)

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("no_leaked_widgets")]


@pytest.fixture(autouse=True)
def fresh_settings(tmp_path, monkeypatch):
    """Each test starts from first-start preferences in its own settings file."""
    monkeypatch.setenv("SIGNSTUDIO_SETTINGS", str(tmp_path / "settings.ini"))
    yield
    from signstudio.gui.preferences import apply_theme

    apply_theme(THEMES["standard"])


@pytest.fixture
def window(shown_widgets, qtbot):
    win = shown_widgets(MainWindow, size=None)
    qtbot.waitUntil(win.translate_tab.models_ready, timeout=60_000)
    return win


def _pixels(widget: QWidget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    h, w = image.height(), image.width()
    buf = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    return buf.reshape(h, image.bytesPerLine())[:, : w * 4].reshape(h, w, 4)[..., 2::-1].copy()


def _count_color(pixels: np.ndarray, color: str, tolerance: int = 24) -> int:
    rgb = np.array(QColor(color).getRgb()[:3])
    return int((np.abs(pixels.astype(int) - rgb).max(axis=-1) <= tolerance).sum())


# --- colours -------------------------------------------------------------------------------------
def test_contrast_ratio_matches_wcag_reference_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # just fails AA
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    with pytest.raises(ValueError):
        contrast_ratio("red", "#ffffff")


@pytest.mark.parametrize("theme", list(THEMES))
@pytest.mark.parametrize("captions", list(CAPTION_SCHEMES))
def test_every_text_colour_of_every_theme_meets_wcag_aa(theme, captions):
    t = make_theme(theme, captions)
    failing = [(what, fg, bg, round(contrast_ratio(fg, bg), 2)) for what, fg, bg, minimum in text_pairs(t)
               if contrast_ratio(fg, bg) < minimum]
    assert not failing
    assert len(text_pairs(t)) >= 20  # every role is in the list, not a sample


def test_high_contrast_themes_are_high_contrast():
    for name in ("high-contrast-light", "high-contrast-dark"):
        t = THEMES[name]
        assert contrast_ratio(t.text, t.window) >= 15 and contrast_ratio(t.caption_text, t.caption_bg) >= 15
    assert THEMES["high-contrast-dark"].dark and not THEMES["high-contrast-light"].dark


def test_no_colour_literal_is_left_in_the_text_widgets():
    """Colours come from the theme: the caption, banner and editor widgets hold no #rrggbb."""
    from pathlib import Path

    import signstudio.gui as gui

    root = Path(gui.__file__).parent
    for name in ("translate/captions.py", "widgets.py", "train/editor.py"):
        text = (root / name).read_text(encoding="utf-8")
        found = re.findall(r"color:\s*#[0-9a-fA-F]{6}", text)
        assert not found, (name, found)


# --- preferences -----------------------------------------------------------------------------------
def test_preferences_are_saved_and_applied_in_the_next_window(shown_widgets, qtbot):
    first = shown_widgets(MainWindow, size=None)
    normal_pt = first.translate_tab.captions.glosses_label.font().pointSizeF()
    dialog = first.settings_dialog()
    dialog.caption_scale.setValue(250)
    dialog.theme.setCurrentIndex(dialog.theme.findData("high-contrast-dark"))
    dialog.speed.setCurrentIndex(dialog.speed.findData(0.5))
    prefs = dialog.preferences()
    dialog.deleteLater()
    save_preferences(prefs)
    first.apply_preferences(prefs)
    assert load_preferences() == prefs

    second = shown_widgets(MainWindow, size=None)
    assert second.preferences == prefs
    big_pt = second.translate_tab.captions.glosses_label.font().pointSizeF()
    assert big_pt == pytest.approx(normal_pt * 2.5)
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window) == QColor("#000000")
    assert second.translate_tab.player.speed() == 0.5
    assert second.produce_tab.player.speed() == 0.5
    # the caption panel is painted in the theme's colours
    second.translate_tab.caption_area.clear("hello")
    assert _count_color(_pixels(second.translate_tab.captions), "#000000") > 1000


def test_settings_dialog_is_reached_by_keyboard_and_restores_defaults(window, qtbot):
    assert "Ctrl+," in [s.toString() for s in window.settings_action.shortcuts()]
    dialog = window.settings_dialog()
    labels = [w for w in dialog.findChildren(QLabel) if w.buddy() is not None]
    assert len(labels) >= 9 and all("&" in w.text() for w in labels)  # every field has an Alt key
    dialog.caption_scale.setValue(300)
    dialog.restore_defaults()
    assert dialog.preferences() == Preferences()
    dialog.deleteLater()


def test_unreadable_settings_fall_back_to_defaults(tmp_path, monkeypatch):
    path = tmp_path / "bad.ini"
    path.write_text("[preferences]\ncaption_scale=9000\ntheme=neon\nplayback_speed=fast\n")
    monkeypatch.setenv("SIGNSTUDIO_SETTINGS", str(path))
    prefs = load_preferences()
    assert prefs.caption_scale == 300 and prefs.theme == "standard" and prefs.playback_speed == 1.0


# --- keyboard ------------------------------------------------------------------------------------
def _mnemonic(text: str) -> str | None:
    found = re.search(r"&([^&\s])", text.replace("&&", ""))
    return found.group(1).lower() if found else None


def _mnemonics(root: QWidget) -> list[tuple[str, str]]:
    out = []
    for w in root.findChildren(QWidget):
        if not w.isVisibleTo(root):
            continue
        text = ""
        if isinstance(w, QAbstractButton):
            text = w.text()
        elif isinstance(w, QLabel) and w.buddy() is not None:
            text = w.text()
        elif isinstance(w, QGroupBox):
            text = w.title()
        letter = _mnemonic(text)
        if letter:
            out.append((letter, text))
    return out


def test_no_mnemonic_is_used_twice_on_any_tab(window, qtbot):
    global_keys = [(_mnemonic(window.tabs.tabText(i)), window.tabs.tabText(i)) for i in range(window.tabs.count())]
    global_keys += [(_mnemonic(a.text()), a.text()) for a in window.menuBar().actions()]
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        qtbot.wait(50)
        keys = global_keys + _mnemonics(window.tabs.widget(index))
        letters = [k for k, _ in keys]
        clashes = {k: [t for kk, t in keys if kk == k] for k in letters if letters.count(k) > 1}
        assert not clashes, (window.tabs.tabText(index), clashes)


def test_one_keyboard_map_for_every_player(window, qtbot, data_dir):
    from signstudio.pose.io import read_pose

    path = data_dir / "poses" / "asl" / "refined_landmarks" / "colin-HOUSE-needs-trim.pose"
    if not path.is_file():
        pytest.skip("the sample poses are not in the data folder")
    tab = window.translate_tab
    tab.player.load_pose(read_pose(path))
    tab.player.landmarks_check.click()  # a click must not leave Space to the checkbox
    assert tab.player.landmarks_check.focusPolicy() == Qt.FocusPolicy.TabFocus
    tab.model_combo.setFocus()
    QTest.keyClick(tab, Qt.Key.Key_Right)  # a focused list keeps its arrows
    assert tab.player.frame_count() and tab.player._index == 0
    tab.video_view.setFocus()
    QTest.keyClick(tab.video_view, Qt.Key.Key_Right)
    QTest.keyClick(tab.video_view, Qt.Key.Key_Right)
    assert tab.player._index == 2
    QTest.keyClick(tab.video_view, Qt.Key.Key_Left)
    assert tab.player._index == 1
    QTest.keyClick(tab.video_view, Qt.Key.Key_Space)
    assert tab.player.is_playing()
    QTest.keyClick(tab.video_view, Qt.Key.Key_Space)
    assert not tab.player.is_playing()
    QTest.keyClick(tab.video_view, Qt.Key.Key_Minus)
    assert tab.player.speed() == 0.75
    QTest.keyClick(tab.video_view, Qt.Key.Key_Plus)
    QTest.keyClick(tab.video_view, Qt.Key.Key_Plus)
    assert tab.player.speed() == 1.5
    assert "1.5×" in tab.player.frame_label.text()
    # every key the map lists is in the F1 window
    help_text = shortcuts_html()
    for keys, _where, what in SHORTCUTS.values():
        assert what in help_text


def test_focus_ring_is_thick_and_in_the_theme_colour(shown_widgets, qtbot):
    from signstudio.gui.preferences import apply_theme

    apply_theme(THEMES["standard"])
    box = shown_widgets(QWidget, size=(300, 120))
    a, b = QPushButton("One", box), QPushButton("Two", box)
    a.setGeometry(10, 10, 120, 40)
    b.setGeometry(150, 10, 120, 40)
    a.show()
    b.show()
    box.activateWindow()
    qtbot.waitActive(box)
    b.setFocus()
    QTest.qWait(50)
    assert b.hasFocus()
    focus = THEMES["standard"].focus
    assert "3px solid" in style_sheet(THEMES["standard"])
    assert _count_color(_pixels(b), focus) > 2 * 3 * 100  # a 3-pixel ring around a 120x40 button
    assert _count_color(_pixels(a), focus) < 20


def test_tooltips_are_read_without_hovering(window, qtbot):
    tab = window.translate_tab
    tab.model_combo.setFocus()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() != "", timeout=2_000)
    assert window.statusBar().currentMessage() == tab.model_combo.toolTip() or \
        tab.model_combo.toolTip().startswith(window.statusBar().currentMessage()[:20])


# --- layout --------------------------------------------------------------------------------------
def test_minimum_size_keeps_every_tab_control_visible(window, qtbot):
    window.resize(window.minimumSize())
    qtbot.wait(100)
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        qtbot.wait(50)
        tab = window.tabs.widget(index)
        for w in tab.findChildren(QAbstractButton) + tab.findChildren(QSlider):
            if not w.isVisibleTo(tab) or w.objectName() == "qt_scrollarea_hcontainer":
                continue
            if w.window() is not window:
                continue
            top_left = w.mapTo(tab, w.rect().topLeft())
            inside = tab.rect().contains(top_left) and tab.rect().contains(w.mapTo(tab, w.rect().bottomRight()))
            label = getattr(w, "text", lambda: "")() or w.accessibleName()
            if isinstance(w, QSlider):
                assert w.width() >= 120, (window.tabs.tabText(index), label, w.width())
            assert w.width() >= 16 and inside, (window.tabs.tabText(index), label, w.geometry())
            if isinstance(w, QPushButton):  # a button's text is not cut
                assert w.width() >= w.minimumSizeHint().width() - 2, (window.tabs.tabText(index), label)


def test_the_3d_signer_is_reached_and_turned_with_the_keyboard(window, qtbot, data_dir):
    path = data_dir / "poses" / "asl" / "refined_landmarks" / "colin-HOUSE-needs-trim.pose"
    if not path.is_file():
        pytest.skip("the sample poses are not in the data folder")
    window.tabs.setCurrentWidget(window.produce_tab)
    tab = window.produce_tab
    assert tab.open_pose(str(path))
    qtbot.waitUntil(lambda: tab.production() is not None, timeout=60_000)
    canvas = tab.view.canvas
    assert canvas.focusPolicy() & Qt.FocusPolicy.TabFocus  # Tab reaches the 3D view
    canvas.setFocus()
    start = tab.view.camera()
    QTest.keyClick(canvas, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert tab.view.camera().azimuth == pytest.approx(start.azimuth + 15)
    QTest.keyClick(canvas, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert tab.view.camera().elevation == pytest.approx(start.elevation + 10)
    QTest.keyClick(canvas, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert tab.view.camera().zoom == pytest.approx(start.zoom * 1.25)
    QTest.keyClick(canvas, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert tab.view.camera() == start
    tab.player.pause()
    frame = tab.player.frame()
    QTest.keyClick(canvas, Qt.Key.Key_Right)
    assert tab.player.frame() == frame + 1  # plain arrows still step frames
    QTest.keyClick(canvas, Qt.Key.Key_Space)
    assert tab.player.is_playing()
    QTest.keyClick(canvas, Qt.Key.Key_Space)
    assert not tab.player.is_playing()
