"""Gloss-to-pose at run time: a trained SignLLM turns glosses into a skeleton pose sequence.

:func:`load_signllm` gives a :class:`PoseProducer`; :meth:`PoseProducer.produce` runs counter
decoding (Progressive Transformers, Saunders et al. 2020, Sec. 3.2) with a key/value cache and
splits the frames among the glosses. :func:`evaluate_production` scores produced poses against
reference skeletons by DTW-MJE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from signstudio.data.skeletons import SkeletonExample, dataset_language, load_skeleton_splits, tag_glosses
from signstudio.data.vocabulary import Vocabulary
from signstudio.errors import InputError, ModelError
from signstudio.metrics import dtw_mje
from signstudio.pose.skeletons import NUM_JOINTS, SKELETON_FPS
from signstudio.runtime.spans import counter_spans, monotonic_spans
from signstudio.runtime.installed import load_installed

#: The features a SignLLM checkpoint produces.
FEATURE_SPEC = {"kind": "pt_skeleton_50", "fps": SKELETON_FPS, "num_joints": NUM_JOINTS}


def collate_skeletons(items: list[SkeletonExample], vocab: Vocabulary, language: str) -> dict:
    """Pad a batch (PyTorch tensors): ``glosses`` ``(B, U)`` tagged tokens, ``gloss_lengths``
    ``(B,)``, ``frames`` ``(B, T, J, 3)``, ``frame_lengths`` ``(B,)``, ``joint_mask`` ``(B, T, J)``
    (True on real joints)."""
    import torch

    toks = [vocab.encode(tag_glosses(e.glosses, language)) for e in items]
    u = max(len(t) for t in toks)
    t_max = max(len(e.frames) for e in items)
    j = items[0].frames.shape[1]
    glosses = torch.zeros(len(items), u, dtype=torch.long)
    frames = torch.zeros(len(items), t_max, j, 3)
    joint_mask = torch.zeros(len(items), t_max, j, dtype=torch.bool)
    for i, (tk, e) in enumerate(zip(toks, items)):
        glosses[i, : len(tk)] = torch.tensor(tk)
        frames[i, : len(e.frames)] = torch.from_numpy(np.asarray(e.frames, dtype=np.float32))
        joint_mask[i, : len(e.frames)] = True if e.mask is None else torch.from_numpy(np.asarray(e.mask))
    return {"glosses": glosses, "gloss_lengths": torch.tensor([len(t) for t in toks]), "frames": frames,
            "frame_lengths": torch.tensor([len(e.frames) for e in items]), "joint_mask": joint_mask}



def evaluate_production(model, examples: list[SkeletonExample], vocab: Vocabulary, language: str,
                        max_frames: int | None = None, batch_size: int = 8) -> dict[str, Any]:
    """Produce every example's glosses (counter decoding) and score DTW-MJE against its frames.

    Args:
        model: a :class:`~signstudio.models.signllm.SignLLM` (batches of ``batch_size``, as the
            cards were measured) or a network of :func:`~signstudio.runtime.nets.pose_net` (one
            sentence at a time; an ONNX export).

    The cap on produced frames is ``max_frames`` or ``min(config.max_frames, 2 x longest reference)``
    (the longest of the batch; of the sentence for a network).

    Returns:
        ``{"n", "dtw_mje" (mean over sentences, skeleton units), "length_ratio" (mean produced /
        reference frames), "per_example": [{"id", "dtw_mje", "frames", "reference_frames"}]}``.
    """
    rows = []
    for s in range(0, len(examples), batch_size):
        items = examples[s : s + batch_size]
        for e, produced in zip(items, _generate_batch(model, items, vocab, language, max_frames)):
            rows.append({"id": e.id, "dtw_mje": dtw_mje(e.frames, produced, e.mask), "frames": len(produced),
                         "reference_frames": len(e.frames)})
    if not rows:
        return {"n": 0, "dtw_mje": float("nan"), "length_ratio": float("nan"), "per_example": []}
    return {"n": len(rows), "dtw_mje": float(np.mean([r["dtw_mje"] for r in rows])),
            "length_ratio": float(np.mean([r["frames"] / r["reference_frames"] for r in rows])),
            "per_example": rows}


def _generate_batch(model, items: list[SkeletonExample], vocab: Vocabulary, language: str,
                    max_frames: int | None) -> list[np.ndarray]:
    """The ``(T_i, J, 3)`` frames produced for each item (see :func:`evaluate_production`)."""
    if getattr(model, "is_pose_net", False):
        out = []
        for e in items:
            cap = max_frames or min(model.max_frames, 2 * len(e.frames))
            out.append(model.generate(np.array(vocab.encode(tag_glosses(e.glosses, language))), language, cap)[0])
        return out
    import torch

    batch = collate_skeletons(items, vocab, language)
    cap = max_frames or min(model.config.max_frames, 2 * int(batch["frame_lengths"].max()))
    with torch.no_grad():
        gen = model.generate(batch["glosses"], batch["gloss_lengths"], language, max_frames=cap)
    return [gen.frames[i, : int(gen.lengths[i])].numpy() for i in range(len(items))]


def evaluate_signllm(loaded, split: str) -> dict[str, Any]:
    """Score a loaded SignLLM checkpoint on a split of the data it was trained on (DTW-MJE).

    Args:
        loaded: a :class:`signstudio.runtime.checkpoint.LoadedModel` of type ``signllm``.
        split: ``"train"``, ``"dev"`` or ``"test"``.

    Returns:
        JSON-ready ``{"model", "split", "language", "n", "dtw_mje", "length_ratio", "examples":
        [{"id", "dtw_mje", "frames", "reference_frames"}]}``.

    Raises:
        InputError: unknown or empty split, missing data. ModelError: not a SignLLM.
    """
    if loaded.model_type != "signllm":
        raise ModelError(f"{loaded.name!r} is a {loaded.model_type!r} model, not a SignLLM")
    if split not in ("train", "dev", "test"):
        raise InputError(f"unknown split {split!r}; known: train, dev, test")
    data = (loaded.config or {}).get("data") or {}
    dataset, path = data.get("dataset", ""), data.get("path", "")
    language = dataset_language(dataset, data.get("language", ""))
    examples = load_skeleton_splits(dataset, path, data.get("dev_every", 10))[split]
    if not examples:
        raise InputError(f"the {split} split of {path or dataset} is empty")
    from signstudio.runtime.nets import pose_net

    net = pose_net(loaded)
    res = evaluate_production(loaded.model if net.backend == "torch" else net, examples, net.vocab, language)
    return {"model": loaded.name, "split": split, "language": language, "n": res["n"],
            "dtw_mje": round(res["dtw_mje"], 4), "length_ratio": round(res["length_ratio"], 3),
            "examples": res["per_example"]}


@dataclass
class ProducedPoses:
    """Poses produced from glosses. Unpacks as ``frames, counter, spans = producer.produce(...)``.

    Attributes:
        frames: ``(T, 50, 3)`` float32 joints in skeleton units, 25 fps.
        counter: ``(T,)`` predicted counter (fraction of the sentence done after each frame).
        spans: one ``(start, end)`` frame range per input gloss, in order (approximate, see
            :meth:`PoseProducer.produce`).
        glosses: the glosses as given.
        notes: remarks, e.g. glosses outside the model's vocabulary (produced as ``<unk>``).
    """

    frames: np.ndarray
    counter: np.ndarray
    spans: list[tuple[int, int]]
    glosses: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __iter__(self):
        return iter((self.frames, self.counter, self.spans))


class PoseProducer:
    """A trained SignLLM that turns glosses into skeleton poses (see :func:`load_signllm`).

    Attributes:
        name: the model's name. model: the :class:`SignLLM`. vocab: its tagged gloss vocabulary.
        languages: the sign languages it produces. fps: frames per second of its poses.
    """

    def __init__(self, loaded) -> None:
        from signstudio.runtime.nets import pose_net

        self.loaded = loaded
        self.name: str = loaded.name
        self.net = pose_net(loaded)
        self.backend: str = self.net.backend
        self.vocab: Vocabulary = self.net.vocab
        self.languages: tuple[str, ...] = tuple(self.net.languages)
        self.fps = float(loaded.features.get("fps", SKELETON_FPS))

    def known(self, gloss: str, language: str) -> bool:
        """Whether ``gloss`` (as written, or upper-cased) is in the vocabulary for ``language``."""
        return any(f"{language}:{g}" in self.vocab.stoi for g in (gloss, gloss.upper()))

    def produce(self, glosses: list[str], language: str | None = None, use_cache: bool = True,
                max_frames: int | None = None, spans: str = "counter") -> ProducedPoses:
        """Produce a pose sequence for ``glosses``.

        Args:
            glosses: gloss sequence, e.g. ``["WETTER", "MORGEN"]``; looked up as written, then
                upper-cased; unknown ones are fed as ``<unk>`` and reported in ``notes``.
            language: sign language code (default: the model's first).
            use_cache: incremental decoding with the key/value cache.
            max_frames: cap on frames (default the model's ``max_frames``).
            spans: how frames are split among glosses, both approximate: ``"counter"`` (default)
                - equal shares of the predicted counter
                (:func:`signstudio.runtime.spans.counter_spans`), or ``"attention"`` - the best
                monotonic path through the last decoder layer's cross-attention
                (:func:`signstudio.runtime.spans.monotonic_spans`). Against PHOENIX's HMM gloss
                alignments (5 sentences whose segment counts match) the shipped model's counter
                spans put gloss mid-points 6-11 % of the sentence off, attention spans 26 %.

        Returns:
            :class:`ProducedPoses` (unpacks as ``frames, counter, spans``).

        Raises:
            ModelError: unknown language or an empty gloss list.
        """
        language = language or self.languages[0]
        if language not in self.languages:
            raise ModelError(f"model {self.name!r} does not produce {language!r}; it produces "
                             f"{', '.join(self.languages)}")
        if not glosses:
            raise ModelError("nothing to produce: the gloss list is empty")
        notes, tokens = [], [f"<{language}>"]
        for g in glosses:
            tok = next((f"{language}:{x}" for x in (g, g.upper()) if f"{language}:{x}" in self.vocab.stoi), None)
            note = f"{g} is not in the model's vocabulary; produced as <unk>"
            if tok is None and note not in notes:
                notes.append(note)
            tokens.append(tok or "<unk>")
        cap = max_frames or self.net.max_frames
        frames, counter, att = self.net.generate(np.array(self.vocab.encode(tokens)), language, cap, use_cache)
        n = len(frames)
        if spans == "counter":
            parts = counter_spans(counter, len(glosses))
        elif spans == "attention":
            att = att[:, 1 : len(tokens)]  # drop the language tag
            att = att / np.clip(att.sum(-1, keepdims=True), 1e-12, None)
            parts = monotonic_spans(att)
        else:
            raise ValueError(f"spans must be 'attention' or 'counter', got {spans!r}")
        if n >= cap and counter[-1] < self.net.stop_threshold:
            notes.append(f"stopped at the {n}-frame cap before the counter reached the end")
        return ProducedPoses(frames, counter, parts, list(glosses), notes)


def load_signllm(name_or_path: str | Path, backend: str = "torch", notes: list[str] | None = None) -> PoseProducer:
    """Load a SignLLM gloss-to-pose model by installed name or checkpoint path (file or folder);
    ``backend`` and ``notes`` as in :func:`~signstudio.runtime.installed.load_installed`.

    Raises:
        ModelError: unknown or unreadable checkpoint, one that is not a SignLLM, or (``backend``
            "onnx") no up-to-date export.
    """
    loaded = load_installed(name_or_path, None, backend, notes)
    if loaded.model_type != "signllm":
        raise ModelError(f"{loaded.path}: a {loaded.model_type!r} model, not a SignLLM gloss-to-pose model")
    return PoseProducer(loaded)
