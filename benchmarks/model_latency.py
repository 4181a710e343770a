"""Model latency: PyTorch vs onnxruntime fp32 vs INT8, per installed model, in one run.

    python benchmarks/model_latency.py [--runs 50] [--models NAME ...] [--export-to DIR]

For every installed model whose family can be exported, the model is exported to ONNX into a
scratch folder (``--export-to``, default a temporary one; shipped folders are not written), then
timed on its typical input:

- landmark recognisers (fp32 and INT8): a 200-frame clip (encoder and both heads), and one live
  chunk, the streaming recogniser's 64-frame window (what runs every 4 frames live);
- Signformer models (fp32): a 200-frame clip decoded as ``translate`` does (CTC, CTC with the
  gloss LM, the decoder's beam search; the searches are Python in both backends).

Each timing is the median and 95th percentile of ``--runs`` runs after 5 warm-up runs, one
thread (``torch.set_num_threads(1)``; onnxruntime ``intra_op_num_threads=1``) and, for fp32, also
onnxruntime on two threads (its default where the machine has two cores), and the ratio to
PyTorch. Families that cannot be exported yet are listed with the reason. The machine is
shared and noisy: compare the ratios within one run.
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


def _signformer(name: str, loaded, scratch: Path, runs: int) -> None:
    """Full decoding (CTC, CTC + LM, decoder beam, as translate does) of a 200-frame clip."""
    from signstudio.export.onnx import export_model
    from signstudio.runtime.installed import load_installed
    from signstudio.runtime.sign2text import decode_features, runnable

    copy = scratch / name
    if not copy.exists():
        shutil.copytree(loaded.path.parent, copy, ignore=shutil.ignore_patterns("onnx", "onnx-int8"))
    export_model(copy)
    onnx = runnable(load_installed(str(copy), backend="onnx-fp32"))
    dim = int(loaded.features.get("num_features") or loaded.model.config.input_dim)
    x = [np.random.default_rng(0).normal(size=(200, dim)).astype(np.float32)]
    base = None
    for backend, model in (("torch", loaded), ("onnx fp32", onnx)):
        median, p95 = _timings(lambda: decode_features(model.model, x, model.gloss_vocab, model.text_vocab,
                                                       model.decoding, model.gloss_lm), runs)
        base = base or median
        print(f"{name:28s} {'200 frames, decoded':22s} {backend:10s} {median:9.2f} {p95:8.2f} {base / median:7.2f}x",
              flush=True)


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
    from signstudio.runtime.nets import TorchRecognizerNet, recognizer_net
    from signstudio.runtime.onnx import EXPORTABLE

    scratch = Path(args.export_to or tempfile.mkdtemp(prefix="signstudio-latency-"))
    names = args.models or sorted({m.name for m in list_models()})
    print(f"{'model':28s} {'input':22s} {'backend':10s} {'median ms':>9s} {'p95 ms':>8s} {'vs torch':>8s}  size")
    for name in names:
        loaded = load_installed(name, backend="torch")
        if loaded.model_type not in EXPORTABLE:
            print(f"{name:28s} not exported: {loaded.model_type} models cannot be exported to ONNX yet")
            continue
        if loaded.model_type == "signformer":
            _signformer(name, loaded, scratch, args.runs)
            continue
        copy = scratch / name
        if not copy.exists():
            shutil.copytree(loaded.path.parent, copy, ignore=shutil.ignore_patterns("onnx", "onnx-int8"))
        export_model(copy)
        export_model(copy, quantize="int8")
        def onnx(backend: str, threads: int):
            model = load_installed(str(copy), backend=backend)
            model.threads = threads
            return recognizer_net(model)

        nets = {"torch": TorchRecognizerNet(loaded.model), "onnx fp32": onnx("onnx-fp32", 1),
                "onnx int8": onnx("onnx-int8", 1), "fp32 2 thr": onnx("onnx-fp32", 2)}
        fp32, int8 = (copy / "onnx" / "recognizer.onnx").stat().st_size, (copy / "onnx-int8" / "recognizer.onnx").stat().st_size
        sizes = {"torch": loaded.path.stat().st_size, "onnx fp32": fp32, "onnx int8": int8, "fp32 2 thr": fp32}
        dim = int(loaded.model.config.input_dim)
        rng = np.random.default_rng(0)
        for label, frames, method in (("200-frame clip", 200, "logits"), ("live chunk (64 frames)", 64, "ctc_log_probs")):
            if method == "ctc_log_probs" and not nets["torch"].has_ctc:
                continue
            x = rng.normal(size=(1, frames, dim)).astype(np.float32)
            n = np.array([frames], dtype=np.int64)
            base = None
            for backend, net in nets.items():
                median, p95 = _timings(lambda: getattr(net, method)(x, n), args.runs)
                base = base or median
                print(f"{name:28s} {label:22s} {backend:10s} {median:9.2f} {p95:8.2f} {base / median:7.2f}x  "
                      f"{sizes[backend] / 1e6:.1f} MB", flush=True)
    if not args.export_to:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
