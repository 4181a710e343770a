"""Named datasets that training and evaluation can use, split into train/dev/test examples."""

from __future__ import annotations

from signstudio.data.batching import TrackExample
from signstudio.data.boston104 import BOSTON_FPS, load_boston104
from signstudio.errors import ConfigError

DATASETS = ("boston104",)


def load_splits(name: str, dev_every: int = 10) -> dict[str, list[TrackExample]]:
    """Load ``{"train", "dev", "test"}`` examples of dataset ``name``.

    RWTH-BOSTON-104 has only train (161) and test (40) sentences; the dev split (for choosing
    the checkpoint) is every ``dev_every``-th training sentence, held out of training, so the test
    set is never used for any decision. Text targets are the glosses (BOSTON has no translation).

    Raises:
        ConfigError: unknown dataset. InputError: its files are missing.
    """
    if name != "boston104":
        raise ConfigError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")

    def examples(split: str) -> list[TrackExample]:
        return [
            TrackExample(f"boston104/{s.video}", s.tracks, BOSTON_FPS, s.glosses, s.glosses, s.spans)
            for s in load_boston104(split)
        ]

    train = examples("train")
    dev = [e for i, e in enumerate(train) if dev_every and i % dev_every == dev_every - 1]
    dev_ids = {e.id for e in dev}
    return {"train": [e for e in train if e.id not in dev_ids], "dev": dev, "test": examples("test")}
