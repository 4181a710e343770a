"""The argument parser: the top-level options, then each group module's sub-commands."""

from __future__ import annotations

import argparse

from signstudio import __version__

#: The modules that register sub-commands, in the order ``--help`` lists them.
GROUPS = ("info", "data", "translate", "produce", "attention", "train", "export")


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one line (``signstudio: error: pose: the following arguments
    are required: video (see `signstudio pose --help`)``), exit status 2, like every other error."""

    def error(self, message: str):
        command = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        where = f"{command}: " if command else ""
        self.exit(2, f"signstudio: error: {where}{message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``signstudio`` command."""
    import importlib

    p = _Parser(
        prog="signstudio",
        description="SignStudio: translate sign language video to text, on your own machine. "
                    "Run without a command to open the window; `signstudio FILE` opens it with a "
                    "video or .pose file.",
    )
    p.add_argument("--version", action="version", version=f"signstudio {__version__}")
    p.add_argument("--verbose", dest="verbose_all", action="store_true",
                   help="show the log lines of MediaPipe, TFLite and FFmpeg (hidden by default; "
                        "also SIGNSTUDIO_VERBOSE=1)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(func=func)
        return sp

    for group in GROUPS:
        importlib.import_module(f"signstudio.cli.{group}").register(add)
    return p


def route_file_argument(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """``signstudio FILE ...`` means ``signstudio gui FILE ...``: a first argument that is not an
    option and not a command, but names a file (it exists, or has a suffix such as ``.mp4``),
    opens the window with it. Anything else is left for argparse to answer."""
    commands = set()
    for action in parser._actions:  # noqa: SLF001 - argparse keeps its sub-commands here
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            commands.update(action.choices)
    if not argv or argv[0].startswith("-") or argv[0] in commands:
        return argv
    from pathlib import Path

    first = Path(argv[0])
    if first.suffix or first.exists():
        return ["gui", *argv]
    return argv
