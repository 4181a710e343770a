"""Save a PNG of the SignStudio window: ``python -m signstudio.gui.screenshot OUT.png``.

Options: ``--size 1280x800``, ``--open VIDEO_OR_POSE`` (translate it first), ``--tab N``.
Under Xvfb (``xvfb-run -a ... QT_QPA_PLATFORM=xcb``) this is a real rendering of the window.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, render the window to a PNG, print its path; exit code 0 on success."""
    parser = argparse.ArgumentParser(prog="python -m signstudio.gui.screenshot",
                                     description="Save a PNG screenshot of the SignStudio window.")
    parser.add_argument("out", help="PNG file to write")
    parser.add_argument("--size", default="1280x800", help="window size WIDTHxHEIGHT")
    parser.add_argument("--open", dest="open_path", default=None,
                        help="a video or .pose file to translate before the shot")
    parser.add_argument("--tab", type=int, default=0,
                        help="tab to show: 0 Translate, 1 Produce, 2 Attention, 3 Train")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds to wait for the translation")
    args = parser.parse_args(argv)
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size must look like 1280x800, not {args.size!r}")

    from signstudio.gui.app import screenshot

    out = screenshot(args.out, size=(width, height), open_path=args.open_path, tab=args.tab,
                     timeout=args.timeout)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
