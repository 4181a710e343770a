"""Sign recognition at run time: a landmark :class:`~signstudio.models.recognizer.SignRecognizer`
turns a clip into glosses, each with its frames, confidence and alternatives.

The path of a clip: :func:`signstudio.pose.landmarks.clip_landmarks` (points by name, resampled
to the model's rate, handedness canonical, idle frames cut) ->
:func:`signstudio.pose.landmarks.landmark_features` -> the encoder -> the classification head
(an isolated sign). A gloss is shown only when its probability reaches the model's threshold
(chosen on val); below it the segment's ``gloss`` is ``None`` and only the alternatives are given.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from signstudio.errors import InputError, ModelError
from signstudio.pose.landmarks import clip_landmarks, hands_visible, landmark_features
from signstudio.runtime.nets import TorchRecognizerNet, pad_batch, recognizer_net, softmax

#: Feature kind of landmark recognisers' checkpoints.
FEATURE_KIND = "holistic_landmarks"
#: Fewest frames (at the model's rate) a clip needs.
MIN_FRAMES = 5
#: Alternatives listed per segment.
ALTERNATIVES = 5
#: Continuous-signing sequences built (seed 0) from the test clips to score a CTC recogniser.
TEST_SEQUENCES = 500
#: The first of them also read the live way (sliding window, frame by frame; ~0.5 s a sequence).
LIVE_SEQUENCES = 100


@dataclass
class Segment:
    """One recognised sign.

    Attributes:
        gloss: the gloss, or None when the model is unsure (below its threshold).
        start, end: the first and one-past-last frame of the input (frame indices of the pose).
        confidence: the gloss's probability (0-1).
        alternatives: the best ``(gloss, probability)`` pairs, most probable first.
    """

    gloss: str | None
    start: int
    end: int
    confidence: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``{"gloss", "start", "end", "confidence", "alternatives": [[gloss, p], ...]}``."""
        return {"gloss": self.gloss, "start": self.start, "end": self.end, "confidence": round(self.confidence, 4),
                "alternatives": [[g, round(p, 4)] for g, p in self.alternatives]}


def even_frames(n: int, max_frames: int) -> np.ndarray:
    """Indices of ``min(n, max_frames)`` evenly spaced frames of ``n``."""
    if n <= max_frames:
        return np.arange(n)
    return np.round(np.linspace(0, n - 1, max_frames)).astype(int)


def _net(model):
    """A recogniser network (:mod:`signstudio.runtime.nets`) for a net or a torch module."""
    return model if hasattr(model, "ctc_log_probs") and hasattr(model, "logits") else TorchRecognizerNet(model)


def predict(model, items, max_frames: int, batch_size: int = 64) -> np.ndarray:
    """Class probabilities ``(N, C)`` of landmark clips ``(points, found, ...)`` (evenly spaced
    frames when longer than ``max_frames``). ``model``: a recogniser net or its torch module."""
    net = _net(model)
    probs = []
    for s in range(0, len(items), batch_size):
        feats = []
        for points, found, *_ in items[s : s + batch_size]:
            idx = even_frames(len(points), max_frames)
            feats.append(landmark_features(points[idx], found[idx]))
        x, lengths = pad_batch(feats)
        probs.append(softmax(net.logits(x, lengths)))
    return np.concatenate(probs) if probs else np.zeros((0, net.num_classes))


def accuracy(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Per-clip top-1 and top-5 accuracy in percent (NaN without clips)."""
    if len(labels) == 0:
        return {"top1": float("nan"), "top5": float("nan")}
    top = np.argsort(-probs, axis=1)[:, :5]
    return {"top1": float(100.0 * (top[:, 0] == labels).mean()),
            "top5": float(100.0 * (top == labels[:, None]).any(1).mean())}


def ctc_runs(log_probs: np.ndarray) -> list[tuple[int, int, int]]:
    """Greedy CTC (best path): ``(label, start, end)`` of every run of a non-blank label, where
    ``label`` is the class (the CTC index minus 1) and ``start``/``end`` its frames.

    Args:
        log_probs: ``(T, C + 1)`` per-frame log-probabilities, index 0 the blank.
    """
    best = np.asarray(log_probs).argmax(-1)
    runs, prev, start = [], 0, 0
    for t, k in enumerate(list(best) + [0]):
        if k != prev:
            if prev != 0:
                runs.append((int(prev) - 1, start, t))
            start = t
        prev = k
    return runs


def run_segment(log_probs: np.ndarray, label: int, start: int, end: int, classes: list[str],
                threshold: float) -> Segment:
    """A :class:`Segment` for one CTC run: confidence = the label's mean probability over the run,
    alternatives = the best labels by their mean probability there (blank left out)."""
    probs = np.exp(np.asarray(log_probs[start:end])).mean(0)[1:]
    top = np.argsort(-probs)[:ALTERNATIVES]
    conf = float(probs[label])
    return Segment(classes[label] if conf >= threshold else None, start, end, conf,
                   [(classes[i], float(probs[i])) for i in top])


def ctc_segments(log_probs: np.ndarray, classes: list[str], threshold: float = 0.0) -> list[Segment]:
    """The signs of a continuous stretch from its CTC log-probabilities ``(T, C + 1)`` (frames
    are indices into ``log_probs``)."""
    return [run_segment(log_probs, label, a, b, classes, threshold) for label, a, b in ctc_runs(log_probs)]


def sequence_runs(model, sequences, batch_size: int = 16) -> list[list[tuple[int, float]]]:
    """Greedy CTC of built sequences ``(normalised points, found, ...)``
    (:mod:`signstudio.data.sequences`): per sequence, ``(label, confidence)`` of each run in order
    (confidence: the label's mean probability over its run)."""
    from signstudio.pose.landmarks import normalized_features

    net = _net(model)
    out = []
    for s in range(0, len(sequences), batch_size):
        chunk = sequences[s : s + batch_size]
        x, lengths = pad_batch([normalized_features(points, found) for points, found, *_ in chunk])
        lp = net.ctc_log_probs(x, lengths)
        for i, n in enumerate(lengths):
            probs = np.exp(lp[i, : int(n)])
            out.append([(label, float(probs[a:b, label + 1].mean())) for label, a, b in ctc_runs(lp[i, : int(n)])])
    return out


def streaming_glosses(loaded, sequences) -> list[list[tuple[str, bool]]]:
    """The glosses the live path (:class:`~signstudio.runtime.stream.StreamingRecognizer`, its
    sliding window) gives for built sequences, fed frame by frame at the model's rate: per sequence,
    ``(gloss, shown)`` of each caption in order (an unsure caption: its best alternative, not shown)."""
    from signstudio.runtime.stream import StreamingRecognizer, recognize_stream

    stream = StreamingRecognizer(loaded)
    out = []
    for points, found, *_ in sequences:
        frames = ((points[i], found[i], i / stream.fps) for i in range(len(points)))
        out.append([(c.gloss or c.alternatives[0][0], c.gloss is not None) for c in recognize_stream(stream, frames)])
    return out


def sequence_wer(model, sequences, classes: list[str], runs=None) -> float:
    """WER of the greedy CTC output on built sequences against their glosses (jiwer)."""
    from signstudio.metrics import wer

    runs = runs if runs is not None else sequence_runs(model, sequences)
    return wer([[classes[i] for i in seq[2]] for seq in sequences], [[classes[i] for i, _ in r] for r in runs])


def runs_right(runs: list[tuple[int, float]], reference: list[int]) -> list[bool]:
    """Which decoded runs are right: those aligned to an equal reference gloss (difflib's
    longest matching blocks), in order."""
    import difflib

    hyp = [label for label, _ in runs]
    right = [False] * len(hyp)
    for block in difflib.SequenceMatcher(a=hyp, b=list(reference), autojunk=False).get_matching_blocks():
        for k in range(block.size):
            right[block.a + k] = True
    return right


def choose_threshold(probs: np.ndarray, labels: np.ndarray) -> float:
    """The confidence below which a gloss is better not shown, chosen on labelled clips (val):
    see :func:`best_threshold` (the confidence of a clip is its top class's probability)."""
    if len(labels) == 0:
        return 0.0
    return best_threshold(probs.max(1), probs.argmax(1) == labels)


def best_threshold(conf: np.ndarray, right: np.ndarray) -> float:
    """The threshold on ``conf`` that maximises right answers shown minus wrong answers shown (a
    wrong word costs as much as a right one helps); 0 when there is nothing to choose on."""
    conf, right = np.asarray(conf, dtype=float), np.asarray(right, dtype=bool)
    if len(conf) == 0:
        return 0.0
    best, best_score = 0.0, -np.inf
    for t in np.unique(np.concatenate([[0.0], conf])):
        shown = conf >= t
        score = int((shown & right).sum()) - int((shown & ~right).sum())
        if score > best_score:
            best, best_score = float(t), score
    return best


class Recognizer:
    """A loaded landmark recogniser with the same face as the Signformer translator:
    :meth:`translate_pose` gives a :class:`~signstudio.runtime.sign2text.Translation`.

    Raises:
        ModelError: the checkpoint is not a landmark recogniser.
    """

    def __init__(self, loaded) -> None:
        if loaded.features.get("kind") != FEATURE_KIND:
            raise ModelError(f"model {loaded.name!r} is not a landmark recogniser")
        self.loaded = loaded
        self.name = loaded.name
        f = loaded.features
        self.classes: list[str] = list(f["classes"])
        self.fps = float(f.get("fps", 25.0))
        self.max_frames = int(f.get("max_frames", 64))
        self.threshold = float(loaded.metrics.get("threshold", 0.0))
        self.net = recognizer_net(loaded)  # its torch module, or its ONNX graph in onnxruntime
        self.continuous = self.net.has_ctc
        self.last_decoding = ""  # how the last clip was read (see translate_pose)

    def segments(self, pose) -> tuple[list[Segment], str]:
        """The signs of a clip, and a note ("" or why nothing is shown).

        A clip whose signing (from the first to the last frame with a hand) fits the model's
        isolated window (``max_frames`` at its rate, with a quarter to spare) is one sign, read by
        the classification head; longer signing, with a CTC recogniser, is read as continuous
        signing by the streaming recogniser (:mod:`signstudio.runtime.stream`), in bounded memory.

        Raises:
            InputError: the pose lacks body or hand landmarks, or is too short.
        """
        points, found, frames = clip_landmarks(pose, self.fps)
        if not hands_visible(found).any():
            return [], "no hand is visible in the clip"
        if len(points) < MIN_FRAMES:
            raise InputError(f"the clip is too short: {len(points)} frames at {self.fps:g} fps "
                             f"(at least {MIN_FRAMES} are needed)")
        if self.continuous and len(points) > 1.25 * self.max_frames:
            return self._continuous(pose)
        p = predict(self.net, [(points, found)], self.max_frames)[0]
        top = np.argsort(-p)[:ALTERNATIVES]
        alternatives = [(self.classes[i], float(p[i])) for i in top]
        best, conf = alternatives[0]
        gloss = best if conf >= self.threshold else None
        note = "" if gloss else f"unsure: the best guess {best} has {conf:.0%} (shown from {self.threshold:.0%})"
        return [Segment(gloss, int(frames[0]), int(frames[-1]) + 1, conf, alternatives)], note

    @property
    def isolated_decoding(self) -> str:
        """How a clip of one sign is read, in words (shown beside the output)."""
        return (f"one sign: the classification head over the whole clip (up to {self.max_frames} frames "
                f"at {self.fps:g} fps), shown from {self.threshold:.0%}")

    def _continuous(self, pose) -> tuple[list[Segment], str]:
        from signstudio.runtime.stream import StreamingRecognizer, pose_frames, recognize_stream

        stream = StreamingRecognizer(self.loaded)
        self.last_decoding = stream.decoding
        segments = [Segment(c.gloss, c.frames[0], c.frames[1], c.confidence, c.alternatives)
                    for c in recognize_stream(stream, pose_frames(pose))]
        return segments, "" if segments else "no sign recognised"

    def translate_pose(self, pose):
        """Recognise a MediaPipe Holistic pose-format ``Pose``.

        Returns:
            A :class:`~signstudio.runtime.sign2text.Translation` whose ``segments`` list the
            signs (as dicts, see :meth:`Segment.to_json`) and whose ``note`` says why nothing
            is shown, if so.

        Raises:
            InputError: the pose lacks body or hand landmarks, or is too short.
        """
        from signstudio.runtime.translator import Translation

        t0 = time.perf_counter()
        self.last_decoding = self.isolated_decoding  # _continuous replaces it for long signing
        segments, note = self.segments(pose)
        glosses = [s.gloss for s in segments if s.gloss]
        return Translation(text=" ".join(glosses), glosses=glosses, model=self.name,
                           frames=int(pose.body.data.shape[0]), seconds={"pose": 0.0, "model": time.perf_counter() - t0},
                           segments=[s.to_json() for s in segments], note=note, decoding=self.last_decoding)


def evaluate_recognizer(loaded, split: str = "test") -> dict[str, Any]:
    """Top-1 and top-5 accuracy (per clip, percent) on a split of the model's WLASL folder (its
    stored ``data.path``, default the shared ``wlasl100``); clips without a ``.pose`` are left out
    and counted in ``missing``.

    Raises:
        InputError: no such folder or split, or no clip of the split prepared.
    """
    from signstudio.data.wlasl import load_wlasl_folder, pose_path, wlasl_folder
    from signstudio.pose.io import read_pose

    from signstudio.paths import data_dir

    rec = Recognizer(loaded)
    data = (loaded.config or {}).get("data") or {}
    clips, folder, splits = [], None, {}
    for candidate in (wlasl_folder(data.get("path", "")), data_dir() / "wlasl100"):
        if not candidate.is_dir():
            continue
        splits, _ = load_wlasl_folder(candidate)
        clips = [c for c in splits.get(split, []) if pose_path(candidate, c).is_file()]
        if clips:
            folder = candidate
            break
    if folder is None:
        raise InputError(f"no prepared clips of the {split} split in {wlasl_folder(data.get('path', ''))} "
                         f"or {data_dir() / 'wlasl100'}")
    items = []
    for clip in clips:
        points, found, _ = clip_landmarks(read_pose(pose_path(folder, clip)), rec.fps)
        items.append((points, found, clip.label))
    probs = predict(rec.net, items, rec.max_frames)
    labels = np.array([label for *_, label in items])
    acc = accuracy(probs, labels)
    conf = probs.max(1)
    shown = conf >= rec.threshold
    out = {"model": loaded.name, "split": split, "n": len(items), "missing": len(splits.get(split, [])) - len(items),
           "top1": round(acc["top1"], 2), "top5": round(acc["top5"], 2),
           "shown": round(100.0 * float(shown.mean()), 2),
           "top1_of_shown": round(100.0 * float((probs.argmax(1) == labels)[shown].mean()), 2) if shown.any() else None,
           "threshold": rec.threshold, "folder": str(folder)}
    if rec.continuous:
        from signstudio.data.sequences import fixed_sequences
        from signstudio.metrics import wer

        sequences = fixed_sequences(items, TEST_SEQUENCES, seed=0)
        runs = sequence_runs(rec.net, sequences)
        refs = [[rec.classes[i] for i in seq[2]] for seq in sequences]
        ctc_threshold = float(loaded.metrics.get("ctc_threshold", 0.0))
        streamed = streaming_glosses(loaded, sequences[:LIVE_SEQUENCES])
        live_refs = refs[:LIVE_SEQUENCES]
        out.update({"sequences": len(sequences), "wer": round(sequence_wer(rec.net, sequences, rec.classes, runs), 4),
                    "wer_shown": round(wer(refs, [[rec.classes[i] for i, c in r if c >= ctc_threshold] for r in runs]), 4),
                    "live_sequences": len(streamed),
                    "wer_streaming": round(wer(live_refs, [[g for g, _ in one] for one in streamed]), 4),
                    "wer_streaming_shown": round(wer(live_refs, [[g for g, shown in one if shown] for one in streamed]), 4),
                    "ctc_threshold": ctc_threshold})
    return out
