"""SignLLM gloss-to-pose: skeleton data and layout, the model (KV cache, counter decoding, MLSF),
the Priority Learning Channel, training on real PHOENIX-2014-T skeletons, DTW-MJE and back-translation."""

import io
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from pose_format import Pose

from signstudio.data.skeletons import load_pose_manifest, load_skels, load_skeleton_splits
from signstudio.errors import Cancelled, InputError
from signstudio.models.registry import PRESETS, build_model, make_config
from signstudio.models.signllm import tag_glosses
from signstudio.runtime.spans import counter_spans, monotonic_spans
from signstudio.paths import PROJECT_ROOT, data_dir
from signstudio.pose.skeletons import (LEFT_HAND, RIGHT_HAND, SHOULDER_WIDTH, pose_to_skeleton, skeleton_header,
                                       skels_to_pose)
from signstudio.production.evaluation import back_translate, back_translation_scores, dtw_mje
from signstudio.tasks import RecordingTask
from signstudio.training.config import config_from_dict, load_config
from signstudio.runtime.producer import load_signllm
from signstudio.training.loop import fit
from signstudio.training.recipes.plc import PriorityLearningChannel, plc_priorities, reward_weights

DATA = data_dir()
SKELS = DATA / "phoenix14t" / "skels"
needs_skels = pytest.mark.skipif(not SKELS.is_dir(), reason=f"PHOENIX skels not found at {SKELS} (set SIGNSTUDIO_DATA)")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One intra-op thread: these small models are far faster so on a busy 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_model(mode="mlsf", languages=("gsg",), vocab=20, seed=0, **kw):
    torch.manual_seed(seed)
    values = dict(d_model=32, num_heads=4, encoder_layers=1, decoder_layers=2, ff_dim=64, dropout=0.0,
                  gloss_vocab_size=vocab, languages=languages, mode=mode, max_frames=40)
    return build_model("signllm", {**values, **kw}).eval()


# ---------------------------------------------------------------------------- data and skeleton layout
@needs_skels
def test_real_skels_load_with_151_floats_and_a_monotone_counter():
    total = 0
    for split in ("train", "dev", "test"):
        lines = (SKELS / f"{split}.skels").read_text().splitlines()
        examples = load_skels(SKELS, split)
        assert len(examples) == len(lines) == 5
        total += len(examples)
        for line, e in zip(lines, examples):
            assert len(line.split()) == 151 * len(e.frames)
            assert e.frames.shape == (len(e.frames), 50, 3) and e.frames.dtype == np.float32
            assert e.glosses and e.text and e.fps == 25.0
            c = e.counter
            assert c[0] == 0 and np.all(np.diff(c) > 0) and c[-1] < 1
            np.testing.assert_allclose(c, np.arange(len(c)) / len(c), atol=1e-4)  # counter = t / T
    assert total == 15


@needs_skels
def test_the_joint_layout_claims_hold_on_the_data():
    f = np.concatenate([e.frames for e in load_skels(SKELS, "train")]).astype(np.float64)
    bone = lambda a, b: np.linalg.norm(f[:, a] - f[:, b], axis=-1)  # noqa: E731
    assert np.abs(f[:, 1]).max() == 0  # neck-centred
    assert bone(1, 2).mean() == pytest.approx(bone(1, 5).mean(), rel=1e-3)  # symmetric shoulders
    assert f[:, 2, 0].mean() > 0.1 and f[:, 5, 0].mean() < -0.1  # x grows to the signer's right
    assert f[:, 0, 1].mean() < -0.15  # y down: the nose is above the neck
    # right wrist (4) is at the base of the right hand block (29), left wrist (7) at the left one (8)
    assert bone(4, 29).mean() < 0.05 < bone(4, 8).mean()
    assert bone(7, 8).mean() < 0.05 < bone(7, 29).mean()


def test_malformed_skels_line_is_named(tmp_path):
    for ext, text in ((".skels", " ".join(["0.1"] * 151) + "\n" + " ".join(["0.1"] * 150) + "\n"),
                      (".gloss", "A B\nC\n"), (".text", "a b\nc\n"), (".files", "x\ny\n")):
        (tmp_path / f"train{ext}").write_text(text)
    with pytest.raises(InputError, match=r"train\.skels:2: 150 numbers"):
        load_skels(tmp_path, "train")


@needs_skels
def test_skeleton_pose_round_trip_through_pose_format():
    frames = load_skels(SKELS, "dev")[0].frames
    buf = io.BytesIO()
    skels_to_pose(frames, fps=25.0).write(buf)
    pose = Pose.read(buf.getvalue())
    assert [c.name for c in pose.header.components] == ["BODY", "LEFT_HAND", "RIGHT_HAND"]
    assert [len(c.limbs) for c in pose.header.components] == [7, 20, 20]
    assert pose.body.fps == 25.0 and pose.body.data.shape == (len(frames), 1, 50, 3)
    assert np.all(pose.body.confidence == 1)
    np.testing.assert_allclose(pose_to_skeleton(pose), frames, atol=1e-5)
    # canvas pixels: the signer faces the viewer, so the right shoulder is on the image's left
    right_x, left_x = pose.body.data[0, 0, 2, 0], pose.body.data[0, 0, 5, 0]
    assert right_x < left_x


def test_holistic_pose_maps_onto_the_skeleton():
    path = DATA / "poses" / "asl" / "standard_landmarks" / "colin-SAD.pose"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    pose = Pose.read(path.read_bytes())
    joints, mask = pose_to_skeleton(pose, return_mask=True)
    assert joints.shape == (pose.body.data.shape[0], 50, 3) and mask.shape == joints.shape[:2]
    ok = mask[:, 1]
    assert ok.any() and np.abs(joints[ok, 1]).max() < 1e-6  # neck-centred
    width = np.linalg.norm(joints[ok, 2] - joints[ok, 5], axis=-1)
    assert np.median(width) == pytest.approx(SHOULDER_WIDTH, rel=1e-3)
    assert np.median(joints[ok, 2, 0]) > 0  # the signer's right shoulder at +x, like the PHOENIX data
    assert np.all(joints[~mask] == 0)
    assert mask[:, LEFT_HAND].any() or mask[:, RIGHT_HAND].any()


def test_pose_manifest_folder(tmp_path):
    rng = np.random.default_rng(0)
    frames = (rng.normal(size=(30, 50, 3)) * 0.1).astype(np.float32)
    pose = skels_to_pose(frames, fps=50.0)
    with open(tmp_path / "a.pose", "wb") as f:
        pose.write(f)
    (tmp_path / "train.tsv").write_text("path\tgloss\ttext\na.pose\tHELLO WORLD\thello world\n")
    (ex,) = load_pose_manifest(tmp_path, "train")
    assert ex.glosses == ["HELLO", "WORLD"] and ex.fps == 25.0 and ex.mask is None
    assert len(ex.frames) == 15  # 50 fps -> 25 fps
    np.testing.assert_allclose(ex.frames[0], frames[0], atol=1e-5)
    (tmp_path / "train.tsv").write_text("a.pose\tHELLO\n")
    with pytest.raises(InputError, match=r"train\.tsv:1: 2 tab-separated columns"):
        load_pose_manifest(tmp_path, "train")


# ---------------------------------------------------------------------------- model
def test_kv_cache_gives_the_uncached_output():
    model = tiny_model(max_frames=60)
    glosses = torch.tensor([[4, 5, 6, 7, 8], [4, 9, 10, 0, 0]])
    lengths = torch.tensor([5, 3])
    fast = model.generate(glosses, lengths, "gsg", use_cache=True, stop_on_counter=False, return_attention=True)
    slow = model.generate(glosses, lengths, "gsg", use_cache=False, stop_on_counter=False, return_attention=True)
    assert fast.frames.shape == (2, 60, 50, 3)
    assert (fast.frames - slow.frames).abs().max() < 1e-5
    assert (fast.counter - slow.counter).abs().max() < 1e-5
    assert (fast.cross_attention - slow.cross_attention).abs().max() < 1e-5
    assert torch.all(fast.cross_attention[1, :, 3:] == 0)  # padded gloss tokens get no attention


def test_teacher_forced_pass_reproduces_free_decoding():
    model = tiny_model()
    with torch.no_grad():  # make the counter input irrelevant: then teacher forcing on the model's
        model.groups["gsg"].frame_embed.weight[:, -1] = 0  # own frames must give those frames again
    glosses, lengths = torch.tensor([[4, 5, 6]]), torch.tensor([3])
    gen = model.generate(glosses, lengths, "gsg", max_frames=12, stop_on_counter=False)
    with torch.no_grad():
        out = model(glosses, lengths, gen.frames, torch.tensor([12]), "gsg")
    assert out["joints"].shape == (1, 12, 50, 3)
    assert (out["joints"] - gen.frames).abs().max() < 1e-5
    assert (out["counter"] - gen.counter).abs().max() < 1e-5
    np.testing.assert_allclose(out["counter_target"][0].numpy(), (np.arange(12) + 1) / 12, rtol=1e-6)


def test_counter_decoding_stops_when_the_counter_reaches_the_threshold():
    model = tiny_model()
    glosses, lengths = torch.tensor([[4, 5], [6, 7]]), torch.tensor([2, 2])
    free = model.generate(glosses, lengths, "gsg", max_frames=25, stop_on_counter=False)
    assert free.frames.shape[1] == 25 and free.lengths.tolist() == [25, 25]
    # Stop where sample 0's free-running counter is at its 10th frame: each sample then stops at the
    # first frame whose counter reaches that value (or runs to the cap).
    threshold = float(free.counter[0, 9])
    model.config = replace(model.config, stop_threshold=threshold)
    gen = model.generate(glosses, lengths, "gsg", max_frames=25)
    for b in range(2):
        hits = torch.nonzero(free.counter[b] >= threshold)
        expected = int(hits[0]) + 1 if len(hits) else 25
        assert int(gen.lengths[b]) == expected
    assert int(gen.lengths[0]) <= 10
    assert gen.frames.shape[1] == int(gen.lengths.max())
    torch.testing.assert_close(gen.frames[0, : gen.lengths[0]], free.frames[0, : gen.lengths[0]])
    head = model.groups["gsg"].counter_head
    with torch.no_grad():
        head.weight.zero_()
        head.bias.fill_(threshold + 1.0)  # done after the first frame
    assert model.generate(glosses, lengths, "gsg", max_frames=25).lengths.tolist() == [1, 1]


def test_mlsf_add_language_leaves_the_other_groups_alone():
    model = tiny_model(languages=("gsg",))
    glosses, lengths = torch.tensor([[4, 5, 6]]), torch.tensor([3])
    before = model.generate(glosses, lengths, "gsg", max_frames=10, stop_on_counter=False).frames
    n_params = sum(p.numel() for p in model.parameters())
    model.add_language("ase")
    assert list(model.groups) == ["gsg", "ase"] and model.config.languages == ("gsg", "ase")
    assert sum(p.numel() for p in model.parameters()) == 2 * n_params
    after = model.generate(glosses, lengths, "gsg", max_frames=10, stop_on_counter=False).frames
    assert torch.equal(before, after)
    other = model.generate(glosses, lengths, "ase", max_frames=10, stop_on_counter=False).frames
    assert not torch.allclose(other, before)
    model.add_language("bfi", init_from="gsg")  # transfer: a copy of the DGS group
    copied = model.generate(glosses, lengths, "bfi", max_frames=10, stop_on_counter=False).frames
    assert torch.equal(copied, before)
    with pytest.raises(ValueError, match="already exists"):
        model.add_language("ase")
    with pytest.raises(ValueError, match="does not produce"):
        model.generate(glosses, lengths, "fsl")
    # the grown model rebuilds from its own config (as a checkpoint does)
    again = build_model("signllm", make_config("signllm", dict(model.config.__dict__)))
    again.load_state_dict(model.state_dict())
    # prompt2langgloss: one shared group; a new language only joins the tag set
    shared = tiny_model(mode="prompt2langgloss", languages=("gsg", "ase"))
    assert list(shared.groups) == ["shared"]
    shared.add_language("bfi")
    assert list(shared.groups) == ["shared"] and "bfi" in shared.config.languages
    assert tag_glosses(["WETTER"], "gsg") == ["<gsg>", "gsg:WETTER"]


def test_gloss_spans():
    att = np.full((10, 3), 0.05)
    att[0:3, 0] = att[3:7, 1] = att[7:10, 2] = 0.9
    att[5, 0] = 0.95  # a non-monotonic outlier is overruled
    assert monotonic_spans(att) == [(0, 3), (3, 7), (7, 10)]
    assert monotonic_spans(np.ones((2, 3))) == [(0, 1), (1, 2), (2, 2)]
    counter = (np.arange(8) + 1) / 8
    assert counter_spans(counter, 2) == [(0, 4), (4, 8)]
    assert counter_spans(counter, 4) == [(0, 2), (2, 4), (4, 6), (6, 8)]


# ---------------------------------------------------------------------------- RL + Priority Learning Channel
def test_plc_priorities_and_batch_skipping():
    p = plc_priorities(np.array([-0.1, -0.2, -0.3]))
    np.testing.assert_allclose(p, np.exp([math.sqrt(1.5), 0, -math.sqrt(1.5)]) / np.exp(
        [math.sqrt(1.5), 0, -math.sqrt(1.5)]).sum(), rtol=1e-9)
    np.testing.assert_allclose(plc_priorities(np.array([-1.0, -1.0])), [0.5, 0.5])
    plc = PriorityLearningChannel(4, threshold=0.5, min_history=4)
    np.testing.assert_allclose(plc.priorities(), 0.25)  # first epoch: uniform
    assert [plc.should_skip(r) for r in (-1.0, -2.0, -3.0, -4.0)] == [False] * 4  # too little history
    assert plc.should_skip(-3.0)  # median of (-1, -2, -3, -4) is -2.5
    assert not plc.should_skip(-2.0)  # median of (-1, -2, -3, -4, -3) is -3
    assert plc.skipped == 1 and plc.seen == 6
    plc.record([0, 1, 2], [-0.1, -0.2, -0.3])  # sentence 3 unseen: gets the mean reward
    np.testing.assert_allclose(plc.priorities(), plc_priorities(np.array([-0.1, -0.2, -0.3, -0.2])))
    draws = np.bincount(np.concatenate([plc.epoch_order(np.random.default_rng(s)) for s in range(200)]), minlength=4)
    assert draws[0] > draws[1] > draws[2] and abs(draws[1] - draws[3]) < 0.25 * draws[1]
    off = PriorityLearningChannel(3, threshold=0.0)
    assert not any(off.should_skip(-r) for r in range(10))
    w = reward_weights(torch.tensor([-1.0, -2.0, -3.0]), np.array([-1.0, -3.0]))
    np.testing.assert_allclose(w.numpy(), [math.e, 1.0, 1 / math.e], rtol=1e-6)
    np.testing.assert_allclose(reward_weights(torch.tensor([-1.0]), np.array([])).numpy(), [1.0])


# ---------------------------------------------------------------------------- training and production
def _small_skels(root: Path) -> Path:
    """The first 24 frames of 3 train and 2 dev PHOENIX sentences, in the skels format."""
    out = root / "skels"
    out.mkdir()
    for split, n in (("train", 3), ("dev", 2)):
        lines = {ext: (SKELS / f"{split}.{ext}").read_text().splitlines()[:n] for ext in ("gloss", "text", "files")}
        skels = [" ".join(line.split()[: 24 * 151]) for line in (SKELS / f"{split}.skels").read_text().splitlines()[:n]]
        (out / f"{split}.skels").write_text("\n".join(skels) + "\n")
        for ext, rows in lines.items():
            (out / f"{split}.{ext}").write_text("\n".join(rows) + "\n")
    return out


def _tiny_config(folder: Path, **train):
    return config_from_dict({
        "name": "tiny-signllm",
        "model": {"preset": "signllm-phoenix-skels", "d_model": 32, "encoder_layers": 1, "decoder_layers": 1,
                  "ff_dim": 64, "dropout": 0.0, "max_frames": 48},
        "data": {"dataset": "phoenix14t-skels", "path": str(folder), "language": "gsg"},
        "train": {"epochs": 40, "batch_size": 3, "learning_rate": 3e-3, "warmup_steps": 5, "eval_every": 20,
                  "pose_noise": 0.01, "seed": 3, "threads": 1, **train},
    })


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    if not SKELS.is_dir():
        pytest.skip(f"PHOENIX skels not found at {SKELS}")
    root = tmp_path_factory.mktemp("signllm")
    folder = _small_skels(root)
    task = RecordingTask()
    result = fit(_tiny_config(folder), task, output=root / "out")
    return folder, root, result, task


def test_training_on_real_skeletons_learns(trained):
    folder, root, result, task = trained
    rows = task.partials
    assert [r["epoch"] for r in rows] == [20, 40]
    assert {"epoch", "step", "loss", "train_dtw_mje", "dev_dtw_mje", "lr", "seconds"} <= set(rows[0])
    assert rows[-1]["loss"] < rows[0]["loss"]
    assert rows[-1]["train_dtw_mje"] < rows[0]["train_dtw_mje"]
    assert task.done == task.total == 40
    assert (result.output / "model.pt").is_file() and (result.output / "metrics.jsonl").read_text().count("\n") == 2
    assert result.metrics["dev_n"] == 2


def test_produce_with_the_trained_model(trained):
    _, root, result, _ = trained
    producer = load_signllm(result.output)
    assert producer.languages == ("gsg",) and producer.fps == 25.0
    glosses = load_skels(root / "skels", "train")[0].glosses
    frames, counter, spans = producer.produce(glosses, "gsg", max_frames=40)
    assert frames.shape[1:] == (50, 3) and frames.dtype == np.float32 and len(counter) == len(frames)
    assert len(spans) == len(glosses) and spans[0][0] == 0 and spans[-1][1] == len(frames)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    slow = producer.produce(glosses, "gsg", use_cache=False, max_frames=40, spans="attention")
    np.testing.assert_allclose(slow.frames, frames, atol=1e-5)
    assert len(slow.spans) == len(glosses) and slow.spans[-1][1] == len(frames)
    out = producer.produce(["WETTER", "QUATSCHWORT"], max_frames=10, spans="counter")
    assert any("QUATSCHWORT" in n and "<unk>" in n for n in out.notes)
    from signstudio.production.pipeline import model_production

    production = model_production(producer, glosses[:2], max_frames=10)
    assert production.pose.body.data.shape[2] == 50 and [s.gloss for s in production.segments] == glosses[:2]


def test_rl_plc_training_and_cancellation(trained):
    folder, root, _, _ = trained
    cfg = _tiny_config(folder, epochs=12, batch_size=1, eval_every=12, rl_weight=1.0, plc=True, plc_threshold=0.5)
    task = RecordingTask()
    result = fit(cfg, task, output=root / "rl")
    assert task.partials[-1]["skipped"] > 0 and result.best_epoch == 12  # low-reward batches were skipped
    with pytest.raises(Cancelled):
        fit(cfg, RecordingTask(cancel_after=2), output=root / "cancel")


def test_the_shipped_config_loads():
    cfg = load_config(PROJECT_ROOT / "resources" / "configs" / "phoenix14t-signllm.yaml")
    assert cfg.model_type == "signllm" and cfg.data.dataset == "phoenix14t-skels" and cfg.data.language == "gsg"
    assert cfg.model.mode in ("mlsf", "prompt2langgloss")
    assert PRESETS["signllm-phoenix-skels"][0] == "signllm"


@needs_skels
def test_skeleton_splits_from_a_data_config():
    splits = load_skeleton_splits("phoenix14t-skels")
    assert [len(splits[s]) for s in ("train", "dev", "test")] == [5, 5, 5]


# ---------------------------------------------------------------------------- evaluation
def test_dtw_mje_known_answers():
    t = np.linspace(0, 1, 20)
    seq = np.zeros((20, 4, 3))
    seq[:, :, 0] = t[:, None] * np.arange(1, 5)[None]  # joints move along x at different speeds
    assert dtw_mje(seq, seq) == 0.0
    assert dtw_mje(seq, np.repeat(seq, 3, axis=0)) == pytest.approx(0.0, abs=1e-12)  # a slowed-down copy
    d = 0.25
    assert dtw_mje(seq, seq + np.array([0.0, 0.0, d])) == pytest.approx(d)  # offset orthogonal to the motion
    assert dtw_mje(seq[:1], seq[:1] + np.array([d, 0, 0])) == pytest.approx(d)
    mask = np.array([True, False, False, False])
    shifted = seq.copy()
    shifted[:, 1:] += 5.0  # only unmasked joints are off
    assert dtw_mje(seq, shifted, mask) == 0.0
    with pytest.raises(InputError):
        dtw_mje(seq, seq[:, :3])


@needs_skels
def test_back_translation_hook_with_the_boston_model():
    from signstudio.runtime.sign2text import load_translator

    model = PROJECT_ROOT / "models" / "boston104-signformer"
    if not (model / "model.pt").is_file():
        pytest.skip("the shipped BOSTON model is not installed")
    translator = load_translator(str(model))
    e = load_skels(SKELS, "test")[0]
    glosses = back_translate(e.frames, translator)
    assert isinstance(glosses, list) and glosses and all(g in translator.loaded.gloss_vocab.stoi for g in glosses)
    assert back_translate(skels_to_pose(e.frames), translator) == glosses  # a Pose gives the same
    scores = back_translation_scores([["JOHN", "LOVE", "MARY", "TOMORROW"]], [["JOHN", "LOVE", "MARY", "TOMORROW"]])
    assert scores["bleu4"] == pytest.approx(100.0) and scores["wer"] == 0.0
    assert back_translation_scores(["JOHN LOVE MARY"], ["JOHN"])["wer"] == pytest.approx(2 / 3)
    assert skeleton_header().total_points() == 50
