"""Installed models run by onnxruntime, without PyTorch (issue 12).

``signstudio export MODEL`` (:mod:`signstudio.export.onnx`) writes a model's ONNX graphs into a
folder beside its checkpoint, ``onnx/`` (``onnx-int8/`` when quantised), with a sidecar
``export.json``: the graphs with their input and output names, the opset, the checkpoint's
SHA-256 and size (a checkpoint changed since is a stale export), and everything the runtime needs
that the checkpoint holds: name, model type, feature spec, metrics, decoding options,
vocabularies, the gloss LM, the model config, and the metadata ``signstudio models`` lists.

This module reads such a folder (:func:`find_export`, :class:`OnnxModel`) and runs its graphs.
It imports neither torch nor the training code: ``translate``, ``live``, ``produce`` and
``evaluate`` run on onnxruntime alone. Shapes: ``B`` batch (or hypotheses), ``T`` frames, ``S``
source tokens, ``L`` decoder layers, ``H`` heads, ``P`` cached positions, ``Dh`` head width.

- Landmark recognisers, ``recognizer.onnx``: ``features`` ``(B, T, F)`` float32, ``lengths``
  ``(B,)`` int64 -> ``logits`` ``(B, C)`` and, with a CTC head, ``ctc_log_probs`` ``(B, T, C + 1)``
  (index 0 the blank). :class:`OnnxRecognizerNet`.
- Signformer and SignAttention, ``encoder.onnx``: ``features``, ``lengths`` -> ``memory_mask``
  ``(B, T)`` bool, with a CTC head ``gloss_log_probs`` ``(B, T, G)``, with a decoder the
  cross-attention keys and values of the memory ``cross_k``, ``cross_v`` ``(L, B, H, T, Dh)``.
  :class:`OnnxSignformer`.
- Text-to-gloss and gloss-to-text, ``encoder.onnx``: ``src`` ``(B, S)`` int64, ``lengths`` ->
  ``memory_mask``, ``cross_k``, ``cross_v``. :class:`OnnxTextNet`.
- Both token decoders, ``decoder_step.onnx``: ``tokens`` ``(B,)`` int64 (each hypothesis' last
  token), ``position`` ``(1,)`` int64, ``past_k``, ``past_v`` ``(L, B, H, P, Dh)``, ``cross_k``,
  ``cross_v``, ``memory_mask`` -> ``log_probs`` ``(B, V)`` of the next token, ``present_k``,
  ``present_v`` ``(L, B, H, P + 1, Dh)``: a key/value cache, so a step costs the same at any
  length. :class:`OnnxCachedDecoder` drives it for the searches of :mod:`signstudio.decoding`,
  the same code that drives PyTorch.
- SignLLM, per encoder-decoder group: ``encoder_<group>`` and a counter-decoding
  ``decoder_step_<group>`` with the same cache (:class:`OnnxSignLLM`).
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
VERSION = 2
#: Folder names of an export beside the checkpoint, by precision.
EXPORT_FOLDERS = {"fp32": "onnx", "int8": "onnx-int8"}
#: The sidecar's file name.
SIDECAR = "export.json"
#: Backends a user can ask for: "onnx" is the INT8 export where there is one, else fp32.
BACKENDS = ("auto", "onnx", "onnx-fp32", "onnx-int8", "torch")
#: Model types :mod:`signstudio.export.onnx` can export (the others always run in PyTorch).
EXPORTABLE = ("recognizer", "signformer", "text-transformer", "signllm", "spatiotemporal")


def backend_label(loaded) -> str:
    """What runs a loaded model: ``"torch"``, ``"onnx-fp32"`` or ``"onnx-int8"``."""
    return f"onnx-{loaded.precision}" if getattr(loaded, "backend", "torch") == "onnx" else "torch"


def describe_backend(label: str) -> str:
    """:func:`backend_label` in words, e.g. "onnxruntime (INT8 export)"."""
    return "PyTorch" if label == "torch" else f"onnxruntime ({label.split('-')[1].upper()} export)"


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
        ``$SIGNSTUDIO_ONNX_THREADS``, else two where the machine has them for an encoder (a
        200-frame clip of wlasl100-continuous: 12.1 ms on one thread, 8.5 ms on two, on the 2-core
        test machine) and one for a decoder step, whose small operations lose more to handing work
        between threads than they gain (a 15-word phoenix14t-text2gloss sentence: 8.3 ms on one,
        15.4 ms on two; see ``benchmarks/model_latency.py``).

        Raises:
            ModelError: the graph's file is missing or not a readable ONNX model.
        """
        if graph not in self._sessions:
            import onnxruntime as ort

            spec = self.graph_spec(graph)
            path = self.folder / spec["file"]
            options = ort.SessionOptions()
            threads = self.threads or int(os.environ.get("SIGNSTUDIO_ONNX_THREADS", "0") or 0) or (
                1 if graph.startswith("decoder_step") else min(2, os.cpu_count() or 1))
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


def fresh_exports(checkpoint: str | os.PathLike) -> list[Path]:
    """The export folders of ``checkpoint`` that are up to date with it."""
    folders = [export_folder(checkpoint, p) for p in EXPORT_FOLDERS]
    return [f for f in folders if (f / SIDECAR).is_file() and not stale_reason(f, checkpoint)]


def refresh_exports(checkpoint: str | os.PathLike, folders: list[Path], metrics: dict[str, Any],
                    metadata: dict[str, Any]) -> None:
    """After a rewrite of ``checkpoint`` that kept its weights (new metrics), record its new size
    and SHA-256, metrics and metadata in the sidecars of ``folders`` (from :func:`fresh_exports`
    before the rewrite), each written atomically."""
    from signstudio.atomic import atomic_write

    for folder in folders:
        sidecar = read_sidecar(folder)
        sidecar["checkpoint"].update(size=Path(checkpoint).stat().st_size, sha256=file_sha256(checkpoint))
        sidecar["metrics"] = metrics
        sidecar["metadata"] = {**sidecar.get("metadata", {}), **{k: v for k, v in metadata.items() if k != "path"}}
        with atomic_write(folder / SIDECAR, "w") as f:
            f.write(json.dumps(sidecar, indent=1, ensure_ascii=False))


def export_metadata(checkpoint: str | os.PathLike) -> dict[str, Any] | None:
    """What :func:`~signstudio.runtime.checkpoint.read_metadata` says of ``checkpoint``, from the
    sidecar of its export when the checkpoint's size is the one recorded there (no PyTorch
    needed); None when there is no such export."""
    try:
        size = Path(checkpoint).stat().st_size
    except OSError:
        return None
    for precision in EXPORT_FOLDERS:
        try:
            sidecar = read_sidecar(export_folder(checkpoint, precision))
        except ModelError:
            continue
        if (sidecar.get("checkpoint") or {}).get("size") == size and sidecar.get("metadata"):
            return {**sidecar["metadata"], "path": str(checkpoint)}
    return None


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


class OnnxCachedDecoder:
    """A :class:`~signstudio.decoding.StepDecoder` on an exported ``decoder_step`` graph with a
    key/value cache: a state is ``(rows, past_k, past_v)``, the caches ``(L, n, H, P, Dh)``
    float32 that each step grows by one position.

    Args:
        model: the export. cross_k, cross_v: ``(L, B, H, S, Dh)`` from its encoder graph;
        memory_mask: ``(B, S)`` bool. graph: the step graph's name.
    """

    def __init__(self, model: OnnxModel, cross_k: np.ndarray, cross_v: np.ndarray, memory_mask: np.ndarray,
                 graph: str = "decoder_step") -> None:
        self.model, self.graph = model, graph
        self.cross_k, self.cross_v = cross_k, cross_v
        self.memory_mask = np.ascontiguousarray(memory_mask, dtype=np.bool_)
        self._rows_of: tuple[bytes, tuple[np.ndarray, ...]] | None = None

    def start(self, rows):
        rows = np.asarray(list(rows), dtype=np.int64)
        l, _, h, _, dh = self.cross_k.shape
        empty = np.zeros((l, len(rows), h, 0, dh), dtype=np.float32)
        return rows, empty, empty

    def _memory(self, rows: np.ndarray) -> tuple[np.ndarray, ...]:
        key = rows.tobytes()
        if self._rows_of is None or self._rows_of[0] != key:  # a beam keeps its rows: gather once
            self._rows_of = (key, (np.ascontiguousarray(self.cross_k[:, rows]),
                                   np.ascontiguousarray(self.cross_v[:, rows]),
                                   np.ascontiguousarray(self.memory_mask[rows])))
        return self._rows_of[1]

    def step(self, state, tokens: np.ndarray):
        rows, past_k, past_v = state
        cross_k, cross_v, mask = self._memory(rows)
        out = self.model.run(self.graph, {
            "tokens": np.ascontiguousarray(tokens, dtype=np.int64),
            "position": np.array([past_k.shape[3]], dtype=np.int64),
            "past_k": past_k, "past_v": past_v, "cross_k": cross_k, "cross_v": cross_v, "memory_mask": mask})
        return out["log_probs"], (rows, out["present_k"], out["present_v"])

    def select(self, state, keep: np.ndarray):
        rows, k, v = state
        return rows[keep], np.ascontiguousarray(k[:, keep]), np.ascontiguousarray(v[:, keep])


class OnnxSignformer:
    """A Signformer-family export (:data:`EXPORTABLE` "signformer") in onnxruntime, with the face
    of :class:`~signstudio.runtime.nets.TorchSignformerNet`: NumPy in and out of :meth:`encode`,
    and :meth:`decoder` a cached step decoder (:class:`OnnxCachedDecoder`).

    Attributes:
        has_ctc: the encoder gives CTC gloss log-probabilities; has_decoder: there is a
            ``decoder_step`` graph; max_output_length: the model's longest translation, in tokens.
    """

    is_signformer_net = True

    def __init__(self, model: OnnxModel) -> None:
        self.model = model
        self.has_ctc = "gloss_log_probs" in model.graph_spec("encoder")["outputs"]
        self.has_decoder = "decoder_step" in (model.sidecar.get("graphs") or {})
        self.max_output_length = int((model.sidecar.get("model_config") or {}).get("max_output_length", 40))

    def encode(self, features: np.ndarray, lengths: np.ndarray) -> dict[str, np.ndarray]:
        """``{"memory_mask" (B, T) bool[, "gloss_log_probs" (B, T, G)][, "cross_k", "cross_v"
        (L, B, H, T, Dh)]}`` of ``(B, T, F)`` float32 features with ``(B,)`` lengths."""
        return self.model.run("encoder", {"features": np.ascontiguousarray(features, dtype=np.float32),
                                          "lengths": np.ascontiguousarray(lengths, dtype=np.int64)})

    def decoder(self, encoded: dict[str, np.ndarray]) -> OnnxCachedDecoder:
        """The step decoder over the clips of ``encoded``.

        Raises:
            ModelError: the model has no translation decoder.
        """
        if not self.has_decoder:
            raise ModelError(f"model {self.model.name!r} has no translation decoder")
        return OnnxCachedDecoder(self.model, encoded["cross_k"], encoded["cross_v"], encoded["memory_mask"])


class OnnxTextNet:
    """A text-to-gloss or gloss-to-text export (:data:`EXPORTABLE` "text-transformer") in
    onnxruntime, with the face of :class:`~signstudio.runtime.nets.TorchTextNet`; its
    vocabularies and decoding options come from the sidecar.

    Graphs: ``encoder`` ``(src (B, S) int64, lengths (B,))`` -> ``(memory_mask (B, S) bool,
    cross_k, cross_v (L, B, H, S, Dh))`` and ``decoder_step`` (:class:`OnnxCachedDecoder`).
    """

    is_text_net = True

    def __init__(self, model: OnnxModel) -> None:
        from signstudio.data.vocabulary import Vocabulary
        from signstudio.decoding import DecodingOptions

        self.model = model
        vocabs = model.sidecar.get("vocabularies") or {}
        self.gloss_vocab = Vocabulary(vocabs["gloss"]) if "gloss" in vocabs else None
        self.text_vocab = Vocabulary(vocabs["text"]) if "text" in vocabs else None
        side = model.sidecar.get("decoding")
        self.decoding = DecodingOptions(**side) if side else DecodingOptions()
        self.max_output_length = int((model.sidecar.get("model_config") or {}).get("max_output_length", 60))

    def encode(self, src: np.ndarray, lengths: np.ndarray) -> dict[str, np.ndarray]:
        """The encoder graph's outputs for ``(B, S)`` int64 ids with ``(B,)`` lengths."""
        return self.model.run("encoder", {"src": np.ascontiguousarray(src, dtype=np.int64),
                                          "lengths": np.ascontiguousarray(lengths, dtype=np.int64)})

    def decoder(self, encoded: dict[str, np.ndarray]) -> OnnxCachedDecoder:
        """The step decoder over the sentences of ``encoded``."""
        return OnnxCachedDecoder(self.model, encoded["cross_k"], encoded["cross_v"], encoded["memory_mask"])


class OnnxSignLLM:
    """A SignLLM export (:data:`EXPORTABLE` "signllm") in onnxruntime, with the face of
    :class:`~signstudio.runtime.nets.TorchPoseNet`: counter decoding (Progressive Transformers,
    Saunders et al. 2020, Sec. 3.2) with the ``decoder_step_<group>`` graph and its key/value cache.

    Graphs per encoder-decoder group (MLSF: one per language; Prompt2LangGloss: ``shared``):
    ``encoder_<group>`` ``(glosses (B, U) int64, lengths (B,))`` -> ``(memory_mask, cross_k,
    cross_v)``; ``decoder_step_<group>`` ``(prev_frame (B, J * 3 + 1), position (1,), past_k,
    past_v, cross_k, cross_v, memory_mask)`` -> ``(joints (B, J, 3), counter (B,),
    cross_attention (B, U), present_k, present_v)``.
    """

    is_pose_net = True
    backend = "onnx"

    def __init__(self, model: OnnxModel) -> None:
        from signstudio.data.vocabulary import Vocabulary

        self.model = model
        config = model.sidecar.get("model_config") or {}
        self.vocab = Vocabulary((model.sidecar.get("vocabularies") or {}).get("gloss") or ["<pad>", "<unk>", "<s>", "</s>"])
        self.languages = tuple(config.get("languages") or ())
        self.mlsf = config.get("mode", "mlsf") == "mlsf"
        self.max_frames = int(config.get("max_frames", 300))
        self.stop_threshold = float(config.get("stop_threshold", 0.99))
        self.num_joints = int(config.get("num_joints", 50))

    def generate(self, ids: np.ndarray, language: str, max_frames: int, use_cache: bool = True):
        """As :meth:`TorchPoseNet.generate` (``use_cache`` is always on: the graph has the cache).

        Raises:
            ModelError: a language the model does not produce.
        """
        if language not in self.languages:
            raise ModelError(f"model {self.model.name!r} does not produce {language!r}")
        group = language if self.mlsf else "shared"
        ids = np.asarray(ids, dtype=np.int64)[None]
        enc = self.model.run(f"encoder_{group}", {"glosses": ids, "lengths": np.array([ids.shape[1]], dtype=np.int64)})
        l, _, h, _, dh = enc["cross_k"].shape
        past_k = past_v = np.zeros((l, 1, h, 0, dh), dtype=np.float32)
        prev = np.zeros((1, self.num_joints * 3 + 1), dtype=np.float32)
        frames, counters, attention = [], [], []
        for t in range(max_frames):
            out = self.model.run(f"decoder_step_{group}", {
                "prev_frame": prev, "position": np.array([t], dtype=np.int64), "past_k": past_k, "past_v": past_v,
                "cross_k": enc["cross_k"], "cross_v": enc["cross_v"], "memory_mask": enc["memory_mask"]})
            past_k, past_v = out["present_k"], out["present_v"]
            frames.append(out["joints"][0])
            counters.append(out["counter"][0])
            attention.append(out["cross_attention"][0])
            prev = np.concatenate([out["joints"].reshape(1, -1), out["counter"][:, None]], 1)
            if out["counter"][0] >= self.stop_threshold:
                break
        return (np.stack(frames).astype(np.float32), np.array(counters, dtype=np.float32), np.stack(attention))
