"""ASL glossing leaves out what ASL does not sign (articles, the copula) and nothing else: the
rule set checked on every word of the ASL lexicons in the shared data."""

from __future__ import annotations

import csv
import json

import pytest

from signstudio.production.asl import UNSIGNED_LEMMAS, asl_items
from signstudio.production.pipeline import gloss_text, text_to_glosses


def _lexicon_words(data_dir) -> dict[str, list[str]]:
    """Every ASL gloss of the shared data's lexicons, lowercased English words, by source.

    Single letters (the ASL app's fingerspelled alphabet: "a", "i", ...) are left out: they sign
    letters, and a lone "a" in English text is the article, not the letter A.
    """
    out: dict[str, list[str]] = {}
    wlasl = data_dir / "wlasl100" / "WLASL100.json"
    if wlasl.is_file():
        out["WLASL100"] = [e["gloss"] for e in json.loads(wlasl.read_text())]
    boston = data_dir / "boston104"
    if boston.is_dir():
        words = set()
        for name in ("train_words.csv", "test_words.csv"):
            with open(boston / name, newline="") as f:
                words |= {row["word"] for row in csv.DictReader(f)}
        # BOSTON's glosses carry variant numbers and annotation tags: BUY1, IX-1P, SAY-1P.
        out["RWTH-BOSTON-104"] = sorted({w.rstrip("0123456789").lower() for w in words
                                         if not w.startswith("IX") and not w.endswith("-1P")})
    app = data_dir / "isolated" / "asl-app" / "signs"
    if app.is_dir():
        out["ASL app"] = [p.stem.replace("_", " ") for p in app.glob("*.json") if len(p.stem) > 1]
    poses = data_dir / "poses" / "asl"
    if poses.is_dir():
        out["recorded poses"] = sorted({p.stem.split("-")[-1].lower() for p in poses.rglob("*.pose")
                                        if p.stem.split("-")[-1].isupper()})
    if not out:
        pytest.skip(f"no ASL lexicon under {data_dir}")
    return out


def test_no_lexicon_word_is_dropped(data_dir):
    lexicons = _lexicon_words(data_dir)
    assert sum(map(len, lexicons.values())) > 250  # WLASL100 (100), BOSTON (~100), app (~70), poses
    for source, words in lexicons.items():
        # One text per lexicon (simplemma lemmatises word by word; one call loads its dictionary once).
        glossing = gloss_text(", ".join(words), "asl")
        assert glossing.dropped == [], (source, glossing.dropped)
        assert [w for w, _ in glossing.items] == [t for w in words for t in w.split()], source  # every word kept
        assert all(g.lower() not in UNSIGNED_LEMMAS for g in glossing.glosses), source


@pytest.mark.parametrize("text, glosses, dropped", [
    ("The house is big", ["HOUSE", "BIG"], ["the", "is"]),
    ("An apple was a gift", ["APPLE", "GIFT"], ["an", "was", "a"]),
    ("We were being silly and they are here", ["WE", "SILLY", "AND", "THEY", "HERE"], ["were", "being", "are"]),
    ("Am I late? Be quiet! He has been ill", ["I", "LATE", "QUIET", "HE", "HAVE", "ILL"], ["am", "be", "been"]),
    # the copula contracted with a pronoun: the pronoun stays; a negated copula is NOT
    ("I'm fine, you're right, it's cold", ["I", "FINE", "YOU", "RIGHT", "IT", "COLD"], []),
    ("It isn't cold and they weren't here", ["IT", "NOT", "COLD", "AND", "THEY", "NOT", "HERE"], []),
    ("I’m happy", ["I", "HAPPY"], []),
    # a noun's 's is a possessive, and the noun "beings" is not the copula
    ("Anna's book is red", ["ANNA", "BOOK", "RED"], ["is"]),
    ("Human beings", ["HUMAN", "BEING"], []),
])
def test_articles_and_the_copula_are_left_out(text, glosses, dropped):
    glossing = gloss_text(text, "asl")
    assert glossing.glosses == glosses
    assert glossing.dropped == dropped
    assert glossing.warnings == []


def test_only_asl_drops_them_and_the_rule_is_on_lemmas():
    # German text for DGS without a model would keep its articles: the rule is ASL's.
    kept, dropped = asl_items([("the", "THE"), ("houses", "HOUSE"), ("were", "BE"), ("beings", "BEING")])
    assert kept == [("houses", "HOUSE"), ("beings", "BEING")] and dropped == ["the", "were"]


def test_text_of_nothing_but_unsigned_words_says_so(tmp_path):
    from signstudio.errors import InputError
    from signstudio.production.pipeline import produce

    with pytest.raises(InputError, match=r"nothing to sign: the text has no words \(the, is are not signed in ASL\)"):
        produce("the is", "asl")
    assert text_to_glosses("a", "asl") == []
