"""Run core jobs off the GUI thread and turn their task-handle calls into queued Qt signals.

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
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

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


#: The state of a :class:`JobTabMixin` tab with no job running.
IDLE = "idle"


class JobTabMixin:
    """Worker plumbing shared by the tabs that run core jobs (Produce, Attention): one current job
    on a :class:`Worker`, its progress and status, and errors in the tab's banner.

    The tab provides ``_state``, ``_worker``, ``_workers`` (a set), ``_discard``, ``_shut_down``,
    ``banner`` (a MessageBanner), ``status_label``, ``progress_bar``, the signals ``idle``,
    ``error_shown`` and ``status_message``, and the methods ``_set_state``, ``_on_progress``,
    ``_on_failed`` and ``_on_cancelled`` (these differ between tabs).
    """

    def is_busy(self) -> bool:
        """True while a job runs."""
        return self._state != IDLE

    def error_text(self) -> str:
        """The error shown in the banner ("" if none)."""
        return self.banner.text() if self.banner.kind == "error" else ""

    def _start(self, state: str, job, status: str, on_finished) -> Worker:
        worker = Worker(job, name=state)
        self._worker = worker
        self._workers.add(worker)
        self._discard = False
        sig = worker.signals
        sig.progress.connect(lambda done, total, w=worker: self._on_progress(w, done, total))
        sig.status.connect(lambda text, w=worker: self._on_status(w, text))
        sig.finished.connect(lambda result, w=worker: self._on_finished(w, result, on_finished))
        sig.failed.connect(lambda message, w=worker: self._on_failed(w, message))
        sig.cancelled.connect(lambda w=worker: self._on_cancelled(w))
        sig.done.connect(lambda w=worker: self._workers.discard(w))
        self._set_state(state)
        self._status(status)
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setFormat("")
        worker.start()
        return worker

    def _current(self, worker: Worker) -> bool:
        return worker is self._worker and not self._shut_down

    def _on_status(self, worker: Worker, text: str) -> None:
        if self._current(worker) and text:
            self._status(text[:1].upper() + text[1:])

    def _on_finished(self, worker: Worker, result: Any, handler) -> None:
        if not self._current(worker):
            return
        if self._discard:
            self._on_cancelled(worker)
            return
        self._worker = None
        self._set_state(IDLE)
        handler(result)
        self.idle.emit()

    def show_error(self, message: str) -> None:
        """Show a one-line error in the banner (and emit ``error_shown``)."""
        self.banner.show_message(message, "error")
        self.error_shown.emit(message)

    def _status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_message.emit(text)
