"""What the Attention tab shows, without Qt: a record, the map chosen in it and its analyses.

:class:`AttentionSession` holds one :class:`~signstudio.interpret.record.AttentionRecord`, the
view chosen in it (attention kind, layer, head or the mean of heads), the selected output token
(or, in an encoder map, the selected query frame), and caches every analysis it has computed for
that record: the matrices of the views shown, the frame clusters and diagonal score of each
analysed cross-attention map, and the norm-based contributions of each decoder layer
(SignAttention, Dal Bianco et al. 2024; Kobayashi et al. 2020; :mod:`signstudio.interpret.analysis`).
A view (the Attention tab) displays what the session holds and forwards the user's actions to it.

The module also holds the tab's policy on input and models, so that it is testable without a
screen: whether typed text names a file or is a sentence or glosses (:func:`looks_like_path`,
:func:`looks_like_glosses`), which installed model fits an input (:func:`pick_model`), and the
order models are offered in (:func:`order_models`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from signstudio.interpret.analysis import Cluster, attention_clusters, diagonal_score, record_contributions

#: Attention kinds, in the order a view offers them.
KINDS = ("cross", "decoder_self", "encoder_self")
#: Model tasks whose attention can be recorded (Signformer with a decoder, text transformers).
SIGN_TASK = "sign-to-text"
TEXT_TASKS = ("text-to-gloss", "gloss-to-text")
ATTENTION_TASKS = (SIGN_TASK, *TEXT_TASKS)
#: What a model is preferred for, by input kind (:func:`input_kind`), best first.
PREFERRED_TASKS = {
    "sign": (SIGN_TASK,),
    "text": ("text-to-gloss", "gloss-to-text"),
    "glosses": ("gloss-to-text", "text-to-gloss"),
}
#: Suffixes of other files the tab opens besides clips.
TEXT_SUFFIX, RECORD_SUFFIX = ".txt", ".npz"
EOS = "</s>"


# ------------------------------------------------------------------------------------------------
# pure helpers
def attention_matrix(record: Any, kind: str, layer: int, head: int | None) -> np.ndarray:
    """The ``(rows, columns)`` matrix of a view: ``getattr(record, kind)[layer]`` at ``head``, or
    its mean over heads for ``head`` None. Rows/columns: cross ``(U, T)``, decoder_self
    ``(U, U)``, encoder_self ``(T, T)`` (``U`` tokens, ``T`` frames or source tokens).

    Raises:
        ValueError: unknown kind. IndexError: no such layer or head.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown attention kind {kind!r}; known: {', '.join(KINDS)}")
    arr = np.asarray(getattr(record, kind)[layer])
    return arr.mean(axis=0) if head is None else arr[head]


def player_frame(seconds: float, fps: float, frames: int) -> int:
    """The player's frame index (0-based, clamped to ``[0, frames - 1]``) at ``seconds`` from the
    clip's start, for a clip of ``frames`` frames at ``fps`` frames per second.

    Record times are seconds of the features (resampled to the record's fps); the player plays the
    source at its own rate, so the time, not the record's frame index, is what carries over.
    """
    if frames <= 0:
        return 0
    fps = fps if fps and fps > 0 else 25.0
    return int(min(max(int(round(float(seconds) * fps)), 0), frames - 1))


def strongest_cluster(clusters: Sequence[Cluster]) -> Cluster | None:
    """The cluster holding the most attention (the earlier one on a tie), or None for none."""
    best = None
    for cluster in clusters:
        if best is None or cluster.mass > best.mass:
            best = cluster
    return best


def looks_like_path(text: str) -> bool:
    """True for a string that names a file rather than a sentence: an existing file, a path
    with a separator and no spaces, or a known file suffix."""
    from signstudio.runtime.clip import CLIP_SUFFIXES

    stripped = text.strip()
    if not stripped or "\n" in stripped:
        return False
    try:
        if Path(stripped).expanduser().is_file():
            return True
    except (OSError, ValueError):
        return False
    suffix = Path(stripped).suffix.lower()
    return suffix in (*CLIP_SUFFIXES, TEXT_SUFFIX, RECORD_SUFFIX) or ("/" in stripped and " " not in stripped)


def looks_like_glosses(text: str) -> bool:
    """True for a gloss sequence such as "MORGEN loc-NORD REGEN" (every word with a letter is
    upper case after its last hyphen, so PHOENIX prefixes such as "loc-" pass), not a sentence
    such as "Morgen regnet es im Norden."."""
    words = [w.rsplit("-", 1)[-1] for w in text.split() if any(c.isalpha() for c in w)]
    return bool(words) and all(w == w.upper() for w in words)


def input_kind(path_or_text: str | Path) -> str:
    """"sign" for a video or ``.pose`` file, "text" for another file or a sentence, "glosses"
    for typed glosses."""
    from signstudio.runtime.clip import CLIP_SUFFIXES

    if isinstance(path_or_text, Path) or looks_like_path(str(path_or_text)):
        return "sign" if Path(path_or_text).suffix.lower() in CLIP_SUFFIXES else "text"
    return "glosses" if looks_like_glosses(str(path_or_text)) else "text"


def order_models(models: Sequence[Any], default: str = "") -> list[Any]:
    """Models whose attention can be recorded (``task`` in :data:`ATTENTION_TASKS`, and not a
    landmark recogniser: it has no attention decoder), in the order a selector offers them:
    sign-to-text first (``default`` first of all), then text models; the user's before the
    shipped ones of the same name; by name."""
    kept = [m for m in models if getattr(m, "task", "") in ATTENTION_TASKS
            and getattr(m, "model_type", "") != "recognizer"]
    return sorted(kept, key=lambda m: (m.task != SIGN_TASK, m.name != default, m.name,
                                       getattr(m, "origin", "") != "user"))


def pick_model(choices: Sequence[tuple[str, str]], kind: str, current: str | None,
               explicit: str | None = None) -> str | None:
    """The model to run on input of ``kind`` ("sign", "text" or "glosses").

    Args:
        choices: ``(model, task)`` of the models offered, in the selector's order.
        current: the model selected now (None: the default model).
        explicit: a model the caller named: always used.

    Returns:
        ``explicit``; else ``current`` if it fits ``kind`` (or nothing is known about the
        models); else the first offered model of the preferred task (text-to-gloss for a
        sentence, gloss-to-text for glosses); else ``current``.
    """
    if explicit:
        return explicit
    tasks = dict(choices)
    preferred = PREFERRED_TASKS.get(kind, PREFERRED_TASKS["text"])
    if current is None or not tasks or tasks.get(current) in preferred:
        return current
    for task in preferred:
        for name, model_task in choices:
            if model_task == task:
                return name
    return current


def run_choice(sentence: str, selected_task: str | None, last_input: str) -> tuple[str, str] | None:
    """What the Run button records: ``("text", sentence)`` for a text model (or when no file
    was opened), else ``("path", last_input)``; None when there is nothing to record."""
    sentence = sentence.strip()
    if sentence and (selected_task in TEXT_TASKS or not last_input):
        return "text", sentence
    if last_input:
        return "path", last_input
    return None


@dataclass(frozen=True)
class Axis:
    """One heatmap axis: ``n`` cells, cell ``i`` spanning ``[start + i*step, start + (i+1)*step]``
    in plot units (seconds for a time axis, cell indices for a label axis)."""

    n: int
    labels: list[str] | None = None
    start: float = 0.0
    step: float = 1.0
    title: str = ""

    def cell(self, value: float) -> int:
        """The cell at plot coordinate ``value`` (may be out of range)."""
        return int(math.floor((value - self.start) / self.step))

    def centre(self, index: float) -> float:
        """Plot coordinate of the centre of cell ``index``."""
        return self.start + (index + 0.5) * self.step

    def edge(self, index: float) -> float:
        """Plot coordinate of the start of cell ``index``."""
        return self.start + index * self.step


@dataclass(frozen=True)
class TokenRow:
    """One output token as a list shows it: its step, text, what it looks at most ("0.47–0.63 s"
    or a source word) and the share of the cross-attention in what attention adds (NaN if
    undefined)."""

    step: int
    token: str
    looks_at: str
    share: float


# ------------------------------------------------------------------------------------------------
class AttentionSession:
    """One attention record, the view chosen in it, the selected token, and cached analyses.

    Every method that reads an analysis computes it once per record and view and keeps it.
    Without a record the session is empty: readers return empty values, selections are ignored.
    """

    def __init__(self) -> None:
        self.record: Any = None
        self.kind = "cross"
        self.layer = 0
        self.head: int | None = None
        self.token: int | None = None
        self.query_row: int | None = None
        self._matrices: dict[tuple[str, int, int | None], np.ndarray] = {}
        self._clusters: dict[tuple[int, int | None], list[list[Cluster]]] = {}
        self._diagonal: dict[tuple[int, int | None], float] = {}
        self._shares: dict[int, np.ndarray] = {}

    # --- the record ----------------------------------------------------------------------------
    def set_record(self, record: Any) -> None:
        """Show ``record``: cross-attention of the last decoder layer, mean of heads, no token
        selected yet; analyses of the previous record are dropped.

        Raises:
            ValueError: the record's arrays do not fit together (nothing changes then).
        """
        try:
            record.validate()
        except AttributeError as exc:
            raise ValueError(f"not an attention record ({exc})") from None
        if not record.cross:
            raise ValueError("the record has no cross-attention")
        self.record = record
        self.kind, self.layer, self.head = "cross", len(record.cross) - 1, None
        self.token = self.query_row = None
        self._matrices, self._clusters, self._diagonal, self._shares = {}, {}, {}, {}

    @property
    def timed(self) -> bool:
        """True when the record's keys are frames in time (a sign model), not source tokens."""
        r = self.record
        return r is not None and r.frame_times is not None and not r.source_tokens

    @property
    def text_model(self) -> bool:
        """True for a text model's record (its keys are source tokens)."""
        r = self.record
        return r is not None and (bool(r.source_tokens) or r.frame_times is None)

    def layer_count(self, kind: str | None = None) -> int:
        """Layers of ``kind`` (default: the kind shown) in the record (0 without one)."""
        if self.record is None:
            return 0
        return len(getattr(self.record, kind or self.kind))

    # --- the view ------------------------------------------------------------------------------
    @property
    def view(self) -> tuple[str, int, int | None]:
        """``(kind, layer, head)`` shown (head None: the mean of heads)."""
        return self.kind, self.layer, self.head

    def set_view(self, kind: str | None = None, layer: int | None = None,
                 head: int | None | str = "keep") -> bool:
        """Choose another map: ``kind`` (:data:`KINDS`; the layer index is kept if the new kind
        has it, else its last layer is shown, and an encoder query selection is dropped),
        ``layer`` (negative counts from the last) and ``head`` (an index, None for the mean,
        "keep" to leave it). Returns True if the view changed.

        Raises:
            ValueError: unknown kind, or no such layer or head (nothing changes then).
        """
        if self.record is None:
            return False
        new_kind = self.kind if kind is None else kind
        if new_kind not in KINDS:
            raise ValueError(f"unknown attention kind {kind!r}; known: {', '.join(KINDS)}")
        n = self.layer_count(new_kind)
        if layer is None:
            new_layer = self.layer if 0 <= self.layer < n else n - 1
        elif -n <= int(layer) < n:
            new_layer = int(layer) % n
        else:
            raise ValueError(f"no layer {layer}: this map has {n}")
        new_head = self.head
        if head != "keep":
            if head is not None and not 0 <= int(head) < self.record.num_heads:
                raise ValueError(f"no head {head}: the model has {self.record.num_heads}")
            new_head = None if head is None else int(head)
        changed = (new_kind, new_layer, new_head) != self.view
        if new_kind != self.kind:
            self.query_row = None
        self.kind, self.layer, self.head = new_kind, new_layer, new_head
        return changed

    def matrix(self) -> np.ndarray | None:
        """The matrix of the view shown (rows x columns), or None without a record."""
        if self.record is None:
            return None
        key = self.view
        if key not in self._matrices:
            self._matrices[key] = attention_matrix(self.record, *key)
        return self._matrices[key]

    def axes(self, kind: str | None = None) -> tuple[Axis, Axis]:
        """``(rows, columns)`` of the view's matrix (default kind: the one shown): output tokens,
        decoder inputs, frames in seconds or source tokens."""
        record = self.record
        kind = kind or self.kind
        u, t = record.num_steps, record.num_frames
        if self.timed:
            fps = record.fps if record.fps > 0 else 30.0
            start = float(record.frame_times[0]) if len(record.frame_times) else 0.0
            keys = Axis(t, None, start, 1.0 / fps, "time (s)")
            query = Axis(t, None, start, 1.0 / fps, "query frame: time (s)")
        else:
            labels = record.key_labels
            keys = Axis(t, labels, title="source token")
            query = Axis(t, labels, title="query: source token")
        tokens = Axis(u, list(record.tokens), title="output token")
        if kind == "cross":
            return tokens, keys
        if kind == "decoder_self":
            return tokens, Axis(u, list(record.decoder_inputs), title="decoder input (tokens so far)")
        return query, keys

    # --- analyses ------------------------------------------------------------------------------
    def analysis_layer(self) -> tuple[int, int | None]:
        """(decoder layer, head) of the cross-attention the analyses use: the layer and head
        shown for a decoder map; the last decoder layer and the mean of heads for an encoder map."""
        if self.kind == "encoder_self":
            return len(self.record.cross) - 1, None
        return self.layer, self.head

    def analysed_cross(self) -> np.ndarray:
        """The ``(U, T)`` cross-attention the analyses use (see :meth:`analysis_layer`)."""
        key = ("cross", *self.analysis_layer())
        if key not in self._matrices:
            self._matrices[key] = attention_matrix(self.record, *key)
        return self._matrices[key]

    def all_clusters(self) -> list[list[Cluster]]:
        """Per output token, the frame clusters of the analysed cross-attention."""
        if self.record is None:
            return []
        key = self.analysis_layer()
        if key not in self._clusters:
            self._clusters[key] = attention_clusters(self.analysed_cross())
        return self._clusters[key]

    def clusters(self, token: int | None = None) -> list[Cluster]:
        """The frame clusters (record frame indices, inclusive) of ``token`` (default: the
        selected one) in the analysed cross-attention."""
        token = self.token if token is None else token
        clusters = self.all_clusters()
        if token is None or not 0 <= token < len(clusters):
            return []
        return list(clusters[token])

    def strongest(self, token: int | None = None) -> Cluster | None:
        """The cluster ``token`` (default: the selected one) attends most, or None."""
        return strongest_cluster(self.clusters(token))

    def scored_steps(self) -> int:
        """Decoding steps the diagonal score uses: all but a final ``</s>``."""
        record = self.record
        return record.num_steps - 1 if record.num_steps > 1 and record.tokens[-1] == EOS else record.num_steps

    def diagonal(self) -> float:
        """SignAttention's diagonal score of the analysed cross-attention (``</s>`` left out);
        NaN when undefined (see :meth:`diagonal_note`)."""
        if self.record is None:
            return float("nan")
        key = self.analysis_layer()
        if key not in self._diagonal:
            self._diagonal[key] = float(diagonal_score(self.analysed_cross()[: self.scored_steps()]))
        return self._diagonal[key]

    def diagonal_note(self) -> str:
        """Why the diagonal score is undefined ("" when it is a number)."""
        if self.record is None or np.isfinite(self.diagonal()):
            return ""
        return "fewer than 2 tokens" if self.scored_steps() < 2 else "more tokens than input positions"

    def cross_share(self, layer: int | None = None) -> np.ndarray:
        """``(U,)`` per step, the norm-based share of the cross-attention in what attention adds
        in decoder ``layer`` (default: the analysed one), NaN where undefined."""
        if self.record is None:
            return np.zeros(0)
        layer = self.analysis_layer()[0] if layer is None else layer
        if layer not in self._shares:
            self._shares[layer] = np.asarray(record_contributions(self.record, layer).cross_share)
        return self._shares[layer]

    # --- selection -------------------------------------------------------------------------------
    def select_token(self, step: int) -> bool:
        """Select decoding step ``step``; returns True if the selection changed (an invalid step
        is ignored)."""
        if self.record is None or not 0 <= step < self.record.num_steps:
            return False
        changed = step != self.token
        self.token = step
        return changed

    def deselect_token(self) -> None:
        """Select no token."""
        self.token = None

    def select_query(self, row: int) -> bool:
        """Select query frame ``row`` of an encoder map; False if there is none such."""
        if self.record is None or self.kind != "encoder_self" or not 0 <= row < self.record.num_frames:
            return False
        self.query_row = row
        return True

    def highlighted_row(self) -> int | None:
        """The row to outline: the query frame of an encoder map, else the selected token."""
        return self.query_row if self.kind == "encoder_self" else self.token

    def highlighted_spans(self) -> list[tuple[int, int]]:
        """Column spans (inclusive) to box in the outlined row: the selected token's clusters
        in a cross-attention map, none otherwise."""
        return [(c.start, c.end) for c in self.clusters()] if self.kind == "cross" else []

    def token_time(self, token: int | None = None) -> float | None:
        """Seconds from the clip's start of the first frame of the cluster ``token`` (default:
        the selected one) attends most; None for a text model or no attention."""
        best = self.strongest(token)
        if best is None or not self.timed:
            return None
        return float(self.record.frame_times[best.start])

    def query_time(self) -> float | None:
        """Seconds of the selected query frame of an encoder map (None if none or untimed)."""
        if self.query_row is None or self.record is None or self.record.frame_times is None:
            return None
        return float(self.record.frame_times[self.query_row])

    # --- text ----------------------------------------------------------------------------------
    def seconds(self, frame: int, end: bool = False) -> str:
        """Start (or, with ``end``, end) of record frame ``frame`` in seconds, as "1.23"."""
        record = self.record
        t = float(record.frame_times[frame])
        if end and record.fps > 0:
            t += 1.0 / record.fps
        return f"{t:.2f}"

    def span_text(self, cluster: Cluster) -> str:
        """Where a cluster lies: "0.47–0.63 s" for frames, the source words for a text model."""
        if self.timed:
            return f"{self.seconds(cluster.start)}–{self.seconds(cluster.end, end=True)} s"
        return " ".join(self.record.key_labels[cluster.start:cluster.end + 1])

    def token_rows(self) -> list[TokenRow]:
        """One :class:`TokenRow` per output token, for the analysed layer."""
        record = self.record
        if record is None:
            return []
        share = self.cross_share()
        clusters = self.all_clusters()
        keys = record.key_labels
        rows = []
        for u, token in enumerate(record.tokens):
            best = strongest_cluster(clusters[u]) if u < len(clusters) else None
            if best is None:
                looks = ""
            elif self.timed:
                looks = self.span_text(best)
            else:
                looks = keys[best.peak] if 0 <= best.peak < len(keys) else ""
            rows.append(TokenRow(u, str(token), looks, float(share[u]) if u < len(share) else float("nan")))
        return rows

    def default_name(self, what: str = "") -> str:
        """A file name stem for saving the record ("") or the view shown ("view")."""
        record = self.record
        stem = Path(record.input).stem if record.input and len(record.input) < 200 else ""
        stem = re.sub(r"[^\w\-]+", "_", stem or record.model)[:50] or "attention"
        if what == "view":
            kind, layer, head = self.view
            stem += f"_{kind}_layer{layer}_" + ("mean" if head is None else f"head{head}")
        return stem
