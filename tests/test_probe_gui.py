"""The window's bad inputs: every tab's public entry points fed what users really feed them.

Each case drives one tab (holding a good result already) with one bad input — a missing,
empty, garbage, truncated or wrong-kind file, a NaN pose, an attention record that would unpack
to a gigabyte, a text model for a video, an empty sentence, an invalid or out-of-range config, a
shipped model's folder as training output, an unwritable place to save, a cancel with nothing
running, a second start — and checks what the user sees:

- one readable line in the tab's banner (never a traceback, never "Something went wrong inside
  SignStudio"), or, for a refused action, on the status line;
- the result shown before is still shown (the same object), and the tab is idle and usable.

``python -m pytest tests/test_probe_gui.py -s`` prints, per case, what the user saw and how many
cases were handled cleanly (:func:`test_probe_counts`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from helpers import tiny_boston_config  # noqa: E402  (tests/ is on sys.path under pytest)
from probe_inputs import npz_bomb, pose_with, write_pose  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("no_leaked_widgets")]

JOB_TIMEOUT_MS = 120_000
SIGN_MODEL = "boston104-signformer"
TEXT_MODEL = "phoenix14t-text2gloss"
BUG = "Something went wrong inside SignStudio"


# --- inputs --------------------------------------------------------------------------------------
def _data():
    from signstudio.paths import data_dir

    d = data_dir()
    needed = [d / "poses" / "mediapipe.pose", d / "poses" / "asl" / "standard_landmarks" / "colin-SAD.pose",
              d / "videos" / "webcam_signer.mp4"]
    for path in needed:
        if not path.is_file():
            pytest.skip(f"{path} is missing (set SIGNSTUDIO_DATA to the shared data folder)")
    return d


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """Every bad file of the probe, made from the shared real data in a temporary folder."""
    from signstudio.pose.io import read_pose

    data = _data()
    d = tmp_path_factory.mktemp("probe")
    p: dict[str, Path] = {"dir": d}
    p["pose"] = data / "poses" / "mediapipe.pose"
    p["holistic"] = data / "poses" / "asl" / "standard_landmarks" / "colin-SAD.pose"
    p["video"] = data / "videos" / "webcam_signer.mp4"
    p["missing_mp4"], p["missing_pose"], p["missing_npz"] = d / "nowhere.mp4", d / "nowhere.pose", d / "nowhere.npz"
    p["missing_yaml"] = d / "nowhere.yaml"
    files = {"text.mp4": "this is not a video\n", "empty.mp4": "", "empty.pose": "", "text.pose": "not a pose\n",
             "notes.txt": "a note, not a clip\n", "empty.txt": "", "empty.npz": "", "text.npz": "not a zip\n",
             "empty.yaml": ""}
    for name, text in files.items():
        (d / name).write_text(text)
        p[name] = d / name
    (d / "garbage.pose").write_bytes(bytes(range(256)) * 40)
    p["garbage.pose"] = d / "garbage.pose"
    (d / "cut.mp4").write_bytes(p["video"].read_bytes()[:5000])
    p["cut.mp4"] = d / "cut.mp4"
    raw = p["pose"].read_bytes()
    (d / "cut.pose").write_bytes(raw[: len(raw) // 2])
    p["cut.pose"] = d / "cut.pose"
    (d / "latin1.txt").write_bytes("Grüße aus Köln\n".encode("latin-1"))
    p["latin1.txt"] = d / "latin1.txt"
    (d / "binary.yaml").write_bytes(b"\x00\xff\xfe binary \x00" * 40)
    p["binary.yaml"] = d / "binary.yaml"
    (d / "huge.yaml").write_text("# padding\n" * 300_000)
    p["huge.yaml"] = d / "huge.yaml"
    for name in ("folder.mp4", "folder.pose", "folder.yaml"):
        (d / name).mkdir()
        p[name] = d / name
    p["a_file"] = d / "a_file"
    p["a_file"].write_text("a regular file, used as a folder below\n")
    pose = read_pose(p["holistic"])
    values = np.ma.getdata(pose.body.data).copy()
    p["nan_all.pose"] = write_pose(pose_with(pose, data=np.full_like(values, np.nan)), d / "nan_all.pose")
    some = values.copy()
    some[5:15] = np.nan
    p["nan_some.pose"] = write_pose(pose_with(pose, data=some), d / "nan_some.pose")
    # attention records: no header, a header-less zip of arrays, a gigabyte-ish bomb, cut short
    np.savez(d / "no_header.npz", cross_0=np.zeros((4, 3, 5), np.float32))
    p["no_header.npz"] = d / "no_header.npz"
    p["bomb.npz"] = npz_bomb(d / "bomb.npz", gib=0.25)  # 256 MiB
    return p


# --- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def models(qapp):
    """One list of installed models for every tab of the probe (read once)."""
    from signstudio.gui.models import InstalledModels

    m = InstalledModels()
    assert m.wait(120)
    yield m
    m.shutdown()
    m.deleteLater()


@pytest.fixture(scope="module")
def sign_record(inputs):
    from signstudio.errors import ModelError
    from signstudio.interpret import record_file
    from signstudio.runtime.installed import resolve_model

    try:
        resolve_model(SIGN_MODEL)
        resolve_model(TEXT_MODEL)
    except ModelError:
        pytest.skip("the shipped models are not installed")
    return record_file(inputs["pose"], SIGN_MODEL)


def _wait_idle(qtbot, tab, timeout=JOB_TIMEOUT_MS) -> None:
    qtbot.waitUntil(lambda: not tab.is_busy(), timeout=timeout)
    qtbot.wait(20)  # queued signals of the job that just ended


@dataclass
class Case:
    """One bad input: ``action(tab, inputs)`` on a tab of kind ``tab`` (it holds a good result);
    ``expect`` is "error" (a banner message), "refused" (a status line, no job) or "nothing"
    (no message, no change)."""

    tab: str
    name: str
    action: Callable[[Any, dict], Any]
    expect: str = "error"
    contains: str = ""


def _tiny_config(output: str = "probe-run", **train) -> str:
    """The tiny BOSTON-104 run ``probe-run`` (``train`` values replace or add keys)."""
    return tiny_boston_config("probe-run", output=output, **train)


def _start_twice(tab, first: Callable[[], bool], second: Callable[[], bool]) -> bool:
    assert first()
    assert tab.is_busy()
    return second()


def _config_then_start(text: str):
    def act(tab, p):
        tab.load_config_text(text)
        return tab.start()
    return act


#: Cases the window handles as well as it can but the core does not yet (fixes under way in
#: ``signstudio/pose/io.py``): the tab then shows what the core returned.
CASES = [
    # --- Translate -------------------------------------------------------------------------------
    Case("translate", "missing video", lambda t, p: t.open_path(p["missing_mp4"]), contains="no such file"),
    Case("translate", "text file named .mp4", lambda t, p: t.open_path(p["text.mp4"]), contains="text.mp4"),
    Case("translate", "empty .mp4", lambda t, p: t.open_path(p["empty.mp4"]), contains="empty.mp4"),
    Case("translate", "truncated .mp4", lambda t, p: t.open_path(p["cut.mp4"]), contains="cut.mp4"),
    Case("translate", "folder named .mp4", lambda t, p: t.open_path(p["folder.mp4"]), contains="folder"),
    Case("translate", "a text file", lambda t, p: t.open_path(p["notes.txt"]), contains="notes.txt"),
    Case("translate", "an attention record", lambda t, p: t.open_path(p["no_header.npz"]), contains="no_header.npz"),
    Case("translate", "missing .pose", lambda t, p: t.open_path(p["missing_pose"]), contains="no such file"),
    Case("translate", "empty .pose", lambda t, p: t.open_path(p["empty.pose"]), contains="empty.pose"),
    Case("translate", "garbage .pose", lambda t, p: t.open_path(p["garbage.pose"]), contains="garbage.pose"),
    Case("translate", "text .pose", lambda t, p: t.open_path(p["text.pose"]), contains="text.pose"),
    Case("translate", "truncated .pose", lambda t, p: t.open_path(p["cut.pose"]), contains="cut.pose"),
    Case("translate", "folder named .pose", lambda t, p: t.open_path(p["folder.pose"]), contains="folder"),
    Case("translate", "all-NaN .pose", lambda t, p: t.open_path(p["nan_all.pose"])),
    Case("translate", "cancel with nothing running", lambda t, p: t.cancel(), expect="nothing"),
    Case("translate", "stop the webcam when none runs", lambda t, p: t.stop_webcam(), expect="nothing"),
    Case("translate", "second start while busy",
         lambda t, p: _start_twice(t, lambda: t.open_path(p["pose"]), lambda: t.open_path(p["video"])),
         expect="refused", contains="Busy"),
    # --- Produce ---------------------------------------------------------------------------------
    Case("produce", "sign with no text", lambda t, p: (t.set_text(""), t.set_glosses(""), t.sign())[-1],
         contains="Type a sentence"),
    Case("produce", "sign blank text", lambda t, p: (t.set_text(" \n\t "), t.set_glosses("  "), t.sign())[-1],
         contains="Type a sentence"),
    Case("produce", "glosses of no text", lambda t, p: (t.set_text(""), t.gloss())[-1], contains="Type a sentence"),
    Case("produce", "missing .pose", lambda t, p: t.open_pose(p["missing_pose"]), contains="no such file"),
    Case("produce", "empty .pose", lambda t, p: t.open_pose(p["empty.pose"]), contains="empty.pose"),
    Case("produce", "garbage .pose", lambda t, p: t.open_pose(p["garbage.pose"]), contains="garbage.pose"),
    Case("produce", "truncated .pose", lambda t, p: t.open_pose(p["cut.pose"]), contains="cut.pose"),
    Case("produce", "folder named .pose", lambda t, p: t.open_pose(p["folder.pose"]), contains="folder.pose"),
    Case("produce", "a video instead of a .pose", lambda t, p: t.open_pose(p["video"]), contains="webcam_signer.mp4"),
    Case("produce", "all-NaN .pose", lambda t, p: t.open_pose(p["nan_all.pose"]), contains="nan_all.pose"),
    Case("produce", "export where the folder is a file",
         lambda t, p: t.export_to(p["a_file"] / "out.pose"), contains="a_file is a file, not a folder"),
    Case("produce", "export to an unknown format", lambda t, p: t.export_to(p["dir"] / "out.xyz"), contains="xyz"),
    Case("produce", "cancel with nothing running", lambda t, p: t.cancel(), expect="nothing"),
    Case("produce", "second start while busy",
         lambda t, p: _start_twice(t, lambda: t.open_pose(p["holistic"]), lambda: t.open_pose(p["holistic"])),
         expect="refused", contains="Busy"),
    # --- Attention -------------------------------------------------------------------------------
    Case("attention", "missing clip", lambda t, p: t.record_path(p["missing_pose"], SIGN_MODEL),
         contains="no such file"),
    Case("attention", "garbage .pose", lambda t, p: t.record_path(p["garbage.pose"], SIGN_MODEL),
         contains="garbage.pose"),
    Case("attention", "truncated .pose", lambda t, p: t.record_path(p["cut.pose"], SIGN_MODEL), contains="cut.pose"),
    Case("attention", "text .mp4", lambda t, p: t.record_path(p["text.mp4"], SIGN_MODEL), contains="text.mp4"),
    Case("attention", "all-NaN .pose", lambda t, p: t.record_path(p["nan_all.pose"], SIGN_MODEL)),
    Case("attention", "a text model for a video", lambda t, p: t.record_path(p["pose"], TEXT_MODEL),
         contains="sign-to-text model"),
    Case("attention", "a sign model for a sentence", lambda t, p: t.record_text("Morgen regnet es.", SIGN_MODEL),
         contains="translates signing"),
    Case("attention", "a sign model for a text file", lambda t, p: t.record_path(p["notes.txt"], SIGN_MODEL),
         contains="notes.txt"),
    Case("attention", "empty sentence", lambda t, p: t.record_text("   "), contains="Type a sentence"),
    Case("attention", "empty text file", lambda t, p: t.record_path(p["empty.txt"], TEXT_MODEL), contains="empty"),
    Case("attention", "text file not in UTF-8", lambda t, p: t.record_path(p["latin1.txt"], TEXT_MODEL),
         contains="latin1.txt"),
    Case("attention", "an unknown model", lambda t, p: t.record_path(p["pose"], "no-such-model"),
         contains="no-such-model"),
    Case("attention", "missing record", lambda t, p: t.open_record(p["missing_npz"]), contains="no such file"),
    Case("attention", "empty record", lambda t, p: t.open_record(p["empty.npz"]), contains="empty.npz"),
    Case("attention", "text file named .npz", lambda t, p: t.open_record(p["text.npz"]), contains="text.npz"),
    Case("attention", "header-less .npz", lambda t, p: t.open_record(p["no_header.npz"]), contains="no header"),
    Case("attention", "zip-bomb .npz", lambda t, p: t.open_record(p["bomb.npz"]), contains="bomb.npz"),
    Case("attention", "save the record where the folder is a file",
         lambda t, p: t.save_record_to(p["a_file"] / "rec.npz"), contains="a_file is a file, not a folder"),
    Case("attention", "export PNG where the folder is a file",
         lambda t, p: t.export_png_to(p["a_file"] / "view.png"), contains="a_file is a file, not a folder"),
    Case("attention", "export CSV where the folder is a file",
         lambda t, p: t.export_csv_to(p["a_file"] / "view.csv"), contains="a_file is a file, not a folder"),
    Case("attention", "an inconsistent record object",
         lambda t, p: t.load_record_object(_inconsistent(t.record())), contains="cannot be shown"),
    Case("attention", "cancel with nothing running", lambda t, p: t.cancel(), expect="nothing"),
    Case("attention", "second start while busy",
         lambda t, p: _start_twice(t, lambda: t.record_path(p["pose"], SIGN_MODEL),
                                   lambda: t.open_record(p["no_header.npz"])),
         expect="refused", contains="Busy"),
    # --- Train -----------------------------------------------------------------------------------
    Case("train", "missing config file", lambda t, p: t.load_config_file(p["missing_yaml"]), contains="nowhere.yaml"),
    Case("train", "binary config file", lambda t, p: t.load_config_file(p["binary.yaml"]), contains="not a UTF-8"),
    Case("train", "a huge config file", lambda t, p: t.load_config_file(p["huge.yaml"]), contains="too large"),
    Case("train", "folder as config file", lambda t, p: t.load_config_file(p["folder.yaml"]), contains="folder.yaml"),
    Case("train", "empty config file", lambda t, p: (t.load_config_file(p["empty.yaml"]), t.start())[-1],
         contains="not valid"),
    Case("train", "invalid YAML", _config_then_start("name: x\nmodel: [unclosed\n"), contains="YAML"),
    Case("train", "a YAML list", _config_then_start("- 1\n- 2\n"), contains="not valid"),
    Case("train", "unknown key", _config_then_start(_tiny_config().replace("  epochs: 2", "  epoch: 2")),
         contains="epoch"),
    Case("train", "epochs 0", _config_then_start(_tiny_config(epochs=0)), contains="epochs"),
    Case("train", "negative batch size", _config_then_start(_tiny_config(batch_size=-4)), contains="batch_size"),
    Case("train", "NaN learning rate", _config_then_start(_tiny_config(learning_rate=".nan")),
         contains="learning_rate"),
    Case("train", "a word for a number", _config_then_start(_tiny_config(epochs="many")), contains="epochs"),
    Case("train", "output outside the models folder", _config_then_start(_tiny_config(output="../../etc")),
         contains="output"),
    Case("train", "a shipped model's folder as output", lambda t, p: _into_shipped_models(t),
         contains="shipped"),
    Case("train", "save the config where the folder is a file",
         lambda t, p: t.save_config(p["a_file"] / "c.yaml"), contains="a_file is a file, not a folder"),
    Case("train", "resume with nothing to resume", lambda t, p: t.resume(), contains="Nothing to resume"),
    Case("train", "cancel with nothing running", lambda t, p: t.cancel(), expect="nothing"),
    Case("train", "second start while busy", lambda t, p: _second_run(t), expect="refused", contains="Busy"),
]


def _second_run(tab) -> bool:
    """Start a run, try to start another, then cancel the first."""
    second = _start_twice(tab, tab.start, tab.start)
    tab.cancel()
    return second


def _inconsistent(record):
    from dataclasses import replace

    return replace(record, tokens=list(record.tokens) + ["EXTRA"])


def _into_shipped_models(tab) -> bool:
    """A user models folder that is the shipped one: the output would be a shipped model's folder."""
    from signstudio.paths import models_dir

    os.environ["SIGNSTUDIO_USER_MODELS"] = str(models_dir())
    tab.load_config_text(_tiny_config(output="").replace("name: probe-run", f"name: {SIGN_MODEL}")
                         .replace("\noutput: \n", "\n"))
    assert "shipped model's folder" in tab.output_label.text()  # the output line says so already
    return tab.start()


# --- tabs holding a good result --------------------------------------------------------------------
def _snapshot(kind: str, tab) -> tuple:
    if kind == "translate":
        return (tab.pose(), tab.translation(), tab.frame_count())
    if kind == "produce":
        return (tab.production(), tab.frame_count())
    if kind == "attention":
        return (tab.record(), tab.view(), tab.player.frame_count())
    x, _y = tab.loss_curve.getData()
    return (tab.process, tab.monitor, [] if x is None else list(x))


def _prepared_tab(kind: str, qtbot, models, inputs, sign_record, monkeypatch, tmp_path):
    if kind == "translate":
        from signstudio.gui.translate import TranslateTab

        tab = TranslateTab(models=models)
        tab.show()
        assert tab.open_path(inputs["pose"])
        _wait_idle(qtbot, tab)
        assert tab.pose() is not None and tab.translation() is not None, tab.error_text()
    elif kind == "produce":
        from signstudio.gui.produce import ProduceTab

        tab = ProduceTab()
        tab.show()
        assert tab.open_pose(inputs["holistic"])
        _wait_idle(qtbot, tab)
        assert tab.production() is not None, tab.error_text()
    elif kind == "attention":
        from signstudio.gui.attention import AttentionTab
        from signstudio.pose.io import read_pose

        tab = AttentionTab(models=models)
        tab.show()
        qtbot.waitUntil(tab.models_ready, timeout=JOB_TIMEOUT_MS)
        assert tab.load_record_object(sign_record, inputs["pose"], pose=read_pose(inputs["pose"]))
        tab.set_view(head=2)
    else:
        from signstudio.gui.train import TrainTab
        from signstudio.training.process import TrainingProcess

        import signstudio.gui.train.tab as train_module

        monkeypatch.setenv("SIGNSTUDIO_USER_MODELS", str(tmp_path / "user-models"))
        # A stand-in child that runs until cancelled (a real run's protocol, no real training).
        script = ("import json, time\nprint(json.dumps({'event': 'started', 'name': 'probe-run', 'output': '', "
                  "'pid': 0, 'resume': False, 'epochs': 2, 'metric': 'dev_wer', 'lower_is_better': True, "
                  "'metric_label': 'dev WER'}), flush=True)\n"
                  "print(json.dumps({'event': 'metrics', 'row': {'epoch': 1, 'loss': 2.0, 'dev_wer': 0.5}}), "
                  "flush=True)\ntime.sleep(60)\n")
        import sys

        monkeypatch.setattr(train_module, "TrainingProcess", lambda config, output, resume, overwrite=False:
                            TrainingProcess(config, output=output, resume=resume, overwrite=overwrite,
                                            command=[sys.executable, "-c", script]))
        tab = TrainTab(models=models, confirm=lambda folder: True)
        tab.show()
        assert tab.load_config_text(_tiny_config())
        with qtbot.waitSignal(tab.run_finished, timeout=JOB_TIMEOUT_MS):
            assert tab.start()
            qtbot.waitUntil(lambda: len(tab.monitor.rows) == 1, timeout=JOB_TIMEOUT_MS)
            tab.cancel()
        assert tab.load_config_text(_tiny_config())
        tab.banner.dismiss()
    return tab


#: ``{case id: (outcome, what the user saw)}`` of this run, for :func:`test_probe_counts`.
RESULTS: dict[str, tuple[str, str]] = {}


@pytest.mark.parametrize("case", [pytest.param(c, id=f"{c.tab}: {c.name}") for c in CASES])
def test_bad_input(case: Case, qtbot, models, inputs, sign_record, monkeypatch, tmp_path, capfd, flush_deletes):
    monkeypatch.setenv("SIGNSTUDIO_USER_MODELS", os.environ.get("SIGNSTUDIO_USER_MODELS", str(tmp_path)))
    key = f"{case.tab}: {case.name}"
    RESULTS[key] = ("failed", "")
    tab = _prepared_tab(case.tab, qtbot, models, inputs, sign_record, monkeypatch, tmp_path)
    try:
        statuses: list[str] = []
        tab.status_message.connect(statuses.append)
        tab.runner.status.connect(statuses.append)
        before = _snapshot(case.tab, tab)
        capfd.readouterr()
        t0 = time.monotonic()
        started = case.action(tab, inputs)
        _wait_idle(qtbot, tab)
        seconds = time.monotonic() - t0
        message = tab.banner.text() if tab.banner.isVisible() else ""
        RESULTS[key] = ("failed", message or (statuses[-1] if statuses else ""))
        err = capfd.readouterr().err
        # What the user sees: one readable line, never a traceback or "something went wrong".
        assert "Traceback" not in err, err[-2000:]
        for text in [message, *statuses]:
            assert "Traceback" not in text and BUG not in text and "\n" not in text.strip(), text
        if case.expect == "error":
            assert message, f"no message in the banner (status: {statuses[-1:]})"
            assert tab.banner.kind in ("error", "warning"), (tab.banner.kind, message)
            assert case.contains.lower() in message.lower(), message
        elif case.expect == "refused":
            assert not started
            assert any(case.contains in s for s in statuses), statuses
        else:
            assert message == "", message
        # The tab is idle and keeps what it showed; a second start ran its own job to the end.
        assert not tab.is_busy() and tab.state == "idle"
        if case.expect != "refused":  # (a second start's first job made a new result, as it should)
            after = _snapshot(case.tab, tab)
            assert all(a is b or a == b for a, b in zip(after, before)), (before, after)
        assert seconds < 60
        RESULTS[key] = ("clean", message or (statuses[-1] if statuses else ""))
    finally:
        tab.shutdown()
        tab.close()
        tab.deleteLater()
        flush_deletes()


def test_probe_counts():
    """Runs last: the cases, what the user saw in each, and how many were handled cleanly (run
    with ``-s`` to see the table)."""
    clean = sum(1 for outcome, _ in RESULTS.values() if outcome == "clean")
    for key, (outcome, shown) in RESULTS.items():
        print(f"{outcome:7} {key:55} {shown[:150]}")
    print(f"GUI probe: {len(CASES)} cases, {clean} of {len(RESULTS)} run handled cleanly")
    assert len(CASES) >= 34
