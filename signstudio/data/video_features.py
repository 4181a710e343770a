"""Frame features of sign videos for the spatio-temporal transformer, computed once and cached.

Per clip (Ruiz & Martinez 2025, arXiv 2502.02587, Sec. 3.1 and 3.6): ``frames`` frames sampled
evenly over the clip's range, each centre-cropped to a square and resized to 224x224; the optical
flow from each sampled frame to the next video frame (:mod:`signstudio.capture.flow`, DIS, as an
8-bit image); and both through a frozen ImageNet backbone
(:func:`signstudio.models.backbones.load_backbone`) to ``(T, C, 7, 7)`` maps, stored as float16.

The cache (:func:`cache_folder`) lives in the per-user cache folder, never in the repository: one
``.npz`` per clip (``rgb`` and ``flow`` maps), in a folder named by the settings (:class:`FrameSettings`
``key``), so other settings never read stale maps. Building it
(:func:`signstudio.runtime.video_cache.build_wlasl_cache`) runs one process per core, each loading
the backbone once; it is resumable (written files are skipped).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from signstudio.errors import InputError

#: What a feature map is made from.
STREAMS = ("rgb", "flow")
#: Which frame each sampled frame's flow goes to: the next video frame (motion over 1/25 s), or
#: the next sampled frame (the motion between what the model sees, several frames apart), by the
#: :attr:`FrameSettings.flow` name that keys the cache.
FLOW_PAIRS = {"next-frame": "dis-medium-clip20", "next-sample": "dis-medium-clip20-to-next-sample"}
#: What a model reads: one stream, or both with their maps concatenated along the channels.
STREAM_CHOICES = ("flow", "rgb", "rgb+flow")


def stream_parts(stream: str) -> tuple[str, ...]:
    """The cached :data:`STREAMS` a model's ``stream`` (:data:`STREAM_CHOICES`) reads, in channel order.

    Raises:
        InputError: an unknown stream.
    """
    parts = tuple(stream.split("+"))
    if stream not in STREAM_CHOICES:
        raise InputError(f"unknown video stream {stream!r}; expected one of {', '.join(STREAM_CHOICES)}")
    return parts


@dataclass(frozen=True)
class FrameSettings:
    """How a clip becomes feature maps; :attr:`key` names its cache folder.

    Attributes:
        frames: frames sampled per clip (evenly over its range).
        size: side of the square input in pixels (224: a 7x7 map).
        backbone: :data:`signstudio.models.backbones.BACKBONES` name.
        weights: the backbone's weights file ("" for the default).
        flow: the flow method and its encoding (DIS, preset MEDIUM, clipped at 20 px), to the
            next frame or to the next sampled frame (:data:`FLOW_PAIRS`).
    """

    frames: int = 16
    size: int = 224
    backbone: str = "efficientnet-lite0"
    weights: str = ""
    flow: str = "dis-medium-clip20"

    @property
    def to_next_sample(self) -> bool:
        """True when each sampled frame's flow goes to the next sampled frame (:data:`FLOW_PAIRS`)."""
        return self.flow == FLOW_PAIRS["next-sample"]

    @property
    def key(self) -> str:
        """A short hash of the settings (the cache folder's name)."""
        text = json.dumps(asdict(self), sort_keys=True)
        return f"{self.backbone}-{self.frames}f-" + hashlib.sha256(text.encode()).hexdigest()[:10]


def cache_root() -> Path:
    """``$SIGNSTUDIO_CACHE``, or the platform's per-user cache folder."""
    root = os.environ.get("SIGNSTUDIO_CACHE")
    if not root:
        from platformdirs import user_cache_dir

        root = user_cache_dir("signstudio")
    return Path(root).expanduser()


def backbone_onnx_path(name: str, weights: str = "") -> Path:
    """Where the backbone's one-off ONNX export is kept: ``<cache>/backbones/<name>-<hash>.onnx``
    (the hash of the name and the weights file)."""
    tag = hashlib.sha256(f"{name}|{weights}".encode()).hexdigest()[:10]
    return cache_root() / "backbones" / f"{name}-{tag}.onnx"


def cache_folder(settings) -> Path:
    """:func:`cache_root` ``/video-features/<key>`` of a :class:`FrameSettings` (or any settings
    with a ``key``)."""
    return cache_root() / "video-features" / settings.key


def square(frame: np.ndarray, size: int) -> np.ndarray:
    """The centred square of a ``(H, W, 3)`` frame resized to ``(size, size, 3)`` (area filter)."""
    h, w = frame.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return cv2.resize(frame[top : top + s, left : left + s], (size, size), interpolation=cv2.INTER_AREA)


def read_frames(video: str | Path, frame_start: int = 1, frame_end: int = -1, size: int = 224) -> list[np.ndarray]:
    """The ``(size, size, 3)`` RGB squares of a video's frames ``frame_start..frame_end`` (1-based,
    inclusive; -1: to the end).

    Raises:
        InputError: the video cannot be read or has no frame in the range.
    """
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise InputError(f"{video}: not a readable video")
    frames, index = [], 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            index += 1
            if index < frame_start:
                continue
            if frame_end != -1 and index > frame_end:
                break
            frames.append(square(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), size))
    finally:
        cap.release()
    if not frames:
        raise InputError(f"{video}: no frames in the range {frame_start}..{frame_end}")
    return frames


def sample_indices(n: int, count: int) -> np.ndarray:
    """``(count,)`` indices of ``count`` frames sampled evenly over ``n`` (first and last included;
    repeated when the clip is shorter than ``count``)."""
    return np.round(np.linspace(0, n - 1, count)).astype(int)


def clip_images(frames: list[np.ndarray], count: int, streams: tuple[str, ...] = STREAMS,
                to_next_sample: bool = False) -> dict[str, np.ndarray]:
    """``{"rgb", "flow"}``: ``(count, S, S, 3)`` uint8 images of ``count`` frames sampled evenly from
    ``frames`` (RGB squares) and the flow from each to the next frame, or with ``to_next_sample``
    to the next sampled frame (the last one's: from the sampled frame before it); only the
    ``streams`` asked for."""
    from signstudio.capture.flow import dis_flow, flow_image

    n = len(frames)
    picks = sample_indices(n, count)
    grey = {}
    estimator = dis_flow()

    def gray(i: int) -> np.ndarray:
        if i not in grey:
            grey[i] = cv2.cvtColor(frames[i], cv2.COLOR_RGB2GRAY)
        return grey[i]

    out = {}
    if "rgb" in streams:
        out["rgb"] = np.stack([frames[i] for i in picks])
    if "flow" in streams:
        flows = []
        for k, i in enumerate(picks):
            if to_next_sample:
                a, b = (i, picks[k + 1]) if k + 1 < len(picks) else (picks[max(k - 1, 0)], i)
            else:
                a, b = (i, i + 1) if i + 1 < n else (max(i - 1, 0), i)
            flows.append(flow_image(gray(a), gray(b), estimator))
        out["flow"] = np.stack(flows)
    return out


def load_clip_maps(folder: Path, video_id: str, stream: str) -> np.ndarray:
    """The cached ``(T, C, 7, 7)`` float16 maps of one clip and stream (:data:`STREAM_CHOICES`;
    ``rgb+flow`` concatenates the two along ``C``).

    Raises:
        InputError: the clip is not cached, or an unknown stream.
    """
    parts = stream_parts(stream)
    path = folder / f"{video_id}.npz"
    if not path.is_file():
        raise InputError(f"{video_id}: not in the feature cache {folder}; run `signstudio datasets features`")
    with np.load(path) as data:
        lacking = [p for p in parts if p not in data.files]
        if lacking:
            raise InputError(f"{video_id}: the feature cache {folder} holds no {' or '.join(lacking)} maps; "
                             f"run `signstudio datasets features` with --streams {stream}")
        return data[parts[0]] if len(parts) == 1 else np.concatenate([data[p] for p in parts], axis=1)
