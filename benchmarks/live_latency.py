"""Live captions, measured: replay videos in real time through the same code as the webcam.

    python benchmarks/live_latency.py [--model M] [--minutes 10] [VIDEO ...]

The videos (default: the WLASL100 test clips in ``$SIGNSTUDIO_DATA/wlasl100/videos``) are played
one after another, over and over, at their real frame rate until ``--minutes`` have passed, through
:func:`signstudio.runtime.live.live_captions` (a source thread, MediaPipe Holistic on a second
thread, the streaming recogniser in this one). Printed:

- frames per second sustained (frames estimated / wall time) and the share of frames dropped
  because Holistic could not keep up;
- the delay from a sign's last frame being shown by the source to its caption: median and 95th
  percentile, in milliseconds;
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


def looped(videos: list[Path], seconds: float, fps: float):
    """Frames of ``videos`` end to end, repeated, paced in real time, for ``seconds``."""
    from signstudio.capture.video import iter_timed_frames

    start = time.perf_counter()
    offset = 0.0
    while True:
        for video in videos:
            last = 0.0
            for rgb, t in iter_timed_frames(video, fps):
                now = offset + t
                if now > seconds:
                    return
                wait = start + now - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                last = t
                yield rgb, now
            offset += last + 1.0 / fps


def main(argv: list[str] | None = None) -> int:
    from signstudio.paths import data_dir
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.live import live_captions
    from signstudio.runtime.stream import StreamingRecognizer

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("videos", nargs="*", type=Path)
    p.add_argument("--model", default=None, help="a continuous (CTC) recogniser (default: the default model)")
    p.add_argument("--minutes", type=float, default=10.0)
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
    wall0 = time.perf_counter()
    cpu0 = time.process_time()

    def on_frame(frame) -> None:
        frames["n"] += 1
        elapsed = time.perf_counter() - wall0
        if "1min" not in memory and elapsed >= 60:
            memory["1min"] = rss_mb()

    for cap in live_captions(recognizer, looped(videos, seconds, recognizer.fps), real_time=True, on_frame=on_frame):
        captions += 1
        delays.append(time.perf_counter() - (wall0 + cap.end))
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    shown = int(seconds * recognizer.fps)
    d = np.array(delays) * 1000 if delays else np.array([np.nan])
    print(f"replayed {wall / 60:.1f} min of {len(videos)} clip(s) with {recognizer.loaded.name}, "
          f"{os.cpu_count()} cores")
    print(f"frames estimated: {frames['n']} ({frames['n'] / wall:.1f} fps sustained; "
          f"{max(0, shown - frames['n']) / max(shown, 1):.0%} of the {recognizer.fps:g} fps frames dropped)")
    print(f"captions: {captions}; delay from a sign's last frame to its caption: median {np.median(d):.0f} ms, "
          f"p95 {np.percentile(d, 95):.0f} ms")
    print(f"CPU use: {cpu / wall:.2f} cores")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    end = rss_mb()
    first = memory.get("1min", float("nan"))
    print(f"memory: peak {peak:.0f} MiB; after 1 min {first:.0f} MiB, at the end {end:.0f} MiB "
          f"(growth {end - first:+.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
