"""How fast SignStudio answers: the window's first paint, and the command line's answers to bad
arguments, measured from process start (a fresh Python each time, as a user starts it).

Targets (issue 11): first paint within 3 s; a missing input file answered within 1 s.

Run: ``python benchmarks/startup.py [--repeat 3]``. Prints one line per measurement (median of
the repeats, and the slowest). The window is shown on ``QT_QPA_PLATFORM=offscreen`` unless a
display is set; first paint is the first ``Paint`` event the main window's tab bar receives.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

FIRST_PAINT = r"""
from PySide6.QtCore import QEvent, QObject, QTimer
from signstudio.gui.app import ensure_app
from signstudio.gui.main_window import MainWindow

app = ensure_app()
window = MainWindow()

class Painted(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print("PAINTED", flush=True)
            QTimer.singleShot(0, app.quit)
        return False

spy = Painted()
window.tabs.tabBar().installEventFilter(spy)
window.show()
app.exec()
window.close()
"""


def _seconds_until(cmd: list[str], marker: str | None, env: dict) -> float:
    """Seconds from starting ``cmd`` until ``marker`` appears on its stdout (or until it exits)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    seconds = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if marker and marker in line and seconds is None:
            seconds = time.perf_counter() - t0
    proc.wait()
    return seconds if seconds is not None else time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = dict(os.environ)
    if not env.get("DISPLAY") and not env.get("QT_QPA_PLATFORM"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    cli = [sys.executable, "-m", "signstudio"]
    cases = [
        ("window first paint", [sys.executable, "-c", FIRST_PAINT], "PAINTED", 3.0),
        ("window first paint, torch imported first", [sys.executable, "-c", "import torch\n" + FIRST_PAINT],
         "PAINTED", 3.0),
        ("translate /nonexistent.mp4 (error)", cli + ["translate", "/nonexistent.mp4"], None, 1.0),
        ("signstudio /nonexistent.mp4 (error)", cli + ["/nonexistent.mp4"], None, 1.0),
        ("signstudio --help", cli + ["--help"], None, 1.0),
    ]
    for name, cmd, marker, target in cases:
        times = [_seconds_until(cmd, marker, env) for _ in range(args.repeat)]
        median = statistics.median(times)
        verdict = "ok" if median <= target else "SLOWER than target"
        print(f"{name:38s} median {median:5.2f} s, slowest {max(times):5.2f} s "
              f"(target {target:.0f} s: {verdict})", flush=True)


if __name__ == "__main__":
    main()
