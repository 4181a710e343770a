"""The training probe: bad configs, hostile outputs and interrupted runs through ``signstudio train``.

Each case asserts the exit status, exactly one ``signstudio: error:`` line on stderr (no
traceback, no "internal error"), and that nothing was lost: a run already in the output folder
keeps its files byte for byte. The count of cases is printed by ``-s`` (``PROBE: n cases``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from signstudio.cli import main
from signstudio.paths import PROJECT_ROOT

from helpers import tiny_boston_config  # tests/ is on sys.path under pytest

#: The tiny BOSTON-104 run ``probe`` (no beam_size: the trainer's default).
TINY = tiny_boston_config("probe", beam_size=None)


def _with(**train: object) -> str:
    """TINY with ``train:`` values replaced or added (YAML text)."""
    return tiny_boston_config("probe", **{"beam_size": None, **train})


# (id, config text or bytes, extra arguments, words the one error line must contain)
CONFIG_CASES = [
    ("batch-size-0", _with(batch_size=0), [], "train.batch_size must be at least 1"),
    ("batch-size-negative", _with(batch_size=-4), [], "train.batch_size must be at least 1"),
    ("epochs-0", _with(epochs=0), [], "train.epochs must be at least 1"),
    ("epochs-negative", _with(epochs=-3), [], "train.epochs must be at least 1"),
    ("epochs-flag-0", TINY, ["--epochs", "0"], "--epochs must be between 1"),
    ("epochs-flag-negative", TINY, ["--epochs", "-2"], "--epochs must be between 1"),
    ("epochs-flag-text", TINY, ["--epochs", "two"], "invalid int value"),
    ("eval-every-0", _with(eval_every=0), [], "train.eval_every must be at least 1"),
    ("threads-negative", _with(threads=-1), [], "train.threads must be at least 0"),
    ("beam-0", _with(beam_size=0), [], "train.beam_size must be at least 1"),
    ("lr-nan", _with(learning_rate=".nan"), [], "train.learning_rate must be a finite number"),
    ("lr-inf", _with(learning_rate=".inf"), [], "train.learning_rate must be a finite number"),
    ("lr-negative", _with(learning_rate=-0.1), [], "train.learning_rate must be at least"),
    ("lr-zero", _with(learning_rate=0), [], "train.learning_rate must be at least"),
    ("smoothing-1", _with(label_smoothing=1.0), [], "train.label_smoothing must be at most"),
    ("seed-negative", _with(seed=-1), [], "train.seed must be at least 0"),
    ("lr-text", _with(learning_rate="fast"), [], "train.learning_rate must be float"),
    ("epochs-float", _with(epochs=2.5), [], "train.epochs must be int"),
    ("epochs-bool", _with(epochs="true"), [], "train.epochs must be int"),
    ("unknown-train-key", _with(epoch=3), [], "unknown key(s) in train: epoch"),
    ("other-family-key", _with(plc="true"), [], "unknown key(s) in train: plc"),
    ("unknown-top-key", TINY + "bogus: 1\n", [], "unknown top-level key(s): bogus"),
    ("name-absolute", TINY.replace("name: probe", "name: /etc/cron.d"), [], "must be a plain name"),
    ("name-parent", TINY.replace("name: probe", "name: ../escape"), [], "must be a plain name"),
    ("name-missing", TINY.replace("name: probe\n", ""), [], "needs a `name`"),
    ("name-number", TINY.replace("name: probe", "name: 42"), [], "needs a `name`"),
    ("output-absolute", TINY + "output: /etc/cron.d\n", [], "must be a relative folder"),
    ("output-escapes", TINY + "output: ../../outside\n", [], "must be a relative folder"),
    ("output-home", TINY + "output: ~/x\n", [], "must be a relative folder"),
    ("model-missing", "name: x\n", [], "needs a `model`"),
    ("model-list", "name: x\nmodel: [1, 2]\n", [], "model must be a mapping"),
    ("unknown-type", "name: x\nmodel: {type: nope}\n", [], "unknown model type 'nope'"),
    ("unknown-preset", "name: x\nmodel: {preset: nope}\n", [], "unknown preset 'nope'"),
    ("heads-0", TINY.replace("  d_model: 32", "  d_model: 32\n  num_heads: 0"), [], "model.num_heads must be at least 1"),
    ("ff-negative", TINY.replace("  ff_dim: 64", "  ff_dim: -1"), [], "model.ff_dim must be at least 1"),
    ("heads-not-dividing", TINY.replace("  d_model: 32", "  d_model: 32\n  num_heads: 3"), [], "not divisible"),
    ("dropout-nan", TINY.replace("  ff_dim: 64", "  ff_dim: 64\n  dropout: .nan"), [], "model.dropout must be a finite"),
    ("unknown-dataset", TINY.replace("dataset: boston104", "dataset: nope"), [], "data.dataset must be one of boston104"),
    ("crop-2", TINY.replace("augment: false", "augment: false\n  crop_glosses: 2.0"), [], "data.crop_glosses must be at most 1"),
    ("data-list", TINY.replace("data:\n  dataset: boston104\n  augment: false", "data: [1]"), [], "data must be a mapping"),
    ("yaml-syntax", "name: x\nmodel: [unclosed\n", [], "invalid YAML"),
    ("yaml-empty", "", [], "the config is empty"),
    ("yaml-list", "- 1\n- 2\n", [], "must be a YAML mapping"),
    ("yaml-not-utf8", b"name: caf\xe9\nmodel: {preset: signformer-boston}\n", [], "not a UTF-8 text file"),
    ("yaml-binary", bytes(range(256)) * 4, [], "not a UTF-8 text file"),
    ("signllm-loss", "name: x\nmodel: {preset: signllm-phoenix-skels}\ntrain: {pose_loss: huber}\n", [],
     "train.pose_loss must be one of mse, l1"),
    ("text-direction", "name: x\nmodel: {type: text-transformer}\ndata: {direction: sideways}\n", [],
     "data.direction must be one of text2gloss, gloss2text"),
]


def _one_error_line(err: str, words: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("signstudio: error: ") and words in lines[0], lines[0]
    assert "Traceback" not in err and "internal error" not in err


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} if folder.is_dir() else {}


def _installed() -> set[Path]:
    """The models in the (test session's) user models folder."""
    return set(Path(os.environ["SIGNSTUDIO_USER_MODELS"]).glob("*/model.pt"))


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_a_bad_config_is_one_line_and_touches_nothing(case, tmp_path, capsys):
    _, text, extra, words = case
    config = tmp_path / "c.yaml"
    if isinstance(text, bytes):
        config.write_bytes(text)
    else:
        config.write_text(text, encoding="utf-8")
    run = tmp_path / "existing-run"
    run.mkdir()
    (run / "metrics.jsonl").write_text('{"epoch": 1, "loss": 1.0, "dev_wer": 0.5}\n')
    (run / "train_state.pt").write_bytes(b"state")
    (run / "model.pt").write_bytes(b"model")
    before = _snapshot(run)
    models_before = _installed()
    assert main(["train", str(config), "-o", str(run), *extra]) == 2
    _one_error_line(capsys.readouterr().err, words)
    assert _snapshot(run) == before  # the run in the folder is untouched
    assert _installed() == models_before  # and no model was installed


PATH_CASES = [
    ("config-missing", lambda t: ["train", str(t / "absent.yaml")], "no such config file"),
    ("config-is-folder", lambda t: ["train", str(t)], "no such config file"),
    ("output-is-file", lambda t: ["train", str(t / "c.yaml"), "-o", str(t / "c.yaml")], "is a file"),
    ("output-under-file", lambda t: ["train", str(t / "c.yaml"), "-o", str(t / "c.yaml" / "run")], "not a folder"),
    ("output-read-only-fs", lambda t: ["train", str(t / "c.yaml"), "-o", "/proc/signstudio-run"], "/proc/signstudio-run"),
    ("resume-nothing", lambda t: ["train", str(t / "c.yaml"), "-o", str(t / "fresh"), "--resume"], "nothing to resume"),
]


@pytest.mark.parametrize("case", PATH_CASES, ids=[c[0] for c in PATH_CASES])
def test_bad_paths_are_one_line(case, tmp_path, capsys):
    _, argv, words = case
    (tmp_path / "c.yaml").write_text(TINY)
    assert main(argv(tmp_path)) == 2
    _one_error_line(capsys.readouterr().err, words)
    assert not (tmp_path / "fresh").exists()


# --- cases that need the real data (a run to protect, or a run to interrupt) ----------------------
@pytest.fixture
def boston(data_dir):
    if not (data_dir / "boston104" / "hands_condensed.csv").is_file():
        pytest.skip("BOSTON-104 is not in the data folder")
    return data_dir


@pytest.fixture
def finished_run(tmp_path, boston):
    """A config file and a finished tiny run of it."""
    config = tmp_path / "c.yaml"
    config.write_text(TINY)
    out = tmp_path / "run"
    assert main(["train", str(config), "-o", str(out), "--json"]) == 0
    return config, out


def test_a_fresh_run_refuses_a_folder_that_holds_one_unless_told(finished_run, capsys):
    config, out = finished_run
    capsys.readouterr()
    before = _snapshot(out)
    assert main(["train", str(config), "-o", str(out)]) == 2
    _one_error_line(capsys.readouterr().err, "already holds a training run")
    assert _snapshot(out) == before
    assert main(["train", str(config), "-o", str(out), "--epochs", "1", "--overwrite", "--json"]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1]  # the old run's rows are gone, not mixed in


def test_resume_survives_a_partial_row_and_orphaned_temp_files(tmp_path, boston, capsys):
    from signstudio.tasks import RecordingTask
    from signstudio.training.config import load_config
    from signstudio.training.loop import fit

    config = tmp_path / "c.yaml"
    config.write_text(_with(epochs=3))
    out = tmp_path / "run"
    with pytest.raises(Exception, match="cancelled"):
        fit(load_config(config), RecordingTask(cancel_after=14), output=out)  # 9 batches an epoch: epoch 2
    with open(out / "metrics.jsonl", "a") as f:
        f.write('{"epoch": 2, "loss": 0.')  # what a kill during an append used to leave
    (out / ".model.pt.abc123.tmp").write_bytes(b"half a checkpoint")
    assert main(["train", str(config), "-o", str(out), "--resume", "--json"]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert not list(out.glob(".*.tmp"))


def test_a_damaged_training_state_is_one_line(finished_run, capsys):
    config, out = finished_run
    capsys.readouterr()
    (out / "train_state.pt").write_bytes(b"\x00garbage" * 10)
    assert main(["train", str(config), "-o", str(out), "--resume"]) == 2
    _one_error_line(capsys.readouterr().err, "not a readable training state")


def test_sigterm_without_events_cancels_with_one_line(tmp_path, boston):
    config = tmp_path / "c.yaml"
    config.write_text(_with(epochs=500, eval_every=100))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "signstudio", "train", str(config), "-o", str(tmp_path / "run")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (tmp_path / "run").is_dir() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2.0)  # data loaded, training under way
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert [line for line in err.splitlines() if line.strip()] == ["signstudio: cancelled"]


def test_probe_count(capsys):
    """Prints how many training cases this module runs (all assert a clean outcome)."""
    n = len(CONFIG_CASES) + len(PATH_CASES) + 4
    with capsys.disabled():
        print(f"\nPROBE: {n} training cases")
    assert n >= 50
