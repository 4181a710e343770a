"""AttentionSession without Qt, on real records of the shipped models and a real .pose file.

The sign record is ``boston104-signformer`` on ``poses/mediapipe.pose`` (170 frames at 24 fps;
features resampled to 30 fps, 212 frames); the text record ``phoenix14t-text2gloss`` on a German
sentence. Tests skip without the data folder or the models.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from signstudio.interpret import attention_clusters, summarize
from signstudio.interpret.analysis import record_contributions
from signstudio.interpret.session import (ATTENTION_TASKS, AttentionSession, attention_matrix, input_kind,
                                          looks_like_glosses, looks_like_path, order_models, pick_model,
                                          player_frame, run_choice, strongest_cluster)

from helpers import require_data_file, require_model  # tests/ is on sys.path under pytest

SIGN_MODEL = "boston104-signformer"
TEXT_MODEL = "phoenix14t-text2gloss"
SENTENCE = "Morgen regnet es im Norden, im Süden scheint die Sonne."


@pytest.fixture(scope="module")
def sign_record():
    from signstudio.interpret import record_file

    path = require_data_file("poses", "mediapipe.pose")
    require_model(SIGN_MODEL)
    return record_file(path, SIGN_MODEL)


@pytest.fixture(scope="module")
def text_record():
    from signstudio.interpret.record import record_text
    from signstudio.runtime.installed import load_installed

    require_model(TEXT_MODEL)
    return record_text(load_installed(TEXT_MODEL), SENTENCE)


@pytest.fixture
def session(sign_record):
    s = AttentionSession()
    s.set_record(sign_record)
    return s


# --- a record ------------------------------------------------------------------------------------
def test_a_new_record_shows_the_last_cross_layer_mean_of_heads(session, sign_record):
    record = sign_record
    assert session.view == ("cross", len(record.cross) - 1, None)
    assert session.token is None and session.timed and not session.text_model
    np.testing.assert_allclose(session.matrix(), record.cross[-1].mean(axis=0), rtol=1e-6)
    assert session.matrix().shape == (record.num_steps, record.num_frames) == (len(record.tokens), 212)
    rows, cols = session.axes()
    assert rows.labels == list(record.tokens) and rows.n == record.num_steps
    assert cols.labels is None and cols.step == pytest.approx(1 / 30) and cols.title == "time (s)"
    assert cols.cell(cols.centre(17)) == 17 and cols.edge(0) == pytest.approx(float(record.frame_times[0]))


def test_empty_session_reads_as_empty():
    s = AttentionSession()
    assert s.matrix() is None and s.clusters() == [] and s.all_clusters() == [] and s.token_rows() == []
    assert not s.select_token(0) and not s.set_view(kind="cross") and np.isnan(s.diagonal())
    assert s.token_time() is None and s.layer_count() == 0


def test_analyses_match_the_core_and_are_computed_once(session, sign_record, monkeypatch):
    record = sign_record
    summary = summarize(record, -1)
    assert session.diagonal() == pytest.approx(summary["diagonal_score"][-1], abs=1e-4)
    np.testing.assert_allclose(session.cross_share(), record_contributions(record, -1).cross_share)
    clusters = attention_clusters(attention_matrix(record, "cross", -1, None))  # as the tab shows it
    assert session.all_clusters() == clusters
    # A second read is the cached value, not a recomputation.
    import signstudio.interpret.session as module

    monkeypatch.setattr(module, "attention_clusters", lambda *a, **k: pytest.fail("recomputed"))
    monkeypatch.setattr(module, "diagonal_score", lambda *a, **k: pytest.fail("recomputed"))
    monkeypatch.setattr(module, "record_contributions", lambda *a, **k: pytest.fail("recomputed"))
    assert session.all_clusters() is session.all_clusters()
    assert session.matrix() is session.matrix()
    session.diagonal()
    session.cross_share()


def test_switching_views_keeps_the_layer_when_it_exists(session, sign_record):
    record = sign_record
    heads = record.num_heads
    assert session.set_view(head=2)
    assert session.view == ("cross", 0, 2)
    np.testing.assert_array_equal(session.matrix(), record.cross[0][2])
    assert session.set_view(kind="decoder_self")
    np.testing.assert_array_equal(session.matrix(), record.decoder_self[0][2])
    assert session.axes()[1].labels == list(record.decoder_inputs)
    assert session.set_view(kind="encoder_self")
    assert session.view == ("encoder_self", 0, 2) and session.layer_count() == len(record.encoder_self) == 2
    assert session.set_view(layer=-1)
    assert session.view == ("encoder_self", 1, 2)
    np.testing.assert_array_equal(session.matrix(), record.encoder_self[1][2])
    # An encoder map's analyses use the last decoder layer's cross-attention, mean of heads.
    assert session.analysis_layer() == (len(record.cross) - 1, None)
    assert session.set_view(head=None)
    np.testing.assert_allclose(session.matrix(), record.encoder_self[1].mean(axis=0), rtol=1e-6)
    assert not session.set_view(head=None)  # no change
    # Back to cross: layer 1 does not exist there, so its last (only) layer is shown.
    assert session.set_view(kind="cross", head=3)
    assert session.view == ("cross", 0, 3)
    np.testing.assert_array_equal(session.matrix(), attention_matrix(record, "cross", 0, 3))
    for bad in (dict(kind="self"), dict(layer=5), dict(head=heads), dict(kind="encoder_self", layer=-3)):
        with pytest.raises(ValueError):
            session.set_view(**bad)
        assert session.view == ("cross", 0, 3)  # nothing changed


def test_selecting_a_token_gives_its_clusters_and_the_time_to_jump_to(session, sign_record):
    record = sign_record
    session.set_view(head=3)
    clusters = attention_clusters(record.cross[0][3])
    assert session.select_token(1) and not session.select_token(1)
    assert not session.select_token(record.num_steps) and session.token == 1  # invalid: ignored
    assert session.clusters() == clusters[1]
    best = strongest_cluster(clusters[1])
    assert session.strongest() == best
    assert session.token_time() == pytest.approx(float(record.frame_times[best.start]))
    assert session.highlighted_row() == 1
    assert session.highlighted_spans() == [(c.start, c.end) for c in clusters[1]]
    # The player plays the .pose at 24 fps: the record's seconds carry over, not its frame index.
    assert player_frame(session.token_time(), 24.0, 170) == int(round(record.frame_times[best.start] * 24))
    rows = session.token_rows()
    assert [r.token for r in rows] == list(record.tokens)
    assert rows[1].looks_at == session.span_text(best) and rows[1].looks_at.endswith(" s")
    assert rows[1].share == pytest.approx(float(record_contributions(record, 0).cross_share[1]))
    # In a decoder self-attention map nothing is boxed; in an encoder map the query row is outlined.
    session.set_view(kind="decoder_self")
    assert session.highlighted_spans() == [] and session.highlighted_row() == 1
    session.set_view(kind="encoder_self")
    assert session.select_query(40) and session.highlighted_row() == 40
    assert session.query_time() == pytest.approx(float(record.frame_times[40]))
    session.set_view(kind="cross")
    assert session.query_row is None and not session.select_query(3)


def test_a_record_that_does_not_fit_together_is_refused_and_the_old_one_kept(session, sign_record):
    broken = SimpleNamespace(**{k: getattr(sign_record, k) for k in (
        "model", "model_type", "input", "decoder_self", "cross", "decoder_self_values", "cross_values",
        "frame_times", "fps", "source_tokens", "decoding", "encoder_self")},
        tokens=["ONLY"], decoder_inputs=["<s>"])
    broken.validate = lambda: type(sign_record).validate(broken)
    session.select_token(1)
    with pytest.raises(ValueError):
        session.set_record(broken)
    with pytest.raises(ValueError):
        session.set_record("not a record")
    assert session.record is sign_record and session.token == 1


def test_a_text_models_record_has_source_tokens_for_columns(text_record):
    from signstudio.runtime.text import tokenize

    s = AttentionSession()
    s.set_record(text_record)
    assert s.text_model and not s.timed
    assert text_record.source_tokens == tokenize(SENTENCE)
    rows, cols = s.axes()
    assert cols.labels == text_record.source_tokens and cols.title == "source token"
    assert rows.labels == text_record.tokens
    s.select_token(1)
    assert s.token_time() is None  # nothing to play
    best = s.strongest(1)
    assert best.start <= best.peak <= best.end
    assert s.token_rows()[1].looks_at == text_record.source_tokens[best.peak]
    assert s.span_text(best) == " ".join(text_record.source_tokens[best.start:best.end + 1])
    last = len(text_record.cross) - 1
    assert s.default_name("view") == s.default_name() + f"_cross_layer{last}_mean"


@pytest.mark.parametrize("block", [None, 1])
def test_a_text_record_searches_as_the_translator_does(block):
    """The Attention tab shows the output Produce writes: same beam, length penalty and n-gram blocking."""
    from dataclasses import replace

    from signstudio.interpret.record import record_text
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.text import TextTranslator

    require_model(TEXT_MODEL)
    loaded = load_installed(TEXT_MODEL, backend="torch")
    if block is not None:
        loaded = replace(loaded, decoding=replace(loaded.decoding, no_repeat_ngram=block))
    record = record_text(loaded, SENTENCE)
    glosses = TextTranslator(loaded).translate_text(SENTENCE)
    assert record.tokens[:-1] == glosses and record.tokens[-1] == "</s>"
    assert record.decoding.endswith(loaded.decoding.search())
    if block == 1:
        assert len(set(glosses)) == len(glosses) and "no repeated 1-gram" in record.decoding


def test_default_file_names(session):
    session.set_view(head=2)
    assert session.default_name() == "mediapipe"
    assert session.default_name("view") == "mediapipe_cross_layer0_head2"


# --- policy --------------------------------------------------------------------------------------
def test_typed_input_is_told_apart(tmp_path):
    assert looks_like_glosses("MORGEN NORD REGEN") and looks_like_glosses("loc-NORD __OFF__ !")
    assert not looks_like_glosses(SENTENCE) and not looks_like_glosses("...")
    assert looks_like_path("clip.pose") and looks_like_path("rec.npz") and looks_like_path("a.txt")
    assert looks_like_path("/data/videos/human_signer.mp4")
    assert not looks_like_path(SENTENCE) and not looks_like_path("Es regnet. Im Norden/Süden auch")
    assert not looks_like_path("") and not looks_like_path("two\nlines.pose")
    assert not looks_like_path("x" * 5000 + ".")  # a name too long for the file system: a sentence
    existing = tmp_path / "no suffix here"
    existing.write_text("x")
    assert looks_like_path(str(existing))
    assert input_kind("clip.mp4") == "sign" and input_kind("sentence.txt") == "text"
    assert input_kind(SENTENCE) == "text" and input_kind("MORGEN REGEN") == "glosses"


def _info(name, task, origin="shipped"):
    return SimpleNamespace(name=name, task=task, origin=origin)


def test_models_are_offered_sign_first_default_first_then_text():
    models = [_info("b-text", "text-to-gloss"), _info("pose", "gloss-to-pose"), _info("a-sign", "sign-to-text"),
              _info("default", "sign-to-text"), _info("a-g2t", "gloss-to-text"),
              _info("a-sign", "sign-to-text", origin="user")]
    ordered = order_models(models, "default")
    assert [(m.name, m.origin) for m in ordered] == [
        ("default", "shipped"), ("a-sign", "user"), ("a-sign", "shipped"), ("a-g2t", "shipped"),
        ("b-text", "shipped")]
    assert all(m.task in ATTENTION_TASKS for m in ordered)


def test_the_model_that_fits_an_input_is_picked():
    choices = [("sign", "sign-to-text"), ("t2g", "text-to-gloss"), ("g2t", "gloss-to-text")]
    assert pick_model(choices, "text", "sign") == "t2g"
    assert pick_model(choices, "glosses", "sign") == "g2t"
    assert pick_model(choices, "sign", "t2g") == "sign"
    assert pick_model(choices, "text", "g2t") == "g2t"  # a text model fits text: kept
    assert pick_model(choices, "text", "sign", explicit="mine") == "mine"
    assert pick_model(choices, "text", None) is None  # the default model: the core decides
    assert pick_model([], "text", "sign") == "sign"  # nothing known about the models yet
    assert pick_model([("sign", "sign-to-text")], "text", "sign") == "sign"  # no text model: keep


def test_the_run_button_records_the_sentence_or_the_last_file():
    assert run_choice("Es regnet.", "text-to-gloss", "/x.pose") == ("text", "Es regnet.")
    assert run_choice("Es regnet.", "sign-to-text", "/x.pose") == ("path", "/x.pose")
    assert run_choice("  Es regnet. ", "sign-to-text", "") == ("text", "Es regnet.")
    assert run_choice("", "text-to-gloss", "/x.pose") == ("path", "/x.pose")
    assert run_choice("   ", None, "") is None
