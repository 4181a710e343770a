"""Training on real BOSTON-104 data, the gloss LM and CTC prefix beam search."""

import json
import math

import numpy as np
import pytest
import torch

from signstudio.data.batching import crop_to_glosses
from signstudio.data.datasets import load_splits
from signstudio.decoding import ctc_greedy_decode
from signstudio.errors import ConfigError
from signstudio.lm import EOS, GlossLM, ctc_prefix_beam_search
from signstudio.paths import data_dir
from signstudio.tasks import RecordingTask
from signstudio.runtime.checkpoint import load_model
from signstudio.training.config import config_from_dict
from signstudio.training.loop import fit, lr_factor

DATA = data_dir()
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"real data not found at {DATA} (set SIGNSTUDIO_DATA)")


def test_gloss_lm_is_a_distribution():
    lm = GlossLM.fit([["JOHN", "LOVE", "MARY"], ["MARY", "LOVE", "JOHN"], ["JOHN", "BUY", "HOUSE"]])
    words = ["JOHN", "LOVE", "MARY", "BUY", "HOUSE", EOS]
    for history in ([], ["JOHN"], ["JOHN", "LOVE"], ["HOUSE", "HOUSE"]):
        assert math.isclose(sum(math.exp(lm.log_prob(history, w)) for w in words), 1.0, rel_tol=1e-9)
    assert lm.log_prob(["JOHN"], "LOVE") > lm.log_prob(["JOHN"], "HOUSE")
    again = GlossLM.from_dict(lm.to_dict())
    assert again.sentence_log_prob(["JOHN", "LOVE", "MARY"]) == lm.sentence_log_prob(["JOHN", "LOVE", "MARY"])


def _frames(ids, vocab_size=8, peak=0.0, rest=-8.0):
    lp = torch.full((len(ids), vocab_size), rest)
    for t, i in enumerate(ids):
        lp[t, i] = peak
    return torch.log_softmax(lp, -1)


def test_prefix_beam_search_without_lm_matches_best_path_on_peaked_outputs():
    itos = ["<pad>", "<unk>", "<s>", "</s>", "A", "B", "C", "D"]
    lp = _frames([0, 4, 4, 0, 4, 5, 0, 6, 6])
    assert ctc_prefix_beam_search(lp, itos, None, beam_size=8) == ["A", "A", "B", "C"]
    assert ctc_greedy_decode(lp[None], torch.ones(1, 9, dtype=torch.bool)) == [[4, 4, 5, 6]]


def test_the_lm_resolves_an_ambiguous_frame():
    itos = ["<pad>", "<unk>", "<s>", "</s>", "JOHN", "LOVE", "LOSE", "MARY"]
    lp = _frames([4, 0, 5, 0, 7])
    lp[2] = torch.log_softmax(torch.tensor([-8.0, -8, -8, -8, -8, 0.0, 0.1, -8]), -1)  # LOSE slightly ahead
    assert ctc_prefix_beam_search(lp, itos, None) == ["JOHN", "LOSE", "MARY"]
    lm = GlossLM.fit([["JOHN", "LOVE", "MARY"]] * 5 + [["MARY", "LOSE"]])
    assert ctc_prefix_beam_search(lp, itos, lm, lm_weight=1.0) == ["JOHN", "LOVE", "MARY"]


def _reference_prefix_search(lp, itos, lm, lm_weight, bonus, beam_size, prune=-12.0):
    """Hannun et al. 2014, alg. 1, written plainly (every prefix scored in Python, ties kept in the
    order first reached): the oracle for the vectorised search."""
    from signstudio.lm import _logsumexp as lse

    def lm_of(prefix):
        if lm is None:
            return 0.0
        return sum(lm.log_prob([itos[i] for i in prefix[max(0, n + 1 - lm.order):n]], itos[prefix[n]])
                   for n in range(len(prefix)))

    beams = {(): (0.0, -math.inf)}
    for row in lp:
        nxt = {}

        def add(prefix, pb=-math.inf, pnb=-math.inf):
            cur = nxt.setdefault(prefix, [-math.inf, -math.inf])
            cur[0], cur[1] = lse(cur[0], pb), lse(cur[1], pnb)

        for prefix, (pb, pnb) in beams.items():
            add(prefix, pb=lse(pb, pnb) + row[0])
            if prefix:
                add(prefix, pnb=pnb + row[prefix[-1]])
            for k in range(4, len(row)):
                if row[k] > prune:
                    add(prefix + (k,), pnb=(pb if prefix and k == prefix[-1] else lse(pb, pnb)) + row[k])
        score = {p: lse(*v) + lm_weight * lm_of(p) + bonus * len(p) for p, v in nxt.items()}
        beams = {p: tuple(nxt[p]) for p in sorted(nxt, key=lambda p: -score[p])[:beam_size]}
    end = {p: lse(*v) + lm_weight * lm_of(p) + bonus * len(p) + lm_weight * (
        lm.log_prob([itos[i] for i in p], EOS) if lm is not None else 0.0) for p, v in beams.items()}
    return [itos[i] for i in max(beams, key=lambda p: end[p])]


def test_prefix_search_equals_the_plain_algorithm_on_flat_and_peaked_outputs():
    """The vectorised search (per-beam NumPy scoring, n-gram context cache) writes what the plain
    algorithm writes, on outputs from nearly uniform (an untrained model's) to sharply peaked."""
    rng = np.random.default_rng(0)
    itos = ["<pad>", "<unk>", "<s>", "</s>"] + [f"G{i}" for i in range(30)]
    lm = GlossLM.fit([[f"G{i}" for i in rng.integers(0, 30, rng.integers(2, 8))] for _ in range(200)], 3)
    for trial in range(24):
        x = rng.normal(size=(int(rng.integers(1, 40)), len(itos))) * (0.3, 1.0, 3.0, 8.0)[trial % 4]
        lp = x - np.log(np.exp(x).sum(1, keepdims=True))
        for model, w, bonus, beam in ((None, 0.5, 0.0, 8), (lm, 0.6, 0.5, 8), (lm, 1.5, 2.0, 3)):
            assert (ctc_prefix_beam_search(lp, itos, model, w, bonus, beam)
                    == _reference_prefix_search(lp, itos, model, w, bonus, beam)), (trial, w, bonus, beam)


def test_learning_rate_schedule():
    assert lr_factor(0, 10, 100, 0.1) == pytest.approx(0.1)
    assert lr_factor(9, 10, 100, 0.1) == pytest.approx(1.0)
    assert lr_factor(100, 10, 100, 0.1) == pytest.approx(0.1)


def test_config_errors():
    with pytest.raises(ConfigError, match="unknown key"):
        config_from_dict({"name": "x", "model": {"preset": "signformer-boston"}, "train": {"epoch": 3}})
    with pytest.raises(ConfigError, match="must be int"):
        config_from_dict({"name": "x", "model": {"preset": "signformer-boston"}, "train": {"epochs": "3"}})
    with pytest.raises(ConfigError, match="unknown preset"):
        config_from_dict({"name": "x", "model": {"preset": "gpt"}})


@needs_data
def test_gloss_crops_keep_exact_labels():
    ex = load_splits("boston104")["train"][0]
    rng = np.random.default_rng(0)
    for _ in range(50):
        c = crop_to_glosses(ex, rng)
        assert 1 <= len(c.glosses) <= len(ex.glosses)
        joined = " " + " ".join(ex.glosses) + " "
        assert " " + " ".join(c.glosses) + " " in joined
        assert all(0 <= a <= b < len(c.tracks) + 4 for a, b in c.spans)


@needs_data
def test_training_on_boston104_learns_and_checkpoints(tmp_path):
    cfg = config_from_dict({
        "name": "tiny-boston",
        "model": {"preset": "signformer-boston", "d_model": 64, "ff_dim": 128, "encoder_layers": 1},
        "train": {"epochs": 16, "eval_every": 4, "learning_rate": 0.003, "warmup_steps": 20, "threads": 1},
    })
    task = RecordingTask()
    result = fit(cfg, task, output=tmp_path / "run")
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == list(range(4, 17, 4)) and task.partials == rows
    assert rows[-1]["loss"] < 0.6 * rows[0]["loss"]  # it learns (epoch 4 -> 16)
    assert result.metrics["dev_wer"] < 0.95  # and recognises some dev glosses
    assert task.done == task.total == 16 * 10
    loaded = load_model(tmp_path / "run")
    assert loaded.name == "tiny-boston" and loaded.gloss_lm is not None
    assert loaded.metrics["dev_wer"] == result.metrics["dev_wer"]
    assert not list((tmp_path / "run").glob("*.tmp"))


@needs_data
def test_cancelled_training_stops_and_keeps_nothing_half_written(tmp_path):
    from signstudio.errors import Cancelled

    cfg = config_from_dict({"name": "c", "model": {"preset": "signformer-boston", "d_model": 32, "ff_dim": 64},
                            "train": {"epochs": 5}})
    with pytest.raises(Cancelled):
        fit(cfg, RecordingTask(cancel_after=3), output=tmp_path / "run")
    assert not list((tmp_path / "run").glob("*.tmp"))
