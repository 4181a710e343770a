"""Training configuration: a YAML file with ``name``, ``model``, ``data``, ``train``, ``output``.

Unknown keys anywhere are an error (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from signstudio.errors import ConfigError
from signstudio.models.registry import PRESETS, make_config


@dataclass
class DataConfig:
    """Which data to train on."""

    dataset: str = "boston104"  # a name from signstudio.data.datasets.DATASETS
    dev_every: int = 10  # every n-th training sentence is held out as dev (BOSTON has no dev split)
    augment: bool = True  # random rotation/scale/speed/jitter of the tracks (see Augmentation)
    crop_glosses: float = 0.0  # probability of training on a random run of glosses cut by their boundaries
    language: str = ""  # sign language code of the glosses (Prompt2LangGloss tag, MLSF group), e.g. "gsg"
    direction: str = "text2gloss"  # gloss-translator models: "text2gloss" or "gloss2text"
    path: str = ""  # a user dataset folder (overrides the named dataset's location)


@dataclass
class TrainConfig:
    """Optimisation settings."""

    epochs: int = 200  # passes over the training set
    batch_size: int = 16  # clips per step
    learning_rate: float = 1e-3  # peak learning rate (AdamW)
    weight_decay: float = 0.01  # AdamW weight decay
    warmup_steps: int = 100  # linear warm-up, then cosine decay to min_lr_ratio * peak
    min_lr_ratio: float = 0.05  # floor of the cosine schedule, relative to the peak
    label_smoothing: float = 0.1  # on the translation cross-entropy
    ctc_weight: float = 1.0  # weight of the CTC gloss loss (0: translation only)
    translation_weight: float = 1.0  # weight of the translation cross-entropy
    grad_clip: float = 1.0  # max gradient norm
    seed: int = 1  # seeds torch and the augmentation RNG
    eval_every: int = 10  # evaluate on dev (and checkpoint) every n epochs
    beam_size: int = 4  # beam for dev/test decoding
    length_penalty: float = 1.0  # GNMT alpha for beam search
    lm_order: int = 3  # n of the gloss n-gram LM fitted on the training glosses (0: no LM)
    lm_weight: float = 0.5  # LM weight in CTC prefix beam search during training (re-tuned on dev at the end)
    insertion_bonus: float = 0.5  # per-gloss bonus in CTC prefix beam search (re-tuned on dev at the end)
    threads: int = 0  # torch CPU threads (0: torch's default)
    pose_loss: str = "mse"  # signllm: "mse" or "l1" on the produced joints
    counter_weight: float = 1.0  # signllm: weight of the counter (progress) MSE beside the joint loss
    pose_noise: float = 0.0  # signllm: std of Gaussian noise on teacher-forced input joints (skeleton units)
    rl_weight: float = 0.0  # signllm: weight of the reward-weighted RL loss (0: off); rewards are -MSE per sample
    plc: bool = False  # signllm: Priority Learning Channel - sample sentences by last epoch's rewards
    plc_threshold: float = 0.0  # signllm PLC: skip a batch whose mean reward is below this quantile of recent ones
    plc_temperature: float = 1.0  # signllm: temperature of the softmax over standardised rewards (PLC, RL weights)


@dataclass
class ExperimentConfig:
    """A whole training run."""

    name: str  # model name, e.g. "boston104-signformer"
    model_type: str  # registry name, e.g. "signformer"
    model: Any  # the model's config dataclass (vocabulary sizes are filled from the data)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    output: str = ""  # folder for model.pt, train_state.pt, metrics.jsonl (default: runs/<name>)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, stored in checkpoints (``model`` includes ``type``)."""
        return {
            "name": self.name,
            "model": {"type": self.model_type, **dataclasses.asdict(self.model)},
            "data": dataclasses.asdict(self.data),
            "train": dataclasses.asdict(self.train),
            "output": self.output,
        }


def _section(cls, values: Any, where: str):
    if values is None:
        return cls()
    if not isinstance(values, dict):
        raise ConfigError(f"{where} must be a mapping")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"unknown key(s) in {where}: {', '.join(unknown)}; known: {', '.join(fields)}")
    out = {}
    for key, value in values.items():
        expected = type(fields[key].default)
        if expected is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
        elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{where}.{key} must be {expected.__name__}, got {value!r}")
        out[key] = value
    return cls(**out)


def config_from_dict(raw: dict[str, Any]) -> ExperimentConfig:
    """Validate a parsed YAML mapping into an :class:`ExperimentConfig`.

    ``model`` holds ``type`` (a registry name) or ``preset`` (a name from PRESETS), plus any
    fields of that model's config, which override the preset.

    Raises:
        ConfigError: a missing section or name, unknown keys, or wrong types.
    """
    if not isinstance(raw, dict):
        raise ConfigError("a training config must be a YAML mapping")
    unknown = sorted(set(raw) - {"name", "model", "data", "train", "output"})
    if unknown:
        raise ConfigError(f"unknown top-level key(s): {', '.join(unknown)}; known: name, model, data, train, output")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError("the config needs a `name` (the model's name)")
    model = dict(raw.get("model") or {})
    preset = model.pop("preset", None)
    if preset is not None:
        if preset not in PRESETS:
            raise ConfigError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
        base_type, base = PRESETS[preset]
        model_type = model.pop("type", base_type)
        model = {**base, **model}
    else:
        model_type = model.pop("type", None)
        if model_type is None:
            raise ConfigError("model needs a `type` (e.g. signformer) or a `preset`")
    return ExperimentConfig(
        name=name,
        model_type=model_type,
        model=make_config(model_type, model),
        data=_section(DataConfig, raw.get("data"), "data"),
        train=_section(TrainConfig, raw.get("train"), "train"),
        output=str(raw.get("output") or ""),
    )


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate a YAML training config.

    Raises:
        ConfigError: missing file, invalid YAML, or an invalid config.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    return config_from_dict(raw)
