"""``signstudio export``: a checkpoint's networks as ONNX graphs, with the sidecar the runtime
reads (:mod:`signstudio.runtime.onnx`), optionally quantised to INT8.

Graphs are made by ``torch.onnx.export`` (the dynamo exporter, opset 18) with dynamic batch and
time axes, then checked: each graph is run by onnxruntime on an input of another length than the
one it was exported with and compared with PyTorch (largest absolute difference ≤
:data:`TOLERANCE`), so an export that baked a length into a reshape (DESIGN.md's pitfall) is
refused instead of written. INT8 is onnxruntime's dynamic quantisation (weights of MatMul/Gemm
per channel in uint8, activations quantised to uint8 at run time: U8U8, see :func:`_quantize`);
its graphs are compared too, and the largest difference is recorded in the sidecar, not enforced.

Families (every registered one; the graphs are described in :mod:`signstudio.runtime.onnx`):
landmark recognisers (``recognizer.onnx``); Signformer and SignAttention, and the text-to-gloss /
gloss-to-text transformers (``encoder.onnx`` and ``decoder_step.onnx``, a decoder step with a
key/value cache, :class:`~signstudio.models.incremental.DecoderStepGraph`); SignLLM
(:mod:`signstudio.export.signllm`: an encoder and a counter-decoding step per group); the
spatio-temporal video model (:mod:`signstudio.export.video`: its frozen backbone and the model to
the decoder's first word). A decoder
step is checked on its first step (an empty cache) and on a longer cache than it was exported
with.

Every file is written into a temporary folder beside the target, which then replaces the target
folder: a failed export leaves the previous one as it was.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import shutil
import tempfile
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import numpy as np
import torch

from signstudio.errors import ModelError, SignStudioError
from signstudio.export.signllm import signllm_graphs
from signstudio.export.video import video_graphs
from signstudio.models.incremental import DecoderStepGraph, cross_cache
from signstudio.runtime.checkpoint import LoadedModel, load_model, read_metadata
from signstudio.runtime.installed import model_task, resolve_model
from signstudio.runtime.onnx import (EXPORT_FOLDERS, EXPORTABLE, FORMAT, SIDECAR, VERSION, OnnxModel,
                                     export_folder, file_sha256)

#: ONNX opset of every graph.
OPSET = 18
#: Largest absolute difference allowed between PyTorch and onnxruntime (fp32) on the check input.
TOLERANCE = 1e-4


class _RecognizerGraph(torch.nn.Module):
    """``(features (B, T, F), lengths (B,))`` -> ``(logits (B, C)[, ctc_log_probs (B, T, C + 1)])``."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, features: torch.Tensor, lengths: torch.Tensor):
        memory, mask = self.model.encode(features, lengths)
        logits = self.model.classify(memory, mask)
        if self.model.ctc_head is None:
            return logits
        return logits, self.model.ctc_log_probs(memory)


def _recognizer_graphs(loaded: LoadedModel) -> dict[str, dict[str, Any]]:
    model = loaded.model
    dim = int(model.config.input_dim)
    outputs = ["logits"] + (["ctc_log_probs"] if model.ctc_head is not None else [])

    def example(batch: int, frames: int) -> tuple[torch.Tensor, ...]:
        g = torch.Generator().manual_seed(frames)
        lengths = torch.tensor([frames] + [max(2, frames - 7 * i) for i in range(1, batch)])
        return torch.randn(batch, frames, dim, generator=g), lengths

    return {"recognizer": {"module": _RecognizerGraph(model), "inputs": ["features", "lengths"],
                           "outputs": outputs, "example": example(2, 96), "checks": [example(3, 157)],
                           "dynamic": {"features": {0: "B", 1: "T"}, "lengths": {0: "B"}}}}


class _SignformerEncoder(torch.nn.Module):
    """``(features (B, T, F), lengths (B,))`` -> ``(memory_mask (B, T) bool[, gloss_log_probs
    (B, T, G)][, cross_k, cross_v (L, B, H, T, Dh)])``: :meth:`Signformer.encode`, the CTC gloss
    log-probabilities of its memory (with a CTC head) and the decoder's cross-attention keys and
    values of it (with a decoder; :func:`~signstudio.models.incremental.cross_cache`)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, features: torch.Tensor, lengths: torch.Tensor):
        memory, mask = self.model.encode(features, lengths)
        out = [mask]
        if self.model.gloss_head is not None:
            out.append(self.model.gloss_log_probs(memory))
        if self.model.has_decoder:
            out.extend(cross_cache(self.model.decoder, memory))
        return tuple(out)


class _TextEncoder(torch.nn.Module):
    """``(src (B, S) int64, lengths (B,))`` -> ``(memory_mask (B, S) bool, cross_k, cross_v
    (L, B, H, S, Dh))``: :meth:`TextTransformer.encode` and the decoder's cross-attention keys and
    values of its memory."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, src: torch.Tensor, lengths: torch.Tensor):
        memory, mask = self.model.encode(src, lengths)
        return (mask, *cross_cache(self.model.decoder, memory))


def _frames(batch: int, frames: int, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random ``(batch, frames, dim)`` features and lengths ``frames, frames - 7, ...`` (seeded)."""
    g = torch.Generator().manual_seed(frames)
    lengths = torch.tensor([frames] + [max(2, frames - 7 * i) for i in range(1, batch)])
    return torch.randn(batch, frames, dim, generator=g), lengths


def _step_inputs(model: torch.nn.Module, encoded: tuple[torch.Tensor, ...], rows: int, past: int, vocab: int,
                 seed: int) -> tuple[torch.Tensor, ...]:
    """Inputs of a :class:`DecoderStepGraph`: ``rows`` hypotheses of the first sentence of
    ``encoded = (memory_mask, cross_k, cross_v)``, each with ``past`` cached positions (a real
    prefix of random tokens run through the step)."""
    mask, cross_k, cross_v = encoded
    index = torch.zeros(rows, dtype=torch.long)
    cross_k, cross_v, mask = cross_k[:, index], cross_v[:, index], mask[index]
    graph = DecoderStepGraph(model).eval()
    l, _, h, _, dh = cross_k.shape
    past_k = past_v = torch.zeros(l, rows, h, 0, dh)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in range(past):
            tokens = torch.randint(4, vocab, (rows,), generator=g)
            _, past_k, past_v = graph(tokens, torch.tensor([p]), past_k, past_v, cross_k, cross_v, mask)
    tokens = torch.randint(4, vocab, (rows,), generator=g)
    return tokens, torch.tensor([past]), past_k, past_v, cross_k, cross_v, mask


#: Names and dynamic axes of a decoder-step graph (:class:`DecoderStepGraph`).
STEP_INPUTS = ["tokens", "position", "past_k", "past_v", "cross_k", "cross_v", "memory_mask"]
STEP_OUTPUTS = ["log_probs", "present_k", "present_v"]
STEP_DYNAMIC = {"tokens": {0: "B"}, "past_k": {1: "B", 3: "P"}, "past_v": {1: "B", 3: "P"},
                "cross_k": {1: "B", 3: "T"}, "cross_v": {1: "B", 3: "T"}, "memory_mask": {0: "B", 1: "T"}}


def _decoder_step_spec(model: torch.nn.Module, encode, vocab: int) -> dict[str, Any]:
    """The ``decoder_step`` graph of a token decoder: exported with 2 hypotheses and 5 cached
    positions, checked on 3 hypotheses with 3, and on the first step (no cache)."""
    with torch.no_grad():
        example_enc, check_enc = encode(2, 96), encode(3, 57)
    return {"module": DecoderStepGraph(model), "inputs": STEP_INPUTS, "outputs": STEP_OUTPUTS,
            "example": _step_inputs(model, example_enc, 2, 5, vocab, 5),
            "checks": [_step_inputs(model, check_enc, 3, 3, vocab, 3), _step_inputs(model, check_enc, 3, 0, vocab, 0)],
            "dynamic": STEP_DYNAMIC}


def _signformer_graphs(loaded: LoadedModel) -> dict[str, dict[str, Any]]:
    model = loaded.model.eval()
    c = model.config
    outputs = ["memory_mask"] + (["gloss_log_probs"] if model.gloss_head is not None else []) + (
        ["cross_k", "cross_v"] if model.has_decoder else [])
    encoder = _SignformerEncoder(model)
    graphs = {"encoder": {"module": encoder, "inputs": ["features", "lengths"], "outputs": outputs,
                          "example": _frames(2, 96, int(c.input_dim)), "checks": [_frames(3, 157, int(c.input_dim))],
                          "dynamic": {"features": {0: "B", 1: "T"}, "lengths": {0: "B"}}}}
    if model.has_decoder:
        def encode(batch: int, frames: int) -> tuple[torch.Tensor, ...]:
            out = encoder(*_frames(batch, frames, int(c.input_dim)))
            return out[0], out[-2], out[-1]

        graphs["decoder_step"] = _decoder_step_spec(model, encode, int(c.text_vocab_size))
    return graphs


def _text_graphs(loaded: LoadedModel) -> dict[str, dict[str, Any]]:
    model = loaded.model.eval()
    c = model.config
    encoder = _TextEncoder(model)

    def tokens(batch: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(length)
        lengths = torch.tensor([length] + [max(1, length - 3 * i) for i in range(1, batch)])
        src = torch.randint(4, int(c.src_vocab_size), (batch, length), generator=g)
        return src * (torch.arange(length)[None] < lengths[:, None]), lengths

    return {"encoder": {"module": encoder, "inputs": ["src", "lengths"], "outputs": ["memory_mask", "cross_k", "cross_v"],
                        "example": tokens(2, 12), "checks": [tokens(3, 23)],
                        "dynamic": {"src": {0: "B", 1: "T"}, "lengths": {0: "B"}}},
            "decoder_step": _decoder_step_spec(model, lambda b, t: encoder(*tokens(b, t // 4)), int(c.tgt_vocab_size))}


_FAMILIES = {"recognizer": _recognizer_graphs, "signformer": _signformer_graphs, "text-transformer": _text_graphs,
             "signllm": signllm_graphs, "spatiotemporal": video_graphs}


@dataclasses.dataclass
class ExportResult:
    """What :func:`export_model` wrote: the folder, its graphs (name -> file size in bytes), the
    precision, and the largest PyTorch/onnxruntime difference per graph on the check input."""

    folder: Path
    graphs: dict[str, int]
    precision: str
    max_abs_diff: dict[str, float]


def _quiet_export(module: torch.nn.Module, args: tuple, path: Path, spec: dict[str, Any]) -> None:
    """``torch.onnx.export`` without its progress lines and warnings on the user's terminal."""
    dims = {"B": torch.export.Dim("B", min=1, max=4096), "T": torch.export.Dim("T", min=2, max=100_000),
            "L": torch.export.Dim("L", min=1, max=4096), "P": torch.export.Dim("P", min=1, max=4096)}
    dynamic = {name: {axis: dims[label] for axis, label in spec["dynamic"][name].items()}
               if name in spec["dynamic"] else None for name in spec["inputs"]}
    sink = io.StringIO()
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings(), redirect_stdout(sink), redirect_stderr(sink):
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, str(path), input_names=spec["inputs"], output_names=spec["outputs"],
                          dynamic_shapes=dynamic, opset_version=OPSET, dynamo=True, external_data=False)


def _compare(module: torch.nn.Module, path: Path, spec: dict[str, Any]) -> float:
    """Largest absolute difference between PyTorch and onnxruntime over the check inputs.

    Raises:
        ModelError: onnxruntime gives another shape than PyTorch.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    diff = 0.0
    for args in spec["checks"]:
        with torch.no_grad():
            expected = module(*args)
        expected = expected if isinstance(expected, tuple) else (expected,)
        got = session.run(spec["outputs"], {name: a.numpy() for name, a in zip(spec["inputs"], args)})
        for name, e, g in zip(spec["outputs"], expected, got):
            e = e.numpy().astype(np.float64)  # a mask output is bool
            g = g.astype(np.float64)
            if e.shape != g.shape:
                raise ModelError(f"{path.name}: onnxruntime gives {name} of shape {g.shape} where PyTorch gives "
                                 f"{e.shape} on a size it was not exported with")
            finite = np.isfinite(e)
            diff = max(diff, float(np.abs(e[finite] - g[finite]).max()) if finite.any() else 0.0)
    return diff


def _quantize(source: Path, target: Path) -> None:
    """onnxruntime's dynamic INT8 quantisation of ``source`` into ``target``: weights per channel
    in uint8, activations in uint8 (U8U8).

    Not onnxruntime's default U8S8 (int8 weights): on x86 CPUs with AVX2 but no VNNI, U8S8 runs
    on ``VPMADDUBSW``, whose 16-bit sums saturate (onnxruntime's quantisation guide, "When to use
    reduce_range and different data formats"), and the same file then scores differently from
    machine to machine. boston104-signformer's U8S8 export scored test WER 0.421 on an AVX2-only
    CPU and 0.348 on the machine it was exported on; U8U8 scores PyTorch's 0.348 on the AVX2 one.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    sink = io.StringIO()
    with warnings.catch_warnings(), redirect_stdout(sink), redirect_stderr(sink):
        warnings.simplefilter("ignore")
        logging.getLogger().setLevel(logging.ERROR)
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QUInt8, per_channel=True)


def _sidecar(loaded: LoadedModel, checkpoint: Path, graphs: dict[str, dict[str, Any]], precision: str,
             diffs: dict[str, float]) -> dict[str, Any]:
    vocabs = {}
    for key, vocab in (("gloss", loaded.gloss_vocab), ("text", loaded.text_vocab)):
        if vocab is not None:
            vocabs[key] = list(vocab.itos)
    return {
        "format": FORMAT, "version": VERSION, "name": loaded.name, "model_type": loaded.model_type,
        "task": model_task(loaded.model_type, loaded.features),
        "precision": precision, "opset": OPSET, "torch": torch.__version__,
        "checkpoint": {"file": checkpoint.name, "size": checkpoint.stat().st_size, "sha256": file_sha256(checkpoint)},
        "graphs": {name: {"file": f"{name}.onnx", "inputs": spec["inputs"], "outputs": spec["outputs"],
                          "max_abs_diff": diffs[name]} for name, spec in graphs.items()},
        "features": loaded.features, "metrics": loaded.metrics, "config": loaded.config,
        "metadata": export_metadata_of(checkpoint),
        "decoding": dataclasses.asdict(loaded.decoding), "vocabularies": vocabs,
        "model_config": dataclasses.asdict(loaded.model.config) if dataclasses.is_dataclass(
            getattr(loaded.model, "config", None)) else None,
        "gloss_lm": loaded.gloss_lm.to_dict() if loaded.gloss_lm is not None else None,
    }


def export_metadata_of(checkpoint: Path) -> dict[str, Any]:
    """What a sidecar records of its checkpoint for listing it without PyTorch: its
    :func:`~signstudio.runtime.checkpoint.read_metadata` (without the path) and task."""
    meta = {k: v for k, v in read_metadata(checkpoint).items() if k != "path"}
    return {**meta, "task": model_task(meta["model_type"], meta.get("features") or {})}


def export_model(name_or_path: str | os.PathLike | None, out: str | os.PathLike | None = None,
                 quantize: str | None = None) -> ExportResult:
    """Export an installed model (name or checkpoint path) to ONNX.

    Args:
        out: the folder to write (default: ``onnx/`` beside the checkpoint, ``onnx-int8/`` with
            ``quantize="int8"``); replaced whole when the export succeeds.
        quantize: ``None`` (fp32) or ``"int8"``.

    Raises:
        ModelError: an unknown model, a family that cannot be exported yet, or an fp32 graph that
            differs from PyTorch by more than :data:`TOLERANCE` on another length.
        SignStudioError: ``quantize`` is not ``"int8"``.
    """
    if quantize not in (None, "int8"):
        raise SignStudioError(f"--quantize {quantize!r}: only int8 is supported")
    precision = quantize or "fp32"
    checkpoint = resolve_model(name_or_path)
    loaded = load_model(checkpoint)
    family = _FAMILIES.get(loaded.model_type)
    if family is None:
        raise ModelError(f"model {loaded.name!r} ({loaded.model_type}) cannot be exported to ONNX yet; "
                         f"exportable: {', '.join(EXPORTABLE)}")
    graphs = family(loaded)
    target = Path(out) if out is not None else export_folder(checkpoint, precision)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    os.chmod(work, 0o755)  # mkdtemp makes it private; an export folder is an ordinary one
    try:
        diffs, sizes = {}, {}
        for name, spec in graphs.items():
            module = spec["module"].eval()
            path = work / f"{name}.onnx"
            _quiet_export(module, spec["example"], path, spec)
            diff = _compare(module, path, spec)
            if diff > TOLERANCE:
                raise ModelError(f"the {name} graph of {loaded.name!r} differs from PyTorch by {diff:.2e} "
                                 f"(at most {TOLERANCE:g} allowed): not exported")
            if precision == "int8":
                fp32 = path.with_suffix(".fp32.onnx")
                path.rename(fp32)
                _quantize(fp32, path)
                fp32.unlink()
                diff = _compare(module, path, spec)
            diffs[name], sizes[name] = diff, path.stat().st_size
        sidecar = _sidecar(loaded, checkpoint, graphs, precision, diffs)
        (work / SIDECAR).write_text(json.dumps(sidecar, indent=1, ensure_ascii=False), encoding="utf-8")
        OnnxModel(work, sidecar, precision)  # readable as written
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}-old-{os.getpid()}")
            target.rename(old)
        work.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return ExportResult(target, sizes, precision, diffs)


__all__ = ["EXPORTABLE", "EXPORT_FOLDERS", "ExportResult", "OPSET", "TOLERANCE", "export_model"]
