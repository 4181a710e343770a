"""Resumable training: ``<output>/train_state.pt``, written atomically at every evaluation.

The state holds everything the next epoch depends on — the weights, the optimiser and scheduler
states, the step and epoch counters, the best dev score so far, and every random-number
generator (torch's CPU RNG, the run's NumPy ``Generator`` and NumPy's legacy global RNG) — so a
resumed run continues *the same run*: on CPU with a fixed thread count it ends with the same
weights, bit for bit, as a run that was never interrupted (``tests/test_resume.py`` kills a
training process with ``kill -9`` and checks this).

What a ``kill -9`` loses is the work since the last evaluation: ``train_state.pt``,
``model.pt`` and ``metrics.jsonl`` are only ever replaced whole (temp file, then rename), and on
resume the metrics log is cut back to the rows the state has seen
(:meth:`signstudio.training.run.RunFolder.truncate_metrics`).

The file is read with ``torch.load(weights_only=True)``: RNG states and counters are stored as
tensors and JSON strings, never as pickled objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from signstudio.atomic import atomic_write
from signstudio.errors import ConfigError

from signstudio.training.run import STATE_FILE

FORMAT = "signstudio-train-state"
VERSION = 1


@dataclass
class ResumePoint:
    """Where a resumed run picks up.

    Attributes:
        epoch: the last finished (and evaluated) epoch; training continues at ``epoch + 1``.
        step: optimiser steps done so far.
        best: the trainer's best-so-far record (plain JSON data, e.g. ``[dev_wer, epoch, metrics]``).
        extra: trainer-specific JSON data (e.g. the Priority Learning Channel's reward history).
        seconds: training time already spent before the interruption, in seconds.
    """

    epoch: int
    step: int
    best: Any
    extra: dict[str, Any]
    seconds: float


def _json(value: Any) -> str:
    return json.dumps(value, allow_nan=True)


def save_train_state(out_dir: str | Path, *, config: dict[str, Any], model: torch.nn.Module,
                     optimizer: torch.optim.Optimizer, scheduler, rng: np.random.Generator, epoch: int, step: int,
                     best: Any, seconds: float, extra: dict[str, Any] | None = None) -> Path:
    """Write ``<out_dir>/train_state.pt`` atomically; call it right after an evaluation.

    Args:
        config: the experiment config as given (``ExperimentConfig.to_dict()`` before vocabulary
            sizes are filled in); a resume with a different config is refused.
        best, extra: JSON-serialisable (``inf``/``nan`` allowed).
        seconds: training time so far, in seconds.

    Returns:
        The path written.
    """
    legacy = np.random.get_state()
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": _json(config),
        "epoch": int(epoch),
        "step": int(step),
        "best": _json(best),
        "extra": _json(extra or {}),
        "seconds": float(seconds),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": _json(rng.bit_generator.state),
        "numpy_legacy_rng": {"keys": torch.from_numpy(np.asarray(legacy[1], dtype=np.int64)),
                             "rest": _json([legacy[0], int(legacy[2]), int(legacy[3]), float(legacy[4])])},
    }
    path = Path(out_dir) / STATE_FILE
    with atomic_write(path) as f:
        torch.save(payload, f)
    return path


def has_train_state(out_dir: str | Path) -> bool:
    """True if ``out_dir`` holds a ``train_state.pt`` to resume from."""
    return (Path(out_dir) / STATE_FILE).is_file()


#: Config keys a resume may change: the run's name, and settings read only after the last epoch
#: (the text recipe's n-gram blocking, tried when the search is tuned on dev).
RELABELS = frozenset({"name", "train.no_repeat_ngram"})


def _diff(a: Any, b: Any, where: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out += _diff(a.get(key), b.get(key), f"{where}.{key}" if where else str(key))
        return out
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return [] if list(a) == list(b) else [where]
    return [] if a == b else [where]


def _with_defaults(saved: dict[str, Any]) -> dict[str, Any]:
    """``saved`` (a run's stored config) with the settings it predates filled in at their defaults;
    as stored if it no longer parses (then the diff names what changed)."""
    from signstudio.training.config import config_from_dict

    try:
        return json.loads(_json(config_from_dict(saved).to_dict()))
    except Exception:  # noqa: BLE001 - a config this version cannot read is compared as stored
        return saved


def restore_train_state(out_dir: str | Path, *, config: dict[str, Any], model: torch.nn.Module,
                        optimizer: torch.optim.Optimizer, scheduler, rng: np.random.Generator) -> ResumePoint:
    """Load ``<out_dir>/train_state.pt`` into the given model, optimiser, scheduler and RNGs.

    Raises:
        ConfigError: no state file, an unreadable or foreign file, or a config that differs from
            the one the run started with in anything but :data:`RELABELS` (the message names the
            differing keys).
    """
    path = Path(out_dir) / STATE_FILE
    if not path.is_file():
        raise ConfigError(f"nothing to resume: {path} does not exist (start the run without --resume)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ConfigError(f"{path}: not a readable training state ({type(exc).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("version") != VERSION:
        raise ConfigError(f"{path}: not a SignStudio training state (version {VERSION})")
    try:
        saved = json.loads(state["config"])
        best, extra = json.loads(state["best"]), json.loads(state["extra"])
        epoch, step, seconds = int(state["epoch"]), int(state["step"]), float(state["seconds"])
        numpy_rng = json.loads(state["numpy_rng"])
        name, pos, has_gauss, gauss = json.loads(state["numpy_legacy_rng"]["rest"])
        keys = state["numpy_legacy_rng"]["keys"].numpy().astype(np.uint32)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{path}: a damaged training state ({type(exc).__name__}: {exc}); "
                          "start the run again with --overwrite") from None
    # The name only labels the run's files: a renamed config resumes the same training. A setting
    # added to SignStudio since the run started reads as its default (what the run trained with).
    # Settings that only the end-of-training search tuning reads may change: they train nothing.
    changed = [k for k in _diff(_with_defaults(saved), json.loads(_json(config))) if k not in RELABELS]
    if changed:
        raise ConfigError(f"cannot resume: the config changed since the run started ({', '.join(changed[:5])}); "
                          "start a new run or restore the old config")
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        rng.bit_generator.state = numpy_rng
        np.random.set_state((name, keys, pos, has_gauss, gauss))
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: the saved state does not fit this model ({str(exc).splitlines()[0]})") from None
    return ResumePoint(epoch=epoch, step=step, best=best, extra=extra, seconds=seconds)
