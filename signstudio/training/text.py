"""Training, evaluation and inference for text-to-gloss and gloss-to-text models.

One code path serves both directions of the :class:`~signstudio.models.seq2seq.TextTransformer`
(``data.direction``). The sign language enters as a Prompt2LangGloss tag (SignLLM, Sec. 3): in
``text2gloss`` the decoder starts from ``<gsg>`` instead of ``<s>``; in ``gloss2text`` the tag is
the first source token. The checkpoint with the best dev BLEU-4 (greedy) is kept; at the end the
beam search length penalty is tuned on dev and stored with the model.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch.nn import functional as F

from signstudio.atomic import atomic_write
from signstudio.data.phoenix import PHOENIX_LANGUAGE
from signstudio.data.vocabulary import Vocabulary
from signstudio.models.registry import build_model, count_parameters
from signstudio.runtime.checkpoint import DecodingOptions, load_model, save_model
from signstudio.runtime.text import Pair, batch_pairs as _batch, language_tag, load_text_splits as _load, score, translate_tokens
from signstudio.tasks import NullTask, TaskHandle, check_cancelled
from signstudio.training.config import ExperimentConfig


def load_text_splits(cfg: ExperimentConfig):
    d = cfg.data
    return _load(d.dataset, d.direction, d.language, d.path)

def _vocabularies(train: Sequence[Pair], direction: str, tag: str) -> tuple[Vocabulary, Vocabulary]:
    src = Vocabulary.build(p.source for p in train)
    tgt_tokens = Vocabulary.build(p.target for p in train).itos[4:]
    tgt = Vocabulary(([tag] if direction == "text2gloss" else []) + tgt_tokens)
    return src, tgt


def train_text_model(cfg: ExperimentConfig, task: TaskHandle | None = None, resume: bool = False):
    """Train a text-to-gloss or gloss-to-text :class:`TextTransformer` on ``cfg.data``.

    Every ``eval_every`` epochs the dev split is decoded greedily; a better dev BLEU-4 rewrites
    ``<output>/model.pt`` atomically. Rows (``epoch, step, loss, dev_bleu4, lr, seconds``) go to
    ``<output>/metrics.jsonl`` and ``task.partial``. At the end the beam-search length penalty is
    tuned on dev (beam ``train.beam_size``) and stored in the checkpoint with the dev scores.
    Resume and ``accelerate launch`` work as in :func:`signstudio.training.trainer.train`.

    Raises:
        Cancelled: the task was cancelled (the best checkpoint so far stays on disk).
        ConfigError, InputError: bad config or missing data.
    """
    from signstudio.training.distributed import Distributed
    from signstudio.training.resume import STATE_FILE, restore_train_state, save_train_state
    from signstudio.training.trainer import TrainResult, lr_factor, output_dir, seed_run

    task = task or NullTask()
    t0 = time.perf_counter()
    tc = cfg.train
    given = cfg.to_dict()
    rng = seed_run(tc)
    dist = Distributed()
    task.set_status("loading data")
    splits = load_text_splits(cfg)
    train_set, dev_set = splits["train"], splits["dev"]
    language = cfg.data.language or PHOENIX_LANGUAGE
    tag = language_tag(language)
    src_vocab, tgt_vocab = _vocabularies(train_set, cfg.data.direction, tag)
    bos = tgt_vocab.stoi[tag] if cfg.data.direction == "text2gloss" else Vocabulary.bos_index
    model_cfg = replace(cfg.model, src_vocab_size=len(src_vocab), tgt_vocab_size=len(tgt_vocab))
    cfg = replace(cfg, model=model_cfg)
    model = build_model(cfg.model_type, model_cfg)
    n_params = count_parameters(model)

    steps_per_epoch = dist.steps(math.ceil(len(train_set) / tc.batch_size))
    total = tc.epochs * steps_per_epoch
    opt = torch.optim.AdamW(model.parameters(), lr=tc.learning_rate, weight_decay=tc.weight_decay,
                            betas=(0.9, 0.98))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, tc.warmup_steps, total, tc.min_lr_ratio))
    out_dir = output_dir(cfg)
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = out_dir / "metrics.jsonl"
    best = (-1.0, 0)
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
                    f"{len(train_set)} sentences" + (f", epoch {first_epoch}" if resume else ""))
    (src_key, tgt_key) = ("text", "gloss") if cfg.data.direction == "text2gloss" else ("gloss", "text")
    features = {"kind": "tokens", "direction": cfg.data.direction, "language": language,
                "source": src_key, "target": tgt_key, "bos": tgt_vocab.itos[bos]}
    vocabs = {f"{src_key}_vocab": src_vocab, f"{tgt_key}_vocab": tgt_vocab}

    def save(metrics: dict, decoding: DecodingOptions) -> None:
        save_model(out_dir / "model.pt", name=cfg.name, model_type=cfg.model_type, model=model,
                   gloss_vocab=vocabs["gloss_vocab"], text_vocab=vocabs["text_vocab"], features=features,
                   metrics=metrics, config=cfg.to_dict(), decoding=decoding)

    dev_refs = [p.target for p in dev_set]
    for epoch in range(first_epoch, tc.epochs + 1):
        net.train()
        # Length-bucketed batches (shuffled buckets of similar source length) waste less padding.
        order = rng.permutation(len(train_set))
        chunks = [order[i : i + tc.batch_size * 20] for i in range(0, len(order), tc.batch_size * 20)]
        batches = []
        for chunk in chunks:
            chunk = sorted(chunk, key=lambda i: len(train_set[i].source))
            batches += [chunk[i : i + tc.batch_size] for i in range(0, len(chunk), tc.batch_size)]
        rng.shuffle(batches)
        batches = dist.shard(batches)
        epoch_loss = 0.0
        for idx in batches:
            check_cancelled(task)
            src, lengths, tin, tout = (t.to(dist.device) for t in
                                       _batch([train_set[i] for i in idx], src_vocab, tgt_vocab, bos))
            logp = net(src, lengths, tin)
            loss = F.nll_loss(logp.flatten(0, 1), tout.flatten(), ignore_index=0, reduction="mean")
            if tc.label_smoothing:
                smooth = -logp.mean(-1).flatten()[tout.flatten() != 0].mean()
                loss = (1 - tc.label_smoothing) * loss + tc.label_smoothing * smooth
            opt.zero_grad(set_to_none=True)
            dist.backward(loss)
            torch.nn.utils.clip_grad_norm_(net.parameters(), tc.grad_clip)
            opt.step()
            sched.step()
            step += 1
            epoch_loss += loss.item()
            task.advance()
        if (epoch % tc.eval_every == 0 or epoch == tc.epochs) and dist.is_main:
            task.set_status(f"epoch {epoch}: decoding dev")
            hyps = translate_tokens(model, [p.source for p in dev_set], src_vocab, tgt_vocab, bos)
            dev = score(dev_refs, hyps)
            row = {"epoch": epoch, "step": step, "loss": round(epoch_loss / len(batches), 4),
                   "dev_bleu4": round(dev["bleu4"], 2), "dev_rouge_l": round(dev["rouge_l"], 2),
                   "lr": sched.get_last_lr()[0], "seconds": round(time.perf_counter() - t0, 1)}
            with open(log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
            task.partial(row)
            task.set_status(f"epoch {epoch}: loss {row['loss']:.3f}, dev BLEU-4 {row['dev_bleu4']:.2f}")
            if dev["bleu4"] > best[0]:
                best = (dev["bleu4"], epoch)
                save({"dev_greedy": dev, "epoch": epoch},
                     DecodingOptions(beam_size=1, length_penalty=tc.length_penalty))
            save_train_state(out_dir, config=given, model=model, optimizer=opt, scheduler=sched, rng=rng,
                             epoch=epoch, step=step, best=best, seconds=time.perf_counter() - t0)
        dist.wait()
    if not dist.is_main:
        return TrainResult(out_dir, 0, {}, n_params, time.perf_counter() - t0, main=False)

    # Tune the beam search length penalty on dev with the best checkpoint.
    loaded = load_model(out_dir / "model.pt")
    model.load_state_dict(loaded.model.state_dict())
    tuned = (-1.0, tc.length_penalty, {})
    for alpha in sorted({0.0, 0.6, 1.0, tc.length_penalty}):
        check_cancelled(task)
        task.set_status(f"tuning the length penalty on dev: alpha {alpha}")
        hyps = translate_tokens(model, [p.source for p in dev_set], src_vocab, tgt_vocab, bos, tc.beam_size, alpha)
        dev = score(dev_refs, hyps)
        if dev["bleu4"] > tuned[0]:
            tuned = (dev["bleu4"], alpha, dev)
    metrics = {"dev": tuned[2], "dev_greedy": loaded.metrics["dev_greedy"], "epoch": best[1],
               "parameters": n_params}
    save(metrics, DecodingOptions(beam_size=tc.beam_size, length_penalty=tuned[1]))
    with atomic_write(out_dir / "train_summary.json", "w") as f:
        f.write(json.dumps({"name": cfg.name, "parameters": n_params, "best_epoch": best[1],
                            "metrics": metrics, "seconds": round(time.perf_counter() - t0, 1)}, indent=2))
    return TrainResult(out_dir, best[1], metrics, n_params, time.perf_counter() - t0)
