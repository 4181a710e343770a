"""Live recognition: glosses from a stream of landmarks while the person signs, in bounded memory.

:class:`StreamingRecognizer` takes one frame of Holistic landmarks at a time (with its time in
seconds), keeps them at the model's rate (frames are picked by time stamp, so a webcam's 15 fps
and a phone's "1000 fps" both work) in a window of the last ``window`` frames, and every ``hop``
new frames runs the recogniser's encoder on that window. The CTC posteriors of the frames that
have ``lookahead`` frames of context on their right are *committed*: a greedy CTC pass over the
committed frames ends a gloss's run as soon as the next committed frame is another label or blank,
and the gloss is emitted then (:class:`Caption`); a run of frames none of which shows a hand is
no sign and is dropped. Everything older than the window is dropped, so an
hour of signing takes the memory of a few seconds. Offline long input goes through the same code
(:func:`recognize_stream`), which is what ``signstudio translate`` and ``signstudio live`` use.

Latency from a sign's last frame to its caption: ``lookahead`` + up to ``hop`` frames at the
model's rate, plus one encoder pass (``benchmarks/live_latency.py`` measures it).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from signstudio.errors import ModelError
from signstudio.pose.landmarks import canonical_handedness, hands_visible, landmark_features
from signstudio.runtime.nets import recognizer_net
from signstudio.runtime.recognize import ALTERNATIVES, FEATURE_KIND


@dataclass
class Caption:
    """A gloss recognised in a stream.

    Attributes:
        gloss: the gloss, or None when the model is unsure (``alternatives`` still say what it might be).
        start, end: seconds from the stream's start of the sign's first and last frame.
        time: seconds from the stream's start when the caption was made (``end`` plus the delay).
        confidence: the gloss's mean probability over its frames (0-1).
        alternatives: the best ``(gloss, probability)`` pairs, most probable first.
        frames: ``(start, end)`` frame indices of the input (its own frame numbering).
    """

    gloss: str | None
    start: float
    end: float
    time: float
    confidence: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    frames: tuple[int, int] = (0, 0)

    def to_json(self) -> dict[str, Any]:
        """``{"gloss", "time", "start", "end", "confidence", "alternatives", "frames"}``."""
        return {"gloss": self.gloss, "time": round(self.time, 3), "start": round(self.start, 3),
                "end": round(self.end, 3), "confidence": round(self.confidence, 4),
                "alternatives": [[g, round(p, 4)] for g, p in self.alternatives], "frames": list(self.frames)}


class StreamingRecognizer:
    """Glosses from a landmark stream with a CTC recogniser (see the module).

    Args:
        loaded: a landmark recogniser with a CTC head.
        window: frames (at the model's rate) the encoder sees at once.
        hop: new frames between two encoder passes.
        lookahead: frames of right context a frame needs before its posterior is committed.

    Raises:
        ModelError: not a landmark recogniser, or one without a CTC head (isolated signs only).
    """

    def __init__(self, loaded, window: int = 64, hop: int = 4, lookahead: int = 6) -> None:
        if loaded.features.get("kind") != FEATURE_KIND:
            raise ModelError(f"model {loaded.name!r} cannot caption a stream: it is not a landmark recogniser")
        self.net = recognizer_net(loaded)  # torch module or ONNX graph
        if not self.net.has_ctc:
            raise ModelError(f"model {loaded.name!r} recognises isolated signs only; live captions need a "
                             "continuous (CTC) recogniser")
        self.loaded = loaded
        self.classes: list[str] = list(loaded.features["classes"])
        self.fps = float(loaded.features.get("fps", 25.0))
        self.threshold = float(loaded.metrics.get("ctc_threshold", loaded.metrics.get("threshold", 0.0)))
        self.window, self.hop, self.lookahead = int(window), max(1, int(hop)), max(0, int(lookahead))
        self.reset()

    @property
    def decoding(self) -> str:
        """How this recogniser reads a stream, in words (shown beside its output), e.g.
        ``"streaming CTC, best path frame by frame: window 64 frames, hop 4, lookahead 6 at 25 fps"``."""
        shown = f", glosses under {self.threshold:.0%} shown as ?" if self.threshold > 0 else ""
        return (f"streaming CTC, best path frame by frame: window {self.window} frames, hop {self.hop}, "
                f"lookahead {self.lookahead} at {self.fps:g} fps{shown}")

    def reset(self) -> None:
        """Forget the stream (a new recording starts)."""
        self._points: deque[np.ndarray] = deque(maxlen=self.window)
        self._found: deque[np.ndarray] = deque(maxlen=self.window)
        self._sources: deque[int] = deque(maxlen=self.window)  # input frame index of each kept frame
        self._count = 0  # frames kept so far (at the model's rate)
        self._since_run = 0
        self._committed = 0  # frames whose posteriors are committed
        self._next_tick: float | None = None
        self._last: tuple[np.ndarray, np.ndarray, int] | None = None
        self._run: dict[str, Any] | None = None  # the gloss run being read: label, frames, summed probabilities
        self._prev = 0
        self._clock = 0.0
        self.frames_seen = 0
        self.hands_recently = True

    # --- input -----------------------------------------------------------------------------------
    def push(self, points: np.ndarray, found: np.ndarray, t: float | None = None) -> list[Caption]:
        """Add one input frame: ``points`` ``(P, 3)`` and ``found`` ``(P,)`` from
        :func:`signstudio.pose.landmarks.select_landmarks` (one frame of it), at ``t`` seconds
        (default: the frame's index at the model's rate). Returns the captions this frame completed."""
        index = self.frames_seen
        self.frames_seen += 1
        t = index / self.fps if t is None else float(t)
        if self._next_tick is None:
            self._next_tick = t
        out: list[Caption] = []
        while self._next_tick <= t + 1e-9:
            # the newest frame at or before the tick (a slower camera repeats frames)
            frame = (points, found, index) if t - self._next_tick < 0.5 / self.fps or self._last is None else self._last
            out += self._keep(*frame, tick=self._next_tick)
            self._next_tick += 1.0 / self.fps
        self._last = (points, found, index)
        self._clock = t
        return out

    def flush(self) -> list[Caption]:
        """The stream ended: commit every remaining frame and end the last gloss."""
        out = self._run_encoder(final=True) if self._count > self._committed else []
        out += self._end_run(self._clock)
        return out

    # --- internals ---------------------------------------------------------------------------------
    def _keep(self, points: np.ndarray, found: np.ndarray, source: int, tick: float) -> list[Caption]:
        self._points.append(np.asarray(points, dtype=np.float32))
        self._found.append(np.asarray(found, dtype=bool))
        self._sources.append(source)
        self._count += 1
        self._since_run += 1
        if self._since_run >= self.hop and self._count - self._committed > self.lookahead:
            return self._run_encoder(final=False)
        return []

    def _run_encoder(self, final: bool) -> list[Caption]:
        self._since_run = 0
        points, found = np.stack(self._points), np.stack(self._found)
        hands = hands_visible(found)
        self.hands_recently = bool(hands[-max(1, int(self.fps)):].any())
        points, found, _ = canonical_handedness(points, found)
        feats = landmark_features(points, found)[None].astype(np.float32, copy=False)
        probs = np.exp(self.net.ctc_log_probs(feats, np.array([len(points)], dtype=np.int64))[0])
        first = self._count - len(points)  # frame number of the window's first frame
        upto = self._count if final else self._count - self.lookahead
        out: list[Caption] = []
        for frame in range(max(self._committed, first), upto):
            out += self._commit(frame, probs[frame - first], self._sources[frame - first], bool(hands[frame - first]))
        self._committed = max(self._committed, upto)
        return out

    def _frame_time(self, frame: int) -> float:
        return frame / self.fps

    def _commit(self, frame: int, p: np.ndarray, source: int, hand: bool) -> list[Caption]:
        label = int(p.argmax())
        out: list[Caption] = []
        if label != self._prev:
            out += self._end_run(self._clock)
            if label != 0:
                self._run = {"label": label, "start": frame, "end": frame + 1, "sum": p.copy(), "n": 1,
                             "src": (source, source + 1), "hands": hand}
        elif label != 0 and self._run is not None:
            self._run["end"] = frame + 1
            self._run["sum"] += p
            self._run["n"] += 1
            self._run["src"] = (self._run["src"][0], source + 1)
            self._run["hands"] = self._run["hands"] or hand
        self._prev = label
        return out

    def _end_run(self, now: float) -> list[Caption]:
        run, self._run = self._run, None
        if run is None or not run["hands"]:  # no sign without a hand in view (an empty room, a pause)
            return []
        mean = run["sum"][1:] / run["n"]
        label = run["label"] - 1
        top = np.argsort(-mean)[:ALTERNATIVES]
        conf = float(mean[label])
        gloss = self.classes[label] if conf >= self.threshold else None
        return [Caption(gloss, self._frame_time(run["start"]), self._frame_time(run["end"] - 1), now, conf,
                        [(self.classes[i], float(mean[i])) for i in top], run["src"])]


def recognize_stream(recognizer: StreamingRecognizer,
                     frames: Iterable[tuple[np.ndarray, np.ndarray, float]]) -> Iterator[Caption]:
    """Feed ``(points (P, 3), found (P,), seconds)`` frames through ``recognizer`` and yield the
    captions as they come, then those of the stream's end."""
    recognizer.reset()
    for points, found, t in frames:
        yield from recognizer.push(points, found, t)
    yield from recognizer.flush()


def pose_frames(pose) -> Iterator[tuple[np.ndarray, np.ndarray, float]]:
    """The frames of a Holistic pose-format ``Pose`` as ``(points, found, seconds)`` for
    :func:`recognize_stream` (the points by name, :func:`signstudio.pose.landmarks.select_landmarks`).

    Raises:
        InputError: the pose lacks body or hand landmarks, or has an invalid frame rate.
    """
    from signstudio.errors import InputError
    from signstudio.pose.landmarks import select_landmarks

    fps = float(pose.body.fps)
    if not np.isfinite(fps) or fps <= 0:
        raise InputError(f"the pose's frame rate is {fps:g} fps; it must be a positive number")
    points, found = select_landmarks(pose)
    for i in range(len(points)):
        yield points[i], found[i], i / fps


def measure(recognizer: StreamingRecognizer, frames: Iterable[tuple[np.ndarray, np.ndarray, float]],
            real_time: bool = False) -> tuple[list[Caption], list[float]]:
    """Run a stream, optionally paced at its real frame rate; return the captions and, for each,
    the wall-clock delay in seconds from its sign's last frame arriving to the caption."""
    captions, delays = [], []
    arrived: dict[int, float] = {}
    start = time.perf_counter()
    recognizer.reset()
    for i, (points, found, t) in enumerate(frames):
        if real_time:
            wait = start + t - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        arrived[i] = time.perf_counter()
        for cap in recognizer.push(points, found, t):
            captions.append(cap)
            delays.append(time.perf_counter() - arrived.get(cap.frames[1] - 1, arrived[i]))
    for cap in recognizer.flush():
        captions.append(cap)
        delays.append(time.perf_counter() - arrived.get(cap.frames[1] - 1, time.perf_counter()))
    return captions, delays
