"""Optical flow between video frames, encoded as an image (issue 13).

The spatio-temporal transformer (Ruiz & Martinez 2025, arXiv 2502.02587, Sec. 3.6) reads optical
flow images instead of RGB frames. The flow is OpenCV's DIS (Kroeger et al. 2016, dense inverse
search, preset MEDIUM): on a 260x210 frame here DIS takes 0.02 s, Farneback 0.04 s, DeepFlow 0.36 s
and TV-L1 3.25 s, and all four recover a known 3-pixel shift (DESIGN.md), so DIS is the one fast
enough for live video. As two-stream action recognition stores it (Simonyan & Zisserman 2014), the
flow is clipped at :data:`CLIP_PX` pixels and mapped to 8 bits: channel 0 the horizontal
component, channel 1 the vertical one, channel 2 the magnitude, 128 meaning no motion in 0 and 1.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Flow clipped at this many pixels per frame (either direction) before it is mapped to 8 bits.
CLIP_PX = 20.0


def dis_flow():
    """A DIS optical-flow estimator (OpenCV, preset MEDIUM); reuse it across the frames of a clip."""
    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)


def flow_image(prev_gray: np.ndarray, next_gray: np.ndarray, estimator=None) -> np.ndarray:
    """The flow from ``prev_gray`` to ``next_gray`` (``(H, W)`` uint8, the same size) as an
    ``(H, W, 3)`` uint8 image: x and y components clipped at :data:`CLIP_PX` pixels and mapped to
    ``128 + 127 * v / CLIP_PX``, and the magnitude mapped to ``255 * min(|v|, CLIP_PX) / CLIP_PX``.

    Raises:
        ValueError: the two frames differ in size or are not 2-D.
    """
    if prev_gray.ndim != 2 or prev_gray.shape != next_gray.shape:
        raise ValueError(f"flow needs two grey frames of one size, got {prev_gray.shape} and {next_gray.shape}")
    flow = (estimator or dis_flow()).calc(prev_gray, next_gray, None)  # (H, W, 2) pixels
    flow = np.clip(flow, -CLIP_PX, CLIP_PX)
    magnitude = np.minimum(np.hypot(flow[..., 0], flow[..., 1]), CLIP_PX)
    out = np.empty(flow.shape[:2] + (3,), dtype=np.uint8)
    out[..., :2] = np.round(128 + 127 * flow / CLIP_PX)
    out[..., 2] = np.round(255 * magnitude / CLIP_PX)
    return out


def decode_flow(image: np.ndarray) -> np.ndarray:
    """The ``(H, W, 2)`` flow in pixels an image of :func:`flow_image` stands for (clipped)."""
    return (image[..., :2].astype(np.float32) - 128.0) * CLIP_PX / 127.0
