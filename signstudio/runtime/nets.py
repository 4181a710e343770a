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


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis`` (float32 in, float32 out)."""
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)
