"""Colour themes (a standard look and two high-contrast ones) and the WCAG 2.2 contrast check.

Every colour a widget draws text in comes from the current :class:`Theme`, not from a literal in
the widget: widgets name a *role* (``label.setProperty("role", "muted")``) and the application
style sheet made by :func:`style_sheet` colours it, or read :func:`current` when they build rich
text. :func:`text_pairs` lists every foreground/background pair a theme puts text in, so a test
can check them all against WCAG 2.2 success criterion 1.4.3 (contrast, minimum: 4.5:1 for text,
3:1 for large text of 18 pt, or 14 pt bold, and up).

Caption colours can also be chosen apart from the theme (:data:`CAPTION_SCHEMES`, the usual
broadcast caption pairs), each one checked the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: WCAG 2.2 AA minimum contrast for normal text and for large text (SC 1.4.3).
AA_TEXT, AA_LARGE_TEXT = 4.5, 3.0


@dataclass(frozen=True)
class Theme:
    """The colours of one theme, as ``#rrggbb``.

    ``window``/``base``: backgrounds of panels and of input fields; ``text``, ``muted`` (hints,
    details), ``ok``, ``error``, ``warning`` and ``link``: text on them; ``focus``: the focus
    ring; ``caption_*``: the caption panels of the Translate and Attention tabs (``gloss`` the
    recognised glosses, ``unsure`` a gloss the model is not sure of, ``accent`` the current
    gloss in the Produce tab's strip, drawn on ``accent_bg``).
    """

    name: str
    label: str
    dark: bool
    window: str
    base: str
    text: str
    muted: str
    ok: str
    error: str
    warning: str
    link: str
    focus: str
    button: str
    highlight: str
    highlight_text: str
    accent_bg: str
    accent_text: str
    caption_bg: str
    caption_text: str
    caption_gloss: str
    caption_muted: str
    caption_unsure: str


THEMES: dict[str, Theme] = {
    "standard": Theme(
        "standard", "Standard", False,
        window="#f3f4f6", base="#ffffff", text="#1d2733", muted="#4b5563", ok="#17612f",
        error="#a4161a", warning="#7a4b00", link="#1450a0", focus="#1a5fb4", button="#e6e8ec",
        highlight="#1a5fb4", highlight_text="#ffffff", accent_bg="#ffd24d", accent_text="#1a1a1a",
        caption_bg="#111318", caption_text="#f2f2f2", caption_gloss="#ffd24d", caption_muted="#aab2bd",
        caption_unsure="#ffa46b"),
    "high-contrast-light": Theme(
        "high-contrast-light", "High contrast, light", False,
        window="#ffffff", base="#ffffff", text="#000000", muted="#262626", ok="#004d1a",
        error="#8b0000", warning="#5c3300", link="#00007a", focus="#0000cc", button="#f0f0f0",
        highlight="#00007a", highlight_text="#ffffff", accent_bg="#00007a", accent_text="#ffffff",
        caption_bg="#ffffff", caption_text="#000000", caption_gloss="#00005c", caption_muted="#262626",
        caption_unsure="#7a2e00"),
    "high-contrast-dark": Theme(
        "high-contrast-dark", "High contrast, dark", True,
        window="#000000", base="#0a0a0a", text="#ffffff", muted="#e0e0e0", ok="#7dff9a",
        error="#ff9c9c", warning="#ffd966", link="#9cd3ff", focus="#ffff00", button="#1a1a1a",
        highlight="#ffff00", highlight_text="#000000", accent_bg="#ffff00", accent_text="#000000",
        caption_bg="#000000", caption_text="#ffffff", caption_gloss="#ffff00", caption_muted="#e0e0e0",
        caption_unsure="#ffb878"),
}

#: Caption colour choices apart from the theme: (label, background, text, glosses).
CAPTION_SCHEMES: dict[str, tuple[str, str, str, str]] = {
    "theme": ("As the theme", "", "", ""),
    "yellow-on-black": ("Yellow on black", "#000000", "#ffffff", "#ffff00"),
    "white-on-black": ("White on black", "#000000", "#ffffff", "#ffffff"),
    "black-on-white": ("Black on white", "#ffffff", "#000000", "#000000"),
    "black-on-yellow": ("Black on yellow", "#ffff00", "#000000", "#000000"),
}

#: The message banner of every tab, the same in every theme: ``kind: (background, text, title)``.
BANNER_COLORS: dict[str, tuple[str, str, str]] = {
    "error": ("#5c1f24", "#ffb4b9", "Error"),
    "warning": ("#5a4a14", "#ffe39a", "Note"),
    "info": ("#1d3a5c", "#b8d8ff", "Info"),
}

_current = THEMES["standard"]


def make_theme(name: str, captions: str = "theme") -> Theme:
    """Theme ``name`` with caption colours ``captions`` (a key of :data:`CAPTION_SCHEMES`).

    Unknown names fall back to the standard theme and the theme's own captions (a settings file
    from another version must not stop the window opening).
    """
    theme = THEMES.get(name, THEMES["standard"])
    scheme = CAPTION_SCHEMES.get(captions)
    if scheme and scheme[1]:
        _, bg, text, gloss = scheme
        muted = text
        theme = replace(theme, caption_bg=bg, caption_text=text, caption_gloss=gloss, caption_muted=muted,
                        caption_unsure=text)
    return theme


def current() -> Theme:
    """The theme the window uses now."""
    return _current


def set_current(theme: Theme) -> None:
    """Make ``theme`` current (call :func:`apply` to restyle the application)."""
    global _current
    _current = theme


def _channel(value: int) -> float:
    c = value / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(color: str) -> float:
    """WCAG 2.2 relative luminance of ``#rrggbb`` (0 black to 1 white).

    Raises:
        ValueError: not a ``#rrggbb`` colour.
    """
    if len(color) != 7 or not color.startswith("#"):
        raise ValueError(f"not a #rrggbb colour: {color!r}")
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.2 contrast ratio ``(L1 + 0.05) / (L2 + 0.05)`` of two ``#rrggbb`` colours, 1 to 21."""
    a, b = relative_luminance(foreground), relative_luminance(background)
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


def text_pairs(theme: Theme) -> list[tuple[str, str, str, float]]:
    """Every ``(what, foreground, background, minimum ratio)`` the theme puts text in.

    Captions are large text (30 pt and up) but are held to the normal-text minimum anyway, and so
    is the focus ring against the window (WCAG asks 3:1 for focus indicators; we ask 4.5:1).
    """
    t = theme
    pairs = []
    for bg_name, bg in (("window", t.window), ("base", t.base)):
        for fg_name in ("text", "muted", "ok", "error", "warning", "link"):
            pairs.append((f"{fg_name} on {bg_name}", getattr(t, fg_name), bg, AA_TEXT))
    pairs += [
        ("text on button", t.text, t.button, AA_TEXT),
        ("selected text", t.highlight_text, t.highlight, AA_TEXT),
        ("current gloss in the strip", t.accent_text, t.accent_bg, AA_TEXT),
        ("focus ring on window", t.focus, t.window, AA_LARGE_TEXT),
        ("caption text", t.caption_text, t.caption_bg, AA_TEXT),
        ("caption glosses", t.caption_gloss, t.caption_bg, AA_TEXT),
        ("caption details", t.caption_muted, t.caption_bg, AA_TEXT),
        ("unsure gloss", t.caption_unsure, t.caption_bg, AA_TEXT),
    ]
    pairs += [(f"{kind} banner", fg, bg, AA_TEXT) for kind, (bg, fg, _) in BANNER_COLORS.items()]
    return pairs


def style_sheet(theme: Theme) -> str:
    """The application style sheet of ``theme``: role colours, caption panels, a 3-pixel focus ring."""
    t = theme
    focusable = ("QPushButton", "QToolButton", "QComboBox", "QLineEdit", "QPlainTextEdit", "QTextEdit",
                 "QSpinBox", "QDoubleSpinBox", "QListWidget", "QTableWidget", "QTreeWidget", "QSlider",
                 "QFontComboBox")
    focus = ", ".join(f"{w}:focus" for w in focusable)
    return f"""
QLabel[role="muted"], QCheckBox[role="muted"] {{ color: {t.muted}; }}
QLabel[role="ok"] {{ color: {t.ok}; }}
QLabel[role="error"] {{ color: {t.error}; font-weight: bold; }}
QLabel[role="warning"] {{ color: {t.warning}; font-weight: bold; }}
#CaptionView, #GlossCaptionView, #SourceView {{ background: {t.caption_bg}; border-radius: 10px; }}
#CaptionView QLabel, #GlossCaptionView QLabel {{ color: {t.caption_text}; background: transparent; }}
#CaptionView QLabel[role="gloss"], #GlossCaptionView QLabel[role="gloss"] {{ color: {t.caption_gloss}; }}
#CaptionView QLabel[role="caption-muted"], #GlossCaptionView QLabel[role="caption-muted"] {{ color: {t.caption_muted}; }}
#candidatesBox {{ background: {t.caption_bg}; border: 1px solid {t.caption_muted}; border-radius: 8px; }}
{focus} {{ border: 3px solid {t.focus}; border-radius: 4px; }}
QCheckBox:focus, QRadioButton:focus {{ border: 3px solid {t.focus}; border-radius: 4px; padding: 2px; }}
QTabBar::tab:focus {{ border: 3px solid {t.focus}; }}
"""
