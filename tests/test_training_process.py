"""Training in a child process (no Qt): real short BOSTON-104 runs, cancel, kill, bad configs."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from signstudio.errors import ConfigError
from signstudio.training.config import parse_config_text, resolve_output
from signstudio.training.process import EXIT_CANCELLED, TrainingProcess, write_config
from signstudio.training.run import can_resume, read_metrics

from helpers import tiny_boston_config  # tests/ is on sys.path under pytest

RUN_TIMEOUT = 60.0


def run_to_end(proc: TrainingProcess, timeout: float = RUN_TIMEOUT) -> list[dict]:
    """Poll ``proc`` (as the GUI timer does) until its ``exited`` event; returns all events."""
    events: list[dict] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        events += proc.poll()
        if events and events[-1]["event"] == "exited":
            return events
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"the training process did not finish in {timeout} s; events: {events[-5:]}")


def kinds(events: list[dict]) -> list[str]:
    return [e["event"] for e in events]


@pytest.fixture
def tiny(tmp_path, data_dir):
    """A tiny config file (2 epochs, evaluated after each) and its output folder."""
    if not (data_dir / "boston104" / "hands_condensed.csv").is_file():
        pytest.skip("BOSTON-104 is not in the data folder")
    out = tmp_path / "run"
    path = tmp_path / "tiny.yaml"
    write_config(tiny_boston_config(), path)
    return path, out


# --- real runs -----------------------------------------------------------------------------------
def test_real_run_reports_started_total_metrics_done(tiny):
    config, out = tiny
    proc = TrainingProcess(config, output=out)
    t0 = time.monotonic()
    proc.start()
    assert proc.running and proc.pid
    # poll() never blocks, even right after the start
    t1 = time.monotonic()
    proc.poll()
    assert time.monotonic() - t1 < 0.1
    events = run_to_end(proc)
    seconds = time.monotonic() - t0

    k = kinds(events)
    assert k[0] == "started" and k[-2:] == ["done", "exited"], k
    started = events[0]
    assert started["name"] == "tiny-boston" and Path(started["output"]) == out and not started["resume"]
    assert started["epochs"] == 2
    total = next(e for e in events if e["event"] == "total")
    assert total["unit"] == "step" and total["total"] > 0
    progress = [e for e in events if e["event"] == "progress"]
    assert progress and progress[-1]["done"] == total["total"]
    assert all(a["done"] <= b["done"] for a, b in zip(progress, progress[1:]))
    rows = [e["row"] for e in events if e["event"] == "metrics"]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert all(r["loss"] > 0 and "dev_wer" in r for r in rows)
    assert any(e["event"] == "status" for e in events)
    done = events[-2]["result"]
    assert Path(done["output"]) == out and done["parameters"] > 0 and done["best_epoch"] in (1, 2)
    assert events[-1] == {"event": "exited", "returncode": 0, "outcome": "done", "message": ""}
    assert proc.returncode == 0 and not proc.running and proc.finished
    assert (out / "model.pt").is_file()
    assert read_metrics(out) == rows
    assert (out / "train.log").is_file()
    assert proc.events() == events  # the whole history stays available
    assert proc.poll() == []
    assert seconds < 30, f"the tiny run took {seconds:.1f} s"


def test_cancel_mid_run_stops_cleanly_with_130(tiny, tmp_path):
    config, out = tiny
    write_config(tiny_boston_config(epochs=300, eval_every=100), config)
    proc = TrainingProcess(config, output=out)
    proc.start()
    events: list[dict] = []
    end = time.monotonic() + RUN_TIMEOUT
    while not any(e["event"] == "progress" and e["done"] >= 2 for e in events):
        assert time.monotonic() < end, events
        events += proc.poll()
        time.sleep(0.02)
    t0 = time.monotonic()
    proc.cancel()
    events += run_to_end(proc)
    assert time.monotonic() - t0 < 10, "cancel took too long"
    k = kinds(events)
    assert "done" not in k and "metrics" not in k
    assert k[-2:] == ["cancelled", "exited"], k
    assert events[-1]["outcome"] == "cancelled" and events[-1]["returncode"] == EXIT_CANCELLED
    assert proc.returncode == EXIT_CANCELLED


def test_kill_reports_a_readable_failure(tiny):
    config, out = tiny
    write_config(tiny_boston_config(epochs=300, eval_every=100), config)
    proc = TrainingProcess(config, output=out)
    proc.start()
    events: list[dict] = []
    end = time.monotonic() + RUN_TIMEOUT
    while "total" not in kinds(events):
        assert time.monotonic() < end, events
        events += proc.poll()
        time.sleep(0.02)
    proc.kill()
    events += run_to_end(proc)
    assert kinds(events)[-2:] == ["error", "exited"]
    assert events[-2]["synthetic"] is True
    assert events[-1]["outcome"] == "failed" and events[-1]["returncode"] < 0
    assert "killed" in events[-1]["message"] and "\n" not in events[-1]["message"]


def test_resume_continues_from_the_saved_state(tiny):
    """A run cancelled after its first evaluation, then ``--resume``: it goes on from there.

    Needs resume in the trainer (``<output>/train_state.pt``).
    """
    config, out = tiny
    write_config(tiny_boston_config(epochs=6, eval_every=2), config)
    proc = TrainingProcess(config, output=out)
    proc.start()
    events: list[dict] = []
    end = time.monotonic() + RUN_TIMEOUT
    while "metrics" not in kinds(events):
        assert time.monotonic() < end and "exited" not in kinds(events), events
        events += proc.poll()
        time.sleep(0.02)
    proc.cancel()
    events += run_to_end(proc)
    assert events[-1]["outcome"] == "cancelled", events[-3:]
    seen = [e["row"]["epoch"] for e in events if e["event"] == "metrics"]
    assert seen and seen[-1] < 6
    assert can_resume(out), "the trainer wrote no train_state.pt"
    assert [r["epoch"] for r in read_metrics(out)] == seen

    proc = TrainingProcess(config, output=out, resume=True)
    events = run_to_end(_started(proc))
    assert events[0]["event"] == "started" and events[0]["resume"] is True
    assert events[-1]["outcome"] == "done", events[-3:]
    resumed = [e["row"]["epoch"] for e in events if e["event"] == "metrics"]
    assert resumed == [e for e in (2, 4, 6) if e > seen[-1]]
    progress = [e for e in events if e["event"] == "progress"]
    assert progress[0]["done"] > 0  # the resumed run starts counting at the step it had reached
    assert [r["epoch"] for r in read_metrics(out)] == [2, 4, 6]
    assert (out / "model.pt").is_file()


def _started(proc: TrainingProcess) -> TrainingProcess:
    proc.start()
    return proc


# --- failures ------------------------------------------------------------------------------------
def test_bad_config_gives_an_error_event_and_nonzero_exit(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nmodel:\n  preset: signformer-boston\ntrain:\n  epoch: 3\n")
    proc = TrainingProcess(path, output=tmp_path / "out")
    proc.start()
    events = run_to_end(proc)
    assert kinds(events)[-2:] == ["error", "exited"]
    message = events[-2]["message"]
    assert "epoch" in message and "\n" not in message
    assert not message.startswith("signstudio:")
    assert events[-1]["outcome"] == "failed" and events[-1]["message"] == message
    assert proc.returncode not in (0, None)
    assert "unknown key" in proc.stderr_tail()


def test_missing_dataset_is_an_error_event_from_the_child(tmp_path):
    path = tmp_path / "nodata.yaml"
    write_config(tiny_boston_config(), path)
    (tmp_path / "empty").mkdir()
    proc = TrainingProcess(path, output=tmp_path / "out", env={"SIGNSTUDIO_DATA": str(tmp_path / "empty")})
    proc.start()
    events = run_to_end(proc)
    assert kinds(events)[0] == "started" and kinds(events)[-1] == "exited"
    error = events[-2]
    assert error["event"] == "error" and "synthetic" not in error  # sent by the child itself
    assert "boston104" in error["message"].lower() and "\n" not in error["message"]
    assert events[-1]["outcome"] == "failed" and events[-1]["message"] == error["message"]
    assert proc.returncode == 2


def test_malformed_lines_are_ignored(tmp_path):
    script = "\n".join([
        "import json, sys",
        "print('hello, not json')",
        "print('[1, 2, 3]')",
        "print('{\"no_event\": 1}')",
        "sys.stdout.buffer.write(b'\\xff\\xfe garbage\\n')",
        "print(json.dumps({'event': 'status', 'text': 'still fine'}))",
        "print('{\"event\": \"progress\", \"done\": 1')",  # cut short
        "print(json.dumps({'event': 'done', 'result': {}}))",
    ])
    proc = TrainingProcess(command=[sys.executable, "-c", script], log_path=tmp_path / "log.txt")
    proc.start()
    events = run_to_end(proc, timeout=20)
    assert kinds(events) == ["status", "done", "exited"]
    assert events[0]["text"] == "still fine"
    assert events[-1]["outcome"] == "done"
    assert proc.ignored_lines == 5


def test_crash_without_events_shows_the_last_stderr_line(tmp_path):
    script = ("import sys; print('Traceback...', file=sys.stderr); "
              "print('RuntimeError: boom', file=sys.stderr); sys.exit(1)")
    proc = TrainingProcess(command=[sys.executable, "-c", script])
    proc.start()
    events = run_to_end(proc, timeout=20)
    assert kinds(events) == ["error", "exited"]
    assert events[-1]["message"] == "the training process failed (exit status 1): RuntimeError: boom"
    assert proc.log_path is not None and proc.log_path.is_file()
    proc.log_path.unlink()


def test_cancel_before_the_handler_is_installed_still_counts_as_cancelled(tmp_path):
    proc = TrainingProcess(command=[sys.executable, "-c", "import time; time.sleep(30)"],
                           log_path=tmp_path / "log.txt")
    proc.start()
    proc.cancel(kill_after=5)
    events = run_to_end(proc, timeout=20)
    assert kinds(events) == ["exited"] and events[0]["outcome"] == "cancelled"
    assert proc.wait(1) is not None


def test_cancel_kills_a_child_that_ignores_sigterm(tmp_path):
    script = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
              "print('', flush=True); time.sleep(30)")
    proc = TrainingProcess(command=[sys.executable, "-c", script], log_path=tmp_path / "log.txt")
    proc.start()
    time.sleep(0.5)  # let it install the handler
    t0 = time.monotonic()
    proc.cancel(kill_after=0.5)
    assert proc.wait(10) is not None
    assert time.monotonic() - t0 < 5
    events = run_to_end(proc, timeout=5)
    assert events[-1]["outcome"] == "failed" and "killed" in events[-1]["message"]


# --- configs and metrics files --------------------------------------------------------------------
def test_write_config_validates_before_writing(tmp_path):
    path = tmp_path / "cfg.yaml"
    good = tiny_boston_config()
    cfg = write_config(good, path)
    assert cfg.name == "tiny-boston" and path.read_text() == good
    for bad, words in [("name: x\nmodel: {preset: signformer-boston}\nbogus: 1\n", "bogus"),
                       ("name: x\nmodel: [unclosed\n", "invalid YAML"),
                       ("", "empty"),
                       ("name: x\nmodel: {preset: nope}\n", "nope"),
                       ("name: x\nmodel: {preset: signformer-boston}\ntrain: {epochs: many}\n", "epochs")]:
        with pytest.raises(ConfigError) as info:
            write_config(bad, path)
        assert words in str(info.value) and "\n" not in str(info.value)
        assert path.read_text() == good  # untouched
    assert list(tmp_path.glob(".cfg.yaml.*")) == []


def test_one_rule_for_the_output_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNSTUDIO_USER_MODELS", str(tmp_path / "mine"))
    cfg = parse_config_text("name: m\nmodel: {preset: signformer-boston}\noutput: experiments/m2\n")
    assert resolve_output(cfg) == tmp_path / "mine" / "experiments" / "m2"  # inside the user's models folder
    assert resolve_output(cfg, tmp_path / "abs") == tmp_path / "abs"  # a folder given on the command line
    monkeypatch.chdir(tmp_path)
    assert resolve_output(cfg, "rel") == tmp_path / "rel"  # ... relative to the current folder
    cfg = parse_config_text("name: m\nmodel: {preset: signformer-boston}\n")
    assert resolve_output(cfg) == tmp_path / "mine" / "m"
    for bad in (f"output: {tmp_path / 'abs'}", "output: ../../etc", "output: ~/x", "name: /etc/cron.d",
                "name: ../m", "name: a/b"):
        text = "name: m\nmodel: {preset: signformer-boston}\n" + bad + "\n"
        if bad.startswith("name"):
            text = bad + "\nmodel: {preset: signformer-boston}\n"
        with pytest.raises(ConfigError, match="plain name|relative folder"):
            parse_config_text(text)


def test_read_metrics_skips_broken_lines_and_keeps_the_last_row_per_epoch(tmp_path):
    assert read_metrics(tmp_path) == []
    rows = [{"epoch": 1, "loss": 3.0}, {"epoch": 2, "loss": 2.0}, {"epoch": 2, "loss": 1.5}]
    text = "\n".join(json.dumps(r) for r in rows) + '\n{"epoch": 3, "lo'
    (tmp_path / "metrics.jsonl").write_text(text)
    assert read_metrics(tmp_path) == [{"epoch": 1, "loss": 3.0}, {"epoch": 2, "loss": 1.5}]
    assert not can_resume(tmp_path)
    (tmp_path / "train_state.pt").write_bytes(b"x")
    assert can_resume(tmp_path)


def test_the_module_does_not_load_qt():
    import subprocess

    code = ("import sys, signstudio.training.process; "
            "print(sorted(m for m in sys.modules if m.startswith(('PySide', 'PyQt', 'pyqtgraph'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
