"""Sign-to-text at run time: a Signformer-style checkpoint turns a clip into glosses and text.

The path of a video through ``signstudio translate`` (and the Translate tab):
:func:`signstudio.runtime.clip.read_clip` (landmarks) -> :func:`signstudio.runtime.clip.clip_features`
(``(T, 12)`` hand/nose features) -> :func:`decode_features` (encoder; CTC best path, CTC prefix
beam search with the gloss LM, and the translation decoder's beam search) -> :func:`best_glosses`
-> :class:`Translation`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from signstudio.data.batching import TrackExample, collate, example_features
from signstudio.data.vocabulary import Vocabulary
from signstudio.decoding import beam_search, ctc_greedy_decode
from signstudio.lm import GlossLM, ctc_prefix_beam_search
from signstudio.metrics import wer
from signstudio.runtime.checkpoint import DecodingOptions, LoadedModel
from signstudio.runtime.clip import check_feature_spec, clip_features, read_clip
from signstudio.runtime.translator import Translation, load_translator, translate_file, translator_for  # noqa: F401
from signstudio.tasks import NullTask, TaskHandle, check_cancelled


#: The longest stretch of features (frames at FEATURE_FPS) encoded at once; longer input is read
#: in overlapping windows, so memory does not grow with the square of its length.
MAX_WINDOW = 600
#: Frames of context on each side of a window's kept part.
WINDOW_OVERLAP = 60


class TorchFacingSignformer:
    """An :class:`~signstudio.runtime.onnx.OnnxSignformer` with the face the searches here expect
    of a :class:`~signstudio.models.signformer.Signformer`: torch tensors in and out of
    ``decode_step`` (``(B, 1, V)``: the last position only, which is all they read), and
    :meth:`encode_outputs` giving memory, mask and CTC log-probabilities from one encoder run.
    The graphs' NumPy outputs become tensors without a copy."""

    def __init__(self, net) -> None:
        self.net = net
        self.has_decoder = net.has_decoder
        self.has_ctc = net.has_ctc
        self.config = SimpleNamespace(max_output_length=net.max_output_length)

    def eval(self) -> TorchFacingSignformer:
        return self

    def encode_outputs(self, features: torch.Tensor, lengths: torch.Tensor):
        out = self.net.encode(features.numpy(), lengths.numpy())
        lp = out.get("gloss_log_probs")
        return (torch.from_numpy(out["memory"]), torch.from_numpy(out["memory_mask"]),
                torch.from_numpy(lp) if lp is not None else None)

    def decode_step(self, tokens: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.net.decode_step(tokens.numpy(), memory.numpy(), memory_mask.numpy()))[:, None]


def _device(model) -> torch.device:
    return next(model.parameters()).device if isinstance(model, torch.nn.Module) else torch.device("cpu")


def _has_ctc(model) -> bool:
    return bool(getattr(model, "has_ctc", False)) if not isinstance(model, torch.nn.Module) else \
        model.gloss_head is not None


def _encode(model, features: torch.Tensor, lengths: torch.Tensor):
    """``(memory, mask, CTC gloss log-probabilities or None)`` of a Signformer or its export."""
    if not isinstance(model, torch.nn.Module):
        return model.encode_outputs(features, lengths)
    memory, mask = model.encode(features, lengths)
    return memory, mask, model.gloss_log_probs(memory) if model.gloss_head is not None else None


def runnable(loaded) -> LoadedModel:
    """``loaded`` itself (PyTorch), or for an :class:`~signstudio.runtime.onnx.OnnxModel` of a
    Signformer-family model a :class:`LoadedModel` whose ``model`` is its graphs
    (:class:`TorchFacingSignformer`), with the vocabularies, decoding options and gloss LM its
    sidecar holds: both decode with the same code."""
    if getattr(loaded, "backend", "torch") != "onnx":
        return loaded
    from signstudio.runtime.onnx import OnnxSignformer

    side = loaded.sidecar
    vocabs = side.get("vocabularies") or {}
    return LoadedModel(
        name=loaded.name, model_type=loaded.model_type, model=TorchFacingSignformer(OnnxSignformer(loaded)),
        gloss_vocab=Vocabulary(vocabs["gloss"]) if "gloss" in vocabs else None,
        text_vocab=Vocabulary(vocabs["text"]) if "text" in vocabs else None,
        features=loaded.features, metrics=loaded.metrics, config=loaded.config, path=loaded.path,
        decoding=DecodingOptions(**side["decoding"]) if side.get("decoding") else DecodingOptions(),
        gloss_lm=GlossLM.from_dict(side["gloss_lm"]) if side.get("gloss_lm") else None)


@torch.no_grad()
def decode_features(model, features: Sequence[np.ndarray], gloss_vocab, text_vocab,
                    options: DecodingOptions | None = None, lm: GlossLM | None = None) -> dict[str, list[list[str]]]:
    """Run a Signformer-style model on ``(T_i, F)`` feature arrays with every decoder it has.

    Input longer than :data:`MAX_WINDOW` frames goes through :func:`decode_long` (windows), one
    clip at a time.

    Returns:
        A dict of per-clip token lists: ``"ctc"`` (CTC best path) and, with an ``lm``,
        ``"ctc_lm"`` (CTC prefix beam search with the gloss LM) if the model has a CTC head;
        ``"decoder"`` (beam search) if it has a translation decoder.
    """
    options = options or DecodingOptions()
    model.eval()
    if any(len(f) > MAX_WINDOW for f in features):
        out: dict[str, list[list[str]]] = {}
        for f in features:
            one = decode_long(model, f, gloss_vocab, text_vocab, options, lm) if len(f) > MAX_WINDOW else \
                decode_features(model, [f], gloss_vocab, text_vocab, options, lm)
            for key, value in one.items():
                out.setdefault(key, []).extend(value)
        return out
    batch = collate(list(features), [[]] * len(features), [[]] * len(features))
    device = _device(model)
    memory, mask, lp = _encode(model, batch["features"].to(device), batch["lengths"].to(device))
    out: dict[str, list[list[str]]] = {}
    if lp is not None and gloss_vocab is not None:
        out["ctc"] = [gloss_vocab.decode(s) for s in ctc_greedy_decode(lp, mask)]
        if lm is not None:
            out["ctc_lm"] = [
                ctc_prefix_beam_search(lp[i][mask[i]], gloss_vocab.itos, lm, options.lm_weight,
                                       options.insertion_bonus, options.ctc_beam_size)
                for i in range(len(features))
            ]
    if model.has_decoder and text_vocab is not None:
        ids = beam_search(model, memory, mask, model.config.max_output_length, options.beam_size,
                          options.length_penalty)
        out["decoder"] = [text_vocab.decode(s) for s in ids]
    return out


@torch.no_grad()
def decode_long(model, features: np.ndarray, gloss_vocab, text_vocab, options: DecodingOptions,
                lm: GlossLM | None = None) -> dict[str, list[list[str]]]:
    """Decode one long ``(T, F)`` clip in windows of :data:`MAX_WINDOW` frames.

    CTC: each window is encoded with :data:`WINDOW_OVERLAP` frames of context on both sides, the
    log-probabilities of its middle part are kept, and the whole ``(T, G)`` sequence is decoded
    once (best path, and prefix beam search with the LM), so glosses across window borders are
    read as in one pass. The attention decoder reads consecutive windows one after the other and
    its outputs are joined. Memory: one window's attention, plus ``T x G`` log-probabilities.

    Returns:
        As :func:`decode_features`, for one clip.
    """
    t = len(features)
    device = _device(model)
    keep = MAX_WINDOW - 2 * WINDOW_OVERLAP
    out: dict[str, list[list[str]]] = {}

    def encode(a: int, b: int):
        x = torch.from_numpy(np.ascontiguousarray(features[a:b], dtype=np.float32))[None].to(device)
        return _encode(model, x, torch.tensor([b - a], device=device))

    if _has_ctc(model) and gloss_vocab is not None:
        parts = []
        for start in range(0, t, keep):
            a, b = max(0, start - WINDOW_OVERLAP), min(t, start + keep + WINDOW_OVERLAP)
            lp = encode(a, b)[2][0]
            parts.append(lp[start - a : min(t, start + keep) - a])
        lp = torch.cat(parts)[None]
        mask = torch.ones(1, t, dtype=torch.bool, device=device)
        out["ctc"] = [gloss_vocab.decode(ctc_greedy_decode(lp, mask)[0])]
        if lm is not None:
            out["ctc_lm"] = [ctc_prefix_beam_search(lp[0], gloss_vocab.itos, lm, options.lm_weight,
                                                    options.insertion_bonus, options.ctc_beam_size)]
    if model.has_decoder and text_vocab is not None:
        tokens: list[str] = []
        for a in range(0, t, MAX_WINDOW):
            memory, mask, _ = encode(a, min(t, a + MAX_WINDOW))
            ids = beam_search(model, memory, mask, model.config.max_output_length, options.beam_size,
                              options.length_penalty)[0]
            tokens += text_vocab.decode(ids)
        out["decoder"] = [tokens]
    return out


def describe_decoding(key: str, options: DecodingOptions) -> str:
    """One of :func:`decode_features`' decoders (``"ctc"``, ``"ctc_lm"``, ``"decoder"``) in words."""
    if key == "ctc_lm":
        return (f"CTC prefix beam search (beam {options.ctc_beam_size}) with the gloss LM "
                f"(weight {options.lm_weight:g})")
    if key == "ctc":
        return "CTC best path (greedy)"
    return f"the attention decoder (beam {options.beam_size}, alpha {options.length_penalty:g})"


def decoding_summary(decoded: dict[str, list[list[str]]], frames: int, options: DecodingOptions,
                     text_from_decoder: bool) -> str:
    """How :meth:`Translator.translate_pose` read a clip of ``frames`` feature frames: the window,
    the decoder of the glosses (:func:`best_glosses`' choice) and, if another, of the text."""
    scope = ("whole clip at once" if frames <= MAX_WINDOW else
             f"windows of {MAX_WINDOW} frames ({WINDOW_OVERLAP} overlap)")
    key = next((k for k in ("ctc_lm", "ctc", "decoder") if k in decoded), "")
    out = f"{scope}; glosses by {describe_decoding(key, options)}" if key else scope
    if text_from_decoder and key != "decoder":
        out += f"; text by {describe_decoding('decoder', options)}"
    return out


def best_glosses(decoded: dict[str, list[list[str]]]) -> list[list[str]]:
    """The model's gloss output: CTC with the LM if available, else CTC, else the decoder."""
    for key in ("ctc_lm", "ctc", "decoder"):
        if key in decoded:
            return decoded[key]
    return []


def evaluate_examples(model, examples: Sequence[TrackExample], gloss_vocab, text_vocab,
                      options: DecodingOptions | None = None, lm: GlossLM | None = None, batch_size: int = 32,
                      task: TaskHandle | None = None) -> dict[str, Any]:
    """Decode ``examples`` and score them by WER against their glosses.

    Returns:
        ``{"n", "wer", "wer_ctc", "wer_ctc_lm", "wer_decoder", "hypotheses"}``: ``wer`` scores the
        model's gloss output (:func:`best_glosses`), the others each decoder the model has;
        ``hypotheses`` lists ``{"id", "reference", "glosses"}`` per example.

    Raises:
        Cancelled: the task was cancelled.
    """
    task = task or NullTask()
    task.set_total(len(examples), unit="clip")
    decoded: dict[str, list[list[str]]] = {}
    for i in range(0, len(examples), batch_size):
        check_cancelled(task)
        chunk = examples[i : i + batch_size]
        part = decode_features(model, [example_features(e) for e in chunk], gloss_vocab, text_vocab, options, lm)
        for k, v in part.items():
            decoded.setdefault(k, []).extend(v)
        task.advance(len(chunk))
    refs = [list(e.glosses) for e in examples]
    out: dict[str, Any] = {"n": len(examples)}
    for key, hyps in decoded.items():
        out[f"wer_{key}"] = wer(refs, hyps)
    best = best_glosses(decoded)
    out["wer"] = wer(refs, best)
    out["hypotheses"] = [{"id": e.id, "reference": " ".join(e.glosses), "glosses": " ".join(g)}
                         for e, g in zip(examples, best)]
    return out


class Translator:
    """A loaded sign-to-text model that turns poses into :class:`Translation` s.

    Args:
        loaded: a :class:`~signstudio.runtime.checkpoint.LoadedModel` of a sign-to-text model, or
            an :class:`~signstudio.runtime.onnx.OnnxModel` of its export (then ``self.loaded`` is
            its :func:`runnable` form and ``self.backend`` is "onnx").

    Raises:
        ModelError: the model needs features this version cannot compute.
    """

    def __init__(self, loaded) -> None:
        self.backend = getattr(loaded, "backend", "torch")
        self.loaded = loaded = runnable(loaded)
        self.name = loaded.name
        check_feature_spec(loaded.features, self.name)

    def features(self, pose) -> np.ndarray:
        """The model's ``(T, F)`` input for a Holistic ``pose`` (see :func:`clip_features`)."""
        return clip_features(pose, self.loaded.features)

    def translate_pose(self, pose) -> Translation:
        """Translate a MediaPipe Holistic pose-format ``Pose`` (x, y in pixels).

        Raises:
            InputError: the pose is not in Holistic layout, has no valid frame rate or lacks
                hands; NoSignerError: nobody appears in it.
        """
        t0 = time.perf_counter()
        features = self.features(pose)
        decoded = decode_features(self.loaded.model, [features], self.loaded.gloss_vocab,
                                  self.loaded.text_vocab, self.loaded.decoding, self.loaded.gloss_lm)
        glosses = best_glosses(decoded)[0]
        # A gloss-only corpus (BOSTON-104: text == glosses) writes its glosses as the text; a
        # translation model writes its decoder output.
        same = self.loaded.gloss_vocab is not None and self.loaded.text_vocab is not None and (
            self.loaded.gloss_vocab.itos == self.loaded.text_vocab.itos)
        from_decoder = not same and "decoder" in decoded
        text = " ".join(decoded["decoder"][0] if from_decoder else glosses)
        how = decoding_summary(decoded, len(features), self.loaded.decoding or DecodingOptions(), from_decoder)
        return Translation(text=text, glosses=glosses, model=self.name, frames=int(pose.body.data.shape[0]),
                           seconds={"pose": 0.0, "model": time.perf_counter() - t0}, decoding=how)


