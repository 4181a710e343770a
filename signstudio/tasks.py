"""Task handles: how a long job reports progress and learns it was cancelled.

Long jobs (pose extraction, training, evaluation) are plain functions that take a task handle
(Orange3's ``TaskState`` pattern). The CLI passes a :class:`TqdmTask`, tests a
:class:`RecordingTask`, and the GUI a Qt worker's handle that turns the calls into queued signals.
No job logic lives in a widget.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from signstudio.errors import Cancelled


class TaskHandle(Protocol):
    """What a long job may call on the handle it is given."""

    def set_total(self, total: int | None, unit: str = "it") -> None:
        """Announce how many steps the job has (``None``: unknown)."""

    def advance(self, n: int = 1) -> None:
        """Report that ``n`` more steps are done."""

    def set_status(self, text: str) -> None:
        """A short human-readable line about what the job is doing now."""

    def partial(self, result: Any) -> None:
        """Hand over a partial result (a frame with landmarks, a metrics row, ...)."""

    @property
    def cancelled(self) -> bool:
        """True once someone asked the job to stop; the job then raises :class:`Cancelled`."""


class NullTask:
    """A handle that ignores everything and can still be cancelled (thread-safe)."""

    def __init__(self) -> None:
        self._cancel = threading.Event()

    def set_total(self, total: int | None, unit: str = "it") -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def set_status(self, text: str) -> None:
        pass

    def partial(self, result: Any) -> None:
        pass

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()


class RecordingTask(NullTask):
    """Records every call, for tests; ``cancel_after`` cancels once that many steps are done."""

    def __init__(self, cancel_after: int | None = None) -> None:
        super().__init__()
        self.total: int | None = None
        self.done = 0
        self.statuses: list[str] = []
        self.partials: list[Any] = []
        self._cancel_after = cancel_after

    def set_total(self, total: int | None, unit: str = "it") -> None:
        self.total = total

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self._cancel_after is not None and self.done >= self._cancel_after:
            self.cancel()

    def set_status(self, text: str) -> None:
        self.statuses.append(text)

    def partial(self, result: Any) -> None:
        self.partials.append(result)


class TqdmTask(NullTask):
    """A terminal progress bar (tqdm, on stderr) with the rate in steps per second."""

    def __init__(self, desc: str = "", disable: bool = False) -> None:
        super().__init__()
        self._desc = desc
        self._disable = disable
        self._bar = None

    def set_total(self, total: int | None, unit: str = "it") -> None:
        from tqdm import tqdm

        self.close()
        self._bar = tqdm(total=total, unit=unit, desc=self._desc, disable=self._disable,
                         dynamic_ncols=True, leave=False)

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def set_status(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)

    def close(self) -> None:
        """Remove the bar from the terminal."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class JsonLinesTask(NullTask):
    """Progress as JSON lines on a stream: how a training process talks to the window.

    ``signstudio train --events`` runs with this handle; the window (or any other parent
    process) reads one JSON object per line (see :mod:`signstudio.training.process`):

    - ``{"event": "total", "total": int, "unit": str}``
    - ``{"event": "progress", "done": int, "total": int|null}`` (at most every ``interval`` seconds)
    - ``{"event": "status", "text": str}``
    - ``{"event": "metrics", "row": {...}}`` (one evaluation: epoch, step, loss, dev metrics, lr, seconds)

    The command itself adds ``started``, ``done``, ``cancelled`` and ``error`` events.
    """

    def __init__(self, stream, interval: float = 0.25) -> None:
        super().__init__()
        self._stream = stream
        self._interval = interval
        self._total: int | None = None
        self._done = 0
        self._last = 0.0

    def emit(self, event: str, **fields: Any) -> None:
        """Write one event line and flush."""
        import json

        self._stream.write(json.dumps({"event": event, **fields}, ensure_ascii=False, default=str) + "\n")
        self._stream.flush()

    def set_total(self, total: int | None, unit: str = "it") -> None:
        self._total, self._done = total, 0
        self.emit("total", total=total, unit=unit)

    def advance(self, n: int = 1) -> None:
        import time

        self._done += n
        now = time.monotonic()
        if now - self._last >= self._interval or (self._total is not None and self._done >= self._total):
            self._last = now
            self.emit("progress", done=self._done, total=self._total)

    def set_status(self, text: str) -> None:
        self.emit("status", text=text)

    def partial(self, result: Any) -> None:
        self.emit("metrics", row=result)


def check_cancelled(task: TaskHandle) -> None:
    """Raise :class:`Cancelled` if ``task`` was cancelled."""
    if task.cancelled:
        raise Cancelled()
