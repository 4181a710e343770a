"""Pose-estimation speed: raw MediaPipe Holistic vs. SignStudio's extract_pose end to end.

Usage::

    PYTHONPATH=. python benchmarks/pose_fps.py [--video PATH] [--runs N]

Prints a table with

1. **raw Holistic**: all frames are decoded into memory first, then only
   ``mp.solutions.holistic.Holistic(model_complexity=1).process`` is timed, frame by frame;
2. **extract_pose**: :func:`signstudio.capture.holistic.extract_pose` timed from the call to its
   return (probe, model loading, decoding, estimation, pose-format assembly);
3. the **first-frame latency** of each (raw: the first ``process`` call of a new graph; end to
   end: from the call until the first frame's landmarks reach the task handle). Both rows run
   after a cold-start measurement (the process's very first Holistic frame, which pays the
   one-time costs: model files, XNNPACK set-up), printed on its own line;

and the end-to-end / raw frame-rate ratio. The default video is
``$SIGNSTUDIO_DATA/videos/human_signer.mp4`` (else ``../shared/data/videos/human_signer.mp4``).
Numbers on a shared laptop CPU are noisy: compare ratios, and use ``--runs`` for the best of N.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from signstudio.paths import data_dir  # noqa: E402
from signstudio.tasks import NullTask  # noqa: E402


class _FirstFrameTask(NullTask):
    """Remembers when the first frame's landmarks arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.first_at: float | None = None

    def partial(self, result) -> None:
        if self.first_at is None:
            self.first_at = time.perf_counter()


def bench_cold_start(video: Path) -> dict:
    """The process's first Holistic frame: import, model files, XNNPACK set-up (one-time costs)."""
    t0 = time.perf_counter()
    import mediapipe as mp

    imported = time.perf_counter()
    from signstudio.capture.video import iter_frames

    frames = iter_frames(video)
    rgb = next(frames)
    frames.close()
    t1 = time.perf_counter()
    with mp.solutions.holistic.Holistic(model_complexity=1) as holistic:
        holistic.process(rgb)
    return {"import_ms": (imported - t0) * 1e3, "first_ms": (time.perf_counter() - t1) * 1e3}


def bench_raw(video: Path) -> dict:
    import mediapipe as mp

    from signstudio.capture.video import iter_frames

    frames = list(iter_frames(video))
    t0 = time.perf_counter()
    holistic = mp.solutions.holistic.Holistic(model_complexity=1)
    load = time.perf_counter() - t0
    times = []
    try:
        for rgb in frames:
            t = time.perf_counter()
            holistic.process(rgb)
            times.append(time.perf_counter() - t)
    finally:
        holistic.close()
    total = sum(times)
    return {"frames": len(frames), "seconds": total, "fps": len(frames) / total,
            "first_ms": times[0] * 1e3, "load_ms": load * 1e3,
            "median_ms": sorted(times)[len(times) // 2] * 1e3}


def bench_extract(video: Path) -> dict:
    from signstudio.capture.holistic import extract_pose

    task = _FirstFrameTask()
    t0 = time.perf_counter()
    result = extract_pose(video, task, emit_frames=True)
    wall = time.perf_counter() - t0
    n = result.pose.body.data.shape[0]
    return {"frames": n, "seconds": wall, "fps": n / wall,
            "first_ms": (task.first_at - t0) * 1e3, "hands": result.hands_detected}


def main(argv: list[str] | None = None) -> int:
    default = data_dir() / "videos" / "human_signer.mp4"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, default=default, help=f"video file (default {default})")
    parser.add_argument("--runs", type=int, default=1, help="repeat each measurement, keep the best")
    args = parser.parse_args(argv)
    if not args.video.is_file():
        parser.error(f"{args.video}: no such file (set SIGNSTUDIO_DATA or pass --video)")

    from signstudio.capture.video import probe_video

    info = probe_video(args.video)
    cold = bench_cold_start(args.video)
    raw = min((bench_raw(args.video) for _ in range(args.runs)), key=lambda r: r["seconds"])
    e2e = min((bench_extract(args.video) for _ in range(args.runs)), key=lambda r: r["seconds"])

    print(f"\nvideo: {args.video.name}  {info.width}x{info.height}  {info.fps:g} fps  "
          f"{info.frame_count} frames   machine: {platform.machine()}, {os.cpu_count()} CPU cores"
          f"   best of {args.runs}")
    print(f"{'measurement':<34}{'frames':>7}{'seconds':>9}{'fps':>8}{'first frame':>13}")
    print(f"{'raw Holistic.process (in memory)':<34}{raw['frames']:>7}{raw['seconds']:>9.2f}"
          f"{raw['fps']:>8.1f}{raw['first_ms']:>10.0f} ms")
    print(f"{'extract_pose end to end':<34}{e2e['frames']:>7}{e2e['seconds']:>9.2f}"
          f"{e2e['fps']:>8.1f}{e2e['first_ms']:>10.0f} ms")
    print(f"end-to-end / raw fps: {e2e['fps'] / raw['fps']:.2f}   "
          f"(raw: graph construction {raw['load_ms']:.0f} ms, median frame "
          f"{raw['median_ms']:.0f} ms; frames with a hand: {e2e['hands']}/{e2e['frames']})")
    print(f"cold start (first Holistic frame in a fresh process): {cold['first_ms']:.0f} ms "
          f"after importing mediapipe ({cold['import_ms']:.0f} ms); the rows above ran warm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
