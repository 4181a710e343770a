"""Checkpoints that rebuild their model alone (nanoGPT's checkpoint dict), written atomically.

A model checkpoint (``model.pt``) holds the model type and config, the vocabularies, the feature
specification, the weights, the metrics, the experiment config and how to decode. The resumable
training state (optimiser, scheduler, RNGs) lives beside it in ``train_state.pt``
(:mod:`signstudio.training.resume`) so that shipped models stay small.

Files are read with ``torch.load(weights_only=True)``: plain tensors, numbers and strings, never
pickled objects.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from signstudio.atomic import atomic_write
from signstudio.data.vocabulary import Vocabulary
from signstudio.decoding import DecodingOptions
from signstudio.errors import ModelError
from signstudio.models.registry import build_model, count_parameters
from signstudio.runtime.bundle import ModelBundle
from signstudio.runtime.installed import checkpoint_file

FORMAT = "signstudio-checkpoint"
VERSION = 1


@dataclass
class LoadedModel(ModelBundle):
    """A model rebuilt from a checkpoint, in eval mode, with what it needs to run (the fields of
    :class:`~signstudio.runtime.bundle.ModelBundle`; ``model`` an ``nn.Module``)."""

    @property
    def parameters(self) -> int:
        """Trainable parameters (tied weights counted once)."""
        return count_parameters(self.model)


def save_model(path: str | Path, *, name: str, model_type: str, model: torch.nn.Module,
               gloss_vocab: Vocabulary | None, text_vocab: Vocabulary | None,
               features: dict[str, Any], metrics: dict[str, Any], config: dict[str, Any],
               decoding: DecodingOptions | None = None, gloss_lm=None) -> None:
    """Write a self-contained model checkpoint atomically (temp file, fsync, rename).

    ``decoding`` (:class:`DecodingOptions`) and ``gloss_lm`` (:class:`signstudio.lm.GlossLM`) are
    stored as plain data, and so is the parameter count (read back by :func:`read_metadata`).

    Raises:
        OSError: the folder is not writable (the previous file, if any, is left as it was).
    """
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "name": name,
        "model_type": model_type,
        "model_config": dataclasses.asdict(model.config),
        "parameters": count_parameters(model),
        "vocabularies": {
            "gloss": gloss_vocab.to_list() if gloss_vocab else None,
            "text": text_vocab.to_list() if text_vocab else None,
        },
        "features": dict(features),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "metrics": dict(metrics),
        "config": config,
        "decoding": dataclasses.asdict(decoding) if decoding is not None else None,
        "gloss_lm": gloss_lm.to_dict() if gloss_lm is not None else None,
    }
    with atomic_write(path) as f:
        torch.save(payload, f)


def _read(path: Path, mmap: bool = False) -> dict[str, Any]:
    """The checkpoint dict, validated for format and version (tensors memory-mapped with ``mmap``)."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as exc:  # torch raises many kinds for a truncated or foreign file
        raise ModelError(f"{path}: not a readable SignStudio checkpoint ({type(exc).__name__})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ModelError(f"{path}: not a SignStudio checkpoint")
    if ckpt.get("version") != VERSION:
        raise ModelError(f"{path}: checkpoint version {ckpt.get('version')} is not supported (expected {VERSION})")
    for key in ("name", "model_type", "model_config", "features", "state_dict"):
        if key not in ckpt:
            raise ModelError(f"{path}: the checkpoint has no {key!r}")
    return ckpt


def load_model(path: str | Path) -> LoadedModel:
    """Rebuild a model from a checkpoint file, or a folder holding ``model.pt``.

    Raises:
        ModelError: missing, truncated or foreign file, or weights that do not fit the config.
    """
    path = checkpoint_file(path)
    ckpt = _read(path)
    model = build_model(ckpt["model_type"], dict(ckpt["model_config"]))
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        raise ModelError(f"{path}: weights do not match the model config ({str(exc).splitlines()[0]})") from None
    model.eval()
    from signstudio.lm import GlossLM

    vocabs = ckpt.get("vocabularies") or {}
    return LoadedModel(
        name=ckpt["name"],
        model_type=ckpt["model_type"],
        model=model,
        gloss_vocab=Vocabulary.from_list(vocabs["gloss"]) if vocabs.get("gloss") else None,
        text_vocab=Vocabulary.from_list(vocabs["text"]) if vocabs.get("text") else None,
        features=ckpt["features"],
        metrics=ckpt.get("metrics", {}),
        config=ckpt.get("config", {}),
        path=path,
        decoding=DecodingOptions(**ckpt["decoding"]) if ckpt.get("decoding") else DecodingOptions(),
        gloss_lm=GlossLM.from_dict(ckpt["gloss_lm"]) if ckpt.get("gloss_lm") else None,
    )


def _parameters_of(ckpt: dict[str, Any]) -> int:
    """The stored parameter count; for checkpoints written before it was stored, the count of the
    model built on PyTorch's ``meta`` device (shapes only: no memory, no weights)."""
    if isinstance(ckpt.get("parameters"), int):
        return ckpt["parameters"]
    with torch.device("meta"):
        return count_parameters(build_model(ckpt["model_type"], dict(ckpt["model_config"])))


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Name, type, metrics, features, languages and parameter count of a checkpoint, read without
    loading its weights (they are memory-mapped, never read) or building the model.

    Returns:
        ``{"name", "model_type", "metrics", "parameters", "path", "features", "languages",
        "vocabulary", "dataset", "streams"}``: ``vocabulary`` the number of glosses it recognises
        or produces (words for a gloss-to-text model; 0 if none), ``dataset`` the name (or folder)
        of the data it was trained on ("" if unknown), ``streams`` whether it can caption a live
        stream (a landmark recogniser with a CTC head).

    Raises:
        ModelError: as :func:`load_model`.
    """
    path = checkpoint_file(path)
    ckpt = _read(path, mmap=True)
    features = ckpt.get("features") or {}
    vocabs = ckpt.get("vocabularies") or {}
    if features.get("classes"):
        vocabulary = len(features["classes"])
    else:
        target = "text" if features.get("target") == "text" else "gloss"
        itos = vocabs.get(target) or vocabs.get("gloss") or vocabs.get("text") or []
        vocabulary = max(0, len(itos) - 4)  # the four specials are not words
    data = (ckpt.get("config") or {}).get("data") or {}
    dataset = str(data.get("path") or data.get("dataset") or "")
    languages = list((ckpt.get("model_config") or {}).get("languages") or ())
    if not languages and features.get("language"):
        languages = [features["language"]]
    try:
        parameters = _parameters_of(ckpt)
    except Exception as exc:  # a config the registry refuses
        raise ModelError(f"{path}: the model config cannot be read ({type(exc).__name__})") from None
    return {"name": ckpt["name"], "model_type": ckpt["model_type"], "metrics": ckpt.get("metrics", {}),
            "parameters": parameters, "path": str(path), "features": features, "languages": languages,
            "vocabulary": vocabulary, "dataset": dataset,
            "streams": features.get("kind") == "holistic_landmarks" and bool((ckpt.get("model_config") or {}).get("ctc"))}


def update_metrics(path: str | Path, metrics: dict[str, Any]) -> None:
    """Merge ``metrics`` into a checkpoint's stored metrics, rewriting it atomically. Its
    up-to-date ONNX exports are told (their sidecars record the new checkpoint and metrics).

    Raises:
        ModelError: as :func:`load_model`. OSError: the file cannot be replaced.
    """
    from signstudio.runtime.onnx import fresh_exports, refresh_exports

    path = checkpoint_file(path)
    ckpt = _read(path)
    ckpt["metrics"] = {**ckpt.get("metrics", {}), **metrics}
    exports = fresh_exports(path)  # the weights do not change: an up-to-date export stays so
    with atomic_write(path) as f:
        torch.save(ckpt, f)
    refresh_exports(path, exports, ckpt["metrics"], read_metadata(path))
