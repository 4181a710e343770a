"""``signstudio pose`` (landmarks of a video) and ``signstudio translate`` (a clip to text)."""

from __future__ import annotations

import argparse
import time

from signstudio.cli.output import add_backend, add_verbose, emit, progress, quiet_native, say_note, warn
from signstudio.errors import InputError, OutOfDomainError


@quiet_native
def cmd_pose(args: argparse.Namespace) -> int:
    """MediaPipe Holistic landmarks of a video, written as a pose-format `.pose` file.

    The video and the output are checked before MediaPipe starts; the `.pose` file appears only
    when the extraction succeeded (written atomically).
    """
    from signstudio.capture.holistic import extract_pose
    from signstudio.files import OutputGroup, check_input_file, check_output_file
    from signstudio.pose.io import write_pose

    video = check_input_file(args.video, "video")
    if video.suffix.lower() == ".pose":
        raise InputError(f"{args.video}: already a .pose file; `signstudio pose` reads a video")
    out = check_output_file(args.output if args.output is not None else video.stem + ".pose", (".pose",),
                            option="-o")
    task = progress("pose")
    try:
        ex = extract_pose(video, task)
    finally:
        task.close()
    with OutputGroup() as outputs:
        write_pose(ex.pose, outputs.path(out))
    frames = int(ex.pose.body.data.shape[0])
    payload = {"frames": frames, "fps": float(ex.pose.body.fps), "hands_detected": ex.hands_detected,
               "seconds": round(ex.seconds, 3)}
    human = (f"wrote {out}: {frames} frames at {payload['fps']:g} fps, hands found in {ex.hands_detected} "
             f"frames, {ex.seconds:.1f} s ({frames / max(ex.seconds, 1e-9):.1f} frames/s)")
    emit(args, payload, human)
    return 0


@quiet_native
def cmd_translate(args: argparse.Namespace) -> int:
    """Translate a sign-language video or `.pose` file to text.

    Prints how the output was decoded (``decoding``). With ``--text-model``, the sentence model's
    reliability goes into ``--json`` and its warnings to stderr, one line each, for glosses
    outside what it knows (warn, don't invent); ``--strict`` refuses them instead (exit 2).
    """
    from signstudio.files import check_input_file

    # Arguments first: PyTorch and the models take seconds to load, a typo should not.
    if args.glosses is not None:
        if args.input:
            raise InputError("give either a video/.pose INPUT or --glosses, not both")
        if not args.text_model:
            raise InputError("--glosses needs --text-model (a gloss-to-text model)")
        if not args.glosses.split():
            raise InputError("--glosses is empty: give space-separated glosses, e.g. --glosses \"REGEN MORGEN\"")
    elif not args.input:
        raise InputError("nothing to translate: give a video or .pose file (or --glosses with --text-model)")
    else:
        check_input_file(args.input, "video or .pose file")

    from signstudio.runtime.translator import Translation, load_translator, translate_file

    sentence_model = None
    if args.text_model:  # gloss-to-text runs in PyTorch
        from signstudio.runtime.text import checked_sentence, load_sentence_model

        sentence_model = load_sentence_model(args.text_model)
    if args.glosses is not None:
        result = Translation(text="", glosses=args.glosses.split(), model="", frames=0, seconds={})
    else:
        notes: list[str] = []
        translator = load_translator(args.model, args.backend, notes)
        for line in notes:
            say_note(line)
        if hasattr(translator, "use_onnx_backbone"):  # SpaMo: its CNN in onnxruntime, exported once
            from signstudio.export.video import ensure_backbone_onnx

            translator.use_onnx_backbone(ensure_backbone_onnx(translator.settings.backbone, translator.settings.weights))
        task = progress("pose")
        try:
            result = translate_file(args.input, translator, task)
        finally:
            task.close()
    reliability = None
    if sentence_model is not None:
        t0 = time.perf_counter()
        result.text, reliability = checked_sentence(result.glosses, sentence_model)
        result.seconds["sentence"] = time.perf_counter() - t0
        how = f"sentence by {sentence_model.loaded.name}, {sentence_model.decoding.search()}"
        result.decoding = f"{result.decoding}; {how}" if result.decoding else how
        if args.strict and reliability is not None and not reliability.in_domain:
            raise OutOfDomainError("not translated: " + "; ".join(reliability.warnings), reliability.warnings,
                                   reliability.summary())
    payload = {"text": result.text, "glosses": result.glosses, "model": result.model, "frames": result.frames,
               "seconds": {k: round(v, 3) for k, v in result.seconds.items()}, "decoding": result.decoding}
    if sentence_model is not None:
        payload["text_model"] = sentence_model.loaded.name
        payload["reliability"] = reliability.to_json() if reliability is not None else None
        payload["warnings"] = list(reliability.warnings) if reliability is not None else []
    if result.segments:
        payload["segments"] = result.segments
    if result.note:
        payload["note"] = result.note
    human = result.text if result.text else "(no signs recognised)"
    if result.note:
        human += f"\n  note: {result.note}"
    if reliability is not None:
        human += f"\n  reliability: {reliability.summary()}"
    if result.decoding:
        human += f"\n  decoded: {result.decoding}"
    if args.verbose:
        for seg in result.segments:
            alts = ", ".join(f"{g} {p:.0%}" for g, p in seg["alternatives"])
            human += (f"\n  frames {seg['start']}-{seg['end']}: {seg['gloss'] or '?'} "
                      f"({seg['confidence']:.0%}; best guesses: {alts})")
    if args.verbose and result.model:
        human += (f"\n  glosses: {' '.join(result.glosses) or '-'}\n  model: {result.model}, {result.frames} frames, "
                  f"pose {result.seconds['pose']:.2f} s, model {result.seconds['model']:.2f} s")
    if args.verbose and sentence_model is not None:
        human += f"\n  sentence by {sentence_model.loaded.name} in {result.seconds['sentence']:.2f} s"
    emit(args, payload, human)
    warn(reliability.warnings if reliability is not None else [])
    return 0


@quiet_native
def cmd_live(args: argparse.Namespace) -> int:
    """Print each gloss as it is recognised from a webcam or a replayed video."""
    import json
    import sys

    from signstudio.files import check_input_file

    if args.video is None and args.fast:
        raise InputError("--fast replays a --video as fast as it decodes; a camera runs in real time")
    if args.camera is not None and args.video is not None:
        raise InputError("give either --camera N or --video FILE, not both")
    if args.video is not None:
        check_input_file(args.video, "video")

    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.live import camera_source, live_captions, video_source
    from signstudio.runtime.stream import StreamingRecognizer

    notes: list[str] = []
    recognizer = StreamingRecognizer(load_installed(args.model, "sign-to-text", args.backend, notes))
    for line in notes:
        say_note(line)
    release = None
    if args.video is not None:
        source, _ = video_source(args.video, fast=args.fast, max_fps=recognizer.fps)
    else:
        source, _, release = camera_source(args.camera or 0)
    frames = [0]
    t0 = time.perf_counter()
    count = 0

    def seen(frame) -> None:
        frames[0] += 1

    try:
        for cap in live_captions(recognizer, source, real_time=not args.fast, on_frame=seen):
            count += 1
            if args.json:
                print(json.dumps(cap.to_json(), ensure_ascii=False), flush=True)
            else:
                alts = ", ".join(f"{g} {p:.0%}" for g, p in cap.alternatives[:3])
                shown = cap.gloss if cap.gloss else f"? ({alts})"
                print(f"{cap.time:7.2f} s  {shown}" + (f"  ({cap.confidence:.0%})" if cap.gloss else ""), flush=True)
    finally:
        if release is not None:
            release()
    seconds = time.perf_counter() - t0
    if not args.json:
        print(f"{count} gloss(es); {frames[0]} frames estimated in {seconds:.1f} s "
              f"({frames[0] / max(seconds, 1e-9):.1f} frames/s) with {recognizer.loaded.name}; "
              f"decoded: {recognizer.decoding}", file=sys.stderr)
    return 0


def register(add) -> None:
    """Add ``pose`` and ``translate`` to the parser (``add(name, func, help)``)."""
    sp = add("pose", cmd_pose, "extract MediaPipe Holistic landmarks from a video into a .pose file")
    sp.add_argument("video", help="a video file (mp4, mov, avi, ...)")
    sp.add_argument("-o", "--output", help="the .pose file to write (default: VIDEO's name with .pose, here)")
    sp.add_argument("--json", action="store_true", help="print one JSON object: frames, fps, hands_detected, seconds")
    add_verbose(sp)

    sp = add("translate", cmd_translate, "translate a sign-language video or .pose file to text")
    sp.add_argument("input", nargs="?", help="a video file or a .pose file made by `signstudio pose`")
    sp.add_argument("-m", "--model", default=None, help="installed model name or checkpoint path "
                    "(default: wlasl100-continuous); see `signstudio models`")
    sp.add_argument("--text-model", default=None,
                    help="a gloss-to-text model that turns the recognised glosses into a sentence "
                         "(e.g. phoenix14t-gloss2text for DGS glosses -> German)")
    sp.add_argument("--glosses", default=None,
                    help="translate these space-separated glosses with --text-model instead of a video")
    sp.add_argument("--strict", action="store_true",
                    help="with --text-model: refuse (exit 2) glosses outside what the text model knows "
                         "instead of translating them with warnings")
    add_backend(sp)
    sp.add_argument("-v", "--verbose", action="store_true", help="also print glosses, model and timings "
                    "(`signstudio --verbose translate ...` also shows MediaPipe's own log lines)")
    sp.add_argument("--json", action="store_true", help="print one JSON object: text, glosses, model, frames, "
                    "seconds, decoding (and reliability, warnings with --text-model)")

    sp = add("live", cmd_live, "live captions: print each gloss as it is recognised from a webcam or a replayed video")
    sp.add_argument("--camera", type=int, help="webcam index (default: 0)")
    sp.add_argument("--video", help="replay this video at its real frame rate through the same streaming code")
    sp.add_argument("--fast", action="store_true", help="with --video: replay as fast as possible (every frame)")
    sp.add_argument("-m", "--model", default=None, help="a continuous (CTC) sign recogniser, installed name or path")
    add_backend(sp)
    sp.add_argument("--json", action="store_true",
                    help="one JSON object per line: gloss, time, start, end (seconds), confidence, alternatives")
    add_verbose(sp)
