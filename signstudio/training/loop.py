"""The one training loop: every model family trains through :func:`fit` with its :class:`Recipe`.

``fit`` owns seeding, AdamW with linear warm-up and cosine decay, resume (bit-identical, see
:mod:`signstudio.training.resume`), the evaluation cadence, best-checkpoint selection (the
recipe says which metric and whether lower is better), atomic checkpoints and training state,
``metrics.jsonl``, progress and metrics for the task handle (the Train tab's events) and
data-parallel sharding under ``accelerate launch`` (:mod:`signstudio.training.distributed`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from signstudio.models.registry import build_model, count_parameters
from signstudio.tasks import NullTask, TaskHandle, check_cancelled
from signstudio.training.config import ExperimentConfig, resolve_output
from signstudio.training.distributed import Distributed, launched_processes
from signstudio.training.families import recipe_class
from signstudio.training.recipe import Recipe
from signstudio.training.resume import restore_train_state, save_train_state
from signstudio.training.run import RunFolder


@dataclass
class TrainResult:
    """What a finished run produced.

    Attributes:
        output: the folder with ``model.pt``, ``metrics.jsonl`` and ``train_summary.json``.
        best_epoch: the epoch of the saved (best) checkpoint.
        metrics: the saved model's dev metrics.
        parameters: trainable parameters. seconds: training time in seconds.
        main: False in the extra processes of an ``accelerate launch`` run (they write nothing).
        metric, lower_is_better: the recipe's selection metric and its direction.
    """

    output: Path
    best_epoch: int
    metrics: dict[str, Any]
    parameters: int
    seconds: float
    main: bool = True
    metric: str = ""
    lower_is_better: bool = True


def seed_run(tc) -> np.random.Generator:
    """Apply a :class:`TrainConfig`'s thread count and seed to torch and NumPy's legacy global
    RNG; return the run's NumPy ``Generator``. Runs with the same config are deterministic on CPU."""
    np.random.seed(tc.seed)
    if tc.threads:
        torch.set_num_threads(tc.threads)
    torch.manual_seed(tc.seed)
    return np.random.default_rng(tc.seed)


def lr_factor(step: int, warmup: int, total: int, floor: float) -> float:
    """Learning-rate multiplier: linear warm-up over ``warmup`` steps, then cosine to ``floor``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def fit(cfg: ExperimentConfig, task: TaskHandle | None = None, resume: bool = False, *,
        output: str | Path | None = None, overwrite: bool = False) -> TrainResult:
    """Train ``cfg``'s model with its family's recipe; keep the checkpoint with the best dev score.

    Every ``train.eval_every`` epochs (and after the last) the recipe evaluates on dev; the row
    ``{epoch, step, loss..., dev metrics..., lr, seconds}`` is added to ``<output>/metrics.jsonl``
    and handed to ``task.partial``; a better score rewrites ``<output>/model.pt``; the resumable
    state is written to ``<output>/train_state.pt``. All files are replaced whole (temp file,
    then rename), so a kill loses at most the work since the last evaluation.

    Args:
        resume: continue the run in the output folder from its training state.
        output: the output folder as given on the command line or chosen in the window (see
            :func:`signstudio.training.config.resolve_output`); None: the config's rule.
        overwrite: a fresh run may replace a run already in the output folder.

    Raises:
        Cancelled: the task was cancelled (the best checkpoint so far stays on disk).
        ConfigError: a bad config, a folder that holds a run (without ``overwrite``), nothing
            (or a different config) to resume, too many processes for the recipe.
        InputError: missing data. OSError: the output folder is not writable.
    """
    task = task or NullTask()
    t0 = time.perf_counter()
    recipe: Recipe = recipe_class(cfg.model_type)(cfg)
    if recipe.max_processes is not None and launched_processes() > recipe.max_processes:
        raise_processes(cfg, recipe)
    folder = RunFolder(resolve_output(cfg, output))
    dist = Distributed()
    if dist.is_main:
        folder.check_start(resume, overwrite)
    tc = cfg.train
    given = cfg.to_dict()
    rng = seed_run(tc)

    task.set_status("loading data")
    cfg = recipe.prepare(task)
    recipe.cfg = cfg
    recipe.device = dist.device
    model = build_model(cfg.model_type, cfg.model)
    n_params = count_parameters(model)
    recipe.attach(model)

    steps_per_epoch = dist.steps(recipe.batches_per_epoch())
    total = tc.epochs * steps_per_epoch
    opt = torch.optim.AdamW(model.parameters(), lr=tc.learning_rate, weight_decay=tc.weight_decay,
                            betas=recipe.betas)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, tc.warmup_steps, total, tc.min_lr_ratio))

    best: tuple[float | None, int, dict[str, Any]] = (None, 0, {})
    step, first_epoch = 0, 1
    if dist.is_main:
        folder.begin(resume)
    if resume:
        point = restore_train_state(folder.path, config=given, model=model, optimizer=opt, scheduler=sched, rng=rng)
        step, first_epoch, t0 = point.step, point.epoch + 1, t0 - point.seconds
        best = tuple(point.best) if point.best else best
        recipe.load_state(point.extra)
        if dist.is_main:
            folder.truncate_metrics(point.epoch)
    net, opt = dist.prepare(model, opt)
    task.set_total(total, unit="step")
    task.advance(step)
    task.set_status(f"{'resuming' if resume else 'training'} {cfg.name}: {n_params:,} parameters, "
                    f"{recipe.train_size} {recipe.unit}" + (f", epoch {first_epoch}" if resume else ""))

    for epoch in range(first_epoch, tc.epochs + 1):
        net.train()
        sums: dict[str, float] = {}
        batches = dist.shard(recipe.batches(epoch, rng))
        for batch in batches:
            check_cancelled(task)
            out = recipe.loss(net, batch, rng)
            if out.loss is not None:
                opt.zero_grad(set_to_none=True)
                dist.backward(out.loss)
                torch.nn.utils.clip_grad_norm_(net.parameters(), tc.grad_clip)
                opt.step()
            sched.step()
            step += 1
            for key, value in out.terms.items():
                sums[key] = sums.get(key, 0.0) + value
            task.advance()
        if (epoch % tc.eval_every == 0 or epoch == tc.epochs) and dist.is_main:
            task.set_status(f"epoch {epoch}: evaluating on dev")
            ev = recipe.evaluate(model, epoch, task)
            value = float(ev.row[recipe.metric])
            row = {"epoch": epoch, "step": step, **{k: v / max(1, len(batches)) for k, v in sums.items()},
                   **ev.row, "lr": sched.get_last_lr()[0], "seconds": round(time.perf_counter() - t0, 1)}
            folder.add_metrics(row)
            task.partial(row)
            task.set_status(f"epoch {epoch}: loss {row.get('loss', math.nan):.3f}, {recipe.metric_label} {value:.4g}")
            if math.isfinite(value) and recipe.better(value, best[0]):
                best = (value, epoch, {**ev.saved, "epoch": epoch})
                recipe.save(folder.model_path, model, best[2])
            save_train_state(folder.path, config=given, model=model, optimizer=opt, scheduler=sched, rng=rng,
                             epoch=epoch, step=step, best=list(best), seconds=time.perf_counter() - t0,
                             extra=recipe.state())
        dist.wait()
    seconds = time.perf_counter() - t0
    if not dist.is_main:
        return TrainResult(folder.path, 0, {}, n_params, seconds, False, recipe.metric, recipe.lower_is_better)
    metrics = best[2]
    if best[1]:
        check_cancelled(task)
        final = recipe.finish(model, folder.path, best, task)
        if final is not None:
            metrics = final
    seconds = time.perf_counter() - t0
    folder.write_summary({"name": cfg.name, "best_epoch": best[1], "metric": recipe.metric, "metrics": metrics,
                          "parameters": n_params, "seconds": round(seconds, 1), **recipe.summary()})
    return TrainResult(folder.path, best[1], metrics, n_params, seconds, True, recipe.metric, recipe.lower_is_better)


def raise_processes(cfg: ExperimentConfig, recipe: Recipe) -> None:
    """Refuse a launch with more processes than the recipe trains in.

    Raises:
        ConfigError: always.
    """
    from signstudio.errors import ConfigError

    raise ConfigError(f"{cfg.model_type} models train in at most {recipe.max_processes} process(es); "
                      "run it without `accelerate launch`")
