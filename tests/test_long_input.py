"""Long input is read in windows: a BOSTON-104 model never attends over more than MAX_WINDOW
frames, every frame is read once, and the glosses are no worse than those of one pass."""

from __future__ import annotations

import numpy as np
import pytest

from signstudio.paths import data_dir, models_dir

SIGNFORMER = models_dir() / "boston104-signformer" / "model.pt"


@pytest.mark.skipif(not SIGNFORMER.is_file(), reason="boston104-signformer is not installed")
def test_a_long_recording_is_read_in_windows_with_the_glosses_of_one_pass(monkeypatch):
    if not (data_dir() / "boston104").is_dir():
        pytest.skip(f"RWTH-BOSTON-104 is not in {data_dir()}")
    from signstudio.data.batching import example_features
    from signstudio.data.datasets import load_splits
    from signstudio.metrics import wer
    from signstudio.runtime import sign2text
    from signstudio.runtime.installed import load_installed

    loaded = load_installed(str(SIGNFORMER))
    test = load_splits("boston104")["test"]
    joined = np.concatenate([example_features(e) for e in test])  # 40 sentences, one recording
    assert len(joined) > 5 * sign2text.MAX_WINDOW
    model = loaded.model
    lengths: list[int] = []
    encode = model.encode

    def counting(x, lens):
        lengths.append(int(x.shape[1]))
        return encode(x, lens)

    monkeypatch.setattr(model, "encode", counting)
    args = (model, [joined], loaded.gloss_vocab, None, loaded.decoding, None)
    windowed = sign2text.decode_features(*args)["ctc"][0]
    windows = list(lengths)
    assert max(windows) <= sign2text.MAX_WINDOW  # never the whole recording at once
    keep = sign2text.MAX_WINDOW - 2 * sign2text.WINDOW_OVERLAP
    assert len(windows) == -(-len(joined) // keep)  # every frame in exactly one window's kept part
    monkeypatch.setattr(sign2text, "MAX_WINDOW", 10**6)
    lengths.clear()
    whole = sign2text.decode_features(*args)["ctc"][0]
    assert lengths == [len(joined)]
    reference = [[g for e in test for g in e.glosses]]
    # The model was trained on single sentences, so neither reading is good (see its card), but
    # reading in windows costs nothing over one pass.
    assert len(windowed) >= 30
    assert wer(reference, [windowed]) <= wer(reference, [whole]) + 0.05
