"""Training SignLLM (gloss -> continuous 3D pose) and producing poses with a trained model.

The loop follows :func:`signstudio.training.trainer.train`: seeded, AdamW with linear warm-up and
cosine decay, a task handle for progress / status / partial rows / cancellation, and every
``eval_every`` epochs a row appended to ``<output>/metrics.jsonl`` (``epoch, step, loss,
train_dtw_mje, dev_dtw_mje, lr, seconds`` and more); the checkpoint with the best dev DTW-MJE is
written atomically to ``<output>/model.pt``.

Loss per sentence ``i`` (teacher forcing, Progressive Transformers sec. 3):
``L_i = joint_loss_i + counter_weight * counter_mse_i`` where ``joint_loss_i`` is the MSE (or L1)
over its real frames and joints (and future-prediction frames), and ``counter_mse_i`` the MSE of
the predicted counter against ``(t + 1) / T``. The supervised loss is ``mean_i L_i``.

**RL loss and Priority Learning Channel (SignLLM sec. 3, "RL loss" / "PLC").** SignLLM frames
training as reinforcement learning with the reward of a sample ``r_i = -1/N sum (y_i - y^_i)^2``
(the negative MSE of its produced joints), samples data by priorities derived from rewards, and
skips low-reward batches. The paper's text available to us gives the reward, the reward-driven
sampling and the skip threshold ("e.g. 50 %") but not one closed-form RL loss, so this is what is
implemented, exactly:

1. *Reward*: ``r_i = -MSE(y_i, y^_i)`` over the real frames and joints of sentence ``i``,
   measured on the teacher-forced prediction of the step that trains on it (detached).
2. *Priorities* (PLC sampling): each sentence keeps its latest reward; an epoch draws ``n``
   sentences **with replacement** with probabilities ``p = softmax(z / tau)``, ``z`` the rewards
   standardised over the training set, ``tau = plc_temperature`` (:func:`plc_priorities`).
   The first epoch (no rewards yet) is uniform, and sentences never seen get the mean reward.
3. *Skipping* (PLC channel): a batch whose mean reward is below the ``plc_threshold`` quantile of
   the rewards of the recent batches (a window of ``max(8, 2 x steps per epoch)`` batches, once 4
   are known) is skipped - no gradient step (:class:`PriorityLearningChannel`). Skips are counted
   and logged (``skipped`` in each metrics row).
4. *RL loss* (reward-weighted regression, Peters & Schaal 2007 / advantage-weighted regression,
   Peng et al. 2019): with a Gaussian policy centred on the prediction, ``log pi(y_i) = -MSE_i /
   (2 sigma^2) + c``; weighting each sample's log-likelihood by ``w_i = exp(clip(z_i / tau, -3, 3))``
   with ``z_i`` its reward standardised against the recent batches gives
   ``L_RL = mean_i w_i * L_i`` (:func:`reward_weights`). The total loss is
   ``mean_i L_i + rl_weight * L_RL``: samples the model already does well on weigh more, which is
   SignLLM's "enhancing the model's capability to sample high-quality data".

Teacher forcing adds Gaussian noise (``pose_noise``) to the input joints, PT's augmentation.
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from signstudio.atomic import atomic_write
from signstudio.data.skeletons import SkeletonExample, dataset_language, load_skeleton_splits
from signstudio.data.vocabulary import Vocabulary
from signstudio.errors import ConfigError, ModelError
from signstudio.models.registry import build_model, count_parameters
from signstudio.models.signllm import SignLLM, counter_spans, monotonic_spans, tag_glosses
from signstudio.pose.skeletons import NUM_JOINTS, SKELETON_FPS
from signstudio.runtime.producer import FEATURE_SPEC, collate_skeletons, evaluate_production
from signstudio.tasks import NullTask, TaskHandle, check_cancelled
from signstudio.runtime.checkpoint import save_model
from signstudio.training.config import ExperimentConfig
from signstudio.training.trainer import TrainResult, lr_factor, output_dir, seed_run



# ---------------------------------------------------------------------------- batching and loss
def sample_losses(out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor], pose_loss: str = "mse",
                  counter_weight: float = 1.0) -> dict[str, torch.Tensor]:
    """Per-sentence losses of a teacher-forced pass.

    Returns:
        ``loss`` ``(B,)`` = joint loss + counter_weight * counter MSE, ``joint`` ``(B,)``,
        ``counter`` ``(B,)`` and ``mse`` ``(B,)`` (the next-frame joint MSE, whose negative is
        the RL reward).
    """
    if pose_loss not in ("mse", "l1"):
        raise ConfigError(f"train.pose_loss must be 'mse' or 'l1', got {pose_loss!r}")
    target, jm = batch["frames"], batch["joint_mask"].to(torch.float32)  # (B,T,J,3), (B,T,J)
    future = out["future"]  # (B, T, K, J, 3)
    t, k = target.shape[1], future.shape[2]
    err_sum = torch.zeros(target.shape[0])
    err_n = torch.zeros(target.shape[0])
    for s in range(k):  # s = 0: next frame; s > 0: future prediction of frame t + s
        pred, tgt, m = future[:, : t - s, s], target[:, s:], jm[:, s:]
        e = (pred - tgt).abs() if pose_loss == "l1" else (pred - tgt) ** 2
        err_sum = err_sum + (e.mean(-1) * m).sum((1, 2))
        err_n = err_n + m.sum((1, 2))
    joint = err_sum / err_n.clamp(min=1)
    sq = ((out["joints"] - target) ** 2).mean(-1)  # (B, T, J)
    mse = ((sq * jm).sum((1, 2)) / jm.sum((1, 2)).clamp(min=1)).detach()
    fm = out["mask"].to(torch.float32)
    counter = (((out["counter"] - out["counter_target"]) ** 2) * fm).sum(1) / fm.sum(1).clamp(min=1)
    return {"loss": joint + counter_weight * counter, "joint": joint, "counter": counter, "mse": mse}


# ---------------------------------------------------------------------------- RL + PLC
def plc_priorities(rewards: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Sampling probabilities ``softmax(z / temperature)`` of rewards standardised to ``z``.

    Equal rewards (or a single one) give uniform probabilities. Higher reward, higher priority.
    """
    r = np.asarray(rewards, dtype=np.float64)
    if r.size == 0:
        return r
    std = r.std()
    z = (r - r.mean()) / std if std > 1e-12 else np.zeros_like(r)
    logits = z / max(temperature, 1e-6)
    p = np.exp(logits - logits.max())
    return p / p.sum()


def reward_weights(rewards: torch.Tensor, recent: np.ndarray, temperature: float = 1.0) -> torch.Tensor:
    """RL loss weights ``exp(clip(z / temperature, -3, 3))``, ``z`` the rewards standardised
    against ``recent`` batch rewards (all 1 while fewer than 2 are known)."""
    recent = np.asarray(recent, dtype=np.float64)
    if recent.size < 2 or recent.std() < 1e-12:
        return torch.ones_like(rewards)
    z = (rewards - float(recent.mean())) / float(recent.std())
    return torch.exp((z / max(temperature, 1e-6)).clamp(-3.0, 3.0))


class PriorityLearningChannel:
    """SignLLM's Priority Learning Channel: reward-prioritised sampling and low-reward batch skipping.

    Args:
        n: training sentences.
        threshold: skip a batch whose mean reward is below this quantile of the recent batch
            rewards (0: never skip; 0.5: skip batches worse than the recent median).
        temperature: of :func:`plc_priorities`.
        window: number of recent batch rewards kept.
        min_history: batches seen before skipping may start.
    """

    def __init__(self, n: int, threshold: float = 0.0, temperature: float = 1.0, window: int = 16,
                 min_history: int = 4) -> None:
        if not 0.0 <= threshold < 1.0:
            raise ConfigError(f"train.plc_threshold must be in [0, 1), got {threshold}")
        self.n = n
        self.threshold = threshold
        self.temperature = temperature
        self.rewards = np.full(n, np.nan)  # latest reward of each sentence
        self.recent: deque[float] = deque(maxlen=window)
        self.min_history = min_history
        self.skipped = 0
        self.seen = 0

    def state(self) -> dict[str, Any]:
        """JSON-ready state (rewards, recent batch rewards, counters) for a resumable run."""
        return {"rewards": [None if np.isnan(r) else float(r) for r in self.rewards],
                "recent": list(self.recent), "skipped": self.skipped, "seen": self.seen}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state` returned."""
        self.rewards = np.array([np.nan if r is None else r for r in state["rewards"]], dtype=float)
        self.recent.clear()
        self.recent.extend(state["recent"])
        self.skipped, self.seen = int(state["skipped"]), int(state["seen"])

    def priorities(self) -> np.ndarray:
        """Sampling probabilities from the latest rewards (uniform before any is known)."""
        r = self.rewards
        if np.isnan(r).all():
            return np.full(self.n, 1.0 / self.n)
        return plc_priorities(np.where(np.isnan(r), np.nanmean(r), r), self.temperature)

    def epoch_order(self, rng: np.random.Generator) -> np.ndarray:
        """``n`` sentence indices for the next epoch, drawn with replacement by priority."""
        return rng.choice(self.n, size=self.n, replace=True, p=self.priorities())

    def record(self, indices, rewards) -> None:
        """Remember each sentence's latest reward."""
        for i, r in zip(indices, rewards):
            self.rewards[int(i)] = float(r)

    def should_skip(self, batch_reward: float) -> bool:
        """Whether to skip a batch of mean reward ``batch_reward``; then remember the reward."""
        skip = (self.threshold > 0 and len(self.recent) >= self.min_history
                and batch_reward < float(np.quantile(np.asarray(self.recent), self.threshold)))
        self.recent.append(float(batch_reward))
        self.seen += 1
        self.skipped += int(skip)
        return skip


# ---------------------------------------------------------------------------- evaluation
# ---------------------------------------------------------------------------- training
def train_signllm(cfg: ExperimentConfig, task: TaskHandle | None = None, resume: bool = False) -> TrainResult:
    """Train ``cfg``'s SignLLM on its skeleton dataset; keep the checkpoint with the best dev DTW-MJE.

    ``cfg.data``: ``dataset`` (``phoenix14t-skels``) or ``path`` (a folder of ``.skels`` or a
    ``.tsv`` manifest of ``.pose`` files), ``language`` (the sign language code; the dataset's
    own by default). The model's ``languages`` and ``gloss_vocab_size`` are set from the data.

    Every ``eval_every`` epochs (and after the last) the train and dev sentences are produced by
    counter decoding and scored by DTW-MJE; a row ``{epoch, step, loss, joint_loss, counter_loss,
    train_dtw_mje, dev_dtw_mje, dev_length_ratio, skipped, lr, seconds}`` goes to
    ``<output>/metrics.jsonl`` and to ``task.partial``. With ``resume`` the run continues from
    ``<output>/train_state.pt`` (the Priority Learning Channel's reward history included). It
    trains in one process (``accelerate launch`` with several processes is refused).

    Raises:
        Cancelled: the task was cancelled (the best checkpoint so far stays on disk).
        ConfigError, InputError: a bad config, missing data, or nothing to resume.
    """
    from signstudio.training.distributed import launched_processes
    from signstudio.training.resume import STATE_FILE, restore_train_state, save_train_state

    if launched_processes() > 1:
        raise ConfigError("SignLLM trains in one process; run it without `accelerate launch`")
    task = task or NullTask()
    t0 = time.perf_counter()
    if cfg.model_type != "signllm":
        raise ConfigError(f"train_signllm trains model type 'signllm', not {cfg.model_type!r}")
    tc = cfg.train
    given = cfg.to_dict()
    np.random.seed(tc.seed)
    rng = seed_run(tc)

    task.set_status("loading data")
    language = dataset_language(cfg.data.dataset, cfg.data.language)
    splits = load_skeleton_splits(cfg.data.dataset, cfg.data.path, cfg.data.dev_every)
    train_set = splits["train"]
    dev_set = splits["dev"] or train_set
    vocab = Vocabulary.build(tag_glosses(e.glosses, language) for e in train_set)
    model_cfg = replace(cfg.model, gloss_vocab_size=len(vocab), num_joints=train_set[0].frames.shape[1],
                        languages=(language,))
    cfg = replace(cfg, model=model_cfg, data=replace(cfg.data, language=language))
    model = build_model("signllm", model_cfg)
    n_params = count_parameters(model)

    bs = max(1, tc.batch_size)
    steps_per_epoch = math.ceil(len(train_set) / bs)
    total = tc.epochs * steps_per_epoch
    opt = torch.optim.AdamW(model.parameters(), lr=tc.learning_rate, weight_decay=tc.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, tc.warmup_steps, total, tc.min_lr_ratio))
    plc = PriorityLearningChannel(len(train_set), tc.plc_threshold if tc.plc else 0.0, tc.plc_temperature,
                                  window=max(8, 2 * steps_per_epoch))

    out_dir = output_dir(cfg)
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = out_dir / "metrics.jsonl"
    best: tuple[float, int, dict[str, Any]] = (math.inf, 0, {})
    step, first_epoch = 0, 1
    if resume:
        point = restore_train_state(out_dir, config=given, model=model, optimizer=opt, scheduler=sched, rng=rng)
        step, first_epoch, best, t0 = point.step, point.epoch + 1, tuple(point.best), t0 - point.seconds
        plc.load_state(point.extra["plc"])
    else:
        log_path.unlink(missing_ok=True)
        (out_dir / STATE_FILE).unlink(missing_ok=True)  # a fresh run never resumes an old one
    task.set_total(total, unit="step")
    task.advance(step)
    task.set_status(f"{'resuming' if resume else 'training'} {cfg.name}: {n_params:,} parameters, "
                    f"{len(train_set)} sentences" + (f", epoch {first_epoch}" if resume else ""))

    for epoch in range(first_epoch, tc.epochs + 1):
        model.train()
        order = plc.epoch_order(rng) if tc.plc else rng.permutation(len(train_set))
        sums = {"loss": 0.0, "joint": 0.0, "counter": 0.0}
        trained = 0
        for b in range(steps_per_epoch):
            check_cancelled(task)
            idx = order[b * bs : (b + 1) * bs]
            batch = collate_skeletons([train_set[i] for i in idx], vocab, language)
            out = model(batch["glosses"], batch["gloss_lengths"], batch["frames"], batch["frame_lengths"],
                        language, noise_std=tc.pose_noise)
            terms = sample_losses(out, batch, tc.pose_loss, tc.counter_weight)
            rewards = -terms["mse"]
            recent = np.asarray(plc.recent)
            plc.record(idx, rewards.tolist())
            skip = plc.should_skip(float(rewards.mean()))
            if not skip:
                loss = terms["loss"].mean()
                if tc.rl_weight > 0:
                    w = reward_weights(rewards, recent, tc.plc_temperature)
                    loss = loss + tc.rl_weight * (w * terms["loss"]).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
                opt.step()
                trained += 1
            sched.step()
            step += 1
            for k in sums:
                sums[k] += float(terms[k].mean().detach())
            task.advance()
        if epoch % tc.eval_every == 0 or epoch == tc.epochs:
            task.set_status(f"epoch {epoch}: producing train and dev sentences")
            tr = evaluate_production(model, train_set, vocab, language)
            dev = evaluate_production(model, dev_set, vocab, language)
            row = {"epoch": epoch, "step": step, "loss": sums["loss"] / steps_per_epoch,
                   "joint_loss": sums["joint"] / steps_per_epoch, "counter_loss": sums["counter"] / steps_per_epoch,
                   "train_dtw_mje": tr["dtw_mje"], "dev_dtw_mje": dev["dtw_mje"],
                   "train_length_ratio": tr["length_ratio"], "dev_length_ratio": dev["length_ratio"],
                   "skipped": plc.skipped, "lr": sched.get_last_lr()[0],
                   "seconds": round(time.perf_counter() - t0, 1)}
            with open(log_path, "a") as f:
                f.write(json.dumps(row) + "\n")
            task.partial(row)
            task.set_status(f"epoch {epoch}: loss {row['loss']:.4f}, dev DTW-MJE {dev['dtw_mje']:.4f}")
            if dev["dtw_mje"] < best[0]:
                metrics = {"dev_dtw_mje": dev["dtw_mje"], "train_dtw_mje": tr["dtw_mje"], "dev_n": dev["n"],
                           "epoch": epoch}
                best = (dev["dtw_mje"], epoch, metrics)
                save_model(out_dir / "model.pt", name=cfg.name, model_type="signllm", model=model,
                           gloss_vocab=vocab, text_vocab=None, features=FEATURE_SPEC, metrics=metrics,
                           config=cfg.to_dict())
            save_train_state(out_dir, config=given, model=model, optimizer=opt, scheduler=sched, rng=rng,
                             epoch=epoch, step=step, best=best, seconds=time.perf_counter() - t0,
                             extra={"plc": plc.state()})
    seconds = time.perf_counter() - t0
    with atomic_write(out_dir / "train_summary.json", "w") as f:
        json.dump({"best_epoch": best[1], "dev": best[2], "parameters": n_params, "skipped_batches": plc.skipped,
                   "seconds": round(seconds, 1)}, f, indent=2)
    return TrainResult(out_dir, best[1], best[2], n_params, seconds)
