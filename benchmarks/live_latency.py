"""Live captions, measured: replay videos in real time through the same code as the webcam.

    python benchmarks/live_latency.py [--model M] [--minutes 10] [VIDEO ...]

The videos (default: the WLASL100 test clips in ``$SIGNSTUDIO_DATA/wlasl100/videos``) are played
one after another, over and over, at their real frame rate until ``--minutes`` have passed, through
:func:`signstudio.runtime.live.live_captions` (a source thread, MediaPipe Holistic on a second
thread, the streaming recogniser in this one). Printed:

- frames per second sustained (frames estimated / wall time) and the share of frames dropped
  because Holistic could not keep up;
- the delay from the last frame of a caption's CTC run (the frame the gloss was read from) being
  shown by the source to the caption: median and 95th percentile, in milliseconds; and how old a
  frame is when it reaches the recogniser (MediaPipe and the queues);
- the delay from a sign's *true* end to its caption, in stream time (the recogniser's lookahead,
  hop and the CTC spike's place in the sign), on 100 sequences built from the WLASL100 test
  clips, where each sign's end is known (``--no-sequences`` skips it). A CTC gloss is often read
  before its sign ends, so this can be small or negative; add the frame age above for the total;
- CPU use (user + system time / wall time, in cores);
- peak memory (max RSS), and memory after 1 minute and at the end (growth over the run).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np


def rss_mb() -> float:
    """This process's resident memory in MiB (Linux /proc; max RSS elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def looped(videos: list[Path], seconds: float, fps: float, clock: dict | None = None):
    """Frames of ``videos`` end to end, repeated, paced in real time, for ``seconds``, as a
    camera delivers them: a frame whose moment passed while the pipeline was busy is skipped."""
    from signstudio.capture.video import iter_timed_frames

    start = time.perf_counter()
    if clock is not None:
        clock["start"] = start  # the stream's time 0, on the wall clock
    offset = 0.0
    while True:
        for video in videos:
            last = 0.0
            for rgb, t in iter_timed_frames(video, fps):
                now = offset + t
                if now > seconds:
                    return
                wait = start + now - time.perf_counter()
                last = t
                if wait > 0:
                    time.sleep(wait)
                elif -wait > 1.0 / fps:
                    continue
                yield rgb, now
            offset += last + 1.0 / fps


def true_end_delays(loaded, n: int = 100) -> tuple[np.ndarray, float]:
    """Stream-time delays (seconds) from each sign's true end to its caption, over ``n`` sequences
    built (seed 0) from the WLASL100 test poses and fed frame by frame; and their WER."""
    from signstudio.data.sequences import fixed_sequences
    from signstudio.data.wlasl import load_wlasl_folder, pose_path
    from signstudio.metrics import wer
    from signstudio.paths import data_dir
    from signstudio.pose.io import read_pose
    from signstudio.pose.landmarks import clip_landmarks
    from signstudio.runtime.stream import StreamingRecognizer

    stream = StreamingRecognizer(loaded)
    folder = data_dir() / "wlasl100"
    splits, _ = load_wlasl_folder(folder)
    clips = [(*clip_landmarks(read_pose(pose_path(folder, c)), stream.fps)[:2], c.label)
             for c in splits["test"] if pose_path(folder, c).is_file()]
    delays, refs, hyps = [], [], []
    for points, found, labels, spans in fixed_sequences(clips, n, seed=0):
        stream.reset()
        caps = []
        for i in range(len(points)):
            caps += [(c, i) for c in stream.push(points[i], found[i], i / stream.fps)]
        caps += [(c, len(points) - 1) for c in stream.flush()]
        glosses = [c.gloss or c.alternatives[0][0] for c, _ in caps]
        refs.append([stream.classes[k] for k in labels])
        hyps.append(glosses)
        k = 0
        for (c, i), g in zip(caps, glosses):  # a caption against the next sign of its gloss
            for j in range(k, len(labels)):
                if stream.classes[labels[j]] == g:
                    delays.append((i + 1 - spans[j][1]) / stream.fps)
                    k = j + 1
                    break
    return np.array(delays), wer(refs, hyps)


def main(argv: list[str] | None = None) -> int:
    from signstudio.paths import data_dir
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.live import live_captions
    from signstudio.runtime.stream import StreamingRecognizer

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("videos", nargs="*", type=Path)
    p.add_argument("--model", default=None, help="a continuous (CTC) recogniser (default: the default model)")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--no-sequences", action="store_true", help="skip the true-end delay on built sequences")
    args = p.parse_args(argv)
    videos = args.videos or sorted((data_dir() / "wlasl100" / "videos").glob("*.mp4"))
    if not videos:
        print("no videos: pass some, or set SIGNSTUDIO_DATA", file=sys.stderr)
        return 2
    recognizer = StreamingRecognizer(load_installed(args.model, "sign-to-text"))
    seconds = args.minutes * 60
    frames = {"n": 0}
    memory = {}
    delays: list[float] = []
    captions = 0
    clock: dict = {}
    wall0 = time.perf_counter()
    cpu0 = time.process_time()

    ages: list[float] = []

    def on_frame(frame) -> None:
        frames["n"] += 1
        if "start" in clock:
            ages.append(time.perf_counter() - (clock["start"] + frame.time))
        elapsed = time.perf_counter() - wall0
        if "1min" not in memory and elapsed >= 60:
            memory["1min"] = rss_mb()

    for cap in live_captions(recognizer, looped(videos, seconds, recognizer.fps, clock), real_time=True,
                             on_frame=on_frame):
        captions += 1
        delays.append(time.perf_counter() - (clock["start"] + cap.end))
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    shown = int(seconds * recognizer.fps)
    d = np.array(delays) * 1000 if delays else np.array([np.nan])
    print(f"replayed {wall / 60:.1f} min of {len(videos)} clip(s) with {recognizer.loaded.name}, "
          f"{os.cpu_count()} cores")
    print(f"frames estimated: {frames['n']} ({frames['n'] / wall:.1f} fps sustained; "
          f"{max(0, shown - frames['n']) / max(shown, 1):.0%} of the {recognizer.fps:g} fps frames dropped)")
    age = np.array(ages) * 1000 if ages else np.array([np.nan])
    print(f"captions: {captions}; delay from the last frame of a caption's CTC run to the caption: "
          f"median {np.median(d):.0f} ms, p95 {np.percentile(d, 95):.0f} ms")
    print(f"a frame's age when it reaches the recogniser: median {np.median(age):.0f} ms, "
          f"p95 {np.percentile(age, 95):.0f} ms")
    print(f"CPU use: {cpu / wall:.2f} cores")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    end = rss_mb()
    first = memory.get("1min", float("nan"))
    print(f"memory: peak {peak:.0f} MiB; after 1 min {first:.0f} MiB, at the end {end:.0f} MiB "
          f"(growth {end - first:+.0f} MiB)")
    if not args.no_sequences:
        true_end, err = true_end_delays(recognizer.loaded)
        t = true_end * 1000
        print(f"from a sign's true end to its caption (stream time, {len(t)} signs of 100 built test "
              f"sequences, WER {err:.3f}): median {np.median(t):.0f} ms, p95 {np.percentile(t, 95):.0f} ms; "
              f"{np.mean(t <= 300 - np.median(age)):.0%} within 300 ms of the sign's end with the median frame age")
    return 0


if __name__ == "__main__":
    sys.exit(main())
