"""The job runner every tab uses (threads and child processes alike) and the shared model list."""

from __future__ import annotations

import shutil
import sys
import threading
import time

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from signstudio.errors import InputError  # noqa: E402
from signstudio.gui.runner import BUSY_MESSAGE, IDLE, JobRunner, plural  # noqa: E402
from signstudio.gui.workers import ProcessWorker  # noqa: E402
from signstudio.tasks import check_cancelled  # noqa: E402
from signstudio.training.process import TrainingProcess  # noqa: E402

pytestmark = pytest.mark.gui


class Events:
    """Everything a runner emits, in order."""

    def __init__(self, runner: JobRunner) -> None:
        self.log: list[tuple] = []
        for name in ("state_changed", "busy_changed", "progress", "status", "partial", "finished",
                     "failed", "cancelled", "idle"):
            getattr(runner, name).connect(lambda *args, n=name: self.log.append((n, *args)))

    def names(self) -> list[str]:
        return [e[0] for e in self.log]

    def of(self, name: str) -> list[tuple]:
        return [e[1:] for e in self.log if e[0] == name]


@pytest.fixture
def runner(qapp):
    r = JobRunner()
    yield r
    r.shutdown(5.0)
    r.deleteLater()


def test_a_job_reports_progress_partials_and_one_outcome_then_idle(runner, qtbot):
    events = Events(runner)

    def job(task):
        task.set_total(2, unit="frame")
        task.set_status("working")
        task.partial("a")
        task.advance()
        task.advance()
        return 42

    results = []
    with qtbot.waitSignal(runner.idle, timeout=10_000):
        assert runner.start("working", job, on_finished=results.append, status="Starting…")
        assert runner.is_busy() and runner.state == "working" and runner.can_cancel()
    assert results == [42] and not runner.is_busy() and runner.state == IDLE
    assert events.of("progress") == [(0, 2, "frame"), (1, 2, "frame"), (2, 2, "frame")]
    assert events.of("status") == [("Starting…",), ("Working",)]  # capitalised
    assert events.of("partial") == [("a",)]
    assert events.of("finished") == [("working", 42)]
    assert events.of("busy_changed") == [(True,), (False,)]
    names = events.names()
    assert names.index("finished") < names.index("idle") and names.count("idle") == 1
    assert not events.of("failed") and not events.of("cancelled")


def test_one_job_at_a_time(runner, qtbot):
    gate = threading.Event()
    with qtbot.waitSignal(runner.idle, timeout=10_000):
        assert runner.start("slow", lambda task: gate.wait(10))
        statuses = []
        runner.status.connect(statuses.append)
        assert not runner.start("second", lambda task: pytest.fail("must not run"))
        assert not runner.check_idle()
        assert statuses == [BUSY_MESSAGE, BUSY_MESSAGE] and runner.state == "slow"
        gate.set()


def test_cancel_drops_the_result_and_says_cancelled(runner, qtbot):
    started = threading.Event()

    def job(task):
        started.set()
        for _ in range(500):
            check_cancelled(task)
            time.sleep(0.01)
        return "finished anyway"

    events = Events(runner)
    assert not runner.cancel()  # nothing to cancel: nothing happens
    with qtbot.waitSignal(runner.idle, timeout=10_000):
        runner.start("long", job, on_finished=lambda r: pytest.fail("a cancelled job's result was used"))
        assert started.wait(5)
        assert runner.cancel() and runner.cancelling and not runner.can_cancel()
        assert not runner.cancel()  # once is enough
    assert events.of("cancelled") == [("long",)] and not events.of("finished")
    assert ("Cancelling…",) in events.of("status") and not runner.cancelling


def test_a_job_that_returns_after_cancel_counts_as_cancelled_unless_stopped(runner, qtbot):
    def returns_when_cancelled(task):
        while not task.cancelled:
            time.sleep(0.01)
        return "what was recorded"

    events = Events(runner)
    with qtbot.waitSignal(runner.idle, timeout=10_000):
        runner.start("recording", returns_when_cancelled)
        runner.cancel()
    assert events.of("cancelled") == [("recording",)]
    kept = []
    with qtbot.waitSignal(runner.idle, timeout=10_000):
        runner.start("recording", returns_when_cancelled, on_finished=kept.append)
        assert runner.stop()  # a webcam's Stop: keep what it returns
    assert kept == ["what was recorded"]


def test_a_job_that_must_not_be_half_done_cannot_be_cancelled(runner, qtbot):
    gate = threading.Event()
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        runner.start("saving", lambda task: gate.wait(10), cancellable=False)
        assert not runner.can_cancel() and not runner.cancel()
        gate.set()


def test_failures_are_one_readable_line(runner, qtbot, capfd):
    events = Events(runner)
    with qtbot.waitSignal(runner.idle, timeout=10_000):
        runner.start("reading", lambda task: (_ for _ in ()).throw(InputError("x.pose: not a pose file\nmore")))
    (state, message, error), = events.of("failed")
    assert (state, message) == ("reading", "x.pose: not a pose file") and isinstance(error, InputError)
    with qtbot.waitSignal(runner.idle, timeout=10_000):
        runner.start("bug", lambda task: {}["missing"])
    state, message, error = events.of("failed")[-1]
    assert "KeyError" in message and "\n" not in message and isinstance(error, KeyError)
    capfd.readouterr()


def test_on_finished_may_start_the_next_job_without_passing_idle(runner, qtbot):
    events = Events(runner)
    order = []

    def first_done(result):
        order.append(result)
        runner.start("second", lambda task: "two", on_finished=order.append)

    with qtbot.waitSignal(runner.idle, timeout=10_000):
        runner.start("first", lambda task: "one", on_finished=first_done)
    assert order == ["one", "two"]
    assert events.of("state_changed") == [("first",), ("second",), (IDLE,)]
    assert events.of("busy_changed") == [(True,), (False,)] and events.names().count("idle") == 1


def test_a_bug_in_a_result_handler_does_not_leave_the_tab_busy(runner, qtbot, capfd):
    events = Events(runner)
    with qtbot.waitSignal(runner.idle, timeout=10_000):
        runner.start("showing", lambda task: None, on_finished=lambda result: 1 / 0)
    state, message, _error = events.of("failed")[0]
    assert state == "showing" and "ZeroDivisionError" in message and not runner.is_busy()
    capfd.readouterr()


def test_background_jobs_do_not_change_the_state_and_shutdown_waits(runner, qtbot):
    got = []
    with qtbot.waitSignal(runner.idle, timeout=10_000):
        runner.start("main", lambda task: time.sleep(0.2))
        worker = runner.run_background(lambda task: "helper", got.append)
        assert runner.state == "main"
    qtbot.waitUntil(lambda: got == ["helper"], timeout=5000)
    assert worker.wait(1)
    started = threading.Event()

    def stubborn(task):
        started.set()
        while not task.cancelled:
            time.sleep(0.01)
        time.sleep(0.2)

    runner.start("stubborn", stubborn)
    assert started.wait(5)
    t0 = time.monotonic()
    runner.shutdown(5.0)
    assert time.monotonic() - t0 < 4 and not runner.job.is_running()
    assert not runner.start("after", lambda task: None)  # nothing starts after a shutdown


def test_a_child_process_runs_through_the_same_runner(runner, qtbot, tmp_path):
    script = "\n".join([
        "import json",
        "def emit(**e): print(json.dumps(e), flush=True)",
        "emit(event='started', name='s', output='', pid=0, resume=False, epochs=1)",
        "emit(event='total', total=10, unit='step')",
        "emit(event='progress', done=4, total=10)",
        "emit(event='status', text='epoch 1: evaluating on dev')",
        "emit(event='metrics', row={'epoch': 1, 'loss': 2.0})",
        "emit(event='done', result={'output': 'o', 'best_epoch': 1})",
    ])
    process = TrainingProcess(command=[sys.executable, "-c", script], log_path=tmp_path / "log")
    events = Events(runner)
    with qtbot.waitSignal(runner.idle, timeout=20_000):
        assert runner.start("running", ProcessWorker(process, poll_ms=20), discard_on_cancel=False)
    assert events.of("progress") == [(0, 10, "step"), (4, 10, "step")]
    assert events.of("status") == [("Epoch 1: evaluating on dev",)]
    kinds = [p[0]["event"] for p in events.of("partial")]
    assert kinds == ["started", "total", "progress", "status", "metrics", "done", "exited"]
    assert events.of("finished") == [("running", {"output": "o", "best_epoch": 1})]


def test_a_child_that_fails_or_is_cancelled(runner, qtbot, tmp_path):
    failing = TrainingProcess(command=[sys.executable, "-c", "import sys; sys.exit('no data here')"],
                              log_path=tmp_path / "log")
    events = Events(runner)
    with qtbot.waitSignal(runner.idle, timeout=20_000):
        runner.start("running", ProcessWorker(failing, poll_ms=20), discard_on_cancel=False)
    state, message, _error = events.of("failed")[0]
    assert state == "running" and "no data here" in message
    sleeper = TrainingProcess(command=[sys.executable, "-c", "import time; print('{\"event\": \"total\", \"total\": 5}', flush=True); time.sleep(30)"],
                              log_path=tmp_path / "log2")
    with qtbot.waitSignal(runner.idle, timeout=20_000):
        runner.start("running", ProcessWorker(sleeper, poll_ms=20), discard_on_cancel=False)
        qtbot.waitUntil(lambda: bool(events.of("progress")), timeout=10_000)
        assert runner.cancel()
    assert events.of("cancelled") == [("running",)] and not sleeper.running


def test_a_child_that_cannot_start_leaves_the_runner_idle(runner, tmp_path):
    process = TrainingProcess(command=[str(tmp_path / "no-such-program")], log_path=tmp_path / "log")
    with pytest.raises(OSError):
        runner.start("running", ProcessWorker(process))
    assert not runner.is_busy() and runner.state == IDLE


def test_plural_units():
    assert plural("frame") == "frames" and plural("gloss") == "glosses" and plural("it") == ""


# --- the installed models ------------------------------------------------------------------------
def test_installed_models_read_each_checkpoint_once_and_name_the_users_own(qapp, qtbot, tmp_path, monkeypatch):
    from signstudio.gui import models as gui_models
    from signstudio.gui.models import InstalledModels, ModelSelector
    from signstudio.paths import models_dir
    from signstudio.runtime.installed import DEFAULT_MODEL, list_models

    shipped = models_dir() / DEFAULT_MODEL / "model.pt"
    if not shipped.is_file():
        pytest.skip(f"{shipped} is missing")
    monkeypatch.setenv("SIGNSTUDIO_USER_MODELS", str(tmp_path))
    models = InstalledModels()
    selector = ModelSelector(models, "sign-to-text", default_entry=True)
    try:
        qtbot.waitUntil(models.is_ready, timeout=60_000)
        assert [m.name for m in models.models()] == [m.name for m in list_models()]
        reads = gui_models.reads
        with qtbot.waitSignal(models.changed, timeout=60_000):
            models.refresh()
        assert gui_models.reads == reads  # nothing changed: no checkpoint read again
        # A model trained here (same name as a shipped one) appears beside it, read once.
        (tmp_path / DEFAULT_MODEL).mkdir()
        shutil.copy(shipped, tmp_path / DEFAULT_MODEL / "model.pt")
        (tmp_path / "mine").mkdir()
        shutil.copy(shipped, tmp_path / "mine" / "model.pt")
        with qtbot.waitSignal(models.changed, timeout=60_000):
            models.refresh()
        assert gui_models.reads == reads + 2
        mine = next(m for m in models.models("sign-to-text") if m.name == "mine")
        assert mine.origin == "user" and InstalledModels.label(mine) == "mine (yours)"
        labels = [selector.itemText(i) for i in range(selector.count())]
        assert "mine (yours)" in labels
        # The shipped default is hidden by the user's model of that name: offered by its path.
        ship = next(m for m in models.models() if m.name == DEFAULT_MODEL and m.origin == "shipped")
        assert models.choice(ship) == str(ship.path) and models.task_of(str(ship.path)) == "sign-to-text"
        assert selector.findData(str(ship.path)) >= 0 and selector.itemData(0) is None
        assert models.models("text-to-gloss") == [m for m in models.models() if m.task == "text-to-gloss"]
    finally:
        models.shutdown()
        selector.deleteLater()
        models.deleteLater()
