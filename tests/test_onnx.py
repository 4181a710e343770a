"""Issue 12: models exported to ONNX run in onnxruntime with PyTorch's outputs, without PyTorch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from signstudio.paths import PROJECT_ROOT

MODELS = PROJECT_ROOT / "models"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Copies of both shipped WLASL100 recognisers, each exported (fp32) beside its checkpoint."""
    from signstudio.export.onnx import export_model

    root = tmp_path_factory.mktemp("onnx-models")
    out = {}
    for name in ("wlasl100-continuous", "wlasl100-recognizer"):
        if not (MODELS / name / "model.pt").is_file():
            pytest.skip(f"{name} is not shipped")
        shutil.copytree(MODELS / name, root / name, ignore=shutil.ignore_patterns("onnx", "onnx-int8"))
        result = export_model(root / name)
        assert result.max_abs_diff["recognizer"] <= 1e-4
        out[name] = root / name
    return out


@pytest.fixture(scope="module")
def test_clips(data_dir_module):
    from signstudio.data.wlasl import load_wlasl_folder, pose_path
    from signstudio.pose.io import read_pose
    from signstudio.pose.landmarks import clip_landmarks

    folder = data_dir_module / "wlasl100"
    if not folder.is_dir():
        pytest.skip("WLASL100 is not in the data folder")
    splits, _ = load_wlasl_folder(folder)
    clips = [c for c in splits["test"] if pose_path(folder, c).is_file()]
    return [(*clip_landmarks(read_pose(pose_path(folder, c)), 25.0)[:2], c.label) for c in clips]


@pytest.fixture(scope="module")
def data_dir_module():
    from signstudio.paths import data_dir

    if not data_dir().is_dir():
        pytest.skip("no real data folder")
    return data_dir()


def _both(folder):
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.nets import recognizer_net

    torch_model = load_installed(str(folder), backend="torch")
    onnx_model = load_installed(str(folder), backend="onnx")
    assert onnx_model.backend == "onnx"
    return torch_model, onnx_model, recognizer_net(torch_model), recognizer_net(onnx_model)


@pytest.mark.parametrize("name", ["wlasl100-recognizer", "wlasl100-continuous"])
def test_onnx_matches_torch_on_every_wlasl100_test_clip(exported, test_clips, name):
    from signstudio.runtime.recognize import predict

    _, onnx_model, torch_net, onnx_net = _both(exported[name])
    max_frames = int(onnx_model.features.get("max_frames", 64))
    p_torch = predict(torch_net, test_clips, max_frames)
    p_onnx = predict(onnx_net, test_clips, max_frames)
    assert len(test_clips) == 258 and p_onnx.shape == p_torch.shape
    assert np.abs(p_onnx - p_torch).max() < 1e-4
    assert (p_onnx.argmax(1) == p_torch.argmax(1)).all()  # identical answers, hence identical top-1


def test_onnx_ctc_runs_and_live_captions_match_torch(exported, test_clips):
    from signstudio.data.sequences import fixed_sequences
    from signstudio.runtime.recognize import sequence_runs, streaming_glosses

    torch_model, onnx_model, torch_net, onnx_net = _both(exported["wlasl100-continuous"])
    sequences = fixed_sequences(test_clips, 60, seed=0)  # lengths from ~40 to ~300 frames
    lengths = {len(s[0]) for s in sequences}
    assert len(lengths) > 20  # many time lengths, none the export's own
    x = np.random.default_rng(0).normal(size=(2, 211, torch_net.model.config.input_dim)).astype(np.float32)
    n = np.array([211, 150])
    assert np.abs(onnx_net.ctc_log_probs(x, n) - torch_net.ctc_log_probs(x, n))[:, :150].max() < 1e-4
    runs_onnx, runs_torch = sequence_runs(onnx_net, sequences), sequence_runs(torch_net, sequences)
    assert [[label for label, _ in r] for r in runs_onnx] == [[label for label, _ in r] for r in runs_torch]
    assert max(abs(a[1] - b[1]) for ro, rt in zip(runs_onnx, runs_torch) for a, b in zip(ro, rt)) < 1e-4
    assert streaming_glosses(onnx_model, sequences[:10]) == streaming_glosses(torch_model, sequences[:10])


def test_translate_with_onnx_imports_neither_torch_nor_training(exported, data_dir_module):
    pose = sorted((data_dir_module / "wlasl100" / "poses").glob("*.pose"))[0]
    code = ("import sys, json; from signstudio.cli import main; "
            f"rc = main(['translate', {str(pose)!r}, '-m', {str(exported['wlasl100-continuous'])!r}, "
            "'--backend', 'onnx', '--json']); "
            "print(json.dumps({'rc': rc, 'torch': 'torch' in sys.modules, "
            "'training': [m for m in sys.modules if m.startswith('signstudio.training')]}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    lines = proc.stdout.strip().splitlines()
    result, report = json.loads(lines[0]), json.loads(lines[-1])
    assert report == {"rc": 0, "torch": False, "training": []}, proc.stderr[-2000:]
    assert result["model"] == "wlasl100-continuous" and "decoding" in result


def test_stale_missing_and_corrupt_exports_are_one_line(exported, tmp_path):
    from signstudio.errors import ModelError
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.onnx import find_export

    folder = tmp_path / "m"
    shutil.copytree(exported["wlasl100-recognizer"], folder)
    assert find_export(folder / "model.pt")[0] is not None
    with open(folder / "model.pt", "ab") as f:  # the checkpoint changes after the export
        f.write(b"\0")
    model, reason = find_export(folder / "model.pt")
    assert model is None and "changed since it was exported" in reason
    notes: list[str] = []
    with pytest.raises(ModelError, match="--backend onnx: .*changed since"):
        load_installed(str(folder), backend="onnx")
    shutil.rmtree(folder / "onnx")
    with pytest.raises(ModelError, match="no ONNX export"):
        load_installed(str(folder), backend="onnx")
    # a corrupt graph: one line naming the file
    broken = tmp_path / "b"
    shutil.copytree(exported["wlasl100-recognizer"], broken)
    (broken / "onnx" / "recognizer.onnx").write_bytes(b"not onnx")
    loaded = load_installed(str(broken), backend="onnx", notes=notes)
    from signstudio.runtime.nets import recognizer_net

    with pytest.raises(ModelError, match="recognizer.onnx: not a readable ONNX model"):
        recognizer_net(loaded).logits(np.zeros((1, 10, 10), np.float32), np.array([10]))


def test_cli_export_and_backend_errors(exported, tmp_path):
    from signstudio.cli import main

    folder = tmp_path / "r"
    shutil.copytree(exported["wlasl100-recognizer"], folder, ignore=shutil.ignore_patterns("onnx"))
    proc = subprocess.run([sys.executable, "-m", "signstudio", "translate", str(PROJECT_ROOT / "README.md"),
                           "-m", str(folder), "--backend", "onnx"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "no ONNX export" in proc.stderr
    assert main(["export", str(folder), "--quantize", "int8", "--json"]) == 0
    side = json.loads((folder / "onnx-int8" / "export.json").read_text())
    assert side["precision"] == "int8" and side["checkpoint"]["size"] == (folder / "model.pt").stat().st_size
    assert (folder / "onnx-int8" / "recognizer.onnx").stat().st_size < 0.4 * (
        exported["wlasl100-recognizer"] / "onnx" / "recognizer.onnx").stat().st_size


def test_a_runtime_without_torch_translates_and_says_what_else_needs_torch(exported, data_dir_module):
    """PyTorch made unimportable (as in a runtime-only install, `pip install signstudio` without the
    train extra): translating with an export works; a command that needs PyTorch says so in one line."""
    pose = sorted((data_dir_module / "wlasl100" / "poses").glob("*.pose"))[0]
    block = "import sys; sys.modules.update(torch=None, accelerate=None); from signstudio.cli import main; "
    ok = subprocess.run([sys.executable, "-c", block + f"sys.exit(main(['translate', {str(pose)!r}, '-m', "
                         f"{str(exported['wlasl100-continuous'])!r}, '--json']))"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert json.loads(ok.stdout)["model"] == "wlasl100-continuous"
    listed = subprocess.run([sys.executable, "-c", block + "sys.exit(main(['models', '--json']))"],
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr[-2000:]  # the exports' sidecars describe the models
    needs = subprocess.run([sys.executable, "-c", block + "sys.exit(main(['export', 'phoenix14t-signllm', "
                            f"'-o', {str(exported['wlasl100-continuous'] / 'x')!r}]))"],
                           capture_output=True, text=True, timeout=120)
    assert needs.returncode == 2 and needs.stderr.count("\n") == 1
    assert "this needs torch" in needs.stderr and "signstudio[train]" in needs.stderr
