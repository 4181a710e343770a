"""Where SignStudio finds data and models on disk."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (one level above the package); holds ``models/`` and ``resources/``.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The shared real-data folder: ``$SIGNSTUDIO_DATA``, else ``../shared/data`` beside the repo.

    The path is returned whether or not it exists; callers decide how to report its absence.
    """
    env = os.environ.get("SIGNSTUDIO_DATA")
    if env:
        return Path(env).expanduser()
    return PROJECT_ROOT.parent / "shared" / "data"


def models_dir() -> Path:
    """Folder of installed models: ``$SIGNSTUDIO_MODELS``, else the repository's ``models/``."""
    env = os.environ.get("SIGNSTUDIO_MODELS")
    return Path(env).expanduser() if env else PROJECT_ROOT / "models"
