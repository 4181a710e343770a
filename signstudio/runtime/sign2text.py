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
from typing import Any

import numpy as np

from signstudio.data.vocabulary import Vocabulary
from signstudio.decoding import DecodingOptions, beam_search, ctc_greedy_decode
from signstudio.lm import GlossLM, ctc_prefix_beam_search
from signstudio.metrics import wer
from signstudio.pose.features import track_features
from signstudio.runtime.clip import check_feature_spec, clip_features, read_clip  # noqa: F401
from signstudio.runtime.nets import pad_batch, signformer_net
from signstudio.runtime.translator import Translation, load_translator, translate_file, translator_for  # noqa: F401
from signstudio.tasks import NullTask, TaskHandle, check_cancelled


#: The longest stretch of features (frames at FEATURE_FPS) encoded at once; longer input is read
#: in overlapping windows, so memory does not grow with the square of its length.
MAX_WINDOW = 600
#: Frames of context on each side of a window's kept part.
WINDOW_OVERLAP = 60


def runnable(loaded):
    """``loaded`` itself (PyTorch), or for an :class:`~signstudio.runtime.onnx.OnnxModel` of a
    Signformer-family model a :class:`~signstudio.runtime.bundle.ModelBundle` whose ``model`` is its graphs
    (:class:`~signstudio.runtime.onnx.OnnxSignformer`), with the vocabularies, decoding options
    and gloss LM its sidecar holds: both decode with the same searches."""
    if getattr(loaded, "backend", "torch") != "onnx":
        return loaded
    from signstudio.runtime.onnx import OnnxSignformer

    side = loaded.sidecar
    vocabs = side.get("vocabularies") or {}
    from signstudio.runtime.bundle import ModelBundle

    return ModelBundle(
        name=loaded.name, model_type=loaded.model_type, model=OnnxSignformer(loaded),
        gloss_vocab=Vocabulary(vocabs["gloss"]) if "gloss" in vocabs else None,
        text_vocab=Vocabulary(vocabs["text"]) if "text" in vocabs else None,
        features=loaded.features, metrics=loaded.metrics, config=loaded.config, path=loaded.path,
        decoding=DecodingOptions(**side["decoding"]) if side.get("decoding") else DecodingOptions(),
        gloss_lm=GlossLM.from_dict(side["gloss_lm"]) if side.get("gloss_lm") else None)


def decode_features(model, features: Sequence[np.ndarray], gloss_vocab, text_vocab,
                    options: DecodingOptions | None = None, lm: GlossLM | None = None) -> dict[str, list[list[str]]]:
    """Run a Signformer-style model on ``(T_i, F)`` feature arrays with every decoder it has.

    Args:
        model: a :class:`~signstudio.models.signformer.Signformer` or a network of
            :func:`~signstudio.runtime.nets.signformer_net` (PyTorch or an ONNX export).

    Input longer than :data:`MAX_WINDOW` frames goes through :func:`decode_long` (windows), one
    clip at a time.

    Returns:
        A dict of per-clip token lists: ``"ctc"`` (CTC best path) and, with an ``lm``,
        ``"ctc_lm"`` (CTC prefix beam search with the gloss LM) if the model has a CTC head;
        ``"decoder"`` (beam search) if it has a translation decoder.
    """
    net = signformer_net(model)
    options = options or DecodingOptions()
    if any(len(f) > MAX_WINDOW for f in features):
        out: dict[str, list[list[str]]] = {}
        for f in features:
            one = decode_long(net, f, gloss_vocab, text_vocab, options, lm) if len(f) > MAX_WINDOW else \
                decode_features(net, [f], gloss_vocab, text_vocab, options, lm)
            for key, value in one.items():
                out.setdefault(key, []).extend(value)
        return out
    encoded = net.encode(*pad_batch([np.asarray(f, dtype=np.float32) for f in features]))
    mask, lp = encoded["memory_mask"], encoded.get("gloss_log_probs")
    out: dict[str, list[list[str]]] = {}
    if lp is not None and gloss_vocab is not None:
        out["ctc"] = [gloss_vocab.decode(s) for s in ctc_greedy_decode(lp, mask)]
        if lm is not None:
            out["ctc_lm"] = [
                ctc_prefix_beam_search(lp[i][mask[i]], gloss_vocab.itos, lm, options.lm_weight,
                                       options.insertion_bonus, options.ctc_beam_size)
                for i in range(len(features))
            ]
    if net.has_decoder and text_vocab is not None:
        ids = beam_search(net.decoder(encoded), len(features), net.max_output_length, options.beam_size,
                          options.length_penalty, no_repeat_ngram=options.no_repeat_ngram)
        out["decoder"] = [text_vocab.decode(s) for s in ids]
    return out


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
    net = signformer_net(model)
    t = len(features)
    keep = MAX_WINDOW - 2 * WINDOW_OVERLAP
    out: dict[str, list[list[str]]] = {}

    def encode(a: int, b: int) -> dict[str, Any]:
        x = np.ascontiguousarray(features[a:b], dtype=np.float32)[None]
        return net.encode(x, np.array([b - a], dtype=np.int64))

    if net.has_ctc and gloss_vocab is not None:
        parts = []
        for start in range(0, t, keep):
            a, b = max(0, start - WINDOW_OVERLAP), min(t, start + keep + WINDOW_OVERLAP)
            lp = encode(a, b)["gloss_log_probs"][0]
            parts.append(lp[start - a : min(t, start + keep) - a])
        lp = np.concatenate(parts)[None]
        out["ctc"] = [gloss_vocab.decode(ctc_greedy_decode(lp, np.ones((1, t), dtype=bool))[0])]
        if lm is not None:
            out["ctc_lm"] = [ctc_prefix_beam_search(lp[0], gloss_vocab.itos, lm, options.lm_weight,
                                                    options.insertion_bonus, options.ctc_beam_size)]
    if net.has_decoder and text_vocab is not None:
        tokens: list[str] = []
        for a in range(0, t, MAX_WINDOW):
            encoded = encode(a, min(t, a + MAX_WINDOW))
            ids = beam_search(net.decoder(encoded), 1, net.max_output_length, options.beam_size,
                              options.length_penalty, no_repeat_ngram=options.no_repeat_ngram)[0]
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
    return f"the attention decoder ({options.search()})"


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


def evaluate_examples(model, examples: Sequence, gloss_vocab, text_vocab,
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
        part = decode_features(model, [track_features(e.tracks, e.fps) for e in chunk], gloss_vocab, text_vocab, options, lm)
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


