"""English glosses for ASL: leave out the words ASL does not sign.

The rule-based glosser (spoken-to-signed's, simplemma lemmas) keeps every English word, so
"The house is big" became ``THE HOUSE BE BIG`` and THE and BE were fingerspelled. ASL has no
articles and no copula:

- articles: ASL does not use articles such as *the* (Wikipedia, *American Sign Language*,
  section Grammar);
- the copula: the *be* verbs (*is, are, ...*) do not exist as signs in ASL, which has a zero
  copula: *I'm fine* is signed IX-me FINE and *My name is Jane* IX-me NAME fs-JANE (Handspeak,
  *"Be" verbs and zero copula in sign language*, https://www.handspeak.com/learn/47/). ASL
  glossing lessons teach the same step: leave out *a, an, the* and *is, am, are, be, been, was,
  were*.

The rule set works on the lemmatiser's lemmas, so every inflected form goes with its lemma:
:data:`UNSIGNED_LEMMAS` = ``a`` (also *an*, which simplemma lemmatises to *a*), ``an``, ``the``,
``be`` (*is, am, are, was, were, been, being*). Two refinements keep the meaning:

- a negated copula (*isn't, aren't, wasn't, weren't, ain't*) becomes ``NOT``: dropping it would
  turn "It isn't cold" into IT COLD;
- a pronoun or wh-word contracted with the copula (*I'm, you're, it's, what's, there's*) keeps the
  pronoun (``I``, ``YOU``, ``IT``), which the lemmatiser gave as ``I'M``, ``YOU'RE``, ``ITS``. A
  noun's *'s* is a possessive and is left to the lemmatiser (*Anna's* → ``ANNA``).

Nothing else is dropped: *to*, auxiliaries (*do, have, will*) and prepositions are signed in some
sentences and not in others, which a word-by-word rule cannot tell. ``tests/test_asl_glossing.py``
runs every word of the ASL lexicons under the shared data (WLASL100, RWTH-BOSTON-104, the ASL app
signs, the recorded poses) through the glosser and this rule: none is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: Lemmas ASL does not sign (articles and the copula), see the module.
UNSIGNED_LEMMAS = frozenset({"a", "an", "the", "be"})
#: Copula forms with a negation: signed as NOT.
NEGATED_COPULA = frozenset({"isn't", "aren't", "wasn't", "weren't", "ain't"})
#: Words that take a contracted copula ('m, 're, 's) and are kept without it.
CONTRACTING = frozenset({"i", "you", "we", "they", "he", "she", "it", "that", "this", "there", "here",
                         "what", "where", "who", "how", "when", "why"})
_CONTRACTION = re.compile(r"^([a-z]+)'(m|re|s)$")


def _plain(word: str) -> str:
    return word.lower().replace("\u2019", "'")


def unsigned_reason(word: str, gloss: str) -> str:
    """Why ``(word, gloss)`` is not signed in ASL (``"article"`` or ``"copula"``), or ``""``."""
    lemma = gloss.lower()
    if lemma in UNSIGNED_LEMMAS and _plain(word) not in NEGATED_COPULA:
        return "copula" if lemma == "be" else "article"
    return ""


def asl_items(items: Sequence[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[str]]:
    """``(kept, dropped)``: the ``(word, gloss)`` pairs ASL signs, and the words it does not.

    Args:
        items: ``(word, lemma gloss)`` pairs from the rule-based glosser, in text order.

    Returns:
        ``kept``: the pairs to sign, negated copulas as ``NOT`` and contracted pronouns without
        the copula; ``dropped``: the left-out words in text order (articles and the copula).
    """
    kept: list[tuple[str, str]] = []
    dropped: list[str] = []
    for word, gloss in items:
        plain = _plain(word)
        if plain in NEGATED_COPULA:
            kept.append((word, "NOT"))
            continue
        if unsigned_reason(word, gloss):
            dropped.append(word)
            continue
        match = _CONTRACTION.match(plain)
        if match and match.group(1) in CONTRACTING:
            kept.append((word, match.group(1).upper()))
            continue
        kept.append((word, gloss))
    return kept, dropped
