"""Issue 13: the spatio-temporal transformer's parts on real inputs — the frozen ImageNet backbone,
DIS optical flow, the 2D positional encoding and pixel-wise attention — and its recipe on the
single training loop, trained on real WLASL video."""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import replace

import cv2
import numpy as np
import pytest
import torch

from signstudio.errors import ModelError


def _grace_hopper() -> np.ndarray:
    """matplotlib's sample photograph of Grace Hopper in uniform, centre square at 224 px (RGB)."""
    import matplotlib

    from signstudio.data.video_features import square

    path = f"{matplotlib.get_data_path()}/sample_data/grace_hopper.jpg"
    return square(cv2.imread(path)[:, :, ::-1], 224)


def test_backbone_loads_real_imagenet_weights_and_classifies_a_photo():
    """A silent mis-load cannot pass: the shipped EfficientNet-Lite0 names ImageNet class 652
    ("military uniform") first for the photograph, and its map is 1280x7x7."""
    from signstudio.models.backbones import load_backbone, normalise

    net = load_backbone()
    x = normalise(torch.from_numpy(np.ascontiguousarray(_grace_hopper()))[None])
    with torch.no_grad():
        probs = net(x).softmax(-1)[0]
        maps = net.features(x)
    assert int(probs.argmax()) == 652 and float(probs[652]) > 0.3
    assert maps.shape == (1, 1280, 7, 7)
    assert not any(p.requires_grad for p in net.parameters())


def test_backbone_refuses_wrong_or_missing_weights(tmp_path):
    from signstudio.models.backbones import EfficientNetLite0, load_backbone

    with pytest.raises(ModelError, match="needs its ImageNet weights"):
        load_backbone("resnet18")
    wrong = tmp_path / "w.pth"
    torch.save(EfficientNetLite0().state_dict(), wrong)
    with pytest.raises(ModelError, match="not resnet18 weights"):
        load_backbone("resnet18", wrong)
    (tmp_path / "bad.pth").write_bytes(b"nope")
    with pytest.raises(ModelError, match="not a readable weights file"):
        load_backbone("efficientnet-lite0", tmp_path / "bad.pth")


def test_dis_flow_recovers_a_known_shift_on_a_real_frame(data_dir):
    """A real WLASL frame moved 3 px right and 2 px down: the encoded flow decodes to (3, 2)."""
    from signstudio.capture.flow import decode_flow, flow_image
    from signstudio.data.video_features import read_frames

    videos = sorted((data_dir / "wlasl100" / "videos").glob("*.mp4"))
    if not videos:
        pytest.skip("no WLASL videos in the data folder")
    frame = cv2.cvtColor(read_frames(videos[0])[0], cv2.COLOR_RGB2GRAY)
    moved = cv2.warpAffine(frame, np.float32([[1, 0, 3], [0, 1, 2]]), (224, 224), borderMode=cv2.BORDER_REFLECT)
    flow = decode_flow(flow_image(frame, moved))[20:-20, 20:-20]
    assert abs(float(np.median(flow[..., 0])) - 3) < 0.3 and abs(float(np.median(flow[..., 1])) - 2) < 0.3
    still = flow_image(frame, frame)
    assert np.abs(decode_flow(still)).max() < 0.5 and still[..., 2].max() < 10


def test_2d_positional_encoding_gives_rows_and_columns_their_own_halves():
    from signstudio.models.spatiotemporal import positional_encoding_2d

    pe = positional_encoding_2d(16)
    assert pe.shape == (16, 7, 7)
    assert torch.equal(pe[:8, :, 0], pe[:8, :, 6])  # row half: the same along a row
    assert torch.equal(pe[8:, 0, :], pe[8:, 6, :])  # column half: the same down a column
    assert len({tuple(pe[:, i, j].tolist()) for i in range(7) for j in range(7)}) == 49  # every pixel distinct
    with pytest.raises(ValueError):
        positional_encoding_2d(15)


def test_pixel_attention_spans_the_whole_map_and_the_model_trains_both_losses():
    from signstudio.models.spatiotemporal import SpatioTemporalConfig, SpatioTemporalTransformer

    torch.manual_seed(0)
    model = SpatioTemporalTransformer(SpatioTemporalConfig(input_channels=32, d_model=16, spatial_heads=2,
                                                           conv_channels=8, ff_dim=32, text_vocab_size=10,
                                                           gloss_vocab_size=10, dropout=0.0))
    maps, lengths = torch.randn(3, 5, 32, 7, 7), torch.tensor([5, 4, 2])
    memory, mask, attn = model.encode(maps, lengths, return_attention=True)
    assert memory.shape == (3, 5, 16) and attn.shape == (3, 5, 2, 49, 49)
    assert torch.allclose(attn.sum(-1), torch.ones(3, 5, 2, 49), atol=1e-5)
    assert (attn > 0).all()  # every position attends to every position of its frame
    assert torch.equal(mask, torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0], [1, 1, 0, 0, 0]], dtype=torch.bool))
    out = model(maps, lengths, torch.tensor([[2, 5], [2, 6], [2, 7]]))
    assert out["gloss_log_probs"].shape == (3, 5, 10) and out["text_log_probs"].shape == (3, 2, 10)
    flat = SpatioTemporalTransformer(SpatioTemporalConfig(input_channels=32, d_model=16, pe_2d=False,
                                                          text_vocab_size=10))
    assert float(flat.pe2d.abs().sum()) == 0.0 and flat.gloss_head is None


@pytest.fixture(scope="module")
def trained(tiny_wlasl, tmp_path_factory):
    """`fit` with the video recipe on the tiny split (4-frame maps cached in a temporary folder):
    ``(WLASL folder, cache folder, run folder)``."""
    from signstudio.data.video_features import FrameSettings, cache_folder
    from signstudio.training.config import load_config
    from signstudio.training.loop import fit

    folder, videos = tiny_wlasl
    root = tmp_path_factory.mktemp("video-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIGNSTUDIO_CACHE", str(root / "cache"))
        cfg = load_config("resources/configs/wlasl100-video-flow.yaml")
        cfg = replace(cfg, data=replace(cfg.data, path=str(folder), videos=str(videos), frames=4),
                      model=replace(cfg.model, d_model=32, conv_channels=16, ff_dim=64, dropout=0.0),
                      train=replace(cfg.train, epochs=60, batch_size=7, eval_every=60, warmup_steps=5,
                                    learning_rate=3e-3, min_frames=4, drop_frames=0.0, label_smoothing=0.0))
        result = fit(cfg, output=root / "run")
        cache = cache_folder(FrameSettings(frames=4))
    assert result.metrics["dev_n"] == 6
    return folder, cache, root / "run"


def test_video_recipe_trains_on_real_wlasl_video_through_the_one_loop(trained):
    """The maps are computed once (flow through the backbone), cached outside the run folder, and
    the model fits its training clips (train top-1 at least 70 %)."""
    from signstudio.data.video_features import load_clip_maps
    from signstudio.data.wlasl import load_wlasl
    from signstudio.runtime.checkpoint import load_model
    from signstudio.runtime.video import class_log_probs, top_k_accuracy

    folder, cache, run = trained
    assert len(list(cache.glob("*.npz"))) == 20 and not list(run.glob("*.npz"))
    loaded = load_model(run / "model.pt")
    assert loaded.features["kind"] == "video_maps" and loaded.features["stream"] == "flow"
    clips = [c for c in load_wlasl(folder / "nslt_100.json", folder / "WLASL100.json") if c.split == "train"]
    maps = [load_clip_maps(cache, c.video_id, "flow") for c in clips]
    ids = np.array([loaded.text_vocab.stoi[g] for g in loaded.features["classes"]])
    acc = top_k_accuracy(class_log_probs(loaded.model, maps, ids), np.array([c.label for c in clips]))
    assert acc["top1"] >= 70, acc  # it learned its training clips


def test_a_video_model_translates_the_video_and_refuses_landmarks(trained, tiny_wlasl, capsys):
    """`signstudio translate VIDEO -m MODEL` names a training clip's gloss from the video itself
    (the same maps as the cache); a .pose input, in the CLI and in the window's job, is one line."""
    from signstudio.cli import main
    from signstudio.data.wlasl import load_wlasl
    from signstudio.errors import InputError
    from signstudio.gui.translate.jobs import translate_job
    from signstudio.tasks import NullTask

    folder, _, run = trained
    _, videos = tiny_wlasl
    clip = next(c for c in load_wlasl(folder / "nslt_100.json", folder / "WLASL100.json") if c.split == "train")
    assert main(["translate", str(videos / f"{clip.video_id}.mp4"), "-m", str(run), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["glosses"] == [clip.gloss.upper()] and len(out["segments"][0]["alternatives"]) == 5
    assert "optical flow" in out["decoding"] and out["seconds"]["backbone"] > 0
    pose = run / "clip.pose"  # refused by its kind, before it is read
    pose.write_bytes(b"")
    assert main(["translate", str(pose), "-m", str(run)]) == 2
    assert "reads video frames, not landmarks" in capsys.readouterr().err
    with pytest.raises(InputError, match="open a video file"):
        translate_job(None, str(run), video=str(pose))(NullTask())


def _write_frames(video, folder, count: int = 6) -> None:
    """``count`` frames of a real video as 210x260 PNGs (PHOENIX's frame size) in ``folder``."""
    from signstudio.data.video_features import read_frames

    folder.mkdir(parents=True)
    for i, frame in enumerate(read_frames(video)[:count]):
        cv2.imwrite(str(folder / f"images{i + 1:04d}.png"), cv2.resize(frame[:, :, ::-1], (210, 260)))


def test_phoenix_frame_folders_and_sentence_lists_load_real_frames(data_dir, tmp_path):
    """A PHOENIX-2014-T layout made of real frames (two dev clips named as in the slt annotations)
    and a CoL-SLTD-style list over the shared videos: both load, and their frames become flow maps."""
    from signstudio.data.frame_datasets import clip_frames, load_phoenix_frames, load_sentence_list
    from signstudio.data.slt import load_slt
    from signstudio.data.video_features import clip_images

    videos = sorted((data_dir / "wlasl100" / "videos").glob("*.mp4"))[:2]
    try:
        dev = load_slt("dev")[:2]
    except Exception as exc:
        pytest.skip(f"no slt annotations: {exc}")
    if len(videos) < 2:
        pytest.skip("no WLASL videos in the data folder")
    root = tmp_path / "PHOENIX-2014-T"
    for ex, video in zip(dev, videos):
        _write_frames(video, root / "features" / "fullFrame-210x260px" / ex.name)
    clips = load_phoenix_frames(root, "dev")
    assert [c.id for c in clips] == [ex.name for ex in dev]
    assert clips[0].glosses == list(dev[0].glosses) and len(clips[0].frames) == 6
    frames = clip_frames(clips[0])
    assert len(frames) == 6 and frames[0].shape == (224, 224, 3)
    assert clip_images(frames, 4)["flow"].shape == (4, 224, 224, 3)

    (tmp_path / "col").mkdir()
    for v in videos:
        shutil.copy(v, tmp_path / "col" / v.name)
    (tmp_path / "col" / "sentences.txt").write_text(
        f"video|sentence|split\n{videos[0].name}|Hola buenos días|train\n{videos[1].name}|Gracias|test\n")
    col = load_sentence_list(tmp_path / "col")
    assert [(c.split, c.text) for c in col] == [("train", ["hola", "buenos", "días"]), ("test", ["gracias"])]
    assert len(clip_frames(col[1])) > 10
    (tmp_path / "col" / "sentences.txt").write_text("a.mp4\n")
    from signstudio.errors import InputError

    with pytest.raises(InputError, match=r"sentences.txt:1: expected VIDEO\|SENTENCE"):
        load_sentence_list(tmp_path / "col")
    with pytest.raises(InputError, match="no PHOENIX-2014-T frame folder"):
        load_phoenix_frames(tmp_path / "col", "dev")


def test_evaluate_scores_a_video_model_from_its_videos_or_the_cache_alike(trained, tiny_wlasl, monkeypatch, capsys):
    """`signstudio evaluate RUN --split dev` computes the maps of the 6 dev clips from their videos
    when nothing is cached, and reads them from the cache when it is there: the same top-1/top-5."""
    from signstudio.cli import main

    _, cache, run = trained
    monkeypatch.setenv("SIGNSTUDIO_CACHE", str(run / "empty-cache"))
    assert main(["evaluate", str(run), "--split", "dev", "--json"]) == 0
    fresh = json.loads(capsys.readouterr().out)
    assert (fresh["task"], fresh["n"], fresh["cached"], fresh["missing"]) == ("sign-recognition", 6, 0, 0)
    monkeypatch.setenv("SIGNSTUDIO_CACHE", str(cache.parent.parent))
    assert main(["evaluate", str(run), "--split", "dev", "--json"]) == 0
    cached = json.loads(capsys.readouterr().out)
    assert cached["cached"] == 6 and (cached["top1"], cached["top5"]) == (fresh["top1"], fresh["top5"])
    assert 0 <= fresh["top1"] <= fresh["top5"] <= 100


def test_both_streams_concatenate_along_the_channels(trained, tiny_wlasl):
    """`stream: rgb+flow` reads the RGB and flow maps of a clip as one (T, 2C, 7, 7) array; an
    unknown stream is one line."""
    from signstudio.data.video_features import load_clip_maps, stream_parts
    from signstudio.errors import InputError

    _, cache, _ = trained
    vid = next(cache.glob("*.npz")).stem
    rgb, flow = load_clip_maps(cache, vid, "rgb"), load_clip_maps(cache, vid, "flow")
    both = load_clip_maps(cache, vid, "rgb+flow")
    assert both.shape == (4, 2 * rgb.shape[1], 7, 7)
    assert np.array_equal(both[:, : rgb.shape[1]], rgb) and np.array_equal(both[:, rgb.shape[1]:], flow)
    assert stream_parts("rgb+flow") == ("rgb", "flow")
    with pytest.raises(InputError, match="unknown video stream 'depth'"):
        stream_parts("depth")


@pytest.fixture(scope="module")
def video_record(trained, tiny_wlasl, tmp_path_factory):
    """`signstudio attention VIDEO -m RUN -o rec.npz --spatial-png sheet.png --json` on a training
    clip: ``(payload, record path, sheet path, the clip's gloss)``."""
    from signstudio.cli import main
    from signstudio.data.wlasl import load_wlasl

    folder, _, run = trained
    _, videos = tiny_wlasl
    clip = next(c for c in load_wlasl(folder / "nslt_100.json", folder / "WLASL100.json") if c.split == "train")
    out = tmp_path_factory.mktemp("video-attention")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sys.stdout", io.StringIO())
        import sys

        assert main(["attention", str(videos / f"{clip.video_id}.mp4"), "-m", str(run), "-o", str(out / "rec.npz"),
                     "--spatial-png", str(out / "sheet.png"), "--json"]) == 0
        payload = json.loads(sys.stdout.getvalue())
    return payload, out / "rec.npz", out / "sheet.png", clip.gloss.upper()


def test_attention_records_the_2d_spatial_attention_of_every_frame(video_record, trained):
    """The record holds each sampled frame's 7x7 x 7x7 attention (rows sum to 1) and the frames it
    came from, survives a save/load round trip, and the PNG draws all 4 frames; the output token
    is what translate names; the map of one position differs from another's."""
    from signstudio.interpret.record import load_record
    from signstudio.interpret.spatial import spatial_map

    payload, path, sheet, gloss = video_record
    record = load_record(path)
    assert record.tokens == [gloss, "</s>"] and record.spatial.shape == (4, 1, 49, 49)
    assert np.allclose(record.spatial.sum(-1), 1.0, atol=1e-4)
    assert record.frame_images.shape == (4, 224, 224, 3) and record.cross[0].shape == (4, 2, 4)
    assert payload["spatial"]["grid"] == 7 and len(payload["spatial"]["peak_cells"]) == 4
    assert cv2.imread(str(sheet)).shape == (224, 4 * 224, 3)
    a, b = spatial_map(record, 0, 0), spatial_map(record, 0, 48)
    assert a.shape == (7, 7) and abs(a.sum() - 1) < 1e-4 and not np.allclose(a, b)
    assert np.allclose(spatial_map(record, 0), record.spatial[0, 0].mean(0).reshape(7, 7))


def test_attention_refuses_landmarks_for_a_video_model_and_spatial_png_for_others(trained, capsys):
    """A .pose for a video model, and --spatial-png for a model without 2D attention: one line, exit 2."""
    from helpers import require_model

    from signstudio.cli import main

    _, _, run = trained
    pose = run / "clip.pose"
    pose.write_bytes(b"")
    assert main(["attention", str(pose), "-m", str(run), "-o", str(run / "a.npz")]) == 2
    assert "reads video frames, not landmarks" in capsys.readouterr().err
    require_model("boston104-signformer")
    assert main(["attention", str(pose), "-m", "boston104-signformer", "-o", str(run / "a.npz"),
                 "--spatial-png", str(run / "a.png")]) == 2
    err = capsys.readouterr().err
    assert "--spatial-png draws a video model's 2D spatial attention" in err and "Traceback" not in err
    assert not (run / "a.npz").exists()


def test_a_record_that_claims_spatial_attention_must_hold_it(video_record, tmp_path):
    """A record whose header says it has spatial attention but lacks the arrays is one line."""
    from signstudio.errors import InputError
    from signstudio.interpret.record import load_record

    _, path, _, _ = video_record
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files if k != "spatial"}
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(InputError, match="missing spatial"):
        load_record(bad)


@pytest.mark.gui
def test_the_attention_tab_draws_a_frames_spatial_attention_over_it(video_record, shown_widgets):
    """The Attention tab shows a video record's frame with its 2D attention: the frame slider, a
    query position and a click on the cross-attention heatmap's frame all change what is drawn."""
    pytest.importorskip("pytestqt")
    from signstudio.gui.attention import AttentionTab
    from signstudio.interpret.record import load_record

    _, path, _, gloss = video_record
    tab = shown_widgets(AttentionTab)
    assert tab.load_record_object(load_record(path))
    panel = tab.analysis.spatial_panel
    assert tab.clip_stack.currentWidget() is panel and not panel.image.pixmap().isNull()
    kinds = [tab.kind_combo.itemData(i) for i in range(tab.kind_combo.count())]
    assert kinds == ["cross", "decoder_self"]  # no frames x frames encoder attention to show
    mean = panel.displayed_map()
    panel.set_position(24)
    assert not np.allclose(panel.displayed_map(), mean) and "row 4, column 4" in panel.caption.text()
    tab.analysis._cell_clicked(0, 2)
    assert panel.slider.value() == 2 and panel.caption.text().startswith("Frame 3 of 4")
    summary = tab.summary_label.text().replace("&nbsp;", " ")
    assert gloss in summary and "2D spatial encoder layer" in summary


def test_flow_to_the_next_sampled_frame_sees_more_motion_and_has_its_own_cache(data_dir):
    """On a real clip, the flow from each of 16 sampled frames to the next sampled one moves more
    pixels than the flow to the next video frame, and the two settings never share a cache folder."""
    from signstudio.data.video_features import FLOW_PAIRS, FrameSettings, clip_images, read_frames

    video = data_dir / "wlasl100" / "videos" / "07092.mp4"
    if not video.is_file():
        pytest.skip("the WLASL100 sample videos are not in the data folder")
    frames = read_frames(video)
    near = clip_images(frames, 16, ("flow",))["flow"][..., 2].astype(float)
    far = clip_images(frames, 16, ("flow",), to_next_sample=True)["flow"][..., 2].astype(float)
    assert far.mean() > 1.5 * near.mean() > 0
    a, b = FrameSettings(), FrameSettings(flow=FLOW_PAIRS["next-sample"])
    assert b.to_next_sample and not a.to_next_sample and a.key != b.key


@pytest.mark.gui
def test_the_translate_tab_names_a_clips_sign_with_a_video_model(trained, tiny_wlasl, shown_widgets, qtbot,
                                                                  monkeypatch):
    """In the window, a video model picked in the Translate tab reads the opened video itself and
    shows the training clip's gloss with its candidates, without an error."""
    pytest.importorskip("pytestqt")
    from signstudio.data.wlasl import load_wlasl
    from signstudio.gui.translate.tab import TranslateTab

    folder, _, run = trained
    _, videos = tiny_wlasl
    clip = next(c for c in load_wlasl(folder / "nslt_100.json", folder / "WLASL100.json") if c.split == "train")
    monkeypatch.setenv("SIGNSTUDIO_USER_MODELS", str(run.parent))
    tab = shown_widgets(TranslateTab)
    qtbot.waitUntil(tab.models_ready, timeout=60_000)
    assert tab.model_combo.select(run.name)
    with qtbot.waitSignal(tab.translation_ready, timeout=180_000):
        assert tab.open_path(videos / f"{clip.video_id}.mp4")
    translation = tab.translation()
    assert translation.glosses == [clip.gloss.upper()] and not tab.error_text()
    assert len(translation.segments[0]["alternatives"]) == 5


def test_a_video_model_exports_to_onnx_and_translates_without_torch(trained, tiny_wlasl, tmp_path):
    """`signstudio export RUN` writes the backbone and the model as ONNX graphs; onnxruntime gives
    PyTorch's class scores on a real clip; with PyTorch unimportable (a runtime-only install),
    `translate` names the same gloss from the video."""
    import subprocess
    import sys

    from signstudio.cli import main
    from signstudio.data.wlasl import load_wlasl
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.video import VideoTranslator

    folder, _, run = trained
    _, videos = tiny_wlasl
    model = tmp_path / "video-model"
    shutil.copytree(run, model, ignore=shutil.ignore_patterns("*.pose", "*.npz", "*cache*", "train_state.pt"))
    assert main(["export", str(model)]) == 0
    assert {p.name for p in (model / "onnx").iterdir()} == {"backbone.onnx", "video.onnx", "export.json"}
    clip = next(c for c in load_wlasl(folder / "nslt_100.json", folder / "WLASL100.json") if c.split == "train")
    video = videos / f"{clip.video_id}.mp4"
    by_torch = VideoTranslator(load_installed(str(model)))
    by_onnx = VideoTranslator(load_installed(str(model), backend="onnx"))
    maps_t, maps_o = by_torch.maps(video)[0], by_onnx.maps(video)[0]
    assert np.abs(maps_t.astype(np.float32) - maps_o.astype(np.float32)).max() < 0.02  # float16 maps
    scores_t = by_torch.net.class_log_probs([maps_t], by_torch.class_ids)
    scores_o = by_onnx.net.class_log_probs([maps_t], by_onnx.class_ids)
    assert np.abs(scores_t - scores_o).max() < 1e-3
    block = "import sys; sys.modules.update(torch=None, accelerate=None); from signstudio.cli import main; "
    proc = subprocess.run([sys.executable, "-c", block + f"sys.exit(main(['translate', {str(video)!r}, '-m', "
                           f"{str(model)!r}, '--json']))"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["glosses"] == [clip.gloss.upper()]


def test_the_shipped_video_model_reproduces_its_card_on_the_shared_test_clips(data_dir, tmp_path, monkeypatch,
                                                                             capsys):
    """`signstudio evaluate wlasl100-video-rgb --split test` from the 20 shared WLASL100 test videos
    (no feature cache: every map computed from the video) gives the card's 30.0 / 60.0, in
    onnxruntime (the default) and in PyTorch alike."""
    from helpers import require_model

    from signstudio.cli import main

    require_model("wlasl100-video-rgb")
    if len(list((data_dir / "wlasl100" / "videos").glob("*.mp4"))) < 20:
        pytest.skip("the 20 WLASL100 test videos are not in the data folder")
    monkeypatch.setenv("SIGNSTUDIO_CACHE", str(tmp_path / "cache"))
    for backend in ("auto", "torch"):
        assert main(["evaluate", "wlasl100-video-rgb", "--split", "test", "--backend", backend, "--json"]) == 0
        res = json.loads(capsys.readouterr().out)
        assert (res["n"], res["cached"], res["top1"], res["top5"]) == (20, 0, 30.0, 60.0), res
    assert res["backend"] == "torch"
