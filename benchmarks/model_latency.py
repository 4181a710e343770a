"""Model latency: PyTorch vs onnxruntime fp32 vs INT8, per installed model, in one run.

    python benchmarks/model_latency.py [--runs 50] [--models NAME ...] [--export-to DIR]

Every installed model is exported to ONNX, fp32 and INT8, into a scratch folder (``--export-to``,
default a temporary one; shipped folders are not written), then timed on its typical input, as
the commands run it:

- landmark recognisers: a 200-frame clip (encoder and both heads), and one live chunk, the
  streaming recogniser's 64-frame window (what runs every 4 frames live);
- Signformer and SignAttention: 200 frames of real signing (the BOSTON-104 test clips one after
  the other) decoded as ``translate`` does (CTC, CTC with the gloss LM, the decoder's beam search);
- text-to-gloss and gloss-to-text: a 15-word PHOENIX-2014-T test sentence (its glosses for
  gloss-to-text), beam search with the model's options;
- SignLLM: a 10-gloss production (counter decoding until the counter stops it).

PyTorch runs as the cards were measured (its decoders recompute the whole prefix each step; the
SignLLM uses its key/value cache); onnxruntime runs the exported decoder step with its cache.
Each timing is the median and 95th percentile of ``--runs`` runs after 5 warm-up runs: PyTorch on
one thread, onnxruntime on one thread (fp32, INT8) and with its default threads ("fp32 dflt":
two for an encoder where the machine has two cores, one for a decoder step; see
:meth:`signstudio.runtime.onnx.OnnxModel.session`); the ratio is to PyTorch. The machine is shared and noisy: compare the
ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def _timings(fn, runs: int) -> tuple[float, float]:
    for _ in range(5):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1000), float(np.percentile(times, 95) * 1000)


def _recognizer(loaded, rng):
    from signstudio.runtime.nets import recognizer_net

    net = recognizer_net(loaded)
    config = loaded.sidecar["model_config"] if hasattr(loaded, "sidecar") else vars(loaded.model.config)
    dim = int(config["input_dim"])
    clip = rng.normal(size=(1, 200, dim)).astype(np.float32), np.array([200])
    work = {"200-frame clip": lambda: net.logits(*clip)}
    if net.has_ctc:
        chunk = clip[0][:, :64], np.array([64])
        work["live chunk (64 frames)"] = lambda: net.ctc_log_probs(*chunk)
    return work


def _signformer(loaded, rng):
    from signstudio.runtime.sign2text import decode_features, runnable

    m = runnable(loaded)
    x = [_real_frames(m, 200) if _real_frames(m, 200) is not None else
         rng.normal(size=(200, int(m.features.get("num_features") or 12))).astype(np.float32)]
    return {"200 frames, decoded": lambda: decode_features(m.model, x, m.gloss_vocab, m.text_vocab, m.decoding,
                                                           m.gloss_lm)}


def _real_frames(model, frames: int) -> np.ndarray | None:
    """``(frames, F)`` features of real signing: the test clips of the model's dataset, one after
    the other, cut at ``frames`` (None without the data)."""
    from signstudio.data.batching import example_features
    from signstudio.runtime.evaluate import sign_splits

    try:
        clips = [example_features(e) for e in sign_splits(model)["test"]]
    except Exception:  # noqa: BLE001 - no data here: random features instead
        return None
    return np.concatenate(clips)[:frames].astype(np.float32)


def _text(loaded, rng):
    from signstudio.runtime.text import TextTranslator, model_text_splits

    translator = TextTranslator(loaded)
    pair = next(p for p in model_text_splits(loaded)["test"]
                if len(p.target if translator.direction == "gloss2text" else p.source) == 15)
    source = [pair.source]
    return {f"15-word sentence ({len(pair.source) - (translator.direction == 'gloss2text')} tokens in)":
            lambda: translator.translate(source)}


def _signllm(loaded, rng):
    from signstudio.runtime.producer import PoseProducer

    producer = PoseProducer(loaded)
    language = producer.languages[0]
    glosses = [t.split(":", 1)[1] for t in producer.vocab.itos if t.startswith(f"{language}:")][:10]
    return {"10-gloss production": lambda: producer.produce(glosses, language)}


WORKLOADS = {"recognizer": _recognizer, "signformer": _signformer, "text-transformer": _text, "signllm": _signllm}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--models", nargs="*", default=None, help="model names (default: every installed one)")
    parser.add_argument("--export-to", default=None, help="scratch folder for the exports (default: temporary)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    from signstudio.export.onnx import export_model
    from signstudio.runtime.installed import list_models, load_installed
    from signstudio.runtime.onnx import EXPORT_FOLDERS

    scratch = Path(args.export_to or tempfile.mkdtemp(prefix="signstudio-latency-"))
    names = args.models or sorted({m.name for m in list_models()})
    print(f"{'model':28s} {'input':36s} {'backend':10s} {'median ms':>9s} {'p95 ms':>8s} {'vs torch':>8s}  size")
    for name in names:
        loaded = load_installed(name, backend="torch")
        workload = WORKLOADS.get(loaded.model_type)
        if workload is None:
            print(f"{name:28s} not timed: no workload for {loaded.model_type} models")
            continue
        copy = scratch / name
        if not copy.exists():
            shutil.copytree(loaded.path.parent, copy, ignore=shutil.ignore_patterns("onnx", "onnx-int8"))
        export_model(copy)
        export_model(copy, quantize="int8")

        def onnx(backend: str, threads: int):
            model = load_installed(str(copy), backend=backend)
            model.threads = threads
            return model

        variants = {"torch": loaded, "onnx fp32": onnx("onnx-fp32", 1), "onnx int8": onnx("onnx-int8", 1),
                    "fp32 dflt": onnx("onnx-fp32", 0)}
        size = {"torch": loaded.path.stat().st_size}
        for precision, folder in EXPORT_FOLDERS.items():
            size[f"onnx {precision}"] = sum(f.stat().st_size for f in (copy / folder).glob("*.onnx"))
        size["fp32 dflt"] = size["onnx fp32"]
        works = {backend: workload(model, np.random.default_rng(0)) for backend, model in variants.items()}
        for label in works["torch"]:
            base = None
            for backend, work in works.items():
                median, p95 = _timings(work[label], args.runs)
                base = base or median
                print(f"{name:28s} {label:36s} {backend:10s} {median:9.2f} {p95:8.2f} {base / median:7.2f}x  "
                      f"{size[backend] / 1e6:.1f} MB", flush=True)
    if not args.export_to:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
