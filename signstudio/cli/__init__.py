"""The ``signstudio`` command: the desktop window, and every job headless.

``signstudio`` alone (or ``signstudio gui``) opens the window. Errors caused by input print one
line on stderr and exit with status 2; ``--json`` prints exactly one JSON object on stdout
(progress bars go to stderr).

One module per group of commands, each registering its own sub-commands and arguments:
:mod:`~signstudio.cli.translate` (``pose``, ``translate``), :mod:`~signstudio.cli.produce`
(``produce``, ``lexicon``), :mod:`~signstudio.cli.attention` (``attention``),
:mod:`~signstudio.cli.train` (``train``, ``evaluate``), :mod:`~signstudio.cli.info` (``gui``,
``models``, ``datasets``); :mod:`~signstudio.cli.parser` puts them together and
:mod:`~signstudio.cli.output` prints.
"""

from __future__ import annotations

import contextlib
import os
import sys

from signstudio.errors import Cancelled, SignStudioError, os_error_message

EXIT_INPUT_ERROR = 2
#: Packages of the ``train`` extra (PyTorch and the ONNX exporter); a runtime-only install lacks them.
TRAIN_EXTRA = ("torch", "accelerate", "onnx", "onnxscript")
EXIT_INTERRUPTED = 130


def _say(line: str) -> None:
    """Print one line on stderr, whatever characters a path in it holds."""
    from signstudio.cli.output import printable

    print(printable(line), file=sys.stderr)


def _internal_error(exc: Exception) -> int:
    """A bug: one line (the traceback with ``$SIGNSTUDIO_DEBUG``); exit status 1."""
    if os.environ.get("SIGNSTUDIO_DEBUG"):
        raise exc
    _say(f"signstudio: internal error: {type(exc).__name__}: {exc} (set SIGNSTUDIO_DEBUG=1 for the traceback)")
    return 1


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input, 130 interrupted, 1 a bug).

    Every failure prints exactly one line on stderr: ``signstudio: error: ...`` for a
    :class:`~signstudio.errors.SignStudioError` or an :class:`OSError` (``PATH: REASON``),
    ``signstudio: cancelled`` / ``signstudio: interrupted``, or ``signstudio: internal error: ...``
    for a bug. With ``--verbose`` (``$SIGNSTUDIO_VERBOSE``) the native libraries' log lines stay
    visible; otherwise commands marked :func:`~signstudio.cli.output.quiet_native` run with them
    silenced (:func:`signstudio.quiet.python_stderr_apart`).
    """
    from signstudio.cli.info import cmd_gui
    from signstudio.cli.parser import build_parser, route_file_argument
    from signstudio.quiet import VERBOSE_ENV, python_stderr_apart

    parser = build_parser()
    try:
        args = parser.parse_args(route_file_argument(list(sys.argv[1:] if argv is None else argv), parser))
    except SystemExit as done:  # --help, --version, or a usage error (one line already printed)
        return done.code if isinstance(done.code, int) else (0 if done.code is None else EXIT_INPUT_ERROR)
    if args.command is None:
        args.func = cmd_gui
    verbose = bool(getattr(args, "native_logs", False) or getattr(args, "verbose_all", False))
    previous = os.environ.get(VERBOSE_ENV)
    if verbose:
        os.environ[VERBOSE_ENV] = "1"
    quiet = getattr(args.func, "quiet_native", False)
    try:
        with python_stderr_apart() if quiet else contextlib.nullcontext():
            return args.func(args)
    except Cancelled:
        _say("signstudio: cancelled")
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        _say("signstudio: interrupted")
        return EXIT_INTERRUPTED
    except SignStudioError as exc:
        _say(f"signstudio: error: {exc}")
        return EXIT_INPUT_ERROR
    except BrokenPipeError:  # `signstudio models | head -1`: the reader left; say nothing
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing in TRAIN_EXTRA:  # a runtime-only install (no PyTorch): say how to add it
            _say(f"signstudio: error: this needs {missing}, which a runtime-only install leaves out: "
                 "pip install 'signstudio[train]' (./scripts/setup.sh installs it), or use a model's ONNX export")
            return EXIT_INPUT_ERROR
        return _internal_error(exc)
    except OSError as exc:  # a file the system refused: one line naming it and why
        _say(f"signstudio: error: {os_error_message(exc)}")
        return EXIT_INPUT_ERROR
    except Exception as exc:  # a bug: still one line, the traceback only on request
        return _internal_error(exc)
    finally:
        if verbose:
            if previous is None:
                os.environ.pop(VERBOSE_ENV, None)
            else:
                os.environ[VERBOSE_ENV] = previous
