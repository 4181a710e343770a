"""Attention records and SignAttention's analyses: constructed matrices with known answers, then
real runs of the shipped BOSTON-104 Signformer (skipped without the data folder)."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from signstudio.errors import InputError, ModelError
from signstudio.interpret import (
    attention_clusters,
    centroid_correlation,
    contributions,
    diagonal_score,
    export_csv,
    heatmap_png,
    load_record,
    record_attention,
    record_csv,
    record_file,
    record_heatmap_png,
    save_record,
    summarize,
    summarize_many,
)
from signstudio.interpret.analysis import monotonic_alignment, record_contributions, slope, spearman
from signstudio.models.layers import MultiHeadAttention
from signstudio.paths import PROJECT_ROOT


def blocks(sizes, order=None, total=None):
    """(U, T) rows uniform over consecutive frame blocks of ``sizes``; row u takes block order[u]."""
    edges = np.cumsum([0] + list(sizes))
    t = total or int(edges[-1])
    order = list(range(len(sizes))) if order is None else order
    a = np.zeros((len(sizes), t))
    for u, b in enumerate(order):
        a[u, edges[b] : edges[b + 1]] = 1.0 / sizes[b]
    return a


# --------------------------------------------------------------------------- diagonal


def test_a_perfect_diagonal_scores_one_even_with_uneven_signs():
    a = blocks([5, 12, 3, 20, 8])
    assert diagonal_score(a) == pytest.approx(1.0)
    assert centroid_correlation(a) == pytest.approx(1.0)
    path, captured = monotonic_alignment(a)
    assert captured == pytest.approx(5.0)
    assert path.tolist() == [0] * 5 + [1] * 12 + [2] * 3 + [3] * 20 + [4] * 8


def test_uniform_attention_scores_zero_and_has_no_centroid_order():
    a = np.full((6, 40), 1 / 40)
    assert diagonal_score(a) == pytest.approx(0.0, abs=1e-9)
    assert math.isnan(centroid_correlation(a))


def test_reversed_shuffled_and_identical_rows_score_low():
    sizes = [8] * 6
    anti = blocks(sizes, order=[5, 4, 3, 2, 1, 0])
    shuffled = blocks(sizes, order=[3, 0, 5, 1, 4, 2])
    same = np.tile(blocks(sizes)[2], (6, 1))
    assert diagonal_score(anti) < 0.1
    assert centroid_correlation(anti) == pytest.approx(-1.0)
    assert diagonal_score(shuffled) < 0.5
    assert diagonal_score(same) == pytest.approx(0.0, abs=1e-9)


def test_a_soft_diagonal_scores_high_and_heads_are_averaged():
    t = np.arange(60)
    a = np.stack([np.exp(-0.5 * ((t - c) / 3.0) ** 2) for c in (6, 18, 30, 42, 54)])
    a /= a.sum(1, keepdims=True)
    assert diagonal_score(a) > 0.8
    heads = np.stack([a, np.full_like(a, 1 / 60)])  # one aligned head, one uniform head
    assert diagonal_score(heads) == pytest.approx(diagonal_score(heads.mean(0)))
    assert 0.3 < diagonal_score(heads) < diagonal_score(a)


def test_diagonal_score_is_undefined_for_one_token_or_too_few_frames():
    assert math.isnan(diagonal_score(np.ones((1, 10)) / 10))
    assert math.isnan(diagonal_score(np.ones((5, 3)) / 3))


# --------------------------------------------------------------------------- clusters


def test_two_known_blocks_give_exactly_those_clusters():
    row = np.zeros(40)
    row[5:10] = 0.1
    row[20:25] = 0.1
    for method in ("peak", "mass"):
        (clusters,) = attention_clusters(row[None], method=method, mass=1.0)
        assert [(c.start, c.end, c.frames) for c in clusters] == [(5, 9, 5), (20, 24, 5)], method
        assert [c.mass for c in clusters] == pytest.approx([0.5, 0.5])
        assert all(c.token == 0 for c in clusters)


def test_clusters_per_token_peaks_gaps_and_empty_rows():
    a = np.zeros((3, 30))
    a[0, 10:15] = [0.1, 0.2, 0.4, 0.2, 0.1]  # one cluster; the 0.1 shoulders fall below half the peak
    a[1, [3, 4, 6, 7]] = 0.25  # a one-frame hole at 5
    out = attention_clusters(a, threshold=0.5)
    assert [(c.start, c.end, c.peak) for c in out[0]] == [(11, 13, 12)]
    assert out[0][0].mass == pytest.approx(0.8)
    assert [(c.start, c.end) for c in out[1]] == [(3, 7)]  # max_gap=1 bridges the hole
    assert [(c.start, c.end) for c in attention_clusters(a, max_gap=0)[1]] == [(3, 4), (6, 7)]
    assert out[2] == []
    assert len(attention_clusters(np.stack([a, a]))) == 3  # (H, U, T) is averaged over heads
    with pytest.raises(ValueError):
        attention_clusters(a, method="nope")


# --------------------------------------------------------------------------- contributions


def test_contributions_use_value_norms_and_shares_sum_to_one():
    u, t = 4, 6
    self_w = np.tril(np.ones((u, u)))
    self_w /= self_w.sum(1, keepdims=True)
    self_v = np.tile([3.0, 0.0], (u, 1))  # every previous token contributes the vector (3, 0)
    cross_w = np.full((u, t), 1 / t)
    cross_v = np.tile([0.0, 4.0], (t, 1))
    c = contributions(self_w, self_v, cross_w, cross_v)
    assert c.self_norm == pytest.approx([3.0] * u)
    assert c.cross_norm == pytest.approx([4.0] * u)
    assert c.cross_share == pytest.approx([4 / 7] * u)
    assert c.cross_share + c.self_share == pytest.approx(np.ones(u))
    # The same weights on vectors that cancel contribute nothing: norms, not weights, decide.
    cancel = np.array([[1.0, 0.0], [-1.0, 0.0]] * (t // 2))
    assert contributions(self_w, self_v, cross_w, cancel).cross_share == pytest.approx([0.0] * u)
    # Heads are summed as vectors before the norm: two opposite heads cancel too.
    two = contributions(np.stack([self_w, self_w]), np.stack([self_v, -self_v]), np.stack([cross_w, cross_w]),
                        np.stack([cross_v, cross_v]))
    assert two.self_norm == pytest.approx([0.0] * u) and two.cross_share == pytest.approx([1.0] * u)


def test_transformed_values_reproduce_the_attention_output():
    torch.manual_seed(0)
    attn = MultiHeadAttention(16, 4).eval()
    q, k = torch.randn(2, 5, 16), torch.randn(2, 7, 16)
    with torch.no_grad():
        out, w = attn(q, k)
        f = attn.transformed_values(k)  # (B, H, Tk, D)
    assert f.shape == (2, 4, 7, 16)
    rebuilt = torch.einsum("bhqk,bhkd->bqd", w, f) + attn.out_proj.bias
    assert torch.allclose(out, rebuilt, atol=1e-5)


def test_slope_and_spearman():
    assert slope([0.8, 0.6, 0.4, 0.2]) == pytest.approx(-0.2)
    assert math.isnan(slope([1.0]))
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_heatmap_and_csv_from_a_plain_matrix(tmp_path):
    a = blocks([3, 4, 5])
    png = heatmap_png(a, ["A", "B", "C"], tmp_path / "m.png", frame_times=np.arange(12) / 30, title="t")
    with Image.open(png) as im:
        assert im.format == "PNG" and im.width > 12 and im.height > 3 * 10
    csv_path = export_csv(a, ["A", "B", "C"], None, tmp_path / "m.csv")
    lines = csv_path.read_text().splitlines()
    assert lines[0].split(",") == ["token"] + [str(i) for i in range(12)]
    assert lines[2].startswith("B,0,0,0,0.25")
    with pytest.raises(ValueError):
        heatmap_png(a, ["A"], tmp_path / "bad.png")


# --------------------------------------------------------------------------- real model runs


@pytest.fixture(scope="module")
def boston(request):
    """The shipped Signformer and two BOSTON-104 test sentences' features (skips without data)."""
    from signstudio.paths import data_dir

    if not (data_dir() / "boston104").is_dir():
        pytest.skip("BOSTON-104 is not in the data folder (set SIGNSTUDIO_DATA)")
    model_path = PROJECT_ROOT / "models" / "boston104-signformer"
    if not (model_path / "model.pt").is_file():
        pytest.skip("the shipped boston104-signformer model is missing")
    from signstudio.data.batching import example_features
    from signstudio.data.datasets import load_splits
    from signstudio.runtime.checkpoint import load_model

    test = load_splits("boston104")["test"]
    examples = [test[0], max(test[:10], key=lambda e: len(e.glosses))]
    return SimpleNamespace(loaded=load_model(model_path), examples=examples,
                           features=[example_features(e) for e in examples])


@pytest.fixture(scope="module")
def record(boston):
    return record_attention(boston.loaded, boston.features[0], input_name=boston.examples[0].id)


def test_record_shapes_and_distributions(boston, record):
    cfg = boston.loaded.model.config
    t = len(boston.features[0])
    u = len(record.tokens)
    assert record.tokens[-1] == "</s>" and record.decoder_inputs[0] == "<s>"
    assert record.decoder_inputs[1:] == record.tokens[:-1]
    assert [a.shape for a in record.encoder_self] == [(cfg.num_heads, t, t)] * cfg.encoder_layers
    assert [a.shape for a in record.decoder_self] == [(cfg.num_heads, u, u)] * cfg.decoder_layers
    assert [a.shape for a in record.cross] == [(cfg.num_heads, u, t)] * cfg.decoder_layers
    assert record.cross_values[0].shape == (cfg.num_heads, t, cfg.d_model)
    assert record.decoder_self_values[0].shape == (cfg.num_heads, u, cfg.d_model)
    for a in record.encoder_self + record.decoder_self + record.cross:
        assert np.allclose(a.sum(-1), 1.0, atol=1e-4)
    assert np.allclose(np.triu(record.decoder_self[0], 1), 0.0)  # causal
    assert record.frame_times == pytest.approx(np.arange(t) / 30.0)
    assert record.fps == 30.0 and record.model == "boston104-signformer"


def test_teacher_forced_rows_are_what_each_decoding_step_attended(boston, record):
    model = boston.loaded.model
    vocab = boston.loaded.text_vocab
    ids = [vocab.stoi[s] for s in record.decoder_inputs]
    with torch.no_grad():
        memory, mask = model.encode(torch.from_numpy(boston.features[0])[None], torch.tensor([len(boston.features[0])]))
        for u in range(len(ids)):
            _, ws, wc = model.decode_step(torch.tensor([ids[: u + 1]]), memory, mask, return_attention=True)
            assert np.allclose(wc[0][0, :, -1].numpy(), record.cross[0][:, u], atol=1e-5)
            assert np.allclose(ws[0][0, :, -1].numpy(), record.decoder_self[0][:, u, : u + 1], atol=1e-5)


def test_forced_output_and_summaries(boston):
    ex = boston.examples[1]
    rec = record_attention(boston.loaded, boston.features[1], target=list(ex.glosses))
    assert rec.tokens == list(ex.glosses) + ["</s>"] and rec.decoding == "forced"
    s = summarize(rec)
    assert s["tokens"] == list(ex.glosses)  # the </s> step is left out
    assert len(s["clusters"]) == len(ex.glosses)
    assert all(0 <= x <= 1 for x in s["cross_share"][0])
    assert s["diagonal_score"][0] is None or 0 <= s["diagonal_score"][0] <= 1
    shares = record_contributions(rec)
    assert shares.cross_share + shares.self_share == pytest.approx(np.ones(len(rec.tokens)))
    many = summarize_many([rec, rec])
    assert many["n"] == 2 and many["steps_n"][0][0] == 2
    json.dumps(s), json.dumps(many)  # JSON-ready


def test_save_load_round_trip_and_plots(tmp_path, record):
    path = save_record(record, tmp_path / "att.npz")
    back = load_record(path)
    assert back.tokens == record.tokens and back.decoder_inputs == record.decoder_inputs
    assert back.model == record.model and back.fps == record.fps and back.input == record.input
    for kind in ("encoder_self", "decoder_self", "cross", "decoder_self_values", "cross_values"):
        for a, b in zip(getattr(record, kind), getattr(back, kind)):
            assert np.array_equal(a, b)
    assert np.array_equal(back.frame_times, record.frame_times)
    with np.load(path) as npz:
        header = json.loads(str(npz["header"]))
    assert header["format"] == "signstudio-attention" and header["version"] == 1
    assert header["shapes"]["cross"] == [list(record.cross[0].shape)]
    png = record_heatmap_png(back, tmp_path / "att.png")
    with Image.open(png) as im:
        assert im.format == "PNG"
    record_heatmap_png(back, tmp_path / "self.png", kind="decoder_self", head=0)
    lines = record_csv(back, tmp_path / "att.csv").read_text().splitlines()
    assert len(lines) == len(record.tokens) + 1
    assert len(lines[0].split(",")) == record.num_frames + 1 and lines[0].split(",")[2] == "0.033"


def test_foreign_corrupt_and_missing_records_are_one_line_errors(tmp_path, record):
    np.savez(tmp_path / "foreign.npz", x=np.zeros(3))
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    path = save_record(record, tmp_path / "ok.npz")
    (tmp_path / "cut.npz").write_bytes(path.read_bytes()[:200])
    with np.load(path) as npz:
        arrays = dict(npz)
    header = json.loads(str(arrays["header"]))
    np.savez(tmp_path / "v9.npz", **{**arrays, "header": np.array(json.dumps({**header, "version": 9}))})
    np.savez(tmp_path / "short.npz", **{k: v for k, v in arrays.items() if k != "cross_0"})
    for name, words in [("foreign.npz", "not a SignStudio"), ("junk.npz", "not a readable"),
                        ("cut.npz", "not a readable"), ("v9.npz", "version 9"), ("short.npz", "missing cross_0"),
                        ("absent.npz", "no such file")]:
        with pytest.raises(InputError, match=words) as err:
            load_record(tmp_path / name)
        assert "\n" not in str(err.value)


def test_models_without_cross_attention_are_refused(tmp_path, boston):
    from signstudio.models.registry import build_model
    from signstudio.runtime.checkpoint import load_model, save_model

    ctc = build_model("signformer", dict(input_dim=12, d_model=16, num_heads=2, decoder_layers=0, ff_dim=16,
                                         gloss_vocab_size=10))
    save_model(tmp_path / "ctc.pt", name="ctc", model_type="signformer", model=ctc, gloss_vocab=None,
               text_vocab=None, features={"kind": "hand_nose_tracks"}, metrics={}, config={})
    with pytest.raises(ModelError, match="no translation decoder"):
        record_attention(load_model(tmp_path / "ctc.pt"), boston.features[0])
    with pytest.raises(ModelError, match="signllm"):
        record_attention(SimpleNamespace(name="x", model_type="signllm", model=torch.nn.Linear(1, 1)), [])
    with pytest.raises(InputError, match="shape"):
        record_attention(boston.loaded, np.zeros((10, 5), dtype=np.float32))


def test_text_transformer_records_source_tokens(tmp_path):
    from signstudio.data.vocabulary import Vocabulary
    from signstudio.models.registry import build_model
    from signstudio.runtime.checkpoint import load_model, save_model

    torch.manual_seed(0)
    text = Vocabulary(["heute", "regen", "wetter"])
    gloss = Vocabulary(["<gsg>", "HEUTE", "REGEN"])
    model = build_model("text-transformer", dict(src_vocab_size=len(text), tgt_vocab_size=len(gloss), d_model=16,
                                                 num_heads=2, encoder_layers=1, decoder_layers=2, ff_dim=16,
                                                 max_output_length=6))
    features = {"kind": "tokens", "direction": "text2gloss", "language": "gsg", "source": "text",
                "target": "gloss", "bos": "<gsg>"}
    save_model(tmp_path / "t2g.pt", name="t2g", model_type="text-transformer", model=model, gloss_vocab=gloss,
               text_vocab=text, features=features, metrics={}, config={})
    loaded = load_model(tmp_path / "t2g.pt")
    rec = record_attention(loaded, ["heute", "regen"])
    assert rec.source_tokens == ["heute", "regen"] and rec.frame_times is None and rec.decoder_inputs[0] == "<gsg>"
    assert len(rec.cross) == 2 and rec.cross[0].shape == (2, len(rec.tokens), 2)
    back = load_record(save_record(rec, tmp_path / "t.npz"))
    assert back.frame_times is None and back.source_tokens == ["heute", "regen"]
    record_heatmap_png(back, tmp_path / "t.png")
    assert record_csv(back, tmp_path / "t.csv").read_text().splitlines()[0] == "token,heute,regen"
    (tmp_path / "in.txt").write_text("Heute Regen!\n")
    assert record_file(tmp_path / "in.txt", str(tmp_path / "t2g.pt")).source_tokens == ["heute", "regen", "!"]


def test_record_file_on_a_holistic_pose(boston):
    from signstudio.paths import data_dir

    pose = data_dir() / "poses" / "mediapipe.pose"
    if not pose.is_file():
        pytest.skip("no poses/mediapipe.pose in the data folder")
    rec = record_file(pose, "boston104-signformer")
    assert rec.input == str(pose) and rec.num_frames > 10 and rec.tokens[-1] == "</s>"
    with pytest.raises(InputError, match="no such file"):
        record_file(pose.with_name("absent.pose"), "boston104-signformer")


def test_attention_command_writes_record_png_and_csv_from_a_real_pose(tmp_path, boston, capsys):
    from signstudio.cli import main
    from signstudio.paths import data_dir

    pose = data_dir() / "poses" / "mediapipe.pose"
    if not pose.is_file():
        pytest.skip("no poses/mediapipe.pose in the data folder")
    out, png, csv = tmp_path / "a.npz", tmp_path / "a.png", tmp_path / "a.csv"
    assert main(["attention", str(pose), "-m", "boston104-signformer", "-o", str(out), "--png", str(png),
                 "--csv", str(csv), "--head", "1", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    rec = load_record(out)
    assert payload["tokens"] == rec.tokens[:-1] and payload["frames"] == rec.num_frames
    assert Image.open(png).size[0] > 200
    assert len(csv.read_text().strip().splitlines()) == rec.num_steps + 1  # header + one row per token
    assert main(["attention", str(pose), "-m", "boston104-signformer", "-o", str(out), "--head", "9"]) == 2
    assert main(["attention", str(pose), "-m", "boston104-signformer", "-o", str(tmp_path / "a.txt")]) == 2
    assert "head 9" in capsys.readouterr().err


def test_study_split_reports_the_three_findings_with_a_shuffled_baseline(boston):
    from signstudio.interpret.study import study_split

    res = study_split(boston.loaded, "test")
    assert res["n"] == 40 and res["split"] == "test" and not res["forced"]
    assert len(res["diagonal_baseline"]) == len(res["diagonal_score"]) == 1
    assert 0 <= res["diagonal_baseline"][0] <= 1 and 0 <= res["diagonal_score"][0] <= 1
    assert res["clusters_per_token"] >= 1 and 0 <= res["single_frame_cluster_fraction"] <= 1
    assert all(0 <= s <= 1 for s in res["cross_share_by_step"][0] if s is not None)
    forced = study_split(boston.loaded, "test", forced=True)
    assert forced["forced"] and forced["tokens_mean"] > res["tokens_mean"]  # references are longer than outputs
    with pytest.raises(InputError, match="unknown split"):
        study_split(boston.loaded, "validation")
