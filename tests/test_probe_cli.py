"""The probe: what a careless or hostile user feeds the `signstudio` command, case by case.

Every case runs ``signstudio.cli.main`` in-process and asserts: the exit status (2 for bad
input), exactly one line on stderr starting ``signstudio: error:`` and no traceback, nothing on
stdout, and that nothing was lost or half-written — files that existed before are unchanged, no
partial output and no temporary file is left. A few cases run real subprocesses to check what
MediaPipe and FFmpeg print on stderr. Attention records that lie are checked through
:func:`signstudio.interpret.record.load_record`, the function the window calls.

``python -m pytest tests/test_probe_cli.py -q -rA`` lists every case; the summary line gives
their number (``test_cli_case`` alone is the command-line table). With
``SIGNSTUDIO_PROBE_LOG=FILE`` every command-line case appends ``id, exit status, the line it
printed`` to FILE, for a person to read. Training and evaluation (``train``, ``evaluate``)
have their own tests; the inputs are made by ``tests/probe_inputs.py``.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from signstudio.cli import main
from signstudio.paths import PROJECT_ROOT

from probe_inputs import (  # noqa: E402  (tests/ is on sys.path under pytest)
    DATA,
    HOLISTIC_POSE,
    LEGACY_POSE,
    SMALL_POSE,
    VIDEO,
    lying_npy,
    make_inputs,
    npz_bomb,
)

MODELS = PROJECT_ROOT / "models"
NEEDED = [SMALL_POSE, HOLISTIC_POSE, LEGACY_POSE, VIDEO, MODELS / "boston104-signformer" / "model.pt",
          MODELS / "phoenix14t-text2gloss" / "model.pt", MODELS / "phoenix14t-gloss2text" / "model.pt"]
pytestmark = pytest.mark.skipif(
    not all(p.is_file() for p in NEEDED),
    reason=f"the probe needs the real data in {DATA} (set SIGNSTUDIO_DATA) and the shipped models")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
PREVIOUS = b"previous content, must survive a failed run\n"


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


@dataclass
class Case:
    """One command line. ``argv`` may name ``{input}`` files and ``{out}`` (a fresh folder);
    ``existing`` are files in ``{out}`` made beforehand with :data:`PREVIOUS` content (they
    must survive a failure); ``rc`` 2 expects one ``signstudio: error:`` line containing
    ``says``; ``rc`` 0 expects the ``writes`` files in ``{out}`` (and ``says`` on stdout)."""

    id: str
    argv: list[str]
    says: str = ""
    rc: int = 2
    existing: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    skip: str = ""


def C(id, argv, says="", rc=2, existing=(), writes=(), skip=""):
    return pytest.param(Case(id, argv.split("|") if isinstance(argv, str) else argv, says, rc, list(existing),
                             list(writes), skip), id=id)


ROOT_SKIP = "runs as root: permissions do not deny" if IS_ROOT else ""
T2G = "phoenix14t-text2gloss"

CASES = [
    # ---- usage
    C("usage-unknown-command", "fly", "invalid choice"),
    C("usage-pose-no-video", "pose", "required: video"),
    C("usage-produce-no-lang", "produce|hello|-o|{out}/x.pose", "required: --lang"),
    C("usage-layer-not-a-number", "attention|{pose}|-o|{out}/a.npz|--layer|x", "invalid int value"),
    C("usage-unknown-option", "translate|{pose}|--fast", "unrecognized arguments"),
    # ---- pose: inputs
    C("pose-missing-video", "pose|{dir}/nope.mp4|-o|{out}/x.pose", "no such file"),
    C("pose-text-as-video", "pose|{text_mp4}|-o|{out}/x.pose", "not a video", existing=["x.pose"]),
    C("pose-empty-video", "pose|{empty_mp4}|-o|{out}/x.pose", "not a video"),
    C("pose-truncated-video", "pose|{cut_mp4}|-o|{out}/x.pose", "not a video", existing=["x.pose"]),
    C("pose-folder-as-video", "pose|{folder_mp4}|-o|{out}/x.pose", "is a folder"),
    C("pose-given-a-pose", "pose|{pose}|-o|{out}/x.pose", "already a .pose file"),
    C("pose-parent-is-a-file-input", "pose|{a_file}/clip.mp4|-o|{out}/x.pose", "no such file"),
    C("pose-dev-null-input", "pose|/dev/null|-o|{out}/x.pose", "not a regular file"),
    # ---- pose: outputs (refused before MediaPipe runs)
    C("pose-out-txt", "pose|{video}|-o|{out}/x.txt", "-o must name a .pose file"),
    C("pose-out-no-suffix", "pose|{video}|-o|{out}/x", "-o must name a .pose file"),
    C("pose-out-missing-parent", "pose|{video}|-o|{out}/no/such/x.pose", "does not exist"),
    C("pose-out-parent-is-file", "pose|{video}|-o|{a_file}/x.pose", "is not a folder"),
    C("pose-out-is-folder", "pose|{video}|-o|{out}/dir.pose", "is a folder", existing=["dir.pose/"]),
    C("pose-out-read-only-fs", "pose|{video}|-o|/sys/x.pose", "cannot write in /sys"),
    C("pose-out-proc", "pose|{video}|-o|/proc/x.pose", "cannot write in /proc"),
    C("pose-out-empty", ["pose", "{video}", "-o", ""], "empty output path"),
    C("pose-out-read-only-dir", "pose|{video}|-o|{out}/ro/x.pose", "cannot write", skip=ROOT_SKIP),
    # ---- translate
    C("translate-nothing", "translate", "nothing to translate"),
    C("translate-missing", "translate|{dir}/nope.pose", "no such file"),
    C("translate-folder", "translate|{folder_pose}", "folder"),
    C("translate-empty-pose", "translate|{empty_pose}", "empty"),
    C("translate-garbage-pose", "translate|{garbage_pose}", "not a readable .pose file"),
    C("translate-text-pose", "translate|{text_pose}", ".pose"),
    C("translate-nan-fps", "translate|{nan_fps}", "frame rate is nan"),
    C("translate-inf-fps", "translate|{inf_fps}", "frame rate is inf"),
    C("translate-zero-fps", "translate|{zero_fps}", "frame rate is 0"),
    C("translate-negative-fps", "translate|{neg_fps}", "frame rate is -25"),
    C("translate-huge-fps", "translate|{huge_fps}", "frame rate"),
    C("translate-all-nan", "translate|{nan_all}", "every landmark is NaN"),
    C("translate-all-inf", "translate|{inf_all}", "every landmark is NaN or infinite"),
    C("translate-some-nan-is-masked", "translate|{nan_some}|--json", rc=0),
    C("translate-huge-coordinates-scale-free", "translate|{huge_coords}|--json", rc=0),
    C("translate-no-frames", "translate|{no_frames}", "no frames"),
    C("translate-no-people", "translate|{no_people}", "no people"),
    C("translate-truncated", "translate|{cut}", "truncated"),
    C("translate-stray-bytes", "translate|{stray}", "stray byte"),
    C("translate-legacy-truncated", "translate|{legacy_cut}", "truncated"),
    C("translate-legacy-one-frame-short", "translate|{legacy_frame_cut}", "declares 170 frame"),
    C("translate-header-only", "translate|{header_only}", ".pose"),
    C("translate-long-boston", "translate|{long}|-m|boston104-signformer", rc=0),  # read in windows
    C("translate-long", "translate|{long}", rc=0),
    C("translate-under-5-frames", "translate|{three_frames}|-m|wlasl100-recognizer", "at least 5 are needed"),
    C("translate-no-hands-says-so", "translate|{no_hands}|-m|wlasl100-continuous", rc=0,
      says="no hand is visible"),
    C("translate-lacks-hands", "translate|{body_only}|-m|wlasl100-recognizer", "has no LEFT_HAND_LANDMARKS"),
    C("translate-text-file", "translate|{sentence}", "not a video"),
    C("translate-dev-null", "translate|/dev/null", "not a regular file"),
    C("translate-unknown-model", "translate|{pose}|-m|no-such-model", "unknown model"),
    C("translate-text-model-for-video", "translate|{pose}|-m|phoenix14t-gloss2text", "not a sign-to-text model"),
    C("translate-garbage-checkpoint", "translate|{pose}|-m|{garbage_pt}", "not a readable SignStudio checkpoint"),
    C("translate-model-folder-without-checkpoint", "translate|{pose}|-m|{empty_model}", "unknown model"),
    C("translate-sign-model-as-text-model", "translate|--glosses|REGEN|--text-model|boston104-signformer",
      "not a gloss-to-text model"),
    C("translate-glosses-empty", ["translate", "--glosses", "", "--text-model", "phoenix14t-gloss2text"],
      "--glosses is empty"),
    C("translate-glosses-without-text-model", "translate|--glosses|REGEN", "needs --text-model"),
    C("translate-glosses-and-input", "translate|{pose}|--glosses|REGEN|--text-model|phoenix14t-gloss2text",
      "not both"),
    C("translate-glosses-too-many", ["translate", "--glosses", " ".join(["REGEN"] * 500), "--text-model",
                                     "phoenix14t-gloss2text"], "too long"),
    C("translate-non-utf8-name", "translate|{odd_name}", "", rc=0,
      skip="" if sys.platform.startswith("linux") else "non-UTF-8 names need Linux"),
    C("translate-non-utf8-missing", ["translate", os.fsdecode(b"/tmp/nope-\xff.pose")], "no such file"),
    # ---- produce: text
    C("produce-empty-text", "produce||--lang|asl|-o|{out}/x.pose", "nothing to sign", existing=["x.pose"]),
    C("produce-blank-text", "produce|   |--lang|asl|-o|{out}/x.pose", "nothing to sign"),
    C("produce-punctuation-only", "produce|?!...|--lang|asl|-o|{out}/x.pose", "nothing to sign"),
    C("produce-huge-text", ["produce", "word " * 2000, "--lang", "asl", "-o", "{out}/x.pose"], "too long"),
    C("produce-too-many-glosses", ["produce", "word " * 70, "--lang", "asl", "-o", "{out}/x.pose"], "too long"),
    C("produce-unknown-language", "produce|hello|--lang|klingon|-o|{out}/x.pose", "unknown sign language"),
    C("produce-empty-language", "produce|hello|--lang||-o|{out}/x.pose", "sign language"),
    C("produce-unspellable", "produce|日本|--lang|asl|-o|{out}/x.pose", "has no '日'"),
    C("produce-emoji", "produce|🙂🙂|--lang|asl|-o|{out}/x.pose", ""),
    C("produce-control-characters", ["produce", "\x01\x02\x1b[31m", "--lang", "asl", "-o", "{out}/x.pose"], ""),
    C("produce-glosses-empty", ["produce", "x", "--lang", "asl", "--glosses", "", "-o", "{out}/x.pose"],
      "--glosses is empty"),
    C("produce-glosses-blank", ["produce", "x", "--lang", "asl", "--glosses", "   ", "-o", "{out}/x.pose"],
      "--glosses is empty"),
    C("produce-model-without-model", "produce|house|--lang|asl|--method|model|-o|{out}/x.pose", "no gloss-to-pose"),
    # ---- produce: outputs, checked before the work
    C("produce-out-txt", "produce|house|--lang|asl|-o|{out}/x.txt", "-o must name a .pose file"),
    C("produce-out-missing-parent", "produce|house|--lang|asl|-o|{out}/no/x.pose", "does not exist"),
    C("produce-out-is-folder", "produce|house|--lang|asl|-o|{out}/d.pose", "is a folder", existing=["d.pose/"]),
    C("produce-out-read-only-fs", "produce|house|--lang|asl|-o|/sys/x.pose", "cannot write in /sys"),
    C("produce-video-avi", "produce|house|--lang|asl|-o|{out}/x.pose|--video|{out}/x.avi",
      "--video must name a .mp4 or .gif", existing=["x.pose"]),
    C("produce-video-missing-parent", "produce|house|--lang|asl|-o|{out}/x.pose|--video|{out}/no/x.mp4",
      "does not exist", existing=["x.pose"]),
    C("produce-video-is-folder", "produce|house|--lang|asl|-o|{out}/x.pose|--video|{out}/v.gif", "is a folder",
      existing=["x.pose", "v.gif/"]),
    C("produce-video-read-only-fs", "produce|house|--lang|asl|-o|{out}/x.pose|--video|/sys/x.mp4",
      "cannot write in /sys", existing=["x.pose"]),
    C("produce-ok-pose-and-gif", "produce|hi|--lang|asl|-o|{out}/x.pose|--video|{out}/x.gif|--json", rc=0,
      existing=["x.pose", "x.gif"], writes=["x.pose", "x.gif"]),
    C("produce-ok-non-utf8-output", ["produce", "hi", "--lang", "asl", "-o", "{out}/" + os.fsdecode(b"h\xe9.pose"),
                                     "--json"], rc=0, writes=[os.fsdecode(b"h\xe9.pose")],
      skip="" if sys.platform.startswith("linux") else "non-UTF-8 names need Linux"),
    # ---- produce: lexicons that lie
    C("lexicon-missing-folder", "produce|house|--lang|asl|--lexicon|{dir}/nope|-o|{out}/x.pose", "no such lexicon"),
    C("lexicon-is-a-file", "produce|house|--lang|asl|--lexicon|{a_file}|-o|{out}/x.pose", "no such lexicon"),
    C("lexicon-no-index", "produce|house|--lang|asl|--lexicon|{lex_no_index}|-o|{out}/x.pose", "no index.csv"),
    C("lexicon-index-is-folder", "produce|house|--lang|asl|--lexicon|{lex_index_is_dir}|-o|{out}/x.pose",
      "no index.csv"),
    C("lexicon-row-dotdot", "produce|house|--lang|asl|--lexicon|{lex_dotdot}|-o|{out}/x.pose",
      "line 2: '../../../../../../etc/passwd' points outside the lexicon folder", existing=["x.pose"]),
    C("lexicon-row-absolute", "produce|house|--lang|asl|--lexicon|{lex_absolute}|-o|{out}/x.pose",
      "line 2: '/etc/passwd' is an absolute path"),
    C("lexicon-row-sibling-folder", "produce|house|--lang|asl|--lexicon|{lex_outside}|-o|{out}/x.pose",
      "points outside the lexicon folder"),
    C("lexicon-row-windows-absolute", "produce|house|--lang|asl|--lexicon|{lex_windows}|-o|{out}/x.pose",
      "is an absolute path"),
    C("lexicon-row-symlink-out", "produce|house|--lang|asl|--lexicon|{lex_symlink}|-o|{out}/x.pose",
      "is a link to"),
    C("lexicon-row-remote", "produce|house|--lang|asl|--lexicon|{lex_remote}|-o|{out}/x.pose", "is remote"),
    C("lexicon-row-missing-file", "produce|house|--lang|asl|--lexicon|{lex_missing_file}|-o|{out}/x.pose",
      "gone.pose does not exist"),
    C("lexicon-row-empty-path", "produce|house|--lang|asl|--lexicon|{lex_empty_path}|-o|{out}/x.pose",
      "empty path"),
    C("lexicon-row-extra-cells", "produce|house|--lang|asl|--lexicon|{lex_extra_cells}|-o|{out}/x.pose",
      "more cells than the header"),
    C("lexicon-row-negative-start", "produce|house|--lang|asl|--lexicon|{lex_negative}|-o|{out}/x.pose",
      "negative"),
    C("lexicon-row-end-before-start", "produce|house|--lang|asl|--lexicon|{lex_backwards}|-o|{out}/x.pose",
      "is not after start"),
    C("lexicon-row-inf-start", "produce|house|--lang|asl|--lexicon|{lex_inf}|-o|{out}/x.pose",
      "not a whole number"),
    C("lexicon-row-nan-priority", "produce|house|--lang|asl|--lexicon|{lex_nan_priority}|-o|{out}/x.pose",
      "not a whole number"),
    C("lexicon-row-word-as-number", "produce|house|--lang|asl|--lexicon|{lex_words}|-o|{out}/x.pose",
      "not a whole number"),
    C("lexicon-row-clip-too-short", "produce|house|--lang|asl|--lexicon|{lex_tiny_clip}|-o|{out}/x.pose",
      "a sign needs at least 2"),
    C("lexicon-row-garbage-pose", "produce|house|--lang|asl|--lexicon|{lex_garbage_row}|-o|{out}/x.pose",
      "not a readable .pose file"),
    C("lexicon-binary-index", "produce|house|--lang|asl|--lexicon|{lex_binary_index}|-o|{out}/x.pose",
      "not a readable UTF-8 CSV"),
    C("lexicon-nul-in-index", "produce|house|--lang|asl|--lexicon|{lex_nul_index}|-o|{out}/x.pose", "index.csv"),
    C("lexicon-header-only", "produce|house|--lang|asl|--lexicon|{lex_header_only}|-o|{out}/x.pose", "no entries"),
    C("lexicon-missing-columns", "produce|house|--lang|asl|--lexicon|{lex_no_columns}|-o|{out}/x.pose",
      "missing column"),
    C("lexicon-huge-field", "produce|house|--lang|asl|--lexicon|{lex_huge_field}|-o|{out}/x.pose", "CSV"),
    C("lexicon-ok", "produce|house|--lang|asl|--lexicon|{lex_good}|-o|{out}/x.pose|--json", rc=0,
      existing=["x.pose"], writes=["x.pose"]),
    # ---- lexicon: recordings checked when indexed; no index.csv written on failure
    C("index-missing-folder", "lexicon|{dir}/nope|--lang|asl", "no such folder"),
    C("index-file-as-folder", "lexicon|{a_file}|--lang|asl", "no such folder"),
    C("index-unknown-language", "lexicon|{lex_good}|--lang|xx", "unknown sign language"),
    C("index-no-recordings", "lexicon|{rec_none}|--lang|asl", "no .pose file whose name ends with a gloss"),
    C("index-nan-recording", "lexicon|{rec_nan}|--lang|asl", "SAD.pose: every landmark is NaN"),
    C("index-one-frame-recording", "lexicon|{rec_one_frame}|--lang|asl", "a sign needs at least 2"),
    C("index-truncated-recording", "lexicon|{rec_cut}|--lang|asl", "truncated"),
    C("index-not-holistic", "lexicon|{rec_not_holistic}|--lang|asl", "no POSE_LANDMARKS component"),
    C("index-garbage-recording", "lexicon|{rec_garbage}|--lang|asl", "not a readable .pose file"),
    C("index-no-shoulders", "lexicon|{rec_no_shoulders}|--lang|asl", "shoulders are never both detected"),
    C("index-link-out", "lexicon|{rec_link_out}|--lang|asl", "outside the lexicon folder"),
    C("index-non-utf8-name", "lexicon|{rec_odd_name}|--lang|asl", "not valid UTF-8",
      skip="" if sys.platform.startswith("linux") else "non-UTF-8 names need Linux"),
    C("index-ok", "lexicon|{rec_good}|--lang|asl|--json", rc=0),
    C("index-csv-is-folder", "lexicon|{lex_index_is_dir}|--lang|asl", "index.csv: is a folder"),
    # ---- attention: one input
    C("attention-no-input", "attention|-o|{out}/a.npz", "give an INPUT"),
    C("attention-no-output", "attention|{pose}", "give an INPUT and -o"),
    C("attention-missing-input", "attention|{dir}/nope.pose|-o|{out}/a.npz", "no such file", existing=["a.npz"]),
    C("attention-garbage-pose", "attention|{garbage_pose}|-o|{out}/a.npz", "not a readable", existing=["a.npz"]),
    C("attention-nan-fps", "attention|{nan_fps}|-o|{out}/a.npz", "frame rate is nan"),
    C("attention-truncated-pose", "attention|{cut}|-o|{out}/a.npz", "truncated"),
    C("attention-out-txt", "attention|{pose}|-o|{out}/a.txt", "-o must name a .npz file"),
    C("attention-png-jpg", "attention|{pose}|-o|{out}/a.npz|--png|{out}/a.jpg", "--png must name a .png"),
    C("attention-csv-tsv", "attention|{pose}|-o|{out}/a.npz|--csv|{out}/a.tsv", "--csv must name a .csv"),
    C("attention-out-missing-parent", "attention|{pose}|-o|{out}/no/a.npz", "does not exist"),
    C("attention-png-missing-parent", "attention|{pose}|-o|{out}/a.npz|--png|{out}/no/a.png", "does not exist",
      existing=["a.npz"]),
    C("attention-out-is-folder", "attention|{pose}|-o|{out}/a.npz", "is a folder", existing=["a.npz/"]),
    C("attention-out-read-only-fs", "attention|{pose}|-o|/sys/a.npz", "cannot write in /sys"),
    C("attention-layer-too-big", "attention|{pose}|-o|{out}/a.npz|--layer|99", "--layer 99", existing=["a.npz"]),
    C("attention-layer-too-negative", "attention|{pose}|-o|{out}/a.npz|--layer|-99", "--layer -99"),
    C("attention-head-negative", "attention|{pose}|-o|{out}/a.npz|--head|-1", "--head -1"),
    C("attention-head-too-big", "attention|{pose}|-o|{out}/a.npz|--head|99", "--head 99"),
    C("attention-target-empty", ["attention", "{pose}", "-o", "{out}/a.npz", "--target", ""], "--target is empty"),
    C("attention-ctc-less-signllm", "attention|{pose}|-o|{out}/a.npz|-m|phoenix14t-signllm", "signllm"),
    C("attention-unknown-model", "attention|{pose}|-o|{out}/a.npz|-m|nope", "unknown model"),
    C("attention-forced-without-split", "attention|{pose}|-o|{out}/a.npz|--forced", "--forced is for --split"),
    C("attention-text-model-given-pose", f"attention|{{pose}}|-o|{{out}}/a.npz|-m|{T2G}", "UTF-8 text file"),
    C("attention-sign-model-given-text", "attention|{sentence}|-o|{out}/a.npz", "not a video"),
    C("attention-text-empty", f"attention|{{empty_txt}}|-o|{{out}}/a.npz|-m|{T2G}", "empty"),
    C("attention-text-blank", f"attention|{{blank_txt}}|-o|{{out}}/a.npz|-m|{T2G}", "empty"),
    C("attention-text-latin1", f"attention|{{latin1_txt}}|-o|{{out}}/a.npz|-m|{T2G}", "not a readable UTF-8"),
    C("attention-text-binary", f"attention|{{binary_txt}}|-o|{{out}}/a.npz|-m|{T2G}", "NUL bytes"),
    C("attention-text-huge", f"attention|{{huge_txt}}|-o|{{out}}/a.npz|-m|{T2G}", "too large"),
    C("attention-text-too-many-words", f"attention|{{long_txt}}|-o|{{out}}/a.npz|-m|{T2G}", "too long"),
    C("attention-pose-too-long", "attention|{long}|-o|{out}/a.npz", "recorded over at most 120 s"),
    C("attention-ok-all-three", "attention|{pose}|-o|{out}/a.npz|--png|{out}/a.png|--csv|{out}/a.csv|--json", rc=0,
      existing=["a.npz"], writes=["a.npz", "a.png", "a.csv"]),
    C("attention-ok-text-model", f"attention|{{sentence}}|-o|{{out}}/a.npz|-m|{T2G}|--json", rc=0,
      writes=["a.npz"]),
    # ---- attention: a whole split
    C("split-with-input", "attention|{pose}|--split|test", "not both"),
    C("split-unknown", f"attention|--split|holiday|-m|{T2G}", "unknown split"),
    C("split-out-npz", "attention|--split|test|-o|{out}/s.npz", "-o must name a .json"),
    C("split-out-missing-parent", "attention|--split|test|-o|{out}/no/s.json", "does not exist"),
    C("split-with-png", "attention|--split|test|--png|{out}/a.png", "--png is for one INPUT"),
    C("split-layer-too-big", "attention|--split|test|--layer|9", "--layer 9"),
    # ---- listing
    C("datasets-missing-folder", "datasets|{dir}/nope", "no such data folder"),
    C("datasets-a-file", "datasets|{a_file}", "no such data folder"),
    C("models-ok", "models|--json", rc=0),
]


@pytest.fixture(scope="module")
def inp(tmp_path_factory) -> dict[str, Path]:
    """Every input file of the table, made once (see :mod:`probe_inputs`)."""
    return make_inputs(tmp_path_factory.mktemp("inputs"))


@pytest.fixture
def out_dir(tmp_path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _fill(argv: list[str], inp: dict[str, Path], out: Path) -> list[str]:
    names = {k: str(v) for k, v in inp.items()}
    names["out"] = str(out)
    return [a.format(**names) if "{" in a else a for a in argv]


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path below ``folder`` with its content (None for folders)."""
    return {str(p.relative_to(folder)): (None if p.is_dir() else p.read_bytes())
            for p in sorted(folder.rglob("*"))}


def _check_one_line(case: Case, rc: int, out: str, err: str) -> None:
    assert "Traceback" not in err, err
    assert rc == case.rc, (rc, err)
    if case.rc == 0:
        assert err.strip() == "", err
        assert case.says in out, out  # what a successful run must also say
        if "--json" in case.argv:
            lines = [line for line in out.splitlines() if line.strip()]
            assert len(lines) == 1, out
            json.loads(lines[0])
        return
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("signstudio: error: "), lines[0]
    assert "internal error" not in lines[0]
    assert case.says in lines[0], lines[0]
    assert out == "", out


@pytest.mark.parametrize("case", CASES)
def test_cli_case(case: Case, inp, out_dir, capsys):
    if case.skip:
        pytest.skip(case.skip)
    if case.id == "pose-out-read-only-dir":
        (out_dir / "ro").mkdir()
        os.chmod(out_dir / "ro", 0o555)
    for name in case.existing:
        if name.endswith("/"):
            (out_dir / name).mkdir()
        else:
            (out_dir / name).write_bytes(PREVIOUS)
    argv = _fill(case.argv, inp, out_dir)
    lexicons = [Path(a) for a in argv if Path(a).parent.name == "lexicons"]
    before = {lex: _snapshot(lex) for lex in lexicons if lex.is_dir()}
    inputs_before = _snapshot(inp["dir"]) if case.rc else None
    rc = main(argv)
    captured = capsys.readouterr()
    if os.environ.get("SIGNSTUDIO_PROBE_LOG"):  # every case's outcome, for a person to read
        with open(os.environ["SIGNSTUDIO_PROBE_LOG"], "a", encoding="utf-8", errors="replace") as log:
            log.write(f"{case.id}\t{rc}\t{captured.err.strip() or captured.out.strip()[:100]}\n")
    _check_one_line(case, rc, captured.out, captured.err)
    after = _snapshot(out_dir)
    leftovers = [p for p in after if ".tmp" in p or p.startswith(".")]
    assert not leftovers, leftovers
    if case.rc:  # nothing written, nothing changed
        assert after == {n.rstrip("/"): (None if n.endswith("/") else PREVIOUS) for n in case.existing}, after
        assert all(_snapshot(lex) == snap for lex, snap in before.items())
        assert _snapshot(inp["dir"]) == inputs_before
    else:
        for name in case.writes:
            assert after.get(name) not in (None, PREVIOUS, b""), name


# --------------------------------------------------------------------------------------------
# Failures half-way: a disk that fills up while the outputs are written
# --------------------------------------------------------------------------------------------


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("argv, patch, says, existing", [
    pytest.param("produce|hi|--lang|asl|-o|{out}/x.pose|--video|{out}/x.mp4",
                 "signstudio.production.render.export_video", "x.mp4: No space left on device", ["x.pose"],
                 id="produce-video-fails-pose-not-kept"),
    pytest.param("attention|{pose}|-o|{out}/a.npz|--png|{out}/a.png",
                 "signstudio.interpret.plot.heatmap_png", "a.png: No space left on device", ["a.npz"],
                 id="attention-png-fails-npz-not-kept"),
])
def test_failure_half_way_leaves_nothing(argv, patch, says, existing, inp, out_dir, capsys, monkeypatch):
    import importlib

    module, name = patch.rsplit(".", 1)
    monkeypatch.setattr(importlib.import_module(module), name, _disk_full)
    for n in existing:
        (out_dir / n).write_bytes(PREVIOUS)
    rc = main(_fill(argv.split("|"), inp, out_dir))
    err = capsys.readouterr().err
    assert rc == 2 and len(err.splitlines()) == 1 and says in err, err
    assert _snapshot(out_dir) == {n: PREVIOUS for n in existing}


def test_a_full_disk_is_refused_before_the_work(inp, out_dir, capsys, monkeypatch):
    import signstudio.files as files

    real_open = open

    def full_open(file, mode="r", *args, **kwargs):
        if "w" in mode and ".signstudio-write-check" in str(file):
            handle = real_open(file, mode, *args, **kwargs)
            handle.write = _disk_full
            return handle
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(files, "open", full_open, raising=False)
    rc = main(_fill("produce|hi|--lang|asl|-o|{out}/x.pose".split("|"), inp, out_dir))
    err = capsys.readouterr().err
    assert rc == 2 and "cannot write in" in err and "No space left on device" in err, err
    assert _snapshot(out_dir) == {}


# --------------------------------------------------------------------------------------------
# Attention records that lie, read the way the window reads them
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_record(inp, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("records") / "good.npz"
    assert main(["attention", str(inp["pose"]), "-o", str(path)]) == 0
    return path


def _rewrite(src: Path, dst: Path, header_change=None, arrays_change=None) -> Path:
    with np.load(src) as npz:
        arrays = dict(npz)
    header = json.loads(str(arrays["header"]))
    if header_change:
        header = header_change(header)
    arrays["header"] = np.array(header if isinstance(header, str) else json.dumps(header))
    if arrays_change:
        arrays_change(arrays)
    np.savez(dst, **arrays)
    return dst


def _drop(key):
    def change(h):
        h.pop(key)
        return h
    return change


def _set(key, value):
    def change(h):
        h[key] = value
        return h
    return change


RECORDS = {
    "missing-shapes": ("the record's header field 'shapes' is missing", dict(header_change=_drop("shapes"))),
    "missing-tokens": ("'tokens' is missing", dict(header_change=_drop("tokens"))),
    "tokens-a-number": ("'tokens' is not a list of strings", dict(header_change=_set("tokens", 7))),
    "shapes-a-string": ("'shapes' is not an object", dict(header_change=_set("shapes", "big"))),
    "shapes-negative": ("not 3 whole numbers", dict(header_change=lambda h: {
        **h, "shapes": {**h["shapes"], "cross": [[-1, 2, 3]]}})),
    "fps-nan": ("'fps' is nan", dict(header_change=_set("fps", float("nan")))),
    "fps-string": ("'fps' is 'fast'", dict(header_change=_set("fps", "fast"))),
    "model-a-list": ("'model' is not a string", dict(header_change=_set("model", ["x"]))),
    "header-a-list": ("not a SignStudio attention record", dict(header_change=lambda h: [1, 2])),
    "header-not-json": ("the header is not JSON", dict(header_change=lambda h: "{not json")),
    "version-9": ("version 9 is not supported", dict(header_change=_set("version", 9))),
    "nan-weights": ("NaN or infinite attention weights", dict(arrays_change=lambda a: a["cross_0"].fill(np.nan))),
    "string-weights": ("not numbers", dict(arrays_change=lambda a: a.update(
        cross_0=np.full(a["cross_0"].shape, "x")))),
    "missing-array": ("missing cross_0", dict(arrays_change=lambda a: a.pop("cross_0"))),
    "wrong-shape": ("has shape", dict(arrays_change=lambda a: a.update(cross_0=a["cross_0"][:, :1]))),
}


@pytest.mark.parametrize("name", list(RECORDS))
def test_record_that_lies(name, good_record, tmp_path):
    from signstudio.errors import InputError
    from signstudio.interpret.record import load_record

    says, change = RECORDS[name]
    path = _rewrite(good_record, tmp_path / f"{name}.npz", **change)
    with pytest.raises(InputError) as err:
        load_record(path)
    assert says in str(err.value) and "\n" not in str(err.value), str(err.value)


def _bytes(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("make, says", [
    pytest.param(lambda d: npz_bomb(d / "bomb.npz"), "would unpack to", id="zip-bomb-1GiB"),
    pytest.param(lambda d: lying_npy(d / "liar.npz"), "declares (1000000, 1000000)", id="npy-header-lies"),
    pytest.param(lambda d: _bytes(d / "junk.npz", b"PK\x03\x04 junk"), "not a readable .npz", id="junk-zip"),
    pytest.param(lambda d: _bytes(d / "empty.npz", b""), "not a readable .npz", id="empty-file"),
    pytest.param(lambda d: d, "is a folder", id="a-folder"),
    pytest.param(lambda d: d / "nope.npz", "no such file", id="missing"),
])
def test_record_file_that_lies(make, says, tmp_path):
    import time

    from signstudio.errors import InputError
    from signstudio.interpret.record import load_record

    path = make(tmp_path)
    t0 = time.perf_counter()
    with pytest.raises(InputError) as err:
        load_record(path)
    assert says in str(err.value) and "\n" not in str(err.value), str(err.value)
    assert time.perf_counter() - t0 < 2.0  # refused from the zip directory, nothing decompressed


# --------------------------------------------------------------------------------------------
# Real processes: what MediaPipe and FFmpeg print on file descriptor 2
# --------------------------------------------------------------------------------------------


def _run(*args, env=None):
    full = {k: v for k, v in os.environ.items() if k != "SIGNSTUDIO_VERBOSE"}
    full.update({"PYTHONPATH": str(PROJECT_ROOT), "OMP_NUM_THREADS": "1", **(env or {})})
    return subprocess.run([sys.executable, "-m", "signstudio", *map(str, args)], capture_output=True,
                          text=True, env=full, timeout=300)


def test_pose_of_a_real_video_prints_only_our_line(tmp_path):
    out = tmp_path / "x.pose"
    proc = _run("pose", VIDEO, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr  # no MediaPipe / TFLite / absl line
    assert proc.stdout.startswith(f"wrote {out}: 58 frames")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.pose"]


def test_verbose_keeps_the_native_lines(tmp_path):
    proc = _run("pose", VIDEO, "-o", tmp_path / "x.pose", "--verbose")
    assert proc.returncode == 0, proc.stderr
    assert "TensorFlow Lite" in proc.stderr or "W0000" in proc.stderr, proc.stderr


def test_translate_of_a_broken_video_is_one_line(inp):
    proc = _run("translate", inp["cut_mp4"])
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"signstudio: error: {inp['cut_mp4']}: not a video OpenCV"), lines


def test_pose_to_an_unwritable_target_fails_before_mediapipe(inp):
    import time

    t0 = time.perf_counter()
    proc = _run("pose", VIDEO, "-o", "/sys/x.pose")
    assert proc.returncode == 2 and proc.stderr.splitlines() == [
        "signstudio: error: /sys/x.pose: cannot write in /sys (Permission denied)"], proc.stderr
    assert "mediapipe" not in proc.stdout and time.perf_counter() - t0 < 30


def test_pose_subprocess_disk_full(tmp_path):
    """The .pose write fails after MediaPipe ran (the disk filled up meanwhile): one line, no file."""
    code = ("import errno, os, pose_format\n"
            "def full(self, f): raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))\n"
            "pose_format.Pose.write = full\n"
            "from signstudio.cli import main\n"
            f"raise SystemExit(main(['pose', {str(VIDEO)!r}, '-o', {str(tmp_path / 'x.pose')!r}]))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"signstudio: error: {tmp_path / 'x.pose'}: No space left on device"]
    assert list(tmp_path.iterdir()) == []
