"""Isolated sign recognition (ISLR) recipe: the landmark :class:`~signstudio.models.recognizer.SignRecognizer`
on WLASL, chosen on val by top-1 accuracy.

Data: a prepared WLASL folder (:mod:`signstudio.data.wlasl`; ``data.path``, default the shared
``wlasl100``), every clip read once as landmarks at ``data.fps``
(:func:`signstudio.pose.landmarks.clip_landmarks`: points by name, handedness canonical, idle
frames cut). Batches: shuffled clips, augmented (:class:`~signstudio.data.augment.LandmarkAugmentation`:
mirror, rotation, scale, shear, speed, dropped frames, missing hands and points), at most
``data.max_frames`` frames. Loss: label-smoothed cross-entropy. Dev: top-1 and top-5 accuracy on
WLASL's val split (per clip, percent); test is never used for a decision.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from signstudio.data.augment import LandmarkAugmentation
from signstudio.data.wlasl import load_wlasl_folder, pose_path, wlasl_folder
from signstudio.data.sequences import build_sequence, fixed_sequences
from signstudio.errors import ConfigError, InputError
from signstudio.pose.landmarks import NUM_FEATURES, clip_landmarks, landmark_features, normalized_features
from signstudio.runtime.checkpoint import load_model, save_model
from signstudio.runtime.nets import pad_batch as pad_arrays
from signstudio.runtime.recognize import (FEATURE_KIND, accuracy, best_threshold, choose_threshold, predict,
                                          runs_right, sequence_runs, sequence_wer)
from signstudio.tasks import TaskHandle, check_cancelled
from signstudio.training.config import DataConfig, TrainConfig
from signstudio.training.recipe import Evaluation, Recipe, StepLoss


def pad_batch(features: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, T_max, F)`` zero-padded float tensor and ``(B,)`` lengths of ``(T_i, F)`` arrays."""
    x, lengths = pad_arrays(features)
    return torch.from_numpy(x), torch.from_numpy(lengths)



@dataclass
class IslrData(DataConfig):
    """``data:`` of an isolated-sign config."""

    dataset: str = "wlasl"  # the dataset layout (WLASL: nslt_N.json, metadata, poses/VIDEO_ID.pose)
    path: str = "wlasl100"  # a prepared WLASL folder: absolute, or a name in your prepared datasets (see signstudio.data.wlasl.wlasl_folder)
    fps: float = 25.0  # frames per second the clips are resampled to
    max_frames: int = 64  # longest clip the model sees (longer ones: a random crop in training, evenly spaced frames at test)
    language: str = "ase"  # sign language code of the glosses (ISO 639-3; WLASL: American Sign Language)

    LIMITS = {"fps": (1.0, 120.0), "max_frames": (4, 4096)}
    CHOICES = {"dataset": ("wlasl",)}


@dataclass
class IslrTrain(TrainConfig):
    """``train:`` of an isolated-sign config: the shared settings, smoothing and augmentation."""

    label_smoothing: float = 0.1  # on the cross-entropy
    mirror_prob: float = 0.5  # augmentation: chance of seeing a clip in a mirror
    rotation_degrees: float = 15.0  # augmentation: in-plane rotation range
    scale: float = 0.15  # augmentation: independent x/y scale range
    shear: float = 0.15  # augmentation: horizontal shear range
    speed: float = 0.25  # augmentation: play 1 +- speed times as fast
    drop_frames: float = 0.1  # augmentation: chance a frame is lost
    hand_dropout_prob: float = 0.2  # augmentation: chance a hand goes missing for a while
    drop_points: float = 0.02  # augmentation: chance a single point is missing
    ctc_weight: float = 0.0  # weight of the CTC loss on sequences built from the clips (0: isolated signs only)
    sequences_per_batch: int = 8  # built sequences per step when ctc_weight > 0
    dev_sequences: int = 200  # sequences built from val clips (fixed seed) for the dev WER when ctc_weight > 0
    init: str = ""  # start from this checkpoint's weights (an installed model's name or a path); "" for random

    LIMITS = {**TrainConfig.LIMITS, "label_smoothing": (0.0, 0.99), "mirror_prob": (0.0, 1.0),
              "rotation_degrees": (0.0, 90.0), "scale": (0.0, 0.9), "shear": (0.0, 2.0), "speed": (0.0, 0.9),
              "drop_frames": (0.0, 0.9), "hand_dropout_prob": (0.0, 1.0), "drop_points": (0.0, 0.9)}

    def augmentation(self) -> LandmarkAugmentation:
        """The augmentation these settings describe."""
        return LandmarkAugmentation(self.mirror_prob, self.rotation_degrees, self.scale, self.shear, self.speed,
                                    self.drop_frames, self.hand_dropout_prob, self.drop_points)


def load_clips(folder: Path, clips, fps: float, task: TaskHandle) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """``(points, found, label)`` of every clip whose ``.pose`` exists (see :func:`clip_landmarks`).

    Raises:
        InputError: none of the clips has a ``.pose`` file.
    """
    from signstudio.pose.io import read_pose

    out = []
    for clip in clips:
        check_cancelled(task)
        path = pose_path(folder, clip)
        if not path.is_file():
            continue
        points, found, _ = clip_landmarks(read_pose(path), fps)
        out.append((points, found, clip.label))
    return out


class IslrRecipe(Recipe):
    """Isolated sign recognition on WLASL (see the module); with ``train.ctc_weight > 0`` also
    continuous signing by CTC on built sequences, chosen by their dev WER."""

    data_config = IslrData
    train_config = IslrTrain
    metric = "dev_top1"
    lower_is_better = False
    metric_label = "dev top-1 (%)"
    unit = "clips"

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        self.continuous = cfg.train.ctc_weight > 0
        if self.continuous:
            self.metric, self.lower_is_better, self.metric_label = "dev_wer", True, "dev WER (sequences)"

    def prepare(self, task: TaskHandle):
        cfg = self.cfg
        folder = wlasl_folder(cfg.data.path)
        splits, self.classes = load_wlasl_folder(folder)
        num_classes = len(self.classes)
        task.set_status(f"reading the landmarks of {sum(len(v) for v in splits.values())} clips")
        self.train_set = load_clips(folder, splits["train"], cfg.data.fps, task)
        self.dev_set = load_clips(folder, splits["dev"], cfg.data.fps, task)
        if not self.train_set:
            raise InputError(f"{folder}: no prepared training clips in poses/ "
                             "(run `signstudio datasets prepare wlasl VIDEO_DIR -o FOLDER`)")
        self.train_size = len(self.train_set)
        self.augment = cfg.train.augmentation()
        if self.continuous:
            if not cfg.model.ctc:
                raise ConfigError("train.ctc_weight > 0 needs a CTC head: set model.ctc: true")
            self.dev_sequences = fixed_sequences(self.dev_set, cfg.train.dev_sequences, seed=1)
        return replace(cfg, model=replace(cfg.model, input_dim=NUM_FEATURES, num_classes=num_classes))

    def attach(self, model: torch.nn.Module) -> None:
        init = self.cfg.train.init
        if not init:
            return
        from signstudio.runtime.installed import load_installed

        source = load_installed(init).model.state_dict()
        own = model.state_dict()
        matching = {k: v for k, v in source.items() if k in own and own[k].shape == v.shape}
        if not matching:
            raise ConfigError(f"train.init {init!r}: none of its weights fit this model")
        model.load_state_dict(matching, strict=False)

    def batches(self, epoch: int, rng: np.random.Generator) -> list[Any]:
        bs = self.cfg.train.batch_size
        order = rng.permutation(self.train_size)
        return [order[b * bs : (b + 1) * bs] for b in range(self.batches_per_epoch())]

    def loss(self, net: torch.nn.Module, batch: Any, rng: np.random.Generator) -> StepLoss:
        tc, max_frames = self.cfg.train, self.cfg.data.max_frames
        feats, labels = [], []
        for i in batch:
            points, found, label = self.train_set[i]
            points, found = self.augment(points, found, rng)
            if len(points) > max_frames:
                start = int(rng.integers(0, len(points) - max_frames + 1))
                points, found = points[start : start + max_frames], found[start : start + max_frames]
            feats.append(landmark_features(points, found))
            labels.append(label)
        x, lengths = pad_batch(feats)
        y = torch.tensor(labels)
        x, lengths, y = x.to(self.device), lengths.to(self.device), y.to(self.device)
        logits = net(x, lengths)["logits"]
        loss = F.cross_entropy(logits, y, label_smoothing=tc.label_smoothing)
        terms = {"ce": float(loss.detach())}
        if self.continuous:
            ctc = self._ctc_loss(net, rng)
            loss = loss + tc.ctc_weight * ctc
            terms["ctc"] = float(ctc.detach())
        return StepLoss(loss, {"loss": float(loss.detach()), **terms})

    def _ctc_loss(self, net: torch.nn.Module, rng: np.random.Generator) -> torch.Tensor:
        """CTC loss of a batch of sequences built from augmented training clips."""
        seqs = [build_sequence(self.train_set, rng, transform=self.augment)
                for _ in range(self.cfg.train.sequences_per_batch)]
        x, lengths = pad_batch([normalized_features(p, f) for p, f, *_ in seqs])
        targets = torch.tensor([label + 1 for _, _, labels, _ in seqs for label in labels])
        target_lengths = torch.tensor([len(labels) for _, _, labels, _ in seqs])
        out = net(x.to(self.device), lengths.to(self.device))
        return F.ctc_loss(out["ctc_log_probs"].transpose(0, 1), targets.to(self.device), lengths.to(self.device),
                          target_lengths.to(self.device), blank=0, zero_infinity=True)

    def evaluate(self, model: torch.nn.Module, epoch: int, task: TaskHandle) -> Evaluation:
        probs = predict(model, self.dev_set, self.cfg.data.max_frames)
        acc = accuracy(probs, np.array([label for *_, label in self.dev_set]))
        row = {"dev_top1": acc["top1"], "dev_top5": acc["top5"]}
        if self.continuous:
            row["dev_wer"] = sequence_wer(model, self.dev_sequences, self.classes)
        return Evaluation(row, {**row, "dev_n": len(self.dev_set)})

    def save(self, path: Path, model: torch.nn.Module, metrics: dict[str, Any]) -> None:
        features = {"kind": FEATURE_KIND, "fps": self.cfg.data.fps, "max_frames": self.cfg.data.max_frames,
                    "num_features": NUM_FEATURES, "classes": list(self.classes), "language": self.cfg.data.language}
        save_model(path, name=self.cfg.name, model_type=self.cfg.model_type, model=model, gloss_vocab=None,
                   text_vocab=None, features=features, metrics=metrics, config=self.cfg.to_dict())

    def finish(self, model: torch.nn.Module, out_dir: Path, best: tuple, task: TaskHandle) -> dict[str, Any] | None:
        task.set_status("choosing the confidence threshold on dev")
        best_model = load_model(out_dir / "model.pt").model
        probs = predict(best_model, self.dev_set, self.cfg.data.max_frames)
        threshold = choose_threshold(probs, np.array([label for *_, label in self.dev_set]))
        metrics = {**best[2], "threshold": round(threshold, 4)}
        if self.continuous:
            runs = sequence_runs(best_model, self.dev_sequences)
            conf = [c for r in runs for _, c in r]
            right = [ok for r, seq in zip(runs, self.dev_sequences) for ok in runs_right(r, seq[2])]
            metrics["ctc_threshold"] = round(best_threshold(np.array(conf), np.array(right)), 4)
        self.save(out_dir / "model.pt", best_model, metrics)
        return metrics
