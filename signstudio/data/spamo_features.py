"""SpaMo's frozen features of a sign clip (Hwang et al. 2024, arXiv 2408.10593, Sec. 3.1), computed
once per clip and cached outside the repository.

- **Spatial** ``(T, D * len(scales))``: ``frames`` frames sampled evenly over the clip, each
  centre-cropped to a square; per S2 scale ``s`` (Shi et al. 2024, the paper's multi-scale scheme)
  the frame is resized to ``224 s`` and split into an ``s x s`` grid of 224x224 crops, each crop is
  encoded and the crops averaged; the scales are concatenated (scale 1 first).
- **Motion** ``(M, D')``: windows of ``motion_clip`` consecutive video frames with stride
  ``motion_stride`` (the paper's 16 and 8; a clip shorter than one window gives one window over
  all of it). With a local VideoMAE folder each window goes through VideoMAE (the paper). The
  offline default departs from the paper: ``motion_flows`` DIS optical-flow images spread over the
  window (:mod:`signstudio.capture.flow`, each to the next video frame) go through the same frozen
  ImageNet backbone and are averaged.

The encoders are :mod:`signstudio.models.encoders`, run by
:class:`signstudio.runtime.spamo_features.SpaMoFeaturizer`. One ``.npz`` per clip (``spatial``,
``motion``, float16) in ``<cache>/video-features/<key>`` (:class:`SpaMoFeatureSettings` ``key``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from signstudio.errors import InputError

#: Side of an encoder's input crop in pixels.
CROP = 224


@dataclass(frozen=True)
class SpaMoFeatureSettings:
    """How a clip becomes SpaMo's spatial and motion features; :attr:`key` names its cache folder.

    Attributes:
        frames: frames sampled per clip for the spatial features (0: every frame).
        scales: S2 scales (1: the frame at 224 px; 2: at 448 px in a 2x2 grid of 224 crops).
        backbone: the offline spatial/motion CNN (:data:`signstudio.models.backbones.BACKBONES`).
        weights: a user's backbone weights file ('' for the packaged default).
        clip_vision: a local ``CLIPVisionModel`` folder for the spatial encoder ('' for the backbone).
        videomae: a local ``VideoMAEModel`` folder for the motion encoder ('' for flow + backbone).
        motion_clip: frames per motion window (the paper's 16).
        motion_stride: frames between window starts (the paper's 8).
        motion_flows: flow images per window for the offline motion encoder.
    """

    frames: int = 16
    scales: tuple[int, ...] = (1, 2)
    backbone: str = "efficientnet-lite0"
    weights: str = ""
    clip_vision: str = ""
    videomae: str = ""
    motion_clip: int = 16
    motion_stride: int = 8
    motion_flows: int = 4

    def __post_init__(self) -> None:
        object.__setattr__(self, "scales", tuple(int(s) for s in self.scales))
        if not self.scales or min(self.scales) < 1:
            raise InputError(f"S2 scales must be positive integers, got {self.scales}")
        if self.motion_clip < 2 or self.motion_stride < 1 or self.motion_flows < 1:
            raise InputError("motion_clip must be >= 2, motion_stride and motion_flows >= 1")

    @property
    def key(self) -> str:
        """A short hash of the settings (the cache folder's name)."""
        text = json.dumps(asdict(self), sort_keys=True)
        return f"spamo-{self.backbone}-{self.frames}f-" + hashlib.sha256(text.encode()).hexdigest()[:10]


def s2_crops(frame: np.ndarray, scale: int) -> np.ndarray:
    """``(scale**2, 224, 224, 3)``: a square ``(S, S, 3)`` frame resized to ``224 scale`` and cut
    into a ``scale x scale`` grid (row-major)."""
    side = CROP * scale
    big = frame if frame.shape[0] == side else cv2.resize(frame, (side, side), interpolation=cv2.INTER_AREA)
    return np.stack([big[r * CROP : (r + 1) * CROP, c * CROP : (c + 1) * CROP]
                     for r in range(scale) for c in range(scale)])


def motion_windows(n: int, clip: int, stride: int) -> list[tuple[int, int]]:
    """``[start, end)`` frame ranges of windows of ``clip`` frames every ``stride`` frames over
    ``n`` frames; the last window ends at ``n``; one window when ``n <= clip``."""
    if n <= clip:
        return [(0, n)]
    starts = list(range(0, n - clip + 1, stride))
    if starts[-1] + clip < n:
        starts.append(n - clip)
    return [(s, s + clip) for s in starts]


def load_spamo_features(folder: Path, video_id: str) -> dict[str, np.ndarray]:
    """A clip's cached ``{"spatial", "motion"}`` features.

    Raises:
        InputError: the clip is not cached.
    """
    path = folder / f"{video_id}.npz"
    if not path.is_file():
        raise InputError(f"{video_id}: not in the SpaMo feature cache {folder}; "
                         "run `signstudio datasets features wlasl --spamo`")
    with np.load(path) as data:
        return {"spatial": data["spatial"], "motion": data["motion"]}
