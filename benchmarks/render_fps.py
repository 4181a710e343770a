"""Signer drawing speed: SignStudio's software renderer vs. what it replaced.

Usage::

    PYTHONPATH=. python benchmarks/render_fps.py [--frames N]
    xvfb-run -a -s "-screen 0 1920x1080x24" env QT_QPA_PLATFORM=xcb PYTHONPATH=. python benchmarks/render_fps.py

Prints frames per second of

1. **software renderer** (:func:`signstudio.pose.draw.render`, OpenCV on the CPU): at the 3D
   view's size in a 1280 x 800 window (with the caption band), at the export size 512 x 512, and
   512 tall with the hand close-ups (768 x 512);
2. **3D view** (:class:`signstudio.gui.skeleton3d.Skeleton3DView`): a frame shown and painted
   (render, QImage, QPainter), at the window size; needs PySide6;
3. **pyqtgraph.opengl** (the GL view the renderer replaced: one ``GLLinePlotItem`` per part and a
   ``GLScatterPlotItem``, per frame ``setData`` and a rendered framebuffer read back): only where
   Qt can make an OpenGL context (an X server, e.g. under ``xvfb-run`` with Mesa's llvmpipe; the
   ``offscreen`` platform cannot) and PyOpenGL is installed (no longer a SignStudio dependency);
4. **pose-format PoseVisualizer** at 512 x 512 (what ``.mp4``/``.gif`` export used before: thin
   2D lines, no depth);
5. **vispy**: not installed in SignStudio's environment, so not measured.

Poses: a real recorded ASL sign (colin-SAD, full MediaPipe Holistic, 576 points) from
``$SIGNSTUDIO_DATA/poses``. Numbers on a shared CPU are noisy: compare ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from signstudio.paths import data_dir  # noqa: E402

#: The 3D view's canvas in a 1280 x 800 window (measured offscreen with the default font).
WINDOW_VIEW = (892, 545)


def _fps(step, frames: int) -> float:
    step(0)  # warm-up (fonts, caches)
    t0 = time.perf_counter()
    for i in range(frames):
        step(i)
    return frames / (time.perf_counter() - t0)


def bench_software(scene, frames: int) -> list[tuple[str, float]]:
    from signstudio.pose.caption import Caption
    from signstudio.pose.draw import render

    n = scene.frames
    caption = Caption("SAD")
    rows = []
    for label, size, hands in ((f"window view {WINDOW_VIEW[0]}x{WINDOW_VIEW[1]} + caption",
                                WINDOW_VIEW, False),
                               ("export 512x512 + caption", (512, 512), False),
                               ("export 768x512 + caption + hand close-ups", (768, 512), True)):
        rows.append((label, _fps(lambda i: render(scene, i % n, None, size, hands=hands,
                                                  caption=caption), frames)))
    return rows


def bench_view(pose, frames: int) -> list[tuple[str, float]]:
    try:
        from PySide6.QtWidgets import QApplication
    except ImportError:
        return [("3D view (PySide6 not installed)", float("nan"))]
    from signstudio.gui.skeleton3d import Skeleton3DView

    app = QApplication.instance() or QApplication([])
    view = Skeleton3DView()
    view.resize(WINDOW_VIEW[0], WINDOW_VIEW[1] + 40)
    view.show()
    app.processEvents()
    scene = view.set_pose(pose)
    view.set_caption_band(True)

    def step(i: int) -> None:
        view.show_frame(i % scene.frames)
        view.canvas.repaint()  # render + QImage + paint, synchronously

    fps = _fps(step, frames)
    size = view.render_size()
    view.close()
    return [(f"3D view, shown and painted ({size[0]}x{size[1]})", fps)]


def bench_pyqtgraph_gl(scene, frames: int) -> list[tuple[str, float]]:
    try:
        from PySide6.QtGui import QGuiApplication
        from PySide6.QtWidgets import QApplication
        import pyqtgraph.opengl as gl
    except Exception as exc:  # noqa: BLE001 - PyOpenGL missing or broken
        return [(f"pyqtgraph.opengl: not importable ({type(exc).__name__}: {exc})", float("nan"))]
    app = QApplication.instance() or QApplication([])
    if QGuiApplication.platformName() in ("offscreen", "minimal"):
        return [(f"pyqtgraph.opengl: no OpenGL on the {QGuiApplication.platformName()!r} Qt "
                 "platform (run under xvfb-run with QT_QPA_PLATFORM=xcb)", float("nan"))]
    view = gl.GLViewWidget()
    view.resize(*WINDOW_VIEW)
    view.setBackgroundColor((247, 248, 250))
    lines = []
    for group in scene.groups:
        item = gl.GLLinePlotItem(pos=np.zeros((2, 3), np.float32), width=3.0, mode="lines",
                                 antialias=True, glOptions="translucent")
        view.addItem(item)
        lines.append((item, group))
    dots = gl.GLScatterPlotItem(pos=np.zeros((1, 3), np.float32), size=6.0, pxMode=True,
                                glOptions="translucent")
    view.addItem(dots)
    view.setCameraPosition(distance=6.0, elevation=6.0, azimuth=-78.0)
    view.show()
    app.processEvents()
    joints = np.unique(np.concatenate([g.joints for g in scene.groups]))

    def step(i: int) -> None:
        t = i % scene.frames
        for item, group in lines:
            pos = scene.lines(t, group)
            if len(pos):
                item.setData(pos=pos)
        shown = joints[scene.visible[t, joints]]
        if len(shown):
            dots.setData(pos=scene.positions[t, shown])
        view.grabFramebuffer()  # render and read the pixels back, as an export would

    try:
        fps = _fps(step, frames)
    except Exception as exc:  # noqa: BLE001 - a GL context that cannot render
        return [(f"pyqtgraph.opengl: failed ({type(exc).__name__}: {exc})", float("nan"))]
    finally:
        view.close()
    return [(f"pyqtgraph.opengl {WINDOW_VIEW[0]}x{WINDOW_VIEW[1]}, thin lines "
             f"({QGuiApplication.platformName()})", fps)]


def bench_pose_format(pose, frames: int) -> list[tuple[str, float]]:
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody
    from pose_format.pose_visualizer import PoseVisualizer

    body = pose.body
    data = np.ma.getdata(body.data).astype(np.float32).copy()
    conf = np.asarray(body.confidence)
    visible = conf > 0
    xy = data[..., :2][visible]
    lo, hi = xy.min(0), xy.max(0)
    scale = 512 * 0.88 / float((hi - lo).max())
    data[..., :2] = (data[..., :2] - (lo + hi) / 2) * scale + 256
    fitted = Pose(pose.header, NumPyPoseBody(fps=float(body.fps), data=data, confidence=conf))
    fitted.header.dimensions.width = fitted.header.dimensions.height = 512
    visualizer = PoseVisualizer(fitted)
    t0 = time.perf_counter()
    count = 0
    while count < frames:  # one pass draws every frame of the pose
        for _frame in visualizer.draw(background_color=(255, 255, 255)):
            count += 1
    return [("pose-format PoseVisualizer 512x512, thin 2D lines (the old export)",
             count / (time.perf_counter() - t0))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=200, help="frames drawn per measurement")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from signstudio.pose.io import read_pose
    from signstudio.pose.scene import build_scene

    path = data_dir() / "poses" / "asl" / "standard_landmarks" / "colin-SAD.pose"
    if not path.is_file():
        print(f"{path} is missing (set SIGNSTUDIO_DATA)", file=sys.stderr)
        return 1
    pose = read_pose(path)
    build_scene(pose)  # the first build imports MediaPipe's face contours (about a second)
    t0 = time.perf_counter()
    scene = build_scene(pose)
    built = time.perf_counter() - t0
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '-')}; pose {path.name}: "
          f"{scene.frames} frames x {scene.positions.shape[1]} points; scene built in "
          f"{built * 1000:.0f} ms")
    rows = (bench_software(scene, args.frames) + bench_view(pose, args.frames)
            + bench_pyqtgraph_gl(scene, args.frames) + bench_pose_format(pose, args.frames)
            + [("vispy: not installed (not measured)", float("nan"))])
    for label, fps in rows:
        print(f"  {label:<66} {'-' if fps != fps else f'{fps:7.1f} fps'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
