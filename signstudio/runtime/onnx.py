"""Installed models run by onnxruntime, without PyTorch (issue 12).

``signstudio export MODEL`` (:mod:`signstudio.export.onnx`) writes a model's ONNX graphs into a
folder beside its checkpoint, ``onnx/`` (``onnx-int8/`` when quantised), with a sidecar
``export.json``: the graphs with their input and output names, the opset, the checkpoint's
SHA-256 and size (a checkpoint changed since is a stale export), and everything the runtime needs
that the checkpoint holds: name, model type, feature spec, metrics, decoding options, vocabularies.

This module reads such a folder (:func:`find_export`, :class:`OnnxModel`) and runs its graphs.
It imports neither torch nor the training code: ``translate``, ``live`` and ``evaluate`` of a
landmark recogniser run on onnxruntime alone.

The recogniser graph (``recognizer.onnx``): inputs ``features`` ``(B, T, F)`` float32 and
``lengths`` ``(B,)`` int64 (real frames of each row); outputs ``logits`` ``(B, C)`` (the
classification head) and, for a CTC recogniser, ``ctc_log_probs`` ``(B, T, C + 1)`` (index 0 the
blank). ``T`` and ``B`` are dynamic.

The Signformer graphs (Signformer and SignAttention): ``encoder.onnx``, inputs ``features``
``(B, T, F)`` float32 and ``lengths`` ``(B,)`` int64, outputs ``memory`` ``(B, T, D)``,
``memory_mask`` ``(B, T)`` bool (True on real frames) and, with a CTC head, ``gloss_log_probs``
``(B, T, G)`` (index 0 the blank); ``decoder_step.onnx`` (models with a translation decoder),
inputs ``tokens`` ``(B, L)`` int64 (the prefix, starting with ``<s>``), ``memory`` and
``memory_mask``, output ``log_probs`` ``(B, V)`` of the token after the prefix. The prefix is
recomputed at every step (no key/value cache). :class:`OnnxSignformer` runs them; the searches
(CTC best path, prefix beam search with the gloss LM, the decoder's beam search) stay those of
:mod:`signstudio.runtime.sign2text`, shared with PyTorch.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from signstudio.errors import ModelError

#: Sidecar format.
FORMAT = "signstudio-onnx"
VERSION = 1
#: Folder names of an export beside the checkpoint, by precision.
EXPORT_FOLDERS = {"fp32": "onnx", "int8": "onnx-int8"}
#: The sidecar's file name.
SIDECAR = "export.json"
#: Backends a user can ask for: "onnx" is the INT8 export where there is one, else fp32.
BACKENDS = ("auto", "onnx", "onnx-fp32", "onnx-int8", "torch")
#: Model types :mod:`signstudio.export.onnx` can export (the others always run in PyTorch).
EXPORTABLE = ("recognizer", "signformer")


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file (read in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def export_folder(checkpoint: str | os.PathLike, precision: str = "fp32") -> Path:
    """The folder an export of ``checkpoint`` (``.../model.pt``) goes to by default."""
    return Path(checkpoint).parent / EXPORT_FOLDERS[precision]


@dataclass
class OnnxModel:
    """An exported model: what :class:`~signstudio.runtime.checkpoint.LoadedModel` offers the
    runtime (name, features, metrics, decoding), with onnxruntime sessions instead of a module.

    Attributes:
        folder: the export folder; ``sidecar`` its parsed ``export.json``.
        precision: ``"fp32"`` or ``"int8"``.
    """

    folder: Path
    sidecar: dict[str, Any]
    precision: str = "fp32"
    threads: int = 0  # onnxruntime intra-op threads; 0: $SIGNSTUDIO_ONNX_THREADS, else up to 2
    _sessions: dict[str, Any] = field(default_factory=dict, repr=False)

    backend = "onnx"

    @property
    def name(self) -> str:
        return str(self.sidecar["name"])

    @property
    def model_type(self) -> str:
        return str(self.sidecar["model_type"])

    @property
    def task(self) -> str:
        """What the model does (:data:`signstudio.runtime.installed.TASKS`), recorded at export."""
        return str(self.sidecar.get("task") or "sign-to-text")

    @property
    def features(self) -> dict[str, Any]:
        return dict(self.sidecar.get("features") or {})

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self.sidecar.get("metrics") or {})

    @property
    def config(self) -> dict[str, Any]:
        """The experiment config the model was trained with (its data folder, for evaluate)."""
        return dict(self.sidecar.get("config") or {})

    @property
    def path(self) -> Path:
        """The checkpoint the export was made from."""
        return self.folder.parent / str(self.sidecar["checkpoint"]["file"])

    def graph_spec(self, graph: str) -> dict[str, Any]:
        """The sidecar's entry of ``graph`` (file, inputs, outputs). Raises ModelError if absent."""
        graphs = self.sidecar.get("graphs") or {}
        if graph not in graphs:
            raise ModelError(f"{self.folder}: the export has no {graph!r} graph (has: {', '.join(graphs) or 'none'})")
        return graphs[graph]

    def session(self, graph: str):
        """The onnxruntime session of ``graph`` (made once). Intra-op threads: :attr:`threads`, else
        ``$SIGNSTUDIO_ONNX_THREADS``, else two where the machine has them (a 200-frame clip of
        wlasl100-continuous: 13.7 ms on one thread, 9.4 ms on two, on the 2-core test machine).

        Raises:
            ModelError: the graph's file is missing or not a readable ONNX model.
        """
        if graph not in self._sessions:
            import onnxruntime as ort

            spec = self.graph_spec(graph)
            path = self.folder / spec["file"]
            options = ort.SessionOptions()
            threads = self.threads or int(os.environ.get("SIGNSTUDIO_ONNX_THREADS", "0") or 0) or min(2, os.cpu_count() or 1)
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3  # errors only: no wall of onnxruntime log lines
            try:
                self._sessions[graph] = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf/NoSuchFile kinds
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ModelError(f"{path}: not a readable ONNX model ({reason[:160]})") from None
        return self._sessions[graph]

    def run(self, graph: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run ``graph`` on ``inputs``; ``{output name: array}``."""
        session = self.session(graph)
        names = [o.name for o in session.get_outputs()]
        return dict(zip(names, session.run(names, inputs)))


def read_sidecar(folder: str | os.PathLike) -> dict[str, Any]:
    """The parsed ``export.json`` of an export folder.

    Raises:
        ModelError: missing, unreadable or foreign sidecar.
    """
    path = Path(folder) / SIDECAR
    try:
        sidecar = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{folder}: no ONNX export here (no {SIDECAR}); run `signstudio export`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: not a readable export description ({type(exc).__name__})") from None
    if not isinstance(sidecar, dict) or sidecar.get("format") != FORMAT:
        raise ModelError(f"{path}: not a SignStudio ONNX export")
    if sidecar.get("version") != VERSION:
        raise ModelError(f"{path}: export version {sidecar.get('version')} is not supported (expected {VERSION})")
    return sidecar


def stale_reason(folder: str | os.PathLike, checkpoint: str | os.PathLike) -> str:
    """Why the export in ``folder`` does not match ``checkpoint`` ("" if it does): the checkpoint
    changed since (size, then SHA-256), or the sidecar is unreadable."""
    try:
        sidecar = read_sidecar(folder)
    except ModelError as exc:
        return str(exc)
    recorded = sidecar.get("checkpoint") or {}
    try:
        size = Path(checkpoint).stat().st_size
    except OSError:
        return f"{checkpoint}: the checkpoint is missing"
    if recorded.get("size") != size or recorded.get("sha256") != file_sha256(checkpoint):
        return f"the checkpoint {checkpoint} changed since it was exported; run `signstudio export` again"
    return ""


def find_export(checkpoint: str | os.PathLike, precision: str | None = None) -> tuple[OnnxModel | None, str]:
    """The up-to-date export of ``checkpoint``, or ``(None, why not)``.

    Args:
        precision: "fp32" or "int8"; None: the INT8 export where there is one (it is made the
            default only for models whose metrics it keeps, see the model cards), else fp32.

    Returns:
        ``(model, "")`` or ``(None, reason)``: no export, a stale one, or an unreadable sidecar.
    """
    if precision is None:
        precision = "int8" if (export_folder(checkpoint, "int8") / SIDECAR).is_file() else "fp32"
    folder = export_folder(checkpoint, precision)
    if not (folder / SIDECAR).is_file():
        return None, f"no ONNX export of {checkpoint} (run `signstudio export`)"
    reason = stale_reason(folder, checkpoint)
    if reason:
        return None, reason
    return OnnxModel(folder, read_sidecar(folder), precision), ""


class OnnxRecognizerNet:
    """A landmark recogniser's graph in onnxruntime, with the face of
    :class:`~signstudio.runtime.nets.TorchRecognizerNet`."""

    def __init__(self, model: OnnxModel) -> None:
        self.model = model
        spec = model.graph_spec("recognizer")
        self.has_ctc = "ctc_log_probs" in spec["outputs"]
        self.num_classes = len(model.features.get("classes") or ())

    def _run(self, features: np.ndarray, lengths: np.ndarray) -> dict[str, np.ndarray]:
        return self.model.run("recognizer", {"features": np.ascontiguousarray(features, dtype=np.float32),
                                             "lengths": np.asarray(lengths, dtype=np.int64)})

    def logits(self, features: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Class logits ``(B, C)`` of ``(B, T, F)`` features with ``(B,)`` lengths."""
        return self._run(features, lengths)["logits"]

    def ctc_log_probs(self, features: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """CTC log-probabilities ``(B, T, C + 1)``. Raises ModelError without a CTC head."""
        if not self.has_ctc:
            raise ModelError(f"model {self.model.name!r} has no CTC head")
        return self._run(features, lengths)["ctc_log_probs"]


class OnnxSignformer:
    """A Signformer-family export (:data:`EXPORTABLE` "signformer") in onnxruntime: NumPy in, NumPy
    out, the encoder and decoder step of :class:`~signstudio.models.signformer.Signformer`.

    Attributes:
        has_ctc: the encoder gives CTC gloss log-probabilities; has_decoder: there is a
            ``decoder_step`` graph; max_output_length: the model's longest translation, in tokens.
    """

    def __init__(self, model: OnnxModel) -> None:
        self.model = model
        self.has_ctc = "gloss_log_probs" in model.graph_spec("encoder")["outputs"]
        self.has_decoder = "decoder_step" in (model.sidecar.get("graphs") or {})
        self.max_output_length = int((model.sidecar.get("model_config") or {}).get("max_output_length", 40))

    def encode(self, features: np.ndarray, lengths: np.ndarray) -> dict[str, np.ndarray]:
        """``{"memory" (B, T, D), "memory_mask" (B, T) bool[, "gloss_log_probs" (B, T, G)]}`` of
        ``(B, T, F)`` features with ``(B,)`` lengths."""
        return self.model.run("encoder", {"features": np.ascontiguousarray(features, dtype=np.float32),
                                          "lengths": np.ascontiguousarray(lengths, dtype=np.int64)})

    def decode_step(self, tokens: np.ndarray, memory: np.ndarray, memory_mask: np.ndarray) -> np.ndarray:
        """Log-probabilities ``(B, V)`` of the token after each ``(B, L)`` prefix.

        Raises:
            ModelError: the model has no translation decoder.
        """
        if not self.has_decoder:
            raise ModelError(f"model {self.model.name!r} has no translation decoder")
        return self.model.run("decoder_step", {
            "tokens": np.ascontiguousarray(tokens, dtype=np.int64),
            "memory": np.ascontiguousarray(memory, dtype=np.float32),
            "memory_mask": np.ascontiguousarray(memory_mask, dtype=np.bool_)})["log_probs"]
