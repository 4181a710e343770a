"""One keyboard map for the whole window, and the F1 list that shows it.

:data:`SHORTCUTS` is the map: every player (Translate, Attention, Produce) answers the same keys,
the 3D view adds orbit and zoom, the window adds settings and help. :func:`bind` attaches one
entry to a widget (active while the focus is anywhere inside it), so the keys a user reads in
the F1 list are the keys the code binds. Letter mnemonics (``&Open``) are separate: a test
checks that none repeats within a tab.
"""

from __future__ import annotations

import html
from typing import Callable

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QAbstractSlider, QAbstractSpinBox,
                               QApplication, QComboBox, QDialog, QDialogButtonBox, QLineEdit,
                               QPlainTextEdit, QTextBrowser, QTextEdit, QVBoxLayout, QWidget)

#: ``action: (keys, where, what it does)``; ``keys`` are QKeySequence strings, several per action.
SHORTCUTS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "play": (("Space",), "Players", "Play or pause"),
    "step_back": (("Left",), "Players", "One frame back"),
    "step_forward": (("Right",), "Players", "One frame forward"),
    "jump_back": (("Shift+Left",), "Players", "One second back"),
    "jump_forward": (("Shift+Right",), "Players", "One second forward"),
    "faster": (("+", "="), "Players", "Faster playback"),
    "slower": (("-",), "Players", "Slower playback"),
    "start": (("Home",), "Players", "Back to the first frame"),
    "orbit_left": (("Ctrl+Left",), "3D signer (Produce)", "Turn the signer to the left"),
    "orbit_right": (("Ctrl+Right",), "3D signer (Produce)", "Turn the signer to the right"),
    "orbit_up": (("Ctrl+Up",), "3D signer (Produce)", "Look from higher up"),
    "orbit_down": (("Ctrl+Down",), "3D signer (Produce)", "Look from lower down"),
    "zoom_in": (("Ctrl++", "Ctrl+="), "3D signer (Produce)", "Zoom in"),
    "zoom_out": (("Ctrl+-",), "3D signer (Produce)", "Zoom out"),
    "reset_view": (("Ctrl+0",), "3D signer (Produce)", "Front view again"),
    "sign": (("Ctrl+Return", "Ctrl+Enter"), "Produce", "Sign the text"),
    "cancel": (("Esc",), "Every tab", "Cancel the running job"),
    "open_video": (("Ctrl+O",), "Window", "Open a video"),
    "open_pose": (("Ctrl+Shift+O",), "Window", "Open a .pose file"),
    "webcam": (("Ctrl+R",), "Window", "Start or stop the webcam"),
    "settings": (("Ctrl+,",), "Window", "Settings (caption size, colours, theme, defaults)"),
    "help_keys": (("F1",), "Window", "This list of keys"),
    "next_tab": (("Ctrl+Tab", "Ctrl+PgDown"), "Window", "Next tab"),
    "previous_tab": (("Ctrl+Shift+Tab", "Ctrl+PgUp"), "Window", "Previous tab"),
    "quit": (("Ctrl+Q",), "Window", "Quit"),
}

#: Mnemonics (Alt+letter) of the tabs themselves, listed in the F1 help.
TAB_KEYS = "Alt+T Translate · Alt+P Produce · Alt+A Attention · Alt+N Train"


_TEXT = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)
_LISTS = (QComboBox, QAbstractItemView, QAbstractSlider)
#: Focused widgets that keep an action's keys for themselves: Space presses a focused button or
#: ticks a focused box, arrows move in a list, a slider or a text. Elsewhere in the tab the keys
#: do what the map says.
KEEP_KEYS: dict[str, tuple[type, ...]] = {
    "play": (QAbstractButton, *_TEXT),
    **dict.fromkeys(("step_back", "step_forward", "jump_back", "jump_forward", "start"), (*_TEXT, *_LISTS)),
    **dict.fromkeys(("faster", "slower"), _TEXT),
    **dict.fromkeys(("orbit_left", "orbit_right", "orbit_up", "orbit_down", "zoom_in", "zoom_out",
                     "reset_view"), (*_TEXT, QAbstractItemView)),
}


def keys_of(action: str) -> list[QKeySequence]:
    """The key sequences of ``action``. Raises KeyError for an action not in :data:`SHORTCUTS`."""
    return [QKeySequence(k) for k in SHORTCUTS[action][0]]


def key_text(action: str) -> str:
    """The first key of ``action`` as the user reads it (e.g. ``"Space"``, ``"Ctrl+,"``)."""
    return QKeySequence(SHORTCUTS[action][0][0]).toString(QKeySequence.SequenceFormat.NativeText)


def bind(widget: QWidget, action: str, slot: Callable[[], object]) -> list[QShortcut]:
    """Make ``action``'s keys call ``slot`` while the focus is in ``widget`` or its children.

    Text fields keep the keys they type or edit with (Qt asks them first), so Space in a text box
    still types a space.
    """
    made = []
    keep = KEEP_KEYS.get(action, ())
    for sequence in keys_of(action):
        shortcut = QShortcut(sequence, widget)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.setAutoRepeat(action not in ("play", "webcam"))
        shortcut.activated.connect(lambda sc=shortcut: _fire(sc, keep, slot))
        made.append(shortcut)
    return made


def _fire(shortcut: QShortcut, keep: tuple[type, ...], slot: Callable[[], object]) -> None:
    focus = QApplication.focusWidget()
    if keep and isinstance(focus, keep):
        # Hand the key to the focused control, as if no shortcut were bound. Qt offers a key
        # event sent by code to the shortcuts first, so this one is off meanwhile.
        combo = shortcut.key()[0]
        text = " " if combo.key() == Qt.Key.Key_Space else ""
        shortcut.setEnabled(False)
        try:
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(focus, QKeyEvent(kind, combo.key(), combo.keyboardModifiers(), text))
        finally:
            shortcut.setEnabled(True)
        return
    slot()


def shortcuts_html() -> str:
    """The keyboard map as an HTML table (grouped by where the keys work)."""
    groups: dict[str, list[str]] = {}
    for keys, where, what in SHORTCUTS.values():
        shown = " or ".join(
            f"<b>{html.escape(QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText))}</b>" for k in keys)
        groups.setdefault(where, []).append(f"<tr><td style='padding-right:18px'>{shown}</td>"
                                            f"<td>{html.escape(what)}</td></tr>")
    parts = ["<p>Every button, field and list can be reached with <b>Tab</b> and <b>Shift+Tab</b>; "
             "underlined letters work with <b>Alt</b>. The focused control has a thick outline.</p>",
             f"<p><b>Tabs:</b> {html.escape(TAB_KEYS)}</p>"]
    for where, rows in groups.items():
        parts.append(f"<h3>{html.escape(where)}</h3><table>{''.join(rows)}</table>")
    parts.append("<p>Hover help (tooltips) is also shown by <b>Shift+F1</b> on the focused control, "
                 "and in the status bar.</p>")
    return "".join(parts)


class ShortcutsDialog(QDialog):
    """The F1 window: every key SignStudio answers, from :data:`SHORTCUTS`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.browser = QTextBrowser()
        self.browser.setHtml(shortcuts_html())
        self.browser.setAccessibleName("Keyboard shortcuts")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(560, 620)
