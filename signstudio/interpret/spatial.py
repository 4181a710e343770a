"""The 2D pixel-wise self-attention of the spatio-temporal transformer (Ruiz & Martinez 2025,
arXiv 2502.02587, Sec. 3.2), recorded and drawn over the frames it came from.

A video model's record (:func:`record_video`) is an
:class:`~signstudio.interpret.record.AttentionRecord` with, beside the decoder's token x frame
cross-attention, ``spatial``: per sampled frame the ``(H_s, P, P)`` attention of each of the
``P = 7 x 7`` positions of the backbone's map over every position (rows: the query position,
in row-major order ``r * 7 + c``), and ``frame_images``: the ``(T, S, S, 3)`` RGB squares the
model saw. The paper's check (its "attention visualization analysis") is whether a position
looks at distant regions (hand and face): :func:`spatial_map` gives one position's map (or the
mean over positions) and :func:`overlay` draws it over the frame, as the Attention tab and
``signstudio attention --spatial-png`` do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from signstudio.errors import InputError, ModelError


def check_spatial(spatial: np.ndarray | None, frame_images: np.ndarray | None, frames: int) -> None:
    """Check a record's spatial arrays against its ``frames`` encoder positions.

    Raises:
        ValueError: ``spatial`` not ``(T, H, P, P)`` with ``P`` a square number, or
            ``frame_images`` not ``(T, S, S, 3)``; one given without the other.
    """
    if spatial is None and frame_images is None:
        return
    if spatial is None or frame_images is None:
        raise ValueError("spatial attention and frame images come together")
    if spatial.ndim != 4 or spatial.shape[0] != frames or spatial.shape[2] != spatial.shape[3]:
        raise ValueError(f"spatial has shape {spatial.shape}, expected ({frames}, H, P, P)")
    side = int(round(spatial.shape[2] ** 0.5))
    if side * side != spatial.shape[2]:
        raise ValueError(f"spatial has {spatial.shape[2]} positions per frame, not a square grid")
    if frame_images.ndim != 4 or frame_images.shape[0] != frames or frame_images.shape[3] != 3 \
            or frame_images.shape[1] != frame_images.shape[2]:
        raise ValueError(f"frame_images has shape {frame_images.shape}, expected ({frames}, S, S, 3)")


def grid_side(record) -> int:
    """The side of the record's spatial grid (7 for a 224 input)."""
    return int(round(record.spatial.shape[-1] ** 0.5))


def spatial_map(record, frame: int, position: int | None = None, head: int | None = None) -> np.ndarray:
    """The ``(G, G)`` attention of one frame: what query ``position`` (``r * G + c``) attends,
    or, with None, the mean over all query positions (where the frame's attention lands);
    ``head`` one head or None for the mean of heads. Sums to 1.

    Raises:
        ValueError: no spatial attention, or frame, position or head out of range.
    """
    if record.spatial is None:
        raise ValueError("the record has no spatial attention (not a video model's record)")
    t, heads, p, _ = record.spatial.shape
    if not 0 <= frame < t:
        raise ValueError(f"frame {frame} out of range (0-{t - 1})")
    if position is not None and not 0 <= position < p:
        raise ValueError(f"position {position} out of range (0-{p - 1})")
    if head is not None and not 0 <= head < heads:
        raise ValueError(f"head {head} out of range (0-{heads - 1})")
    maps = record.spatial[frame] if head is None else record.spatial[frame, head : head + 1]
    rows = maps.mean(0)  # (P, P)
    row = rows.mean(0) if position is None else rows[position]
    side = grid_side(record)
    return row.reshape(side, side)


def overlay(image: np.ndarray, weights: np.ndarray, alpha: float = 0.5,
            position: tuple[int, int] | None = None) -> np.ndarray:
    """``image`` ``(S, S, 3)`` uint8 RGB with a ``(G, G)`` attention map upsampled over it
    (bicubic, scaled to its own maximum, the JET colour map blended at ``alpha``), and the
    query ``position`` ``(row, column)`` outlined in white."""
    import cv2

    s = image.shape[0]
    w = np.asarray(weights, dtype=np.float32)
    w = w / w.max() if w.max() > 0 else w
    heat = cv2.resize(w, (s, s), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    colour = cv2.cvtColor(cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    out = (image.astype(np.float32) * (1 - alpha) + colour.astype(np.float32) * alpha).round().astype(np.uint8)
    if position is not None:
        cell = s / weights.shape[0]
        r, c = position
        cv2.rectangle(out, (int(c * cell), int(r * cell)), (int((c + 1) * cell) - 1, int((r + 1) * cell) - 1),
                      (255, 255, 255), 2)
    return out


def contact_sheet(record, position: int | None = None, head: int | None = None, columns: int = 4) -> np.ndarray:
    """Every frame of the record with its :func:`spatial_map` drawn over it, in a grid of
    ``columns``: ``(rows * S, columns * S, 3)`` uint8 RGB."""
    images = record.frame_images
    t, s = images.shape[0], images.shape[1]
    side = grid_side(record)
    cell = None if position is None else divmod(position, side)
    rows = -(-t // columns)
    sheet = np.zeros((rows * s, columns * s, 3), dtype=np.uint8)
    for i in range(t):
        r, c = divmod(i, columns)
        sheet[r * s : (r + 1) * s, c * s : (c + 1) * s] = overlay(images[i], spatial_map(record, i, position, head),
                                                                  position=cell)
    return sheet


def write_png(image: np.ndarray, path: str | Path) -> Path:
    """Write an RGB uint8 image as PNG, atomically.

    Raises:
        OSError: the folder is not writable.
    """
    import cv2

    from signstudio.atomic import atomic_write

    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f"{path}: the image could not be encoded as PNG")
    with atomic_write(path) as f:
        f.write(data.tobytes())
    return Path(path)


def spatial_summary(record) -> dict:
    """Where the spatial attention lands: ``{"grid", "peak_cells"}`` (per frame the ``(row, col)``
    the mean over positions attends most) and ``"mean_distance"``: the mean distance in cells
    between a query position and where its attention goes (0 would be attending only to itself;
    the paper's claim is long-range, hand-to-face dependencies)."""
    side = grid_side(record)
    rows, cols = np.divmod(np.arange(side * side), side)
    dist = np.hypot(rows[:, None] - rows[None, :], cols[:, None] - cols[None, :])  # (P, P) cells
    attn = record.spatial.mean(1)  # (T, P, P)
    peaks = [divmod(int(np.argmax(spatial_map(record, i))), side) for i in range(len(attn))]
    return {"grid": side, "peak_cells": [list(p) for p in peaks],
            "mean_distance": round(float((attn * dist[None]).sum(-1).mean()), 3)}


def record_video(loaded, video: str | Path, target: Sequence[str] | None = None, task=None):
    """Record a video model's attention on one clip: the 2D spatial attention of every sampled
    frame and the decoder's attention while it writes the sign's gloss.

    The output is what ``signstudio translate`` names (the decoder's first word over the
    model's glosses), fed to one teacher-forced decoder pass (``decoding`` says so), unless
    ``target`` forces another gloss.

    Raises:
        ModelError: not a video model. InputError: a ``.pose`` file (the model reads frames), an
            unreadable video, or a target gloss the model does not know.
    """
    import torch

    from signstudio.data.video_features import read_frames, sample_indices
    from signstudio.interpret.record import AttentionRecord, _teacher_forced
    from signstudio.runtime.video import FEATURE_KIND, VideoTranslator, class_log_probs

    if loaded.features.get("kind") != FEATURE_KIND:
        raise ModelError(f"model {loaded.name!r} does not read video frames")
    if Path(video).suffix.lower() == ".pose":
        raise InputError(f"{Path(video).name}: {loaded.name} reads video frames, not landmarks; give it the video")
    tr = VideoTranslator(loaded)
    if task is not None:
        task.set_status("Reading the frames and computing the maps…")
    frames = read_frames(video, size=tr.settings.size)  # read once: the maps and the record's images
    maps, _ = tr.frame_maps(frames)
    picks = sample_indices(len(frames), tr.settings.frames)
    model, vocab = loaded.model, loaded.text_vocab
    model.eval()
    if target is None:
        logp = class_log_probs(model, [maps], tr.class_ids)[0]
        words, how = [tr.classes[int(np.argmax(logp))]], (f"the decoder's first word over {len(tr.classes)} "
                                                         "glosses (as translate), then one teacher-forced pass")
    else:
        words, how = [w.upper() for w in target], "forced"
        unknown = [w for w in words if w not in vocab.stoi]
        if unknown:
            raise InputError(f"--target: {loaded.name} does not know {', '.join(unknown)}")
    with torch.no_grad():
        x = torch.from_numpy(np.ascontiguousarray(maps))[None]
        memory, mask, spatial = model.encode(x, torch.tensor([len(maps)]), return_attention=True)
        inputs = [vocab.bos_index] + [vocab.stoi[w] for w in words]
        self_w, cross_w, self_v, cross_v = _teacher_forced(model, memory, mask, inputs)
    video_fps = _video_fps(video)
    # The encoder's frames are sampled evenly over the clip: their rate is the video's, thinned.
    fps = video_fps * (len(picks) - 1) / (len(frames) - 1) if len(frames) > 1 and len(picks) > 1 else video_fps
    record = AttentionRecord(
        model=loaded.name, model_type=loaded.model_type, input=str(video), tokens=words + ["</s>"],
        decoder_inputs=[vocab.itos[i] for i in inputs], encoder_self=[], decoder_self=self_w, cross=cross_w,
        decoder_self_values=self_v, cross_values=cross_v, frame_times=picks / video_fps, fps=fps, decoding=how,
        spatial=spatial[0].cpu().numpy().astype(np.float32), frame_images=np.stack([frames[i] for i in picks]))
    record.validate()
    return record


def _video_fps(video: str | Path) -> float:
    """The video's frame rate (25 when the container does not say)."""
    import cv2

    cap = cv2.VideoCapture(str(video))
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    finally:
        cap.release()
    return fps if 0 < fps < 1000 else 25.0
