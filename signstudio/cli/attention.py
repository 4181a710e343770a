"""``signstudio attention``: what a model attended to on one input, or over a whole split."""

from __future__ import annotations

import argparse
import json

from signstudio.cli.output import add_verbose, emit, progress, quiet_native
from signstudio.errors import InputError


@quiet_native
def cmd_attention(args: argparse.Namespace) -> int:
    """Record a model's attention on one input; save it as .npz (+ heatmap PNG, CSV) and analyse it.

    The model, ``--layer``/``--head`` and every output are checked before the input is read
    (MediaPipe on a video takes a while); the record, PNG and CSV are written together or not
    at all.
    """
    from signstudio.files import OutputGroup, check_input_file, check_output_file

    if args.split:
        return _attention_study(args)
    if not args.input or not args.output:
        raise InputError("give an INPUT and -o OUT.npz (or --split SPLIT to analyse a whole dataset split)")
    check_input_file(args.input, "video, .pose or text file")  # before PyTorch loads (seconds)

    from signstudio.interpret.analysis import summarize
    from signstudio.interpret.plot import record_csv, record_heatmap_png
    from signstudio.interpret.record import check_layer_head, check_recordable, record_file, save_record
    from signstudio.runtime.installed import ATTENTION_MODEL, load_installed
    if args.forced:
        raise InputError("--forced is for --split; to force one input's output use --target")
    out = check_output_file(args.output, (".npz",), option="-o")
    extras = {}
    for name, value, suffix in (("--png", args.png, ".png"), ("--csv", args.csv, ".csv"),
                                ("--spatial-png", args.spatial_png, ".png")):
        if value is not None:
            extras[name] = check_output_file(value, (suffix,), option=name)
    target = args.target.split() if args.target else None
    if args.target is not None and not target:
        raise InputError("--target is empty: give the space-separated tokens to force")
    loaded = load_installed(args.model or ATTENTION_MODEL)
    check_recordable(loaded)
    check_layer_head(loaded, args.layer, args.head)
    video_model = loaded.model_type == "spatiotemporal"
    if "--spatial-png" in extras and not video_model:
        raise InputError(f"--spatial-png draws a video model's 2D spatial attention; {loaded.name} is a "
                         f"{loaded.model_type} model")
    if args.position is not None and not 0 <= args.position < 49:
        raise InputError(f"--position {args.position}: a 7x7 map has positions 0-48 (row * 7 + column)")
    layer = args.layer
    task = progress("frames" if video_model else "pose")
    try:
        record = record_file(args.input, loaded, target, task)
    finally:
        task.close()
    with OutputGroup() as outputs:
        save_record(record, outputs.path(out))
        if "--png" in extras:
            record_heatmap_png(record, outputs.path(extras["--png"]), layer=layer, head=args.head)
        if "--csv" in extras:
            record_csv(record, outputs.path(extras["--csv"]), layer=layer, head=args.head)
        if "--spatial-png" in extras:
            from signstudio.interpret.spatial import contact_sheet, write_png

            write_png(contact_sheet(record, args.position), outputs.path(extras["--spatial-png"]))
    summary = summarize(record, layer=layer)
    payload = {"record": str(out), "png": args.png, "csv": args.csv,
               **{k: summary[k] for k in ("model", "input", "tokens", "frames", "fps", "clusters_per_token",
                                         "cluster_frames_mean", "diagonal_score", "cross_share")},
               "decoding": record.decoding}
    if record.spatial is not None:
        from signstudio.interpret.spatial import spatial_summary

        payload["spatial"] = spatial_summary(record)
    shares = summary["cross_share"][layer]
    lines = [f"wrote {out}: {record.model}, {len(summary['tokens'])} output token(s) x {record.num_frames} "
             f"{'frame' if record.fps else 'source token'}(s), {len(record.cross)} decoder layer(s) x "
             f"{record.num_heads} head(s)",
             f"  output: {' '.join(summary['tokens']) or '(nothing)'}",
             f"  decoded: {record.decoding}"]
    for tok in summary["clusters"]:
        spans = ", ".join(
            (f"{c['start_s']:.2f}-{c['end_s']:.2f}s" if c["start_s"] is not None else f"{c['start']}-{c['end']}")
            for c in tok["clusters"])
        lines.append(f"  {tok['token']:<14} attends {spans or '(nothing above threshold)'}")
    diag = summary["diagonal_score"][layer]
    lines.append(f"  diagonal score {diag:.3f}" if diag is not None else "  diagonal score: undefined (one token)")
    lines.append("  cross-attention share per step: " + " ".join(f"{s:.2f}" for s in shares if s is not None))
    if record.spatial is not None:
        sp = payload["spatial"]
        lines.append(f"  2D spatial attention: {record.spatial.shape[0]} frames x {record.spatial.shape[1]} head(s) x "
                     f"{sp['grid']}x{sp['grid']} positions; a position attends {sp['mean_distance']:.2f} cells away "
                     "on average; where each frame's attention peaks (row, column): "
                     + " ".join(f"{r},{c}" for r, c in sp["peak_cells"]))
    if args.spatial_png:
        lines.append(f"wrote {args.spatial_png}")
    if args.png:
        lines.append(f"wrote {args.png}")
    if args.csv:
        lines.append(f"wrote {args.csv}")
    emit(args, payload, "\n".join(lines))
    return 0


def _attention_study(args: argparse.Namespace) -> int:
    """``attention --split SPLIT``: SignAttention's findings over a whole split of the model's dataset."""
    from signstudio.files import OutputGroup, check_output_file
    from signstudio.interpret.study import study_split
    from signstudio.runtime.installed import ATTENTION_MODEL, load_installed

    if args.input:
        raise InputError("give either an INPUT or --split, not both")
    for name, value in (("--png", args.png), ("--csv", args.csv), ("--target", args.target), ("--head", args.head),
                        ("--spatial-png", args.spatial_png), ("--position", args.position)):
        if value is not None:
            raise InputError(f"{name} is for one INPUT, not for --split")
    out = check_output_file(args.output, (".json",), option="-o") if args.output is not None else None
    from signstudio.interpret.record import check_layer_head, check_recordable

    loaded = load_installed(args.model or ATTENTION_MODEL)
    check_recordable(loaded)
    check_layer_head(loaded, args.layer, None)
    task = progress("attention")
    try:
        res = study_split(loaded, args.split, forced=bool(args.forced), layer=args.layer, task=task)
    finally:
        task.close()
    if out is not None:
        with OutputGroup() as outputs:
            outputs.path(out).write_text(json.dumps(res, indent=1), encoding="utf-8")

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
    emit(args, res, "\n".join(lines))
    return 0


def register(add) -> None:
    """Add ``attention`` to the parser (``add(name, func, help)``)."""
    sp = add("attention", cmd_attention, "record what a model attends to on one input (SignAttention analyses)")
    sp.add_argument("input", nargs="?", help="a video or .pose file (sign-to-text model; a video for a video "
                    "model), or a text file (text model)")
    sp.add_argument("-m", "--model", default=None, help="installed model name or checkpoint path "
                    "(default: boston104-signformer, which has an attention decoder)")
    sp.add_argument("-o", "--output", help="the attention record to write (.npz); with --split, a JSON summary (.json)")
    sp.add_argument("--split", help="instead of INPUT: analyse every example of this split (train/dev/test) "
                    "of the model's dataset and report SignAttention's three findings")
    sp.add_argument("--forced", action="store_true", help="with --split: decode the references, not the model's output")
    sp.add_argument("--png", help="also write the cross-attention heatmap (tokens x frames) as PNG")
    sp.add_argument("--csv", help="also write the cross-attention matrix as CSV")
    sp.add_argument("--spatial-png", help="a video model: also write every sampled frame with its 2D spatial "
                    "attention drawn over it (PNG)")
    sp.add_argument("--position", type=int, default=None, help="with --spatial-png: what this position of the 7x7 "
                    "map attends (row * 7 + column; default: the mean over positions)")
    sp.add_argument("--layer", type=int, default=-1, help="decoder layer for the heatmap and analyses (default: last)")
    sp.add_argument("--head", type=int, default=None, help="one attention head (default: mean over heads)")
    sp.add_argument("--target", help="force this output (space-separated tokens) instead of decoding it")
    sp.add_argument("--json", action="store_true", help="print one JSON object: record path, tokens, analyses")
    add_verbose(sp)
