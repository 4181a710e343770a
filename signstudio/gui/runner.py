"""One job runner for every tab: start, progress, status, partial results, cancel, outcome, shutdown.

A tab holds a :class:`JobRunner` and talks to its jobs only through it. The runner runs one
*current* job at a time — a core function on a worker thread (:class:`~signstudio.gui.workers.
Worker`) or a child process (:class:`~signstudio.gui.workers.ProcessWorker`) — names the tab's
state after it ("extracting", "producing", "running"...), forwards its progress, status and
partial results as signals, and reports exactly one outcome (``finished``, ``failed`` or
``cancelled``) before it returns to idle. A job's ``on_finished`` callback may start the next job
(extract, then translate): the runner then goes from one state to the next without passing idle.
Small helper jobs that must not block the tab (listing production methods) run beside the
current one (:meth:`JobRunner.run_background`). :meth:`JobRunner.shutdown` cancels everything and
waits, so a closing window never leaves a thread or a child process behind.

:class:`JobProgress` shows a runner's progress in a progress bar and a status label.
"""

from __future__ import annotations

import time
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtWidgets import QLabel, QProgressBar

from signstudio.gui.workers import Worker, unexpected_message

#: The state of a runner with no current job.
IDLE = "idle"
#: The status line when a job is refused because another one runs.
BUSY_MESSAGE = "Busy: cancel the current job first."


def plural(unit: str) -> str:
    """"frame" → "frames", "gloss" → "glosses"; "" and "it" → ""."""
    if unit in ("", "it"):
        return ""
    return unit + ("es" if unit.endswith(("s", "x", "sh", "ch")) else "s")


class JobRunner(QObject):
    """Runs a tab's jobs, one current job at a time, and reports them as signals.

    Signals:
        state_changed(str): the state changed (a job's name, or "idle"), or a cancel was asked
            for (:attr:`cancelling`); a tab updates its controls here.
        busy_changed(bool): a job started from idle (True), or the runner became idle (False).
        progress(int done, int total, str unit): ``total`` is -1 while unknown.
        status(str): the job's status line, first letter capitalised.
        partial(object): a partial result (a video frame, a training event...).
        finished(str state, object result): the job returned (after its ``on_finished``).
        failed(str state, str message, object error): the job raised; ``message`` is one
            readable line, ``error`` the exception (None for a child process).
        cancelled(str state): the job stopped because it was cancelled.
        idle(): the runner became idle (after any outcome, once no next job was started).
    """

    state_changed = Signal(str)
    busy_changed = Signal(bool)
    progress = Signal(int, int, str)
    status = Signal(str)
    partial = Signal(object)
    finished = Signal(str, object)
    failed = Signal(str, str, object)
    cancelled = Signal(str)
    idle = Signal()

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._state = IDLE
        self._busy = False
        self._job: Any = None
        self._jobs: set[Any] = set()
        self._discard = False
        self._cancellable = True
        self._discard_on_cancel = True
        self._cancelling = False
        self._shut_down = False
        self._rate_start: tuple[float, int] | None = None
        self._rate = 0.0

    # --- state ---------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """The current job's name, or "idle"."""
        return self._state

    @property
    def job(self) -> Any:
        """The current job (a Worker or ProcessWorker), or None."""
        return self._job

    def is_busy(self) -> bool:
        """True while a current job runs."""
        return self._job is not None

    @property
    def cancelling(self) -> bool:
        """True once the current job was asked to stop and has not ended yet."""
        return self._cancelling

    def can_cancel(self) -> bool:
        """True if the current job may be cancelled now (it runs, accepts a cancel, and none
        was asked for yet)."""
        return self._job is not None and self._cancellable and not self._cancelling

    @property
    def is_shut_down(self) -> bool:
        """True after :meth:`shutdown`: no job starts and no outcome is reported any more."""
        return self._shut_down

    def check_idle(self) -> bool:
        """True when no job runs; otherwise says so on :attr:`status` and returns False."""
        if self._job is None and not self._shut_down:
            return True
        if not self._shut_down:
            self.status.emit(BUSY_MESSAGE)
        return False

    def rate(self) -> float:
        """Steps per second of the current job since its first progress report (0 before
        a fifth of a second has passed)."""
        return self._rate

    # --- running -------------------------------------------------------------------------------
    def start(self, state: str, job: Callable[[Any], Any] | Any, *,
              on_finished: Callable[[Any], Any] | None = None,
              map_partial: Callable[[Any], Any] | None = None,
              cancellable: bool = True, discard_on_cancel: bool = True, status: str = "") -> bool:
        """Start ``job`` as the current job, named ``state``.

        Args:
            job: a function of the task handle (run by a :class:`Worker` on the thread pool),
                or a worker object already made (a :class:`ProcessWorker`).
            on_finished: called with the result on the GUI thread before ``finished``; it may
                start the next job.
            map_partial: applied to each partial result on the worker thread (see Worker).
            cancellable: False for a job that must not be half done (writing a file).
            discard_on_cancel: a job that returns normally after a cancel counts as cancelled
                (its result is dropped); False keeps its outcome (a child process reports its own).
            status: the first status line.

        Returns:
            False (with :data:`BUSY_MESSAGE` on ``status``) if a job runs.

        Raises:
            OSError: a child process could not be started (the runner stays as it was).
        """
        if not self.check_idle():
            return False
        worker = job if hasattr(job, "signals") else Worker(job, name=state, map_partial=map_partial)
        self._connect(worker, on_finished)
        self._job = worker
        self._jobs.add(worker)
        self._discard = False
        self._cancellable = cancellable
        self._discard_on_cancel = discard_on_cancel
        self._cancelling = False
        self._rate_start, self._rate = None, 0.0
        try:
            worker.start(self._pool)
        except BaseException:
            self._job = None
            self._jobs.discard(worker)
            raise
        self._set_state(state)
        if status:
            self.status.emit(status)
        return True

    def run_background(self, job: Callable[[Any], Any], on_finished: Callable[[Any], Any],
                       on_failed: Callable[[str], Any] | None = None, name: str = "helper") -> Worker:
        """Run a helper job beside the current one (it does not change the state); its result
        goes to ``on_finished`` (or its message to ``on_failed``) unless the runner was shut
        down. It is cancelled and waited for at :meth:`shutdown`."""
        worker = Worker(job, name=name)
        self._jobs.add(worker)
        sig = worker.signals
        sig.finished.connect(lambda result: None if self._shut_down else on_finished(result))
        if on_failed is not None:
            sig.failed.connect(lambda message: None if self._shut_down else on_failed(message))
        sig.done.connect(lambda w=worker: self._jobs.discard(w))
        worker.start(self._pool)
        return worker

    def cancel(self) -> bool:
        """Ask the current job to stop and drop its result; the outcome arrives later as
        ``cancelled``. False (nothing done) when there is nothing to cancel."""
        if not self.can_cancel():
            return False
        self._discard = self._discard_on_cancel
        self._cancelling = True
        self.status.emit("Cancelling…")
        self.state_changed.emit(self._state)
        self._job.cancel()
        return True

    def stop(self) -> bool:
        """Ask the current job to stop but keep what it returns (a webcam recording returns what
        was recorded). False when no job runs."""
        if self._job is None:
            return False
        self._job.cancel()
        return True

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel every job and wait up to ``timeout`` seconds for them (a child process still
        alive then is killed); later signals of these jobs are ignored. For closing the window."""
        self._shut_down = True
        self._discard = True
        jobs = list(self._jobs)
        for job in jobs:
            job.cancel()
        deadline = time.monotonic() + timeout
        for job in jobs:
            job.wait(max(0.0, deadline - time.monotonic()))
        for job in jobs:
            if job.is_running():
                job.kill()
                job.wait(2.0)
            job.close()

    # --- the job's signals ---------------------------------------------------------------------
    def _connect(self, worker: Any, on_finished: Callable[[Any], Any] | None) -> None:
        sig = worker.signals
        sig.progress.connect(lambda done, total, w=worker: self._on_progress(w, done, total))
        sig.status.connect(lambda text, w=worker: self._on_status(w, text))
        sig.partial.connect(lambda item, w=worker: self._current(w) and self.partial.emit(item))
        sig.finished.connect(lambda result, w=worker: self._on_finished(w, result, on_finished))
        sig.failed.connect(lambda message, w=worker: self._on_failed(w, message, w.error))
        sig.cancelled.connect(lambda w=worker: self._on_cancelled(w))
        sig.done.connect(lambda w=worker: self._jobs.discard(w))

    def _current(self, worker: Any) -> bool:
        # After shutdown() the tab's widgets may already be deleted: late signals are ignored.
        return worker is self._job and not self._shut_down

    def _on_progress(self, worker: Any, done: int, total: int) -> None:
        if not self._current(worker):
            return
        now = time.monotonic()
        if self._rate_start is None or done == 0:
            self._rate_start, self._rate = (now, done), 0.0
        else:
            t0, done0 = self._rate_start
            if now - t0 > 0.2 and done > done0:
                self._rate = (done - done0) / (now - t0)
        self.progress.emit(done, total, worker.unit)

    def _on_status(self, worker: Any, text: str) -> None:
        if self._current(worker) and text:
            self.status.emit(text[:1].upper() + text[1:])

    def _on_finished(self, worker: Any, result: Any, handler: Callable[[Any], Any] | None) -> None:
        if not self._current(worker):
            return
        if self._discard:
            self._on_cancelled(worker)
            return
        state = self._state
        self._end_job()
        try:
            if handler is not None:
                handler(result)
        except Exception as exc:  # noqa: BLE001 - a bug in a handler must not leave the tab busy
            traceback.print_exc()
            if self._job is None:
                self.failed.emit(state, unexpected_message(exc), exc)
                self._set_idle()
            return
        self.finished.emit(state, result)
        if self._job is None:
            self._set_idle()

    def _on_failed(self, worker: Any, message: str, error: Any) -> None:
        if not self._current(worker):
            return
        state = self._state
        self._end_job()
        self.failed.emit(state, message, error)
        if self._job is None:
            self._set_idle()

    def _on_cancelled(self, worker: Any) -> None:
        if not self._current(worker):
            return
        state = self._state
        self._end_job()
        self.cancelled.emit(state)
        if self._job is None:
            self._set_idle()

    def _end_job(self) -> None:
        self._job = None
        self._cancelling = False
        self._discard = False

    def _set_idle(self) -> None:
        self._set_state(IDLE)
        self.idle.emit()

    def _set_state(self, state: str) -> None:
        self._state = state
        busy = state != IDLE
        self.state_changed.emit(state)
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)


class JobProgress(QObject):
    """Shows a runner's progress in ``bar`` and its status in ``label`` (with ``echo``, e.g. the
    window's status bar, getting every status line too; ``follow_status=False`` leaves the
    status lines to the tab, which shows them with :meth:`show_status`).

    While a job runs both are visible; the bar is a busy indicator until the job announces a
    total, then counts "12 / 58 frames". When the runner is idle they are hidden (the window's
    status bar keeps the last line).
    """

    def __init__(self, runner: JobRunner, bar: QProgressBar, label: QLabel,
                 echo: Callable[[str], Any] | None = None, follow_status: bool = True) -> None:
        super().__init__(runner)
        self.runner, self.bar, self.label, self._echo = runner, bar, label, echo
        runner.busy_changed.connect(self._busy_changed)
        runner.progress.connect(self.show_progress)
        if follow_status:
            runner.status.connect(self.show_status)
        self._busy_changed(runner.is_busy())

    def show_status(self, text: str) -> None:
        """Show ``text`` in the label (and echo it)."""
        self.label.setText(text)
        if self._echo is not None:
            self._echo(text)

    def show_progress(self, done: int, total: int, unit: str = "") -> None:
        """Show ``done`` of ``total`` steps (a busy indicator if ``total`` < 1)."""
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
            self.bar.setFormat(f"%v / %m {plural(unit)}".rstrip())
        else:
            self.bar.setRange(0, 0)

    def _busy_changed(self, busy: bool) -> None:
        self.bar.setVisible(busy)
        self.label.setVisible(busy)
        if busy:
            self.bar.setRange(0, 0)  # busy indicator until a total is known
            self.bar.setFormat("")
        else:
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
