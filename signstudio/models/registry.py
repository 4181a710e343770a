"""Model registry: one entry per model family, and presets with known sizes.

A model family is a model module (``signstudio/models/<family>.py``: a config dataclass and an
``nn.Module``), a training recipe (``signstudio/training/recipes/``) and one entry in
:data:`REGISTRY` that names them. Nothing else needs to change for a new family.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from torch import nn

from signstudio.errors import ConfigError
from signstudio.models.recognizer import RecognizerConfig, SignRecognizer
from signstudio.models.seq2seq import TextTransformer, TextTransformerConfig
from signstudio.models.signformer import Signformer, SignformerConfig
from signstudio.models.signllm import SignLLM, SignLLMConfig
from signstudio.models.spamo import SpaMo, SpaMoConfig
from signstudio.models.spatiotemporal import SpatioTemporalConfig, SpatioTemporalTransformer


@dataclass(frozen=True)
class ModelFamily:
    """A registry entry.

    Attributes:
        config: the model's config dataclass (its fields are the YAML ``model:`` keys).
        model: the ``nn.Module`` built from it.
        recipe: ``"module:Class"`` of its training recipe (a :class:`signstudio.training.recipe.Recipe`),
            imported by ``signstudio.training`` only, so the runtime never loads training code.
        task: what its checkpoints do: ``"sign-to-text"``, ``"gloss-to-pose"``, or ``"text"`` (text-to-gloss
            or gloss-to-text, by the checkpoint's direction).
    """

    config: type
    model: type[nn.Module]
    recipe: str
    task: str


REGISTRY: dict[str, ModelFamily] = {
    "signformer": ModelFamily(SignformerConfig, Signformer, "signstudio.training.recipes.sign2text:SignToTextRecipe",
                              "sign-to-text"),
    "signllm": ModelFamily(SignLLMConfig, SignLLM, "signstudio.training.recipes.signllm:SignLLMRecipe", "gloss-to-pose"),
    "text-transformer": ModelFamily(TextTransformerConfig, TextTransformer, "signstudio.training.recipes.text:TextRecipe",
                                    "text"),
    "recognizer": ModelFamily(RecognizerConfig, SignRecognizer, "signstudio.training.recipes.islr:IslrRecipe",
                              "sign-to-text"),
    "spatiotemporal": ModelFamily(SpatioTemporalConfig, SpatioTemporalTransformer,
                                  "signstudio.training.recipes.video:VideoRecipe", "sign-to-text"),
    "spamo": ModelFamily(SpaMoConfig, SpaMo, "signstudio.training.recipes.spamo:SpaMoRecipe", "sign-to-text"),
}

#: Named configurations, with vocabulary sizes of their corpora (training replaces them with the
#: sizes it finds). ``signformer-phoenix``: Signformer's smallest setting on PHOENIX-2014-T
#: (1024-d CNN features, 2887-word German vocabulary, 1+1 layers of width 64); it measures 0.45 M
#: parameters here against the paper's 0.57 M, whose exact widths the paper summary does not give.
#: ``signformer-boston``: the shipped BOSTON-104 model on hand/nose track features.
#: ``signattention-boston``: SignAttention's baseline (Dal Bianco et al. 2024, Sec. 3) on the same
#: BOSTON-104 features: 1 encoder + 1 decoder layer, 1D-convolution frame embedding, pose -> gloss by
#: the attention decoder alone (no CTC head, no convolution module).
#: ``signllm-phoenix-skels``: SignLLM (MLSF, one DGS group) sized to learn the 5 training sentences
#: of the PHOENIX-2014-T skels sample on a CPU in a few minutes (width 128, 2+2 layers).
PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    "signformer-phoenix": ("signformer", dict(
        input_dim=1024, d_model=64, num_heads=4, encoder_layers=1, decoder_layers=1, ff_dim=256,
        conv_kernel=9, cope_positions=16, text_vocab_size=2887, gloss_vocab_size=1085)),
    "signformer-boston": ("signformer", dict(
        input_dim=12, d_model=128, num_heads=4, encoder_layers=2, decoder_layers=1, ff_dim=256,
        conv_kernel=9, cope_positions=0, text_vocab_size=112, gloss_vocab_size=112)),
    "signattention-boston": ("signformer", dict(
        input_dim=12, d_model=128, num_heads=4, encoder_layers=1, decoder_layers=1, ff_dim=256,
        conv_kernel=0, cope_positions=0, text_vocab_size=112, gloss_vocab_size=0,
        frame_embedding="conv1d", embed_kernel=5)),
    "signllm-phoenix-skels": ("signllm", dict(
        d_model=128, num_heads=4, encoder_layers=2, decoder_layers=2, ff_dim=256, dropout=0.1,
        gloss_vocab_size=64, num_joints=50, languages=("gsg",), mode="mlsf", max_frames=300,
        future_prediction=0)),
}


def check_values(cls, values: dict[str, Any], where: str) -> None:
    """Check values against a dataclass's optional ``LIMITS`` (inclusive bounds) and ``CHOICES``;
    every float must be finite.

    Raises:
        ConfigError: naming ``where.key``, the bound and the value.
    """
    limits = getattr(cls, "LIMITS", {}) or {}
    choices = getattr(cls, "CHOICES", {}) or {}
    for key, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{where}.{key} must be a finite number, got {value}")
        low, high = limits.get(key, (None, None))
        if low is not None and value < low:
            raise ConfigError(f"{where}.{key} must be at least {low}, got {value}")
        if high is not None and value > high:
            raise ConfigError(f"{where}.{key} must be at most {high}, got {value}")
        if key in choices and value not in choices[key]:
            raise ConfigError(f"{where}.{key} must be one of {', '.join(map(str, choices[key]))}; got {value!r}")


def make_config(name: str, values: dict[str, Any]):
    """Build the config dataclass of model ``name`` from ``values``.

    Raises:
        ConfigError: unknown model name, unknown keys, a value of the wrong type or out of range.
    """
    if name not in REGISTRY:
        raise ConfigError(f"unknown model type {name!r}; known: {', '.join(sorted(REGISTRY))}")
    cls = REGISTRY[name].config
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(map(str, values)) - set(fields))
    if unknown:
        raise ConfigError(f"unknown {name} config key(s): {', '.join(unknown)}; known: {', '.join(fields)}")
    for key, value in values.items():
        expected = type(fields[key].default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            values = {**values, key: float(value)}
        elif expected is tuple and isinstance(value, list):
            values = {**values, key: tuple(value)}
        elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{name} config key {key!r} must be {expected.__name__}, got {value!r}")
    check_values(cls, values, "model")
    return cls(**values)


def build_model(name: str, config) -> nn.Module:
    """Instantiate model ``name`` from its config dataclass (or a dict of its fields)."""
    if isinstance(config, dict):
        config = make_config(name, config)
    try:
        return REGISTRY[name].model(config)
    except (ValueError, RuntimeError, ZeroDivisionError) as exc:
        raise ConfigError(f"invalid {name} config: {(str(exc).splitlines() or [type(exc).__name__])[0]}") from None


def count_parameters(model: nn.Module) -> int:
    """Number of distinct trainable parameters (tied weights counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def preset_parameter_counts() -> dict[str, int]:
    """Measured parameter count of every preset, by building it."""
    return {p: count_parameters(build_model(n, dict(v))) for p, (n, v) in PRESETS.items()}
