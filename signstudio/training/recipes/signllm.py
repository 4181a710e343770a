"""SignLLM recipe: gloss -> continuous 3D pose (SignLLM, Fang et al. 2024), trained by the one loop.

Every ``eval_every`` epochs the train and dev sentences are produced by counter decoding and scored
by DTW-MJE; the row adds ``joint_loss, counter_loss, train_dtw_mje, dev_dtw_mje,
train_length_ratio, dev_length_ratio, skipped`` to the loop's; the best dev DTW-MJE is kept. It
trains in one process (``accelerate launch`` with several is refused).

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

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from signstudio.data.skeletons import dataset_language, load_skeleton_splits, skeleton_folder
from signstudio.data.vocabulary import Vocabulary
from signstudio.errors import ConfigError
from signstudio.models.signllm import tag_glosses
from signstudio.runtime.checkpoint import save_model
from signstudio.runtime.producer import FEATURE_SPEC, collate_skeletons, evaluate_production
from signstudio.tasks import TaskHandle
from signstudio.training.config import DataConfig, TrainConfig
from signstudio.training.recipe import Evaluation, Recipe, StepLoss
from signstudio.training.recipes.plc import PriorityLearningChannel, reward_weights


@dataclass
class SignLLMData(DataConfig):
    """``data:`` of a SignLLM config."""

    dataset: str = "phoenix14t-skels"  # a skeleton dataset name
    path: str = ""  # a folder of .skels files or a .tsv manifest of .pose files (wins over dataset)
    language: str = ""  # the sign language code (MLSF group, Prompt2LangGloss tag); default: the dataset's
    dev_every: int = 10  # a folder without a dev split holds out every n-th training sentence

    LIMITS = {"dev_every": (0, None)}

    def check(self, where: str) -> None:
        """Also refuse an unknown dataset without a ``path``, and a language no one names."""
        super().check(where)
        if not self.path:
            skeleton_folder(self.dataset)
        dataset_language(self.dataset, self.language)


@dataclass
class SignLLMTrain(TrainConfig):
    """``train:`` of a SignLLM config: the shared settings plus the pose loss, RL and PLC."""

    pose_loss: str = "mse"  # "mse" or "l1" on the produced joints
    counter_weight: float = 1.0  # weight of the counter (progress) MSE beside the joint loss
    pose_noise: float = 0.0  # std of Gaussian noise on teacher-forced input joints (skeleton units)
    rl_weight: float = 0.0  # weight of the reward-weighted RL loss (0: off); rewards are -MSE per sample
    plc: bool = False  # Priority Learning Channel: sample sentences by last epoch's rewards
    plc_threshold: float = 0.0  # PLC: skip a batch whose mean reward is below this quantile of recent ones
    plc_temperature: float = 1.0  # temperature of the softmax over standardised rewards (PLC, RL weights)

    LIMITS = {**TrainConfig.LIMITS, "counter_weight": (0.0, None), "pose_noise": (0.0, None),
              "rl_weight": (0.0, None), "plc_threshold": (0.0, 0.99), "plc_temperature": (1e-6, None)}
    CHOICES = {"pose_loss": ("mse", "l1")}


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


class SignLLMRecipe(Recipe):
    """SignLLM training with teacher forcing, the RL loss and the Priority Learning Channel."""

    data_config = SignLLMData
    train_config = SignLLMTrain
    metric = "dev_dtw_mje"
    lower_is_better = True
    metric_label = "dev DTW-MJE"
    max_processes = 1
    unit = "sentences"

    def prepare(self, task: TaskHandle):
        cfg = self.cfg
        self.language = dataset_language(cfg.data.dataset, cfg.data.language)
        splits = load_skeleton_splits(cfg.data.dataset, cfg.data.path, cfg.data.dev_every)
        self.train_set = splits["train"]
        self.dev_set = splits["dev"] or self.train_set
        self.train_size = len(self.train_set)
        self.vocab = Vocabulary.build(tag_glosses(e.glosses, self.language) for e in self.train_set)
        model_cfg = replace(cfg.model, gloss_vocab_size=len(self.vocab), num_joints=self.train_set[0].frames.shape[1],
                            languages=(self.language,))
        return replace(cfg, model=model_cfg, data=replace(cfg.data, language=self.language))

    def attach(self, model: torch.nn.Module) -> None:
        tc = self.cfg.train
        self.plc = PriorityLearningChannel(self.train_size, tc.plc_threshold if tc.plc else 0.0, tc.plc_temperature,
                                           window=max(8, 2 * self.batches_per_epoch()))

    def batches(self, epoch: int, rng: np.random.Generator) -> list[Any]:
        bs = self.cfg.train.batch_size
        order = self.plc.epoch_order(rng) if self.cfg.train.plc else rng.permutation(self.train_size)
        return [order[b * bs : (b + 1) * bs] for b in range(self.batches_per_epoch())]

    def loss(self, net: torch.nn.Module, batch: Any, rng: np.random.Generator) -> StepLoss:
        tc = self.cfg.train
        padded = collate_skeletons([self.train_set[i] for i in batch], self.vocab, self.language)
        out = net(padded["glosses"], padded["gloss_lengths"], padded["frames"], padded["frame_lengths"],
                  self.language, noise_std=tc.pose_noise)
        terms = sample_losses(out, padded, tc.pose_loss, tc.counter_weight)
        rewards = -terms["mse"]
        recent = np.asarray(self.plc.recent)
        self.plc.record(batch, rewards.tolist())
        loss = None
        if not self.plc.should_skip(float(rewards.mean())):
            loss = terms["loss"].mean()
            if tc.rl_weight > 0:
                w = reward_weights(rewards, recent, tc.plc_temperature)
                loss = loss + tc.rl_weight * (w * terms["loss"]).mean()
        logged = {"loss": "loss", "joint_loss": "joint", "counter_loss": "counter"}
        return StepLoss(loss, {k: float(terms[v].mean().detach()) for k, v in logged.items()})

    def evaluate(self, model: torch.nn.Module, epoch: int, task: TaskHandle) -> Evaluation:
        task.set_status(f"epoch {epoch}: producing train and dev sentences")
        tr = evaluate_production(model, self.train_set, self.vocab, self.language)
        dev = evaluate_production(model, self.dev_set, self.vocab, self.language)
        row = {"train_dtw_mje": tr["dtw_mje"], "dev_dtw_mje": dev["dtw_mje"], "train_length_ratio": tr["length_ratio"],
               "dev_length_ratio": dev["length_ratio"], "skipped": self.plc.skipped}
        return Evaluation(row, {"dev_dtw_mje": dev["dtw_mje"], "train_dtw_mje": tr["dtw_mje"], "dev_n": dev["n"]})

    def save(self, path: Path, model: torch.nn.Module, metrics: dict[str, Any]) -> None:
        save_model(path, name=self.cfg.name, model_type=self.cfg.model_type, model=model, gloss_vocab=self.vocab,
                   text_vocab=None, features=FEATURE_SPEC, metrics=metrics, config=self.cfg.to_dict())

    def state(self) -> dict[str, Any]:
        return {"plc": self.plc.state()}

    def load_state(self, state: dict[str, Any]) -> None:
        self.plc.load_state(state["plc"])

    def summary(self) -> dict[str, Any]:
        return {"skipped_batches": self.plc.skipped}
