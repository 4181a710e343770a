"""Start the SignStudio window, or render it to a PNG (for docs and tests)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QTimer
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import QApplication

from signstudio.gui.main_window import MainWindow
from signstudio.gui.preferences import apply_theme, load_preferences, ui_scale_environment

APP_NAME = "SignStudio"


def ensure_app(argv: list[str] | None = None) -> QApplication:
    """The running :class:`QApplication`, created (named "SignStudio", Fusion style, larger font,
    the user's theme and interface scale) if needed.

    ``argv`` is passed to Qt (``argv[0]`` = program name); default ``sys.argv[:1]``.
    """
    app = QApplication.instance()
    if app is None:
        prefs = load_preferences()
        ui_scale_environment(prefs)  # QT_SCALE_FACTOR works only before the application exists
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
        app.setStyle("Fusion")  # the same look everywhere, and one the themes can recolour
        app.setApplicationName(APP_NAME)
        app.setApplicationDisplayName(APP_NAME)
        app.setOrganizationName(APP_NAME)
        from signstudio.paths import PROJECT_ROOT

        icon = PROJECT_ROOT / "resources" / "icons" / "signstudio.svg"
        if icon.is_file():
            app.setWindowIcon(QIcon(str(icon)))
        font = QFont(app.font())
        if font.pointSizeF() > 0 and font.pointSizeF() < 11:
            font.setPointSizeF(11)  # readable by default; captions are larger still
            app.setFont(font)
        apply_theme(prefs.make_theme(), app)
    return app  # type: ignore[return-value]


def run(argv: list[str] | None = None) -> int:
    """Open the SignStudio window and run until it is closed; returns the exit code.

    Args:
        argv: the process arguments, Qt style: ``argv[0]`` is the program name, Qt options
            (``-platform offscreen`` ...) are understood; default ``sys.argv``. A later argument
            naming an existing video or ``.pose`` file is translated at start-up.
    """
    argv = list(argv) if argv is not None else list(sys.argv)
    app = ensure_app(argv or [APP_NAME])
    window = MainWindow()
    window.show()
    files = [a for a in argv[1:] if not a.startswith("-") and Path(a).is_file()]
    if files:
        QTimer.singleShot(0, lambda: window.translate_tab.open_path(files[0]))
    code = int(app.exec())
    window.close()  # stops running jobs if the loop was quit without closing the window
    window.deleteLater()
    finish_background_work()
    return code


def finish_background_work(timeout: float = 20.0) -> None:
    """Wait (up to ``timeout`` s) for worker threads still running, e.g. a model listing that is
    loading PyTorch: Python must not shut down under a thread that is importing."""
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone(int(timeout * 1000))


def _process_events_for(seconds: float) -> None:
    app = QApplication.instance()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def _wait_for(predicate, timeout: float) -> bool:
    app = QApplication.instance()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if predicate():
            return True
        time.sleep(0.01)
    return False


def wait_until_idle(window: MainWindow, timeout: float = 300.0) -> bool:
    """Process events until the Translate tab is idle; True if it got there within ``timeout``."""
    return _wait_for(lambda: not window.translate_tab.is_busy(), timeout)


def screenshot(path: str | os.PathLike, size: tuple[int, int] = (1280, 800),
               open_path: str | os.PathLike | None = None, tab: int = 0,
               timeout: float = 300.0, model: str | None = None) -> Path:
    """Open the window at ``size``, optionally translate ``open_path``, and save a PNG of it.

    Args:
        path: where to write the PNG.
        size: window size in pixels (width, height).
        open_path: a video or ``.pose`` file to open in the Translate tab first; the shot is
            taken once the tab is idle again (translated, or showing an error), with playback
            paused on the middle frame.
        tab: index of the tab to show (0 Translate, 1 Produce, 2 Attention, 3 Train).
        timeout: the longest to wait for the Translate tab, in seconds.
        model: the model the Translate tab runs (default: its default).

    Returns:
        The path written. Raises ``RuntimeError`` if Qt could not write the image.
    """
    ensure_app()
    window = MainWindow()
    try:
        window.resize(*size)
        window.tabs.setCurrentIndex(tab)
        window.show()
        _wait_for(window.translate_tab.models_ready, 30.0)
        _process_events_for(0.3)
        if model is not None and not window.translate_tab.model_combo.select(model):
            raise RuntimeError(f"the Translate tab does not offer the model {model!r}")
        if open_path is not None:
            translate = window.translate_tab
            translate.open_path(str(open_path))
            wait_until_idle(window, timeout)
            translate.pause()
            if translate.frame_count():
                translate.show_frame(translate.frame_count() // 2)
        _process_events_for(0.3)
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(out)):
            raise RuntimeError(f"could not write {out}")
        return out
    finally:
        window.close()
        window.deleteLater()
        _process_events_for(0.05)
        finish_background_work()
