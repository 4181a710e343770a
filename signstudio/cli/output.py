"""How the commands print: one JSON object with ``--json``, else lines for a person; progress
bars on stderr only when it is a terminal."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def emit(args: argparse.Namespace, payload: dict[str, Any] | list, human: str) -> None:
    """Print ``payload`` as one JSON object (``--json``) or ``human``."""
    if getattr(args, "json", False):
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(human)


def progress(desc: str):
    """A :class:`~signstudio.tasks.TqdmTask` on stderr, shown only when stderr is a terminal."""
    from signstudio.tasks import TqdmTask

    return TqdmTask(desc=desc, disable=not sys.stderr.isatty())


def metrics_line(row: dict) -> str:
    """``loss 1.234  dev_bleu4 20.10 ...``: the numeric entries of a metrics row, nested ones flattened."""
    parts = []
    for key, value in row.items():
        if key in ("epoch", "step", "lr"):
            continue
        if isinstance(value, dict):
            parts.append(f"{key}: " + metrics_line(value))
        elif isinstance(value, float):
            parts.append(f"{key} {value:.3f}" if abs(value) < 10 else f"{key} {value:.1f}")
        elif isinstance(value, int) and not isinstance(value, bool):
            parts.append(f"{key} {value}")
    return "  ".join(parts)
