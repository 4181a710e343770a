"""One face for a landmark recogniser's network, whichever backend runs it.

:class:`TorchRecognizerNet` (the checkpoint's ``nn.Module``) and
:class:`~signstudio.runtime.onnx.OnnxRecognizerNet` (its ONNX export in onnxruntime) take and
give NumPy arrays, so the recogniser (:mod:`signstudio.runtime.recognize`) and the live stream
(:mod:`signstudio.runtime.stream`) do not know which one runs: :func:`recognizer_net` picks it.
PyTorch is imported only by the torch one.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def pad_batch(features: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(B, T_max, F)`` zero-padded float32 array and ``(B,)`` int64 lengths of ``(T_i, F)`` arrays."""
    lengths = np.array([len(f) for f in features], dtype=np.int64)
    out = np.zeros((len(features), int(lengths.max()), features[0].shape[1]), dtype=np.float32)
    for i, f in enumerate(features):
        out[i, : len(f)] = f
    return out, lengths


class TorchRecognizerNet:
    """A :class:`~signstudio.models.recognizer.SignRecognizer` in eager PyTorch (no gradients)."""

    def __init__(self, model: Any) -> None:
        self.model = model.eval()
        self.has_ctc = getattr(model, "ctc_head", None) is not None
        self.num_classes = int(model.config.num_classes)

    def _inputs(self, features: np.ndarray, lengths: np.ndarray):
        import torch

        device = next(self.model.parameters()).device
        return torch.from_numpy(features).to(device), torch.from_numpy(lengths).to(device)

    def logits(self, features: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Class logits ``(B, C)`` of ``(B, T, F)`` features with ``(B,)`` lengths."""
        import torch

        with torch.no_grad():
            memory, mask = self.model.encode(*self._inputs(features, lengths))
            return self.model.classify(memory, mask).cpu().numpy()

    def ctc_log_probs(self, features: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """CTC log-probabilities ``(B, T, C + 1)`` (index 0 the blank).

        Raises:
            RuntimeError: the model has no CTC head.
        """
        import torch

        with torch.no_grad():
            memory, _ = self.model.encode(*self._inputs(features, lengths))
            return self.model.ctc_log_probs(memory).cpu().numpy()


def recognizer_net(loaded: Any):
    """The network of a loaded recogniser: its ONNX graph for an
    :class:`~signstudio.runtime.onnx.OnnxModel`, else its PyTorch module."""
    if getattr(loaded, "backend", "torch") == "onnx":
        from signstudio.runtime.onnx import OnnxRecognizerNet

        return OnnxRecognizerNet(loaded)
    return TorchRecognizerNet(loaded.model)


class TorchSignformerNet:
    """A :class:`~signstudio.models.signformer.Signformer` (or SignAttention) in eager PyTorch,
    with the face of :class:`~signstudio.runtime.onnx.OnnxSignformer`: NumPy in and out of
    :meth:`encode`, and :meth:`decoder` the reference step decoder
    (:class:`~signstudio.models.incremental.TorchPrefixDecoder`), as the cards were measured."""

    is_signformer_net = True

    def __init__(self, model: Any) -> None:
        self.model = model.eval()
        self.has_ctc = model.gloss_head is not None
        self.has_decoder = bool(model.has_decoder)
        self.max_output_length = int(model.config.max_output_length)

    def encode(self, features: np.ndarray, lengths: np.ndarray) -> dict[str, Any]:
        """``{"memory_mask" (B, T) bool[, "gloss_log_probs" (B, T, G)], "memory" (B, T, D) tensor}``
        of ``(B, T, F)`` float32 features with ``(B,)`` lengths."""
        import torch

        device = next(self.model.parameters()).device
        with torch.no_grad():
            memory, mask = self.model.encode(torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32)).to(device),
                                             torch.from_numpy(np.asarray(lengths, dtype=np.int64)).to(device))
            out = {"memory": memory, "mask_tensor": mask, "memory_mask": mask.cpu().numpy()}
            if self.has_ctc:
                out["gloss_log_probs"] = self.model.gloss_log_probs(memory).cpu().numpy()
        return out

    def decoder(self, encoded: dict[str, Any]):
        """The :class:`~signstudio.decoding.StepDecoder` over the clips of ``encoded``."""
        from signstudio.models.incremental import TorchPrefixDecoder

        return TorchPrefixDecoder(self.model, encoded["memory"], encoded["mask_tensor"])


def signformer_net(model: Any):
    """``model`` as a Signformer-family network with NumPy inputs: a PyTorch module is wrapped in
    :class:`TorchSignformerNet`; a network (:class:`TorchSignformerNet`,
    :class:`~signstudio.runtime.onnx.OnnxSignformer`) is returned as it is."""
    if getattr(model, "is_signformer_net", False):
        return model
    return TorchSignformerNet(model)


class TorchTextNet:
    """A :class:`~signstudio.models.seq2seq.TextTransformer` in eager PyTorch with the face of
    :class:`~signstudio.runtime.onnx.OnnxTextNet`: NumPy token ids into :meth:`encode`, and
    :meth:`decoder` the reference step decoder (the whole prefix each step, as the cards were
    measured). ``loaded`` is a :class:`~signstudio.runtime.checkpoint.LoadedModel`, or the bare
    module (during training: no vocabularies then)."""

    is_text_net = True

    def __init__(self, loaded: Any) -> None:
        from signstudio.decoding import DecodingOptions

        self.model = getattr(loaded, "model", loaded).eval()
        self.gloss_vocab = getattr(loaded, "gloss_vocab", None)
        self.text_vocab = getattr(loaded, "text_vocab", None)
        self.decoding = getattr(loaded, "decoding", None) or DecodingOptions()
        self.max_output_length = int(self.model.config.max_output_length)

    def encode(self, src: np.ndarray, lengths: np.ndarray) -> dict[str, Any]:
        """``{"memory" (B, S, D), "mask" (B, S)}`` tensors of ``(B, S)`` int64 ids with ``(B,)`` lengths."""
        import torch

        device = next(self.model.parameters()).device
        with torch.no_grad():
            memory, mask = self.model.encode(torch.from_numpy(np.asarray(src, dtype=np.int64)).to(device),
                                             torch.from_numpy(np.asarray(lengths, dtype=np.int64)).to(device))
        return {"memory": memory, "mask": mask}

    def decoder(self, encoded: dict[str, Any]):
        """The :class:`~signstudio.decoding.StepDecoder` over the sentences of ``encoded``."""
        from signstudio.models.incremental import TorchPrefixDecoder

        return TorchPrefixDecoder(self.model, encoded["memory"], encoded["mask"])


def text_net(loaded: Any):
    """The network of a text-to-gloss or gloss-to-text model: :class:`~signstudio.runtime.onnx.OnnxTextNet`
    for an :class:`~signstudio.runtime.onnx.OnnxModel`, :class:`TorchTextNet` for a loaded
    checkpoint or a bare module; a network is returned as it is."""
    if getattr(loaded, "is_text_net", False):
        return loaded
    if getattr(loaded, "backend", "torch") == "onnx":
        from signstudio.runtime.onnx import OnnxTextNet

        return OnnxTextNet(loaded)
    return TorchTextNet(loaded)


class TorchPoseNet:
    """A :class:`~signstudio.models.signllm.SignLLM` in eager PyTorch, with the face of
    :class:`~signstudio.runtime.onnx.OnnxSignLLM` (``loaded``: a
    :class:`~signstudio.runtime.checkpoint.LoadedModel`)."""

    is_pose_net = True
    backend = "torch"

    def __init__(self, loaded: Any) -> None:
        self.model = loaded.model.eval()
        self.vocab = loaded.gloss_vocab
        c = self.model.config
        self.languages = tuple(c.languages)
        self.max_frames, self.stop_threshold = int(c.max_frames), float(c.stop_threshold)

    def generate(self, ids: np.ndarray, language: str, max_frames: int, use_cache: bool = True):
        """Counter decoding of one sentence of ``(U,)`` tagged gloss ids (language tag first).

        Returns:
            ``(frames (T, J, 3) float32 in skeleton units, counter (T,), cross_attention (T, U):
            the last decoder layer's, mean over heads)``, ``T`` up to the first frame whose counter
            reaches the stop threshold, at most ``max_frames``.
        """
        import torch

        gen = self.model.generate(torch.from_numpy(np.asarray(ids, dtype=np.int64))[None],
                                  torch.tensor([len(ids)]), language, max_frames=max_frames,
                                  use_cache=use_cache, return_attention=True)
        n = int(gen.lengths[0])
        return (gen.frames[0, :n].numpy().astype(np.float32), gen.counter[0, :n].numpy().astype(np.float32),
                gen.cross_attention[0, :n].numpy())


def pose_net(loaded: Any):
    """The network of a gloss-to-pose model: :class:`~signstudio.runtime.onnx.OnnxSignLLM` for an
    :class:`~signstudio.runtime.onnx.OnnxModel`, else :class:`TorchPoseNet`."""
    if getattr(loaded, "backend", "torch") == "onnx":
        from signstudio.runtime.onnx import OnnxSignLLM

        return OnnxSignLLM(loaded)
    return TorchPoseNet(loaded)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis`` (float32 in, float32 out)."""
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)
