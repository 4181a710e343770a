"""Attention heatmaps as PNG (Pillow + NumPy, no matplotlib, no Qt) and as CSV.

The GUI draws its own interactive heatmap with pyqtgraph; these files are for the CLI
(``signstudio attention ... --png``) and for reports.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from signstudio.atomic import atomic_write

# Viridis (van der Walt & Smith, matplotlib's default colour map) sampled at 9 points, 0..255.
_VIRIDIS = np.array([
    (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
    (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37)], dtype=np.float64)
_BG, _FG, _GRID = (255, 255, 255), (20, 20, 20), (120, 120, 120)


def colormap(values: np.ndarray) -> np.ndarray:
    """Map values in [0, 1] (clipped; NaN -> 0) to viridis RGB, ``(...,) -> (..., 3)`` uint8."""
    v = np.nan_to_num(np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0))
    pos = v * (len(_VIRIDIS) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(_VIRIDIS) - 2)
    w = (pos - lo)[..., None]
    return np.round(_VIRIDIS[lo] * (1 - w) + _VIRIDIS[lo + 1] * w).astype(np.uint8)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def _text_size(font, text: str) -> tuple[int, int]:
    box = font.getbbox(text)
    return box[2] - box[0], box[3]


def _nice_step(span: float, target: int, steps: Sequence[float]) -> float:
    for s in steps:
        if span / s <= target:
            return s
    return steps[-1] * math.ceil(span / (steps[-1] * target)) if span > 0 else steps[-1]


def heatmap_image(matrix: np.ndarray, row_labels: Sequence[str], frame_times: np.ndarray | None = None,
                  title: str = "", column_labels: Sequence[str] | None = None, vmax: float | None = None,
                  normalize_rows: bool = False, width: int = 900) -> Image.Image:
    """Render a ``(U, T)`` attention matrix as a Pillow RGB image.

    Rows (output tokens) are labelled on the left; columns are frames with time ticks at the
    bottom (seconds from ``frame_times``, else frame indices), or, with ``column_labels`` (e.g.
    the source tokens of a text model), one rotated label per column. Colours: viridis from 0 to
    ``vmax`` (default: the matrix maximum), with a colour bar on the right.

    Args:
        matrix: ``(U, T)`` weights.
        row_labels: ``U`` labels. frame_times: ``(T,)`` seconds, optional.
        normalize_rows: scale each row by its own maximum (shows where a row looks, not how much).
        width: approximate width of the grid in pixels (cells are 2..24 px wide).

    Raises:
        ValueError: not 2-D, empty, or label / time counts that do not match the matrix.
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.size == 0:
        raise ValueError(f"matrix must be a non-empty (U, T) array, got shape {m.shape}")
    u_n, t_n = m.shape
    if len(row_labels) != u_n:
        raise ValueError(f"{len(row_labels)} row labels for {u_n} rows")
    if frame_times is not None and np.shape(frame_times) != (t_n,):
        raise ValueError(f"frame_times has shape {np.shape(frame_times)}, expected ({t_n},)")
    if column_labels is not None and len(column_labels) != t_n:
        raise ValueError(f"{len(column_labels)} column labels for {t_n} columns")
    m = np.nan_to_num(m)
    if normalize_rows:
        peak = m.max(axis=1, keepdims=True)
        m = np.divide(m, peak, out=np.zeros_like(m), where=peak > 0)
        top = 1.0
    else:
        top = float(vmax) if vmax is not None else float(m.max())
        top = top if top > 0 else 1.0
    font, small = _font(12), _font(10)
    line_h = _text_size(font, "Ag")[1]
    cell_w = int(np.clip(width // t_n, 2, 24))
    cell_h = max(line_h + 4, 14)
    label_every = 1
    if u_n * cell_h > 1200:  # many rows (encoder self-attention): thin rows, every k-th label
        cell_h = max(2, 1200 // u_n)
        label_every = math.ceil((line_h + 2) / cell_h)
    if column_labels is not None:
        cell_w = max(cell_w, _text_size(small, "Ag")[1] + 2)
    label_w = max(_text_size(font, str(s))[0] for s in row_labels) + 10
    grid_w, grid_h = cell_w * t_n, cell_h * u_n
    top_m = line_h + 12 if title else 8
    if column_labels is not None:
        bottom_m = max(_text_size(small, str(s))[0] for s in column_labels) + 12
    else:
        bottom_m = 2 * line_h + 16
    bar_w, bar_gap = 12, 10
    right_m = bar_gap + bar_w + 6 + _text_size(small, f"{top:.3g}")[0] + 10
    title_w = _text_size(font, title)[0] + 10 if title else 0
    img = Image.new("RGB", (max(label_w + grid_w + right_m, label_w + title_w), top_m + grid_h + bottom_m), _BG)
    draw = ImageDraw.Draw(img)
    x0, y0 = label_w, top_m
    cells = colormap(m / top)
    grid = np.repeat(np.repeat(cells, cell_h, axis=0), cell_w, axis=1)
    img.paste(Image.fromarray(grid, "RGB"), (x0, y0))
    draw.rectangle([x0 - 1, y0 - 1, x0 + grid_w, y0 + grid_h], outline=_GRID)
    if title:
        draw.text((x0, 4), title, fill=_FG, font=font)
    for u, label in enumerate(row_labels):
        if u % label_every:
            continue
        w, h = _text_size(font, str(label))
        ty = y0 + u * cell_h + (cell_h - h) // 2 if label_every == 1 else y0 + u * cell_h - h // 2
        draw.text((x0 - 6 - w, max(0, ty)), str(label), fill=_FG, font=font)
    yb = y0 + grid_h
    if column_labels is not None:
        for t, label in enumerate(column_labels):
            w, h = _text_size(small, str(label))
            tile = Image.new("RGB", (w + 2, h + 2), _BG)
            ImageDraw.Draw(tile).text((1, 0), str(label), fill=_FG, font=small)
            tile = tile.rotate(90, expand=True)
            img.paste(tile, (x0 + t * cell_w + (cell_w - tile.width) // 2, yb + 6))
    else:
        if frame_times is not None:
            times = np.asarray(frame_times, dtype=np.float64)
            step = _nice_step(float(times[-1] - times[0]), 8, (0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60))
            first = math.ceil(times[0] / step - 1e-9) * step
            ticks = [(np.interp(v, times, np.arange(t_n)), f"{v:g}")
                     for v in np.arange(first, times[-1] + 1e-9, step)]
            axis = "time (s)"
        else:
            step = _nice_step(float(t_n - 1), 8, (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000))
            ticks = [(float(v), str(int(v))) for v in np.arange(0, t_n, step)]
            axis = "frame"
        for pos, text in ticks:
            x = int(round(x0 + (pos + 0.5) * cell_w))
            draw.line([x, yb, x, yb + 4], fill=_FG)
            w, _ = _text_size(small, text)
            draw.text((min(max(x - w // 2, x0 - w // 2), img.width - w - 1), yb + 6), text, fill=_FG, font=small)
        w, _ = _text_size(small, axis)
        draw.text((x0 + (grid_w - w) // 2, yb + 8 + line_h), axis, fill=_FG, font=small)
    # Colour bar.
    bx = x0 + grid_w + bar_gap
    ramp = colormap(np.linspace(1.0, 0.0, grid_h))[:, None, :].repeat(bar_w, axis=1)
    img.paste(Image.fromarray(ramp, "RGB"), (bx, y0))
    draw.rectangle([bx - 1, y0 - 1, bx + bar_w, y0 + grid_h], outline=_GRID)
    draw.text((bx + bar_w + 4, y0), "max" if normalize_rows else f"{top:.3g}", fill=_FG, font=small)
    draw.text((bx + bar_w + 4, y0 + grid_h - _text_size(small, "0")[1]), "0", fill=_FG, font=small)
    return img


def heatmap_png(matrix: np.ndarray, row_labels: Sequence[str], path: str | Path,
                frame_times: np.ndarray | None = None, **options) -> Path:
    """Write :func:`heatmap_image` of a ``(U, T)`` matrix to ``path`` as PNG, atomically.

    ``options`` go to :func:`heatmap_image` (``title``, ``column_labels``, ``vmax``,
    ``normalize_rows``, ``width``).

    Raises:
        ValueError: as :func:`heatmap_image`. OSError: the folder is not writable.
    """
    img = heatmap_image(matrix, row_labels, frame_times, **options)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    path = Path(path)
    with atomic_write(path) as f:
        f.write(buf.getvalue())
    return path


def export_csv(matrix: np.ndarray, row_labels: Sequence[str], frame_times: np.ndarray | None,
               path: str | Path, column_labels: Sequence[str] | None = None) -> Path:
    """Write a ``(U, T)`` matrix as CSV, atomically: one row per token, one column per frame.

    The header is ``token`` followed by the frame times in seconds (``"0.033"``), else the
    ``column_labels``, else the frame indices; each row is its label and its ``T`` weights.

    Raises:
        ValueError: not 2-D, or label / time counts that do not match. OSError: not writable.
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"matrix must be (U, T), got shape {m.shape}")
    if len(row_labels) != m.shape[0]:
        raise ValueError(f"{len(row_labels)} row labels for {m.shape[0]} rows")
    if frame_times is not None:
        if np.shape(frame_times) != (m.shape[1],):
            raise ValueError(f"frame_times has shape {np.shape(frame_times)}, expected ({m.shape[1]},)")
        header = [f"{t:.3f}" for t in frame_times]
    elif column_labels is not None:
        if len(column_labels) != m.shape[1]:
            raise ValueError(f"{len(column_labels)} column labels for {m.shape[1]} columns")
        header = [str(c) for c in column_labels]
    else:
        header = [str(i) for i in range(m.shape[1])]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["token"] + header)
    for label, row in zip(row_labels, m):
        writer.writerow([str(label)] + [f"{v:.6g}" for v in row])
    path = Path(path)
    with atomic_write(path) as f:
        f.write(buf.getvalue().encode("utf-8"))
    return path


def _record_matrix(record, kind: str, layer: int, head: int | None) -> tuple[np.ndarray, list[str], list[str]]:
    """The ``(rows, columns)`` matrix of ``kind`` with its row and column labels."""
    if kind not in ("cross", "decoder_self", "encoder_self"):
        raise ValueError(f"unknown attention kind {kind!r}; known: cross, decoder_self, encoder_self")
    arr = getattr(record, kind)[layer]
    m = arr.mean(axis=0) if head is None else arr[head]
    if kind == "decoder_self":
        return m, list(record.tokens), list(record.decoder_inputs)
    if kind == "encoder_self":
        keys = record.key_labels
        return m, keys, keys
    return m, list(record.tokens), record.key_labels


def record_heatmap_png(record, path: str | Path, kind: str = "cross", layer: int = -1, head: int | None = None,
                       **options) -> Path:
    """PNG heatmap of one attention map of an :class:`~signstudio.interpret.record.AttentionRecord`.

    Args:
        kind: ``"cross"`` (tokens x frames, default), ``"decoder_self"`` (tokens x decoder
            inputs) or ``"encoder_self"`` (frames x frames).
        layer: layer index (default: the last). head: a head, or None for the mean over heads.
        options: as :func:`heatmap_image`.

    Raises:
        ValueError: unknown kind, bad layer or head index (IndexError is turned into ValueError).
    """
    try:
        m, rows, cols = _record_matrix(record, kind, layer, head)
    except IndexError:
        raise ValueError(f"no {kind} layer {layer} / head {head} in this record") from None
    which = f"head {head}" if head is not None else "mean of heads"
    number = layer % len(getattr(record, kind))
    options.setdefault("title", f"{record.model}: {kind.replace('_', ' ')} attention, layer {number}, {which}")
    timed = kind != "decoder_self" and not record.source_tokens and record.frame_times is not None
    if kind == "decoder_self" or record.source_tokens:
        options.setdefault("column_labels", cols)
    return heatmap_png(m, rows, path, record.frame_times if timed else None, **options)


def record_csv(record, path: str | Path, kind: str = "cross", layer: int = -1, head: int | None = None) -> Path:
    """CSV of the same matrix as :func:`record_heatmap_png` (see :func:`export_csv`)."""
    try:
        m, rows, cols = _record_matrix(record, kind, layer, head)
    except IndexError:
        raise ValueError(f"no {kind} layer {layer} / head {head} in this record") from None
    timed = kind != "decoder_self" and not record.source_tokens and record.frame_times is not None
    return export_csv(m, rows, record.frame_times if timed else None, path, None if timed else cols)
