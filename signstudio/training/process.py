"""Training in a child process: start ``signstudio train --events``, read its events, cancel it.

The window never trains on its own threads: a run is a separate Python process, so a crash, a
leak or a hung evaluation in the training code cannot take the window down, and the same run can
be started from a terminal. :class:`TrainingProcess` starts the child
(``python -m signstudio train CONFIG --events [--resume] [-o OUT]``), reads its JSON-lines events
on a background thread, and hands them over without ever blocking the caller (:meth:`poll`).

The child's events (one JSON object per stdout line, see :class:`signstudio.tasks.JsonLinesTask`):

- ``started`` (``name, output, pid, resume, epochs``), ``total`` (``total, unit``),
  ``progress`` (``done, total``, in steps), ``status`` (``text``), ``metrics`` (``row``: one
  evaluation, ``epoch, step, loss, dev_*, lr, seconds``);
- then exactly one of ``done`` (``result``), ``cancelled`` (``output``), ``error`` (``message``).

:class:`TrainingProcess` adds one event of its own, always the last one:
``{"event": "exited", "returncode": int, "outcome": str, "message": str}``, where ``outcome`` is
``"done"``, ``"cancelled"`` or ``"failed"`` and ``message`` is a readable line for a failure
(the child's ``error`` message, else the last line it wrote on stderr, else what killed it).
When the child fails without an ``error`` event of its own (killed, crashed, or it refused its
arguments before its events started), an ``error`` event with that message and
``"synthetic": true`` comes just before ``exited``.

This module does not import Qt.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Sequence

from signstudio.atomic import atomic_write
from signstudio.paths import PROJECT_ROOT
from signstudio.training.config import parse_config_text

#: Exit status of a cancelled run (``signstudio train`` exits 130 after SIGTERM).
EXIT_CANCELLED = 130
#: Name of the child's stderr log inside the output folder.
LOG_NAME = "train.log"

#: Events the child sends last; after one of them only ``exited`` follows.
FINAL_EVENTS = ("done", "cancelled", "error")


def write_config(text: str, path: str | os.PathLike):
    """Validate YAML ``text`` (:func:`~signstudio.training.config.parse_config_text`), then write it
    atomically to ``path``.

    Nothing is written when the text is invalid; a previous file at ``path`` stays as it was.
    Returns the validated :class:`~signstudio.training.config.ExperimentConfig`.

    Raises:
        ConfigError: the text is not a valid training config.
        OSError: the folder is not writable.
    """
    cfg = parse_config_text(text)
    with atomic_write(path, "w") as f:
        f.write(text if text.endswith("\n") else text + "\n")
    return cfg


def _first_line(text: str) -> str:
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return ""


# ------------------------------------------------------------------------------------------------
# the child process
class TrainingProcess:
    """One ``signstudio train --events`` run in a child process.

    Args:
        config: the YAML config file (made absolute).
        output: output folder passed as ``-o`` (default: the config's rule,
            :func:`~signstudio.training.config.resolve_output`).
        resume: pass ``--resume`` (continue from ``<output>/train_state.pt``).
        overwrite: pass ``--overwrite`` (a fresh run may replace the run in the output folder).
        epochs: pass ``--epochs N``.
        log_path: where the child's stderr goes (appended). Default: ``<output>/train.log`` when
            ``output`` is given, else a temporary file.
        env: extra environment variables for the child. ``OMP_NUM_THREADS=1`` is set unless the
            parent's environment (or ``env``) sets it; the project root is put first on
            ``PYTHONPATH`` so the child runs the same code as the parent.
        cwd: the child's working folder (default: the parent's).
        command: run this argv instead of ``signstudio train`` (tests, other tools); its stdout
            must be the same JSON lines.

    Call :meth:`start`, then :meth:`poll` regularly (e.g. from a GUI timer): it returns the events
    that arrived since the last call, as dicts, and never blocks.
    """

    def __init__(self, config: str | os.PathLike | None = None, *, output: str | os.PathLike | None = None,
                 resume: bool = False, overwrite: bool = False, epochs: int | None = None, log_path: str | os.PathLike | None = None,
                 env: dict[str, str] | None = None, cwd: str | os.PathLike | None = None,
                 command: Sequence[str] | None = None) -> None:
        if config is None and command is None:
            raise ValueError("TrainingProcess needs a config file (or a command)")
        self.config = Path(config).expanduser().resolve() if config is not None else None
        self.output: Path | None = Path(output).expanduser().resolve() if output is not None else None
        self.resume = resume
        self.overwrite = overwrite
        self.epochs = epochs
        self._log_arg = Path(log_path) if log_path is not None else None
        self.log_path: Path | None = None
        self._env = dict(env or {})
        self.cwd = Path(cwd) if cwd is not None else None
        self._command = list(command) if command is not None else None
        self._proc: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._queue: queue.Queue = queue.Queue()
        self._history: list[dict[str, Any]] = []
        self._cursor = 0
        self._lock = threading.Lock()
        self._kill_timer: threading.Timer | None = None
        self._cancel_requested = False
        self._killed = False
        #: Number of stdout lines that were not event objects (ignored).
        self.ignored_lines = 0

    # --- the command -----------------------------------------------------------------------------
    def argv(self) -> list[str]:
        """The child's command line."""
        if self._command is not None:
            return list(self._command)
        argv = [sys.executable, "-m", "signstudio", "train", str(self.config), "--events"]
        if self.output is not None:
            argv += ["-o", str(self.output)]
        if self.epochs is not None:
            argv += ["--epochs", str(int(self.epochs))]
        if self.resume:
            argv.append("--resume")
        if self.overwrite:
            argv.append("--overwrite")
        return argv

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self._env)
        env.setdefault("OMP_NUM_THREADS", "1")
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONIOENCODING"] = "utf-8"
        root = str(PROJECT_ROOT)
        paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in paths if p != root])
        return env

    # --- life cycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the child and the thread that reads its events; returns at once.

        Raises:
            RuntimeError: already started.
            OSError: the program cannot be run, or the log file cannot be created.
        """
        if self._proc is not None:
            raise RuntimeError("this training process was started already")
        if self._log_arg is not None:
            self.log_path = self._log_arg
        elif self.output is not None:
            self.log_path = self.output / LOG_NAME
        else:
            fd, name = tempfile.mkstemp(prefix="signstudio-train-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        try:
            log.write(f"--- {' '.join(self.argv())}\n".encode())
            log.flush()
            self._log_start = log.tell()
            self._proc = subprocess.Popen(
                self.argv(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                env=self._child_env(), cwd=self.cwd, bufsize=0)
        finally:
            log.close()  # the child holds its own copy of the descriptor
        self._reader = threading.Thread(target=self._read, name="training-events", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        last: dict[str, Any] | None = None
        for raw in proc.stdout:
            event = self._parse(raw)
            if event is None:
                with self._lock:
                    self.ignored_lines += 1
                continue
            if event["event"] == "started" and self.output is None and event.get("output"):
                out = Path(str(event["output"]))
                self.output = out if out.is_absolute() else (self.cwd or Path.cwd()) / out
            if event["event"] in FINAL_EVENTS:
                last = event
            self._queue.put(event)
        proc.stdout.close()
        rc = proc.wait()
        self._cancel_kill_timer()
        exited = self._exit_event(rc, last)
        if exited["outcome"] == "failed" and last is None:
            # The child died before it could say why (killed, a crash, a config it refused before
            # its events started): report the failure as the child would have.
            self._queue.put({"event": "error", "message": exited["message"], "synthetic": True})
        self._queue.put(exited)

    @staticmethod
    def _parse(raw: bytes) -> dict[str, Any] | None:
        """One stdout line as an event dict, or ``None`` if it is not one."""
        try:
            obj = json.loads(raw.decode("utf-8", errors="replace"))
        except ValueError:
            return None
        if not isinstance(obj, dict) or not isinstance(obj.get("event"), str):
            return None
        return obj

    def _exit_event(self, rc: int, last: dict[str, Any] | None) -> dict[str, Any]:
        kind = last["event"] if last is not None else ""
        if rc == 0 and kind in ("done", ""):
            outcome, message = "done", ""
        elif kind == "cancelled" or rc == EXIT_CANCELLED or (self._cancel_requested and not self._killed
                                                            and rc == -signal.SIGTERM):
            outcome, message = "cancelled", "training was cancelled"
        else:
            outcome = "failed"
            if kind == "error" and last.get("message"):
                message = _first_line(str(last["message"]))
            elif self._killed:
                message = "the training process was stopped (killed)"
            elif rc < 0:
                try:
                    name = signal.Signals(-rc).name
                except ValueError:
                    name = f"signal {-rc}"
                message = f"the training process was killed ({name})"
            else:
                tail = self.stderr_tail(1)
                if tail.startswith("signstudio: error: "):
                    message = tail[len("signstudio: error: "):]
                elif tail:
                    message = f"the training process failed (exit status {rc}): {tail}"
                else:
                    message = f"the training process failed (exit status {rc})"
        return {"event": "exited", "returncode": rc, "outcome": outcome, "message": message}

    # --- events ----------------------------------------------------------------------------------
    def _drain(self) -> None:
        while True:
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                return
            self._history.append(event)

    def poll(self) -> list[dict[str, Any]]:
        """The events that arrived since the last :meth:`poll` (possibly none); never blocks."""
        with self._lock:
            self._drain()
            new = self._history[self._cursor:]
            self._cursor = len(self._history)
        return new

    def events(self) -> list[dict[str, Any]]:
        """Every event received so far, oldest first (does not change what :meth:`poll` returns)."""
        with self._lock:
            self._drain()
            return list(self._history)

    @property
    def finished(self) -> bool:
        """True once the child exited and all its events (and ``exited``) have been received."""
        with self._lock:
            self._drain()
            return bool(self._history) and self._history[-1]["event"] == "exited"

    # --- state -----------------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        """True once :meth:`start` succeeded."""
        return self._proc is not None

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """The child's exit status (``None`` while running or before start; negative: a signal)."""
        return None if self._proc is None else self._proc.poll()

    @property
    def pid(self) -> int | None:
        """The child's process id (``None`` before start)."""
        return None if self._proc is None else self._proc.pid

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait up to ``timeout`` seconds (``None``: forever) for the child to exit and its events
        to be read; returns the exit status, or ``None`` if it is still running."""
        if self._proc is None:
            return None
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        if self._reader is not None:
            self._reader.join(timeout if timeout is None else max(1.0, timeout))
        return self._proc.returncode

    # --- stopping --------------------------------------------------------------------------------
    def cancel(self, kill_after: float | None = 30.0) -> None:
        """Ask the child to stop (SIGTERM); it finishes the current step and exits with 130.

        Returns at once. If the child is still alive ``kill_after`` seconds later (an evaluation
        runs between two steps, and can take a while), it is killed (``None``: never). On
        Windows, where there is no SIGTERM, the child is terminated at once. Does nothing when
        the child is not running.
        """
        if not self.running:
            return
        self._cancel_requested = True
        assert self._proc is not None
        try:
            if os.name == "nt":
                self._proc.terminate()
            else:
                self._proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            return
        if kill_after is not None and self._kill_timer is None:
            self._kill_timer = threading.Timer(kill_after, self.kill)
            self._kill_timer.daemon = True
            self._kill_timer.start()

    def kill(self) -> None:
        """Kill the child at once (SIGKILL); work since its last evaluation is lost."""
        if not self.running:
            return
        assert self._proc is not None
        self._killed = True
        try:
            self._proc.kill()
        except ProcessLookupError:
            pass

    def _cancel_kill_timer(self) -> None:
        timer, self._kill_timer = self._kill_timer, None
        if timer is not None:
            timer.cancel()

    # --- the child's stderr ----------------------------------------------------------------------
    def stderr_tail(self, lines: int = 20, max_bytes: int = 64_000) -> str:
        """The last ``lines`` non-empty lines the child wrote on stderr in this run ("" if none).

        Progress-bar redraws (carriage returns) are reduced to their last state.
        """
        if self.log_path is None:
            return ""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                start = max(getattr(self, "_log_start", 0), size - max_bytes)
                f.seek(start)
                data = f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""
        out = [line.rsplit("\r", 1)[-1].rstrip() for line in data.splitlines()]
        out = [line for line in out if line.strip()]
        return "\n".join(out[-lines:])
