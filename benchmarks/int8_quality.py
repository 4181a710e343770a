"""What INT8 costs each model: size and test metrics, fp32 export vs dynamic INT8 quantisation.

    python benchmarks/int8_quality.py [--models NAME ...] [--export-to DIR]

Every installed model is exported (fp32 and INT8, onnxruntime's dynamic quantisation: MatMul and
Gemm weights per channel in uint8, U8U8) into a scratch folder, and both are evaluated on the test split
of the data it was trained on (``signstudio evaluate``'s numbers). A model's INT8 export may be
its default only where its card metric drops by at most 0.5 points (0.005 for WER and DTW-MJE).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

#: The card metric of each task, and whether lower is better.
METRIC = {"sign-recognition": ("top1", False), "sign-to-text": ("wer", True), "text-to-gloss": ("bleu4", False),
          "gloss-to-text": ("bleu4", False), "gloss-to-pose": ("dtw_mje", True)}
#: Largest drop allowed for INT8 to be the default, in the metric's own unit.
ALLOWED = {"top1": 0.5, "wer": 0.005, "bleu4": 0.5, "dtw_mje": 0.005}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--export-to", default=None)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from signstudio.export.onnx import export_model
    from signstudio.runtime.evaluate import evaluate_model
    from signstudio.runtime.installed import list_models, load_installed
    from signstudio.runtime.onnx import EXPORT_FOLDERS

    scratch = Path(args.export_to or tempfile.mkdtemp(prefix="signstudio-int8-"))
    names = args.models or sorted({m.name for m in list_models()})
    print(f"{'model':28s} {'metric':8s} {'fp32':>8s} {'int8':>8s} {'change':>8s} {'fp32 MB':>8s} {'int8 MB':>8s}  "
          "INT8 default?")
    for name in names:
        source = load_installed(name, backend="torch").path.parent
        copy = scratch / name
        if not copy.exists():
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("onnx", "onnx-int8"))
        export_model(copy)
        export_model(copy, quantize="int8")
        scores, sizes = {}, {}
        for precision, folder in EXPORT_FOLDERS.items():
            result = evaluate_model(load_installed(str(copy), backend=f"onnx-{precision}"), "test")
            metric, lower = METRIC[result["task"]]
            scores[precision] = float(result[metric])
            sizes[precision] = sum(f.stat().st_size for f in (copy / folder).glob("*.onnx")) / 1e6
        change = scores["int8"] - scores["fp32"]
        drop = change if lower else -change
        verdict = "yes" if drop <= ALLOWED[metric] else "no"
        print(f"{name:28s} {metric:8s} {scores['fp32']:8.3f} {scores['int8']:8.3f} {change:+8.3f} "
              f"{sizes['fp32']:8.1f} {sizes['int8']:8.1f}  {verdict}", flush=True)
    if not args.export_to:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
