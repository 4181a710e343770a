"""SpaMo (:mod:`signstudio.models.spamo`, Hwang et al. 2024): sign video to spoken-language text
through a Sign Adapter and an LLM with LoRA, with VT-Align as warm-up and auxiliary loss.

Data (``data.dataset``):
- ``wlasl``: the clips of a WLASL split file (``data.path``), each translated to its English gloss
  word (there is no sentence-level sign video here); dev metric: exact-match top-1 (percent).
- ``phoenix14t``: a PHOENIX-2014-T corpus root with the full-frame folders (``data.path``) and
  the slt annotations (``data.annotations``); ``how2sign``: How2Sign videos (``data.path``) with
  their sentence files (``data.annotations``, default the same folder). Dev metric: BLEU-4.

Features (:mod:`signstudio.data.spamo_features`) are read from the cache; missing ones are
computed first (WLASL: from ``data.videos``, in parallel).

Loss (Sec. 3.3): for the first ``train.align_warmup_steps`` steps VT-Align alone, then
``LM + align_weight * VT-Align``. Dev generation is greedy (``train.eval_beams``) for speed; the
saved model's decoding uses ``model.beams``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from signstudio.data.spamo_features import SpaMoFeatureSettings, load_spamo_features
from signstudio.data.video_features import cache_folder
from signstudio.errors import InputError
from signstudio.models.backbones import CHANNELS
from signstudio.runtime.checkpoint import save_model
from signstudio.runtime.spamo import FEATURE_KIND, exact_match, feature_batch
from signstudio.tasks import TaskHandle, check_cancelled
from signstudio.training.config import DataConfig, TrainConfig
from signstudio.training.recipe import Evaluation, Recipe, StepLoss


@dataclass
class SpaMoData(DataConfig):
    """``data:`` of a SpaMo config."""

    dataset: str = "wlasl"  # wlasl (sign -> English word), phoenix14t (frame folders) or how2sign (videos)
    path: str = "wlasl100"  # WLASL folder / PHOENIX-2014-T corpus root / How2Sign video folder
    annotations: str = ""  # phoenix14t: the slt annotation folder; how2sign: the sentence files' folder ("" = defaults)
    videos: str = ""  # wlasl: the folder of VIDEO_ID.mp4 files (only needed for clips not cached yet)
    trim: bool = False  # wlasl: the videos are untrimmed sources (keep frame_start..frame_end)
    frames: int = 16  # frames sampled per clip for the spatial features (0: every frame)
    scales: tuple = (1, 2)  # S2 scales of the spatial features
    backbone: str = "efficientnet-lite0"  # the offline spatial/motion CNN
    weights: str = ""  # its weights file ("" = the packaged default)
    clip_vision: str = ""  # a local CLIPVisionModel folder as spatial encoder (the paper's)
    videomae: str = ""  # a local VideoMAEModel folder as motion encoder (the paper's)
    sign_language: str = "ase"  # sign language code of the videos

    LIMITS = {"frames": (0, 4096)}
    CHOICES = {"dataset": ("wlasl", "phoenix14t", "how2sign"), "backbone": tuple(CHANNELS)}

    def settings(self) -> SpaMoFeatureSettings:
        """The feature-cache settings these fields describe."""
        return SpaMoFeatureSettings(frames=self.frames, scales=tuple(self.scales), backbone=self.backbone,
                                    weights=self.weights, clip_vision=self.clip_vision, videomae=self.videomae)


@dataclass
class SpaMoTrain(TrainConfig):
    """``train:`` of a SpaMo config."""

    align_warmup_steps: int = 200  # VT-Align-only steps before the LM loss starts (0: no warm-up)
    align_weight: float = 0.1  # alpha: weight of VT-Align beside the LM loss after the warm-up (0: off)
    eval_beams: int = 1  # beam size of dev generation (1: greedy, fast)

    LIMITS = {**TrainConfig.LIMITS, "align_warmup_steps": (0, None), "align_weight": (0.0, 100.0),
              "eval_beams": (1, 32)}


class SpaMoRecipe(Recipe):
    """See the module."""

    data_config = SpaMoData
    train_config = SpaMoTrain
    metric = "dev_top1"
    lower_is_better = False
    metric_label = "dev exact-match top-1 (%)"
    betas = (0.9, 0.98)
    max_processes = 1
    unit = "clips"

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        self.steps = 0
        if cfg.data.dataset != "wlasl":
            self.metric, self.metric_label = "dev_bleu4", "dev BLEU-4"

    def prepare(self, task: TaskHandle):
        from signstudio.data import spamo_data

        data = self.cfg.data
        settings = data.settings()
        items = spamo_data.load_items(data)
        cache = cache_folder(settings)
        missing = [it for it in items if not (cache / f"{it.key}.npz").is_file()]
        if missing:
            from signstudio.export.video import ensure_backbone_onnx
            from signstudio.runtime.video_cache import cache_spamo_items

            task.set_status(f"computing SpaMo features of {len(missing)} clips (once)")
            ensure_backbone_onnx(settings.backbone, settings.weights)
            cache_spamo_items(data, missing, settings, task)
        self.sets: dict[str, list[tuple[dict[str, np.ndarray], str]]] = {"train": [], "dev": []}
        task.set_status("reading the cached SpaMo features")
        for it in items:
            check_cancelled(task)
            if it.split in self.sets and (cache / f"{it.key}.npz").is_file():
                self.sets[it.split].append((load_spamo_features(cache, it.key), it.text))
        if not self.sets["train"] or not self.sets["dev"]:
            raise InputError(f"no SpaMo features for the train/dev clips of {data.path} in {cache}; set "
                             "data.videos, or run `signstudio datasets features wlasl --spamo`")
        self.train_size = len(self.sets["train"])
        first = self.sets["train"][0][0]
        model = replace(self.cfg.model, spatial_dim=int(first["spatial"].shape[1]),
                        motion_dim=int(first["motion"].shape[1]))
        return replace(self.cfg, model=model)

    def batches(self, epoch: int, rng: np.random.Generator) -> list[Any]:
        bs = self.cfg.train.batch_size
        order = rng.permutation(self.train_size)
        return [order[b * bs : (b + 1) * bs] for b in range(self.batches_per_epoch())]

    def loss(self, net: torch.nn.Module, batch: Any, rng: np.random.Generator) -> StepLoss:
        tc = self.cfg.train
        items = [self.sets["train"][i] for i in batch]
        texts = [t for _, t in items]
        visual, mask = net.visual(feature_batch([f for f, _ in items], self.device))
        self.steps += 1
        align = net.align_loss(visual, mask, texts)
        if self.steps <= tc.align_warmup_steps:
            return StepLoss(align, {"loss": float(align.detach()), "align": float(align.detach())})
        lm = net.lm_loss(visual, mask, texts)
        loss = lm + tc.align_weight * align if tc.align_weight else lm
        return StepLoss(loss, {"loss": float(loss.detach()), "lm": float(lm.detach()), "align": float(align.detach())})

    def translate(self, model: torch.nn.Module, features: list[dict[str, np.ndarray]], beams: int,
                  task: TaskHandle | None = None, batch: int = 16) -> list[str]:
        """Translations of cached features (eval mode, batches of ``batch``)."""
        model.eval()
        out = []
        for i in range(0, len(features), batch):
            if task is not None:
                check_cancelled(task)
            out += model.generate(feature_batch(features[i : i + batch], self.device), beams=beams)
        return out

    def evaluate(self, model: torch.nn.Module, epoch: int, task: TaskHandle) -> Evaluation:
        from signstudio.runtime.text import score

        dev = self.sets["dev"]
        if self.steps <= self.cfg.train.align_warmup_steps:
            # Still in the VT-Align warm-up: the LLM has not been asked to translate yet, so the
            # dev score is the contrastive loss; the selection metric stays NaN (never "best").
            row = {self.metric: math.nan, "dev_align": self.dev_align(model)}
            return Evaluation(row, dict(row))
        hyps = self.translate(model, [f for f, _ in dev], self.cfg.train.eval_beams, task)
        refs = [t for _, t in dev]
        if self.metric == "dev_top1":
            row = {"dev_top1": exact_match(hyps, refs)}
        else:
            scores = score(hyps, refs)
            row = {"dev_bleu4": scores["bleu4"], "dev_chrf": scores.get("chrf")}
        shown = "; ".join(f"{h!r} for {r!r}" for h, r in list(zip(hyps, refs))[:3])
        task.set_status(f"epoch {epoch}: dev examples {shown}")
        return Evaluation(row, {**row, "dev_n": len(dev), "dev_beams": self.cfg.train.eval_beams})

    @torch.no_grad()
    def dev_align(self, model: torch.nn.Module, batch: int = 8) -> float:
        """VT-Align's loss on dev, in batches of ``batch`` (eval mode), averaged."""
        model.eval()
        dev, losses = self.sets["dev"], []
        for i in range(0, len(dev) - batch + 1, batch):
            items = dev[i : i + batch]
            visual, mask = model.visual(feature_batch([f for f, _ in items], self.device))
            losses.append(float(model.align_loss(visual, mask, [t for _, t in items])))
        return round(float(np.mean(losses)), 4) if losses else math.nan

    def save(self, path: Path, model: torch.nn.Module, metrics: dict[str, Any]) -> None:
        data = self.cfg.data
        features = {"kind": FEATURE_KIND, "settings": {**data.settings().__dict__, "scales": list(data.scales)},
                    "dataset": data.dataset, "language": data.sign_language,
                    "spoken_language": self.cfg.model.language}
        save_model(path, name=self.cfg.name, model_type=self.cfg.model_type, model=model, gloss_vocab=None,
                   text_vocab=None, features=features, metrics=metrics, config=self.cfg.to_dict())

    def state(self) -> dict[str, Any]:
        return {"steps": self.steps}

    def load_state(self, state: dict[str, Any]) -> None:
        self.steps = int(state.get("steps", 0))
