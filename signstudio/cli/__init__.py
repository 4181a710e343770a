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

import os
import sys

from signstudio.errors import Cancelled, SignStudioError

EXIT_INPUT_ERROR = 2
EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input, 130 interrupted, 1 a bug)."""
    from signstudio.cli.info import cmd_gui
    from signstudio.cli.parser import build_parser

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.func = cmd_gui
    try:
        return args.func(args)
    except Cancelled:
        print("signstudio: cancelled", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("signstudio: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SignStudioError as exc:
        print(f"signstudio: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except Exception as exc:  # a bug: still one line, the traceback only on request
        if os.environ.get("SIGNSTUDIO_DEBUG"):
            raise
        print(f"signstudio: internal error: {type(exc).__name__}: {exc} "
              "(set SIGNSTUDIO_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1
