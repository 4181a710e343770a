"""Where SignStudio finds data and models on disk.

Two model folders are searched, in this order:

1. the **user's models** (:func:`user_models_dir`): what ``signstudio train`` and the Train tab
   write by default, one folder per model; ``$SIGNSTUDIO_USER_MODELS``, else the platform's data
   folder (``~/.local/share/signstudio/models`` on Linux, ``~/Library/Application
   Support/signstudio/models`` on macOS, ``%LOCALAPPDATA%\\signstudio\\models`` on Windows);
2. the **shipped models** (:func:`models_dir`): ``models/`` in the repository
   (``$SIGNSTUDIO_MODELS`` to use another folder). Training never writes there unless a path
   on the command line names it and ``--overwrite`` is given.
"""

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
    """Folder of the shipped models: ``$SIGNSTUDIO_MODELS``, else the repository's ``models/``."""
    env = os.environ.get("SIGNSTUDIO_MODELS")
    return Path(env).expanduser() if env else PROJECT_ROOT / "models"


def user_models_dir() -> Path:
    """Folder of the models a user trains: ``$SIGNSTUDIO_USER_MODELS``, else ``models`` in the
    platform's per-user data folder (``platformdirs.user_data_dir("signstudio")``).

    The path is returned whether or not it exists; training creates it.
    """
    env = os.environ.get("SIGNSTUDIO_USER_MODELS")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("signstudio", appauthor=False)) / "models"


def user_datasets_dir() -> Path:
    """Folder of the datasets a user prepares (``signstudio datasets prepare``):
    ``$SIGNSTUDIO_USER_DATASETS``, else ``datasets`` in the platform's per-user data folder.

    The path is returned whether or not it exists.
    """
    env = os.environ.get("SIGNSTUDIO_USER_DATASETS")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("signstudio", appauthor=False)) / "datasets"
