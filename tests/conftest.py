"""Shared test set-up: Qt runs offscreen, and real data is found (or the test is skipped)."""

from __future__ import annotations

import os

# Before anything imports Qt: without a display, Qt's default (xcb) platform aborts the process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from signstudio.paths import data_dir as _data_dir  # noqa: E402


@pytest.fixture
def data_dir():
    """The shared real-data folder (``signstudio.paths.data_dir()``); skips the test if absent."""
    path = _data_dir()
    if not path.is_dir():
        pytest.skip(f"real data folder {path} does not exist "
                    "(set SIGNSTUDIO_DATA to a folder with videos/ to run this test)")
    return path
