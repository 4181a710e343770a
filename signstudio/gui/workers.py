"""Run core jobs off the GUI thread (or in a child process) and report them as Qt signals.

A core job is a plain function that takes a task handle (:mod:`signstudio.tasks`). The GUI wraps
it in a :class:`Worker`: the worker runs the function on a :class:`QThreadPool` thread and gives
it a :class:`QtTaskHandle` whose ``set_total``/``advance``/``set_status``/``partial`` calls emit
signals. Signals cross threads as queued connections, so slots run on the GUI thread and may
touch widgets. ``Worker.cancel()`` flips the handle's ``cancelled`` flag; the job notices at its
next check and raises :class:`~signstudio.errors.Cancelled` (or returns early, as a webcam
recording does when it is stopped).

Outcome signals, exactly one of which is emitted per run:

- ``finished(result)`` — the function returned (also after a "Stop" that returns normally);
- ``cancelled()`` — the function raised :class:`~signstudio.errors.Cancelled`;
- ``failed(message)`` — any other exception. A :class:`~signstudio.errors.SignStudioError` gives
  its one-line message; anything else gives a readable line and its traceback goes to stderr.

A training run is a child process rather than a thread; :class:`ProcessWorker` polls it with a
timer and emits the same signals, so a tab's :class:`~signstudio.gui.runner.JobRunner` runs both
alike. Tabs do not use workers directly: they start jobs through their runner.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from signstudio.errors import Cancelled, SignStudioError

log = logging.getLogger(__name__)

#: A job as the worker runs it: a function of the task handle only (bind other arguments first).
Job = Callable[["QtTaskHandle"], Any]


class WorkerSignals(QObject):
    """The signals of a :class:`Worker` (a QRunnable cannot have signals of its own).

    Signals:
        progress(int done, int total): ``total`` is -1 while the job has not announced one.
        status(str): a short line about what the job is doing now.
        partial(object): a partial result (a frame with landmarks, a metrics row, ...).
        finished(object): the job's return value.
        failed(str): a one-line message for the user.
        cancelled(): the job stopped because it was cancelled.
        done(): emitted after any of the three outcome signals, for cleanup.
    """

    progress = Signal(int, int)
    status = Signal(str)
    partial = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()


class QtTaskHandle:
    """A task handle (:class:`signstudio.tasks.TaskHandle`) that emits :class:`WorkerSignals`.

    It is called from the worker thread; signal emission is thread-safe and the connected slots
    run later on the GUI thread (queued connections).

    Args:
        signals: where to emit.
        map_partial: optional function applied to each partial result *on the worker thread*
            before it is emitted (e.g. downscale a video frame so the GUI thread does less work
            and queued frames take less memory). Returning ``None`` drops the partial.
    """

    def __init__(self, signals: WorkerSignals,
                 map_partial: Callable[[Any], Any] | None = None) -> None:
        self._signals = signals
        self._map_partial = map_partial
        self._cancel = threading.Event()
        self._total = -1
        self._done = 0
        self.unit = "it"

    # --- the TaskHandle protocol -------------------------------------------------------------
    def set_total(self, total: int | None, unit: str = "it") -> None:
        """Announce the number of steps (``None``: unknown) and reset the count."""
        self._total = -1 if total is None else int(total)
        self._done = 0
        self.unit = unit
        self._signals.progress.emit(self._done, self._total)

    def advance(self, n: int = 1) -> None:
        """Report ``n`` more steps done."""
        self._done += n
        self._signals.progress.emit(self._done, self._total)

    def set_status(self, text: str) -> None:
        """Emit a status line."""
        self._signals.status.emit(str(text))

    def partial(self, result: Any) -> None:
        """Emit a partial result (after ``map_partial``, if one was given)."""
        if self._map_partial is not None:
            result = self._map_partial(result)
            if result is None:
                return
        self._signals.partial.emit(result)

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancel.is_set()

    # --- for the GUI thread --------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the job to stop at its next check (thread-safe)."""
        self._cancel.set()


class Worker(QRunnable):
    """Runs ``job(handle)`` on a thread pool and reports through :attr:`signals`.

    Keep a reference to the worker until ``signals.done`` fires (the GUI's tabs do), so the
    Python objects outlive the thread.

    Args:
        job: a function of one argument, the task handle.
        name: a short label used in log messages.
        map_partial: see :class:`QtTaskHandle`.

    Example::

        worker = Worker(lambda task: extract_pose(path, task, emit_frames=True))
        worker.signals.finished.connect(on_done)
        worker.start()
    """

    def __init__(self, job: Job, name: str = "job",
                 map_partial: Callable[[Any], Any] | None = None) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.job = job
        self.name = name
        self.signals = WorkerSignals()
        self.handle = QtTaskHandle(self.signals, map_partial=map_partial)
        self._finished_event = threading.Event()
        self.started_at: float | None = None
        #: The exception the job raised (set before ``failed``/``cancelled`` is emitted).
        self.error: BaseException | None = None

    def start(self, pool: QThreadPool | None = None) -> "Worker":
        """Queue the job on ``pool`` (default: the global pool); returns ``self``."""
        self.started_at = time.monotonic()
        (pool or QThreadPool.globalInstance()).start(self)
        return self

    def cancel(self) -> None:
        """Ask the job to stop; the outcome arrives later as ``cancelled`` (or ``finished``)."""
        self.handle.cancel()

    @property
    def is_cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self.handle.cancelled

    def is_running(self) -> bool:
        """True until the job's function has returned or raised."""
        return not self._finished_event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job's function has returned or raised; True if it did in time."""
        return self._finished_event.wait(timeout)

    @property
    def unit(self) -> str:
        """What the job counts ("frame", "gloss", ...; "it" when it did not say)."""
        return self.handle.unit

    def kill(self) -> None:
        """A thread cannot be killed: nothing to do (a cancelled job stops at its next check)."""

    def close(self) -> None:
        """Nothing to release (the pool owns the thread)."""

    def run(self) -> None:  # noqa: D401 - Qt's name
        """Run the job (on a pool thread). Never raises."""
        signals = self.signals
        try:
            result = self.job(self.handle)
        except Cancelled as exc:
            self.error = exc
            self._finished_event.set()
            signals.cancelled.emit()
        except SignStudioError as exc:
            self.error = exc
            self._finished_event.set()
            signals.failed.emit(one_line(str(exc)) or type(exc).__name__)
        except BaseException as exc:  # noqa: BLE001 - a bug must not kill the app
            traceback.print_exc()
            self.error = exc
            self._finished_event.set()
            signals.failed.emit(unexpected_message(exc))
        else:
            self._finished_event.set()
            signals.finished.emit(result)
        signals.done.emit()


def one_line(text: str) -> str:
    """The first non-empty line of ``text``, stripped."""
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return ""


def write_problem(path: str | os.PathLike, exc: OSError) -> str:
    """Why ``path`` could not be written, in a few words: which folder is in the way when a part
    of the path is a file, else the system's reason ("Permission denied")."""
    target = Path(path)
    for parent in target.parents:  # the nearest part of the path that exists
        try:
            if parent.exists():
                if not parent.is_dir():
                    return f"{parent} is a file, not a folder"
                break
        except OSError:
            break
    return exc.strerror or str(exc) or type(exc).__name__


def unexpected_message(exc: BaseException) -> str:
    """A readable one-line message for an exception that is not a SignStudioError (a bug)."""
    detail = one_line(str(exc))
    kind = type(exc).__name__
    if isinstance(exc, ImportError):
        return f"A part of SignStudio is missing or not installed: {detail or kind}"
    if isinstance(exc, MemoryError):
        return "Not enough memory for this job. Try a shorter or smaller video."
    return (f"Something went wrong inside SignStudio ({kind}: {detail})" if detail
            else f"Something went wrong inside SignStudio ({kind}).") + \
        " The details were written to the terminal."


class ProcessWorker(QObject):
    """A job that runs in a child process, with the signals of a :class:`Worker`.

    ``process`` is a :class:`signstudio.training.process.TrainingProcess` (or anything with its
    ``start``/``poll``/``cancel``/``kill``/``wait``/``running``): a timer polls its events on the
    GUI thread. The child's JSON-lines events are the task-handle calls of
    :class:`signstudio.tasks.JsonLinesTask`, so they map onto the same signals as a thread's:
    ``total``/``progress`` → ``progress``, ``status`` → ``status``; **every** event, as a dict,
    is also emitted as ``partial`` (a monitor such as
    :class:`signstudio.training.monitor.TrainingMonitor` reads them all). The process's last
    event, ``exited``, gives the outcome: ``finished(result of the "done" event)``,
    ``cancelled()`` or ``failed(message)``; then ``done()``.

    Args:
        process: the child process (not started yet).
        name: a short label for log messages.
        poll_ms: how often the events are read, in milliseconds.
    """

    def __init__(self, process: Any, name: str = "process", poll_ms: int = 200,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process = process
        self.name = name
        self.signals = WorkerSignals(self)
        self.error: BaseException | None = None
        self.started_at: float | None = None
        self._unit = "it"
        self._total = -1
        self._result: Any = None
        self._ended = False
        self._cancel_requested = False
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.poll)

    def start(self, pool: QThreadPool | None = None) -> "ProcessWorker":
        """Start the child and the timer; returns ``self``.

        Raises:
            OSError: the child cannot be started (nothing runs then).
        """
        self.process.start()
        self.started_at = time.monotonic()
        self._timer.start()
        return self

    @property
    def unit(self) -> str:
        """What the child counts (from its ``total`` event; "it" before)."""
        return self._unit

    def cancel(self) -> None:
        """Ask the child to stop (SIGTERM; it is killed if still alive 30 s later)."""
        self._cancel_requested = True
        self.process.cancel()

    @property
    def is_cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancel_requested

    def is_running(self) -> bool:
        """True while the child process runs."""
        return bool(self.process.running)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the child has exited; True if it did within ``timeout`` seconds."""
        return self.process.wait(timeout) is not None

    def kill(self) -> None:
        """Kill the child at once."""
        self.process.kill()

    def close(self) -> None:
        """Stop polling (the outcome is no longer wanted)."""
        self._timer.stop()

    def poll(self) -> None:
        """Read the events that arrived and emit them (the timer calls this)."""
        for event in self.process.poll():
            if self._ended:
                break
            try:
                self._emit(event)
            except Exception as exc:  # noqa: BLE001 - a malformed event must not take the window down
                log.warning("ignored an unexpected event from %s: %s: %s", self.name,
                            type(exc).__name__, exc)

    def _emit(self, event: dict[str, Any]) -> None:
        signals = self.signals
        kind = event.get("event")
        if kind == "total":
            self._unit = str(event.get("unit") or "it")
            total = event.get("total")
            self._total = int(total) if isinstance(total, (int, float)) and total > 0 else -1
            signals.progress.emit(0, self._total)
        elif kind == "progress":
            total = event.get("total")
            if isinstance(total, (int, float)) and total > 0:
                self._total = int(total)
            signals.progress.emit(int(event.get("done") or 0), self._total)
        elif kind == "status":
            signals.status.emit(str(event.get("text", "")))
        elif kind == "done":
            self._result = event.get("result")
        signals.partial.emit(event)
        if kind == "exited":
            self._ended = True
            self._timer.stop()
            outcome = event.get("outcome")
            if outcome == "done":
                signals.finished.emit(self._result)
            elif outcome == "cancelled":
                signals.cancelled.emit()
            else:
                message = one_line(str(event.get("message") or "")) or "the process failed"
                self.error = RuntimeError(message)
                signals.failed.emit(message)
            signals.done.emit()
