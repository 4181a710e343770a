"""The Train tab, offscreen (pytest-qt): config checks, real tiny runs, cancel, resume, failures."""

from __future__ import annotations

from pathlib import Path

import sys

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from signstudio.gui.train import tab as train_tab  # noqa: E402
from signstudio.gui.train.tab import OPEN_CONFIG, TrainTab  # noqa: E402
from signstudio.training.monitor import format_duration  # noqa: E402
from signstudio.training.process import TrainingProcess  # noqa: E402
from signstudio.training.run import read_metrics  # noqa: E402

from helpers import tiny_boston_config  # noqa: E402  (tests/ is on sys.path under pytest)

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("no_leaked_widgets")]

RUN_TIMEOUT_MS = 60_000


def tiny_config(output: Path, epochs: int = 2, eval_every: int = 1) -> str:
    """A Signformer small enough to train 2 epochs of BOSTON-104 in a few seconds, written to
    ``output`` (a folder in the test's user models folder, see :func:`user_models`); it starts
    with a comment line."""
    return "# a tiny test run\n" + tiny_boston_config(output=output.name, epochs=epochs,
                                                        eval_every=eval_every)


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def user_models(tmp_path, monkeypatch):
    """Runs go to the test's own user models folder: ``output: NAME`` is ``tmp_path / NAME``."""
    monkeypatch.setenv("SIGNSTUDIO_USER_MODELS", str(tmp_path))
    return tmp_path


@pytest.fixture
def make_tab(shown_widgets):
    """``make_tab(**kwargs)``: a shown 1280x800 TrainTab, shut down and deleted after the test."""
    return lambda **kwargs: shown_widgets(lambda: TrainTab(**kwargs))


@pytest.fixture
def boston(data_dir):
    if not (data_dir / "boston104" / "hands_condensed.csv").is_file():
        pytest.skip("BOSTON-104 is not in the data folder")
    return data_dir / "boston104"


def _epochs(curve) -> list:
    """The x values (epochs) of a plot data item."""
    x, _ = curve.getData()
    return [] if x is None else list(x)


def _run(qtbot, tab: TrainTab, action, timeout: int = RUN_TIMEOUT_MS) -> str:
    """Call ``action`` (start/resume) and wait for the run's end; returns its outcome."""
    with qtbot.waitSignal(tab.run_finished, timeout=timeout) as blocker:
        assert action()
        assert tab.is_busy() and not tab.start_button.isEnabled() and tab.cancel_button.isEnabled()
    assert not tab.is_busy()
    return blocker.args[0]


# --- the config ----------------------------------------------------------------------------------
def test_templates_are_listed_and_the_first_is_loaded_and_valid(make_tab):
    tab = make_tab()
    items = [tab.template_combo.itemText(i) for i in range(tab.template_combo.count())]
    for stem in ("boston104-signformer", "phoenix14t-text2gloss", "phoenix14t-gloss2text", "phoenix14t-signllm"):
        assert any(item.startswith(stem) for item in items), items
    assert items[-1] == OPEN_CONFIG
    assert "name:" in tab.config_text()
    assert tab.config_error() == "" and tab.validation_label.text().startswith("✓")
    assert tab.start_button.isEnabled() and not tab.cancel_button.isEnabled()
    assert "model.pt" in tab.output_label.text()
    # choosing another template puts its text in the editor
    index = next(i for i, t in enumerate(items) if t.startswith("phoenix14t-signllm"))
    tab.template_combo.setCurrentIndex(index)
    tab.template_combo.activated.emit(index)
    assert "name: phoenix14t-signllm" in tab.config_text()
    assert "glosses → signing pose" in tab.validation_label.text()


def test_invalid_yaml_or_unknown_key_disables_start_and_says_why(make_tab, tmp_path, qtbot):
    tab = make_tab()
    assert not tab.load_config_text("name: x\nmodel: [unclosed\n")
    assert not tab.start_button.isEnabled() and not tab.resume_button.isEnabled()
    assert "invalid YAML" in tab.validation_label.text()
    assert "\n" not in tab.validation_label.text()

    assert not tab.load_config_text(tiny_config(tmp_path / "out").replace("  epochs: 2", "  epoch: 2"))
    assert not tab.start_button.isEnabled()
    assert "unknown key(s) in train: epoch" in tab.validation_label.text()
    assert "epoch" in tab.start_button.toolTip()
    assert not tab.start()  # refused, with the reason in the banner
    assert "epoch" in tab.error_text() and tab.process is None

    # typing a fix is validated live (after a short pause)
    tab.editor.setPlainText(tiny_config(tmp_path / "out"))
    qtbot.waitUntil(tab.start_button.isEnabled, timeout=3000)
    assert tab.validation_label.text().startswith("✓ Config OK: tiny-boston")
    assert str(tmp_path / "out" / "model.pt") in tab.output_label.text()
    tab.editor.setPlainText("name: x\nmodel: {preset: no-such-preset}\n")
    qtbot.waitUntil(lambda: not tab.start_button.isEnabled(), timeout=3000)
    assert "no-such-preset" in tab.config_error()


def test_save_config_checks_first(make_tab, tmp_path):
    tab = make_tab()
    tab.load_config_text(tiny_config(tmp_path / "out"))
    assert tab.save_config(tmp_path / "saved.yaml")
    assert (tmp_path / "saved.yaml").read_text() == tiny_config(tmp_path / "out")
    tab.load_config_text("name: x\nbogus: 1\n")
    assert not tab.save_config(tmp_path / "bad.yaml")
    assert not (tmp_path / "bad.yaml").exists() and "bogus" in tab.error_text()


# --- real runs -----------------------------------------------------------------------------------
def test_a_real_tiny_run_drives_the_curves_and_the_progress_bar(make_tab, tmp_path, qtbot, boston):
    tab = make_tab()
    out = tmp_path / "run"
    assert tab.load_config_text(tiny_config(out))
    progress_seen: list[int] = []
    tab.progress_bar.valueChanged.connect(progress_seen.append)
    saved: list[str] = []
    tab.model_saved.connect(saved.append)

    assert _run(qtbot, tab, tab.start) == "done"

    rows = read_metrics(out)
    assert [r["epoch"] for r in rows] == [1, 2]
    x, y = tab.loss_curve.getData()
    assert list(x) == [1, 2] and list(y) == pytest.approx([r["loss"] for r in rows])
    x, y = tab.dev_curve.getData()
    assert list(x) == [1, 2] and list(y) == pytest.approx([r["dev_wer"] for r in rows])
    assert "dev WER" in tab.dev_plot.plotItem.titleLabel.text
    _, by = tab.best_marker.getData()
    assert list(by) == [min(r["dev_wer"] for r in rows)]
    total = tab.progress_bar.maximum()
    assert total > 0 and tab.progress_bar.value() == total and progress_seen
    assert (out / "model.pt").is_file() and (out / "config.yaml").is_file()
    assert str(out / "model.pt") in tab.error_text()  # the info banner says where
    assert tab.banner.kind == "info"
    assert saved == [str(out)]
    assert tab.time_label.text().startswith("done in")
    log = tab.log_view.toPlainText()
    assert "epoch 1" in log and "dev WER" in log and "Saved" in log
    assert tab.start_button.isEnabled() and not tab.cancel_button.isEnabled()
    assert not tab.resume_button.isEnabled()  # the run is finished: nothing to resume
    assert "already" in tab.output_label.text()
    # The installed models are listed again: the new model is offered in the other tabs, as yours.
    qtbot.waitUntil(lambda: any(m.name == "run" and m.origin == "user" for m in tab.models.models()),
                    timeout=RUN_TIMEOUT_MS)


def test_cancel_then_resume_continues_the_curves(make_tab, tmp_path, qtbot, boston):
    tab = make_tab()
    out = tmp_path / "run"
    assert tab.load_config_text(tiny_config(out, epochs=6, eval_every=2))
    with qtbot.waitSignal(tab.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        assert tab.start()
        qtbot.waitUntil(lambda: len(_epochs(tab.loss_curve)) >= 1, timeout=RUN_TIMEOUT_MS)
        tab.cancel()
        assert tab.state == "cancelling" and not tab.cancel_button.isEnabled()
    assert blocker.args == ["cancelled"]
    before = _epochs(tab.loss_curve)
    assert before and before[-1] < 6
    assert tab.banner.kind == "warning" and "Resume" in tab.error_text()
    assert tab.resume_button.isEnabled() and "Resume continues it" in tab.output_label.text()

    assert _run(qtbot, tab, tab.resume) == "done"
    x, _ = tab.loss_curve.getData()
    assert list(x) == [2, 4, 6]  # the earlier points (from metrics.jsonl) and the new ones
    assert [r["epoch"] for r in read_metrics(out)] == [2, 4, 6]
    assert "(resumed)" in tab.log_view.toPlainText()


def test_replacing_a_run_is_confirmed_first(make_tab, tmp_path, qtbot, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.pt").write_bytes(b"an earlier model")
    overwrites: list[bool] = []

    def fake_process(config, output, resume, overwrite=False):
        overwrites.append(overwrite)
        return TrainingProcess(config, output=output, resume=resume, overwrite=overwrite,
                               command=[sys.executable, "-c", "pass"])

    monkeypatch.setattr(train_tab, "TrainingProcess", fake_process)
    asked: list[Path] = []
    tab = make_tab(confirm=lambda folder: asked.append(folder) or False)
    assert tab.load_config_text(tiny_config(out))
    assert "Start asks before replacing it" in tab.output_label.text()
    assert not tab.start()  # the user said no
    assert asked == [out] and overwrites == [] and tab.process is None and not tab.is_busy()
    assert "keeps its run" in tab.status_label.text()
    assert (out / "model.pt").read_bytes() == b"an earlier model"
    yes = make_tab(confirm=lambda folder: True)
    assert yes.load_config_text(tiny_config(out))
    with qtbot.waitSignal(yes.run_finished, timeout=RUN_TIMEOUT_MS):
        assert yes.start()
    assert overwrites == [True]  # the child is told it may replace the run


def test_a_child_that_fails_shows_a_readable_message(make_tab, tmp_path, qtbot, monkeypatch):
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("SIGNSTUDIO_DATA", str(empty))  # the child finds no BOSTON-104
    tab = make_tab()
    assert tab.load_config_text(tiny_config(tmp_path / "run"))
    assert _run(qtbot, tab, tab.start) == "failed"
    text = tab.error_text()
    assert text.startswith("Training failed: ") and "boston104" in text.lower()
    assert "train.log" in text and tab.banner.kind == "error"
    assert tab.status_label.text() == "Training failed."
    assert tab.start_button.isEnabled()  # the tab is usable again


def test_a_killed_child_shows_a_message_and_the_tab_recovers(make_tab, tmp_path, qtbot, boston):
    tab = make_tab()
    assert tab.load_config_text(tiny_config(tmp_path / "run", epochs=300, eval_every=100))
    with qtbot.waitSignal(tab.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        assert tab.start()
        qtbot.waitUntil(lambda: tab.progress_bar.value() > 0, timeout=RUN_TIMEOUT_MS)
        tab.process.kill()
    assert blocker.args == ["failed"]
    assert "killed" in tab.error_text()
    assert tab.start_button.isEnabled() and not tab.is_busy()


def test_shutdown_cancels_a_running_training(make_tab, tmp_path, qtbot, boston):
    tab = make_tab()
    assert tab.load_config_text(tiny_config(tmp_path / "run", epochs=300, eval_every=100))
    assert tab.start()
    qtbot.waitUntil(lambda: tab.progress_bar.value() > 0, timeout=RUN_TIMEOUT_MS)
    process = tab.process
    tab.shutdown(timeout=10)
    assert not process.running and process.returncode == 130


def test_time_left_and_progress_from_a_scripted_child(make_tab, tmp_path, qtbot, monkeypatch):
    """A stand-in child that prints events slowly (and some junk): the bar and "time left"."""
    script = "\n".join([
        "import json, time",
        "def emit(**e): print(json.dumps(e), flush=True)",
        "emit(event='started', name='scripted', output='', pid=0, resume=False, epochs=4,",
        "     metric='dev_bleu4', lower_is_better=False, metric_label='dev BLEU-4')",
        "print('junk that is not JSON', flush=True)",
        "emit(event='total', total=400, unit='step')",
        "emit(event='progress', done=10, total=400)",
        "time.sleep(1.3)",
        "emit(event='progress', done=110, total=400)",
        "emit(event='metrics', row={'epoch': 1, 'step': 110, 'loss': 2.5, 'dev_bleu4': 3.0, 'lr': 0.001})",
        "time.sleep(0.6)",
        "emit(event='metrics', row={'epoch': 2, 'step': 210, 'loss': 2.0, 'dev_bleu4': 5.5, 'lr': 0.001})",
        "emit(event='progress', done=210, total=400)",
        "time.sleep(30)",
    ])
    monkeypatch.setattr(train_tab, "TrainingProcess", lambda config, output, resume, overwrite=False: TrainingProcess(
        config, output=output, resume=resume, overwrite=overwrite, command=[sys.executable, "-c", script]))
    tab = make_tab()
    assert tab.load_config_text(tiny_config(tmp_path / "run"))
    assert tab.start()
    qtbot.waitUntil(lambda: tab.progress_bar.value() == 210, timeout=20_000)
    assert tab.progress_bar.maximum() == 400
    assert tab.time_label.text().startswith("about ") and tab.time_label.text().endswith(" left")
    assert _epochs(tab.dev_curve) == [1, 2]
    assert "dev BLEU-4 (higher is better)" in tab.dev_plot.plotItem.titleLabel.text
    assert list(tab.best_marker.getData()[1]) == [5.5]
    with qtbot.waitSignal(tab.run_finished, timeout=20_000) as blocker:
        tab.cancel()
    # the stand-in has no SIGTERM handler: SIGTERM ends it, which still counts as cancelled
    assert blocker.args == ["cancelled"]
    assert "nothing was saved" in tab.error_text()


# --- helpers -------------------------------------------------------------------------------------
def test_durations():
    assert format_duration(12.4) == "12 s" and format_duration(720) == "12 min"
    assert format_duration(3900) == "1 h 5 min"
