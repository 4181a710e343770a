"""The window rendered by a real X server (Xvfb, xcb platform): a screenshot that is not blank."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from signstudio.paths import PROJECT_ROOT

pytestmark = pytest.mark.xvfb

XVFB_RUN = shutil.which("xvfb-run")


def _screenshot(tmp_path, *extra: str, timeout: float = 240):
    out = tmp_path / "window.png"
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "xcb"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH"))
                                        if p)
    cmd = [XVFB_RUN, "-a", "-s", "-screen 0 1600x1000x24", sys.executable, "-m",
           "signstudio.gui.screenshot", str(out), "--size", "1280x800", *extra]
    proc = subprocess.run(cmd, env=env, cwd=str(tmp_path), capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"screenshot failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    assert out.is_file(), f"no PNG written; stdout: {proc.stdout!r}"
    import cv2

    image = cv2.imread(str(out), cv2.IMREAD_COLOR)
    assert image is not None, f"{out} is not a readable PNG"
    return image


def _distinct_colors(image: np.ndarray) -> int:
    packed = image.reshape(-1, 3).astype(np.uint32)
    return len(np.unique(packed[:, 0] << 16 | packed[:, 1] << 8 | packed[:, 2]))


@pytest.mark.skipif(XVFB_RUN is None, reason="xvfb-run is not on PATH (apt-get install xvfb xauth)")
def test_window_screenshot_under_xvfb_is_not_blank(tmp_path):
    image = _screenshot(tmp_path)
    assert image.shape == (800, 1280, 3)
    assert image.std() > 10
    assert _distinct_colors(image) > 50  # text is antialiased: many shades, not a flat fill
    # The dark video area and the light window chrome are both there.
    gray = image.mean(axis=-1)
    assert (gray < 60).mean() > 0.2 and (gray > 200).mean() > 0.05


@pytest.mark.slow
@pytest.mark.skipif(XVFB_RUN is None, reason="xvfb-run is not on PATH (apt-get install xvfb xauth)")
def test_translate_screenshot_under_xvfb_shows_the_video(tmp_path, data_dir):
    video = data_dir / "videos" / "webcam_signer.mp4"
    if not video.is_file():
        pytest.skip(f"{video} is missing")
    image = _screenshot(tmp_path, "--open", str(video))
    assert image.shape == (800, 1280, 3)
    assert _distinct_colors(image) > 2000  # a photograph, not flat widgets
