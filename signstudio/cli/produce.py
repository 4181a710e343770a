"""``signstudio produce`` (text to signing) and ``signstudio lexicon`` (a folder of recordings)."""

from __future__ import annotations

import argparse
import time

from signstudio.cli.output import add_backend, add_verbose, emit, progress, quiet_native, warn
from signstudio.errors import InputError


@quiet_native
def cmd_produce(args: argparse.Namespace) -> int:
    """Sign a text: glosses, then a pose sequence (.pose), optionally a video (.mp4 or .gif).

    Both outputs are checked before any work and written together: when the video fails, the
    `.pose` is not written either. Warn, don't invent: text in another language than the sign
    language's, or outside the glossing model's domain, is produced with one warning line each on
    stderr (running the command is the choice to go on); ``--strict`` refuses it instead (exit 2).
    """
    from signstudio.files import OutputGroup, check_output_file
    from signstudio.production.pipeline import produce
    from signstudio.production.render import EXPORT_SUFFIXES, export, export_pose

    out = check_output_file(args.output, (".pose",), option="-o")
    video = check_output_file(args.video, EXPORT_SUFFIXES[1:], option="--video") if args.video is not None else None
    if video is not None and video.absolute() == out.absolute():
        raise InputError(f"{args.video}: the same file as -o")
    if args.hands and video is None:
        raise InputError("--hands adds hand close-ups to the video: give --video OUT.mp4 too")
    glosses = args.glosses.split() if args.glosses is not None else None
    if glosses is not None and not glosses:
        raise InputError("--glosses is empty: give space-separated glosses, e.g. --glosses \"HOUSE\"")
    task = progress("produce")
    t0 = time.perf_counter()
    try:
        result = produce(args.text, args.lang, glosses=glosses, method=args.method,
                         lexicons=args.lexicon or (), strict=args.strict, backend=args.backend, task=task)
    finally:
        task.close()
    seconds = time.perf_counter() - t0
    with OutputGroup() as outputs:
        export_pose(result.pose, outputs.path(out))
        if video is not None:
            export(result.pose, outputs.path(video), segments=result.segments, hands=args.hands)
    payload = result.to_json()
    width = max(len(s.gloss) for s in result.segments)
    lines = [f"glosses: {' '.join(result.glosses)}"]
    lines += [f"  {s.gloss:<{width}}  frames {s.start:>4}-{s.end:<4} {s.source}" for s in result.segments]
    lines.append(f"wrote {out}: {result.frames} frames at {result.fps:g} fps "
                 f"({result.frames / result.fps:.1f} s of signing), made in {seconds:.1f} s")
    if video is not None:
        lines.append(f"wrote {args.video}")
    lines += [f"note: {n}" for n in result.notes]
    emit(args, payload, "\n".join(lines))
    warn(result.warnings)
    return 0


def cmd_lexicon(args: argparse.Namespace) -> int:
    """Make a folder of recordings named after their gloss, or a prepared WLASL folder, into a
    lexicon (writes index.csv).

    Every recording is read and checked first (``index_folder``); the index is written only
    when all of them are good. A WLASL folder gets the clearest recording of each gloss
    (:func:`signstudio.production.lexicon.wlasl.index_wlasl`).
    """
    from signstudio.production.lexicon import index_folder, load_lexicon
    from signstudio.production.lexicon.wlasl import index_wlasl, is_wlasl_folder

    if is_wlasl_folder(args.folder):
        index, count, missing = index_wlasl(args.folder, args.lang)
        payload = {"index": str(index), "entries": count, "missing": missing, "layout": "wlasl"}
        human = (f"wrote {index}: the clearest recording of each of {count} WLASL glosses"
                 + (f"\nno prepared recording for: {', '.join(missing)}" if missing else "")
                 + f"\nuse it with: signstudio produce TEXT --lang {args.lang} --lexicon {args.folder} -o OUT.pose")
        emit(args, payload, human)
        return 0

    index, skipped = index_folder(args.folder, args.lang)
    lexicon = load_lexicon(args.folder)
    glosses = sorted({e.glosses for e in lexicon.entries})
    payload = {"index": str(index), "entries": len(lexicon.entries), "glosses": glosses, "skipped": skipped}
    human = (f"wrote {index}: {len(lexicon.entries)} recordings of {len(glosses)} glosses ({', '.join(glosses)})"
             + (f"\nskipped (no gloss in the file name): {', '.join(skipped)}" if skipped else "")
             + f"\nuse it with: signstudio produce TEXT --lang {args.lang} --lexicon {args.folder} -o OUT.pose")
    emit(args, payload, human)
    return 0


def register(add) -> None:
    """Add ``produce`` and ``lexicon`` to the parser (``add(name, func, help)``)."""
    sp = add("produce", cmd_produce, "sign a text: glosses, then a pose sequence (.pose) and optionally a video")
    sp.add_argument("text", help="the text to sign (spoken language of --lang, e.g. English for ASL)")
    sp.add_argument("--lang", required=True, help="sign language: code or abbreviation (ase/asl, gsg/dgs, ...)")
    sp.add_argument("-o", "--output", required=True, help="the .pose file to write")
    sp.add_argument("--video", help="also render the signing to this .mp4 or .gif, captioned with the gloss "
                    "being signed (and the letter, when fingerspelling)")
    sp.add_argument("--hands", action="store_true",
                    help="add close-ups of both hands to the --video (a column on the right)")
    sp.add_argument("--glosses", help="sign these space-separated glosses instead of glossing TEXT")
    sp.add_argument("--method", default="auto", choices=("auto", "lexicon", "model"),
                    help="lexicon: recorded signs + fingerspelling (default); model: an installed SignLLM model")
    sp.add_argument("--lexicon", action="append", metavar="DIR",
                    help="a lexicon folder (index.csv + .pose files) searched before fingerspelling; repeatable")
    sp.add_argument("--strict", action="store_true",
                    help="refuse (exit 2) text that is not in the sign language's spoken language or is "
                         "outside the glossing model's domain, instead of producing it with warnings")
    add_backend(sp)
    sp.add_argument("--json", action="store_true",
                    help="print one JSON object: glosses, frames, fps, segments, warnings, glossing "
                         "(glosser, reliability, language check)")
    add_verbose(sp)

    sp = add("lexicon", cmd_lexicon, "make a folder of .pose recordings named after their gloss "
             "(e.g. anna-HOUSE.pose), or a prepared WLASL folder, into a lexicon for `produce --lexicon`")
    sp.add_argument("folder", help="folder with .pose files, or a WLASL folder from `datasets prepare wlasl`; "
                    "index.csv is written into it")
    sp.add_argument("--lang", required=True, help="the recordings' sign language (ase/asl, gsg/dgs, ...)")
    sp.add_argument("--json", action="store_true", help="print one JSON object: index, entries, glosses, skipped")
