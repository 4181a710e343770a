"""Fingerspelling: a word letter by letter with spoken-to-signed's fingerspelling lexicon
(``FingerspellingPoseLookup``: 626 recorded letters of 20 sign languages)."""

from __future__ import annotations

import unicodedata

from pose_format import Pose

from signstudio.errors import InputError
from signstudio.languages import SignLanguage, get_language
from signstudio.production.lexicon.base import _lock, _quiet

_fingerspeller = None


def _fingerspeller_lookup():
    """The library's ``FingerspellingPoseLookup`` (one per process; its pose cache is shared)."""
    global _fingerspeller
    with _lock:
        if _fingerspeller is None:
            from spoken_to_signed.gloss_to_pose.lookup.fingerspelling_lookup import (
                FingerspellingPoseLookup,
            )

            _fingerspeller = FingerspellingPoseLookup()
        return _fingerspeller


def fingerspelling_text(word: str) -> str:
    """What is fingerspelled for ``word``: lower-cased (as spoken-to-signed does) without
    punctuation or spaces (``"Don't"`` -> ``"dont"``, ``"New York"`` -> ``"newyork"``)."""
    kept = [c for c in word if not (unicodedata.category(c).startswith(("P", "Z")) or c.isspace())]
    return "".join(kept).lower()


def alphabet(language: SignLanguage | str) -> list[str]:
    """The fingerspelling alphabet of ``language`` (lower-case keys of spoken-to-signed's
    fingerspelling lexicon, longest first: e.g. DSGS ``["sch", ...]``); empty if it has none."""
    language = get_language(language)
    fs = _fingerspeller_lookup()
    return list(fs.alphabets.get(language.spoken, {}).get(language.code, []))


def spell(word: str, language: SignLanguage | str) -> tuple[list[str], list[str]]:
    """Split ``fingerspelling_text(word)`` into ``language``'s alphabet keys.

    Mirrors ``FingerspellingPoseLookup.characters_lookup``: the longest key found in the text is
    spelled, then the parts before and after it, recursively. Returns ``(letters, missing)``: the
    keys in signing order (DSGS ``"Schule"`` -> ``["sch", "u", "l", "e"]``) and the characters no key
    covers, once each in order of appearance (empty when the word can be spelled).
    """
    keys = alphabet(language)
    letters: list[str] = []
    missing: list[str] = []

    def walk(text: str) -> None:
        if not text:
            return
        for key in keys:
            if key in text:
                i = text.index(key)
                walk(text[:i])
                letters.append(key)
                walk(text[i + len(key):])
                return
        missing.extend(text)  # no key occurs in it, so none of its characters is a key

    walk(fingerspelling_text(word))
    return letters, list(dict.fromkeys(missing))


def missing_letters(word: str, language: SignLanguage | str) -> list[str]:
    """Characters of ``word`` (lower-cased, without punctuation) that ``language``'s
    fingerspelling alphabet lacks, once each in order; ``[]`` if it can be spelled (see
    :func:`spell`)."""
    return spell(word, language)[1]


def fingerspell(word: str, language: SignLanguage | str) -> Pose:
    """Fingerspell ``word`` letter by letter with spoken-to-signed's ``FingerspellingPoseLookup``.

    The letters are stitched by the library (trimmed, 0.8 s each at most, the last one held twice
    as long), giving a pose of 178 reduced Holistic points, ``(T, 1, 178, 3)``, at the alphabet's
    fps (25, or 29.97/30 for bzs, gsg, sgg, tsm), scaled into a 512 x 512 canvas.

    Raises:
        InputError: nothing is left to spell, the language has no fingerspelling alphabet, or the
            alphabet lacks some of the word's characters (they are named).
    """
    language = get_language(language)
    text = fingerspelling_text(word)
    abbr = language.abbreviation
    if not text:
        raise InputError(f"nothing to fingerspell in {word!r}")
    if not alphabet(language):
        raise InputError(f"no sign for {word!r} in {abbr} and {abbr} has no fingerspelling alphabet")
    missing = missing_letters(word, language)
    if missing:
        raise InputError(f"no sign for {word!r} in {abbr} and the {abbr} fingerspelling alphabet "
                         f"has no {', '.join(repr(c) for c in missing)}")
    fs = _fingerspeller_lookup()
    with _lock, _quiet():
        return fs.lookup(text, text, language.spoken, language.code).pose
