"""The same trainer under `accelerate launch`: a 2-process CPU run (gloo) on real BOSTON-104 data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from signstudio.runtime.checkpoint import load_model

TINY = {
    "name": "ddp-boston",
    "model": {"preset": "signformer-boston", "d_model": 32, "ff_dim": 64, "encoder_layers": 1, "num_heads": 2},
    "data": {"dataset": "boston104", "dev_every": 10},
    "train": {"epochs": 2, "batch_size": 16, "eval_every": 1, "warmup_steps": 4, "lm_order": 0, "threads": 1},
}


def _launch(config: Path, out: Path) -> subprocess.CompletedProcess:
    launcher = Path(sys.executable).with_name("accelerate")
    if not launcher.exists() and shutil.which("accelerate") is None:
        pytest.skip("the accelerate launcher is not installed")
    cmd = [str(launcher if launcher.exists() else shutil.which("accelerate")), "launch", "--multi_gpu",
           "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "-m", "signstudio", "train", str(config), "-o", str(out), "--json"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def test_two_process_cpu_run_shards_batches_and_writes_once(tmp_path, data_dir):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    out = tmp_path / "run"
    proc = _launch(config, out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summaries = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(summaries) == 1  # only the main process reports and writes
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    # 145 training clips / 16 = 10 batches per epoch, shared by 2 processes: 5 steps each.
    assert [(r["epoch"], r["step"]) for r in rows] == [(1, 5), (2, 10)]
    assert load_model(out).name == "ddp-boston"


def test_two_process_cpu_run_of_the_text_recipe(tmp_path, small_phoenix):
    config = tmp_path / "t2g.yaml"
    config.write_text(yaml.safe_dump({
        "name": "ddp-t2g",
        "model": {"type": "text-transformer", "d_model": 32, "num_heads": 2, "encoder_layers": 1,
                  "decoder_layers": 1, "ff_dim": 64},
        "data": {"dataset": "phoenix14t", "direction": "text2gloss", "language": "gsg",
                 "path": str(small_phoenix)},
        "train": {"epochs": 2, "batch_size": 16, "eval_every": 1, "warmup_steps": 2, "beam_size": 1, "threads": 1},
    }))
    out = tmp_path / "run"
    proc = _launch(config, out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len([line for line in proc.stdout.splitlines() if line.startswith("{")]) == 1
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    # 96 training sentences / 16 = 6 batches per epoch, shared by 2 processes: 3 steps each.
    assert [(r["epoch"], r["step"]) for r in rows] == [(1, 3), (2, 6)]
    assert load_model(out).features["direction"] == "text2gloss"
