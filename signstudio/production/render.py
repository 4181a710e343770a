"""Write a produced pose to disk: ``.pose`` (pose-format), ``.mp4`` or ``.gif`` (the signer drawn).

Videos are drawn by SignStudio's own renderer (:mod:`signstudio.pose.draw`, OpenCV), the one the
Produce tab's 3D view shows: shaded bones with depth, enlarged hands, a head on a neck, optional
close-ups of both hands, and a caption band with the gloss being signed (and, when
fingerspelling, the letters with the current one highlighted). MP4 frames are encoded with
OpenCV's ``VideoWriter`` (MPEG-4 Part 2, ``mp4v``; no ``ffmpeg`` binary needed); GIFs with Pillow,
one palette shared by all frames.

Every file is written atomically: to a temporary file beside the target (same suffix, so the
encoder picks the right container), then renamed over it; on error the temporary file is removed
and an existing target is left untouched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
from pose_format import Pose
from pose_format.numpy import NumPyPoseBody

from signstudio.atomic import atomic_path
from signstudio.errors import InputError, SignStudioError
from signstudio.pose.caption import BAND_BACKGROUND, Caption
from signstudio.pose.io import write_pose
from signstudio.quiet import native_stderr_silenced, quiet_native_env

#: Suffixes :func:`export` can write.
EXPORT_SUFFIXES = (".pose", ".mp4", ".gif")


def export_pose(pose: Pose, path: str | os.PathLike) -> Path:
    """Write ``pose`` as a pose-format ``.pose`` file, atomically (``signstudio.pose.io.write_pose``).

    Returns the path written. Raises :class:`OSError` if the folder is not writable.
    """
    path = Path(path)
    write_pose(pose, path)
    return path


def caption_at(segments: Sequence, frame: int) -> Caption | None:
    """The caption of ``frame``: the gloss of the segment holding it and, for a fingerspelled one,
    its letters and the current letter (:meth:`~signstudio.production.types.Segment.letter_at`);
    ``None`` between segments.

    Args:
        segments: :class:`~signstudio.production.types.Segment`-like objects (``gloss``,
            ``start``, ``end``; optional ``letters`` and ``letter_at``), in frame order.
        frame: a frame index at the segments' frame rate.
    """
    for seg in segments:
        if seg.start <= frame < seg.end:
            letters = tuple(getattr(seg, "letters", ()) or ())
            letter = seg.letter_at(frame) if letters and hasattr(seg, "letter_at") else None
            return Caption(str(seg.gloss), letters, letter)
    return None


def video_size(size: int, hands: bool = False) -> tuple[int, int]:
    """``(width, height)`` of an exported video: ``size`` x ``size``, plus a column of half the
    width (even) for hand close-ups."""
    return (int(size) + (2 * (int(size) // 4) if hands else 0), int(size))


def _check_drawable(pose: Pose) -> np.ndarray:
    """The pose's data ``(T, P, J, D)`` as floats, or :class:`InputError` saying why nothing
    can be drawn."""
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
    return data


def render_frames(pose: Pose, *, size: int = 512, fps: float | None = None,
                  segments: Sequence = (), hands: bool = False,
                  camera=None) -> tuple[float, int, Iterator[np.ndarray]]:
    """Draw ``pose`` frame by frame as a video would show it.

    Args:
        pose: any pose-format ``Pose`` (``(T, P, J, D)``, NumPy or torch body; not modified).
        size: height (and figure width) in pixels, at least 16 (see :func:`video_size`).
        fps: frames per second (default: the pose's); the pose is resampled to it, the segments'
            frames mapped by time.
        segments: the production's segments: each frame gets the caption of its segment
            (:func:`caption_at`); none: no caption band.
        hands: add close-ups of both hands.
        camera: a :class:`signstudio.pose.draw.Camera` (default: the renderer's first view).

    Returns:
        ``(fps, frames, iterator of (size, width, 3) uint8 RGB images)``.

    Raises:
        InputError: a pose with nothing visible, a size under 16, a fps that is not positive.
    """
    from signstudio.pose.draw import render
    from signstudio.pose.scene import build_scene

    if int(size) < 16:
        raise InputError(f"video size {size} px is too small (at least 16)")
    if fps is not None and not fps > 0:
        raise InputError(f"fps must be positive, got {fps}")
    _check_drawable(pose)
    own_fps = float(pose.body.fps) or 25.0
    out_fps = float(fps) if fps is not None else own_fps
    if abs(out_fps - own_fps) > 1e-6 and len(pose.body.data) > 1:
        body = pose.body if isinstance(pose.body, NumPyPoseBody) else pose.body.numpy()
        pose = Pose(pose.header, body.interpolate(out_fps, kind="linear"))
    try:
        scene = build_scene(pose)
    except ValueError as exc:
        raise InputError(f"nothing to draw: {exc}") from None
    width, height = video_size(size, hands)
    segments = list(segments or ())

    def frames() -> Iterator[np.ndarray]:
        for k in range(scene.frames):
            source = int(round(k * own_fps / out_fps))
            caption = caption_at(segments, source) if segments else None
            yield render(scene, k, camera, (width, height), hands=hands, caption=caption,
                         show_caption=bool(segments))

    return out_fps, scene.frames, frames()


def _save_gif(path: Path, frames: list[np.ndarray], fps: float) -> None:
    """Encode RGB frames ``(H, W, 3)`` as a looping GIF with one shared 255-colour palette.

    The palette comes from up to 8 frames spread over the clip (median cut, no dithering); a
    palette per frame is about ten times slower for no visible gain on drawings.
    """
    from PIL import Image

    images = [Image.fromarray(np.ascontiguousarray(f)) for f in frames]
    picks = np.linspace(0, len(images) - 1, num=min(8, len(images))).round().astype(int)
    sample = np.concatenate([np.asarray(images[i]) for i in picks], axis=0)
    palette = Image.fromarray(sample).quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    # Median cut averages the flat backgrounds with anti-aliased edges, and Pillow's palette
    # mapping is coarse (near colours collide): make every near-background entry exact.
    colours = np.asarray(palette.getpalette()[:3 * 255], dtype=int).reshape(-1, 3)
    exact = np.array([sample[0, 0], BAND_BACKGROUND], dtype=int)
    distance = np.abs(colours[:, None, :] - exact[None]).sum(-1)  # (255, 2)
    near = distance.min(axis=1) <= 12
    colours[near] = exact[distance[near].argmin(axis=1)]
    palette.putpalette(colours.astype(np.uint8).flatten().tolist())
    quantized = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    quantized[0].save(path, format="GIF", save_all=True, append_images=quantized[1:],
                      duration=1000 / fps, loop=0)


def export_video(pose: Pose, path: str | os.PathLike, *, size: int = 512,
                 fps: float | None = None, segments: Sequence = (), hands: bool = False,
                 camera=None) -> Path:
    """Draw ``pose`` (any header) and write an ``.mp4`` or ``.gif`` (see :func:`render_frames`).

    One video frame per pose frame at the pose's fps; with ``fps`` given the pose is resampled to
    it (duration kept). The video is :func:`video_size` pixels. MP4: MPEG-4 Part 2 (``mp4v``)
    through OpenCV. GIF: Pillow, one shared palette, frame duration ``1000 / fps`` ms, looping.

    Args:
        pose: ``pose.body.data`` ``(T, P, J, D)`` (NumPy or torch body).
        path: ``*.mp4`` or ``*.gif``; written atomically.
        size: height of the video in pixels.
        fps: frames per second of the video (default: the pose's).
        segments: the production's segments, for the caption band (none: no band).
        hands: add close-ups of both hands on the right.
        camera: the view (default: the renderer's first view, as the Produce tab opens).

    Returns the path written.

    Raises:
        InputError: another suffix, a pose with nothing visible, a bad size or fps.
        SignStudioError: OpenCV cannot open an MP4 writer.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".mp4", ".gif"):
        raise InputError(f"can't export a video to {suffix or path.name!r}; use .mp4 or .gif")
    out_fps, _count, frames = render_frames(pose, size=size, fps=fps, segments=segments,
                                            hands=hands, camera=camera)
    width, height = video_size(size, hands)
    with atomic_path(path) as tmp:
        if suffix == ".gif":
            _save_gif(tmp, list(frames), out_fps)
        else:
            quiet_native_env()
            import cv2

            with native_stderr_silenced():  # FFmpeg's "tag ... is not supported" lines
                writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), out_fps,
                                         (width, height))
                opened = writer.isOpened()
            if not opened:
                raise SignStudioError(f"{path}: OpenCV could not open an MP4 (mp4v) writer")
            try:
                for frame in frames:
                    with native_stderr_silenced():
                        writer.write(np.ascontiguousarray(frame[..., ::-1]))  # RGB -> BGR
            finally:
                with native_stderr_silenced():
                    writer.release()
    return path


def export(pose: Pose, path: str | os.PathLike, *, size: int = 512, fps: float | None = None,
           segments: Sequence = (), hands: bool = False, camera=None) -> Path:
    """Write ``pose`` by the suffix of ``path``: ``.pose`` (:func:`export_pose`), ``.mp4`` or ``.gif``
    (:func:`export_video` with ``size``, ``fps``, ``segments``, ``hands`` and ``camera``).

    Raises:
        InputError: any other suffix, e.g. ``can't export to '.avi'; use .pose, .mp4 or .gif``
            (and what :func:`export_video` raises).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".pose":
        return export_pose(pose, path)
    if suffix in (".mp4", ".gif"):
        return export_video(pose, path, size=size, fps=fps, segments=segments, hands=hands,
                            camera=camera)
    raise InputError(f"can't export to {suffix or path.name!r}; use .pose, .mp4 or .gif")
