"""Exporting trained models for edge inference: ONNX graphs and their sidecar
(:mod:`signstudio.export.onnx`), read back without PyTorch by :mod:`signstudio.runtime.onnx`."""
