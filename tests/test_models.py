"""Signformer layers, decoding and checkpoints (no data needed)."""

import pytest
import numpy as np
import torch

from signstudio.data.vocabulary import Vocabulary
from signstudio.decoding import beam_search, ctc_greedy_decode, greedy_decode, sequence_log_probs
from signstudio.models.incremental import TorchCachedDecoder, TorchPrefixDecoder
from signstudio.errors import ConfigError, ModelError
from signstudio.models.layers import ConvModule, MultiHeadAttention
from signstudio.models.registry import PRESETS, build_model, count_parameters, make_config, preset_parameter_counts
from signstudio.runtime.checkpoint import load_model, save_model


def small_model(**kw):
    cfg = dict(input_dim=12, d_model=32, num_heads=4, encoder_layers=1, decoder_layers=1, ff_dim=64,
               conv_kernel=5, text_vocab_size=20, gloss_vocab_size=20, max_output_length=8)
    cfg.update(kw)
    torch.manual_seed(0)
    return build_model("signformer", cfg).eval()


def test_padding_does_not_change_the_encoding():
    model = small_model(cope_positions=8)
    x = torch.randn(1, 15, 12)
    padded = torch.cat([x, torch.randn(1, 7, 12) * 100], dim=1)
    a, _ = model.encode(x, torch.tensor([15]))
    b, _ = model.encode(padded, torch.tensor([15]))
    assert torch.allclose(a, b[:, :15], atol=1e-5)


def test_causal_decoder_ignores_future_tokens():
    model = small_model()
    mem, mask = model.encode(torch.randn(1, 10, 12), torch.tensor([10]))
    t1 = torch.tensor([[2, 5, 6, 7]])
    t2 = torch.tensor([[2, 5, 9, 9]])
    a = model.decode_step(t1, mem, mask)
    b = model.decode_step(t2, mem, mask)
    assert torch.allclose(a[:, :2], b[:, :2], atol=1e-6)
    assert not torch.allclose(a[:, 2:], b[:, 2:])


def test_attention_weights_are_distributions_over_real_keys():
    attn = MultiHeadAttention(16, 2, cope_positions=4)
    x = torch.randn(2, 6, 16)
    mask = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])
    _, w = attn(x, x, key_mask=mask)
    assert w.shape == (2, 2, 6, 6)
    assert torch.allclose(w.sum(-1), torch.ones(2, 2, 6), atol=1e-5)
    assert float(w[1, :, :, 4:].detach().abs().max()) == 0.0


def test_conv_module_is_pointwise_depthwise_pointwise():
    conv = ConvModule(8, 3, 0.0)
    assert conv.pointwise_in.kernel_size == (1,) and conv.pointwise_out.kernel_size == (1,)
    assert conv.depthwise.groups == 8 and conv.depthwise.kernel_size == (3,)


def test_beam_size_one_equals_greedy():
    for seed in range(5):
        model = small_model()
        torch.manual_seed(seed)
        mem, mask = model.encode(torch.randn(3, 12, 12), torch.tensor([12, 9, 5]))
        dec = TorchPrefixDecoder(model, mem, mask)
        assert beam_search(dec, 3, 8, beam_size=1, alpha=0.0) == greedy_decode(dec, 3, 8)


def test_beam_search_finds_a_sequence_at_least_as_likely_as_greedy():
    model = small_model()
    torch.manual_seed(3)
    mem, mask = model.encode(torch.randn(1, 12, 12), torch.tensor([12]))

    def logp(seq):
        toks = torch.tensor([[2] + seq])
        out = model.decode_step(toks, mem, mask)[0]
        target = seq + [3]
        return float(sum(out[i, t] for i, t in enumerate(target)).detach())

    dec = TorchPrefixDecoder(model, mem, mask)
    g = greedy_decode(dec, 1, 8)[0]
    b = beam_search(dec, 1, 8, beam_size=5, alpha=0.0)[0]
    assert logp(b) >= logp(g) - 1e-5
    # the step-by-step log-probabilities are the teacher-forced ones
    assert abs(float(sequence_log_probs(dec, 0, b).sum()) - logp(b)) < 1e-4


def test_cached_decoder_gives_the_prefix_decoders_log_probs_and_outputs():
    """The key/value cache (what the ONNX decoder step exports) changes nothing but speed."""
    model = small_model().eval()
    torch.manual_seed(4)
    with torch.no_grad():
        mem, mask = model.encode(torch.randn(3, 12, 12), torch.tensor([12, 9, 5]))
    prefix, cached = TorchPrefixDecoder(model, mem, mask), TorchCachedDecoder(model, mem, mask)
    ps, cs = prefix.start([0, 1, 2]), cached.start([0, 1, 2])
    tokens = np.array([2, 2, 2])
    for step in range(6):
        lp, ps = prefix.step(ps, tokens)
        lc, cs = cached.step(cs, tokens)
        assert np.abs(lp - lc).max() < 1e-5
        keep = np.array([2, 0, 0])  # reorder and duplicate hypotheses as a beam does
        ps, cs = prefix.select(ps, keep), cached.select(cs, keep)
        tokens = lp[keep].argmax(-1)
    assert beam_search(prefix, 3, 8, beam_size=4) == beam_search(cached, 3, 8, beam_size=4)


def test_ctc_greedy_merges_repeats_and_drops_blanks():
    # frames: A A blank A B B blank -> A A B
    ids = [4, 4, 0, 4, 5, 5, 0]
    lp = torch.full((1, 7, 6), -10.0)
    for t, i in enumerate(ids):
        lp[0, t, i] = 0.0
    assert ctc_greedy_decode(lp, torch.ones(1, 7, dtype=torch.bool)) == [[4, 4, 5]]


def test_unknown_config_keys_and_types_are_errors():
    with pytest.raises(ConfigError, match="unknown signformer config key"):
        make_config("signformer", {"d_modle": 64})
    with pytest.raises(ConfigError, match="must be int"):
        make_config("signformer", {"d_model": "64"})
    with pytest.raises(ConfigError, match="unknown model type"):
        make_config("transformer-xl", {})


def test_preset_parameter_counts_are_measured():
    counts = preset_parameter_counts()
    assert set(counts) == set(PRESETS)
    # The paper's smallest Signformer is 0.57 M parameters; our PHOENIX preset is of that order.
    assert 300_000 < counts["signformer-phoenix"] < 700_000


def test_checkpoint_round_trip_rebuilds_the_model(tmp_path):
    model = small_model()
    vocab = Vocabulary([f"G{i}" for i in range(16)])
    save_model(tmp_path / "m" / "model.pt", name="tiny", model_type="signformer", model=model, gloss_vocab=vocab,
               text_vocab=vocab, features={"kind": "hand_nose_tracks", "fps": 30.0, "num_features": 12},
               metrics={"dev_wer": 0.5}, config={})
    loaded = load_model(tmp_path / "m")
    assert loaded.name == "tiny" and loaded.metrics == {"dev_wer": 0.5}
    assert loaded.parameters == count_parameters(model)
    x = torch.randn(1, 9, 12)
    assert torch.allclose(model.encode(x, torch.tensor([9]))[0], loaded.model.encode(x, torch.tensor([9]))[0])
    assert not list(tmp_path.glob("m/*.tmp"))


def test_bad_checkpoints_give_model_errors(tmp_path):
    with pytest.raises(ModelError, match="no such model file"):
        load_model(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="not a readable SignStudio checkpoint"):
        load_model(bad)
    torch.save({"something": 1}, tmp_path / "foreign.pt")
    with pytest.raises(ModelError, match="not a SignStudio checkpoint"):
        load_model(tmp_path / "foreign.pt")


def test_signattention_conv1d_frame_embedding_mixes_only_kernel_neighbours():
    """SignAttention's baseline embeds frames with a 1D convolution: frame t sees t-2..t+2 (kernel 5)."""
    model = build_model("signformer", make_config("signformer", dict(PRESETS["signattention-boston"][1])))
    model.eval()
    assert model.gloss_head is None and model.has_decoder and len(model.encoder) == len(model.decoder) == 1
    x = torch.randn(1, 20, 12)
    y = model.frame_embed(x)
    assert y.shape == (1, 20, 128)
    x2 = x.clone()
    x2[0, 10] += 5.0
    changed = (model.frame_embed(x2) - y).abs().amax(-1)[0] > 1e-6
    assert changed.nonzero().flatten().tolist() == [8, 9, 10, 11, 12]
    with pytest.raises(ConfigError, match="embed_kernel"):
        build_model("signformer", make_config("signformer", {**PRESETS["signattention-boston"][1], "embed_kernel": 4}))
    with pytest.raises(ConfigError, match="frame_embedding"):
        build_model("signformer", make_config("signformer", {**PRESETS["signattention-boston"][1],
                                                              "frame_embedding": "lstm"}))
