"""Write a produced pose to disk: ``.pose`` (pose-format), ``.mp4`` or ``.gif`` (a skeleton drawing).

Drawing is pose-format's :class:`~pose_format.pose_visualizer.PoseVisualizer` (limbs and points
of every component, coloured by the header, faded by confidence, hidden where confidence is 0).
Its own ``save_video`` needs ``vidgear`` and an ``ffmpeg`` binary, which SignStudio does not
require, so MP4 frames are encoded with OpenCV's ``VideoWriter`` (MPEG-4 Part 2, ``mp4v``); GIFs
with Pillow, like the visualizer's ``save_gif`` but with one palette shared by all frames (ten
times faster).

Every file is written atomically: to a temporary file beside the target (same suffix, so the
encoder picks the right container), then renamed over it; on error the temporary file is removed
and an existing target is left untouched.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from pose_format import Pose
from pose_format.numpy import NumPyPoseBody

from signstudio.atomic import atomic_path
from signstudio.errors import InputError, SignStudioError
from signstudio.pose.io import write_pose
from signstudio.quiet import native_stderr_silenced, quiet_native_env

#: Suffixes :func:`export` can write.
EXPORT_SUFFIXES = (".pose", ".mp4", ".gif")

#: Empty border around the signer in a rendered video, as a fraction of the canvas side.
MARGIN = 0.06


def export_pose(pose: Pose, path: str | os.PathLike) -> Path:
    """Write ``pose`` as a pose-format ``.pose`` file, atomically (``signstudio.pose.io.write_pose``).

    Returns the path written. Raises :class:`OSError` if the folder is not writable.
    """
    path = Path(path)
    write_pose(pose, path)
    return path


def fit_to_canvas(pose: Pose, size: int = 512, margin: float = MARGIN) -> Pose:
    """A copy of ``pose`` scaled and translated so every visible point lies in a ``size`` x ``size``
    pixel canvas with ``margin * size`` pixels free on each side.

    Works for any header (MediaPipe Holistic in pixels or normalised, a 50-joint Progressive
    Transformers skeleton, OpenPose ...): the bounding box in x/y of the points whose confidence is
    above 0 (over all frames) is scaled uniformly (aspect kept; ``z`` scaled alike) and centred.
    ``y`` grows downwards, as in images and MediaPipe. The header's dimensions become
    ``size`` x ``size``; the input is not modified.

    Args:
        pose: ``pose.body.data`` ``(T, P, J, D)``, ``D`` >= 2.
        size: canvas side in pixels.
        margin: border as a fraction of ``size`` (0 <= margin < 0.5).

    Raises:
        InputError: the pose has no frames, fewer than 2 dimensions, or no visible finite point.
    """
    body = pose.body if isinstance(pose.body, NumPyPoseBody) else pose.body.numpy()
    data = np.asarray(np.ma.getdata(body.data), dtype=np.float64)
    confidence = np.asarray(body.confidence)
    if data.ndim != 4 or data.shape[0] == 0:
        raise InputError(f"nothing to draw: the pose has shape {data.shape}, "
                         "not (frames, people, points, dims)")
    if data.shape[-1] < 2:
        raise InputError(f"nothing to draw: the pose has {data.shape[-1]} dimension(s), need x and y")
    visible = (confidence > 0) & np.isfinite(data[..., :2]).all(-1)
    if not visible.any():
        raise InputError("nothing to draw: no point of the pose is visible (all confidences are 0)")
    xy = data[..., :2][visible]
    low, high = xy.min(axis=0), xy.max(axis=0)
    extent = float((high - low).max())
    usable = size * (1 - 2 * margin)
    scale = usable / extent if extent > 0 else 1.0
    centre = (low + high) / 2
    shift = size / 2 - centre * scale

    new = data * scale
    new[..., 0] += shift[0]
    new[..., 1] += shift[1]
    new[~np.isfinite(new)] = 0
    confidence = np.where(visible, confidence, 0).astype(np.float32)
    header = copy.deepcopy(pose.header)
    header.dimensions.width = header.dimensions.height = int(size)
    new_body = NumPyPoseBody(fps=float(body.fps), data=new.astype(np.float32), confidence=confidence)
    return Pose(header, new_body)


def _frames(pose: Pose, size: int,
            fps: float | None) -> tuple[Pose, Callable[[], Iterator[np.ndarray]]]:
    """The canvas-fitted pose at ``fps`` and a generator of its BGR frames ``(size, size, 3)``."""
    from pose_format.pose_visualizer import PoseVisualizer

    if int(size) < 16:
        raise InputError(f"video size {size} px is too small (at least 16)")
    fitted = fit_to_canvas(pose, int(size))
    if fps is not None:
        if fps <= 0:
            raise InputError(f"fps must be positive, got {fps}")
        if abs(float(fps) - float(fitted.body.fps)) > 1e-6 and len(fitted.body.data) > 1:
            fitted = Pose(fitted.header, fitted.body.interpolate(float(fps), kind="linear"))
        fitted.body.fps = float(fps)
    visualizer = PoseVisualizer(fitted)
    return fitted, lambda: visualizer.draw(background_color=(255, 255, 255))


def _save_gif(path: Path, frames: list[np.ndarray], fps: float) -> None:
    """Encode BGR frames ``(H, W, 3)`` as a looping GIF with one shared 255-colour palette.

    The palette comes from up to 8 frames spread over the clip (median cut, no dithering).
    PoseVisualizer's ``save_gif`` gives every frame its own adaptive palette, which is about ten
    times slower (5 s for 200 frames of 512 x 512 here) for no visible gain on flat drawings.
    """
    from PIL import Image

    images = [Image.fromarray(np.ascontiguousarray(f[..., 2::-1])) for f in frames]  # BGR -> RGB
    picks = np.linspace(0, len(images) - 1, num=min(8, len(images))).round().astype(int)
    sample = np.concatenate([np.asarray(images[i]) for i in picks], axis=0)
    palette = Image.fromarray(sample).quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    # Median cut averages the background with anti-aliased edges, and Pillow's palette mapping is
    # coarse (near colours collide): make every near-background entry the exact background.
    colours = np.asarray(palette.getpalette()[:3 * 255], dtype=int).reshape(-1, 3)
    background = sample[0, 0].astype(int)
    colours[np.abs(colours - background).sum(1) <= 24] = background
    palette.putpalette(colours.astype(np.uint8).flatten().tolist())
    quantized = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    quantized[0].save(path, format="GIF", save_all=True, append_images=quantized[1:],
                      duration=1000 / fps, loop=0)


def export_video(pose: Pose, path: str | os.PathLike, *, size: int = 512,
                 fps: float | None = None) -> Path:
    """Draw ``pose`` (any header) as a skeleton on white and write an ``.mp4`` or ``.gif``.

    The pose is first fitted into the ``size`` x ``size`` canvas (:func:`fit_to_canvas`, on a
    copy), then drawn frame by frame by pose-format's ``PoseVisualizer``. One video frame per pose
    frame at the pose's fps; with ``fps`` given the pose is resampled to it (duration kept).
    MP4: MPEG-4 Part 2 (``mp4v``) through OpenCV. GIF: Pillow, one shared palette, frame duration
    ``1000 / fps`` ms, looping.

    Args:
        pose: ``pose.body.data`` ``(T, P, J, D)`` (NumPy or torch body).
        path: ``*.mp4`` or ``*.gif``; written atomically.
        size: canvas side in pixels.
        fps: frames per second of the video (default: the pose's).

    Returns the path written.

    Raises:
        InputError: another suffix, a pose with nothing visible, a bad size or fps.
        SignStudioError: OpenCV cannot open an MP4 writer.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".mp4", ".gif"):
        raise InputError(f"can't export a video to {suffix or path.name!r}; use .mp4 or .gif")
    fitted, frames = _frames(pose, size, fps)
    with atomic_path(path) as tmp:
        if suffix == ".gif":
            _save_gif(tmp, list(frames()), float(fitted.body.fps))
        else:
            quiet_native_env()
            import cv2

            with native_stderr_silenced():  # FFmpeg's "tag ... is not supported" lines
                writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"),
                                         float(fitted.body.fps), (int(size), int(size)))
                opened = writer.isOpened()
            if not opened:
                raise SignStudioError(f"{path}: OpenCV could not open an MP4 (mp4v) writer")
            try:
                for frame in frames():
                    with native_stderr_silenced():
                        writer.write(np.ascontiguousarray(frame[..., :3]))
            finally:
                with native_stderr_silenced():
                    writer.release()
    return path


def export(pose: Pose, path: str | os.PathLike, *, size: int = 512, fps: float | None = None) -> Path:
    """Write ``pose`` by the suffix of ``path``: ``.pose`` (:func:`export_pose`), ``.mp4`` or ``.gif``
    (:func:`export_video` with ``size`` and ``fps``).

    Raises:
        InputError: any other suffix, e.g. ``can't export to '.avi'; use .pose, .mp4 or .gif``
            (and what :func:`export_video` raises).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".pose":
        return export_pose(pose, path)
    if suffix in (".mp4", ".gif"):
        return export_video(pose, path, size=size, fps=fps)
    raise InputError(f"can't export to {suffix or path.name!r}; use .pose, .mp4 or .gif")
