"""The window rendered by a real X server (Xvfb, xcb platform): a screenshot that is not blank."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import needs_xvfb, xvfb_screenshot  # tests/ is on sys.path under pytest

pytestmark = pytest.mark.xvfb


def _distinct_colors(image: np.ndarray) -> int:
    packed = image.reshape(-1, 3).astype(np.uint32)
    return len(np.unique(packed[:, 0] << 16 | packed[:, 1] << 8 | packed[:, 2]))


@needs_xvfb
def test_window_screenshot_under_xvfb_is_not_blank(tmp_path):
    image, _ = xvfb_screenshot(tmp_path)
    assert image.shape == (800, 1280, 3)
    assert image.std() > 10
    assert _distinct_colors(image) > 50  # text is antialiased: many shades, not a flat fill
    # The dark video area and the light window chrome are both there.
    gray = image.mean(axis=-1)
    assert (gray < 60).mean() > 0.2 and (gray > 200).mean() > 0.05


@pytest.mark.slow
@needs_xvfb
def test_translate_screenshot_under_xvfb_shows_the_video(tmp_path, data_dir):
    video = data_dir / "videos" / "webcam_signer.mp4"
    if not video.is_file():
        pytest.skip(f"{video} is missing")
    image, _ = xvfb_screenshot(tmp_path, "--open", str(video))
    assert image.shape == (800, 1280, 3)
    assert _distinct_colors(image) > 2000  # a photograph, not flat widgets


@needs_xvfb
def test_high_contrast_dark_theme_and_large_captions_under_xvfb(tmp_path):
    """The high-contrast dark theme really paints the window black with white text, and a 200 %
    caption is twice as tall as the standard one."""
    image, _ = xvfb_screenshot(tmp_path, "--theme", "high-contrast-dark", "--caption-scale", "200",
                               name="dark.png")
    gray = image.mean(axis=-1)
    assert (gray < 40).mean() > 0.6  # black chrome and panels, a near-black video area
    assert (gray > 200).mean() > 0.005  # white and light grey text
    standard, _ = xvfb_screenshot(tmp_path, name="standard.png")

    def caption_text_rows(img):
        """Rows of the caption panel (bottom of the Translate tab) crossed by its light text: a
        text row is partly bright; panel and chrome rows are all dark or all light."""
        share = (img[600:775, 20:1000].mean(axis=-1) > 150).mean(axis=1)
        return int(((share > 0.01) & (share < 0.6)).sum())

    assert caption_text_rows(image) > 1.6 * caption_text_rows(standard)
