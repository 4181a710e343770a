"""The training loop: one code path for ``signstudio train`` and (later) the Train tab."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from signstudio.atomic import atomic_write
from signstudio.data.batching import Augmentation, collate, crop_to_glosses, example_features
from signstudio.data.datasets import load_splits
from signstudio.data.vocabulary import Vocabulary
from signstudio.models.registry import build_model, count_parameters
from signstudio.paths import PROJECT_ROOT
from signstudio.pose.features import FEATURE_FPS, NUM_FEATURES
from signstudio.tasks import NullTask, TaskHandle, check_cancelled
from signstudio.runtime.checkpoint import DecodingOptions, load_model, save_model
from signstudio.training.config import ExperimentConfig
from signstudio.lm import GlossLM
from signstudio.training.distributed import Distributed
from signstudio.runtime.sign2text import evaluate_examples
from signstudio.training.evaluation import tune_lm_decoding
from signstudio.training.resume import STATE_FILE, restore_train_state, save_train_state

FEATURE_SPEC = {"kind": "hand_nose_tracks", "fps": FEATURE_FPS, "num_features": NUM_FEATURES}


def seed_run(tc) -> np.random.Generator:
    """Apply a :class:`TrainConfig`'s thread count and seed to torch; return the run's NumPy RNG.

    Every trainer starts with this, so runs with the same config are deterministic on CPU.
    """
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


@dataclass
class TrainResult:
    """What a finished run produced."""

    output: Path  # folder with model.pt and metrics.jsonl
    best_epoch: int
    metrics: dict[str, Any]  # dev metrics of the saved (best) model
    parameters: int
    seconds: float
    main: bool = True  # False in the extra processes of an ``accelerate launch`` run (they write nothing)


def output_dir(cfg: ExperimentConfig) -> Path:
    """The run's output folder: ``cfg.output`` (relative to the current folder) or ``runs/<name>``."""
    return Path(cfg.output) if cfg.output else PROJECT_ROOT / "runs" / cfg.name


def loss_terms(model, batch: dict[str, torch.Tensor], label_smoothing: float,
               has_decoder: bool = True) -> dict[str, torch.Tensor]:
    """CTC gloss loss and translation cross-entropy for one padded batch (each a scalar).

    ``model`` may be wrapped (DistributedDataParallel), hence ``has_decoder`` is passed in.
    """
    out = model(batch["features"], batch["lengths"], batch["text_in"] if has_decoder else None)
    terms = {}
    if "gloss_log_probs" in out:
        terms["ctc"] = F.ctc_loss(
            out["gloss_log_probs"].transpose(0, 1), batch["glosses"], batch["lengths"], batch["gloss_lengths"],
            blank=0, reduction="mean", zero_infinity=True,
        )
    if "text_log_probs" in out:
        logp = out["text_log_probs"]
        terms["ce"] = F.nll_loss(logp.flatten(0, 1), batch["text_out"].flatten(), ignore_index=0) * (
            1 - label_smoothing
        ) + label_smoothing * -(logp.mean(-1).flatten()[batch["text_out"].flatten() != 0]).mean()
    return terms


def train(cfg: ExperimentConfig, task: TaskHandle | None = None, resume: bool = False) -> TrainResult:
    """Train ``cfg``'s model on its dataset; keep the checkpoint with the best dev score.

    Text-transformer and SignLLM configs go to :func:`signstudio.training.text.train_text_model`
    and :func:`signstudio.training.production.train_signllm`; the rest of this docstring is about
    the sign-to-text (Signformer) loop, which keeps the best dev WER.

    Every ``eval_every`` epochs the dev split is decoded; a better dev WER rewrites
    ``<output>/model.pt`` atomically. Each evaluation is appended to ``<output>/metrics.jsonl``
    and handed to ``task.partial`` as a dict (``epoch, step, loss, dev_wer, lr, seconds``), and
    the resumable state is written to ``<output>/train_state.pt`` (:mod:`signstudio.training.resume`).

    With ``resume`` the run continues from that state (every trainer supports it). Under
    ``accelerate launch`` the loop runs data-parallel (:mod:`signstudio.training.distributed`).

    Raises:
        Cancelled: the task was cancelled (the best checkpoint so far stays on disk).
        ConfigError, InputError: bad config, missing data, or nothing (or a different config) to resume.
    """
    if cfg.model_type == "text-transformer":
        from signstudio.training.text import train_text_model

        return train_text_model(cfg, task, resume)
    if cfg.model_type == "signllm":
        from signstudio.training.production import train_signllm

        return train_signllm(cfg, task, resume)
    task = task or NullTask()
    t0 = time.perf_counter()
    tc = cfg.train
    given = cfg.to_dict()
    rng = seed_run(tc)
    dist = Distributed()

    task.set_status("loading data")
    splits = load_splits(cfg.data.dataset, cfg.data.dev_every)
    train_set, dev_set = splits["train"], splits["dev"] or splits["train"][:16]
    gloss_vocab = Vocabulary.build(e.glosses for e in train_set)
    text_vocab = Vocabulary.build(e.text for e in train_set)
    model_cfg = replace(
        cfg.model,
        input_dim=NUM_FEATURES,
        gloss_vocab_size=len(gloss_vocab) if cfg.model.gloss_vocab_size else 0,
        text_vocab_size=len(text_vocab) if cfg.model.decoder_layers else 0,
    )
    cfg = replace(cfg, model=model_cfg)
    model = build_model(cfg.model_type, model_cfg)
    n_params = count_parameters(model)
    augment = Augmentation() if cfg.data.augment else None
    lm = GlossLM.fit((e.glosses for e in train_set), tc.lm_order) if tc.lm_order and model_cfg.gloss_vocab_size else None
    decoding = DecodingOptions(beam_size=tc.beam_size, length_penalty=tc.length_penalty, lm_weight=tc.lm_weight,
                               insertion_bonus=tc.insertion_bonus)

    batches_per_epoch = math.ceil(len(train_set) / tc.batch_size)
    steps_per_epoch = dist.steps(batches_per_epoch)
    total = tc.epochs * steps_per_epoch
    opt = torch.optim.AdamW(model.parameters(), lr=tc.learning_rate, weight_decay=tc.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: lr_factor(s, tc.warmup_steps, total, tc.min_lr_ratio))

    out_dir = output_dir(cfg)
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = out_dir / "metrics.jsonl"
    best = (math.inf, 0, {})
    step, first_epoch = 0, 1
    if resume:
        point = restore_train_state(out_dir, config=given, model=model, optimizer=opt, scheduler=sched, rng=rng)
        step, first_epoch, best, t0 = point.step, point.epoch + 1, tuple(point.best), t0 - point.seconds
    elif dist.is_main:
        log_path.unlink(missing_ok=True)
        (out_dir / STATE_FILE).unlink(missing_ok=True)  # a fresh run never resumes an old one
    net, opt = dist.prepare(model, opt)
    task.set_total(total, unit="step")
    task.advance(step)
    task.set_status(f"{'resuming' if resume else 'training'} {cfg.name}: {n_params:,} parameters, "
                    f"{len(train_set)} clips" + (f", epoch {first_epoch}" if resume else ""))

    for epoch in range(first_epoch, tc.epochs + 1):
        net.train()
        order = rng.permutation(len(train_set))
        epoch_loss = 0.0
        for b in dist.shard(range(batches_per_epoch)):
            check_cancelled(task)
            items = [train_set[i] for i in order[b * tc.batch_size : (b + 1) * tc.batch_size]]
            items = [crop_to_glosses(e, rng) if rng.random() < cfg.data.crop_glosses else e for e in items]
            feats = [example_features(e, augment, rng) for e in items]
            batch = collate(feats, [gloss_vocab.encode(e.glosses) for e in items],
                            [text_vocab.encode(e.text) for e in items])
            batch = {k: v.to(dist.device) for k, v in batch.items()}
            terms = loss_terms(net, batch, tc.label_smoothing, model.has_decoder)
            loss = tc.ctc_weight * terms.get("ctc", 0.0) + tc.translation_weight * terms.get("ce", 0.0)
            opt.zero_grad(set_to_none=True)
            dist.backward(loss)
            torch.nn.utils.clip_grad_norm_(net.parameters(), tc.grad_clip)
            opt.step()
            sched.step()
            step += 1
            epoch_loss += float(loss.detach())
            task.advance()
        if (epoch % tc.eval_every == 0 or epoch == tc.epochs) and dist.is_main:
            dev = evaluate_examples(model, dev_set, gloss_vocab, text_vocab, decoding, lm)
            row = {"epoch": epoch, "step": step, "loss": epoch_loss / steps_per_epoch, "dev_wer": dev["wer"],
                   **{f"dev_{k}": v for k, v in dev.items() if k.startswith("wer_")},
                   "lr": sched.get_last_lr()[0], "seconds": round(time.perf_counter() - t0, 1)}
            with open(log_path, "a") as f:
                f.write(json.dumps(row) + "\n")
            task.partial(row)
            task.set_status(f"epoch {epoch}: loss {row['loss']:.3f}, dev WER {dev['wer']:.3f}")
            if dev["wer"] < best[0]:
                metrics = {"dev_wer": dev["wer"], "dev_n": dev["n"], "epoch": epoch}
                best = (dev["wer"], epoch, metrics)
                save_model(out_dir / "model.pt", name=cfg.name, model_type=cfg.model_type, model=model,
                           gloss_vocab=gloss_vocab if model_cfg.gloss_vocab_size else None,
                           text_vocab=text_vocab if model_cfg.text_vocab_size else None,
                           features=FEATURE_SPEC, metrics=metrics, config=cfg.to_dict(), decoding=decoding,
                           gloss_lm=lm)
            save_train_state(out_dir, config=given, model=model, optimizer=opt, scheduler=sched, rng=rng,
                             epoch=epoch, step=step, best=best, seconds=time.perf_counter() - t0)
        dist.wait()
    if not dist.is_main:
        return TrainResult(out_dir, 0, {}, n_params, time.perf_counter() - t0, main=False)
    if lm is not None and best[1]:
        # Tune the LM weight and insertion bonus of the best model on dev (never on test).
        task.set_status("tuning the gloss LM weight on dev")
        best_model = load_model(out_dir / "model.pt")
        tuned, dev_wer = tune_lm_decoding(best_model.model, dev_set, gloss_vocab, lm, decoding)
        metrics = {**best[2], "dev_wer": dev_wer, "lm_weight": tuned.lm_weight,
                   "insertion_bonus": tuned.insertion_bonus}
        best = (dev_wer, best[1], metrics)
        save_model(out_dir / "model.pt", name=cfg.name, model_type=cfg.model_type, model=best_model.model,
                   gloss_vocab=best_model.gloss_vocab, text_vocab=best_model.text_vocab, features=FEATURE_SPEC,
                   metrics=metrics, config=cfg.to_dict(), decoding=tuned, gloss_lm=lm)
    with atomic_write(out_dir / "train_summary.json", "w") as f:
        json.dump({"best_epoch": best[1], "dev": best[2], "parameters": n_params,
                   "seconds": round(time.perf_counter() - t0, 1)}, f, indent=2)
    return TrainResult(out_dir, best[1], best[2], n_params, time.perf_counter() - t0)
