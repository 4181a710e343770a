"""Issue 12: the PHOENIX-2014-T text models and SignLLM in onnxruntime — encoder plus a decoder
step with a key/value cache — give PyTorch's outputs on every sentence they are evaluated on, and
`produce` runs without PyTorch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from signstudio.paths import PROJECT_ROOT
from test_onnx_signformer import assert_decoders_agree

MODELS = PROJECT_ROOT / "models"
TEXT = ("phoenix14t-text2gloss", "phoenix14t-gloss2text")
#: Test BLEU-4 and ROUGE-L on each model card (models/<name>/README.md).
CARD = {"phoenix14t-text2gloss": (20.13, 55.24), "phoenix14t-gloss2text": (24.65, 51.76)}


def _shipped(name: str):
    if not (MODELS / name / "model.pt").is_file():
        pytest.skip(f"{name} is not shipped")
    return MODELS / name


@pytest.fixture(scope="module")
def text_copies(tmp_path_factory):
    """Copies of both shipped text models, each exported (fp32) beside its checkpoint (they ship
    their INT8 export, the default: it keeps BLEU-4 within half a point)."""
    from signstudio.export.onnx import export_model

    root = tmp_path_factory.mktemp("onnx-text")
    out = {}
    for name in TEXT:
        shutil.copytree(_shipped(name), root / name, ignore=shutil.ignore_patterns("onnx", "onnx-int8"))
        result = export_model(root / name)
        assert set(result.graphs) == {"encoder", "decoder_step"} and max(result.max_abs_diff.values()) <= 1e-4
        out[name] = root / name
    return out


def _phoenix_test(loaded):
    from signstudio.runtime.text import model_text_splits

    try:
        return model_text_splits(loaded)["test"]
    except Exception as exc:  # no PHOENIX-2014-T annotations here
        pytest.skip(f"PHOENIX-2014-T is not available: {exc}")


@pytest.mark.parametrize("name", TEXT)
def test_text_export_steps_like_torch(text_copies, name):
    """The cached decoder step gives the whole-prefix PyTorch decoder's log-probabilities (1e-4)
    on 64 test sentences, through 7 reordered steps; the shipped INT8 export is up to date."""
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.nets import text_net
    from signstudio.runtime.onnx import stale_reason
    from signstudio.runtime.text import TextTranslator, encode_sources

    shipped = _shipped(name)
    assert stale_reason(shipped / "onnx-int8", shipped / "model.pt") == ""
    folder = text_copies[name]
    onnx = TextTranslator(load_installed(str(folder), backend="onnx-fp32"))
    torch_ = TextTranslator(load_installed(str(folder), backend="torch"))
    assert onnx.backend == "onnx" and torch_.backend == "torch"
    assert onnx.src_vocab.itos == torch_.src_vocab.itos and onnx.decoding == torch_.decoding
    pairs = _phoenix_test(torch_.loaded)[:64]
    src, lengths = encode_sources([torch_.source_tokens(p.source) for p in pairs], torch_.src_vocab)
    got = onnx.net.encode(src, lengths)
    want = text_net(torch_.loaded).encode(src, lengths)
    assert np.array_equal(got["memory_mask"], want["mask"].numpy())
    assert_decoders_agree(torch_.net.decoder(want), onnx.net.decoder(got), len(pairs), len(torch_.tgt_vocab.itos))


@pytest.mark.parametrize("name", TEXT)
def test_text_models_translate_every_test_sentence_as_torch(text_copies, name):
    """Beam search in onnxruntime (key/value cache) writes PyTorch's (whole prefix) outputs on the
    first 160 test sentences, and the card's BLEU-4 and ROUGE-L on all 642 (which
    ``test_production`` checks PyTorch reproduces: one full PyTorch decode per suite is enough)."""
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.text import TextTranslator, score

    folder = text_copies[name]
    onnx = TextTranslator(load_installed(str(folder), backend="onnx-fp32"))
    pairs = _phoenix_test(onnx.loaded)
    assert len(pairs) == 642
    outputs = onnx.translate([p.source for p in pairs])
    torch_ = TextTranslator(load_installed(str(folder), backend="torch"))
    assert outputs[:160] == torch_.translate([p.source for p in pairs[:160]])
    scores = score([p.target for p in pairs], outputs)
    assert (round(scores["bleu4"], 2), round(scores["rouge_l"], 2)) == CARD[name]


def test_checked_translation_and_confidence_agree(text_copies):
    """The window's path (one sentence, reliability) gives the same glosses and confidence."""
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.text import TextTranslator

    folder = text_copies["phoenix14t-text2gloss"]
    text = "am tag wechseln sonne und wolken einander ab"
    a = TextTranslator(load_installed(str(folder), backend="torch")).translate_checked(text)
    b = TextTranslator(load_installed(str(folder), backend="onnx-fp32")).translate_checked(text)
    assert a.tokens == b.tokens and a.tokens
    assert abs(a.reliability.confidence - b.reliability.confidence) < 1e-4


@pytest.fixture(scope="module")
def signllm_copy(tmp_path_factory):
    """A copy of the shipped SignLLM, exported afresh (fp32) beside its checkpoint."""
    from signstudio.export.onnx import export_model

    if not (MODELS / "phoenix14t-signllm" / "model.pt").is_file():
        pytest.skip("phoenix14t-signllm is not shipped")
    folder = tmp_path_factory.mktemp("signllm") / "phoenix14t-signllm"
    shutil.copytree(MODELS / "phoenix14t-signllm", folder, ignore=shutil.ignore_patterns("onnx", "onnx-int8"))
    result = export_model(folder)
    assert set(result.graphs) == {"encoder_gsg", "decoder_step_gsg"}
    assert max(result.max_abs_diff.values()) <= 1e-4
    return folder


def test_signllm_counter_decoding_matches_torch_on_every_skeleton_sample(signllm_copy):
    """Every train/dev/test sentence of the skeleton samples: the same number of frames (the
    counter stops at the same step), joints and counter within 1e-4, cross-attention too."""
    from signstudio.data.skeletons import load_skeleton_splits, tag_glosses
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.nets import pose_net

    nets = {b: pose_net(load_installed(str(signllm_copy), backend=b)) for b in ("torch", "onnx")}
    assert nets["onnx"].backend == "onnx" and nets["onnx"].languages == nets["torch"].languages
    data = (load_installed(str(signllm_copy), backend="onnx").config.get("data") or {})
    try:
        splits = load_skeleton_splits(data.get("dataset", ""), data.get("path", ""), data.get("dev_every", 10))
    except Exception as exc:
        pytest.skip(f"the skeleton samples are not available: {exc}")
    examples = [e for s in ("train", "dev", "test") for e in splits[s]]
    assert examples
    for e in examples:
        ids = np.array(nets["torch"].vocab.encode(tag_glosses(e.glosses, "gsg")))
        want = nets["torch"].generate(ids, "gsg", 2 * len(e.frames))
        got = nets["onnx"].generate(ids, "gsg", 2 * len(e.frames))
        assert len(got[0]) == len(want[0])
        for g, w in zip(got, want):
            assert g.shape == w.shape and np.abs(g - w).max() < 1e-4


def test_signllm_evaluate_with_onnx_gives_the_torch_dtw_mje(signllm_copy, capsys):
    from signstudio.cli import main

    results = {}
    for backend in ("torch", "onnx"):
        assert main(["evaluate", str(signllm_copy), "--split", "test", "--backend", backend, "--json"]) == 0
        results[backend] = json.loads(capsys.readouterr().out)
    got, want = results["onnx"], results["torch"]
    assert got["dtw_mje"] == want["dtw_mje"] and got["length_ratio"] == want["length_ratio"]  # as rounded
    assert [e["frames"] for e in got["examples"]] == [e["frames"] for e in want["examples"]]
    assert max(abs(a["dtw_mje"] - b["dtw_mje"]) for a, b in zip(got["examples"], want["examples"])) < 1e-5


def test_produce_and_translate_import_neither_torch_nor_training(tmp_path):
    """`produce` with the model method (text-to-gloss model, then SignLLM, then the video) and
    `translate` with an encoder-decoder (boston104-signformer), in a fresh interpreter where
    PyTorch cannot be imported; both shipped exports are used, and the output is PyTorch's."""
    _shipped("phoenix14t-signllm")
    _shipped("phoenix14t-text2gloss")
    from signstudio.paths import data_dir

    pose = data_dir() / "poses" / "mediapipe.pose"
    if not pose.is_file():
        pytest.skip("no Holistic .pose sample in the data folder")
    out = tmp_path / "p.pose"
    code = ("import sys, json; sys.modules.update(torch=None, accelerate=None); from signstudio.cli import main; "
            f"a = main(['produce', 'morgen regnet es im norden', '--lang', 'dgs', '--method', 'model', "
            f"'-o', {str(out)!r}, '--video', {str(tmp_path / 'p.mp4')!r}, '--json']); "
            f"b = main(['translate', {str(pose)!r}, '-m', 'boston104-signformer', '--json']); "
            "print(json.dumps({'rc': [a, b], 'training': [m for m in sys.modules if m.startswith('signstudio.training')]}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and json.loads(lines[-1]) == {"rc": [0, 0], "training": []}, proc.stderr[-2000:]
    produced, translated = json.loads(lines[0]), json.loads(lines[1])
    assert any("SignLLM, run by onnxruntime" in n for n in produced["notes"])
    assert out.is_file() and (tmp_path / "p.mp4").stat().st_size > 0
    from signstudio.production.pipeline import produce
    from signstudio.runtime.sign2text import load_translator, translate_file

    # the shipped exports are INT8 (their default): the same as in this process, which has PyTorch
    reference = produce("morgen regnet es im norden", "dgs", method="model", backend="onnx")
    assert produced["glosses"] == reference.glosses and produced["frames"] == reference.frames
    assert translated["glosses"] == translate_file(pose, load_translator("boston104-signformer", "onnx")).glosses


def test_metrics_recorded_later_keep_the_export_up_to_date(tmp_path):
    """`evaluate --record` rewrites the checkpoint (new metrics, same weights): the export stays
    usable and lists the new metrics; a changed weight file still makes it stale."""
    from signstudio.runtime.checkpoint import update_metrics
    from signstudio.runtime.installed import model_info
    from signstudio.runtime.onnx import find_export

    folder = tmp_path / "m"
    shutil.copytree(_shipped("phoenix14t-signllm"), folder)
    update_metrics(folder, {"test_dtw_mje": 0.5})
    model, reason = find_export(folder / "model.pt")
    assert model is not None, reason
    assert model.metrics["test_dtw_mje"] == 0.5 and model_info(folder).metrics["test_dtw_mje"] == 0.5
    with open(folder / "model.pt", "ab") as f:
        f.write(b"\0")
    assert find_export(folder / "model.pt")[0] is None


def test_a_corrupt_decoder_step_is_one_line(tmp_path):
    folder = tmp_path / "t"
    shutil.copytree(_shipped("phoenix14t-gloss2text"), folder)
    (folder / "onnx-int8" / "decoder_step.onnx").write_bytes(b"\0" * 64)
    proc = subprocess.run([sys.executable, "-m", "signstudio", "evaluate", str(folder), "--split", "test",
                           "--backend", "onnx"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr[-2000:]
    assert "decoder_step.onnx: not a readable ONNX model" in proc.stderr


def test_every_shipped_model_has_an_up_to_date_export():
    """Every shipped model runs in onnxruntime: each export matches its checkpoint and lists
    the model without PyTorch; INT8 is shipped (hence the default) for the five whose card metric
    it keeps within half a point (benchmarks/int8_quality.py), fp32 for the WLASL100 recognisers and the video model."""
    from signstudio.runtime.onnx import EXPORT_FOLDERS, export_metadata, find_export, stale_reason

    shipped = sorted(p.parent for p in MODELS.glob("*/model.pt"))
    if not shipped:
        pytest.skip("no shipped models")
    from signstudio.export.onnx import EXPORTABLE
    from signstudio.runtime.checkpoint import read_metadata

    for folder in shipped:
        if read_metadata(folder / "model.pt")["model_type"] not in EXPORTABLE:
            # SpaMo runs its LLM in PyTorch (transformers + peft): no export, by design (its card says so).
            assert read_metadata(folder / "model.pt")["model_type"] == "spamo", folder.name
            continue
        exports = [folder / f for f in EXPORT_FOLDERS.values() if (folder / f / "export.json").is_file()]
        assert exports, f"{folder.name} has no export"
        for export in exports:
            assert stale_reason(export, folder / "model.pt") == "", export
        assert export_metadata(folder / "model.pt")["task"]
        model, _ = find_export(folder / "model.pt")
        int8 = folder.name.startswith(("boston104-", "phoenix14t-"))
        assert model.precision == ("int8" if int8 else "fp32"), folder.name
