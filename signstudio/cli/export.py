"""``signstudio export``: a model's ONNX graphs and sidecar, for onnxruntime (issue 12)."""

from __future__ import annotations

import argparse

from signstudio.cli.output import emit


def cmd_export(args: argparse.Namespace) -> int:
    """Export an installed model to ONNX (``onnx/`` beside its checkpoint, or ``-o DIR``)."""
    from signstudio.export.onnx import export_model

    result = export_model(args.model, args.output, args.quantize)
    payload = {"folder": str(result.folder), "precision": result.precision,
               "graphs": {name: {"bytes": size, "max_abs_diff": result.max_abs_diff[name]}
                          for name, size in result.graphs.items()}}
    sizes = ", ".join(f"{name}.onnx {size / 1e6:.1f} MB (largest difference to PyTorch "
                      f"{result.max_abs_diff[name]:.1e})" for name, size in result.graphs.items())
    emit(args, payload, f"wrote {result.folder} ({result.precision}): {sizes}")
    return 0


def register(add) -> None:
    """Add ``export`` to the parser (``add(name, func, help)``)."""
    sp = add("export", cmd_export, "export a model to ONNX for onnxruntime (translate/live/evaluate then "
                                   "run it without PyTorch)")
    sp.add_argument("model", help="installed model name or checkpoint path")
    sp.add_argument("-o", "--output", default=None,
                    help="the folder to write (default: onnx/ beside the checkpoint, onnx-int8/ with --quantize)")
    sp.add_argument("--quantize", choices=("int8",), default=None,
                    help="dynamic INT8 quantisation (smaller; check its metrics with evaluate --backend onnx)")
    sp.add_argument("--json", action="store_true", help="print one JSON object: folder, precision, graphs")
