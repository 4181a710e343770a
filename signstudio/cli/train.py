"""``signstudio train`` (a config to a model) and ``signstudio evaluate`` (a model on a split)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from signstudio.cli.output import add_backend, emit, metrics_line, progress, say_note
from signstudio.errors import Cancelled, SignStudioError


def _configured(args: argparse.Namespace):
    """The config of ``args.config`` with ``--epochs`` applied (validated like the file's own values)."""
    from dataclasses import replace

    from signstudio.errors import ConfigError
    from signstudio.training.config import load_config

    if args.epochs is not None and not 1 <= args.epochs <= 1_000_000:
        raise ConfigError(f"--epochs must be between 1 and 1000000, got {args.epochs}")
    cfg = load_config(args.config)
    if args.epochs is not None:
        cfg = replace(cfg, train=replace(cfg.train, epochs=args.epochs))
    return cfg


def cmd_train(args: argparse.Namespace) -> int:
    """Train a model from a YAML config; keeps the checkpoint with the best dev score.

    The output folder follows :func:`signstudio.training.config.resolve_output` (``-o``, else the
    config's ``output:`` inside the user's models folder, else ``<user models>/<name>``). A fresh
    run refuses a folder that holds a run unless ``--overwrite``; ``--resume`` continues it from
    ``<output>/train_state.pt`` (same step, optimiser, scheduler and RNG states). With
    ``--events`` progress goes to stdout as JSON lines (:class:`signstudio.tasks.JsonLinesTask`):
    the Train tab runs this command in a child process. SIGTERM cancels cleanly (exit 130).
    """
    import signal

    if args.events:
        return _train_with_events(args)
    cfg = _configured(args)

    from signstudio.tasks import TqdmTask
    from signstudio.training.loop import fit

    class _Task(TqdmTask):
        def partial(self, row: dict) -> None:
            if not args.json:
                msg = f"epoch {row['epoch']:>4}  " + metrics_line(row)
                (self._bar.write if self._bar is not None else print)(msg, file=sys.stderr)

    task = _Task(desc=cfg.name, disable=not sys.stderr.isatty())
    signal.signal(signal.SIGTERM, lambda *_: task.cancel())
    try:
        result = fit(cfg, task, resume=args.resume, output=args.output, overwrite=args.overwrite)
    finally:
        task.close()
    if not result.main:  # another process of an `accelerate launch` run reports
        return 0
    payload = _train_payload(cfg, result)
    human = (f"trained {cfg.name}: {result.parameters:,} parameters, best at epoch {result.best_epoch}, "
             f"{result.seconds:.0f} s\n  dev: {metrics_line(result.metrics)}\nsaved {result.output / 'model.pt'}")
    exported = _export_after_training(result.output / "model.pt")
    if exported:
        payload["onnx"] = exported
        human += f"\nexported {exported} (onnxruntime runs it: --backend auto)"
    emit(args, payload, human)
    return 0


def _train_payload(cfg, result) -> dict[str, Any]:
    return {"name": cfg.name, "output": str(result.output), "parameters": result.parameters,
            "best_epoch": result.best_epoch, "split": "dev", "metric": result.metric, "metrics": result.metrics,
            "seconds": round(result.seconds, 1)}


def _train_with_events(args: argparse.Namespace) -> int:
    """``signstudio train --events``: JSON-lines progress on stdout; SIGTERM cancels cleanly.

    Events: ``started`` (``name, output, pid, resume, epochs, metric, lower_is_better,
    metric_label``: the recipe's selection metric, so the window needs no rule of its own), the
    task's ``total``/``progress``/``status``/``metrics``, then one of ``done``, ``cancelled``, ``error``.
    """
    import signal

    from signstudio.tasks import JsonLinesTask
    from signstudio.training.config import resolve_output
    from signstudio.training.loop import fit
    from signstudio.training.families import recipe_class

    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but events on the real stdout
    task = JsonLinesTask(out)
    signal.signal(signal.SIGTERM, lambda *_: task.cancel())
    try:
        cfg = _configured(args)
        folder = resolve_output(cfg, args.output)
        recipe = recipe_class(cfg.model_type)(cfg)  # the metric may depend on the config
    except SignStudioError as exc:
        task.emit("error", message=str(exc))
        raise
    task.emit("started", name=cfg.name, output=str(folder), pid=os.getpid(), resume=args.resume,
              epochs=cfg.train.epochs, metric=recipe.metric, lower_is_better=recipe.lower_is_better,
              metric_label=recipe.metric_label)
    try:
        result = fit(cfg, task, resume=args.resume, output=folder, overwrite=args.overwrite)
    except Cancelled:
        task.emit("cancelled", output=str(folder))
        raise
    except SignStudioError as exc:
        task.emit("error", message=str(exc))
        raise
    except OSError as exc:
        task.emit("error", message=f"{exc.filename or folder}: {exc.strerror or type(exc).__name__}")
        raise
    except Exception as exc:
        task.emit("error", message=f"internal error: {type(exc).__name__}: {exc}")
        raise
    task.emit("done", result=_train_payload(cfg, result))
    return 0


def _export_after_training(checkpoint) -> str:
    """Export a freshly trained model to ONNX when its family can be ("" otherwise); a failed
    export is a note, not a failed training."""
    from signstudio.export.onnx import EXPORTABLE, export_model
    from signstudio.runtime.checkpoint import read_metadata

    if read_metadata(checkpoint)["model_type"] not in EXPORTABLE:
        return ""
    try:
        return str(export_model(checkpoint).folder)
    except Exception as exc:  # the model is saved; the export can be run again by hand
        say_note(f"not exported to ONNX ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
                 f"run `signstudio export {checkpoint}`")
        return ""


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score a model on a split of the dataset it was trained on (the metric depends on its task)."""
    from signstudio.files import check_output_file
    from signstudio.runtime.evaluate import evaluate_model, record_result
    from signstudio.errors import InputError
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.onnx import backend_label, describe_backend

    if args.beam_size is not None and not 1 <= args.beam_size <= 64:
        raise InputError(f"--beam-size must be between 1 and 64, got {args.beam_size}")
    if args.length_penalty is not None and not (0 <= args.length_penalty < float("inf")):
        raise InputError(f"--length-penalty must be a finite number >= 0, got {args.length_penalty}")
    notes: list[str] = []
    loaded = load_installed(args.model, backend=args.backend, notes=notes)
    for line in notes:
        say_note(line)
    if args.record and getattr(loaded, "backend", "torch") != "torch":
        raise InputError("--record stores the scores of the checkpoint itself: use it with --backend torch")
    if args.record:
        check_output_file(loaded.path, option="--record")
    task = progress("evaluate")
    try:
        res = evaluate_model(loaded, args.split, dataset=args.dataset, beam_size=args.beam_size,
                             length_penalty=args.length_penalty, use_lm=not args.no_lm, videos=args.videos,
                             task=task)
    finally:
        task.close()
    if args.record:
        record_result(loaded, res)
    kind = res["task"]
    if "beams" in res:  # SpaMo: video -> text through an LLM
        score = (f"exact-match top-1 {res['top1']:.2f}%" if "top1" in res
                 else f"BLEU-4 {res['bleu4']:.2f}, chrF {res['chrf']:.2f}, ROUGE-L {res['rouge_l']:.2f}")
        lines = [f"{loaded.name} on {args.split} (n={res['n']}, beam {res['beams']}): {score}"]
        if res.get("missing"):
            lines.append(f"  {res['missing']} clips of the split left out: no cached features or video (--videos DIR)")
        for h in res["hypotheses"] if args.show else []:
            lines.append(f"  ref: {h['reference']}\n  out: {h['hypothesis']}")
        if not args.show:
            res.pop("hypotheses")
    elif kind == "sign-to-text":
        lines = [f"{loaded.name} on {res['dataset']} {args.split} (n={res['n']}): WER {res['wer']:.3f}"
                 + "".join(f", {k.replace('_', ' ')} {res[k]:.3f}" for k in ("wer_ctc", "wer_ctc_lm", "wer_decoder")
                           if k in res)]
        for h in res["hypotheses"] if args.show else []:
            lines.append(f"  {h['id']:<14} ref: {h['reference']}\n  {'':<14} hyp: {h['glosses']}")
        if not args.show:
            res.pop("hypotheses")
    elif kind == "sign-recognition":
        lines = [f"{loaded.name} on {args.split} (n={res['n']}): top-1 {res['top1']:.2f}%, top-5 {res['top5']:.2f}%"]
        if "shown" in res:
            lines[0] += (f"; sure enough to show a gloss on {res['shown']:.0f}% of clips"
                         + (f" ({res['top1_of_shown']:.1f}% of those right)" if res['top1_of_shown'] is not None else ""))
        if res.get("missing") and "cached" in res:
            lines.append(f"  {res['missing']} clips of the split left out: no cached maps or video found (--videos DIR)")
        if "wer" in res:
            lines.append(f"  continuous signing, {res['sequences']} sequences built from the {args.split} clips: "
                         f"WER {res['wer']:.3f} ({res['wer_shown']:.3f} showing only glosses above its threshold); "
                         f"live (sliding window, first {res['live_sequences']}): WER {res['wer_streaming']:.3f} "
                         f"({res['wer_streaming_shown']:.3f})")
    elif kind == "gloss-to-pose":
        lines = [f"{loaded.name} on {args.split} (n={res['n']}): DTW-MJE {res['dtw_mje']:.4f}"]
    else:
        lines = [f"{loaded.name} ({res['direction']}) on {args.split} (n={res['n']}, beam {res['beam_size']}): "
                 f"BLEU-4 {res['bleu4']:.2f}, ROUGE-L {res['rouge_l']:.2f}, chrF {res['chrf']:.2f}, "
                 f"BLEU-1 {res['bleu1']:.2f}; BLEU-4 as slt scores it (untokenised): {res['bleu4_slt']:.2f}"]
        for ex in res["examples"] if args.show else []:
            lines.append(f"  src: {ex['source']}\n  ref: {ex['reference']}\n  out: {ex['output']}")
        if not args.show:
            res.pop("examples")
    res["backend"] = backend_label(loaded)
    lines.append(f"  run by {describe_backend(res['backend'])}")
    emit(args, res, "\n".join(lines))
    return 0


def register(add) -> None:
    """Add ``train`` and ``evaluate`` to the parser (``add(name, func, help)``)."""
    sp = add("train", cmd_train, "train a model from a YAML config")
    sp.add_argument("config", help="training config, e.g. resources/configs/boston104-signformer.yaml")
    sp.add_argument("-o", "--output", help="output folder, anywhere (default: the config's `output` inside your "
                    "models folder, else a folder named after the model there; see `signstudio models`)")
    sp.add_argument("--epochs", type=int, help="override the number of epochs (at least 1)")
    sp.add_argument("--overwrite", action="store_true",
                    help="start a fresh run even if the output folder holds one (its model and metrics are replaced)")
    sp.add_argument("--resume", action="store_true",
                    help="continue the run from OUTPUT/train_state.pt (written at every evaluation)")
    sp.add_argument("--events", action="store_true",
                    help="print progress as JSON lines on stdout (used by the window's Train tab)")
    sp.add_argument("--json", action="store_true", help="print one JSON object with the run's summary")

    sp = add("evaluate", cmd_evaluate, "score a model on a dataset split (WER for sign-to-gloss, BLEU-4 and "
             "ROUGE-L for text-to-gloss/gloss-to-text, DTW-MJE for gloss-to-pose)")
    sp.add_argument("model", help="installed model name or checkpoint path")
    sp.add_argument("--split", default="test", help="train, dev or test (default: test)")
    sp.add_argument("--dataset", help="dataset name (default: the one the model was trained on)")
    sp.add_argument("--beam-size", type=int, help="beam size for the decoder (default: the model's)")
    sp.add_argument("--length-penalty", type=float, help="GNMT length-penalty alpha (default: the model's)")
    sp.add_argument("--record", action="store_true",
                    help="store the scores (WER, top-1, BLEU-4...) in the checkpoint's metrics "
                         "(shown by `signstudio models`)")
    sp.add_argument("--no-lm", action="store_true", help="decode CTC without the gloss language model")
    sp.add_argument("--videos", metavar="DIR", help="a video model: the folder of the split's VIDEO_ID.mp4 files "
                    "(default: the feature cache, then the config's videos, then the shared wlasl100/videos)")
    sp.add_argument("--show", action="store_true", help="also list every reference and hypothesis")
    add_backend(sp)
    sp.add_argument("--json", action="store_true", help="print one JSON object with n and the metrics")
