"""What a model family brings to the one training loop: a :class:`Recipe`.

:func:`signstudio.training.loop.fit` owns everything every family shares — seeding, the
optimiser and learning-rate schedule, resume, the evaluation cadence, choosing the best
checkpoint, atomic saves, ``metrics.jsonl``, progress events and ``accelerate`` sharding. A
recipe owns what differs: its config sections, its data and vocabularies, its batches and loss,
its dev evaluation and metric, what its checkpoint stores, and any tuning after the last epoch.

A new model family is a model module (``signstudio/models/``), a recipe (a subclass of
:class:`Recipe` in ``signstudio/training/recipes/``) and one entry in
:data:`signstudio.models.registry.REGISTRY` that names both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch.nn import functional as F

from signstudio.tasks import TaskHandle
from signstudio.training.config import DataConfig, ExperimentConfig, TrainConfig


@dataclass
class StepLoss:
    """One batch's loss.

    Attributes:
        loss: the scalar to back-propagate, or None to skip the batch (no optimiser step; the
            schedule still advances, as SignLLM's Priority Learning Channel requires).
        terms: numbers to log (averaged over the epoch's batches into the metrics row); must
            include ``"loss"``.
    """

    loss: torch.Tensor | None
    terms: dict[str, float]


@dataclass
class Evaluation:
    """One dev evaluation.

    Attributes:
        row: metrics for the row of ``metrics.jsonl`` (must include the recipe's ``metric``).
        saved: metrics stored in the checkpoint if this evaluation is the best so far (the loop
            adds ``epoch``).
    """

    row: dict[str, Any]
    saved: dict[str, Any] = field(default_factory=dict)


class Recipe:
    """A model family's part of training; subclass it, then name it in the model registry.

    Class attributes:
        data_config, train_config: the dataclasses of the config's ``data:`` and ``train:``
            sections for this family (subclasses of :class:`DataConfig` and :class:`TrainConfig`;
            unknown keys are an error).
        metric: the row key that selects the best checkpoint, e.g. ``"dev_wer"``.
        lower_is_better: whether a smaller ``metric`` is better.
        metric_label: how people read ``metric``, e.g. ``"dev WER"``.
        betas: AdamW's betas.
        max_processes: the most processes it trains in (None: any; ``accelerate launch`` with
            more is refused).
        unit: what a training example is called in status lines ("clips", "sentences").

    The loop calls, in order: :meth:`prepare` (once), then per epoch :meth:`batches` and
    :meth:`loss` per batch, :meth:`evaluate` at the evaluation cadence (and :meth:`save` when it
    is the best), :meth:`state` with every saved training state; after the last epoch
    :meth:`finish`. ``self.device`` is the device batches must go to.
    """

    data_config: ClassVar[type[DataConfig]] = DataConfig
    train_config: ClassVar[type[TrainConfig]] = TrainConfig
    metric: ClassVar[str] = ""
    lower_is_better: ClassVar[bool] = True
    metric_label: ClassVar[str] = ""
    betas: ClassVar[tuple[float, float]] = (0.9, 0.999)
    max_processes: ClassVar[int | None] = None
    unit: ClassVar[str] = "examples"

    def __init__(self, cfg: ExperimentConfig) -> None:
        self.cfg = cfg
        self.device = torch.device("cpu")
        self.train_size = 0

    # -- before training ------------------------------------------------------------------------
    def prepare(self, task: TaskHandle) -> ExperimentConfig:
        """Load the data and build vocabularies; set ``self.train_size``.

        Returns:
            The config with the model's data-dependent fields filled in (vocabulary sizes, ...);
            the loop builds the model from it and stores it in checkpoints.

        Raises:
            ConfigError, InputError: unknown dataset, missing files, no training data.
        """
        raise NotImplementedError

    def batches_per_epoch(self) -> int:
        """Batches in one epoch before sharding (default: training examples / batch size)."""
        return -(-self.train_size // self.cfg.train.batch_size)

    def attach(self, model: torch.nn.Module) -> None:
        """Called once the model is built (before the optimiser): e.g. fit an LM, set up a sampler."""

    # -- training -------------------------------------------------------------------------------
    def batches(self, epoch: int, rng: np.random.Generator) -> list[Any]:
        """This epoch's batches, in order (the loop shards them among processes)."""
        raise NotImplementedError

    def loss(self, net: torch.nn.Module, batch: Any, rng: np.random.Generator) -> StepLoss:
        """The loss of one batch (``net`` may be wrapped for data-parallel training)."""
        raise NotImplementedError

    # -- evaluation and checkpoints -------------------------------------------------------------
    def evaluate(self, model: torch.nn.Module, epoch: int, task: TaskHandle) -> Evaluation:
        """Score ``model`` on dev (the loop runs it in the main process only)."""
        raise NotImplementedError

    def save(self, path: Path, model: torch.nn.Module, metrics: dict[str, Any]) -> None:
        """Write ``model.pt`` (vocabularies, feature spec, decoding) with
        :func:`signstudio.runtime.checkpoint.save_model`."""
        raise NotImplementedError

    def finish(self, model: torch.nn.Module, out_dir: Path, best: tuple, task: TaskHandle) -> dict[str, Any] | None:
        """After the last epoch, with the best checkpoint on disk: tune decoding on dev and
        re-save. Returns the final metrics, or None to keep the best evaluation's."""
        return None

    def state(self) -> dict[str, Any]:
        """JSON-ready state to resume with (beside weights, optimiser and RNGs)."""
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state` returned."""

    def summary(self) -> dict[str, Any]:
        """Extra fields for ``train_summary.json``."""
        return {}

    # -- helpers --------------------------------------------------------------------------------
    def better(self, value: float, best: float | None) -> bool:
        """Whether ``value`` of :attr:`metric` beats ``best`` (None: nothing yet)."""
        if best is None:
            return True
        return value < best if self.lower_is_better else value > best


def smoothed_nll(log_probs: torch.Tensor, target: torch.Tensor, smoothing: float) -> torch.Tensor:
    """Label-smoothed negative log-likelihood over non-padding targets (Szegedy et al. 2016).

    ``(1 - smoothing) * NLL + smoothing * mean_v(-log p_v)``, averaged over the tokens whose
    target is not padding (id 0).

    Args:
        log_probs: ``(B, U, V)`` log-probabilities. target: ``(B, U)`` token ids, 0 = padding.
        smoothing: in ``[0, 1)``; 0 gives the plain NLL.
    """
    flat = target.flatten()
    loss = F.nll_loss(log_probs.flatten(0, 1), flat, ignore_index=0, reduction="mean")
    if smoothing:
        smooth = -log_probs.mean(-1).flatten()[flat != 0].mean()
        loss = (1 - smoothing) * loss + smoothing * smooth
    return loss
