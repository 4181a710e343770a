"""Attention records: every attention map of one encoder-decoder run, saved as one ``.npz``.

How a record is made (:func:`record_attention`): the input is encoded (encoder self-attention per
layer), the decoder's output is searched exactly as the model translates (beam search with the
checkpoint's decoding options), and then **one teacher-forced pass** feeds the decoder its own
output, ``<s> y_1 ... y_K``. The decoder is causal, so row ``u`` of that pass is exactly what
decoding step ``u`` attended to when it chose its token: there is no need to keep per-step
matrices. Row ``u`` *produced* ``tokens[u]`` (``y_{u+1}``, or ``</s>`` for the last row), and its
decoder self-attention looks at ``decoder_inputs[:u+1]``.

Beside the weights, the record keeps what the norm-based analysis (Kobayashi et al. 2020, used by
SignAttention, Dal Bianco et al. 2024, arXiv 2410.14506) needs: the per-head transformed value
vectors ``f_h(x) = (x W_V + b_V)_h W_O^h`` of the decoder self-attention's keys and of the
cross-attention's keys (the encoder output), see
:meth:`signstudio.models.layers.MultiHeadAttention.transformed_values`.

File format (:func:`save_record`): an ``.npz`` whose ``header`` entry is a JSON string
(``format`` ``"signstudio-attention"``, ``version``, model, tokens, shapes, fps, input) and whose
other entries are the arrays, named ``<kind>_<layer>``.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from signstudio.atomic import atomic_write
from signstudio.errors import InputError, ModelError
from signstudio.interpret.inputs import (  # noqa: F401  (re-exported: callers import them from here)
    MAX_TEXT_FILE_BYTES,
    SUPPORTED_TYPES,
    check_layer_head,
    check_recordable,
    read_text_file,
)
from signstudio.pose.features import FEATURE_FPS
from signstudio.tasks import TaskHandle

FORMAT = "signstudio-attention"
VERSION = 1
#: Per-layer array lists of a record, in file order.
ARRAY_KINDS = ("encoder_self", "decoder_self", "cross", "decoder_self_values", "cross_values")
EOS = "</s>"


@dataclass
class AttentionRecord:
    """The attention of one encoder-decoder run (one clip or one sentence), as NumPy float32.

    Shapes use ``L_e``/``L_d`` encoder/decoder layers, ``H`` heads, ``T`` encoder positions
    (frames at :attr:`fps` for a sign model, source tokens for a text model), ``U`` decoding
    steps and ``D`` the model width. Every attention row sums to 1 over its keys.

    Attributes:
        model: the model's name. model_type: its registry type (``"signformer"``, ...).
        input: what was recorded (a path, or a description such as a dataset example id).
        tokens: the ``U`` output tokens; step ``u`` produced ``tokens[u]``. The last one is
            ``"</s>"``: the step that ended the sentence (beam search forces it at the model's
            ``max_output_length``).
        decoder_inputs: the ``U`` decoder input tokens, ``[<s>] + tokens[:-1]`` (for a
            text-to-gloss model the start token is the language tag, e.g. ``<gsg>``).
        encoder_self: per encoder layer ``(H, T, T)``, query frame x key frame.
        decoder_self: per decoder layer ``(H, U, U)``, step x decoder input (lower triangular).
        cross: per decoder layer ``(H, U, T)``, step x encoder position.
        decoder_self_values: per decoder layer ``(H, U, D)`` transformed value vectors of the
            decoder self-attention's keys (Kobayashi et al. 2020's ``f(x)``).
        cross_values: per decoder layer ``(H, T, D)`` transformed value vectors of the encoder
            output as seen by that layer's cross-attention.
        frame_times: ``(T,)`` seconds from the clip's start of each encoder frame, or None for
            a text model.
        fps: encoder frames per second (features are resampled to
            :data:`signstudio.pose.features.FEATURE_FPS`); 0 for a text model.
        source_tokens: for a text model the ``T`` source tokens, else empty.
        spatial: a video model's 2D pixel-wise self-attention, ``(T, H_s, P, P)`` per sampled
            frame (query position x key position of the ``P = 7 x 7`` map), or None
            (:mod:`signstudio.interpret.spatial`); such a record has no ``encoder_self``.
        frame_images: with ``spatial``, the ``(T, S, S, 3)`` uint8 RGB frames the model saw.
        decoding: how the output was found, e.g. ``"attention decoder over the whole input at once,
            beam 4, alpha 1"`` or ``"forced"`` (the Translate tab may read the same clip another
            way, e.g. CTC with a gloss LM: each says how it decoded).
    """

    model: str
    model_type: str
    input: str
    tokens: list[str]
    decoder_inputs: list[str]
    encoder_self: list[np.ndarray]
    decoder_self: list[np.ndarray]
    cross: list[np.ndarray]
    decoder_self_values: list[np.ndarray]
    cross_values: list[np.ndarray]
    frame_times: np.ndarray | None = None
    fps: float = 0.0
    source_tokens: list[str] = field(default_factory=list)
    decoding: str = ""
    spatial: np.ndarray | None = None
    frame_images: np.ndarray | None = None

    @property
    def num_heads(self) -> int:
        """Attention heads per layer."""
        return int(self.cross[0].shape[0]) if self.cross else int(self.encoder_self[0].shape[0])

    @property
    def num_steps(self) -> int:
        """``U``, the decoding steps (output tokens including a final ``</s>``)."""
        return len(self.tokens)

    @property
    def num_frames(self) -> int:
        """``T``, the encoder positions (frames or source tokens)."""
        return int(self.cross[0].shape[-1]) if self.cross else int(self.encoder_self[0].shape[-1])

    @property
    def key_labels(self) -> list[str]:
        """Labels of the ``T`` encoder positions: source tokens, or times such as ``"1.23s"``."""
        if self.source_tokens:
            return list(self.source_tokens)
        if self.frame_times is not None:
            return [f"{t:.2f}s" for t in self.frame_times]
        return [str(i) for i in range(self.num_frames)]

    def shapes(self) -> dict[str, list[list[int]]]:
        """``{kind: [shape per layer]}`` for every array list of :data:`ARRAY_KINDS`."""
        return {k: [list(a.shape) for a in getattr(self, k)] for k in ARRAY_KINDS}

    def validate(self) -> None:
        """Check that the arrays fit together.

        Raises:
            ValueError: an array of the wrong rank or size (message names the array).
        """
        u, t = len(self.tokens), None
        if u == 0:
            raise ValueError("no output tokens")
        if not self.cross:
            raise ValueError("no cross-attention layers")
        if len(self.decoder_inputs) != u:
            raise ValueError(f"{len(self.decoder_inputs)} decoder inputs for {u} tokens")
        for i, a in enumerate(self.encoder_self):
            if a.ndim != 3 or a.shape[1] != a.shape[2]:
                raise ValueError(f"encoder_self[{i}] has shape {a.shape}, expected (H, T, T)")
            t = a.shape[2] if t is None else t
            if a.shape[2] != t:
                raise ValueError(f"encoder_self[{i}] has {a.shape[2]} frames, expected {t}")
        if not (len(self.decoder_self) == len(self.cross) == len(self.decoder_self_values) == len(self.cross_values)):
            raise ValueError("the decoder array lists differ in length")
        for i, (s, c, sv, cv) in enumerate(zip(self.decoder_self, self.cross, self.decoder_self_values,
                                              self.cross_values)):
            t = c.shape[-1] if t is None else t
            h = c.shape[0]
            checks = {"decoder_self": (s, (h, u, u)), "cross": (c, (h, u, t)),
                      "decoder_self_values": (sv, (h, u, None)), "cross_values": (cv, (h, t, None))}
            for name, (arr, want) in checks.items():
                if arr.ndim != 3 or any(w is not None and w != g for w, g in zip(want, arr.shape)):
                    raise ValueError(f"{name}[{i}] has shape {arr.shape}, expected {want}")
        if self.frame_times is not None and t is not None and self.frame_times.shape != (t,):
            raise ValueError(f"frame_times has shape {self.frame_times.shape}, expected ({t},)")
        if self.source_tokens and t is not None and len(self.source_tokens) != t:
            raise ValueError(f"{len(self.source_tokens)} source tokens for {t} encoder positions")
        from signstudio.interpret.spatial import check_spatial

        check_spatial(self.spatial, self.frame_images, t)


# --------------------------------------------------------------------------- file format


def save_record(record: AttentionRecord, path: str | Path) -> Path:
    """Write ``record`` to ``path`` as a compressed ``.npz``, atomically.

    The ``header`` entry is a JSON string: ``{"format", "version", "model", "model_type",
    "input", "tokens", "decoder_inputs", "source_tokens", "fps", "decoding", "has_frame_times",
    "shapes"}``. The file is written exactly at ``path`` (no ``.npz`` is appended).

    Raises:
        ValueError: the record's arrays do not fit together. OSError: the folder is not writable.
    """
    record.validate()
    header = {
        "format": FORMAT, "version": VERSION, "model": record.model, "model_type": record.model_type,
        "input": record.input, "tokens": list(record.tokens), "decoder_inputs": list(record.decoder_inputs),
        "source_tokens": list(record.source_tokens), "fps": float(record.fps), "decoding": record.decoding,
        "has_frame_times": record.frame_times is not None, "shapes": record.shapes(),
        "has_spatial": record.spatial is not None,
    }
    arrays: dict[str, np.ndarray] = {"header": np.array(json.dumps(header))}
    for kind in ARRAY_KINDS:
        for i, a in enumerate(getattr(record, kind)):
            arrays[f"{kind}_{i}"] = np.asarray(a, dtype=np.float32)
    if record.frame_times is not None:
        arrays["frame_times"] = np.asarray(record.frame_times, dtype=np.float64)
    if record.spatial is not None:
        arrays["spatial"] = np.asarray(record.spatial, dtype=np.float32)
        arrays["frame_images"] = np.asarray(record.frame_images, dtype=np.uint8)
    path = Path(path)
    with atomic_write(path) as f:
        np.savez_compressed(f, **arrays)
    return path


def load_record(path: str | Path) -> AttentionRecord:
    """Read a record written by :func:`save_record`, trusting nothing in it.

    Before anything is decompressed, the sizes the archive declares are capped
    (:func:`signstudio.interpret.npz.check_npz_sizes`: at most
    :data:`~signstudio.interpret.npz.MAX_NPZ_BYTES` in all, each array no larger than its
    member); the JSON header is checked field by field
    (:func:`~signstudio.interpret.npz.check_record_header`) and every array against the shape
    the header gives.

    Raises:
        InputError: one line naming the file: missing or unreadable, not an ``.npz``, an archive
            that would unpack to too much, no or unreadable header, another format or version,
            header fields missing or of the wrong type, arrays missing, of the wrong shape, not
            numbers, or holding NaN or infinite weights.
    """
    from signstudio.files import check_input_file
    from signstudio.interpret.npz import check_npz_sizes, check_record_header

    shown = str(path)
    path = check_input_file(path, "attention record (.npz)")
    declared = check_npz_sizes(path, shown)
    if "header" not in declared:
        raise InputError(f"{shown}: not a SignStudio attention record (no header)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            raw = npz["header"]
            if raw.dtype.kind != "U" or raw.ndim != 0:
                raise InputError(f"{shown}: not a SignStudio attention record (the header is not text)")
            try:
                header = json.loads(str(raw))
            except ValueError:
                raise InputError(f"{shown}: not a SignStudio attention record (the header is not JSON)") from None
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise InputError(f"{shown}: not a SignStudio attention record")
            if header.get("version") != VERSION:
                raise InputError(f"{shown}: attention record version {header.get('version')} is not supported "
                                 f"(expected {VERSION})")
            header = check_record_header(header, shown, ARRAY_KINDS)
            lists: dict[str, list[np.ndarray]] = {}
            for kind in ARRAY_KINDS:
                lists[kind] = []
                for i, shape in enumerate(header["shapes"][kind]):
                    name = f"{kind}_{i}"
                    if name not in declared:
                        raise InputError(f"{shown}: attention record is missing {name}")
                    got, dtype = declared[name]
                    if list(got) != list(shape):
                        raise InputError(f"{shown}: {name} has shape {got}, the header says {tuple(shape)}")
                    if dtype.kind not in "fiu":
                        raise InputError(f"{shown}: {name} holds {dtype} values, not numbers")
                    lists[kind].append(npz[name].astype(np.float32))
            frame_times = None
            if header["has_frame_times"]:
                if "frame_times" not in declared:
                    raise InputError(f"{shown}: attention record is missing frame_times")
                if declared["frame_times"][1].kind not in "fiu":
                    raise InputError(f"{shown}: frame_times holds {declared['frame_times'][1]} values, not numbers")
                frame_times = npz["frame_times"].astype(np.float64)
            spatial = images = None
            if header.get("has_spatial", False) is not False:
                if header["has_spatial"] is not True:
                    raise InputError(f"{shown}: the record's header field 'has_spatial' is not true/false")
                for name, kinds in (("spatial", "fiu"), ("frame_images", "u")):
                    if name not in declared:
                        raise InputError(f"{shown}: attention record is missing {name}")
                    if declared[name][1].kind not in kinds:
                        raise InputError(f"{shown}: {name} holds {declared[name][1]} values, not "
                                         f"{'numbers' if kinds == 'fiu' else '8-bit pixels'}")
                spatial = npz["spatial"].astype(np.float32)
                images = npz["frame_images"].astype(np.uint8)
                if not np.isfinite(spatial).all():
                    raise InputError(f"{shown}: spatial holds NaN or infinite attention weights")
    except InputError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, TypeError) as exc:
        raise InputError(f"{shown}: not a readable attention record ({type(exc).__name__})") from None
    for kind, arrays in lists.items():
        for i, arr in enumerate(arrays):
            if not np.isfinite(arr).all():
                raise InputError(f"{shown}: {kind}_{i} holds NaN or infinite attention weights")
    if frame_times is not None and not np.isfinite(frame_times).all():
        raise InputError(f"{shown}: frame_times holds NaN or infinite times")
    record = AttentionRecord(
        model=header["model"], model_type=header["model_type"], input=header["input"],
        tokens=list(header["tokens"]), decoder_inputs=list(header["decoder_inputs"]), frame_times=frame_times,
        fps=header["fps"], source_tokens=list(header["source_tokens"]), decoding=header["decoding"],
        spatial=spatial, frame_images=images, **lists)
    try:
        record.validate()
    except ValueError as exc:
        raise InputError(f"{shown}: inconsistent attention record ({exc})") from None
    return record


# --------------------------------------------------------------------------- recording


def _teacher_forced(model, memory: torch.Tensor, mask: torch.Tensor, ids: list[int]):
    """One teacher-forced decoder pass over ``ids`` (``<s>`` first), capturing value vectors.

    Returns per decoder layer lists of ``(H, U, U)`` self weights, ``(H, U, T)`` cross weights,
    ``(H, U, D)`` self value vectors and ``(H, T, D)`` cross value vectors, as float32 NumPy.
    """
    tokens = torch.tensor([ids], dtype=torch.long)
    values: dict[tuple[int, str], torch.Tensor] = {}
    handles = []

    def capture(i: int, kind: str):
        def hook(module, args, kwargs, output):
            key = args[1] if len(args) > 1 else kwargs["key"]
            values[(i, kind)] = module.transformed_values(key)
        return hook

    for i, layer in enumerate(model.decoder):
        handles.append(layer.self_attn.register_forward_hook(capture(i, "self"), with_kwargs=True))
        handles.append(layer.cross_attn.register_forward_hook(capture(i, "cross"), with_kwargs=True))
    try:
        _, self_w, cross_w = model.decode_step(tokens, memory, mask, return_attention=True)
    finally:
        for h in handles:
            h.remove()

    def np32(x: torch.Tensor) -> np.ndarray:
        return x[0].detach().cpu().numpy().astype(np.float32)

    n = len(self_w)
    return ([np32(w) for w in self_w], [np32(w) for w in cross_w],
            [np32(values[(i, "self")]) for i in range(n)], [np32(values[(i, "cross")]) for i in range(n)])


def _decode_and_record(model, memory, mask, bos: int, max_length: int, options, tgt_vocab,
                       target: Sequence[str] | None):
    """Search (or force) the output with the model's :class:`~signstudio.decoding.DecodingOptions`
    (beam, length penalty, n-gram blocking), then record it; returns (tokens, decoder_inputs, arrays, how)."""
    from signstudio.decoding import beam_search
    from signstudio.models.incremental import TorchPrefixDecoder

    if target is not None:
        ids = tgt_vocab.encode(list(target))
        how = "forced"
    else:
        ids = beam_search(TorchPrefixDecoder(model, memory, mask), 1, max_length, options.beam_size,
                          options.length_penalty, bos=bos, no_repeat_ngram=options.no_repeat_ngram)[0]
        how = f"attention decoder over the whole input at once, {options.search()}"
    # Beam search always ends its hypotheses with </s> (forced at max_length), so every record
    # has a last row: the step that produced </s>.
    inputs = [bos] + list(ids)
    arrays = _teacher_forced(model, memory, mask, inputs)
    out_ids = list(ids) + [tgt_vocab.eos_index]
    itos = tgt_vocab.itos
    return [itos[i] for i in out_ids], [itos[i] for i in inputs], arrays, how


@torch.no_grad()
def record_attention(loaded, inputs, target: Sequence[str] | None = None, input_name: str = "") -> AttentionRecord:
    """Record every attention map of one run of an encoder-decoder model.

    Args:
        loaded: a :class:`signstudio.runtime.checkpoint.LoadedModel` of type ``"signformer"``
            (with a translation decoder) or ``"text-transformer"``.
        inputs: for a Signformer, ``(T, F)`` frame features at
            :data:`~signstudio.pose.features.FEATURE_FPS` (from
            :func:`signstudio.pose.features.track_features`); for a text model, the source tokens
            (words for text-to-gloss, glosses for gloss-to-text; the language tag is added when
            the model needs it).
        target: force this output (tokens, without ``<s>``/``</s>``) instead of searching it,
            e.g. the reference glosses; the record's ``decoding`` is then ``"forced"``.
        input_name: stored as the record's ``input``.

    Returns:
        The :class:`AttentionRecord`. Without ``target`` the output is the decoder's beam-search
        output with the checkpoint's decoding options (for BOSTON-104's Signformer this is the
        attention decoder, not the CTC + LM output that ``signstudio translate`` prints).

    Raises:
        ModelError: a model type with no encoder-decoder attention, or a Signformer without a
            translation decoder (CTC only). InputError: features of the wrong shape or an empty input.
    """
    model = loaded.model
    model.eval()
    if loaded.model_type == "signformer":
        if not getattr(model, "has_decoder", False) or loaded.text_vocab is None:
            raise ModelError(f"model {loaded.name!r} has no translation decoder (CTC only): "
                             "there is no cross-attention to record")
        feats = np.asarray(inputs, dtype=np.float32)
        want = model.config.input_dim
        if feats.ndim != 2 or feats.shape[1] != want or feats.shape[0] == 0:
            raise InputError(f"features must have shape (T>0, {want}), got {feats.shape}")
        x = torch.from_numpy(feats)[None]
        memory, mask, enc = model.encode(x, torch.tensor([len(feats)]), return_attention=True)
        tokens, dec_in, arrays, how = _decode_and_record(
            model, memory, mask, loaded.text_vocab.bos_index, model.config.max_output_length,
            loaded.decoding, loaded.text_vocab, target)
        t = feats.shape[0]
        frame_times, fps, source = np.arange(t, dtype=np.float64) / FEATURE_FPS, FEATURE_FPS, []
    elif loaded.model_type == "text-transformer":
        from signstudio.runtime.text import TextTranslator

        tr = TextTranslator(loaded)
        source = tr.source_tokens(inputs) if len(inputs) else []
        if not source:
            raise InputError("nothing to record: the input has no tokens")
        src = torch.tensor([tr.src_vocab.encode(source)], dtype=torch.long)
        memory, mask, enc = model.encode(src, torch.tensor([len(source)]), return_attention=True)
        max_len = min(model.config.max_output_length, len(source) * 2 + 10)  # as translate_tokens
        tokens, dec_in, arrays, how = _decode_and_record(
            model, memory, mask, tr.bos, max_len, tr.decoding, tr.tgt_vocab, target)
        frame_times, fps = None, 0.0
    else:
        raise ModelError(f"model {loaded.name!r} is a {loaded.model_type} model; attention can be recorded for "
                         f"{', '.join(SUPPORTED_TYPES)} models")
    self_w, cross_w, self_v, cross_v = arrays
    record = AttentionRecord(
        model=loaded.name, model_type=loaded.model_type, input=input_name, tokens=tokens, decoder_inputs=dec_in,
        encoder_self=[w[0].cpu().numpy().astype(np.float32) for w in enc], decoder_self=self_w, cross=cross_w,
        decoder_self_values=self_v, cross_values=cross_v, frame_times=frame_times, fps=fps,
        source_tokens=source, decoding=how)
    record.validate()
    return record


#: Longest clip whose attention is recorded (seconds): the maps hold every frame against every frame.
MAX_ATTENTION_SECONDS = 120.0


def record_clip(loaded, clip, target: Sequence[str] | None = None) -> AttentionRecord:
    """Record a sign-to-text model's attention on a :class:`~signstudio.runtime.clip.Clip`.

    Raises:
        ModelError: a model without a translation decoder, or one whose features this version
            cannot compute. InputError: a pose the features cannot be computed from, or one longer
            than :data:`MAX_ATTENTION_SECONDS`.
    """
    from signstudio.runtime.clip import clip_features

    check_recordable(loaded)
    fps = float(clip.pose.body.fps)
    seconds = len(clip.pose.body.data) / fps if fps > 0 else 0.0
    if seconds > MAX_ATTENTION_SECONDS:
        raise InputError(f"the clip is {seconds:.0f} s long; attention is recorded over at most "
                         f"{MAX_ATTENTION_SECONDS:.0f} s (every frame against every frame): cut it into sentences")
    return record_attention(loaded, clip_features(clip.pose, loaded.features), target, str(clip.path))


def record_text(loaded, text: str, target: Sequence[str] | None = None, input_name: str = "") -> AttentionRecord:
    """Record a text model's attention on one sentence (words for text-to-gloss, space-separated
    glosses for gloss-to-text).

    Raises:
        InputError: an empty text, or more than ``MAX_INPUT_TOKENS`` tokens. ModelError: not a
            text model.
    """
    from signstudio.runtime.text import TextTranslator

    from signstudio.runtime.text import MAX_INPUT_TOKENS

    tokens = TextTranslator(loaded).split(text)
    if not tokens:
        raise InputError(f"{input_name or 'the text'}: the text is empty")
    if len(tokens) > MAX_INPUT_TOKENS:
        raise InputError(f"{input_name or 'the text'}: too long: {len(tokens)} tokens (the limit is "
                         f"{MAX_INPUT_TOKENS}); record one sentence")
    return record_attention(loaded, tokens, target, input_name or text)


def record_file(path: str | Path, model_name: str | None = None, target: Sequence[str] | None = None,
                task: TaskHandle | None = None) -> AttentionRecord:
    """Record a model's attention on a file: what ``signstudio attention INPUT --model M`` runs.

    Args:
        path: a video or `.pose` file for a sign-to-text model (a video for a video model); a UTF-8 text file (one sentence:
            words for text-to-gloss, space-separated glosses for gloss-to-text) for a text model.
        model_name: an installed model's name or a checkpoint path (None: the default model), or
            an already loaded :class:`~signstudio.runtime.checkpoint.LoadedModel`.
        target: force this output instead of searching it (see :func:`record_attention`).
        task: progress and cancellation for pose extraction from a video.

    Raises:
        ModelError: unknown model or one without encoder-decoder attention, or features it cannot use.
        InputError, NoSignerError, Cancelled: as :func:`signstudio.runtime.clip.read_clip`; an
        empty text file.
    """
    from signstudio.files import check_input_file
    from signstudio.runtime.clip import read_clip
    from signstudio.runtime.installed import load_installed

    loaded = model_name if hasattr(model_name, "model_type") else load_installed(model_name)
    check_recordable(loaded)
    if loaded.model_type == "spatiotemporal":
        from signstudio.interpret.spatial import record_video

        return record_video(loaded, check_input_file(path, "video"), target, task)
    if loaded.model_type == "spamo":
        from signstudio.interpret.spamo import record_spamo

        if target is not None:
            raise InputError("--target: a SpaMo model's output is generated; record it without --target")
        return record_spamo(loaded, check_input_file(path, "video"), task)
    if loaded.model_type == "text-transformer":
        return record_text(loaded, read_text_file(path), target, str(path))
    return record_clip(loaded, read_clip(path, task), target)
