"""The Produce tab rendered by a real X server (Xvfb, xcb): the 3D signer is really drawn.

The view paints images of SignStudio's own renderer (no OpenGL), so it draws offscreen too
(tests/test_gui_produce.py); here the whole window goes through a real X server once.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import needs_xvfb, xvfb_screenshot  # tests/ is on sys.path under pytest

pytestmark = pytest.mark.xvfb

#: The 3D view's part of a 1280x800 window (right of the text panel, above the player).
VIEW_BOX = (slice(110, 620), slice(420, 1240))  # rows, columns
#: The view's background (signstudio.pose.draw.BACKGROUND) in BGR, as OpenCV reads it.
BACKGROUND_BGR = np.array([250, 248, 247])
#: The hands' colours (signstudio.pose.draw.STYLE_COLORS) in BGR.
LEFT_HAND_BGR = np.array([0, 118, 232])
RIGHT_HAND_BGR = np.array([128, 24, 200])


def _near(region: np.ndarray, bgr: np.ndarray, tolerance: int = 40) -> int:
    return int((np.abs(region.astype(int) - bgr).max(axis=-1) < tolerance).sum())


def _assert_signer_drawn(image: np.ndarray) -> None:
    assert image.shape == (800, 1280, 3)
    view = image[VIEW_BOX]
    drawn = np.abs(view.astype(int) - BACKGROUND_BGR).max(axis=-1) > 40
    assert drawn.mean() > 0.01, f"the 3D view is blank ({drawn.mean():.2%} drawn)"
    packed = view.reshape(-1, 3).astype(np.uint32)
    colors = len(np.unique(packed[:, 0] << 16 | packed[:, 1] << 8 | packed[:, 2]))
    assert colors > 20, f"only {colors} colours in the 3D view"
    # The hands are drawn in their own colours.
    assert _near(view, LEFT_HAND_BGR) + _near(view, RIGHT_HAND_BGR) > 100


@needs_xvfb
def test_produce_tab_draws_a_real_pose_in_3d(tmp_path, data_dir):
    pose = data_dir / "poses" / "asl" / "standard_landmarks" / "colin-SAD.pose"
    if not pose.is_file():
        pytest.skip(f"{pose} is missing")
    image, _ = xvfb_screenshot(tmp_path, "--pose", str(pose), name="produce.png")
    _assert_signer_drawn(image)


@needs_xvfb
def test_produce_tab_signs_glosses_and_draws_them(tmp_path):
    pytest.importorskip("signstudio.production.pipeline")
    image, stderr = xvfb_screenshot(tmp_path, "--produce", "hello", "--glosses", "HELLO",
                                    "--lang", "ase", name="produce.png")
    assert "shows an error" not in stderr, stderr[-2000:]
    _assert_signer_drawn(image)
    # The gloss strip under the player shows HELLO highlighted (the strip's yellow).
    strip = image[700:770, 370:1270]
    assert _near(strip, np.array([77, 210, 255]), 30) > 200
