"""Warn, don't invent (issue 11): reliability of the text models, the language check, and the
`produce` / `translate --text-model` commands on real inputs."""

from __future__ import annotations

import csv
import json

import pytest

from signstudio.cli import main
from signstudio.paths import models_dir

T2G = models_dir() / "phoenix14t-text2gloss" / "model.pt"
G2T = models_dir() / "phoenix14t-gloss2text" / "model.pt"
needs_t2g = pytest.mark.skipif(not T2G.is_file(), reason="the phoenix14t-text2gloss model is not installed")
needs_g2t = pytest.mark.skipif(not G2T.is_file(), reason="the phoenix14t-gloss2text model is not installed")


def _lines(path, n):
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()][:n]


@pytest.fixture(scope="module")
def text2gloss():
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.text import TextTranslator

    return TextTranslator(load_installed(str(T2G)))


@pytest.fixture(scope="module")
def gloss2text():
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.text import TextTranslator

    return TextTranslator(load_installed(str(G2T)))


# --- reliability of the text models -----------------------------------------------------------
@needs_t2g
def test_phoenix_test_sentences_are_in_domain_and_keep_their_output(text2gloss, data_dir):
    sentences = _lines(data_dir / "phoenix14t" / "annotations" / "test.de", 20)
    checked = [text2gloss.translate_checked(s) for s in sentences]
    # The checked path searches exactly as the batch path does (same glosses).
    assert [c.tokens for c in checked] == text2gloss.translate([text2gloss.split(s) for s in sentences])
    in_domain = [c.reliability.in_domain for c in checked]
    assert sum(in_domain) >= 18, [(s, c.reliability.to_json()) for s, c in zip(sentences, checked)]
    ok = checked[in_domain.index(True)].reliability
    assert ok.warnings == [] and ok.oov_rate <= 0.2 and 0.2 <= ok.confidence <= 1.0


@needs_t2g
def test_a_self_introduction_in_english_into_dgs_is_flagged(text2gloss):
    rel = text2gloss.translate_checked("Hello, my name is Anna.").reliability
    assert not rel.in_domain
    assert rel.oov_tokens == ["hello", "my", "name", "is", "anna"] and rel.oov_rate == 1.0
    assert rel.confidence < 0.2
    assert rel.warnings[0].startswith("5 of 5 words are unknown to phoenix14t-text2gloss, which was trained on "
                                      "German weather forecasts")
    assert any("a guess, not a translation" in w for w in rel.warnings)
    payload = rel.to_json()
    assert payload["in_domain"] is False and payload["thresholds"] == {"max_oov_rate": 0.2, "min_confidence": 0.2}


@needs_g2t
def test_asl_glosses_into_the_german_gloss_to_text_model_are_flagged(gloss2text, data_dir):
    path = data_dir / "boston104" / "test_words.csv"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    videos: dict[str, list[str]] = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            videos.setdefault(row["video"], []).append(row["word"])
    sentences = [" ".join(v) for v in list(videos.values())[:10]]  # real ASL sentences
    for sentence in sentences:
        rel = gloss2text.translate_checked(sentence).reliability
        assert not rel.in_domain and rel.oov_rate >= 0.4, (sentence, rel.to_json())
        assert "glosses" in rel.warnings[0] and rel.unit == "glosses"
    # ... while PHOENIX's own glosses are not.
    phoenix = _lines(data_dir / "phoenix14t" / "annotations" / "test.gloss", 10)
    assert sum(gloss2text.translate_checked(g).reliability.in_domain for g in phoenix) >= 9


# --- the language of the text -----------------------------------------------------------------
@pytest.mark.parametrize("text, lang, detected", [
    ("Guten Morgen", "asl", "de"),
    ("Hallo, ich heiße Anna.", "asl", "de"),
    ("Hello, my name is Anna.", "dgs", "en"),
])
def test_text_in_another_language_than_the_sign_languages_is_flagged(text, lang, detected):
    from signstudio.production.langcheck import check_language

    check = check_language(text, lang)
    assert check.mismatch and check.detected == detected, check
    name = {"de": "German", "en": "English"}[detected]
    assert check.warning.startswith(f"the text looks {name} (")


@pytest.mark.parametrize("text, lang", [
    ("Hello.", "asl"),  # fastText alone reads it as Italian; English's dictionary knows it
    ("Anna", "asl"), ("Hamburg", "dgs"), ("1 2 3", "asl"),
    ("The house is big", "asl"), ("Morgen regnet es im Norden.", "dgs"),
])
def test_text_in_the_right_language_or_undecidable_is_not_flagged(text, lang):
    from signstudio.production.langcheck import check_language

    assert not check_language(text, lang).mismatch


def test_real_corpus_sentences_are_not_flagged_in_their_own_language(data_dir):
    from signstudio.production.langcheck import check_language

    german = _lines(data_dir / "phoenix14t" / "annotations" / "test.de", 200)
    english = _lines(data_dir / "how2sign" / "val.text", 200)
    assert not [t for t in german if check_language(t, "dgs").mismatch]
    assert len([t for t in english if check_language(t, "asl").mismatch]) <= 2
    assert all(check_language(t, "asl").mismatch for t in german[:50])  # and swapped they are


# --- the commands -----------------------------------------------------------------------------
@needs_t2g
def test_produce_warns_about_out_of_domain_text_and_still_produces(tmp_path, capsys):
    out = tmp_path / "anna.pose"
    assert main(["produce", "Hello, my name is Anna.", "--lang", "dgs", "-o", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    warnings = [line for line in captured.err.splitlines() if line.startswith("signstudio: warning: ")]
    assert warnings and len(warnings) == len(payload["warnings"])
    assert "the text looks English" in warnings[0] and any("unknown to phoenix14t-text2gloss" in w for w in warnings)
    reliability = payload["glossing"]["reliability"]
    assert reliability["in_domain"] is False and reliability["oov_rate"] == 1.0
    assert payload["glossing"]["language_check"]["detected"] == "en"
    assert payload["glossing"]["needs_confirmation"] is True and out.is_file()


@needs_t2g
def test_produce_strict_refuses_out_of_domain_text(tmp_path, capsys):
    out = tmp_path / "anna.pose"
    assert main(["produce", "Hello, my name is Anna.", "--lang", "dgs", "-o", str(out), "--strict"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("signstudio: error: not produced: the text looks English")
    assert not out.exists()


def test_produce_flags_german_text_for_asl_and_drops_unsigned_english_words(tmp_path, capsys):
    assert main(["produce", "Guten Morgen", "--lang", "asl", "-o", str(tmp_path / "g.pose")]) == 0
    err = capsys.readouterr().err
    assert "signstudio: warning: the text looks German" in err and "ASL is produced from English text" in err
    assert main(["produce", "The house is big.", "--lang", "asl", "-o", str(tmp_path / "h.pose"), "--json"]) == 0
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    assert payload["glosses"] == ["HOUSE", "BIG"] and payload["glossing"]["dropped"] == ["the", "is"]
    assert payload["warnings"] == [] and "warning" not in captured.err


@needs_g2t
def test_translate_glosses_warns_and_reports_reliability(capsys):
    assert main(["translate", "--glosses", "JOHN WRITE HOMEWORK", "--text-model", "phoenix14t-gloss2text",
                 "--json"]) == 0
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    assert payload["reliability"]["in_domain"] is False
    assert payload["reliability"]["oov_tokens"] == ["JOHN", "WRITE", "HOMEWORK"]
    assert payload["decoding"] == "sentence by phoenix14t-gloss2text, beam 4, alpha 2"
    assert "signstudio: warning: 3 of 3 glosses are unknown to phoenix14t-gloss2text" in captured.err
    assert main(["translate", "--glosses", "MORGEN REGEN NORD", "--text-model", "phoenix14t-gloss2text"]) == 0
    captured = capsys.readouterr()
    assert "reliability: phoenix14t-gloss2text: 0 of 3 glosses unknown" in captured.out and captured.err == ""
    assert main(["translate", "--glosses", "JOHN WRITE HOMEWORK", "--text-model", "phoenix14t-gloss2text",
                 "--strict"]) == 2
    assert capsys.readouterr().err.startswith("signstudio: error: not translated: 3 of 3 glosses")


# --- how each view decodes --------------------------------------------------------------------
def test_each_decoder_says_how_it_decodes():
    from signstudio.runtime.checkpoint import DecodingOptions
    from signstudio.runtime.sign2text import MAX_WINDOW, decoding_summary

    options = DecodingOptions(beam_size=4, length_penalty=1.0, ctc_beam_size=10, lm_weight=0.5)
    decoded = {"ctc": [[]], "ctc_lm": [[]], "decoder": [[]]}
    assert decoding_summary(decoded, 100, options, False) == (
        "whole clip at once; glosses by CTC prefix beam search (beam 10) with the gloss LM (weight 0.5)")
    assert decoding_summary({"ctc": [[]], "decoder": [[]]}, MAX_WINDOW + 1, options, True) == (
        f"windows of {MAX_WINDOW} frames (60 overlap); glosses by CTC best path (greedy); "
        "text by the attention decoder (beam 4, alpha 1)")
    path = models_dir() / "wlasl100-continuous" / "model.pt"
    if path.is_file():
        from signstudio.runtime.installed import load_installed
        from signstudio.runtime.stream import StreamingRecognizer

        how = StreamingRecognizer(load_installed(str(path))).decoding
        assert how.startswith("streaming CTC, best path frame by frame: window 64 frames, hop 4, lookahead 6 at ")
