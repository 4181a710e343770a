"""Keep native libraries' log lines off the user's terminal (unless asked for with ``--verbose``).

MediaPipe, TFLite, absl/glog and FFmpeg (inside OpenCV) write their diagnostics from C/C++
straight to file descriptor 2 — about ten lines on every video run ("Created TensorFlow Lite
XNNPACK delegate", "Feedback manager requires a model with a single signature", FFmpeg's "moov
atom not found") — which buries SignStudio's own one-line message. Python's ``sys.stderr`` cannot
catch them; :func:`native_stderr_silenced` points descriptor 2 at the null device around each
native call and restores it afterwards, and :func:`quiet_native_env` sets the libraries' own log
levels before they are imported.

``SIGNSTUDIO_VERBOSE=1`` (set by the commands' ``--verbose``) turns all of this off.

Thread safety: the redirect is process-wide (there is only one descriptor 2). Callers keep each
silenced block short (one native call: opening a video, building the MediaPipe graph, one frame),
so Python output of other threads — progress bars, the window's messages — is rarely caught; a
counter shared under a lock makes overlapping blocks of several threads restore descriptor 2 only
when the last one ends, and it is always restored in ``finally``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Iterator

#: Environment variable that keeps native log lines visible (``"1"``; set by ``--verbose``).
VERBOSE_ENV = "SIGNSTUDIO_VERBOSE"

#: Log-level variables set (unless already set, or verbose) before MediaPipe/TFLite is imported.
NATIVE_LOG_ENV = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3", "OPENCV_LOG_LEVEL": "ERROR",
                  "OPENCV_FFMPEG_LOGLEVEL": "-8"}

_lock = threading.Lock()
_depth = 0
_saved_fd: int | None = None


def verbose() -> bool:
    """True when native log lines should stay visible (``$SIGNSTUDIO_VERBOSE`` is set, not ``0``)."""
    return os.environ.get(VERBOSE_ENV, "").strip() not in ("", "0", "false", "no")


def quiet_native_env() -> None:
    """Set :data:`NATIVE_LOG_ENV` in ``os.environ`` (values a user set are kept), unless verbose.

    Call before importing ``mediapipe`` or ``cv2``: the libraries read these once.
    """
    if verbose():
        return
    for key, value in NATIVE_LOG_ENV.items():
        os.environ.setdefault(key, value)


def _redirect() -> None:
    global _saved_fd
    with contextlib.suppress(Exception):
        sys.stderr.flush()  # what Python already buffered belongs to the real stderr
    saved = os.dup(2)
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 2)
        finally:
            os.close(null)
    except OSError:
        os.close(saved)
        raise
    _saved_fd = saved


def _restore() -> None:
    global _saved_fd
    saved, _saved_fd = _saved_fd, None
    if saved is None:
        return
    try:
        os.dup2(saved, 2)
    finally:
        os.close(saved)


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at the null device for the block (nothing happens when verbose).

    Wrap single native calls (see the module's notes on threads). If descriptor 2 cannot be
    duplicated (no stderr at all, as under ``pythonw``), the block runs unchanged.
    """
    global _depth
    if verbose():
        yield
        return
    entered = False
    with _lock:
        try:
            if _depth == 0:
                _redirect()
            _depth += 1
            entered = True
        except OSError:
            pass
    try:
        yield
    finally:
        if entered:
            with _lock:
                _depth -= 1
                if _depth == 0:
                    _restore()


@contextlib.contextmanager
def python_stderr_apart() -> Iterator[None]:
    """For a whole command: Python's ``sys.stderr`` writes to a duplicate of descriptor 2 (the
    terminal), and descriptor 2 itself — all native libraries write there — points at the null
    device. Progress bars, warnings and SignStudio's messages stay visible; MediaPipe's, TFLite's
    and FFmpeg's lines do not, even those their threads log between our calls.

    Nothing happens when verbose. When ``sys.stderr`` is not descriptor 2 (captured by a test
    runner, or replaced by the application) only descriptor 2 is silenced. Child processes started
    inside the block inherit the silenced descriptor 2.
    """
    if verbose():
        yield
        return
    import io

    original = sys.stderr
    moved = None
    try:
        if original is not None and original.fileno() == 2:
            original.flush()
            moved = io.TextIOWrapper(io.FileIO(os.dup(2), "w", closefd=True),
                                     encoding=original.encoding or "utf-8",
                                     errors=original.errors or "backslashreplace",
                                     line_buffering=True, write_through=True)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        moved = None
    if moved is not None:
        sys.stderr = moved
    try:
        with native_stderr_silenced():
            yield
    finally:
        if moved is not None:
            with contextlib.suppress(Exception):
                moved.flush()
            if sys.stderr is moved:
                sys.stderr = original
            with contextlib.suppress(Exception):
                moved.close()


@contextlib.contextmanager
def transformers_quiet() -> Iterator[None]:
    """``transformers``/``peft`` without their warnings, log lines and loading progress bars (unless
    verbose): a user sees SignStudio's own line about a language model, not a wall of them."""
    if verbose():
        yield
        return
    import logging
    import warnings

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    names = ("transformers", "peft", "accelerate", "huggingface_hub")
    levels = {n: logging.getLogger(n).level for n in names}
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in names:
            logging.getLogger(n).setLevel(logging.ERROR)
        try:
            yield
        finally:
            for n, level in levels.items():
                logging.getLogger(n).setLevel(level)
