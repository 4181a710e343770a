"""Watching a training run from its events: what the Train tab shows, without Qt.

A run started from the window is a child process (:class:`signstudio.training.process.
TrainingProcess`) that reports JSON-lines events. :class:`TrainingMonitor` is fed those events one
at a time and keeps what a view needs: the evaluation rows (the curves), the best point by the
recipe's own selection metric (the ``started`` event carries ``metric``, ``lower_is_better`` and
``metric_label``), progress in steps with the time left, and, once the child has exited, the
outcome and a readable message. The window only draws what the monitor holds; tests drive it with
plain dicts.

Also here, because the window must get them right and they are easy to test without a screen:
:func:`stopped_epoch` (what Resume would continue), :func:`shipped_model_folder` (a run started
from the window never replaces a shipped model) and :func:`format_duration`.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable

from signstudio.training.run import MODEL_FILE, can_resume, read_metrics

#: The outcomes of a run (the ``exited`` event's ``outcome``).
OUTCOMES = ("done", "cancelled", "failed")
#: Seconds of progress needed before a "time left" is shown (the first steps are not typical).
MIN_RATE_SECONDS = 1.0


def format_duration(seconds: float) -> str:
    """A rough, readable duration: "40 s", "12 min", "1 h 5 min"."""
    seconds = max(0.0, float(seconds)) if math.isfinite(float(seconds)) else 0.0
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def finite(value: Any) -> bool:
    """True for a real, finite number (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def stopped_epoch(folder: str | Path | None, epochs: int | None = None) -> int | None:
    """The last evaluated epoch of a stopped, resumable run in ``folder``; ``None`` if there is
    none (no ``train_state.pt``), or if the run reached ``epochs`` (finished: nothing to resume).
    0 means a state was saved before any evaluation row."""
    if folder is None or not can_resume(folder):
        return None
    rows = read_metrics(folder)
    epoch = rows[-1].get("epoch") if rows else 0
    epoch = int(epoch) if finite(epoch) else 0
    if epochs is not None and epoch >= epochs:
        return None
    return epoch


def shipped_model_folder(folder: str | Path) -> Path | None:
    """The shipped models folder if ``folder`` is inside it (or is it), else ``None``.

    A run started from the window writes only to the user's models folder
    (:func:`~signstudio.training.config.resolve_output`); this catches a user models folder
    configured to be the shipped one (``SIGNSTUDIO_USER_MODELS``), so a shipped model is never
    replaced from the window.
    """
    from signstudio.paths import models_dir

    try:
        shipped = models_dir().expanduser().resolve()
        target = Path(folder).expanduser().resolve()
    except (OSError, RuntimeError):
        return None
    return shipped if target == shipped or shipped in target.parents else None


class TrainingMonitor:
    """The state of one training run, built from its events (:meth:`feed`).

    Args:
        metric: the row key of the selection metric (e.g. ``"dev_wer"``); the ``started`` event's
            ``metric`` replaces it.
        lower_is_better: whether a smaller ``metric`` is better (likewise from ``started``).
        metric_label: how people read ``metric`` (e.g. ``"dev WER"``); default: the key with
            spaces.
        rows: evaluation rows already there (a resumed run's ``metrics.jsonl``).
        epochs: the run's epochs (for :meth:`stopped_epoch`; ``started`` replaces it).
        output: the run's folder (``started``'s ``output`` replaces it).
        name: the model's name.
        clock: seconds, monotonic (tests pass a fake one).

    Attributes (read them, do not set them): ``rows``, ``metric``, ``lower_is_better``,
    ``total`` (steps, ``None`` until announced), ``done`` (steps), ``status`` (the last status
    line), ``outcome`` (``None`` while running, then one of :data:`OUTCOMES`), ``result`` (the
    ``done`` event's result), ``error`` (the failure's message), ``resumed``, ``pid``.
    """

    def __init__(self, *, metric: str = "", lower_is_better: bool = True, metric_label: str = "",
                 rows: list[dict[str, Any]] | None = None, epochs: int | None = None,
                 output: str | Path | None = None, name: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.metric = metric
        self.lower_is_better = bool(lower_is_better)
        self._metric_label = metric_label
        self.rows: list[dict[str, Any]] = []
        for row in rows or []:
            self._add_row(dict(row))
        self.epochs = epochs
        self.output = Path(output) if output is not None else None
        self.name = name
        self._clock = clock
        self.started_at = clock()
        self.ended_at: float | None = None
        self.total: int | None = None
        self.done = 0
        self._rate_start: tuple[float, int] | None = None
        self.status = ""
        self.outcome: str | None = None
        self.result: dict[str, Any] = {}
        self.error = ""
        self.resumed = False
        self.pid: int | None = None

    @classmethod
    def for_config(cls, cfg: Any, output: str | Path | None = None, resume: bool = False,
                   clock: Callable[[], float] = time.monotonic) -> "TrainingMonitor":
        """A monitor for a run of ``cfg`` (an ``ExperimentConfig``) into ``output``: the metric
        comes from the model family's recipe until the child's ``started`` event confirms it; a
        resumed run starts with the rows already in ``output``."""
        metric, lower, label = "", True, ""
        try:
            from signstudio.training.families import recipe_class

            recipe = recipe_class(cfg.model_type)(cfg)
            metric, lower, label = recipe.metric, recipe.lower_is_better, recipe.metric_label
        except Exception:  # noqa: BLE001 - the started event says it again
            pass
        rows = read_metrics(output) if resume and output is not None else []
        return cls(metric=metric, lower_is_better=lower, metric_label=label, rows=rows,
                   epochs=cfg.train.epochs, output=output, name=cfg.name, clock=clock)

    # --- reading -----------------------------------------------------------------------------
    @property
    def metric_label(self) -> str:
        """How people read the selection metric ("dev WER"); "" when there is none."""
        return self._metric_label or self.metric.replace("_", " ")

    def metric_title(self) -> str:
        """The dev plot's title, e.g. "dev WER (lower is better)"; "" with no metric."""
        if not self.metric:
            return ""
        return f"{self.metric_label} ({'lower' if self.lower_is_better else 'higher'} is better)"

    @property
    def running(self) -> bool:
        """True until the child's ``exited`` event."""
        return self.outcome is None

    def loss_points(self) -> tuple[list[float], list[float]]:
        """``(epochs, losses)`` of the rows with a finite loss."""
        return self._points("loss")

    def metric_points(self) -> tuple[list[float], list[float]]:
        """``(epochs, values)`` of the selection metric (empty with no metric)."""
        return self._points(self.metric) if self.metric else ([], [])

    def _points(self, key: str) -> tuple[list[float], list[float]]:
        pts = [(r["epoch"], r[key]) for r in self.rows if finite(r.get("epoch")) and finite(r.get(key))]
        return [e for e, _ in pts], [v for _, v in pts]

    def best(self) -> tuple[float, float] | None:
        """``(epoch, value)`` of the best evaluation so far by the selection metric (the earlier
        one on a tie), or ``None``."""
        xs, ys = self.metric_points()
        best: tuple[float, float] | None = None
        for x, y in zip(xs, ys):
            if best is None or (y < best[1] if self.lower_is_better else y > best[1]):
                best = (x, y)
        return best

    def best_text(self) -> str:
        """"best so far: epoch 3, dev WER 0.412" ("" with no point)."""
        best = self.best()
        if best is None:
            return ""
        return f"best so far: epoch {best[0]:g}, {self.metric_label} {best[1]:.4g}"

    def time_left(self) -> float | None:
        """Seconds left at the rate since the first progress event, once there has been a
        second of progress; ``None`` before (or with no total)."""
        if self._rate_start is None or not self.total:
            return None
        t0, done0 = self._rate_start
        elapsed, steps = self._clock() - t0, self.done - done0
        if steps <= 0 or elapsed < MIN_RATE_SECONDS:
            return None
        return max(0.0, (self.total - self.done) * elapsed / steps)

    def elapsed(self) -> float:
        """Seconds since the monitor was made (until the run ended, once it has)."""
        end = self.ended_at if self.ended_at is not None else self._clock()
        return max(0.0, end - self.started_at)

    def time_text(self) -> str:
        """What the label beside the progress bar says: "about 3 min left", "almost done",
        then "done in 40 s", "cancelled" or "failed"; "" when nothing is known yet."""
        if self.outcome == "done":
            return f"done in {format_duration(self.elapsed())}"
        if self.outcome is not None:
            return self.outcome
        left = self.time_left()
        if left is None:
            return ""
        return f"about {format_duration(left)} left" if left >= 1 else "almost done"

    def stopped_epoch(self) -> int | None:
        """See :func:`stopped_epoch` (for this run's folder and epochs)."""
        return stopped_epoch(self.output, self.epochs)

    def final_score(self) -> str:
        """", dev WER 0.412" for the finished run's stored metrics ("" if not there)."""
        metrics = self.result.get("metrics") or {}
        if isinstance(metrics, dict) and self.metric and finite(metrics.get(self.metric)):
            return f", {self.metric_label} {metrics[self.metric]:.4g}"
        return ""

    def message(self, log_path: str | Path | None = None) -> tuple[str, str]:
        """``(kind, text)`` for the banner once the run ended: ``"info"`` (where the model was
        saved), ``"warning"`` (cancelled, and what Resume would do) or ``"error"`` (why it
        failed; ``log_path`` is named for details). ``("", "")`` while it runs."""
        if self.outcome == "done":
            out = Path(str(self.result.get("output") or self.output or ""))
            return "info", (f"Training finished. The best model (epoch {self.result.get('best_epoch')}"
                            f"{self.final_score()}) was saved to {out / MODEL_FILE}. "
                            f"It is listed in the other tabs as {out.name}.")
        if self.outcome == "cancelled":
            epoch = self.stopped_epoch()
            if epoch is not None:
                more = (f" Resume continues after epoch {epoch}, its last evaluation." if epoch
                        else " Resume continues from its last evaluation.")
            else:
                more = " It stopped before its first evaluation, so nothing was saved."
            return "warning", f"Training cancelled.{more}"
        if self.outcome == "failed":
            detail = f" (details in {log_path})" if log_path else ""
            return "error", f"Training failed: {self.error or 'the training process failed'}{detail}"
        return "", ""

    def status_line(self) -> str:
        """The status line once the run ended ("Training finished in 9 s.")."""
        if self.outcome == "done":
            return f"Training finished in {format_duration(self.elapsed())}."
        if self.outcome == "cancelled":
            return "Training cancelled."
        if self.outcome == "failed":
            return "Training failed."
        return self.status

    # --- feeding -------------------------------------------------------------------------------
    def feed(self, event: dict[str, Any]) -> list[str]:
        """Take one event; returns the lines it adds to the run's log (maybe none).

        Events it does not know, and fields of the wrong type, are ignored: a malformed event
        must not stop the monitor.
        """
        if not isinstance(event, dict):
            return []
        kind = event.get("event")
        handler = getattr(self, f"_on_{kind}", None) if isinstance(kind, str) else None
        if handler is None:
            return []
        try:
            return handler(event)
        except (TypeError, ValueError, KeyError, AttributeError):
            return []

    def _on_started(self, event: dict[str, Any]) -> list[str]:
        if isinstance(event.get("metric"), str) and event["metric"]:
            self.metric = event["metric"]
            if isinstance(event.get("lower_is_better"), bool):
                self.lower_is_better = event["lower_is_better"]
            self._metric_label = str(event.get("metric_label") or "")
        if event.get("output"):
            self.output = Path(str(event["output"]))
        if finite(event.get("epochs")):
            self.epochs = int(event["epochs"])
        self.name = str(event.get("name") or self.name)
        self.resumed = bool(event.get("resume"))
        self.pid = event.get("pid") if isinstance(event.get("pid"), int) else None
        return [f"Training process {event.get('pid')} started: {self.name}, {self.epochs} epochs"
                + (" (resumed)" if self.resumed else "")]

    def _on_total(self, event: dict[str, Any]) -> list[str]:
        total = event.get("total")
        self.total = int(total) if finite(total) and total > 0 else None
        self.done = 0
        return []

    def _on_progress(self, event: dict[str, Any]) -> list[str]:
        self.done = int(event.get("done") or 0)
        if finite(event.get("total")) and event["total"] > 0:
            self.total = int(event["total"])
        if self._rate_start is None:
            self._rate_start = (self._clock(), self.done)
        return []

    def _on_status(self, event: dict[str, Any]) -> list[str]:
        self.status = str(event.get("text", ""))
        return [self.status] if self.status else []

    def _on_metrics(self, event: dict[str, Any]) -> list[str]:
        row = event.get("row")
        if isinstance(row, dict):
            self._add_row(dict(row))
        return []  # the trainer's own status line describes the evaluation

    def _add_row(self, row: dict[str, Any]) -> None:
        epoch = row.get("epoch")
        if finite(epoch):  # an evaluation again at an epoch replaces that one and later ones
            self.rows = [r for r in self.rows if not (finite(r.get("epoch")) and r["epoch"] >= epoch)]
        self.rows.append(row)

    def _on_done(self, event: dict[str, Any]) -> list[str]:
        self.result = dict(event.get("result") or {})
        if self.total:
            self.done = self.total
        out = Path(str(self.result.get("output") or self.output or ""))
        return [f"Saved {out / MODEL_FILE}"]

    def _on_cancelled(self, event: dict[str, Any]) -> list[str]:
        return []  # "exited" follows with the outcome

    def _on_error(self, event: dict[str, Any]) -> list[str]:
        self.error = str(event.get("message") or "")
        return [f"Error: {self.error}"]

    def _on_exited(self, event: dict[str, Any]) -> list[str]:
        outcome = str(event.get("outcome", "failed"))
        self.outcome = outcome if outcome in OUTCOMES else "failed"
        self.ended_at = self._clock()
        if self.outcome == "done":
            return [f"Finished in {format_duration(self.elapsed())}"]
        if self.outcome == "cancelled":
            return ["Cancelled"]
        self.error = str(event.get("message") or self.error or "the training process failed")
        return [f"Failed: {self.error}"]
