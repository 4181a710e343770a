"""The Attention tab, offscreen (pytest-qt): real records of the shipped models on real data.

A record is made once per module from ``poses/mediapipe.pose`` (a real MediaPipe Holistic pose,
170 frames at 24 fps; the record's features are resampled to 30 fps, 212 frames) with the
installed ``boston104-signformer``; tests that need it skip without the data folder or the model.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PIL import Image  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from signstudio.gui.attention import AttentionTab  # noqa: E402
from signstudio.interpret import (attention_clusters, load_record, record_csv,  # noqa: E402
                                  record_heatmap_png, summarize)
from signstudio.interpret.analysis import record_contributions  # noqa: E402
from signstudio.interpret.session import attention_matrix, player_frame  # noqa: E402

from helpers import require_data_file, require_model  # noqa: E402  (tests/ is on sys.path under pytest)

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("no_leaked_widgets")]

JOB_TIMEOUT_MS = 60_000
SIGN_MODEL = "boston104-signformer"
TEXT_MODEL = "phoenix14t-text2gloss"
SENTENCE = "Morgen regnet es im Norden, im Süden scheint die Sonne."


def _drawn_labels(axis) -> list[str]:
    """The tick texts pyqtgraph would draw on ``axis`` now (it skips any that do not fit)."""
    from PySide6.QtGui import QPainter, QPicture

    picture = QPicture()
    painter = QPainter(picture)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _, _, text in (specs[2] if specs else [])]


def test_every_row_label_is_drawn_and_long_ones_are_elided(shown_widgets, qtbot):
    """The left axis is as wide as its longest label before the first paint (pyqtgraph widens it
    only after drawing, and dropped the first row's label), and a very long label is elided."""
    from signstudio.gui.attention.plots import AttentionHeatmap, LabelAxis
    from signstudio.interpret.session import Axis

    heatmap = shown_widgets(AttentionHeatmap)
    tokens = ["MORGEN", "NORD", "REGEN", "SUED", "SONNE", "</s>"]
    heatmap.set_matrix(np.random.default_rng(0).random((6, 5)), Axis(6, tokens, title="output"),
                       Axis(5, ["morgen", "regnet", "es", "im", "norden"], title="source"))
    qtbot.wait(20)  # the axes follow the view's range once events run
    assert _drawn_labels(heatmap.left_axis) == tokens
    long = "DONNERSTAG" * 12
    heatmap.set_matrix(np.ones((2, 2)), Axis(2, [long, "</s>"]), Axis(2, ["a", "b"]))
    qtbot.wait(20)
    drawn = _drawn_labels(heatmap.left_axis)
    assert len(drawn) == 2 and drawn[1] == "</s>"
    assert drawn[0].startswith("DONNERSTAG") and drawn[0].endswith("…") and len(drawn[0]) < len(long)
    assert heatmap.left_axis.width() < LabelAxis.MAX_TEXT_WIDTH + 60


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pose_path():
    """The real Holistic pose ``poses/mediapipe.pose`` (skips without the data folder)."""
    return require_data_file("poses", "mediapipe.pose")


@pytest.fixture(scope="module")
def sign_record(pose_path):
    """``(record, pose)``: boston104-signformer's attention on mediapipe.pose, and the pose."""
    from signstudio.interpret import record_file
    from signstudio.pose.io import read_pose

    require_model(SIGN_MODEL)
    return record_file(pose_path, SIGN_MODEL), read_pose(pose_path)


@pytest.fixture
def make_tab(shown_widgets):
    """``make_tab()``: a shown 1280x800 AttentionTab, shut down and deleted after the test."""
    return lambda: shown_widgets(AttentionTab)


@pytest.fixture
def shown(make_tab, sign_record, pose_path):
    """A tab showing the real sign record with its pose in the player."""
    record, pose = sign_record
    tab = make_tab()
    assert tab.load_record_object(record, pose_path, pose=pose)
    return tab


def _run_and_wait(qtbot, tab, *args, timeout=JOB_TIMEOUT_MS):
    with qtbot.waitSignal(tab.idle, timeout=timeout):
        assert tab.run(*args)


def _click_token(qtbot, tab, row: int) -> None:
    item = tab.token_list.topLevelItem(row)
    rect = tab.token_list.visualItemRect(item)
    qtbot.mouseClick(tab.token_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _click_cell(qtbot, tab, row: int, col: int) -> None:
    pos = tab.heatmap.view_point(row, col)
    qtbot.mouseClick(tab.heatmap.viewport(), Qt.MouseButton.LeftButton, pos=pos)


# --- pure helpers --------------------------------------------------------------------------------
def test_player_frame_converts_record_seconds_at_the_clip_rate():
    assert player_frame(0.8, 24.0, 170) == 19  # record frame 24 at 30 fps = 0.8 s
    assert player_frame(14 / 30, 24.0, 170) == 11
    assert player_frame(-1.0, 24.0, 170) == 0
    assert player_frame(99.0, 24.0, 170) == 169
    assert player_frame(1.0, 24.0, 0) == 0


def test_typed_input_is_told_apart():
    from signstudio.interpret.session import looks_like_glosses as _looks_like_glosses
    from signstudio.interpret.session import looks_like_path as _looks_like_path

    assert _looks_like_glosses("MORGEN NORD REGEN") and _looks_like_glosses("loc-NORD __OFF__ !")
    assert not _looks_like_glosses(SENTENCE) and not _looks_like_glosses("...")
    assert _looks_like_path("clip.pose") and _looks_like_path("rec.npz")
    assert _looks_like_path("/data/videos/human_signer.mp4")
    assert not _looks_like_path(SENTENCE) and not _looks_like_path("Es regnet. Im Norden/Süden auch")


# --- a real record ---------------------------------------------------------------------------------
def test_the_heatmap_shows_tokens_by_frames_of_a_real_record(shown, sign_record):
    tab = shown
    record, pose = sign_record
    assert tab.record() is record
    assert tab.view() == ("cross", len(record.cross) - 1, None)
    shown_matrix = tab.displayed_matrix()
    assert shown_matrix.shape == (record.num_steps, record.num_frames) == (len(record.tokens), 212)
    np.testing.assert_allclose(shown_matrix, record.cross[-1].mean(axis=0), rtol=1e-6)
    # Axes: the tokens label the rows; the columns are seconds (212 frames at 30 fps = 7.07 s).
    assert tab.heatmap.left_axis.labels() == list(record.tokens)
    assert tab.heatmap.bottom_axis.labels() is None
    rows, cols = tab.heatmap.axes()
    assert cols.step == pytest.approx(1 / 30) and cols.n * cols.step == pytest.approx(212 / 30)
    assert tab.heatmap.colorbar.levels() == pytest.approx((0.0, float(shown_matrix.max())))
    # The analyses match the core's summary of the same layer (mean of heads, </s> left out).
    summary = summarize(record, -1)
    assert tab.diagonal_score() == pytest.approx(summary["diagonal_score"][-1], abs=1e-4)
    assert f"{summary['diagonal_score'][-1]:.2f}" in tab.diagonal_label.text()
    np.testing.assert_allclose(tab.contribution.shares(), record_contributions(record, -1).cross_share)
    # The token list has one row per decoding step, the first selected; the clip is in the player.
    assert tab.token_list.topLevelItemCount() == record.num_steps
    assert tab.current_token() == 0 and tab.heatmap.highlighted_row() == 0
    assert tab.player.frame_count() == pose.body.data.shape[0] == 170
    assert tab.pose_fps() == pytest.approx(24.0)
    assert "JOHN" in tab.summary_label.text() and tab.error_text() == ""


def test_switching_kind_layer_and_head_shows_the_right_array(shown, sign_record, qtbot):
    tab = shown
    record, _pose = sign_record
    heads = record.num_heads
    # Head 2 of the cross-attention (the user picks it in the selector).
    tab.head_combo.setCurrentIndex(tab.head_combo.findData(2))
    assert tab.view() == ("cross", 0, 2)
    np.testing.assert_array_equal(tab.displayed_matrix(), record.cross[0][2])
    # Decoder self-attention: tokens x decoder inputs, lower triangular.
    tab.kind_combo.setCurrentIndex(tab.kind_combo.findData("decoder_self"))
    np.testing.assert_array_equal(tab.displayed_matrix(), record.decoder_self[0][2])
    assert tab.heatmap.bottom_axis.labels() == list(record.decoder_inputs)
    assert np.allclose(np.triu(tab.displayed_matrix(), 1), 0)
    # Encoder self-attention has its own layers (2): the layer index is kept, then layer 1, 0.
    tab.kind_combo.setCurrentIndex(tab.kind_combo.findData("encoder_self"))
    assert tab.layer_combo.count() == len(record.encoder_self) == 2
    assert tab.view() == ("encoder_self", 0, 2)
    np.testing.assert_array_equal(tab.displayed_matrix(), record.encoder_self[0][2])
    tab.layer_combo.setCurrentIndex(1)
    assert tab.view() == ("encoder_self", 1, 2)
    np.testing.assert_array_equal(tab.displayed_matrix(), record.encoder_self[1][2])
    assert not np.array_equal(record.encoder_self[1][2], record.encoder_self[0][2])
    tab.layer_combo.setCurrentIndex(0)
    np.testing.assert_array_equal(tab.displayed_matrix(), record.encoder_self[0][2])
    for h in range(heads):
        tab.set_view(head=h)
        np.testing.assert_array_equal(tab.displayed_matrix(), record.encoder_self[0][h])
    tab.set_view(head=None)
    np.testing.assert_allclose(tab.displayed_matrix(), record.encoder_self[0].mean(axis=0), rtol=1e-6)
    assert tab.displayed_matrix().shape == (record.num_frames, record.num_frames)
    # Back to cross-attention: one decoder layer, so the layer selector shows it again.
    tab.set_view(kind="cross", head=3)
    assert tab.view() == ("cross", 0, 3)
    np.testing.assert_array_equal(tab.displayed_matrix(), attention_matrix(record, "cross", 0, 3))
    assert tab.heatmap.left_axis.labels() == list(record.tokens)
    with pytest.raises(ValueError):
        tab.set_view(head=heads)


def test_clicking_a_token_moves_the_player_to_its_strongest_cluster(shown, sign_record, qtbot):
    tab = shown
    record, pose = sign_record
    tab.set_view(head=3)  # a head whose tokens look at different frames
    clusters = attention_clusters(record.cross[0][3])
    fps = float(pose.body.fps)
    expected = []
    for row in clusters:
        best = max(row, key=lambda c: c.mass)
        expected.append((best, int(round(record.frame_times[best.start] * fps))))
    assert len({frame for _, frame in expected}) > 1  # otherwise the test would prove little

    # Click token 1 in the list: the player goes to its cluster, the row is outlined.
    with qtbot.waitSignal(tab.token_selected, timeout=2000):
        _click_token(qtbot, tab, 1)
    best, frame = expected[1]
    assert tab.current_token() == 1
    assert tab.player_position() == frame
    assert tab.heatmap.highlighted_row() == 1
    assert (best.start, best.end) in tab.heatmap.cluster_spans()
    assert tab.contribution.band.isVisible()
    assert tab.token_list.currentItem() is tab.token_list.topLevelItem(1)
    assert f"{record.frame_times[best.start]:.2f}" in tab.cluster_label.text()

    # Click row 0 in the heatmap (anywhere in the row): same rule.
    _click_cell(qtbot, tab, 0, record.num_frames // 2)
    assert tab.current_token() == 0
    assert tab.player_position() == expected[0][1]
    assert tab.token_list.currentItem() is tab.token_list.topLevelItem(0)

    # Playing on moves the time cursor over the heatmap (frame / clip fps, in seconds).
    tab.player.show_frame(48)
    assert tab.heatmap.cursor.isVisible()
    assert tab.heatmap.cursor.value() == pytest.approx(48 / fps)


def test_png_and_csv_export_write_the_matrix_shown(shown, sign_record, qtbot, tmp_path):
    tab = shown
    record, _pose = sign_record
    tab.set_view(kind="cross", head=1)
    png, csv_path = tmp_path / "view.png", tmp_path / "view.csv"
    with qtbot.waitSignal(tab.exported, timeout=JOB_TIMEOUT_MS) as blocker:
        assert tab.export_png_to(png)
    assert blocker.args == [str(png)]
    with qtbot.waitSignal(tab.exported, timeout=JOB_TIMEOUT_MS):
        assert tab.export_csv_to(csv_path)
    # The PNG is the core's heatmap of exactly this view.
    reference = record_heatmap_png(record, tmp_path / "reference.png", kind="cross", layer=0, head=1)
    assert png.read_bytes() == reference.read_bytes()
    with Image.open(png) as img:
        assert img.width > 400 and img.height > 100
    # The CSV: a header of frame times, then one row per token with the shown weights.
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert rows[0][0] == "token" and len(rows[0]) == record.num_frames + 1
    assert rows[0][1:3] == ["0.000", "0.033"]
    assert [r[0] for r in rows[1:]] == list(record.tokens)
    values = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    np.testing.assert_allclose(values, tab.displayed_matrix(), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(values, record.cross[0][1], rtol=1e-5, atol=1e-9)
    assert csv_path.read_bytes() == record_csv(record, tmp_path / "r.csv", "cross", 0, 1).read_bytes()
    assert "Saved to" in tab.banner.text() and tab.error_text() == ""


def test_save_record_then_open_it_finds_its_clip(make_tab, shown, sign_record, qtbot, tmp_path):
    record, _pose = sign_record
    path = tmp_path / "rec.npz"
    with qtbot.waitSignal(shown.exported, timeout=JOB_TIMEOUT_MS):
        assert shown.save_record_to(path)
    again = load_record(path)
    assert again.tokens == record.tokens
    for a, b in zip(again.cross, record.cross):
        np.testing.assert_array_equal(a, b)

    tab = make_tab()
    with qtbot.waitSignal(tab.source_loaded, timeout=JOB_TIMEOUT_MS):
        assert tab.open_record(path)
    qtbot.waitUntil(lambda: not tab.is_busy(), timeout=JOB_TIMEOUT_MS)
    assert tab.record().tokens == record.tokens
    np.testing.assert_allclose(tab.displayed_matrix(), record.cross[0].mean(axis=0), rtol=1e-6)
    assert tab.player.frame_count() == 170  # the record's input, mediapipe.pose, was found
    assert tab.error_text() == ""


def test_a_bad_input_file_shows_a_banner_and_keeps_the_record(shown, sign_record, qtbot, tmp_path,
                                                              capfd):
    tab = shown
    record, _pose = sign_record
    tab.set_view(head=2)
    before = tab.displayed_matrix()
    bad = tmp_path / "broken.pose"
    bad.write_bytes(b"this is not a pose file")
    _run_and_wait(qtbot, tab, bad, SIGN_MODEL)
    message = tab.error_text()
    assert "broken.pose" in message and "\n" not in message
    assert tab.record() is record
    assert tab.view() == ("cross", 0, 2)
    np.testing.assert_array_equal(tab.displayed_matrix(), before)
    assert tab.player.frame_count() == 170 and not tab.is_busy()
    assert "Traceback" not in capfd.readouterr().err

    # A CTC-only Signformer (no decoder, so no cross-attention): refused before any work.
    from signstudio.models.registry import build_model
    from signstudio.runtime.checkpoint import save_model

    ctc = build_model("signformer", dict(input_dim=12, d_model=16, num_heads=2, decoder_layers=0,
                                         ff_dim=16, gloss_vocab_size=10))
    save_model(tmp_path / "ctc.pt", name="ctc-only", model_type="signformer", model=ctc,
               gloss_vocab=None, text_vocab=None, features={"kind": "hand_nose_tracks"}, metrics={},
               config={})
    _run_and_wait(qtbot, tab, tab.record().input, str(tmp_path / "ctc.pt"))
    assert "no translation decoder (CTC only)" in tab.error_text()
    assert "\n" not in tab.error_text() and tab.record() is record
    # A model whose attention cannot be recorded: a readable line too.
    require_model("phoenix14t-signllm")
    _run_and_wait(qtbot, tab, tab.record().input, "phoenix14t-signllm")
    assert "attention can be recorded for" in tab.error_text()
    assert tab.record() is record
    # A sign file given to a text model says which model to pick.
    require_model(TEXT_MODEL)
    _run_and_wait(qtbot, tab, tab.record().input, TEXT_MODEL)
    assert "sign-to-text model" in tab.error_text()
    assert tab.record() is record and "Traceback" not in capfd.readouterr().err


def test_cancel_keeps_the_view(shown, sign_record, qtbot, data_dir):
    tab = shown
    record, _pose = sign_record
    video = data_dir / "videos" / "human_signer.mp4"
    if not video.is_file():
        pytest.skip(f"{video} is missing")
    with qtbot.waitSignal(tab.idle, timeout=JOB_TIMEOUT_MS):
        assert tab.run(video, SIGN_MODEL)
        assert tab.is_busy() and tab.cancel_button.isEnabled()
        tab.token_list.setFocus()
        qtbot.keyClick(tab.token_list, Qt.Key.Key_Escape)  # Esc cancels
    assert tab.record() is record and not tab.is_busy()
    assert "Cancelled" in tab.status_label.text()
    assert tab.error_text() == ""


def test_a_german_sentence_with_the_text_model(make_tab, qtbot):
    require_model(TEXT_MODEL)
    from signstudio.runtime.text import tokenize

    tab = make_tab()
    qtbot.waitUntil(tab.models_ready, timeout=JOB_TIMEOUT_MS)
    names = [tab.model_combo.itemData(i) for i in range(tab.model_combo.count())]
    assert TEXT_MODEL in names and "phoenix14t-signllm" not in names  # no attention to record
    if SIGN_MODEL in names:
        assert names[0] == SIGN_MODEL  # the default sign model first, then text models
    # A sentence with no model named: the tab picks a text-to-gloss model for it.
    _run_and_wait(qtbot, tab, SENTENCE)
    assert tab.error_text() == ""
    record = tab.record()
    assert tab.selected_model() == record.model
    assert tab.models.task_of(record.model) == "text-to-gloss"
    assert tab.model_combo.itemData(tab.model_combo.currentIndex()) == record.model
    if record.model != TEXT_MODEL:  # another text model installed first: record with ours
        _run_and_wait(qtbot, tab, SENTENCE, TEXT_MODEL)
        record = tab.record()
    assert record.model == TEXT_MODEL and record.frame_times is None
    assert record.source_tokens == tokenize(SENTENCE)
    assert record.tokens[-1] == "</s>" and len(record.tokens) >= 2
    matrix = tab.displayed_matrix()
    assert matrix.shape == (len(record.tokens), len(record.source_tokens))
    np.testing.assert_allclose(matrix, record.cross[-1].mean(axis=0), rtol=1e-6)
    # Columns are the source words; there is no clip, the source sentence is shown instead.
    assert tab.heatmap.bottom_axis.labels() == record.source_tokens
    assert tab.heatmap.left_axis.labels() == record.tokens
    assert _drawn_labels(tab.heatmap.left_axis) == record.tokens  # the first row's too
    assert tab.clip_stack.currentWidget() is tab.source_view
    assert not tab.player.has_clip()
    assert tab.token_list.headerItem().text(3) == "From source"
    # Clicking a token shades the source word it attends most.
    _click_token(qtbot, tab, 1)
    assert tab.current_token() == 1
    top = record.source_tokens[int(np.argmax(record.cross[-1].mean(axis=0)[1]))]
    assert top in tab.source_view.text()
    assert tab.sentence_edit.text() == SENTENCE


@pytest.mark.slow
def test_a_real_video_records_and_plays_its_frames(make_tab, qtbot, data_dir):
    require_model(SIGN_MODEL)
    video = data_dir / "videos" / "human_signer.mp4"
    if not video.is_file():
        pytest.skip(f"{video} is missing")
    tab = make_tab()
    _run_and_wait(qtbot, tab, video, SIGN_MODEL, timeout=300_000)
    assert tab.error_text() == ""
    record = tab.record()
    assert record.input == str(video)
    assert tab.displayed_matrix().shape == (record.num_steps, record.num_frames)
    # The player plays the video's own frames (kept while MediaPipe ran) at the video's rate.
    assert tab.player.has_clip() and len(tab.player.cache) > 0
    assert tab.player.view.frame().image is not None
    duration = tab.player.frame_count() / tab.pose_fps()
    assert record.num_frames / record.fps == pytest.approx(duration, abs=0.1)


def test_screenshot_of_a_real_record(make_tab, sign_record, pose_path, qtbot):
    """Renders the tab at 1280x800 to /tmp/attention_tab.png (for a human to look at)."""
    record, pose = sign_record
    tab = make_tab()
    tab.resize(1280, 800)
    assert tab.load_record_object(record, pose_path, pose=pose)
    tab.set_view(head=3)
    tab.select_token(1)
    qtbot.wait(200)
    image = tab.grab()
    assert image.width() == 1280 and image.height() == 800
    assert image.save("/tmp/attention_tab.png")
