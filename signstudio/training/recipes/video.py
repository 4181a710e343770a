"""Sign-to-text from video frames: the spatio-temporal transformer
(:class:`~signstudio.models.spatiotemporal.SpatioTemporalTransformer`, Ruiz & Martinez 2025) on
WLASL, chosen on val by top-1 accuracy.

Data: the clips of a WLASL split file (``data.path``: a WLASL folder with ``nslt_N.json`` and the
metadata), read as cached backbone maps (:mod:`signstudio.data.video_features`; ``data.videos``
names the folder of ``VIDEO_ID.mp4`` files, whose missing maps are computed first), the ``rgb``
or optical-``flow`` stream (``data.stream``: the paper's ablation), or both (``rgb+flow``). Each clip is one gloss and its
text is the gloss word, so the CTC head learns the gloss over the frames and the decoder writes
the word. Loss: ``ctc_weight * CTC + ce_weight * CE`` (label-smoothed). Augmentation on the cached
maps: a random run of at least ``min_frames`` of the clip's frames, and frames dropped at random.
Dev: top-1 / top-5 of the decoder's first word among the classes (percent); test is never used
for a decision.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from signstudio.data.video_features import FLOW_PAIRS, STREAM_CHOICES, FrameSettings, cache_folder, load_clip_maps, stream_parts
from signstudio.runtime.video_cache import build_wlasl_cache
from signstudio.data.vocabulary import Vocabulary
from signstudio.data.wlasl import class_names, find_wlasl_files, load_wlasl, wlasl_folder
from signstudio.errors import InputError
from signstudio.models.backbones import CHANNELS
from signstudio.runtime.checkpoint import save_model
from signstudio.runtime.video import FEATURE_KIND, class_log_probs, pad_maps, top_k_accuracy
from signstudio.tasks import TaskHandle, check_cancelled
from signstudio.training.config import DataConfig, TrainConfig
from signstudio.training.recipe import Evaluation, Recipe, StepLoss, smoothed_nll


@dataclass
class VideoData(DataConfig):
    """``data:`` of a video sign-to-text config."""

    dataset: str = "wlasl"  # the dataset layout (WLASL: nslt_N.json + metadata)
    path: str = "wlasl100"  # a WLASL folder with the split file and metadata (absolute, or a prepared dataset's name)
    videos: str = ""  # the folder of VIDEO_ID.mp4 files (only needed for clips not in the feature cache yet)
    trim: bool = False  # the videos are untrimmed sources: keep each clip's frame_start..frame_end
    stream: str = "flow"  # what the backbone reads: "flow" (optical flow images, the paper), "rgb", or "rgb+flow" (both maps, concatenated)
    frames: int = 16  # frames sampled per clip
    flow: str = "next-frame"  # each sampled frame's flow goes to the next video frame, or to the "next-sample"
    backbone: str = "efficientnet-lite0"  # frozen ImageNet CNN: efficientnet-lite0 (shipped weights) or resnet18
    weights: str = ""  # the backbone's weights file ("" for the default; resnet18 needs torchvision's .pth)
    language: str = "ase"  # sign language code of the glosses

    LIMITS = {"frames": (2, 512)}
    CHOICES = {"dataset": ("wlasl",), "stream": STREAM_CHOICES, "backbone": tuple(CHANNELS), "flow": tuple(FLOW_PAIRS)}

    def settings(self) -> FrameSettings:
        """The feature-cache settings these fields describe."""
        return FrameSettings(frames=self.frames, backbone=self.backbone, weights=self.weights,
                             flow=FLOW_PAIRS[self.flow])


@dataclass
class VideoTrain(TrainConfig):
    """``train:`` of a video sign-to-text config."""

    ctc_weight: float = 1.0  # weight of the CTC gloss loss
    ce_weight: float = 1.0  # weight of the decoder's cross-entropy
    label_smoothing: float = 0.1  # on the cross-entropy
    min_frames: int = 12  # augmentation: shortest random run of frames kept
    drop_frames: float = 0.1  # augmentation: chance a frame is dropped

    LIMITS = {**TrainConfig.LIMITS, "ctc_weight": (0.0, 100.0), "ce_weight": (0.0, 100.0),
              "label_smoothing": (0.0, 0.99), "min_frames": (1, 512), "drop_frames": (0.0, 0.9)}


class VideoRecipe(Recipe):
    """See the module."""

    data_config = VideoData
    train_config = VideoTrain
    metric = "dev_top1"
    lower_is_better = False
    metric_label = "dev top-1 (%)"
    unit = "clips"

    def prepare(self, task: TaskHandle):
        cfg, data = self.cfg, self.cfg.data
        folder = wlasl_folder(data.path)
        split_file, metadata = find_wlasl_files(folder)
        clips = load_wlasl(split_file, metadata)
        self.classes = class_names(split_file, metadata)
        settings = data.settings()
        cache = cache_folder(settings)
        missing = [c for c in clips if not (cache / f"{c.video_id}.npz").is_file()]
        if missing and data.videos:
            task.set_status(f"computing the {data.stream} maps of {len(missing)} clips (once)")
            build_wlasl_cache(data.videos, split_file, metadata, settings, trim=data.trim, task=task)
        task.set_status(f"reading the cached {data.stream} maps")
        self.sets: dict[str, list[tuple[np.ndarray, int]]] = {"train": [], "dev": []}
        for clip in clips:
            check_cancelled(task)
            if clip.split in self.sets and (cache / f"{clip.video_id}.npz").is_file():
                self.sets[clip.split].append((load_clip_maps(cache, clip.video_id, data.stream), clip.label))
        if not self.sets["train"] or not self.sets["dev"]:
            raise InputError(f"no cached {data.stream} maps for {folder}'s train/val clips in {cache}; set "
                             "data.videos to the folder of the videos, or run `signstudio datasets features`")
        self.train_size = len(self.sets["train"])
        self.vocab = _class_vocabulary(self.classes)
        self.class_ids = np.array([self.vocab.stoi[g] for g in self.classes])
        model = replace(cfg.model, input_channels=CHANNELS[data.backbone] * len(stream_parts(data.stream)), text_vocab_size=len(self.vocab.itos),
                        gloss_vocab_size=len(self.vocab.itos) if cfg.train.ctc_weight > 0 else 0)
        return replace(cfg, model=model)

    def batches(self, epoch: int, rng: np.random.Generator) -> list[Any]:
        bs = self.cfg.train.batch_size
        order = rng.permutation(self.train_size)
        return [order[b * bs : (b + 1) * bs] for b in range(self.batches_per_epoch())]

    def _augment(self, maps: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        tc = self.cfg.train
        t = len(maps)
        keep = int(rng.integers(min(tc.min_frames, t), t + 1))
        start = int(rng.integers(0, t - keep + 1))
        maps = maps[start : start + keep]
        kept = rng.random(len(maps)) >= tc.drop_frames
        return maps[kept] if kept.sum() >= 2 else maps

    def loss(self, net: torch.nn.Module, batch: Any, rng: np.random.Generator) -> StepLoss:
        tc = self.cfg.train
        items = [self.sets["train"][i] for i in batch]
        clips = [self._augment(m, rng) for m, _ in items]
        maps, lengths = pad_maps(clips)
        words = torch.tensor([int(self.class_ids[label]) for _, label in items])
        tokens_in = torch.stack([torch.full_like(words, Vocabulary.bos_index), words], 1)
        tokens_out = torch.stack([words, torch.full_like(words, Vocabulary.eos_index)], 1)
        out = net(maps.to(self.device), lengths.to(self.device), tokens_in.to(self.device))
        ce = smoothed_nll(out["text_log_probs"], tokens_out.to(self.device), tc.label_smoothing)
        loss = tc.ce_weight * ce
        terms = {"ce": float(ce.detach())}
        if "gloss_log_probs" in out:
            ctc = F.ctc_loss(out["gloss_log_probs"].transpose(0, 1), words[:, None].to(self.device),
                             lengths.to(self.device), torch.ones_like(words).to(self.device), blank=0,
                             reduction="mean", zero_infinity=True)
            loss = loss + tc.ctc_weight * ctc
            terms["ctc"] = float(ctc.detach())
        return StepLoss(loss, {"loss": float(loss.detach()), **terms})

    def evaluate(self, model: torch.nn.Module, epoch: int, task: TaskHandle) -> Evaluation:
        dev = self.sets["dev"]
        logp = np.concatenate([class_log_probs(model, [m for m, _ in dev[i : i + 32]], self.class_ids)
                               for i in range(0, len(dev), 32)])
        acc = top_k_accuracy(logp, np.array([label for _, label in dev]))
        row = {"dev_top1": acc["top1"], "dev_top5": acc["top5"]}
        return Evaluation(row, {**row, "dev_n": len(dev)})

    def save(self, path: Path, model: torch.nn.Module, metrics: dict[str, Any]) -> None:
        data = self.cfg.data
        features = {"kind": FEATURE_KIND, "stream": data.stream, "frames": data.frames, "backbone": data.backbone,
                    "weights": data.weights, "flow": data.settings().flow, "size": 224, "classes": list(self.classes), "language": data.language}
        save_model(path, name=self.cfg.name, model_type=self.cfg.model_type, model=model, gloss_vocab=self.vocab,
                   text_vocab=self.vocab, features=features, metrics=metrics, config=self.cfg.to_dict())


def _class_vocabulary(classes: list[str]) -> Vocabulary:
    """The four specials, then the class glosses in class order (a gloss's id is its class + 4)."""
    return Vocabulary(classes)
