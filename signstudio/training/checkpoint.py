"""Checkpoints that rebuild their model alone (nanoGPT's checkpoint dict), written atomically.

A model checkpoint (``model.pt``) holds the model type and config, the vocabularies, the feature
specification, the weights, the metrics and the experiment config. The resumable training state
(optimiser, scheduler, RNGs) lives beside it in ``train_state.pt`` so that shipped models stay small.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from signstudio.atomic import atomic_write
from signstudio.data.vocabulary import Vocabulary
from signstudio.errors import ModelError
from signstudio.models.registry import build_model, count_parameters

FORMAT = "signstudio-checkpoint"
VERSION = 1


@dataclass
class LoadedModel:
    """A model rebuilt from a checkpoint, in eval mode, with what it needs to run."""

    name: str
    model_type: str
    model: torch.nn.Module
    gloss_vocab: Vocabulary | None
    text_vocab: Vocabulary | None
    features: dict[str, Any]  # e.g. {"kind": "hand_nose_tracks", "fps": 30.0, "num_features": 12}
    metrics: dict[str, Any]
    config: dict[str, Any]
    path: Path
    decoding: Any = None  # signstudio.training.evaluation.DecodingOptions
    gloss_lm: Any = None  # signstudio.lm.GlossLM, if the model decodes CTC with a gloss LM

    @property
    def parameters(self) -> int:
        """Trainable parameters (tied weights counted once)."""
        return count_parameters(self.model)


def save_model(path: str | Path, *, name: str, model_type: str, model: torch.nn.Module,
               gloss_vocab: Vocabulary | None, text_vocab: Vocabulary | None,
               features: dict[str, Any], metrics: dict[str, Any], config: dict[str, Any],
               decoding=None, gloss_lm=None) -> None:
    """Write a self-contained model checkpoint atomically (temp file, fsync, rename).

    ``decoding`` (DecodingOptions) and ``gloss_lm`` (GlossLM) are stored as plain data.
    """
    import dataclasses

    payload = {
        "format": FORMAT,
        "version": VERSION,
        "name": name,
        "model_type": model_type,
        "model_config": dataclasses.asdict(model.config),
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


def load_model(path: str | Path) -> LoadedModel:
    """Rebuild a model from a checkpoint file, or a folder holding ``model.pt``.

    Raises:
        ModelError: missing, truncated or foreign file, or weights that do not fit the config.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "model.pt"
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelError(f"{path}: not a readable SignStudio checkpoint ({type(exc).__name__})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ModelError(f"{path}: not a SignStudio checkpoint")
    if ckpt.get("version") != VERSION:
        raise ModelError(f"{path}: checkpoint version {ckpt.get('version')} is not supported (expected {VERSION})")
    model = build_model(ckpt["model_type"], dict(ckpt["model_config"]))
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        raise ModelError(f"{path}: weights do not match the model config ({str(exc).splitlines()[0]})") from None
    model.eval()
    from signstudio.lm import GlossLM
    from signstudio.training.evaluation import DecodingOptions

    vocabs = ckpt["vocabularies"]
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


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Name, type, metrics and parameter count of a checkpoint, without building the model.

    Raises:
        ModelError: as :func:`load_model`.
    """
    loaded = load_model(path)
    return {"name": loaded.name, "model_type": loaded.model_type, "metrics": loaded.metrics,
            "parameters": loaded.parameters, "path": str(loaded.path), "features": loaded.features,
            "languages": list(getattr(loaded.model.config, "languages", ()) or
                              ([loaded.features["language"]] if loaded.features.get("language") else []))}


def update_metrics(path: str | Path, metrics: dict[str, Any]) -> None:
    """Merge ``metrics`` into a checkpoint's stored metrics, rewriting it atomically.

    Raises:
        ModelError: as :func:`load_model`.
    """
    path = Path(path)
    load_model(path)  # validates the file
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    ckpt["metrics"] = {**ckpt.get("metrics", {}), **metrics}
    with atomic_write(path) as f:
        torch.save(ckpt, f)
