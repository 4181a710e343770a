"""SignLLM production speed: incremental decoding with the key/value cache vs recomputing the prefix.

Usage::

    PYTHONPATH=. python benchmarks/produce_kv_cache.py [--model PATH] [--runs N] [--frames 150]
        [--threads 1] [--d-model 256 --layers 2]

Produces one 10-gloss sentence (glosses from the model's vocabulary) twice per setting:

1. **fixed length**: exactly ``--frames`` frames (the counter stop is ignored);
2. **counter stop**: until the predicted counter reaches the model's ``stop_threshold`` (capped at
   its ``max_frames``) - the number of frames is printed;

each with ``generate(use_cache=True)`` (per-layer self-attention keys/values kept, gloss
cross-attention keys/values computed once) and ``use_cache=False`` (the whole prefix is run through
the decoder at every step). Prints the median wall time in ms over ``--runs`` runs and the speed-up.

The default model is the shipped ``models/phoenix14t-signllm``; without it (or with ``--d-model``)
a randomly initialised model of the ``signllm-phoenix-skels`` preset is built (same cost per frame;
its counter stop is arbitrary, so the fixed-length row is the one to compare).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from signstudio.models.registry import PRESETS, build_model, count_parameters  # noqa: E402
from signstudio.paths import models_dir  # noqa: E402


def load(args) -> tuple[torch.nn.Module, list[int], str, str]:
    """The model, 10 tagged gloss token ids (with the language tag first), its language, a label."""
    path = Path(args.model) if args.model else models_dir() / "phoenix14t-signllm"
    built = args.d_model is not None or args.layers is not None
    if not built and ((path / "model.pt").is_file() or path.is_file()):
        from signstudio.runtime.producer import load_signllm

        producer = load_signllm(path)
        language = producer.languages[0]
        glosses = [t.split(":", 1)[1] for t in producer.vocab.itos if t.startswith(f"{language}:")][:10]
        ids = producer.vocab.encode([f"<{language}>"] + [f"{language}:{g}" for g in glosses])
        return producer.model, ids, language, f"{producer.name} (trained)"
    values = dict(PRESETS["signllm-phoenix-skels"][1])
    if args.d_model:
        values.update(d_model=args.d_model, ff_dim=2 * args.d_model)
    if args.layers:
        values.update(encoder_layers=args.layers, decoder_layers=args.layers)
    torch.manual_seed(0)
    model = build_model("signllm", values).eval()
    return model, list(range(4, 15)), "gsg", f"preset signllm-phoenix-skels, d={values['d_model']} (random init)"


def median_ms(fn, runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="a SignLLM checkpoint (default: models/phoenix14t-signllm)")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1 is fastest for the loop)")
    ap.add_argument("--d-model", type=int, help="build a random preset model of this width instead")
    ap.add_argument("--layers", type=int, help="encoder and decoder layers of a built model")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, ids, language, label = load(args)
    glosses = torch.tensor([ids])
    lengths = torch.tensor([len(ids)])
    print(f"model: {label}, {count_parameters(model):,} parameters; {len(ids) - 1} glosses; "
          f"torch {torch.__version__}, {args.threads} thread(s), {platform.processor() or platform.machine()}")
    stop = model.generate(glosses, lengths, language).lengths.item()
    rows = [("fixed length", args.frames, dict(max_frames=args.frames, stop_on_counter=False)),
            ("counter stop", stop, dict())]
    print(f"{'setting':<14} {'frames':>6} {'cache ms':>10} {'no cache ms':>12} {'speed-up':>9}")
    for name, frames, kw in rows:
        cached = median_ms(lambda: model.generate(glosses, lengths, language, use_cache=True, **kw), args.runs)
        uncached = median_ms(lambda: model.generate(glosses, lengths, language, use_cache=False, **kw), args.runs)
        print(f"{name:<14} {frames:>6} {cached:>10.1f} {uncached:>12.1f} {uncached / cached:>8.1f}x")


if __name__ == "__main__":
    main()
