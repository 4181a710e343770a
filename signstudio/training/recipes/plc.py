"""SignLLM's Priority Learning Channel and RL loss weights (SignLLM, Sec. 3, "RL loss" / "PLC").

See :mod:`signstudio.training.recipes.signllm` for exactly what is implemented and why.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import torch

from signstudio.errors import ConfigError


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
