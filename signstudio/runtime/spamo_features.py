"""Computing SpaMo's frozen features of a clip (what they are: :mod:`signstudio.data.spamo_features`).

The CNN backbone runs in onnxruntime when its one-off ONNX export is in the cache
(:func:`signstudio.data.video_features.backbone_onnx_path`, written by
:func:`signstudio.export.video.ensure_backbone_onnx`: 112 against 17 images/s in PyTorch at
224x224 on two threads here), else in PyTorch.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from signstudio.data.spamo_features import CROP, SpaMoFeatureSettings, motion_windows, s2_crops
from signstudio.data.video_features import backbone_onnx_path, read_frames, sample_indices
from signstudio.errors import InputError


class SpaMoFeaturizer:
    """Computes :class:`SpaMoFeatureSettings` features of a clip with the frozen encoders.

    Args:
        onnx: run the CNN backbone in onnxruntime if its export is in the cache (see the module).
        threads: intra-op threads per encoder.

    Raises:
        ModelError: an encoder's weights or folder are missing.
    """

    def __init__(self, settings: SpaMoFeatureSettings, onnx: bool = True, threads: int = 1) -> None:
        from signstudio.models import encoders

        self.settings = s = settings
        backbone = None
        if not (s.clip_vision and s.videomae):
            path = backbone_onnx_path(s.backbone, s.weights) if onnx else None
            backbone = encoders.BackboneEncoder(s.backbone, s.weights, path if path and path.is_file() else None,
                                                threads=threads)
        self.spatial = encoders.ClipEncoder(s.clip_vision) if s.clip_vision else backbone
        self.motion = encoders.VideoMAEEncoder(s.videomae) if s.videomae else backbone

    @property
    def size(self) -> int:
        """Side in pixels of the square frames to read (the largest scale)."""
        return CROP * max(self.settings.scales)

    def spatial_features(self, frames: list[np.ndarray]) -> np.ndarray:
        """``(T, D * len(scales))`` float32 of the sampled frames (see the module)."""
        s = self.settings
        picks = sample_indices(len(frames), s.frames) if s.frames else np.arange(len(frames))
        per_scale = []
        for scale in s.scales:
            crops = np.concatenate([s2_crops(frames[i], scale) for i in picks])
            vectors = self.spatial(crops)
            per_scale.append(vectors.reshape(len(picks), scale * scale, -1).mean(1))
        return np.concatenate(per_scale, axis=1)

    def motion_features(self, frames: list[np.ndarray]) -> np.ndarray:
        """``(M, D')`` float32, one per motion window (see the module)."""
        from signstudio.capture.flow import dis_flow, flow_image

        s = self.settings
        windows = motion_windows(len(frames), s.motion_clip, s.motion_stride)
        if s.videomae:
            return self.motion([frames[a:b] for a, b in windows])
        estimator, grey, images = dis_flow(), {}, []

        def gray(i: int) -> np.ndarray:
            if i not in grey:
                small = cv2.resize(frames[i], (CROP, CROP), interpolation=cv2.INTER_AREA)
                grey[i] = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
            return grey[i]

        n = len(frames)
        for a, b in windows:
            for i in np.round(np.linspace(a, max(b - 2, a), s.motion_flows)).astype(int):
                j = min(i + 1, n - 1)
                images.append(flow_image(gray(max(j - 1, 0)), gray(j), estimator))
        vectors = self.motion(np.stack(images))
        return vectors.reshape(len(windows), s.motion_flows, -1).mean(1)

    def clip(self, frames: list[np.ndarray]) -> dict[str, np.ndarray]:
        """``{"spatial", "motion"}`` float16 features of a clip's ``(S, S, 3)`` RGB squares.

        Raises:
            InputError: no frames.
        """
        if not frames:
            raise InputError("the clip has no frames")
        return {"spatial": self.spatial_features(frames).astype(np.float16),
                "motion": self.motion_features(frames).astype(np.float16)}

    def video(self, video: str | Path, frame_start: int = 1, frame_end: int = -1) -> dict[str, np.ndarray]:
        """:meth:`clip` of a video file's frames ``frame_start..frame_end`` (1-based, -1: to the end).

        Raises:
            InputError: the video cannot be read or has no frame in the range.
        """
        return self.clip(read_frames(video, frame_start, frame_end, self.size))
