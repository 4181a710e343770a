"""TrainingMonitor without Qt: events in, curves, best point, progress, outcome and messages out."""

from __future__ import annotations

import json
import math

import pytest

from signstudio.training.monitor import (TrainingMonitor, format_duration, shipped_model_folder,
                                         stopped_epoch)


class Clock:
    """A fake monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _started(**extra):
    return {"event": "started", "name": "m", "output": "/tmp/x", "pid": 7, "resume": False, "epochs": 4, **extra}


def _row(epoch, loss, **metrics):
    return {"event": "metrics", "row": {"epoch": epoch, "step": epoch * 10, "loss": loss, **metrics}}


def test_the_started_event_names_the_metric_and_which_way_is_better():
    mon = TrainingMonitor(metric="dev_wer", lower_is_better=True, metric_label="dev WER")
    lines = mon.feed(_started(metric="dev_bleu4", lower_is_better=False, metric_label="dev BLEU-4"))
    assert lines == ["Training process 7 started: m, 4 epochs"]
    assert (mon.metric, mon.lower_is_better, mon.metric_label) == ("dev_bleu4", False, "dev BLEU-4")
    assert mon.metric_title() == "dev BLEU-4 (higher is better)"
    for epoch, bleu in ((1, 3.0), (2, 5.5), (3, 4.0)):
        assert mon.feed(_row(epoch, 3.0 - epoch, dev_bleu4=bleu, dev_wer=0.1)) == []
    assert mon.metric_points() == ([1, 2, 3], [3.0, 5.5, 4.0])
    assert mon.loss_points() == ([1, 2, 3], [2.0, 1.0, 0.0])
    assert mon.best() == (2, 5.5)  # higher is better: not the lowest, not the last
    assert mon.best_text() == "best so far: epoch 2, dev BLEU-4 5.5"


def test_lower_is_better_picks_the_minimum_and_the_first_on_a_tie():
    mon = TrainingMonitor(metric="dev_wer", lower_is_better=True, metric_label="dev WER")
    for epoch, wer in ((1, 0.9), (2, 0.4), (3, 0.4), (4, 0.7)):
        mon.feed(_row(epoch, 1.0, dev_wer=wer))
    assert mon.best() == (2, 0.4)
    assert mon.metric_title() == "dev WER (lower is better)"


def test_an_evaluation_again_at_an_epoch_replaces_it_and_later_ones():
    mon = TrainingMonitor(metric="dev_wer", rows=[{"epoch": 2, "loss": 5.0, "dev_wer": 0.5},
                                                  {"epoch": 4, "loss": 4.0, "dev_wer": 0.4}])
    mon.feed(_row(4, 3.0, dev_wer=0.3))
    mon.feed(_row(6, 2.0, dev_wer=0.2))
    assert mon.loss_points() == ([2, 4, 6], [5.0, 3.0, 2.0])
    mon.feed(_row(3, 9.0, dev_wer=0.9))  # a resumed run re-evaluated epoch 3: 4 and 6 are gone
    assert mon.loss_points() == ([2, 3], [5.0, 9.0])


def test_rows_without_the_metric_or_with_nan_draw_no_point():
    mon = TrainingMonitor(metric="dev_wer")
    mon.feed(_row(1, float("nan"), dev_wer=float("nan")))
    mon.feed(_row(2, 1.0))
    mon.feed({"event": "metrics", "row": {"loss": 3.0}})  # no epoch
    assert mon.loss_points() == ([2], [1.0]) and mon.metric_points() == ([], [])
    assert mon.best() is None and mon.best_text() == ""
    assert TrainingMonitor().metric_points() == ([], []) and TrainingMonitor().metric_title() == ""


def test_progress_and_time_left_follow_the_steps():
    clock = Clock()
    mon = TrainingMonitor(clock=clock)
    mon.feed({"event": "total", "total": 400, "unit": "step"})
    assert (mon.done, mon.total) == (0, 400) and mon.time_left() is None
    mon.feed({"event": "progress", "done": 10, "total": 400})
    clock.now += 0.5
    mon.feed({"event": "progress", "done": 60, "total": 400})
    assert mon.time_left() is None and mon.time_text() == ""  # under a second of progress
    clock.now += 1.5
    mon.feed({"event": "progress", "done": 210, "total": 400})
    assert mon.time_left() == pytest.approx((400 - 210) * 2.0 / 200)
    assert mon.time_text() == "about 2 s left"
    mon.feed({"event": "progress", "done": 400, "total": 400})
    assert mon.time_text() == "almost done"


def test_done_then_exited_gives_the_saved_model_message(tmp_path):
    clock = Clock()
    mon = TrainingMonitor(metric="dev_wer", metric_label="dev WER", clock=clock)
    mon.feed({"event": "total", "total": 40})
    mon.feed({"event": "progress", "done": 30, "total": 40})
    result = {"output": str(tmp_path / "run"), "best_epoch": 3, "metrics": {"dev_wer": 0.41234, "epoch": 3}}
    assert mon.feed({"event": "done", "result": result}) == [f"Saved {tmp_path / 'run' / 'model.pt'}"]
    assert mon.done == 40 and mon.running
    clock.now += 75
    assert mon.feed({"event": "exited", "returncode": 0, "outcome": "done", "message": ""}) == ["Finished in 1 min"]
    assert mon.outcome == "done" and not mon.running
    kind, text = mon.message()
    assert kind == "info"
    assert text == (f"Training finished. The best model (epoch 3, dev WER 0.4123) was saved to "
                    f"{tmp_path / 'run' / 'model.pt'}. It is listed in the other tabs as run.")
    assert mon.status_line() == "Training finished in 1 min." and mon.time_text() == "done in 1 min"


def test_a_failure_says_why_and_where_the_log_is():
    mon = TrainingMonitor()
    assert mon.feed({"event": "error", "message": "boston104: dataset not found"}) == \
        ["Error: boston104: dataset not found"]
    lines = mon.feed({"event": "exited", "returncode": 1, "outcome": "failed",
                      "message": "boston104: dataset not found"})
    assert lines == ["Failed: boston104: dataset not found"]
    assert mon.message("/tmp/run/train.log") == (
        "error", "Training failed: boston104: dataset not found (details in /tmp/run/train.log)")
    assert mon.status_line() == "Training failed." and mon.time_text() == "failed"
    killed = TrainingMonitor()
    killed.feed({"event": "exited", "outcome": "failed"})
    assert killed.message() == ("error", "Training failed: the training process failed")


def test_cancelled_says_what_resume_would_do(tmp_path):
    out = tmp_path / "run"
    mon = TrainingMonitor(output=out, epochs=6)
    mon.feed({"event": "cancelled", "output": str(out)})
    mon.feed({"event": "exited", "outcome": "cancelled"})
    assert mon.message() == ("warning", "Training cancelled. It stopped before its first evaluation, "
                                        "so nothing was saved.")
    out.mkdir()
    (out / "train_state.pt").write_bytes(b"state")
    (out / "metrics.jsonl").write_text(json.dumps({"epoch": 2, "loss": 1.0}) + "\n")
    assert mon.message()[1] == "Training cancelled. Resume continues after epoch 2, its last evaluation."
    assert mon.status_line() == "Training cancelled." and mon.time_text() == "cancelled"


def test_stopped_epoch_reads_the_folder(tmp_path):
    assert stopped_epoch(None) is None and stopped_epoch(tmp_path) is None  # no train_state.pt
    (tmp_path / "train_state.pt").write_bytes(b"s")
    assert stopped_epoch(tmp_path, 10) == 0  # a state before any evaluation row
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps({"epoch": e}) + "\n" for e in (2, 4)))
    assert stopped_epoch(tmp_path, 10) == 4
    assert stopped_epoch(tmp_path, 4) is None  # the run reached its last epoch: finished


def test_malformed_events_are_ignored():
    mon = TrainingMonitor(metric="dev_wer")
    for event in (None, "text", {}, {"event": 3}, {"event": "no-such-event"},
                  {"event": "progress", "done": "many"}, {"event": "metrics", "row": "not a row"},
                  {"event": "total", "total": None}):
        assert mon.feed(event) == []
    assert mon.rows == [] and mon.total is None and mon.running


def test_a_monitor_for_a_config_takes_the_recipes_metric(tmp_path):
    from signstudio.training.config import parse_config_text

    cfg = parse_config_text("name: tiny\nmodel: {preset: signformer-boston}\ndata: {dataset: boston104}\n"
                            "train: {epochs: 3}\n")
    mon = TrainingMonitor.for_config(cfg, tmp_path / "tiny")
    assert (mon.metric, mon.lower_is_better, mon.metric_label) == ("dev_wer", True, "dev WER")
    assert mon.epochs == 3 and mon.rows == []
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "metrics.jsonl").write_text(json.dumps({"epoch": 1, "loss": 2.0, "dev_wer": 0.5}) + "\n")
    resumed = TrainingMonitor.for_config(cfg, tmp_path / "tiny", resume=True)
    assert resumed.metric_points() == ([1], [0.5])


def test_shipped_model_folder_catches_only_the_shipped_models(tmp_path):
    from signstudio.paths import models_dir

    assert shipped_model_folder(models_dir() / "boston104-signformer") == models_dir().resolve()
    assert shipped_model_folder(models_dir()) == models_dir().resolve()
    assert shipped_model_folder(tmp_path / "boston104-signformer") is None


def test_durations():
    assert format_duration(12.4) == "12 s" and format_duration(720) == "12 min"
    assert format_duration(3900) == "1 h 5 min" and format_duration(0.2) == "1 s"
    assert format_duration(math.inf) == "1 s" and format_duration(-5) == "1 s"
