"""A training run's output folder: what it holds, and writing it so that nothing is ever half-written.

A run folder holds ``model.pt`` (the best checkpoint), ``train_state.pt`` (to resume),
``metrics.jsonl`` (one row per evaluation), ``train_summary.json`` (when finished) and, for runs
started from the window, ``config.yaml`` and ``train.log``. Every file is replaced whole (temp
file, then rename): a kill leaves either the old file or the new one, never a partial one, and a
temp file orphaned by a kill is removed when the next run starts in the folder.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from signstudio.atomic import atomic_write
from signstudio.errors import ConfigError
from signstudio.files import check_output_folder

MODEL_FILE = "model.pt"
STATE_FILE = "train_state.pt"
METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "train_summary.json"
#: The files that make a folder hold a run (any one of them).
RUN_FILES = (MODEL_FILE, STATE_FILE, METRICS_FILE, SUMMARY_FILE)


def holds_run(folder: str | Path) -> bool:
    """True if ``folder`` holds a (finished or unfinished) training run."""
    folder = Path(folder)
    return any((folder / name).is_file() for name in RUN_FILES)


def can_resume(folder: str | Path) -> bool:
    """True if ``folder`` holds a training state to resume from."""
    return (Path(folder) / STATE_FILE).is_file()


def read_metrics(folder: str | Path) -> list[dict[str, Any]]:
    """The evaluation rows of ``<folder>/metrics.jsonl``, oldest first (``[]`` if none).

    Lines that are not JSON objects (a row cut short by a killed process in a version that
    appended) are skipped; rows of the same epoch keep the last one.
    """
    path = Path(folder) / METRICS_FILE
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    rows: dict[Any, dict[str, Any]] = {}
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows[row.get("epoch", len(rows))] = row
    return list(rows.values())


class RunFolder:
    """The output folder of one training run, as :func:`signstudio.training.loop.fit` writes it.

    Args:
        path: the folder (created when the run begins).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def model_path(self) -> Path:
        """Where the best checkpoint goes."""
        return self.path / MODEL_FILE

    def check_start(self, resume: bool, overwrite: bool) -> None:
        """Refuse, before any work, a start that would lose a run or cannot write.

        Raises:
            ConfigError: a fresh run into a folder that holds one (without ``overwrite``); a
                resume without a training state. InputError: an output path that is a file or
                cannot be created or written (:func:`signstudio.files.check_output_folder`).
        """
        check_output_folder(self.path)
        if resume:
            if not can_resume(self.path):
                raise ConfigError(f"nothing to resume: {self.path / STATE_FILE} does not exist "
                                  "(start the run without --resume)")
        elif holds_run(self.path) and not overwrite:
            raise ConfigError(f"{self.path} already holds a training run; resume it (--resume), pick "
                              "another output folder, or replace it (--overwrite)")

    def begin(self, resume: bool) -> None:
        """Create the folder; remove temp files orphaned by a killed run; a fresh run also removes
        the old run's files."""
        self.path.mkdir(parents=True, exist_ok=True)
        for tmp in self.path.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        if not resume:
            for name in RUN_FILES:
                (self.path / name).unlink(missing_ok=True)

    def add_metrics(self, row: dict[str, Any]) -> None:
        """Add one evaluation row to ``metrics.jsonl`` (the file is replaced whole)."""
        rows = [json.dumps(r, allow_nan=True) for r in read_metrics(self.path)]
        rows.append(json.dumps(row, allow_nan=True))
        with atomic_write(self.path / METRICS_FILE, "w") as f:
            f.write("".join(r + "\n" for r in rows))

    def truncate_metrics(self, epoch: int) -> None:
        """Keep only the rows of epochs up to ``epoch`` (the resumed state's); rows an interrupted
        evaluation wrote after its state would otherwise appear twice."""
        rows = [r for r in read_metrics(self.path) if r.get("epoch", math.inf) <= epoch]
        with atomic_write(self.path / METRICS_FILE, "w") as f:
            f.write("".join(json.dumps(r, allow_nan=True) + "\n" for r in rows))

    def write_summary(self, summary: dict[str, Any]) -> None:
        """Write ``train_summary.json``."""
        with atomic_write(self.path / SUMMARY_FILE, "w") as f:
            json.dump(summary, f, indent=2)
