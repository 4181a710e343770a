"""SpaMo speed and memory: features, generation and one training step, per clip.

    python benchmarks/spamo_speed.py --model wlasl100-spamo [--videos DIR] [--threads 1] [--clips 8]

On the WLASL100 sample videos of the data folder (or ``--videos``), for an installed SpaMo model:
reading the frames and computing the frozen features (S2 spatial vectors with the backbone in
onnxruntime and in PyTorch, and the flow motion windows), generating the text (greedy and the
model's beam), and one training step (forward + backward, batch of 8, the recipe's loss), in
seconds per clip (median); and the process's peak resident memory. One run; the machine is
shared and noisy, so compare the figures of one run as ratios.
"""

from __future__ import annotations

import argparse
import os
import resource
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="wlasl100-spamo", help="an installed SpaMo model")
    parser.add_argument("--videos", default=None, help="folder of .mp4 clips (default: the data folder's WLASL100 videos)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clips", type=int, default=8, help="clips to time (default 8)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from pathlib import Path

    from signstudio.data.video_features import read_frames
    from signstudio.export.video import ensure_backbone_onnx
    from signstudio.paths import data_dir
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.spamo import SpaMoTranslator, feature_batch
    from signstudio.runtime.spamo_features import SpaMoFeaturizer

    videos = sorted(Path(args.videos or data_dir() / "wlasl100" / "videos").glob("*.mp4"))[: args.clips]
    t0 = time.perf_counter()
    loaded = load_installed(args.model, backend="torch")
    load_s = time.perf_counter() - t0
    tr = SpaMoTranslator(loaded)
    ensure_backbone_onnx(tr.settings.backbone, tr.settings.weights)
    onnx = SpaMoFeaturizer(tr.settings, onnx=True, threads=args.threads)
    plain = SpaMoFeaturizer(tr.settings, onnx=False, threads=args.threads)
    rows, feats = [], []
    for video in videos:
        a = time.perf_counter()
        frames = read_frames(video, size=onnx.size)
        b = time.perf_counter()
        spatial = onnx.spatial_features(frames)
        c = time.perf_counter()
        motion = onnx.motion_features(frames)
        d = time.perf_counter()
        plain.spatial_features(frames)
        e = time.perf_counter()
        feats.append({"spatial": spatial.astype(np.float16), "motion": motion.astype(np.float16)})
        g1 = time.perf_counter()
        tr.generate([feats[-1]], beams=1)
        g2 = time.perf_counter()
        tr.generate([feats[-1]])
        g3 = time.perf_counter()
        rows.append((b - a, c - b, d - c, e - d, g2 - g1, g3 - g2))
    med = np.median(np.array(rows), axis=0)
    model = loaded.model.train()
    batch = feature_batch((feats * 8)[:8])
    words = ["book"] * 8
    steps = []
    for _ in range(3):
        s = time.perf_counter()
        visual, mask = model.visual(batch)
        loss = model.lm_loss(visual, mask, words) + 0.1 * model.align_loss(visual, mask, words)
        loss.backward()
        model.zero_grad(set_to_none=True)
        steps.append(time.perf_counter() - s)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.model} on {len(videos)} clips, {args.threads} thread(s); model load {load_s:.1f} s")
    print(f"  read frames              {med[0]:.3f} s/clip")
    print(f"  spatial (S2), onnxruntime {med[1]:.3f} s/clip   PyTorch {med[3]:.3f} s/clip "
          f"({med[3] / max(med[1], 1e-9):.1f}x)")
    print(f"  motion (flow windows)    {med[2]:.3f} s/clip")
    print(f"  generate, greedy         {med[4]:.3f} s/clip")
    print(f"  generate, beam {model.config.beams}         {med[5]:.3f} s/clip")
    print(f"  training step, batch 8   {np.median(steps):.2f} s ({np.median(steps) / 8:.3f} s/clip)")
    print(f"  peak resident memory     {peak:.0f} MiB")


if __name__ == "__main__":
    main()
