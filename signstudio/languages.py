"""Sign languages SignStudio can produce: the ones with a fingerspelling alphabet in spoken-to-signed.

The set of languages is read from the fingerspelling lexicon that the ``spoken-to-signed`` package
installs (``spoken_to_signed/assets/fingerspelling_lexicon/index.csv``, sign.mt; MIT): each
``(spoken_language, signed_language)`` pair there is one language here. Codes are ISO 639-3 (the
codes sign.mt and spoken-to-signed use); the spoken language is the ISO 639-1 language of that
language's lexicon (its words and glosses, e.g. ``"en"`` for ASL, ``"de"`` for DGS).

A language's :attr:`SignLanguage.tag` (``"<ase>"``) is the language attribute SignLLM's
Prompt2LangGloss puts in front of a gloss sequence so one model serves several sign languages.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from signstudio.errors import InputError


@dataclass(frozen=True)
class SignLanguage:
    """One sign language.

    Attributes:
        code: ISO 639-3 code, e.g. ``"ase"`` (the code the spoken-to-signed lexicons use).
        name: English name, e.g. ``"American Sign Language"``.
        abbreviation: the usual abbreviation, e.g. ``"ASL"``, ``"DGS"``, ``"ÖGS"``.
        spoken: ISO 639-1 code of the spoken language of its lexicon, e.g. ``"en"``.
        aliases: other names :func:`get_language` accepts (ASCII spellings, native abbreviations).
    """

    code: str
    name: str
    abbreviation: str
    spoken: str
    aliases: tuple[str, ...] = ()

    @property
    def tag(self) -> str:
        """The language attribute of Prompt2LangGloss (SignLLM, Fang et al. 2024), e.g. ``"<ase>"``."""
        return f"<{self.code}>"

    def __str__(self) -> str:
        return f"{self.name} ({self.abbreviation})"


# code -> (name, abbreviation, aliases). The spoken language comes from the lexicon's index.
_NAMES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "ase": ("American Sign Language", "ASL", ()),
    "gsg": ("German Sign Language", "DGS", ()),
    "sgg": ("Swiss German Sign Language", "DSGS", ()),
    "asq": ("Austrian Sign Language", "ÖGS", ("OGS", "OEGS")),
    "jos": ("Jordanian Sign Language", "LIU", ()),
    "cse": ("Czech Sign Language", "ČZJ", ("CZJ", "CSE")),
    "gss": ("Greek Sign Language", "GSL", ("ENG",)),
    "mfs": ("Mexican Sign Language", "LSM", ()),
    "ssp": ("Spanish Sign Language", "LSE", ()),
    "eso": ("Estonian Sign Language", "EVK", ()),
    "fsl": ("French Sign Language", "LSF", ()),
    "csq": ("Croatian Sign Language", "HZJ", ()),
    "ise": ("Italian Sign Language", "LIS", ()),
    "lls": ("Lithuanian Sign Language", "LGK", ()),
    "bzs": ("Brazilian Sign Language", "Libras", ("LSB",)),
    "psr": ("Portuguese Sign Language", "LGP", ()),
    "svk": ("Slovak Sign Language", "SPJ", ()),
    "swl": ("Swedish Sign Language", "SSL", ("STS",)),
    "tsm": ("Turkish Sign Language", "TİD", ("TID",)),
    "ukl": ("Ukrainian Sign Language", "USL", ("UZHM",)),
}

# Used only when spoken-to-signed is not installed (the pairs of its index.csv, version 0.4.0).
_FALLBACK_SPOKEN = {
    "ase": "en", "gsg": "de", "sgg": "de", "asq": "de", "jos": "ar", "cse": "cs", "gss": "el",
    "mfs": "es", "ssp": "es", "eso": "et", "fsl": "fr", "csq": "hr", "ise": "it", "lls": "lt",
    "bzs": "pt", "psr": "pt", "svk": "sk", "swl": "sv", "tsm": "tr", "ukl": "uk",
}


def fingerspelling_index_path() -> Path | None:
    """Path of spoken-to-signed's ``fingerspelling_lexicon/index.csv``, or ``None`` if not installed.

    Found without importing the package (its import is cheap, but this keeps the lookup side-effect
    free).
    """
    spec = importlib.util.find_spec("spoken_to_signed")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / "assets" / "fingerspelling_lexicon" / "index.csv"
        if path.is_file():
            return path
    return None


def _lexicon_pairs() -> dict[str, str]:
    """``{signed_code: spoken_code}`` in the order of the fingerspelling index (first pair wins)."""
    path = fingerspelling_index_path()
    if path is None:
        return dict(_FALLBACK_SPOKEN)
    pairs: dict[str, str] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            pairs.setdefault(row["signed_language"], row["spoken_language"])
    return pairs


@functools.lru_cache(maxsize=1)
def _languages() -> tuple[SignLanguage, ...]:
    pairs = _lexicon_pairs()
    order = [code for code in _NAMES if code in pairs] + sorted(c for c in pairs if c not in _NAMES)
    languages = []
    for code in order:
        name, abbreviation, aliases = _NAMES.get(code, (code, code.upper(), ()))
        languages.append(SignLanguage(code, name, abbreviation, pairs[code], aliases))
    return tuple(languages)


def known_languages() -> list[SignLanguage]:
    """The sign languages of spoken-to-signed's fingerspelling lexicon (20 in version 0.4.0).

    ASL first, then the order of SignStudio's name table. Read once from the installed
    ``index.csv`` and cached.
    """
    return list(_languages())


def get_language(name: str | SignLanguage) -> SignLanguage:
    """Find a sign language by ISO 639-3 code, abbreviation, alias or English name.

    Case-insensitive: ``"ase"``, ``"ASL"``, ``"asl"``, ``"dgs"``, ``"ÖGS"``, ``"ogs"`` and
    ``"German Sign Language"`` all work. A :class:`SignLanguage` is returned as is.

    Raises:
        InputError: no such language; the one-line message lists the known ones, e.g.
            ``unknown sign language 'xyz'; known: ase (ASL), gsg (DGS), ...``.
    """
    if isinstance(name, SignLanguage):
        return name
    key = str(name).strip().casefold()
    for language in _languages():
        names = (language.code, language.abbreviation, language.name, *language.aliases)
        if key and key in {n.casefold() for n in names}:
            return language
    known = ", ".join(f"{lang.code} ({lang.abbreviation})" for lang in _languages())
    raise InputError(f"unknown sign language {str(name)!r}; known: {known}")
