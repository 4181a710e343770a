"""Text on rendered frames (Pillow, no Qt): the caption band and the hand close-ups' labels.

A :class:`Caption` is what is being signed in one frame: the gloss and, for a fingerspelled word,
its letters and which of them is being spelled. :func:`draw_caption` writes it into a band of an
RGB image: the gloss in bold, then the letters, the current one on the same yellow as the gloss
strip of the Produce tab. Fonts: DejaVu Sans Bold where the system has it (most Linux desktops),
else Pillow's own scalable font.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

BAND_BACKGROUND = (255, 255, 255)
BAND_RULE = (205, 211, 219)
TEXT = (29, 39, 51)
MUTED = (128, 136, 148)
HIGHLIGHT = (255, 210, 77)
HIGHLIGHT_EDGE = (217, 164, 0)
#: Fonts tried in order (a file name is looked up in the system's font folders by Pillow).
FONT_FILES = ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "Arial Bold.ttf", "arialbd.ttf")


@dataclass(frozen=True)
class Caption:
    """What one frame shows in its caption band.

    Attributes:
        gloss: the gloss being signed (e.g. ``"HOUSE"``); "" between signs.
        letters: the letters of a fingerspelled gloss (alphabet keys, e.g. ``("b", "o", "b")``).
        letter: index into ``letters`` of the letter being spelled, or ``None``.
    """

    gloss: str
    letters: tuple[str, ...] = ()
    letter: int | None = None

    @property
    def current_letter(self) -> str | None:
        """The letter being spelled (upper case), or ``None``."""
        if self.letter is None or not 0 <= self.letter < len(self.letters):
            return None
        return self.letters[self.letter].upper()


@lru_cache(maxsize=32)
def font(size: int):
    """A bold scalable font of ``size`` pixels (see :data:`FONT_FILES`)."""
    from PIL import ImageFont

    size = max(int(size), 6)
    for name in FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _runs(caption: Caption) -> list[tuple[str, bool]]:
    """The caption as (text, highlighted) runs: the gloss, then the letters."""
    runs = [(caption.gloss, False)] if caption.gloss else []
    if caption.letters:
        if runs:
            runs.append(("  ", False))
        for i, letter in enumerate(caption.letters):
            if i:
                runs.append((" ", False))
            runs.append((letter.upper(), i == caption.letter))
    return runs


def draw_caption(image: np.ndarray, band: tuple[int, int, int, int], caption: Caption | None) -> None:
    """Fill ``band`` ``(x, y, width, height)`` of ``image`` (H, W, 3 uint8 RGB, in place) with the
    caption, centred; ``None`` leaves the band empty. A caption too wide is drawn smaller."""
    from PIL import Image, ImageDraw

    x, y, w, h = band
    region = image[y:y + h, x:x + w]
    region[:] = BAND_BACKGROUND
    region[0, :] = BAND_RULE
    if caption is None or h < 8 or w < 8:
        return
    runs = _runs(caption)
    if not runs:
        return
    size = int(h * 0.56)
    while True:
        f = font(size)
        pad = max(2, size // 6)
        widths = [f.getlength(text) + (2 * pad if lit else 0) for text, lit in runs]
        if sum(widths) <= w * 0.94 or size <= 8:
            break
        size = max(8, int(size * 0.88))
    canvas = Image.fromarray(np.ascontiguousarray(region))
    draw = ImageDraw.Draw(canvas)
    left = (w - sum(widths)) / 2
    spelled = bool(caption.letters)
    middle = h / 2 + 1
    for (text, lit), width in zip(runs, widths):
        if lit:
            top, bottom = middle - size * 0.62, middle + size * 0.62
            draw.rounded_rectangle((left, top, left + width, bottom), radius=max(2, size // 5),
                                   fill=HIGHLIGHT, outline=HIGHLIGHT_EDGE, width=max(1, size // 16))
            draw.text((left + pad, middle), text, font=f, fill=TEXT, anchor="lm")
        elif text.strip():
            muted = spelled and text != caption.gloss
            draw.text((left, middle), text, font=f, fill=MUTED if muted else TEXT, anchor="lm")
        left += width
    region[:] = np.asarray(canvas)


def draw_label(image: np.ndarray, box: tuple[int, int, int, int], text: str, *,
               faded: bool = False, centred: bool = False) -> None:
    """Write a small ``text`` in the top-left corner (or the centre) of ``box`` of ``image``
    (in place); nothing if the box is too small for it."""
    from PIL import Image, ImageDraw

    x, y, w, h = box
    size = int(min(max(h * 0.075, 10), 18))
    f = font(size)
    if f.getlength(text) + size > w or h < 2 * size:
        return
    top = y + (h - 2 * size) // 2 if centred else y
    region = image[top:top + 2 * size, x:x + w]
    canvas = Image.fromarray(np.ascontiguousarray(region))
    where, anchor = ((w / 2, size), "mm") if centred else ((size * 0.5, size * 0.35), "la")
    ImageDraw.Draw(canvas).text(where, text, font=f, anchor=anchor,
                                fill=MUTED if faded else (96, 104, 116))
    region[:] = np.asarray(canvas)
