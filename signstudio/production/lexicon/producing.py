"""Producing: glosses looked up in the user's lexicons (else fingerspelled) and stitched into one
pose, with a segment per gloss."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Sequence

from pose_format import Pose

from signstudio.errors import InputError
from signstudio.languages import SignLanguage, get_language
from signstudio.production.lexicon.base import MAX_GLOSSES, MAX_SIGN_SECONDS
from signstudio.production.lexicon.fingerspelling import fingerspell, fingerspelling_text, spell
from signstudio.production.lexicon.lookup import Lexicon, load_lexicon
from signstudio.production.lexicon.stitching import stitch
from signstudio.production.types import Production, Segment, Source
from signstudio.tasks import NullTask, TaskHandle, check_cancelled


@dataclass
class _Piece:
    """One looked-up sign before stitching."""

    pose: Pose
    span: tuple[int, int] | None
    gloss: str
    source: Source
    origin: str  # file, or "fingerspelling", for messages
    letters: list[str] = field(default_factory=list)  # the alphabet keys, when fingerspelled


def _sign_item(word: str, gloss: str, language: SignLanguage, lexicons: Sequence[Lexicon],
               fingerspell_missing: bool) -> _Piece | None:
    label = gloss or word.upper()
    for lexicon in lexicons:
        match = lexicon.lookup(word, gloss, language)
        if match is not None:
            return _Piece(match.pose, match.signing_span, label, "lexicon",
                          f"{lexicon.name}/{match.entry.path}")
    abbr = language.abbreviation
    text = word or gloss
    if not fingerspelling_text(text):
        return None  # punctuation only
    if not fingerspell_missing:
        raise InputError(f"no sign for {text!r} in {abbr} (fingerspelling is off)")
    pose = fingerspell(text, language)
    return _Piece(pose, None, label, "fingerspelled", "fingerspelling",
                  letters=spell(text, language)[0])


def produce_from_lexicon(items: Sequence[tuple[str, str]], language: SignLanguage | str,
                         lexicons: Sequence[str | os.PathLike | Lexicon] = (), *,
                         fingerspell: bool = True, task: TaskHandle | None = None,
                         max_sign_seconds: float | None = MAX_SIGN_SECONDS,
                         fps: float | None = None) -> Production:
    """Sign a gloss sequence with recorded signs (spoken-to-signed / sign.mt's lexicon baseline).

    Args:
        items: ``(word, gloss)`` pairs, e.g. ``[("house", "HOUSE"), ("Anna", "ANNA")]``; an empty
            word falls back to the gloss and vice versa.
        language: a :class:`SignLanguage` or a name for :func:`get_language` (``"asl"``).
        lexicons: lexicon folders (or loaded :class:`Lexicon`), searched in order for every item
            (gloss first, then word; see :meth:`Lexicon.lookup`).
        fingerspell: spell a word that no lexicon has letter by letter with the package's
            fingerspelling alphabet (``False``: that is an error).
        task: progress handle: ``set_total(len(items))``, one ``advance()`` per item; checked for
            cancellation between items and before stitching.
        max_sign_seconds: a lexicon sign longer than this after trimming is sped up to it
            (spoken-to-signed's default 0.8 s); a fingerspelled word gets this per letter, plus
            one for the held last letter. ``None``: keep recorded speed.
        fps: output frame rate (default: the first sign's).

    Returns:
        a :class:`Production`: ``pose.body.data`` ``(T, 1, 178, 3)`` (reduced Holistic: 8 body,
        128 face, 21 + 21 hand points) in pixels of a 512 x 512 canvas, one :class:`Segment` per
        signed item (source ``"lexicon"`` or ``"fingerspelled"``) with its ``[start, end)`` frames,
        and notes naming where each sign came from. Items that are only punctuation are skipped
        (with a note).

    Raises:
        InputError: no items (``nothing to sign: the text is empty``), more than
            :data:`MAX_GLOSSES`, an unknown language, a bad lexicon folder or pose file, or a word
            with no sign that cannot be fingerspelled (the missing letters are named).
        Cancelled: the task was cancelled.
    """
    language = get_language(language)
    clean: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, str) or len(item) != 2:
            raise InputError(f"expected (word, gloss) pairs, got {item!r}")
        word, gloss = (str(x or "").strip() for x in item)
        if word or gloss:
            clean.append((word, gloss))
    if not clean:
        raise InputError("nothing to sign: the text is empty")
    if len(clean) > MAX_GLOSSES:
        raise InputError(f"too long: {len(clean)} glosses (the limit is {MAX_GLOSSES}); "
                         "split the text into shorter sentences")
    loaded = [lex if isinstance(lex, Lexicon) else load_lexicon(lex) for lex in lexicons]
    task = task if task is not None else NullTask()
    task.set_total(len(clean), unit="gloss")

    pieces: list[_Piece] = []
    notes: list[str] = []
    for word, gloss in clean:
        check_cancelled(task)
        task.set_status(gloss or word)
        piece = _sign_item(word, gloss, language, loaded, fingerspell)
        if piece is None:
            notes.append(f"skipped {word or gloss!r}: nothing to sign")
        elif piece.source == "fingerspelled":
            notes.append(f"{piece.gloss} was fingerspelled ({'-'.join(piece.letters)})")
        else:
            notes.append(f"{piece.gloss} from {piece.origin}")
        if piece is not None:
            pieces.append(piece)
        task.advance()
    if not pieces:
        raise InputError("nothing to sign: the text is empty")
    check_cancelled(task)
    task.set_status("stitching")

    caps: list[float | None] = []
    for piece in pieces:
        if max_sign_seconds is None:
            caps.append(None)
        elif piece.source == "fingerspelled":
            caps.append(max_sign_seconds * (len(piece.letters) + 1))
        else:
            caps.append(max_sign_seconds)
    pose, ranges = stitch([p.pose for p in pieces], spans=[p.span for p in pieces],
                          max_sign_seconds=caps, fps=fps, names=[p.origin for p in pieces])
    segments = [Segment(p.gloss, start, end, p.source, tuple(p.letters))
                for p, (start, end) in zip(pieces, ranges)]
    return Production(pose=pose, glosses=[p.gloss for p in pieces], segments=segments,
                      language=language.code, notes=notes)
