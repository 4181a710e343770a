"""``signstudio datasets``: the datasets found in the data folder, and preparing a video dataset."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from signstudio.cli.output import emit, progress, quiet_native
from signstudio.errors import InputError


def cmd_datasets(args: argparse.Namespace) -> int:
    """List the sign-language datasets found in the data folder, with split sizes and licences;
    ``datasets prepare KIND ...`` prepares one (:func:`prepare_parser`)."""
    from signstudio.data.catalog import find_datasets, format_table
    from signstudio.paths import data_dir

    if args.root in ("prepare", "features"):
        try:
            sub = (prepare_parser() if args.root == "prepare" else features_parser()).parse_args(args.rest)
        except SystemExit as done:  # --help, or a usage error already printed as one line
            return done.code if isinstance(done.code, int) else 0
        return sub.func(sub)
    if args.rest:
        raise InputError(f"datasets: unexpected {' '.join(args.rest)!r} (see `signstudio datasets --help`)")
    root = Path(args.root) if args.root else data_dir()
    if not root.is_dir():
        raise InputError(f"{root}: no such data folder (set SIGNSTUDIO_DATA or pass a folder)")
    infos = find_datasets(root)
    if args.json:
        print(json.dumps([{**asdict(i), "path": str(i.path)} for i in infos], ensure_ascii=False))
    else:
        print(format_table(infos, root) if infos else f"no datasets found in {root} (set SIGNSTUDIO_DATA)")
    return 0


@quiet_native
def cmd_prepare_wlasl(args: argparse.Namespace) -> int:
    """MediaPipe Holistic landmarks of every clip of a WLASL split, resumable and in parallel."""
    from signstudio.data.prepare import prepare_wlasl
    from signstudio.files import check_output_folder

    if args.workers is not None and not 1 <= args.workers <= 64:
        raise InputError(f"--workers must be between 1 and 64, got {args.workers}")
    output = args.output
    if output is None:
        from signstudio.data.wlasl import find_wlasl_files, split_size
        from signstudio.paths import user_datasets_dir

        split_file, _ = find_wlasl_files(args.video_dir, args.split_file, args.metadata)
        output = user_datasets_dir() / f"wlasl{split_size(split_file) or ''}"
    check_output_folder(output)
    task = progress("prepare")
    try:
        report = prepare_wlasl(args.video_dir, output, args.split_file, args.metadata, args.workers,
                               args.trim, task)
    finally:
        task.close()
    rate = report.done / report.seconds if report.seconds > 0 else 0.0
    payload = {"output": str(report.out_dir), "total": report.total, "done": report.done,
               "skipped": report.skipped, "missing": report.missing,
               "failed": [{"video_id": v, "reason": r} for v, r in report.failed],
               "frames": report.frames, "seconds": round(report.seconds, 1), "clips_per_second": round(rate, 3)}
    lines = [f"prepared {report.done} of {report.total} clips into {report.out_dir / 'poses'} "
             f"({report.frames} frames) in {report.seconds / 60:.1f} min ({rate:.2f} clips/s)"]
    if report.skipped:
        lines.append(f"  {report.skipped} clips were prepared before (kept)")
    if report.missing:
        lines.append(f"  {len(report.missing)} clips have no video in {args.video_dir}: "
                     + ", ".join(report.missing[:10]) + (" ..." if len(report.missing) > 10 else ""))
    if report.failed:
        lines.append(f"  {len(report.failed)} clips failed (listed in {report.out_dir / 'failed.tsv'}):")
        lines += [f"    {vid}: {why}" for vid, why in report.failed[:20]]
    lines.append(f"train on it: signstudio train resources/configs/wlasl100-recognizer.yaml "
                 f"(data.path: {report.out_dir.name} finds it in your datasets folder)")
    emit(args, payload, "\n".join(lines))
    return 0


def prepare_parser() -> argparse.ArgumentParser:
    """The parser of ``signstudio datasets prepare KIND ...``."""
    from signstudio.cli.parser import _Parser

    prep = _Parser(prog="signstudio datasets prepare",
                   description="extract MediaPipe Holistic landmarks of every clip of a video dataset")
    kinds = prep.add_subparsers(dest="kind", metavar="KIND", required=True)
    w = kinds.add_parser("wlasl", help="WLASL (WLASL100/300/1000/2000 by its split file)",
                         description="landmarks of every clip of a WLASL split: OUT_DIR/poses/VIDEO_ID.pose plus "
                                     "the split file and metadata; resumable (prepared clips are kept)")
    w.set_defaults(func=cmd_prepare_wlasl)
    w.add_argument("video_dir", help="folder of WLASL clips (VIDEO_ID.mp4)")
    w.add_argument("-o", "--output", help="the prepared folder to write (default: wlaslN in your datasets folder, "
                   "where training configs find it by name)")
    w.add_argument("--split-file", help="nslt_N.json (default: found in VIDEO_DIR or beside it)")
    w.add_argument("--metadata", help="WLASL_v0.3.json or WLASL100.json (default: found beside the split file)")
    w.add_argument("--flow", choices=("next-frame", "next-sample"), default="next-frame",
                   help="each sampled frame's optical flow goes to the next video frame (default) or to the next "
                   "sampled frame")
    w.add_argument("--streams", choices=("rgb+flow", "rgb", "flow"), default="rgb+flow",
                   help="what to cache (default: both)")
    w.add_argument("--spamo", action="store_true",
                   help="SpaMo's features instead (S2 multi-scale spatial vectors and motion windows)")
    w.add_argument("--scales", type=int, nargs="+", default=[1, 2], help="--spamo: S2 scales (default 1 2)")
    w.add_argument("--clip-vision", help="--spamo: a local CLIPVisionModel folder as the spatial encoder")
    w.add_argument("--videomae", help="--spamo: a local VideoMAEModel folder as the motion encoder")
    w.add_argument("--workers", type=int, help="parallel processes (default: one per core)")
    w.add_argument("--trim", action="store_true",
                   help="keep only the metadata's frame_start..frame_end of each video (untrimmed source videos)")
    w.add_argument("--json", action="store_true", help="print one JSON object with the counts and the time")
    return prep


@quiet_native
def cmd_features_wlasl(args: argparse.Namespace) -> int:
    """Backbone maps of the RGB frames and optical flow of every clip of a WLASL split, cached for
    the video models (:mod:`signstudio.data.video_features`), resumable and in parallel."""
    from signstudio.data.video_features import FLOW_PAIRS, FrameSettings, stream_parts
    from signstudio.runtime.video_cache import build_wlasl_cache
    from signstudio.data.wlasl import find_wlasl_files

    if args.workers is not None and not 1 <= args.workers <= 64:
        raise InputError(f"--workers must be between 1 and 64, got {args.workers}")
    if not 2 <= args.frames <= 512:
        raise InputError(f"--frames must be between 2 and 512, got {args.frames}")
    split_file, metadata = find_wlasl_files(args.video_dir, args.split_file, args.metadata)
    if args.spamo:
        from signstudio.data.spamo_features import SpaMoFeatureSettings

        settings = SpaMoFeatureSettings(frames=args.frames, scales=tuple(args.scales), backbone=args.backbone,
                                        weights=args.weights or "", clip_vision=args.clip_vision or "",
                                        videomae=args.videomae or "")
    else:
        settings = FrameSettings(frames=args.frames, backbone=args.backbone, weights=args.weights or "",
                                 flow=FLOW_PAIRS[args.flow])
    from signstudio.models.backbones import load_backbone

    load_backbone(settings.backbone, settings.weights or None)  # a bad backbone is one line, before any work
    if args.spamo:
        from signstudio.export.video import ensure_backbone_onnx

        ensure_backbone_onnx(settings.backbone, settings.weights)  # the workers run it in onnxruntime
    task = progress("features")
    try:
        report = build_wlasl_cache(args.video_dir, split_file, metadata, settings, args.workers, args.trim, task,
                                   streams=stream_parts(args.streams))
    finally:
        task.close()
    payload = {"cache": str(report.folder), "done": report.done, "skipped": report.skipped,
               "missing": report.missing, "failed": [{"video_id": v, "reason": r} for v, r in report.failed],
               "seconds": round(report.seconds, 1)}
    what = "SpaMo features" if args.spamo else "maps"
    lines = [f"cached the {what} of {report.done} clips in {report.folder} in {report.seconds / 60:.1f} min"
             + (f" ({report.skipped} were cached before)" if report.skipped else "")]
    if report.missing:
        lines.append(f"  {len(report.missing)} clips have no video in {args.video_dir}")
    lines += [f"  {vid}: {why}" for vid, why in report.failed[:20]]
    emit(args, payload, "\n".join(lines))
    return 0


def features_parser() -> argparse.ArgumentParser:
    """The parser of ``signstudio datasets features KIND ...``."""
    from signstudio.cli.parser import _Parser
    from signstudio.models.backbones import BACKBONES

    feat = _Parser(prog="signstudio datasets features",
                   description="cache frozen-CNN feature maps of the frames and optical flow of a video dataset")
    kinds = feat.add_subparsers(dest="kind", metavar="KIND", required=True)
    w = kinds.add_parser("wlasl", help="WLASL (by its split file)",
                         description="7x7 backbone maps of the RGB frames and the optical flow of every clip "
                                     "of a WLASL split, cached outside the repository; resumable")
    w.set_defaults(func=cmd_features_wlasl)
    w.add_argument("video_dir", help="folder of WLASL clips (VIDEO_ID.mp4)")
    w.add_argument("--split-file", help="nslt_N.json (default: found in VIDEO_DIR or beside it)")
    w.add_argument("--metadata", help="WLASL_v0.3.json or WLASL100.json (default: found beside the split file)")
    w.add_argument("--frames", type=int, default=16, help="frames sampled per clip (default 16)")
    w.add_argument("--backbone", choices=BACKBONES, default="efficientnet-lite0",
                   help="frozen ImageNet CNN (default: efficientnet-lite0, shipped with its weights)")
    w.add_argument("--weights", help="the backbone's weights file (resnet18: torchvision's resnet18-*.pth)")
    w.add_argument("--flow", choices=("next-frame", "next-sample"), default="next-frame",
                   help="each sampled frame's optical flow goes to the next video frame (default) or to the next "
                   "sampled frame")
    w.add_argument("--streams", choices=("rgb+flow", "rgb", "flow"), default="rgb+flow",
                   help="what to cache (default: both)")
    w.add_argument("--spamo", action="store_true",
                   help="SpaMo's features instead (S2 multi-scale spatial vectors and motion windows)")
    w.add_argument("--scales", type=int, nargs="+", default=[1, 2], help="--spamo: S2 scales (default 1 2)")
    w.add_argument("--clip-vision", help="--spamo: a local CLIPVisionModel folder as the spatial encoder")
    w.add_argument("--videomae", help="--spamo: a local VideoMAEModel folder as the motion encoder")
    w.add_argument("--workers", type=int, help="parallel processes (default: one per core)")
    w.add_argument("--trim", action="store_true",
                   help="keep only the metadata's frame_start..frame_end of each video (untrimmed source videos)")
    w.add_argument("--json", action="store_true", help="print one JSON object with the counts and the time")
    return feat


def register(add) -> None:
    """Add ``datasets`` (and ``datasets prepare KIND``) to the parser (``add(name, func, help)``)."""
    sp = add("datasets", cmd_datasets, "list the datasets found in the data folder ($SIGNSTUDIO_DATA); "
             "`signstudio datasets prepare wlasl VIDEO_DIR -o OUT` extracts a video dataset's landmarks "
             "(see `signstudio datasets prepare --help`)")
    sp.add_argument("--json", action="store_true", help="print a JSON list")
    sp.add_argument("root", nargs="?", help="folder to scan (default: $SIGNSTUDIO_DATA or ../shared/data), "
                    "or `prepare`")
    sp.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
