"""Video sign-to-text speed: per-frame cost of each stage and the end-to-end frame rate.

    python benchmarks/video_speed.py [--model NAME] [--videos DIR] [--threads 1]

On the WLASL100 sample videos of the data folder (or ``--videos``), for the spatio-temporal
transformer (an installed model; without one, the preset config with random weights, which costs
the same): reading and cropping the frames, DIS optical flow, the frozen backbone, and the model,
each in milliseconds per sampled frame (median over the clips), what ``translate`` reaches end
to end (video frames read per second of wall time), and the model's cost with 1 and 4 heads of 2D
attention. One run; the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="an installed video model (default: random weights)")
    parser.add_argument("--videos", default=None, help="folder of .mp4 clips (default: the data folder's WLASL100 videos)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    from pathlib import Path

    from signstudio.data.video_features import FrameSettings, clip_images, read_frames, stream_parts
    from signstudio.models.backbones import load_backbone
    from signstudio.paths import data_dir
    from signstudio.runtime.video import class_log_probs
    from signstudio.runtime.video_cache import feature_maps

    videos = sorted(Path(args.videos or data_dir() / "wlasl100" / "videos").glob("*.mp4"))
    if args.model:
        from signstudio.runtime.installed import load_installed

        loaded = load_installed(args.model, backend="torch")
        model = loaded.model
        settings = FrameSettings(frames=int(loaded.features["frames"]), flow=loaded.features.get("flow", FrameSettings.flow))
        stream, what = loaded.features["stream"], args.model
    else:
        model, settings, stream, what = _random_model(1), FrameSettings(), "flow", "random weights"
    model.eval()
    parts = stream_parts(stream)
    backbone = load_backbone(settings.backbone)
    ids = np.arange(4, 104)
    rows, totals, frames_read = [], [], 0
    for video in videos:
        t0 = time.perf_counter()
        frames = read_frames(video, size=settings.size)
        t1 = time.perf_counter()
        images = clip_images(frames, settings.frames, ("rgb", "flow"), settings.to_next_sample)  # flow timed for all
        t2 = time.perf_counter()
        maps = np.concatenate([feature_maps(backbone, images[p], settings.backbone) for p in parts], axis=1)
        t3 = time.perf_counter()
        class_log_probs(model, [maps], ids)
        t4 = time.perf_counter()
        n = settings.frames
        rows.append(((t1 - t0) / len(frames), (t2 - t1) / n, (t3 - t2) / (n * len(parts)), (t4 - t3) / n))
        totals.append((t1 - t0) + ((t2 - t1) if "flow" in parts else 0.0) + (t3 - t2) + (t4 - t3))
        frames_read += len(frames)
    med = np.median(np.array(rows), axis=0) * 1000
    print(f"{len(videos)} clips, {frames_read} video frames, {settings.frames} sampled per clip, {stream}, "
          f"{args.threads} thread(s), model: {what}")
    print(f"  read + crop      {med[0]:7.2f} ms per video frame")
    print(f"  DIS flow image   {med[1]:7.2f} ms per sampled frame")
    print(f"  backbone         {med[2]:7.2f} ms per image ({settings.backbone}, {len(parts)} per sampled frame)")
    print(f"  model            {med[3]:7.2f} ms per sampled frame")
    print(f"  end to end       {np.median(totals) * 1000:7.1f} ms per clip; {frames_read / sum(totals):.1f} video "
          "frames per second of wall time")
    if args.model:  # the default backend: the ONNX export in onnxruntime, on the last clip's images
        from signstudio.runtime.video import OnnxVideoNet

        net = OnnxVideoNet(load_installed(args.model, backend="onnx"))
        last = np.concatenate([net.backbone_maps(images[p]) for p in parts], axis=1)
        net.class_log_probs([last], ids)  # sessions made before timing
        t0 = time.perf_counter()
        for p in parts:
            net.backbone_maps(images[p])
        t1 = time.perf_counter()
        net.class_log_probs([last], ids)
        t2 = time.perf_counter()
        print(f"  onnxruntime      backbone {(t1 - t0) / (n * len(parts)) * 1000:.2f} ms per image, model "
              f"{(t2 - t1) / n * 1000:.2f} ms per sampled frame (its own thread count)")
    maps = np.random.default_rng(0).standard_normal((settings.frames, 1280, 7, 7)).astype(np.float16)
    for heads in (1, 4):
        net = _random_model(heads).eval()
        class_log_probs(net, [maps], ids)
        t0 = time.perf_counter()
        for _ in range(20):
            class_log_probs(net, [maps], ids)
        print(f"  2D attention with {heads} head(s): model {(time.perf_counter() - t0) / 20 / settings.frames * 1000:.2f} "
              "ms per sampled frame (random weights)")


def _random_model(heads: int):
    """The preset config's spatio-temporal transformer with ``heads`` 2D attention heads, random weights."""
    from pathlib import Path

    from signstudio.models.registry import build_model
    from signstudio.training.config import load_config

    cfg = load_config(Path(__file__).parents[1] / "resources" / "configs" / "wlasl100-video-flow.yaml")
    return build_model("spatiotemporal", {**vars(cfg.model), "spatial_heads": heads, "text_vocab_size": 104,
                                          "gloss_vocab_size": 104})


if __name__ == "__main__":
    main()
