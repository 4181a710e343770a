"""Issue 12: the Signformer family (Signformer, SignAttention) exported to ONNX decodes the
BOSTON-104 test set exactly as PyTorch does, with the searches shared between the two."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from signstudio.paths import PROJECT_ROOT

MODELS = PROJECT_ROOT / "models"
NAMES = ("boston104-signformer", "boston104-signattention")
#: The test WER on each model card (models/<name>/README.md).
CARD_WER = {"boston104-signformer": 0.348, "boston104-signattention": 0.775}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Copies of both shipped BOSTON-104 models, each exported (fp32) beside its checkpoint."""
    from signstudio.export.onnx import export_model

    root = tmp_path_factory.mktemp("onnx-signformer")
    out = {}
    for name in NAMES:
        if not (MODELS / name / "model.pt").is_file():
            pytest.skip(f"{name} is not shipped")
        shutil.copytree(MODELS / name, root / name, ignore=shutil.ignore_patterns("onnx", "onnx-int8"))
        result = export_model(root / name)
        assert set(result.graphs) == {"encoder", "decoder_step"}  # both have a translation decoder
        assert max(result.max_abs_diff.values()) <= 1e-4
        out[name] = root / name
    return out


@pytest.fixture(scope="module")
def boston_test(exported):
    from signstudio.runtime.evaluate import sign_splits
    from signstudio.runtime.installed import load_installed

    try:
        return sign_splits(load_installed(str(exported[NAMES[0]])))["test"]
    except Exception as exc:  # no BOSTON-104 data here
        pytest.skip(f"BOSTON-104 is not available: {exc}")


def _both(folder):
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.sign2text import runnable

    torch_model = load_installed(str(folder), backend="torch")
    onnx_model = load_installed(str(folder), backend="onnx")
    assert onnx_model.backend == "onnx" and onnx_model.task == "sign-to-text"
    return torch_model, runnable(onnx_model)


def assert_decoders_agree(reference, decoder, batch: int, vocab: int, steps: int = 7, tolerance: float = 1e-4):
    """Feed both step decoders the same random tokens for ``steps`` steps, every sentence of the
    batch at once, reordering the hypotheses between steps as a beam does; next-token
    log-probabilities must agree within ``tolerance`` at every step (the first included)."""
    rng = np.random.default_rng(steps)
    ref_state, state = reference.start(range(batch)), decoder.start(range(batch))
    tokens = np.full(batch, 2, dtype=np.int64)  # <s>
    for _ in range(steps):
        want, ref_state = reference.step(ref_state, tokens)
        got, state = decoder.step(state, tokens)
        assert got.shape == want.shape and np.abs(got - want).max() < tolerance
        keep = rng.permutation(batch)
        ref_state, state = reference.select(ref_state, keep), decoder.select(state, keep)
        tokens = rng.integers(4, vocab, batch)


@pytest.mark.parametrize("name", NAMES)
def test_graphs_match_torch_on_the_boston_test_set(exported, boston_test, name):
    """Encoder mask, CTC log-probabilities, and the cached decoder step against PyTorch's whole-
    prefix decoder, on every test sentence (lengths 50-200 frames, none the export's 96) in one
    padded batch."""
    from signstudio.data.batching import example_features
    from signstudio.runtime.nets import pad_batch, signformer_net

    torch_model, onnx_model = _both(exported[name])
    feats = [example_features(e) for e in boston_test]
    assert len(feats) == 40 and 96 not in {len(f) for f in feats}
    x, lengths = pad_batch(feats)
    torch_net, onnx_net = signformer_net(torch_model.model), onnx_model.model
    want, got = torch_net.encode(x, lengths), onnx_net.encode(x, lengths)
    mask = want["memory_mask"]
    assert np.array_equal(got["memory_mask"], mask)
    assert ("gloss_log_probs" in got) == ("gloss_log_probs" in want)
    if "gloss_log_probs" in want:
        assert np.abs(got["gloss_log_probs"] - want["gloss_log_probs"])[mask].max() < 1e-4
    assert_decoders_agree(torch_net.decoder(want), onnx_net.decoder(got), len(feats), len(torch_model.text_vocab.itos))


@pytest.mark.parametrize("name", NAMES)
def test_evaluate_with_onnx_gives_the_model_card_wer(exported, boston_test, name, capsys):
    """`signstudio evaluate MODEL --backend onnx` decodes every test sentence as PyTorch does."""
    from signstudio.cli import main
    from signstudio.runtime.evaluate import evaluate_model

    torch_model, _ = _both(exported[name])
    want = evaluate_model(torch_model, "test")
    capsys.readouterr()
    assert main(["evaluate", str(exported[name]), "--split", "test", "--backend", "onnx", "--json", "--show"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["hypotheses"] == want["hypotheses"]  # identical glosses, hence identical WER
    assert {k: v for k, v in got.items() if k.startswith("wer")} == {
        k: v for k, v in want.items() if k.startswith("wer")}
    assert round(got["wer"], 3) == CARD_WER[name]


def test_long_input_in_windows_decodes_as_torch(exported):
    """A 1400-frame input goes through the windows of `decode_long` (CTC joined across windows,
    the decoder window by window) identically in both backends; so does a 233-frame one."""
    from signstudio.runtime.sign2text import MAX_WINDOW, decode_features

    torch_model, onnx_model = _both(exported["boston104-signformer"])
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(1400, 12)).astype(np.float32), rng.normal(size=(233, 12)).astype(np.float32)]
    assert len(x[0]) > 2 * MAX_WINDOW
    for m in (torch_model, onnx_model):
        m.decoded = decode_features(m.model, x, m.gloss_vocab, m.text_vocab, m.decoding, m.gloss_lm)
    assert set(onnx_model.decoded) == {"ctc", "ctc_lm", "decoder"}
    assert onnx_model.decoded == torch_model.decoded
