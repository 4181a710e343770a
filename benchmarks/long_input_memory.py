"""Long input in bounded memory: peak memory of `translate` on 1 minute versus an hour of signing.

    python benchmarks/long_input_memory.py [--model M ...] [--minutes 1 60] [--video-minutes 1 5]

For each model (default: every installed sign-to-text model) and each length, a `.pose` file of that
many minutes is made by joining the real WLASL100 test landmarks (``$SIGNSTUDIO_DATA/wlasl100/poses``,
body and hands, 25 fps) end to end, and ``signstudio translate`` runs on it in a fresh process.
Printed per run: frames, wall time, and the process's peak resident memory (max RSS, MiB). The
ratio hour/minute is the figure to read: it should stay near 1.

``--video-minutes`` also translates a video of the shared test clips joined end to end (MediaPipe
Holistic on every frame, ~40 frames/s on 2 cores, so 5 minutes of video take about 3 minutes),
which shows what the landmarks of a long video cost.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD = """
import resource, sys, time
from signstudio.cli import main
start = time.perf_counter()
rc = main(["translate", sys.argv[1], "-m", sys.argv[2], "--json"])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"RESULT {rc} {time.perf_counter() - start:.1f} {peak:.0f}", file=sys.stderr)
"""


def joined_pose(minutes: float, out: Path) -> int:
    """Write a pose of ``minutes`` of the WLASL100 test landmarks joined end to end; its frames."""
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody

    from signstudio.paths import data_dir
    from signstudio.pose.io import read_pose, write_pose

    poses = [read_pose(p) for p in sorted((data_dir() / "wlasl100" / "poses").glob("*.pose"))]
    if not poses:
        raise SystemExit("no WLASL100 test poses: set SIGNSTUDIO_DATA")
    fps = float(poses[0].body.fps)
    want = int(minutes * 60 * fps)
    data, conf, n, i = [], [], 0, 0
    while n < want:
        p = poses[i % len(poses)]
        data.append(np.ma.getdata(p.body.data))
        conf.append(np.ma.getdata(p.body.confidence))
        n += len(data[-1])
        i += 1
    body = NumPyPoseBody(fps, np.concatenate(data)[:want], np.concatenate(conf)[:want])
    write_pose(Pose(poses[0].header, body), out)
    return want


def joined_video(minutes: float, out: Path) -> int:
    """Write an mp4 of ``minutes`` of the shared WLASL100 test videos joined end to end; its frames."""
    import cv2

    from signstudio.capture.video import iter_frames
    from signstudio.paths import data_dir

    videos = sorted((data_dir() / "wlasl100" / "videos").glob("*.mp4"))
    if not videos:
        raise SystemExit("no WLASL100 test videos: set SIGNSTUDIO_DATA")
    want = int(minutes * 60 * 25)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 25, (256, 256))
    n, i = 0, 0
    while n < want:
        for rgb in iter_frames(videos[i % len(videos)]):
            if n >= want:
                break
            writer.write(cv2.cvtColor(cv2.resize(rgb, (256, 256)), cv2.COLOR_RGB2BGR))
            n += 1
        i += 1
    writer.release()
    return want


def run(path: Path, model: str) -> tuple[int, float, float]:
    """``(exit status, seconds, peak MiB)`` of ``signstudio translate PATH -m MODEL`` in a fresh process."""
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), model], capture_output=True, text=True, env=env)
    line = next((ln for ln in proc.stderr.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        raise SystemExit(f"translate failed on {path}:\n{proc.stderr[-2000:]}")
    rc, seconds, peak = line.split()[1:]
    return int(rc), float(seconds), float(peak)


def main(argv: list[str] | None = None) -> int:
    from signstudio.runtime.installed import list_models

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", nargs="*", help="models (default: every installed sign-to-text model)")
    p.add_argument("--minutes", nargs="*", type=float, default=[1.0, 60.0])
    p.add_argument("--video-minutes", nargs="*", type=float, default=[])
    args = p.parse_args(argv)
    models = args.model or [m.name for m in list_models() if m.task == "sign-to-text"]
    with tempfile.TemporaryDirectory() as tmp:
        inputs = []
        for minutes in args.minutes:
            path = Path(tmp) / f"{minutes:g}min.pose"
            inputs.append((f"{minutes:g} min pose", path, joined_pose(minutes, path)))
        for minutes in args.video_minutes:
            path = Path(tmp) / f"{minutes:g}min.mp4"
            inputs.append((f"{minutes:g} min video", path, joined_video(minutes, path)))
        print(f"{os.cpu_count()} cores; peak = max resident memory of a fresh `signstudio translate` process")
        for model in models:
            peaks: dict[str, list[float]] = {}
            for label, path, frames in inputs:
                t0 = time.perf_counter()
                rc, seconds, peak = run(path, model)
                peaks.setdefault(label.split()[-1], []).append(peak)
                print(f"{model:26s} {label:15s} {frames:7d} frames  rc {rc}  {seconds:7.1f} s  peak {peak:6.0f} MiB"
                      f"  ({time.perf_counter() - t0:.0f} s with start-up)")
            for kind, values in peaks.items():
                if len(values) > 1:
                    print(f"{model:26s} longest / shortest {kind}: peak memory x{values[-1] / values[0]:.2f} "
                          f"({values[-1] - values[0]:+.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
