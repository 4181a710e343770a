"""The ``signstudio`` command: the desktop window, and every job headless.

``signstudio`` alone (or ``signstudio gui``) opens the window. Errors caused by input print one line
on stderr and exit with status 2; ``--json`` prints exactly one JSON object on stdout (progress
bars go to stderr).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from signstudio import __version__
from signstudio.errors import Cancelled, SignStudioError

EXIT_INPUT_ERROR = 2
EXIT_INTERRUPTED = 130


def _emit(args: argparse.Namespace, payload: dict[str, Any] | list, human: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(human)


def _progress(args: argparse.Namespace, desc: str):
    from signstudio.tasks import TqdmTask

    return TqdmTask(desc=desc, disable=not sys.stderr.isatty())


def cmd_gui(args: argparse.Namespace) -> int:
    """Open the desktop window (the only command that loads Qt)."""
    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        raise SignStudioError("no display found: the window needs a desktop session (or xvfb-run); "
                   "the other commands work without one, see `signstudio --help`")
    # Imported by name at run time so that no headless command ever loads Qt.
    app = importlib.import_module("signstudio.gui.app")
    return app.run([sys.argv[0]])


def cmd_pose(args: argparse.Namespace) -> int:
    """MediaPipe Holistic landmarks of a video, written as a pose-format `.pose` file."""
    from signstudio.capture.holistic import extract_pose
    from signstudio.pose.io import write_pose

    out = Path(args.output) if args.output else Path(Path(args.video).stem + ".pose")
    task = _progress(args, "pose")
    try:
        ex = extract_pose(args.video, task)
    finally:
        task.close()
    write_pose(ex.pose, out)
    frames = int(ex.pose.body.data.shape[0])
    payload = {"frames": frames, "fps": float(ex.pose.body.fps), "hands_detected": ex.hands_detected,
               "seconds": round(ex.seconds, 3)}
    human = (f"wrote {out}: {frames} frames at {payload['fps']:g} fps, hands found in {ex.hands_detected} "
             f"frames, {ex.seconds:.1f} s ({frames / max(ex.seconds, 1e-9):.1f} frames/s)")
    _emit(args, payload, human)
    return 0


def cmd_translate(args: argparse.Namespace) -> int:
    """Translate a sign-language video or `.pose` file to text."""
    from signstudio.errors import InputError
    from signstudio.inference import (
        Translation, glosses_to_sentence, load_sentence_model, load_translator, translate_file,
    )

    sentence_model = load_sentence_model(args.text_model) if args.text_model else None
    if args.glosses is not None:
        if args.input:
            raise InputError("give either a video/.pose INPUT or --glosses, not both")
        if sentence_model is None:
            raise InputError("--glosses needs --text-model (a gloss-to-text model)")
        result = Translation(text="", glosses=args.glosses.split(), model="", frames=0, seconds={})
    else:
        if not args.input:
            raise InputError("nothing to translate: give a video or .pose file (or --glosses with --text-model)")
        translator = load_translator(args.model)
        task = _progress(args, "pose")
        try:
            result = translate_file(args.input, translator, task)
        finally:
            task.close()
    if sentence_model is not None:
        t0 = time.perf_counter()
        result.text = glosses_to_sentence(result.glosses, sentence_model)
        result.seconds["sentence"] = time.perf_counter() - t0
    payload = {"text": result.text, "glosses": result.glosses, "model": result.model, "frames": result.frames,
               "seconds": {k: round(v, 3) for k, v in result.seconds.items()}}
    if sentence_model is not None:
        payload["text_model"] = sentence_model.loaded.name
    human = result.text if result.text else "(no signs recognised)"
    if args.verbose and result.model:
        human += (f"\n  glosses: {' '.join(result.glosses) or '-'}\n  model: {result.model}, {result.frames} frames, "
                  f"pose {result.seconds['pose']:.2f} s, model {result.seconds['model']:.2f} s")
    if args.verbose and sentence_model is not None:
        human += f"\n  sentence by {sentence_model.loaded.name} in {result.seconds['sentence']:.2f} s"
    _emit(args, payload, human)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    """List installed models (and, with --presets, the architecture presets)."""
    from dataclasses import asdict

    from signstudio.inference import list_models

    models = [asdict(m) for m in list_models()]
    presets = []
    if args.presets:
        from signstudio.models.registry import PRESETS, preset_parameter_counts

        presets = [{"name": n, "task": "preset", "path": None, "parameters": c, "metrics": {},
                    "model_type": PRESETS[n][0]} for n, c in preset_parameter_counts().items()]
    if args.json:
        print(json.dumps(models + presets))
        return 0
    if not models:
        print("no models installed (train one with `signstudio train CONFIG.yaml`)")
    for m in models + presets:
        metrics = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                            for k, v in m["metrics"].items() if isinstance(v, (int, float)))
        print(f"{m['name']:<24} {m['task']:<13} {m['parameters']:>10,} parameters  {metrics[:90]}")
    return 0


def cmd_produce(args: argparse.Namespace) -> int:
    """Sign a text: glosses, then a pose sequence (.pose), optionally a video (.mp4 or .gif)."""
    from signstudio.errors import InputError
    from signstudio.production.pipeline import produce
    from signstudio.production.render import EXPORT_SUFFIXES, export, export_pose

    out = Path(args.output)
    if out.suffix.lower() != ".pose":
        raise InputError(f"-o must name a .pose file, got {out.name!r}")
    if args.video and Path(args.video).suffix.lower() not in EXPORT_SUFFIXES[1:]:
        raise InputError(f"--video must name a .mp4 or .gif file, got {Path(args.video).name!r}")
    glosses = args.glosses.split() if args.glosses is not None else None
    task = _progress(args, "produce")
    t0 = time.perf_counter()
    try:
        result = produce(args.text, args.lang, glosses=glosses, method=args.method,
                         lexicons=args.lexicon or (), task=task)
    finally:
        task.close()
    seconds = time.perf_counter() - t0
    export_pose(result.pose, out)
    if args.video:
        export(result.pose, args.video)
    payload = result.to_json()
    width = max(len(s.gloss) for s in result.segments)
    lines = [f"glosses: {' '.join(result.glosses)}"]
    lines += [f"  {s.gloss:<{width}}  frames {s.start:>4}-{s.end:<4} {s.source}" for s in result.segments]
    lines.append(f"wrote {out}: {result.frames} frames at {result.fps:g} fps "
                 f"({result.frames / result.fps:.1f} s of signing), made in {seconds:.1f} s")
    if args.video:
        lines.append(f"wrote {args.video}")
    lines += [f"note: {n}" for n in result.notes]
    _emit(args, payload, "\n".join(lines))
    return 0


def cmd_lexicon(args: argparse.Namespace) -> int:
    """Make a folder of recordings named after their gloss into a lexicon (writes index.csv)."""
    from signstudio.production.lexicon import index_folder, load_lexicon

    index, skipped = index_folder(args.folder, args.lang)
    lexicon = load_lexicon(args.folder)
    glosses = sorted({e.glosses for e in lexicon.entries})
    payload = {"index": str(index), "entries": len(lexicon.entries), "glosses": glosses, "skipped": skipped}
    human = (f"wrote {index}: {len(lexicon.entries)} recordings of {len(glosses)} glosses ({', '.join(glosses)})"
             + (f"\nskipped (no gloss in the file name): {', '.join(skipped)}" if skipped else "")
             + f"\nuse it with: signstudio produce TEXT --lang {args.lang} --lexicon {args.folder} -o OUT.pose")
    _emit(args, payload, human)
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    """List the sign-language datasets found in the data folder, with split sizes and licences."""
    from dataclasses import asdict

    from signstudio.data.catalog import find_datasets, format_table
    from signstudio.paths import data_dir

    from signstudio.errors import InputError

    root = Path(args.root) if args.root else data_dir()
    if not root.is_dir():
        raise InputError(f"{root}: no such data folder (set SIGNSTUDIO_DATA or pass a folder)")
    infos = find_datasets(root)
    if args.json:
        print(json.dumps([{**asdict(i), "path": str(i.path)} for i in infos], ensure_ascii=False))
    else:
        print(format_table(infos, root) if infos else f"no datasets found in {root} (set SIGNSTUDIO_DATA)")
    return 0


def cmd_attention(args: argparse.Namespace) -> int:
    """Record a model's attention on one input; save it as .npz (+ heatmap PNG, CSV) and analyse it."""
    from signstudio.errors import InputError
    from signstudio.interpret.analysis import summarize
    from signstudio.interpret.plot import record_csv, record_heatmap_png
    from signstudio.interpret.record import record_file, save_record

    if args.split:
        return _attention_study(args)
    if not args.input or not args.output:
        raise InputError("give an INPUT and -o OUT.npz (or --split SPLIT to analyse a whole dataset split)")
    out = Path(args.output)
    if out.suffix.lower() != ".npz":
        raise InputError(f"{out}: the attention record must be an .npz file")
    for extra, suffix in ((args.png, ".png"), (args.csv, ".csv")):
        if extra and Path(extra).suffix.lower() != suffix:
            raise InputError(f"{extra}: expected a {suffix} file")
    target = args.target.split() if args.target else None
    task = _progress(args, "pose")
    try:
        record = record_file(args.input, args.model, target, task)
    finally:
        task.close()
    layer = args.layer
    if not -len(record.cross) <= layer < len(record.cross):
        raise InputError(f"--layer {layer}: the model has {len(record.cross)} decoder layer(s)")
    if args.head is not None and not 0 <= args.head < record.num_heads:
        raise InputError(f"--head {args.head}: the model has {record.num_heads} heads (0-{record.num_heads - 1})")
    save_record(record, out)
    if args.png:
        record_heatmap_png(record, args.png, layer=layer, head=args.head)
    if args.csv:
        record_csv(record, args.csv, layer=layer, head=args.head)
    summary = summarize(record, layer=layer)
    payload = {"record": str(out), "png": args.png, "csv": args.csv,
               **{k: summary[k] for k in ("model", "input", "tokens", "frames", "fps", "clusters_per_token",
                                         "cluster_frames_mean", "diagonal_score", "cross_share")}}
    shares = summary["cross_share"][layer]
    lines = [f"wrote {out}: {record.model}, {len(summary['tokens'])} output token(s) x {record.num_frames} "
             f"{'frame' if record.fps else 'source token'}(s), {len(record.cross)} decoder layer(s) x "
             f"{record.num_heads} head(s)",
             f"  output: {' '.join(summary['tokens']) or '(nothing)'}"]
    for tok in summary["clusters"]:
        spans = ", ".join(
            (f"{c['start_s']:.2f}-{c['end_s']:.2f}s" if c["start_s"] is not None else f"{c['start']}-{c['end']}")
            for c in tok["clusters"])
        lines.append(f"  {tok['token']:<14} attends {spans or '(nothing above threshold)'}")
    diag = summary["diagonal_score"][layer]
    lines.append(f"  diagonal score {diag:.3f}" if diag is not None else "  diagonal score: undefined (one token)")
    lines.append("  cross-attention share per step: " + " ".join(f"{s:.2f}" for s in shares if s is not None))
    if args.png:
        lines.append(f"wrote {args.png}")
    if args.csv:
        lines.append(f"wrote {args.csv}")
    _emit(args, payload, "\n".join(lines))
    return 0


def _attention_study(args: argparse.Namespace) -> int:
    """``attention --split SPLIT``: SignAttention's findings over a whole split of the model's dataset."""
    from signstudio.errors import InputError
    from signstudio.inference import resolve_model
    from signstudio.interpret.study import study_split
    from signstudio.training.checkpoint import load_model

    if args.input:
        raise InputError("give either an INPUT or --split, not both")
    loaded = load_model(resolve_model(args.model))
    task = _progress(args, "attention")
    try:
        res = study_split(loaded, args.split, forced=bool(args.forced), layer=args.layer, task=task)
    finally:
        task.close()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1)

    def num(x, fmt=".3f"):
        return "-" if x is None else format(x, fmt)

    lines = [f"{res['model']} on its {res['split']} split (n={res['n']}, "
             f"{'forced to the references' if res['forced'] else 'its own output'}):",
             f"  clusters: {num(res['clusters_per_token'], '.2f')} per token, {num(res['cluster_frames_mean'], '.2f')} "
             f"frames long on average, {num(res['single_frame_cluster_fraction'], '.0%')} single frames"]
    for li, (d, b) in enumerate(zip(res["diagonal_score"], res["diagonal_baseline"])):
        lines.append(f"  decoder layer {li}: diagonal score {num(d)} (shuffled tokens: {num(b)}); "
                     f"cross-attention share by step: " + " ".join(num(x, ".2f") for x in res["cross_share_by_step"][li][:8])
                     + f"; pooled slope {num(res['cross_share_pooled_slope'][li], '+.3f')}")
    _emit(args, res, "\n".join(lines))
    return 0


def _metrics_line(row: dict) -> str:
    """``loss 1.234  dev_bleu4 20.10 ...``: the numeric entries of a metrics row, nested ones flattened."""
    parts = []
    for key, value in row.items():
        if key in ("epoch", "step", "lr"):
            continue
        if isinstance(value, dict):
            parts.append(f"{key}: " + _metrics_line(value))
        elif isinstance(value, float):
            parts.append(f"{key} {value:.3f}" if abs(value) < 10 else f"{key} {value:.1f}")
        elif isinstance(value, int) and not isinstance(value, bool):
            parts.append(f"{key} {value}")
    return "  ".join(parts)


def cmd_train(args: argparse.Namespace) -> int:
    """Train a model from a YAML config; keeps the checkpoint with the best dev score.

    With ``--resume`` the run continues from ``<output>/train_state.pt`` (same step, optimiser,
    scheduler and RNG states). With ``--events`` progress goes to stdout as JSON lines
    (:class:`signstudio.tasks.JsonLinesTask`): the Train tab runs this command in a child process.
    """
    from dataclasses import replace

    from signstudio.training.config import load_config
    from signstudio.training.trainer import train

    def configured():
        cfg = load_config(args.config)
        if args.output:
            cfg = replace(cfg, output=args.output)
        if args.epochs:
            cfg = replace(cfg, train=replace(cfg.train, epochs=args.epochs))
        return cfg

    if args.events:
        return _train_with_events(args, configured)
    cfg = configured()

    from signstudio.tasks import TqdmTask

    class _Task(TqdmTask):
        def partial(self, row: dict) -> None:
            if not args.json:
                msg = f"epoch {row['epoch']:>4}  " + _metrics_line(row)
                (self._bar.write if self._bar is not None else print)(msg, file=sys.stderr)

    task = _Task(desc=cfg.name, disable=not sys.stderr.isatty())
    try:
        result = train(cfg, task, resume=args.resume)
    finally:
        task.close()
    if not result.main:  # another process of an `accelerate launch` run reports
        return 0
    payload = _train_payload(cfg, result)
    human = (f"trained {cfg.name}: {result.parameters:,} parameters, best at epoch {result.best_epoch}, "
             f"{result.seconds:.0f} s\n  dev: {_metrics_line(result.metrics)}\nsaved {result.output / 'model.pt'}")
    _emit(args, payload, human)
    return 0


def _train_payload(cfg, result) -> dict[str, Any]:
    return {"name": cfg.name, "output": str(result.output), "parameters": result.parameters,
            "best_epoch": result.best_epoch, "split": "dev", "metrics": result.metrics,
            "seconds": round(result.seconds, 1)}


def _train_with_events(args: argparse.Namespace, configured) -> int:
    """``signstudio train --events``: JSON-lines progress on stdout; SIGTERM cancels cleanly."""
    import signal

    from signstudio.tasks import JsonLinesTask
    from signstudio.training.trainer import output_dir, train

    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but events on the real stdout
    task = JsonLinesTask(out)
    signal.signal(signal.SIGTERM, lambda *_: task.cancel())
    try:
        cfg = configured()
    except SignStudioError as exc:
        task.emit("error", message=str(exc))
        raise
    task.emit("started", name=cfg.name, output=str(output_dir(cfg)), pid=os.getpid(), resume=args.resume,
              epochs=cfg.train.epochs)
    try:
        result = train(cfg, task, resume=args.resume)
    except Cancelled:
        task.emit("cancelled", output=str(output_dir(cfg)))
        raise
    except SignStudioError as exc:
        task.emit("error", message=str(exc))
        raise
    except Exception as exc:
        task.emit("error", message=f"internal error: {type(exc).__name__}: {exc}")
        raise
    task.emit("done", result=_train_payload(cfg, result))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score a model on a split of the dataset it was trained on."""
    from signstudio.data.datasets import load_splits
    from signstudio.errors import InputError
    from signstudio.inference import resolve_model
    from signstudio.training.checkpoint import load_model
    from signstudio.training.evaluation import evaluate_examples

    loaded = load_model(resolve_model(args.model))
    if loaded.model_type == "text-transformer":
        return _evaluate_text(args, loaded)
    if loaded.model_type == "signllm":
        return _evaluate_signllm(args, loaded)
    data = loaded.config.get("data", {})
    dataset = args.dataset or data.get("dataset")
    if not dataset:
        raise InputError("the checkpoint names no dataset; pass --dataset")
    splits = load_splits(dataset, data.get("dev_every", 10))
    if args.split not in splits:
        raise InputError(f"unknown split {args.split!r}; known: {', '.join(splits)}")
    t0 = time.perf_counter()
    from dataclasses import replace

    options = loaded.decoding
    if args.beam_size:
        options = replace(options, beam_size=args.beam_size)
    if args.length_penalty is not None:
        options = replace(options, length_penalty=args.length_penalty)
    res = evaluate_examples(loaded.model, splits[args.split], loaded.gloss_vocab, loaded.text_vocab, options,
                            None if args.no_lm else loaded.gloss_lm)
    seconds = time.perf_counter() - t0
    if args.record:
        from signstudio.training.checkpoint import update_metrics

        update_metrics(loaded.path, {f"{args.split}_wer": round(res["wer"], 4), f"{args.split}_n": res["n"]})
    payload = {"model": loaded.name, "dataset": dataset, "split": args.split, "n": res["n"],
               **{k: round(v, 4) for k, v in res.items() if k.startswith("wer")}, "seconds": round(seconds, 2)}
    if args.show:
        payload["hypotheses"] = res["hypotheses"]
    lines = [f"{loaded.name} on {dataset} {args.split} (n={res['n']}): WER {res['wer']:.3f}"
             + "".join(f", {k.replace('_', ' ')} {res[k]:.3f}" for k in ("wer_ctc", "wer_ctc_lm", "wer_decoder") if k in res)]
    if args.show:
        for h in res["hypotheses"]:
            lines.append(f"  {h['id']:<14} ref: {h['reference']}\n  {'':<14} hyp: {h['glosses']}")
    _emit(args, payload, "\n".join(lines))
    return 0


def _evaluate_text(args: argparse.Namespace, loaded) -> int:
    """``evaluate`` for text-to-gloss / gloss-to-text models: BLEU-1..4, chrF, ROUGE-L."""
    from signstudio.errors import InputError
    from signstudio.training.text import evaluate_text_model

    if args.split not in ("train", "dev", "test"):
        raise InputError(f"unknown split {args.split!r}; known: train, dev, test")
    t0 = time.perf_counter()
    res = evaluate_text_model(loaded, args.split, args.beam_size)
    res["seconds"] = round(time.perf_counter() - t0, 2)
    if args.record:
        from signstudio.training.checkpoint import update_metrics

        update_metrics(loaded.path, {f"{args.split}_bleu4": res["bleu4"], f"{args.split}_rouge_l": res["rouge_l"],
                                     f"{args.split}_n": res["n"]})
    if not args.show:
        res.pop("examples")
    lines = [f"{loaded.name} ({res['direction']}) on {args.split} (n={res['n']}, beam {res['beam_size']}): "
             f"BLEU-4 {res['bleu4']:.2f}, ROUGE-L {res['rouge_l']:.2f}, chrF {res['chrf']:.2f}, "
             f"BLEU-1 {res['bleu1']:.2f}"]
    for ex in res.get("examples", []):
        lines.append(f"  src: {ex['source']}\n  ref: {ex['reference']}\n  out: {ex['output']}")
    _emit(args, res, "\n".join(lines))
    return 0


def _evaluate_signllm(args: argparse.Namespace, loaded) -> int:
    """``evaluate`` for SignLLM gloss-to-pose models: DTW-MJE against the reference skeletons."""
    from signstudio.training.production import evaluate_signllm

    t0 = time.perf_counter()
    res = evaluate_signllm(loaded, args.split)
    res["seconds"] = round(time.perf_counter() - t0, 2)
    if args.record:
        from signstudio.training.checkpoint import update_metrics

        update_metrics(loaded.path, {f"{args.split}_dtw_mje": res["dtw_mje"], f"{args.split}_n": res["n"]})
    _emit(args, res, f"{loaded.name} on {args.split} (n={res['n']}): DTW-MJE {res['dtw_mje']:.4f}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``signstudio`` command."""
    p = argparse.ArgumentParser(
        prog="signstudio",
        description="SignStudio: translate sign language video to text, on your own machine. "
                    "Run without a command to open the window.",
    )
    p.add_argument("--version", action="version", version=f"signstudio {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(func=func)
        return sp

    add("gui", cmd_gui, "open the SignStudio window (the default)")

    sp = add("pose", cmd_pose, "extract MediaPipe Holistic landmarks from a video into a .pose file")
    sp.add_argument("video", help="a video file (mp4, mov, avi, ...)")
    sp.add_argument("-o", "--output", help="the .pose file to write (default: VIDEO's name with .pose, here)")
    sp.add_argument("--json", action="store_true", help="print one JSON object: frames, fps, hands_detected, seconds")

    sp = add("translate", cmd_translate, "translate a sign-language video or .pose file to text")
    sp.add_argument("input", nargs="?", help="a video file or a .pose file made by `signstudio pose`")
    sp.add_argument("-m", "--model", default=None, help="installed model name or checkpoint path "
                    "(default: boston104-signformer); see `signstudio models`")
    sp.add_argument("--text-model", default=None,
                    help="a gloss-to-text model that turns the recognised glosses into a sentence "
                         "(e.g. phoenix14t-gloss2text for DGS glosses -> German)")
    sp.add_argument("--glosses", default=None,
                    help="translate these space-separated glosses with --text-model instead of a video")
    sp.add_argument("-v", "--verbose", action="store_true", help="also print glosses, model and timings")
    sp.add_argument("--json", action="store_true", help="print one JSON object: text, glosses, model, frames, seconds")

    sp = add("produce", cmd_produce, "sign a text: glosses, then a pose sequence (.pose) and optionally a video")
    sp.add_argument("text", help="the text to sign (spoken language of --lang, e.g. English for ASL)")
    sp.add_argument("--lang", required=True, help="sign language: code or abbreviation (ase/asl, gsg/dgs, ...)")
    sp.add_argument("-o", "--output", required=True, help="the .pose file to write")
    sp.add_argument("--video", help="also render the signing to this .mp4 or .gif")
    sp.add_argument("--glosses", help="sign these space-separated glosses instead of glossing TEXT")
    sp.add_argument("--method", default="auto", choices=("auto", "lexicon", "model"),
                    help="lexicon: recorded signs + fingerspelling (default); model: an installed SignLLM model")
    sp.add_argument("--lexicon", action="append", metavar="DIR",
                    help="a lexicon folder (index.csv + .pose files) searched before fingerspelling; repeatable")
    sp.add_argument("--json", action="store_true", help="print one JSON object: glosses, frames, fps, segments")

    sp = add("lexicon", cmd_lexicon, "make a folder of .pose recordings named after their gloss "
             "(e.g. anna-HOUSE.pose) into a lexicon for `produce --lexicon`")
    sp.add_argument("folder", help="folder with .pose files; index.csv is written into it")
    sp.add_argument("--lang", required=True, help="the recordings' sign language (ase/asl, gsg/dgs, ...)")
    sp.add_argument("--json", action="store_true", help="print one JSON object: index, entries, glosses, skipped")

    sp = add("datasets", cmd_datasets, "list the datasets found in the data folder ($SIGNSTUDIO_DATA)")
    sp.add_argument("root", nargs="?", help="folder to scan (default: $SIGNSTUDIO_DATA or ../shared/data)")
    sp.add_argument("--json", action="store_true", help="print a JSON list")

    sp = add("models", cmd_models, "list installed models with their size and metrics")
    sp.add_argument("--presets", action="store_true", help="also list architecture presets with parameter counts")
    sp.add_argument("--json", action="store_true", help="print a JSON list")

    sp = add("attention", cmd_attention, "record what a model attends to on one input (SignAttention analyses)")
    sp.add_argument("input", nargs="?", help="a video or .pose file (sign-to-text model), or a text file (text model)")
    sp.add_argument("-m", "--model", default=None, help="installed model name or checkpoint path "
                    "(default: the default sign-to-text model)")
    sp.add_argument("-o", "--output", help="the attention record to write (.npz); with --split, a JSON summary")
    sp.add_argument("--split", help="instead of INPUT: analyse every example of this split (train/dev/test) "
                    "of the model's dataset and report SignAttention's three findings")
    sp.add_argument("--forced", action="store_true", help="with --split: decode the references, not the model's output")
    sp.add_argument("--png", help="also write the cross-attention heatmap (tokens x frames) as PNG")
    sp.add_argument("--csv", help="also write the cross-attention matrix as CSV")
    sp.add_argument("--layer", type=int, default=-1, help="decoder layer for the heatmap and analyses (default: last)")
    sp.add_argument("--head", type=int, default=None, help="one attention head (default: mean over heads)")
    sp.add_argument("--target", help="force this output (space-separated tokens) instead of decoding it")
    sp.add_argument("--json", action="store_true", help="print one JSON object: record path, tokens, analyses")

    sp = add("train", cmd_train, "train a model from a YAML config")
    sp.add_argument("config", help="training config, e.g. resources/configs/boston104-signformer.yaml")
    sp.add_argument("-o", "--output", help="output folder (overrides the config's `output`)")
    sp.add_argument("--epochs", type=int, help="override the number of epochs")
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
                    help="store the WER in the checkpoint's metrics (shown by `signstudio models`)")
    sp.add_argument("--no-lm", action="store_true", help="decode CTC without the gloss language model")
    sp.add_argument("--show", action="store_true", help="also list every reference and hypothesis")
    sp.add_argument("--json", action="store_true", help="print one JSON object with n and the metrics")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.func = cmd_gui
    try:
        return args.func(args)
    except Cancelled:
        print("signstudio: cancelled", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("signstudio: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SignStudioError as exc:
        print(f"signstudio: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except Exception as exc:  # a bug: still one line, the traceback only on request
        if os.environ.get("SIGNSTUDIO_DEBUG"):
            raise
        print(f"signstudio: internal error: {type(exc).__name__}: {exc} "
              "(set SIGNSTUDIO_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1
