"""Interpretability: attention records of encoder-decoder models and SignAttention's analyses.

- :mod:`signstudio.interpret.record`: :class:`AttentionRecord`, made by :func:`record_attention`
  (a loaded model and its input) or :func:`record_file` (a video, `.pose` or text file and a
  model name), saved and read as ``.npz`` by :func:`save_record` / :func:`load_record`.
- :mod:`signstudio.interpret.analysis`: frame clusters, diagonal alignment and norm-based
  cross- vs self-attention contributions (SignAttention, Dal Bianco et al. 2024,
  arXiv 2410.14506), and :func:`summarize`.
- :mod:`signstudio.interpret.plot`: heatmap PNGs (Pillow) and CSV.

No Qt here: the GUI's Attention tab reads these records.
"""

import importlib

#: Where each public name lives. Imported on first use (PEP 562), so that reading a session or a
#: record's analysis (the window's Attention tab at start-up) does not load PyTorch.
_EXPORTS = {
    **dict.fromkeys(("Cluster", "Contributions", "attention_clusters", "centroid_correlation", "contributions",
                     "diagonal_score", "record_contributions", "summarize", "summarize_many"),
                    "signstudio.interpret.analysis"),
    **dict.fromkeys(("export_csv", "heatmap_png", "record_csv", "record_heatmap_png"), "signstudio.interpret.plot"),
    **dict.fromkeys(("AttentionRecord", "load_record", "record_attention", "record_file", "save_record"),
                    "signstudio.interpret.record"),
}


def __getattr__(name: str):
    """The public name ``name`` from its submodule (imported now). Raises AttributeError otherwise."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "AttentionRecord", "Cluster", "Contributions", "attention_clusters", "centroid_correlation", "contributions",
    "diagonal_score", "export_csv", "heatmap_png", "load_record", "record_attention", "record_contributions",
    "record_csv", "record_file", "record_heatmap_png", "save_record", "summarize", "summarize_many",
]
