"""Save a PNG of the SignStudio window: ``python -m signstudio.gui.screenshot OUT.png``.

Options: ``--size 1280x800``, ``--open VIDEO_OR_POSE`` (translate it first), ``--tab N``.
The Produce tab with a result: ``--produce "TEXT" [--glosses "HOUSE SAD"] [--lang ase]
[--method lexicon] [--hands]`` signs the text first (``--hands``: with the hand close-ups);
``--pose FILE.pose`` shows a pose file in its 3D view.
Live captions: ``--live VIDEO [VIDEO ...] [--model M] [--captions N]`` replays the videos as the
webcam and takes the shot while the stream runs. The Attention tab: ``--attention INPUT [--model M] [--head H] [--token U]`` records a model's
attention on INPUT first. The Train tab: ``--train CONFIG.yaml`` runs that training to the end
first (keep it short). ``--theme high-contrast-dark --caption-scale 200`` takes the shot with
those preferences (in a temporary settings file).
Under Xvfb (``xvfb-run -a ... QT_QPA_PLATFORM=xcb``) this is a real rendering of the window.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PRODUCE_TAB = 1
ATTENTION_TAB = 2
TRAIN_TAB = 3


def _tab_screenshot(path: str, size: tuple[int, int], index: int, prepare, timeout: float) -> Path:
    """Open the window on tab ``index``, call ``prepare(tab)`` (it returns a "done" predicate or
    None), wait for it, and save a PNG of the window."""
    from signstudio.gui.app import _process_events_for, _wait_for, ensure_app, finish_background_work
    from signstudio.gui.main_window import MainWindow

    ensure_app()
    window = MainWindow()
    try:
        window.resize(*size)
        window.tabs.setCurrentIndex(index)
        window.show()
        _process_events_for(0.3)
        tab = window.tabs.widget(index)
        done = prepare(tab)
        if done is not None:
            _wait_for(done, timeout)
        _process_events_for(0.8)
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(out)):
            raise RuntimeError(f"could not write {out}")
        if tab.error_text():
            print(f"note: the tab shows an error: {tab.error_text()}", file=sys.stderr)
        return out
    finally:
        window.close()
        window.deleteLater()
        _process_events_for(0.05)
        finish_background_work()


def live_screenshot(path: str, videos: list[str], model: str | None = None, captions: int = 6,
                    size: tuple[int, int] = (1280, 800), timeout: float = 300.0) -> Path:
    """The Translate tab with live captions, the webcam replaced by ``videos`` replayed one after
    the other at their frame rate; the shot is taken once ``captions`` glosses are shown (or the
    stream has ended), while it runs."""
    import threading

    from signstudio.gui.app import _wait_for
    from signstudio.gui.translate import live

    def replay(index: int):
        from signstudio.runtime.live import video_source

        stop = threading.Event()

        def frames():
            offset = 0.0
            for video in videos:
                source, fps = video_source(video)
                t = 0.0
                for rgb, t in source:
                    if stop.is_set():
                        return
                    yield rgb, offset + t
                offset += t + 1.0 / fps

        return frames(), 25.0, stop.set

    def prepare(tab):
        _wait_for(tab.models_ready, 60.0)
        if model is not None:
            index = tab.model_combo.findData(model)
            if index < 0:
                raise SystemExit(f"model {model!r} is not installed for the Translate tab")
            tab.model_combo.setCurrentIndex(index)
        if not tab.start_webcam(0):
            raise SystemExit("the webcam could not be started")
        return lambda: len(tab.caption_history()) >= captions or not tab.is_busy()

    camera, live.open_camera_source = live.open_camera_source, replay
    try:
        return _tab_screenshot(path, size, 0, prepare, timeout)
    finally:
        live.open_camera_source = camera


def attention_screenshot(path: str, input_path: str, model: str | None = None, head: int | None = None,
                         token: int = 0, size: tuple[int, int] = (1280, 800), timeout: float = 300.0) -> Path:
    """The Attention tab after recording ``model``'s attention on ``input_path`` (a video,
    ``.pose``, text file or ``.npz`` record), showing ``head`` (None: mean of heads) with output
    token ``token`` selected."""
    from signstudio.gui.app import _wait_for

    def prepare(tab):
        _wait_for(tab.models_ready, 60.0)
        if not tab.run(input_path, model):
            return None

        def done() -> bool:
            if tab.is_busy():
                return False
            if tab.record() is not None:
                tab.set_view(head=head)
                tab.select_token(token)
            return True
        return done

    return _tab_screenshot(path, size, ATTENTION_TAB, prepare, timeout)


def train_screenshot(path: str, config: str, size: tuple[int, int] = (1280, 800), timeout: float = 600.0) -> Path:
    """The Train tab after running the training of ``config`` (a YAML file) to its end."""
    def prepare(tab):
        if not tab.load_config_file(config) or not tab.start():
            return None
        return lambda: not tab.is_busy()

    return _tab_screenshot(path, size, TRAIN_TAB, prepare, timeout)


def produce_screenshot(path: str, size: tuple[int, int] = (1280, 800), text: str = "",
                       glosses: str = "", language: str = "ase", method: str = "",
                       pose_path: str | None = None, position: float = 0.45,
                       timeout: float = 300.0, hands: bool = False) -> Path:
    """Open the window on the Produce tab, sign ``text`` (or show ``pose_path``), save a PNG.

    The shot is taken once the tab is idle again (signed, or showing an error), with playback
    paused at ``position`` (0-1) of the signing; ``hands`` turns the hand close-ups on.

    Returns:
        The path written. Raises ``RuntimeError`` if Qt could not write the image.
    """
    from signstudio.gui.app import _process_events_for, _wait_for, ensure_app
    from signstudio.gui.main_window import MainWindow

    ensure_app()
    window = MainWindow()
    try:
        window.resize(*size)
        window.tabs.setCurrentIndex(PRODUCE_TAB)
        window.show()
        _process_events_for(0.3)
        tab = window.produce_tab
        tab.set_language(language)
        if method:
            _wait_for(lambda: tab.method_combo.findData(method) >= 0, 10.0)
            tab.method_combo.setCurrentIndex(max(tab.method_combo.findData(method), 0))
        if text:
            tab.set_text(text)
        if glosses:
            tab.set_glosses(glosses)
        started = tab.open_pose(pose_path) if pose_path else (tab.sign() if text or glosses
                                                              else False)
        if started:
            _wait_for(lambda: not tab.is_busy(), timeout)
        tab.pause()
        tab.view.set_hands_close_up(hands)
        if tab.frame_count():
            tab.show_frame(int(tab.frame_count() * position))
        _process_events_for(0.5)
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(out)):
            raise RuntimeError(f"could not write {out}")
        if tab.error_text():
            print(f"note: the Produce tab shows an error: {tab.error_text()}", file=sys.stderr)
        return out
    finally:
        window.close()
        window.deleteLater()
        _process_events_for(0.05)


def _use_preferences(theme: str | None, caption_scale: int | None) -> None:
    """Take the shot with these preferences, kept in a temporary settings file (not the user's)."""
    import os
    import tempfile

    from signstudio.gui.preferences import SETTINGS_ENV, Preferences, save_preferences

    os.environ[SETTINGS_ENV] = os.path.join(tempfile.mkdtemp(prefix="signstudio-shot-"), "settings.ini")
    save_preferences(Preferences(theme=theme or "standard", caption_scale=caption_scale or 100))


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
    parser.add_argument("--produce", default=None, metavar="TEXT",
                        help="sign TEXT in the Produce tab before the shot")
    parser.add_argument("--glosses", default="",
                        help="with --produce: the glosses to sign (space-separated)")
    parser.add_argument("--lang", default="ase", help="sign language code for --produce")
    parser.add_argument("--method", default="", help="production method for --produce")
    parser.add_argument("--hands", action="store_true",
                        help="with --produce/--pose: show the hand close-ups")
    parser.add_argument("--pose", dest="pose_path", default=None,
                        help="a .pose file to show in the Produce tab's 3D view")
    parser.add_argument("--position", type=float, default=0.45,
                        help="where to pause the signing, 0-1 (default 0.45)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds to wait for the translation or production")
    parser.add_argument("--attention", default=None, metavar="INPUT",
                        help="record attention on INPUT (video, .pose, text file or .npz) in the Attention tab")
    parser.add_argument("--live", nargs="+", default=None, metavar="VIDEO",
                        help="live captions in the Translate tab, these videos replayed as the webcam")
    parser.add_argument("--captions", type=int, default=6, help="with --live: glosses shown before the shot")
    parser.add_argument("--model", default=None,
                        help="with --attention or --live: the model (default: the default model)")
    parser.add_argument("--head", type=int, default=None, help="with --attention: the head to show (default: mean)")
    parser.add_argument("--token", type=int, default=0, help="with --attention: the output token to select")
    parser.add_argument("--train", default=None, metavar="CONFIG",
                        help="run this (short) training config in the Train tab before the shot")
    parser.add_argument("--theme", default=None, help="colour theme for the shot (standard, "
                        "high-contrast-light, high-contrast-dark); the user's settings are not touched")
    parser.add_argument("--caption-scale", type=int, default=None, help="caption size in percent (100-300)")
    args = parser.parse_args(argv)
    if args.theme or args.caption_scale:
        _use_preferences(args.theme, args.caption_scale)
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size must look like 1280x800, not {args.size!r}")

    if args.live:
        out = live_screenshot(args.out, args.live, args.model, args.captions, size=(width, height),
                              timeout=args.timeout)
    elif args.attention:
        out = attention_screenshot(args.out, args.attention, args.model, args.head, args.token,
                                   size=(width, height), timeout=args.timeout)
    elif args.train:
        out = train_screenshot(args.out, args.train, size=(width, height), timeout=args.timeout)
    elif args.produce is not None or args.pose_path or args.glosses:
        out = produce_screenshot(args.out, size=(width, height), text=args.produce or "",
                                 glosses=args.glosses, language=args.lang, method=args.method,
                                 pose_path=args.pose_path, position=args.position,
                                 timeout=args.timeout, hands=args.hands)
    else:
        from signstudio.gui.app import screenshot

        out = screenshot(args.out, size=(width, height), open_path=args.open_path, tab=args.tab,
                         timeout=args.timeout, model=args.model)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
