"""The user's preferences, kept with Qt's :class:`QSettings` and applied to the application.

:class:`Preferences` holds what a deaf signer, an interpreter or an educator sets once: caption
size and font, the theme and caption colours, the interface scale, a default model per tab and
the playback speed. :func:`load_preferences` / :func:`save_preferences` read and write them
(``$SIGNSTUDIO_SETTINGS`` names an INI file instead of the platform's store: tests use it);
:func:`apply_theme` restyles the running application (palette and style sheet of
:mod:`signstudio.gui.theme`).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from signstudio.gui.theme import CAPTION_SCHEMES, THEMES, Theme, make_theme, set_current, style_sheet

#: Environment variable naming an INI file to keep the settings in (default: the platform's store).
SETTINGS_ENV = "SIGNSTUDIO_SETTINGS"

#: Allowed ranges, in percent.
CAPTION_SCALE_RANGE = (100, 300)
UI_SCALE_RANGE = (75, 200)
#: What may run the models: ``backend: label`` (see :func:`signstudio.runtime.installed.load_installed`).
BACKEND_CHOICES = {"auto": "ONNX export where there is one, else PyTorch", "onnx": "ONNX export only",
                   "torch": "PyTorch"}
#: Playback speeds offered by every player (1.0: the clip's own frame rate).
SPEEDS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


@dataclass
class Preferences:
    """What the user chose; the defaults are what a first start shows.

    Attributes:
        caption_scale: caption size in percent of the default (100 to 300).
        caption_font: caption font family ("" = the application's font).
        theme: a key of :data:`signstudio.gui.theme.THEMES`.
        caption_colors: a key of :data:`signstudio.gui.theme.CAPTION_SCHEMES`.
        ui_scale: the whole interface's scale in percent (75 to 200), applied at the next start
            (Qt's ``QT_SCALE_FACTOR``; an explicitly set variable wins).
        translate_model / attention_model: the model each tab selects first ("" = the default).
        produce_language: the sign language the Produce tab starts with ("" = its default).
        playback_speed: the speed players start at (one of :data:`SPEEDS`).
        backend: what runs sign-to-text models: "auto" (their ONNX export in onnxruntime where
            there is an up-to-date one, else PyTorch), "onnx" or "torch".
    """

    caption_scale: int = 100
    caption_font: str = ""
    theme: str = "standard"
    caption_colors: str = "theme"
    ui_scale: int = 100
    translate_model: str = ""
    attention_model: str = ""
    produce_language: str = ""
    playback_speed: float = 1.0
    backend: str = "auto"

    def checked(self) -> "Preferences":
        """A copy with every value inside its range (a hand-edited or old settings file)."""
        p = Preferences(**asdict(self))
        p.caption_scale = min(max(int(p.caption_scale), CAPTION_SCALE_RANGE[0]), CAPTION_SCALE_RANGE[1])
        p.ui_scale = min(max(int(p.ui_scale), UI_SCALE_RANGE[0]), UI_SCALE_RANGE[1])
        p.theme = p.theme if p.theme in THEMES else "standard"
        p.caption_colors = p.caption_colors if p.caption_colors in CAPTION_SCHEMES else "theme"
        p.playback_speed = min(SPEEDS, key=lambda s: abs(s - float(p.playback_speed)))
        p.backend = p.backend if p.backend in BACKEND_CHOICES else "auto"
        return p

    def make_theme(self) -> Theme:
        """The theme these preferences ask for."""
        return make_theme(self.theme, self.caption_colors)


def settings_store() -> QSettings:
    """Where preferences live: ``$SIGNSTUDIO_SETTINGS`` (an INI file) or the platform's store."""
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings("SignStudio", "SignStudio")


def load_preferences() -> Preferences:
    """The saved preferences (defaults for anything missing or unreadable)."""
    store = settings_store()
    values = {}
    for f in fields(Preferences):
        raw = store.value(f"preferences/{f.name}")
        if raw is None:
            continue
        try:
            values[f.name] = type(getattr(Preferences, f.name))(raw)
        except (TypeError, ValueError):
            continue
    return Preferences(**values).checked()


def save_preferences(prefs: Preferences) -> None:
    """Remember ``prefs`` (written by Qt; a failure to write leaves the old file)."""
    store = settings_store()
    for key, value in asdict(prefs.checked()).items():
        store.setValue(f"preferences/{key}", value)
    store.sync()


def ui_scale_environment(prefs: Preferences) -> None:
    """Set ``QT_SCALE_FACTOR`` from ``prefs.ui_scale`` before the QApplication exists (unless the
    user set it)."""
    if prefs.ui_scale != 100 and "QT_SCALE_FACTOR" not in os.environ:
        os.environ["QT_SCALE_FACTOR"] = f"{prefs.ui_scale / 100:g}"


def palette_of(theme: Theme) -> QPalette:
    """A QPalette with the theme's colours (windows, fields, text, buttons, selection, links)."""
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.window, QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.base, QPalette.ColorRole.AlternateBase: theme.window,
        QPalette.ColorRole.Text: theme.text, QPalette.ColorRole.Button: theme.button,
        QPalette.ColorRole.ButtonText: theme.text, QPalette.ColorRole.ToolTipBase: theme.base,
        QPalette.ColorRole.ToolTipText: theme.text, QPalette.ColorRole.Highlight: theme.highlight,
        QPalette.ColorRole.HighlightedText: theme.highlight_text, QPalette.ColorRole.Link: theme.link,
        QPalette.ColorRole.PlaceholderText: theme.muted, QPalette.ColorRole.BrightText: theme.error,
    }
    for role, color in roles.items():
        pal.setColor(QPalette.ColorGroup.All, role, QColor(color))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(theme.muted))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(theme.muted))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor(theme.muted))
    return pal


def set_role(widget, role: str) -> None:
    """Give ``widget`` the colour role ``role`` of the theme's style sheet ("" for none), and
    restyle it now (Qt reads dynamic properties only when a widget is polished)."""
    if widget.property("role") == (role or None):
        return
    widget.setProperty("role", role or None)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


def apply_theme(theme: Theme, app: QApplication | None = None) -> None:
    """Make ``theme`` current and restyle ``app`` (default: the running application)."""
    app = app or QApplication.instance()
    set_current(theme)
    if app is None:
        return
    app.setPalette(palette_of(theme))
    app.setStyleSheet(style_sheet(theme))
