"""Training configuration: a YAML file with ``name``, ``model``, ``data``, ``train`` and ``output``.

``model`` holds ``type`` (a registry name) or ``preset``; ``data`` and ``train`` are validated
against the sections of that model family's recipe (:attr:`Recipe.data_config`,
:attr:`Recipe.train_config`): the settings every family shares (:class:`TrainConfig`) plus the
family's own. Unknown keys anywhere are an error (a typo must not silently fall back to a
default), and so are values of the wrong type or out of range (``epochs: 0``, ``batch_size:
-4``, ``learning_rate: .nan``).

Where a run is written (:func:`resolve_output`, the one rule for the command line and the window):

1. a folder given on the command line (``signstudio train -o DIR``) or picked in the window,
   as given (relative to the current folder);
2. else the config's ``output:``, a relative path inside the user's models folder
   (:func:`signstudio.paths.user_models_dir`);
3. else ``<user models folder>/<name>``.

A config's ``name`` is a plain name and its ``output`` stays inside the user's models folder:
only a path on the command line may point anywhere else.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, ClassVar

import yaml

from signstudio.errors import ConfigError

#: What a model name may look like (it becomes a folder name).
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass
class Section:
    """A config section: a dataclass whose fields are the allowed keys.

    Class attributes:
        LIMITS: ``{field: (low, high)}`` inclusive bounds (None: unbounded) of numeric fields.
        CHOICES: ``{field: allowed values}`` of string fields.
    """

    LIMITS: ClassVar[dict[str, tuple[float | None, float | None]]] = {}
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {}

    def check(self, where: str) -> None:
        """Raise :class:`ConfigError` for a value out of range, not finite, or not a choice."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{where}.{f.name} must be a finite number, got {value}")
            low, high = self.LIMITS.get(f.name, (None, None))
            if low is not None and value < low:
                raise ConfigError(f"{where}.{f.name} must be at least {low}, got {value}")
            if high is not None and value > high:
                raise ConfigError(f"{where}.{f.name} must be at most {high}, got {value}")
            choices = self.CHOICES.get(f.name)
            if choices is not None and value not in choices:
                raise ConfigError(f"{where}.{f.name} must be one of {', '.join(choices)}; got {value!r}")


@dataclass
class DataConfig(Section):
    """Which data to train on: each recipe's ``data:`` section subclasses this."""

    dataset: str = ""  # a dataset name


@dataclass
class TrainConfig(Section):
    """Optimisation settings every model family shares; each recipe's ``train:`` section adds its own."""

    epochs: int = 200  # passes over the training set
    batch_size: int = 16  # examples per step
    learning_rate: float = 1e-3  # peak learning rate (AdamW)
    weight_decay: float = 0.01  # AdamW weight decay
    warmup_steps: int = 100  # linear warm-up, then cosine decay to min_lr_ratio * peak
    min_lr_ratio: float = 0.05  # floor of the cosine schedule, relative to the peak
    grad_clip: float = 1.0  # max gradient norm
    seed: int = 1  # seeds torch and the data-order/augmentation RNG
    eval_every: int = 10  # evaluate on dev (and checkpoint) every n epochs
    threads: int = 0  # torch CPU threads (0: torch's default)

    LIMITS = {"epochs": (1, 1_000_000), "batch_size": (1, 1_000_000), "learning_rate": (1e-12, 10.0),
              "weight_decay": (0.0, None), "warmup_steps": (0, None), "min_lr_ratio": (0.0, 1.0),
              "grad_clip": (1e-12, None), "seed": (0, 2**32 - 1), "eval_every": (1, None), "threads": (0, 1024)}


@dataclass
class ExperimentConfig:
    """A whole training run.

    Attributes:
        name: the model's name (a plain name: it becomes the default output folder's name).
        model_type: its registry name, e.g. ``"signformer"``.
        model: the model's config dataclass (vocabulary sizes are filled from the data).
        data, train: the family's sections (subclasses of :class:`DataConfig` / :class:`TrainConfig`).
        output: the config's ``output:`` (see :func:`resolve_output`), "" for the default.
    """

    name: str
    model_type: str
    model: Any
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    output: str = ""

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
        section = cls()
        section.check(where)
        return section
    if not isinstance(values, dict):
        raise ConfigError(f"{where} must be a mapping")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(map(str, values)) - set(fields))
    if unknown:
        raise ConfigError(f"unknown key(s) in {where}: {', '.join(unknown)}; known: {', '.join(fields)}")
    out = {}
    for key, value in values.items():
        expected = type(fields[key].default)
        if expected is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
        elif expected is tuple and isinstance(value, list):
            value = tuple(value)
        elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{where}.{key} must be {expected.__name__}, got {value!r}")
        out[key] = value
    section = cls(**out)
    section.check(where)
    return section


def check_name(name: Any) -> str:
    """A config's ``name``: a plain name of letters, digits, ``.``, ``_`` and ``-``.

    Raises:
        ConfigError: a missing name, or one with a path separator or other characters.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError("the config needs a `name` (the model's name)")
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(f"name {name!r} must be a plain name (letters, digits, '.', '_', '-'; "
                          "no folders): it names the model's folder")
    return name


def check_output(output: Any) -> str:
    """A config's ``output:``: empty, or a relative path inside the user's models folder.

    Raises:
        ConfigError: an absolute path, a path with ``..``, or not a string.
    """
    if output is None or output == "":
        return ""
    if not isinstance(output, str):
        raise ConfigError(f"output must be a folder path, got {output!r}")
    for pure in (PurePosixPath(output), PureWindowsPath(output)):
        if pure.is_absolute() or pure.anchor or ".." in pure.parts or output.startswith("~"):
            raise ConfigError(f"output {output!r} must be a relative folder inside your models folder; "
                              "to write elsewhere, give the folder on the command line (-o)")
    return output


def config_from_dict(raw: dict[str, Any], build: bool = True) -> ExperimentConfig:
    """Validate a parsed YAML mapping into an :class:`ExperimentConfig`.

    With ``build`` False the model is not built on the meta device (:func:`check_architecture`):
    enough to say what a config trains (a template list), a second faster.

    Raises:
        ConfigError: a missing section or name, unknown keys, wrong types or values out of range.
    """
    # The registry imports every model family (PyTorch): not needed until a config is read,
    # so the window opens without it.
    from signstudio.models.registry import PRESETS, make_config
    from signstudio.training.families import recipe_class

    if not isinstance(raw, dict):
        raise ConfigError("a training config must be a YAML mapping")
    unknown = sorted(set(map(str, raw)) - {"name", "model", "data", "train", "output"})
    if unknown:
        raise ConfigError(f"unknown top-level key(s): {', '.join(unknown)}; known: name, model, data, train, output")
    name = check_name(raw.get("name"))
    model = raw.get("model")
    if model is None:
        raise ConfigError("the config needs a `model` section with a `type` (e.g. signformer) or a `preset`")
    if not isinstance(model, dict):
        raise ConfigError("model must be a mapping")
    model = dict(model)
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
    if not isinstance(model_type, str):
        raise ConfigError(f"model.type must be a name, got {model_type!r}")
    recipe = recipe_class(model_type)
    model_cfg = make_config(model_type, model)
    if build:
        check_architecture(model_type, model_cfg)
    return ExperimentConfig(
        name=name,
        model_type=model_type,
        model=model_cfg,
        data=_section(recipe.data_config, raw.get("data"), "data"),
        train=_section(recipe.train_config, raw.get("train"), "train"),
        output=check_output(raw.get("output")),
    )


def check_architecture(model_type: str, model_cfg) -> None:
    """Build the model on PyTorch's ``meta`` device (shapes only: no memory, no weights, a few
    milliseconds) so that an impossible architecture is refused when the config is read.

    Raises:
        ConfigError: the model cannot be built from this config (e.g. heads that do not divide the width).
    """
    import torch

    from signstudio.models.registry import build_model

    precheck = getattr(type(model_cfg), "check_without_building", None)
    if precheck is not None:  # a model around a pretrained one (SpaMo's LLM) is not built twice
        precheck(model_cfg)
        return
    # Vocabulary sizes come from the data later; stand-ins let the rest of the shape be checked.
    sizes = {f.name: 8 for f in dataclasses.fields(model_cfg)
             if f.name.endswith("_vocab_size") and not getattr(model_cfg, f.name)}
    with torch.device("meta"):
        build_model(model_type, dataclasses.replace(model_cfg, **sizes))


def parse_config_text(text: str, source: str = "", build: bool = True) -> ExperimentConfig:
    """Validate YAML ``text`` as a training config (``build``: see :func:`config_from_dict`).

    Raises:
        ConfigError: invalid YAML (with its line), an empty text, or an invalid config; one line.
    """
    prefix = f"{source}: " if source else ""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"{prefix}invalid YAML{where}: {problem}") from None
    if raw is None:
        raise ConfigError(f"{prefix}the config is empty")
    try:
        return config_from_dict(raw, build)
    except ConfigError as exc:
        raise ConfigError(f"{prefix}{exc}") from None
    except (TypeError, ValueError) as exc:  # a model config the registry refused
        raise ConfigError(f"{prefix}{(str(exc).splitlines() or [type(exc).__name__])[0]}") from None


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate a YAML training config (UTF-8).

    Raises:
        ConfigError: a missing or unreadable file, not UTF-8, invalid YAML, or an invalid config.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    return parse_config_text(text, str(path))


def resolve_output(cfg: ExperimentConfig, given: str | Path | None = None) -> Path:
    """The absolute output folder of a run: the one rule of the command line and the window.

    Args:
        given: a folder given on the command line (``-o``) or picked in the window: used as
            given, relative to the current folder. None: the config's ``output:`` inside the
            user's models folder, else ``<user models folder>/<name>``.
    """
    from signstudio.paths import user_models_dir

    if given is not None and str(given) != "":
        return Path(given).expanduser().resolve()
    root = user_models_dir().expanduser()
    return (root / (check_output(cfg.output) or check_name(cfg.name))).resolve()
