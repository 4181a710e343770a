"""Live captions in the Translate tab, without Qt: the webcam job, what it reports, and what the
tab knows about the models it used.

:func:`live_camera_job` runs :func:`signstudio.runtime.live.live_captions` (the source and
MediaPipe Holistic on their own threads, the :class:`~signstudio.runtime.stream.StreamingRecognizer`
on the job's worker thread) and hands every frame, caption and change of "hands in view" to the
task as partial results. :class:`ModelMemory` decides whether the webcam streams with a model:
from its metadata (a landmark recogniser, :func:`may_stream`) and, once loaded, from whether it has
the CTC head a stream needs. :class:`LiveState` holds what the tab shows of a stream.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

Job = Callable[[Any], Any]

#: Feature kind of a landmark recogniser's checkpoint (``signstudio.runtime.recognize.FEATURE_KIND``,
#: repeated here so the window can read it from a model's metadata without importing torch).
LANDMARK_KIND = "holistic_landmarks"
#: The status line while no hand is in view.
NO_HANDS = "No hands visible — sign in front of the camera"


def may_stream(info: Any) -> bool:
    """Whether a model (a ``ModelInfo``, or None when not installed) may caption a live stream:
    a landmark recogniser with a CTC head (``ModelInfo.streams``). A checkpoint that still
    cannot is found when it is loaded (:func:`live_camera_job` answers :class:`CannotStream`)."""
    features = getattr(info, "features", None) or {}
    return features.get("kind") == LANDMARK_KIND and bool(getattr(info, "streams", True))


@dataclass
class HandsSeen:
    """A partial result of :func:`live_camera_job`: hands were (not) seen in the last second."""

    recently: bool


@dataclass
class CannotStream:
    """What :func:`live_camera_job` returns, before opening the camera, for a model that cannot
    caption a stream (a recogniser of isolated signs only)."""

    reason: str
    loaded: Any


@dataclass
class Decoding:
    """A partial result at the start of a live stream: how the recogniser reads it, in words
    (``StreamingRecognizer.decoding``)."""

    text: str


@dataclass
class LiveResult:
    """What :func:`live_camera_job` returns when the stream has ended.

    Attributes:
        captions: every ``Caption`` of the stream, in order (each was also a partial result).
        frames: frames MediaPipe processed. seconds: how long the stream ran.
        stopped: the user stopped it (Stop or Cancel).
        problem: why it ended on its own (the webcam broke off or stopped sending pictures);
            "" when the user stopped it.
        loaded: the model (``LoadedModel``), to reuse for the next stream.
    """

    captions: list = field(default_factory=list)
    frames: int = 0
    seconds: float = 0.0
    stopped: bool = False
    problem: str = ""
    loaded: Any = None


def open_camera_source(index: int):
    """``(frames, fps, release)`` of webcam ``index`` (:func:`signstudio.runtime.live.camera_source`);
    tests replace this with a fake camera."""
    from signstudio.runtime.live import camera_source

    return camera_source(index)


def live_camera_job(index: int, model: str | None, loaded: Any = None, backend: str = "auto") -> Job:
    """Live captions from webcam ``index`` until stopped:
    :func:`signstudio.runtime.live.live_captions` with a
    :class:`~signstudio.runtime.stream.StreamingRecognizer` of ``model`` (``loaded``: the
    ``LoadedModel`` already in memory).

    Partial results, in order: every processed ``LiveFrame`` (a worker's
    :class:`~signstudio.gui.frames.FrameThrottle` thins them for the view), each ``Caption`` as it
    is recognised, and :class:`HandsSeen` when hands appear or disappear. Stopping (the task's
    cancel) ends the stream with its last captions. Returns a :class:`LiveResult`, or
    :class:`CannotStream` (the camera is not opened) for a model without a CTC head.

    Raises:
        ModelError: the model cannot be loaded. InputError: no webcam, or it gives no picture.
        Cancelled: stopped before the stream began.
    """

    def job(task: Any) -> LiveResult | CannotStream:
        from signstudio.errors import Cancelled, ModelError, SignStudioError
        from signstudio.runtime.live import live_captions
        from signstudio.runtime.stream import StreamingRecognizer

        model_ = loaded
        if model_ is None:
            from signstudio.runtime.installed import load_installed

            task.set_status("Loading the recognition model…")
            model_ = load_installed(model, "sign-to-text", backend)
        if task.cancelled:
            raise Cancelled()
        try:
            recognizer = StreamingRecognizer(model_)
        except ModelError as exc:
            return CannotStream(str(exc), model_)
        task.partial(Decoding(recognizer.decoding))
        task.set_status(f"Opening webcam {index}…")
        frames, _fps, release = open_camera_source(index)
        result = LiveResult(loaded=model_)
        hands = [True]

        def on_frame(frame: Any) -> None:
            result.frames += 1
            task.partial(frame)
            if recognizer.hands_recently != hands[0]:
                hands[0] = recognizer.hands_recently
                task.partial(HandsSeen(hands[0]))

        start = time.perf_counter()
        try:
            task.set_status("Starting MediaPipe Holistic…")
            for caption in live_captions(recognizer, frames, real_time=True, task=task, on_frame=on_frame):
                result.captions.append(caption)
                task.partial(caption)
        except SignStudioError as exc:
            if result.frames == 0 and not result.captions:
                raise  # it never started: a plain failure
            result.problem = str(exc)
        finally:
            _close(frames)
            release()
        result.seconds = time.perf_counter() - start
        result.stopped = bool(task.cancelled) and not result.problem
        if not result.stopped and not result.problem:
            result.problem = f"webcam {index} stopped sending pictures (was it unplugged?)"
        return result

    return job


def _close(frames: Any) -> None:
    """Close a frame generator the stream left (its reader thread has stopped), so the video or
    camera behind it is let go now rather than at some later garbage collection."""
    try:
        getattr(frames, "close", lambda: None)()
    except ValueError:  # still running in a reader thread that did not stop in time
        pass


class ModelMemory:
    """What the tab learnt about the models it used (Qt-free): translators and loaded models to
    reuse, and the models found unable to stream. Forget it all when the models are listed again
    (a model retrained under the same name must be loaded again)."""

    def __init__(self) -> None:
        self.translators: dict[str | None, Any] = {}
        self.loaded: dict[str | None, Any] = {}
        self.no_stream: dict[str | None, str] = {}

    def clear(self) -> None:
        """Forget everything."""
        for known in (self.translators, self.loaded, self.no_stream):
            known.clear()

    def loaded_for(self, model: str | None) -> Any:
        """The ``LoadedModel`` of ``model`` already in memory (live, or a recogniser's), or None."""
        return self.loaded.get(model) or getattr(self.translators.get(model), "loaded", None)

    def can_stream(self, model: str | None, info: Any) -> bool:
        """Whether ``model`` (its ``ModelInfo`` ``info``) may give live captions."""
        return may_stream(info) and model not in self.no_stream

    def webcam_note(self, model: str | None, info: Any, default: str = "") -> str:
        """What the webcam does with ``model``, for a tooltip or a status line."""
        if self.can_stream(model, info):
            return "Live captions: sign in front of your webcam and each gloss appears as it is recognised"
        name = getattr(info, "name", None) or model or default or "This model"
        return (f"{name} translates whole clips, not a live stream: sign in front of your webcam, "
                "then press Stop to translate")


class LiveState:
    """What the tab shows of the last live stream: its captions so far, whether hands are in
    view, and the lines that describe it (Qt-free)."""

    def __init__(self) -> None:
        self.captions: list[Any] = []
        self.hands = True

    def reset(self) -> None:
        """A new stream (or clip) replaces the last one."""
        self.captions = []
        self.hands = True

    def progress_line(self, done: int, rate: float) -> str:
        """The status line while the stream runs."""
        if not self.hands:
            return NO_HANDS
        per_second = f" · {rate:.1f} frames/s" if rate > 0 else ""
        return f"Live captions: {done} frames{per_second} — press Stop when done"

    @staticmethod
    def ended(result: LiveResult) -> tuple[str, str, str]:
        """``(error, status, hint)`` once the stream has ended: an error ("" if none) for the
        banner, the status line, and the hint under the captions."""
        n = len(result.captions)
        count = f"{n} gloss{'' if n == 1 else 'es'}"
        if result.problem:
            error = f"Live captions ended — {result.problem}. The {count} so far are kept."
            status = f"Webcam disconnected; the {count} so far are kept."
        else:
            error = ""
            status = f"Live captions stopped: {count} in {result.frames} frames ({result.seconds:.0f} s)."
        hint = ("Stopped. Every gloss is in the history beside the video: select and copy it, "
                "or press Webcam to go on." if n else "Stopped. No sign was recognised.")
        return error, status, hint
