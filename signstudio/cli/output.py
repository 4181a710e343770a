"""How the commands print: one JSON object with ``--json``, else lines for a person; progress
bars on stderr only when it is a terminal."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def printable(text: str) -> str:
    """``text`` with what cannot be printed as UTF-8 (the undecodable bytes of a file name, held
    as lone surrogates) shown as U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def emit(args: argparse.Namespace, payload: dict[str, Any] | list, human: str) -> None:
    """Print ``payload`` as one JSON object (``--json``) or ``human``.

    JSON keeps non-ASCII text as it is, unless it holds undecodable file-name bytes: then every
    non-ASCII character is ``\\u``-escaped, so the line is always valid UTF-8 JSON.
    """
    if getattr(args, "json", False):
        text = json.dumps(payload, ensure_ascii=False)
        if printable(text) != text:
            text = json.dumps(payload)
        print(text)
    else:
        print(printable(human))


def warn(lines: list[str]) -> None:
    """Print each warning as one line on stderr (``signstudio: warning: ...``), so that stdout
    (``--json``'s one object) stays clean."""
    for line in lines:
        print(printable(f"signstudio: warning: {line}"), file=sys.stderr)


def say_note(line: str) -> None:
    """One ``signstudio: note: ...`` line on stderr (e.g. which backend runs the model)."""
    print(printable(f"signstudio: note: {line}"), file=sys.stderr)


def add_backend(sp: argparse.ArgumentParser) -> None:
    """Add ``--backend auto|onnx|torch``: auto runs the model's ONNX export in onnxruntime when
    an up-to-date one is there (else PyTorch, with a note); onnx insists; torch never uses it."""
    sp.add_argument("--backend", choices=("auto", "onnx", "onnx-fp32", "onnx-int8", "torch"), default="auto",
                    help="what runs the model: its ONNX export in onnxruntime (onnx: the INT8 one where "
                         "there is one, else fp32; onnx-fp32/onnx-int8: that one), PyTorch (torch), or the "
                         "export when there is an up-to-date one (auto, the default)")


def quiet_native(func):
    """Mark a command function as one that runs native code (MediaPipe, OpenCV/FFmpeg): the CLI
    runs it with those libraries' stderr lines silenced unless ``--verbose`` is given."""
    func.quiet_native = True
    return func


def add_verbose(sp: argparse.ArgumentParser) -> None:
    """Add ``-v/--verbose`` to a command: keep MediaPipe's, TFLite's and FFmpeg's log lines
    (``args.native_logs``; ``signstudio --verbose`` does the same for every command)."""
    sp.add_argument("-v", "--verbose", dest="native_logs", action="store_true",
                    help="also show the log lines of MediaPipe, TFLite and FFmpeg")


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
