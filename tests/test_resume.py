"""Training a person can trust: kill -9 mid-run, resume, and end exactly where an uninterrupted run ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from signstudio.errors import Cancelled, ConfigError
from signstudio.paths import PROJECT_ROOT
from signstudio.tasks import RecordingTask
from signstudio.training.config import config_from_dict
from signstudio.training.resume import STATE_FILE
from signstudio.training.loop import fit

TINY_BOSTON = {
    "name": "resume-boston",
    "model": {"preset": "signformer-boston", "d_model": 32, "ff_dim": 64, "encoder_layers": 1, "num_heads": 2},
    "data": {"dataset": "boston104", "dev_every": 10},
    "train": {"epochs": 6, "batch_size": 16, "eval_every": 1, "warmup_steps": 10, "lm_order": 0, "threads": 1,
              "seed": 3},
}


def _cli(*args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "signstudio", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def _rows(path: Path) -> list[dict]:
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"}
            for line in path.read_text().splitlines() if line.strip()]


def test_kill_9_then_resume_ends_with_the_same_weights_as_an_uninterrupted_run(tmp_path, data_dir):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY_BOSTON))
    whole, broken = tmp_path / "whole", tmp_path / "broken"

    full = _cli("train", str(config), "-o", str(whole))
    assert full.wait(timeout=300) == 0, full.stderr.read()

    run = _cli("train", str(config), "-o", str(broken), "--events")
    evaluated = 0
    for line in run.stdout:  # wait until epoch 2's state is on disk and epoch 3 is under way
        event = json.loads(line)
        if event["event"] == "metrics":
            evaluated = event["row"]["epoch"]
        if event["event"] == "progress" and evaluated >= 2:
            break
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    assert run.returncode == -signal.SIGKILL
    state = torch.load(broken / STATE_FILE, map_location="cpu", weights_only=True)
    assert 2 <= state["epoch"] < 6  # the run really died in the middle
    assert not list(broken.glob("*.tmp"))  # nothing half-written is left

    resumed = _cli("train", str(config), "-o", str(broken), "--resume", "--json")
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert json.loads(out)["best_epoch"] >= 1

    a, b = _weights(whole / "model.pt"), _weights(broken / "model.pt")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), "resumed weights differ from the uninterrupted run"
    sa = torch.load(whole / STATE_FILE, map_location="cpu", weights_only=True)
    sb = torch.load(broken / STATE_FILE, map_location="cpu", weights_only=True)
    assert sa["step"] == sb["step"] and sa["epoch"] == sb["epoch"] == 6
    assert all(torch.equal(sa["model"][k], sb["model"][k]) for k in sa["model"])  # the last epoch too
    assert torch.equal(sa["torch_rng"], sb["torch_rng"]) and sa["numpy_rng"] == sb["numpy_rng"]
    assert _rows(whole / "metrics.jsonl") == _rows(broken / "metrics.jsonl")  # no duplicated rows


def test_resume_refuses_a_changed_config_and_a_missing_state(tmp_path, data_dir):
    cfg = config_from_dict({**TINY_BOSTON, "train": {**TINY_BOSTON["train"], "epochs": 2}})
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match="nothing to resume"):
        fit(cfg, resume=True, output=out)
    fit(cfg, output=out)
    changed = config_from_dict({**cfg.to_dict(), "model": {**TINY_BOSTON["model"], "d_model": 64},
                                "train": {**TINY_BOSTON["train"], "epochs": 2}})
    with pytest.raises(ConfigError, match="config changed.*d_model"):
        fit(changed, resume=True, output=out)
    # A new name only relabels the run: it resumes (nothing left to train here).
    fit(config_from_dict({**cfg.to_dict(), "name": "renamed"}), resume=True, output=out)
    assert json.loads((out / "train_summary.json").read_text())["name"] == "renamed"
    # A run saved before a setting existed resumes when the setting is at its default.
    state = torch.load(out / "train_state.pt", weights_only=True)
    saved = json.loads(state["config"])
    del saved["train"]["grad_clip"]
    state["config"] = json.dumps(saved)
    torch.save(state, out / "train_state.pt")
    fit(cfg, resume=True, output=out)
    with pytest.raises(ConfigError, match="config changed.*grad_clip"):
        fit(config_from_dict({**cfg.to_dict(), "train": {**cfg.to_dict()["train"], "grad_clip": 0.5}}),
            resume=True, output=out)


def test_signllm_resume_after_cancel_matches_an_uninterrupted_run(tmp_path, data_dir):
    raw = yaml.safe_load((PROJECT_ROOT / "resources/configs/phoenix14t-signllm.yaml").read_text())
    raw["model"].update({"d_model": 32, "ff_dim": 64})
    raw["train"].update({"epochs": 4, "eval_every": 1, "threads": 1, "plc": True, "plc_threshold": 0.25, "rl_weight": 0.5})
    cfg = config_from_dict(raw)
    fit(cfg, output=tmp_path / "whole")
    with pytest.raises(Cancelled):
        fit(cfg, RecordingTask(cancel_after=2 * 3 + 1), output=tmp_path / "broken")  # 3 batches per epoch: epoch 3
    fit(cfg, resume=True, output=tmp_path / "broken")
    a, b = _weights(tmp_path / "whole" / "model.pt"), _weights(tmp_path / "broken" / "model.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)
    sa = torch.load(tmp_path / "whole" / STATE_FILE, weights_only=True)
    sb = torch.load(tmp_path / "broken" / STATE_FILE, weights_only=True)
    assert sa["extra"] == sb["extra"]  # the Priority Learning Channel's history continued too
    assert all(torch.equal(sa["model"][k], sb["model"][k]) for k in sa["model"])


def test_text_resume_after_cancel_matches_an_uninterrupted_run(tmp_path, small_phoenix):
    cfg = config_from_dict({
        "name": "resume-t2g",
        "model": {"type": "text-transformer", "d_model": 32, "num_heads": 2, "encoder_layers": 1,
                  "decoder_layers": 1, "ff_dim": 64},
        "data": {"dataset": "phoenix14t", "direction": "gloss2text", "language": "gsg",
                 "path": str(small_phoenix)},
        "train": {"epochs": 4, "batch_size": 16, "eval_every": 1, "warmup_steps": 4, "beam_size": 2, "threads": 1},
    })
    fit(cfg, output=tmp_path / "whole")
    with pytest.raises(Cancelled):
        fit(cfg, RecordingTask(cancel_after=2 * 6 + 2), output=tmp_path / "broken")  # 6 batches per epoch: epoch 3
    fit(cfg, resume=True, output=tmp_path / "broken")
    for name in ("model.pt",):
        a, b = _weights(tmp_path / "whole" / name), _weights(tmp_path / "broken" / name)
        assert all(torch.equal(a[k], b[k]) for k in a)
    sa = torch.load(tmp_path / "whole" / STATE_FILE, weights_only=True)
    sb = torch.load(tmp_path / "broken" / STATE_FILE, weights_only=True)
    assert sa["step"] == sb["step"] == 4 * 6
    assert all(torch.equal(sa["model"][k], sb["model"][k]) for k in sa["model"])
    assert _rows(tmp_path / "whole" / "metrics.jsonl") == _rows(tmp_path / "broken" / "metrics.jsonl")
