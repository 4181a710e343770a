"""Sign-to-text recipe: Signformer (Yang 2024) and SignAttention's baseline on pose features.

Loss: CTC on the encoder's gloss head plus the translation decoder's label-smoothed
cross-entropy, ``ctc_weight * CTC + translation_weight * CE`` (joint training as in Camgoz et al.
2020, which Signformer builds on). Batches: shuffled clips, optionally cropped to a random run of
glosses (``data.crop_glosses``) and augmented (rotation, scale, jitter, speed). Dev: WER of the
model's gloss output (:func:`signstudio.runtime.sign2text.evaluate_examples`); after the last
epoch the gloss LM weight and insertion bonus are tuned on dev (never test).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from signstudio.data.batching import Augmentation, TrackExample, collate, crop_to_glosses, example_features
from signstudio.data.datasets import DATASETS, load_splits
from signstudio.data.vocabulary import Vocabulary
from signstudio.lm import GlossLM, ctc_prefix_beam_search
from signstudio.metrics import wer
from signstudio.pose.features import FEATURE_FPS, NUM_FEATURES
from signstudio.runtime.checkpoint import DecodingOptions, load_model, save_model
from signstudio.runtime.sign2text import evaluate_examples
from signstudio.tasks import TaskHandle
from signstudio.training.config import DataConfig, TrainConfig
from signstudio.training.recipe import Evaluation, Recipe, StepLoss, smoothed_nll

#: What a sign-to-text checkpoint reads.
FEATURE_SPEC = {"kind": "hand_nose_tracks", "fps": FEATURE_FPS, "num_features": NUM_FEATURES}


@dataclass
class SignToTextData(DataConfig):
    """``data:`` of a sign-to-text config."""

    dataset: str = "boston104"  # a name from signstudio.data.datasets.DATASETS
    dev_every: int = 10  # every n-th training sentence is held out as dev (BOSTON has no dev split)
    augment: bool = True  # random rotation/scale/speed/jitter of the tracks (see Augmentation)
    crop_glosses: float = 0.0  # probability of training on a random run of glosses cut by their boundaries

    LIMITS = {"dev_every": (1, None), "crop_glosses": (0.0, 1.0)}
    CHOICES = {"dataset": DATASETS}


@dataclass
class SignToTextTrain(TrainConfig):
    """``train:`` of a sign-to-text config: the shared settings plus loss weights and decoding."""

    label_smoothing: float = 0.1  # on the translation cross-entropy
    ctc_weight: float = 1.0  # weight of the CTC gloss loss (0: translation only)
    translation_weight: float = 1.0  # weight of the translation cross-entropy
    beam_size: int = 4  # beam for dev/test decoding
    length_penalty: float = 1.0  # GNMT alpha for beam search
    lm_order: int = 3  # n of the gloss n-gram LM fitted on the training glosses (0: no LM)
    lm_weight: float = 0.5  # LM weight in CTC prefix beam search during training (re-tuned on dev at the end)
    insertion_bonus: float = 0.5  # per-gloss bonus in CTC prefix beam search (re-tuned on dev at the end)

    LIMITS = {**TrainConfig.LIMITS, "label_smoothing": (0.0, 0.99), "ctc_weight": (0.0, None),
              "translation_weight": (0.0, None), "beam_size": (1, 64), "length_penalty": (0.0, None),
              "lm_order": (0, 8), "lm_weight": (0.0, None), "insertion_bonus": (None, None)}


def tune_lm_decoding(model, examples: Sequence[TrackExample], gloss_vocab, lm: GlossLM,
                     base: DecodingOptions | None = None,
                     lm_weights: Sequence[float] = (0.0, 0.3, 0.6, 1.0, 1.5),
                     insertion_bonuses: Sequence[float] = (0.0, 0.5, 1.0, 2.0)) -> tuple[DecodingOptions, float]:
    """Grid-search the LM weight and insertion bonus on ``examples`` (a dev split, never test).

    Returns:
        The best options and their WER (ties go to the smaller LM weight, then smaller bonus).
    """
    base = base or DecodingOptions()
    feats = [example_features(e) for e in examples]
    batch = collate(feats, [[]] * len(feats), [[]] * len(feats))
    with torch.no_grad():
        memory, mask = model.encode(batch["features"], batch["lengths"])
        lp = model.gloss_log_probs(memory)
    refs = [list(e.glosses) for e in examples]
    best = (float("inf"), base)
    for w in lm_weights:
        for b in insertion_bonuses:
            hyps = [ctc_prefix_beam_search(lp[i][mask[i]], gloss_vocab.itos, lm, w, b, base.ctc_beam_size)
                    for i in range(len(examples))]
            score = wer(refs, hyps)
            if score < best[0] - 1e-9:
                best = (score, replace(base, lm_weight=w, insertion_bonus=b))
    return best[1], best[0]


class SignToTextRecipe(Recipe):
    """Signformer-style sign-to-text training on BOSTON-104 hand/nose tracks (see the module)."""

    data_config = SignToTextData
    train_config = SignToTextTrain
    metric = "dev_wer"
    lower_is_better = True
    metric_label = "dev WER"
    unit = "clips"

    def prepare(self, task: TaskHandle):
        cfg, tc = self.cfg, self.cfg.train
        splits = load_splits(cfg.data.dataset, cfg.data.dev_every)
        self.train_set, self.dev_set = splits["train"], splits["dev"] or splits["train"][:16]
        self.train_size = len(self.train_set)
        self.gloss_vocab = Vocabulary.build(e.glosses for e in self.train_set)
        self.text_vocab = Vocabulary.build(e.text for e in self.train_set)
        model_cfg = replace(cfg.model, input_dim=NUM_FEATURES,
                            gloss_vocab_size=len(self.gloss_vocab) if cfg.model.gloss_vocab_size else 0,
                            text_vocab_size=len(self.text_vocab) if cfg.model.decoder_layers else 0)
        self.has_ctc, self.has_text = bool(model_cfg.gloss_vocab_size), bool(model_cfg.text_vocab_size)
        self.augment = Augmentation() if cfg.data.augment else None
        self.lm = (GlossLM.fit((e.glosses for e in self.train_set), tc.lm_order)
                   if tc.lm_order and self.has_ctc else None)
        self.decoding = DecodingOptions(beam_size=tc.beam_size, length_penalty=tc.length_penalty,
                                        lm_weight=tc.lm_weight, insertion_bonus=tc.insertion_bonus)
        return replace(cfg, model=model_cfg)

    def attach(self, model: torch.nn.Module) -> None:
        self.has_decoder = model.has_decoder

    def batches(self, epoch: int, rng: np.random.Generator) -> list[Any]:
        bs = self.cfg.train.batch_size
        order = rng.permutation(self.train_size)
        return [order[b * bs : (b + 1) * bs] for b in range(self.batches_per_epoch())]

    def loss(self, net: torch.nn.Module, batch: Any, rng: np.random.Generator) -> StepLoss:
        tc, crop = self.cfg.train, self.cfg.data.crop_glosses
        items = [self.train_set[i] for i in batch]
        items = [crop_to_glosses(e, rng) if rng.random() < crop else e for e in items]
        feats = [example_features(e, self.augment, rng) for e in items]
        padded = collate(feats, [self.gloss_vocab.encode(e.glosses) for e in items],
                         [self.text_vocab.encode(e.text) for e in items])
        padded = {k: v.to(self.device) for k, v in padded.items()}
        out = net(padded["features"], padded["lengths"], padded["text_in"] if self.has_decoder else None)
        loss = 0.0
        if "gloss_log_probs" in out:
            ctc = F.ctc_loss(out["gloss_log_probs"].transpose(0, 1), padded["glosses"], padded["lengths"],
                             padded["gloss_lengths"], blank=0, reduction="mean", zero_infinity=True)
            loss = tc.ctc_weight * ctc
        if "text_log_probs" in out:
            loss = loss + tc.translation_weight * smoothed_nll(out["text_log_probs"], padded["text_out"],
                                                                tc.label_smoothing)
        return StepLoss(loss, {"loss": float(loss.detach())})

    def evaluate(self, model: torch.nn.Module, epoch: int, task: TaskHandle) -> Evaluation:
        dev = evaluate_examples(model, self.dev_set, self.gloss_vocab, self.text_vocab, self.decoding, self.lm)
        row = {"dev_wer": dev["wer"], **{f"dev_{k}": v for k, v in dev.items() if k.startswith("wer_")}}
        return Evaluation(row, {"dev_wer": dev["wer"], "dev_n": dev["n"]})

    def save(self, path: Path, model: torch.nn.Module, metrics: dict[str, Any],
             decoding: DecodingOptions | None = None) -> None:
        save_model(path, name=self.cfg.name, model_type=self.cfg.model_type, model=model,
                   gloss_vocab=self.gloss_vocab if self.has_ctc else None,
                   text_vocab=self.text_vocab if self.has_text else None, features=FEATURE_SPEC, metrics=metrics,
                   config=self.cfg.to_dict(), decoding=decoding or self.decoding, gloss_lm=self.lm)

    def finish(self, model: torch.nn.Module, out_dir: Path, best: tuple, task: TaskHandle) -> dict[str, Any] | None:
        if self.lm is None:
            return None
        task.set_status("tuning the gloss LM weight on dev")
        best_model = load_model(out_dir / "model.pt").model
        tuned, dev_wer = tune_lm_decoding(best_model, self.dev_set, self.gloss_vocab, self.lm, self.decoding)
        metrics = {**best[2], "dev_wer": dev_wer, "lm_weight": tuned.lm_weight,
                   "insertion_bonus": tuned.insertion_bonus}
        self.save(out_dir / "model.pt", best_model, metrics, tuned)
        return metrics
