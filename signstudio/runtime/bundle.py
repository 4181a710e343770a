"""What running a model needs, whichever backend runs it (no PyTorch here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from signstudio.data.vocabulary import Vocabulary
from signstudio.decoding import DecodingOptions


@dataclass
class ModelBundle:
    """A model with what it needs to run: :class:`~signstudio.runtime.checkpoint.LoadedModel`
    (a PyTorch checkpoint) is one; an ONNX export's graphs in ``model`` with its sidecar's
    vocabularies and decoding options is another (:func:`signstudio.runtime.sign2text.runnable`).

    Attributes:
        model: the network (an ``nn.Module``, or an export's graphs with the same methods).
        features: what the model reads, e.g. ``{"kind": "hand_nose_tracks", "fps": 30.0,
            "num_features": 12}`` or ``{"kind": "tokens", "direction": "text2gloss", ...}``.
        config: the experiment config it was trained with (``ExperimentConfig.to_dict()``).
        decoding: the tuned :class:`DecodingOptions`.
        gloss_lm: a :class:`signstudio.lm.GlossLM` if the model decodes CTC with a gloss LM.
    """

    name: str
    model_type: str
    model: Any
    gloss_vocab: Vocabulary | None
    text_vocab: Vocabulary | None
    features: dict[str, Any]
    metrics: dict[str, Any]
    config: dict[str, Any]
    path: Path
    decoding: DecodingOptions = field(default_factory=DecodingOptions)
    gloss_lm: Any = None
