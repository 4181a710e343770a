"""Helpers shared by several test modules (no Qt): the tiny BOSTON-104 training config, a fake job
that runs until cancelled, skips for missing models and data, and screenshots under Xvfb.

``tests/`` is on ``sys.path`` under pytest, so modules import this as ``from helpers import ...``
(as tests/test_probe_cli.py imports tests/probe_inputs.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from signstudio.paths import PROJECT_ROOT
from signstudio.tasks import check_cancelled


# --- the tiny training config --------------------------------------------------------------------
def tiny_boston_config(name: str = "tiny-boston", output: str | None = None, **train: object) -> str:
    """The YAML text of a Signformer small enough to train 2 epochs of BOSTON-104 in a few seconds
    on one thread (no decoder layers, no language model, no augmentation).

    ``train`` values replace the defaults (``epochs: 2, batch_size: 16, eval_every: 1,
    beam_size: 1, lm_order: 0, threads: 1``) or are added after them; a value of ``None`` leaves
    the key out. ``output`` adds an ``output:`` line (``""`` writes it empty)."""
    values = {"epochs": 2, "batch_size": 16, "eval_every": 1, "beam_size": 1, "lm_order": 0, "threads": 1,
              **train}
    lines = [f"  {key}: {value}" for key, value in values.items() if value is not None]
    text = (f"name: {name}\n"
            "model:\n  preset: signformer-boston\n  d_model: 32\n  ff_dim: 64\n"
            "  encoder_layers: 1\n  decoder_layers: 0\n"
            "data:\n  dataset: boston104\n  augment: false\n"
            "train:\n" + "\n".join(lines) + "\n")
    return text if output is None else text + f"output: {output}\n"


# --- fake jobs -------------------------------------------------------------------------------------
def run_until_cancelled(task, started: threading.Event) -> None:
    """The body of a fake job that runs until cancelled (about 10 s at most): an unknown total,
    ``started`` set, then 1000 short steps, each checking for cancellation and advancing."""
    task.set_total(None)
    started.set()
    for _ in range(1000):
        check_cancelled(task)
        task.advance()
        time.sleep(0.01)


# --- skips -----------------------------------------------------------------------------------------
def require_model(name: str) -> None:
    """Skip the test unless the model ``name`` is installed."""
    from signstudio.errors import ModelError
    from signstudio.runtime.installed import resolve_model

    try:
        resolve_model(name)
    except ModelError:
        pytest.skip(f"model {name} is not installed")


def require_data_file(*parts: str) -> Path:
    """The file ``parts`` in the shared real-data folder; skips the test if it is missing."""
    from signstudio.paths import data_dir

    path = data_dir().joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"{path} is missing (set SIGNSTUDIO_DATA to the shared data folder)")
    return path


# --- screenshots under Xvfb ------------------------------------------------------------------------
XVFB_RUN = shutil.which("xvfb-run")
needs_xvfb = pytest.mark.skipif(XVFB_RUN is None,
                                reason="xvfb-run is not on PATH (apt-get install xvfb xauth)")


def xvfb_screenshot(tmp_path: Path, *extra: str, name: str = "window.png",
                    timeout: float = 240) -> tuple[np.ndarray, str]:
    """``python -m signstudio.gui.screenshot`` (1280x800, with ``extra`` arguments) under its own
    Xvfb server on the xcb platform; returns the PNG ``tmp_path / name`` as a BGR array, and the
    command's stderr."""
    out = tmp_path / name
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "xcb"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH"))
                                        if p)
    # xvfb-run -a takes the first free display from -n on; two pytest-xdist workers start apart.
    first = 99 + 20 * int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    cmd = [XVFB_RUN, "-a", "-n", str(first), "-s", "-screen 0 1600x1000x24", sys.executable, "-m",
           "signstudio.gui.screenshot", str(out), "--size", "1280x800", *extra]
    proc = subprocess.run(cmd, env=env, cwd=str(tmp_path), capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"screenshot failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    assert out.is_file(), f"no PNG written; stdout: {proc.stdout!r}"
    import cv2

    image = cv2.imread(str(out), cv2.IMREAD_COLOR)
    assert image is not None, f"{out} is not a readable PNG"
    return image, proc.stderr
