"""Scoring an installed model on a split of the dataset it was trained on, whatever its task.

``signstudio evaluate MODEL --split test`` runs :func:`evaluate_model`: sign-to-text models by WER
on their gloss output (and per decoder), text-to-gloss and gloss-to-text models by BLEU-1..4,
chrF and ROUGE-L, gloss-to-pose (SignLLM) models by DTW-MJE. The dataset and its splits come from
the experiment config stored in the checkpoint, so a model is scored on exactly the data it was
trained and selected on.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from signstudio.errors import InputError
from signstudio.runtime.checkpoint import LoadedModel, update_metrics
from signstudio.runtime.installed import model_task
from signstudio.tasks import TaskHandle

SPLITS = ("train", "dev", "test")


def sign_splits(loaded: LoadedModel, dataset: str | None = None) -> dict[str, list]:
    """``{"train", "dev", "test"}`` clips of the dataset a sign-to-text model was trained on.

    Args:
        dataset: another dataset name to use instead of the stored one.

    Raises:
        InputError: the checkpoint names no dataset. ConfigError: unknown dataset.
    """
    from signstudio.data.datasets import load_splits

    data = (loaded.config or {}).get("data") or {}
    name = dataset or data.get("dataset")
    if not name:
        raise InputError("the checkpoint names no dataset; pass --dataset")
    return load_splits(name, data.get("dev_every", 10))


def evaluate_model(loaded: LoadedModel, split: str = "test", *, dataset: str | None = None,
                   beam_size: int | None = None, length_penalty: float | None = None, use_lm: bool = True,
                   videos: str | None = None, task: TaskHandle | None = None) -> dict[str, Any]:
    """Score ``loaded`` on ``split`` of its own dataset.

    Args:
        beam_size, length_penalty: override the checkpoint's tuned decoding (sign-to-text and
            text models). use_lm: decode CTC with the stored gloss LM (sign-to-text).
        dataset: score a sign-to-text model on another named dataset.
        videos: a folder of the split's videos (a video model; see
            :func:`signstudio.runtime.video.evaluate_video`).

    Returns:
        JSON-ready: ``{"model", "task", "split", "n", "seconds", ...}`` plus, by task,
        ``wer, wer_ctc, wer_ctc_lm, wer_decoder, dataset, hypotheses`` (sign-to-text);
        ``bleu1..4, chrf, rouge_l, direction, beam_size, length_penalty, examples`` (text);
        ``dtw_mje, length_ratio, language, examples`` (gloss-to-pose); ``top1, top5, shown,
        top1_of_shown, threshold`` (a landmark recogniser: ``task`` is ``"sign-recognition"``);
        ``top1, top5, missing, cached`` (a video model, also ``"sign-recognition"``).

    Raises:
        InputError: unknown split, missing data. ModelError: a model that cannot be scored.
        Cancelled: the task was cancelled.
    """
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    kind = model_task(loaded.model_type, loaded.features)
    t0 = time.perf_counter()
    from signstudio.runtime import spamo, video
    from signstudio.runtime.recognize import FEATURE_KIND, evaluate_recognizer

    if loaded.features.get("kind") == FEATURE_KIND:
        out = {"task": "sign-recognition", **evaluate_recognizer(loaded, split)}
    elif loaded.features.get("kind") == video.FEATURE_KIND:
        out = {"task": "sign-recognition", **video.evaluate_video(loaded, split, videos, task)}
    elif loaded.features.get("kind") == spamo.FEATURE_KIND:
        out = {"task": kind, **spamo.evaluate_spamo(loaded, split, videos, beam_size or None, task)}
    elif kind == "sign-to-text":
        from signstudio.runtime.sign2text import evaluate_examples, runnable

        loaded = runnable(loaded)  # an ONNX export decodes with the same searches
        splits = sign_splits(loaded, dataset)
        options = loaded.decoding
        if beam_size:
            options = replace(options, beam_size=beam_size)
        if length_penalty is not None:
            options = replace(options, length_penalty=length_penalty)
        res = evaluate_examples(loaded.model, splits[split], loaded.gloss_vocab, loaded.text_vocab, options,
                                loaded.gloss_lm if use_lm else None, task=task)
        out = {"model": loaded.name, "task": kind, "dataset": dataset or loaded.config.get("data", {}).get("dataset"),
               "split": split, "n": res["n"], **{k: round(v, 4) for k, v in res.items() if k.startswith("wer")},
               "hypotheses": res["hypotheses"]}
    elif kind == "gloss-to-pose":
        from signstudio.runtime.producer import evaluate_signllm

        out = {"task": kind, **evaluate_signllm(loaded, split)}
    else:
        from signstudio.runtime.text import evaluate_text_model

        out = {"task": kind, **evaluate_text_model(loaded, split, beam_size)}
    out["seconds"] = round(time.perf_counter() - t0, 2)
    return out


#: The scores :func:`record_result` stores in a checkpoint, by task.
RECORDED = {"sign-to-text": ("wer", "top1", "bleu4", "chrf"),  # SpaMo: exact-match top-1 or BLEU-4
            "sign-recognition": ("top1", "top5", "wer", "wer_shown", "wer_streaming", "wer_streaming_shown"),
            "text-to-gloss": ("bleu4", "rouge_l"), "gloss-to-text": ("bleu4", "rouge_l"), "gloss-to-pose": ("dtw_mje",)}


def record_result(loaded: LoadedModel, result: dict[str, Any]) -> dict[str, Any]:
    """Store an :func:`evaluate_model` result's main scores in the checkpoint's metrics, e.g.
    ``{"test_wer": 0.348, "test_n": 40}`` (what ``signstudio models`` shows).

    Returns:
        The metrics written.

    Raises:
        ModelError: unreadable checkpoint. OSError: the checkpoint cannot be replaced.
    """
    split = result["split"]
    metrics = {f"{split}_{k}": round(result[k], 4) for k in RECORDED[result["task"]] if result.get(k) is not None}
    metrics[f"{split}_n"] = result["n"]
    update_metrics(loaded.path, metrics)
    return metrics
