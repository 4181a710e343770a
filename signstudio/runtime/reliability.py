"""What a text model knows about its own reliability on one input: how much of the input it has
never seen, and how sure it is of what it wrote.

A text-to-gloss or gloss-to-text model (:class:`~signstudio.runtime.text.TextTranslator`) trained
on one corpus writes fluent output for *any* input: English into ``phoenix14t-text2gloss`` gives
``NORD SEE KALT``, ASL glosses into ``phoenix14t-gloss2text`` a weather forecast. Two signals tell
such input apart, both computed from the model alone:

- **out-of-vocabulary rate**: the share of the source's words (after the model's own
  tokenisation; punctuation and the language tag not counted) that are not in the model's source
  vocabulary, i.e. that the encoder reads as ``<unk>``;
- **confidence**: the geometric mean of the probabilities the model gives the tokens it chose
  (the beam's output and the closing ``</s>``), ``exp(mean log p)`` from one teacher-forced
  decoder pass over that output. 1.0 means certain; label smoothing (0.1 in our recipes) keeps
  even easy sentences below about 0.9.

**Calibration** (``benchmarks/reliability_calibration.py``, the shipped PHOENIX-2014-T models,
beam 4, measured on this machine), percentiles min / 5 / 50 / 95 / max:

- text2gloss, PHOENIX-2014-T test sentences (n=642): OOV 0 / 0 / 0 / 0.08 / 0.33,
  confidence 0.13 / 0.27 / 0.45 / 0.88 / 0.90.
- text2gloss, German sentences off the weather (self-introductions, daily life; n=20):
  OOV 0 / 0.11 / 0.39 / 0.81 / 1, confidence 0.06 / 0.06 / 0.16 / 0.33 / 0.36.
- text2gloss, English sentences (How2Sign val, first 300): OOV 0.67 / 0.85 / 1 / 1 / 1,
  confidence 0.13 / 0.13 / 0.16 / 0.20 / 0.22.
- gloss2text, PHOENIX-2014-T test glosses (n=642): OOV 0 / 0 / 0 / 0 / 0.50,
  confidence 0.26 / 0.40 / 0.63 / 0.98 / 0.99.
- gloss2text, ASL gloss sentences (RWTH-BOSTON-104, n=201): OOV 0.40 / 0.60 / 1 / 1 / 1,
  confidence 0.19 / 0.21 / 0.24 / 0.32 / 0.35.

An input is **in domain** when its OOV rate is at most :data:`MAX_OOV_RATE` (0.2) *and* its
confidence is at least :data:`MIN_CONFIDENCE` (0.2). With these thresholds 1.2 % of the
PHOENIX test sentences (8 of 642) and 0.6 % of its gloss sequences (4 of 642) are flagged, and
90 % of the non-weather German sentences, all 300 English sentences and all 201 ASL gloss
sequences are. Confidence alone overlaps (a plain German sentence can score like a hard weather
sentence); the OOV rate is the stronger signal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from signstudio.data.vocabulary import Vocabulary

#: Largest share of unknown source words for an input to count as in domain (see the module).
MAX_OOV_RATE = 0.2
#: Smallest confidence (geometric-mean token probability) for an input to count as in domain.
MIN_CONFIDENCE = 0.2
#: What each training corpus is, in words a user reads in a warning.
DOMAINS = {
    "phoenix14t": "German weather forecasts (PHOENIX-2014-T)",
}
#: Unknown words listed by name in a warning (the rest are counted).
LISTED_OOV = 6


@dataclass
class Reliability:
    """How far one model output can be trusted, from the model's own knowledge.

    Attributes:
        model: the model's name, e.g. ``"phoenix14t-text2gloss"``.
        domain: what the model was trained on, in words (``""`` if unknown).
        source_words: the source words counted (the model's tokens, punctuation and tags left out).
        oov_tokens: those of them that are not in the model's source vocabulary, in input order.
        oov_rate: ``len(oov_tokens) / len(source_words)``, 0-1 (0 for no words).
        confidence: ``exp(mean log p)`` of the chosen output tokens and ``</s>``, 0-1.
        in_domain: ``oov_rate <= MAX_OOV_RATE and confidence >= MIN_CONFIDENCE``.
        warnings: plain-language lines for the user, empty when in domain.
        unit: what the source tokens are, ``"words"`` (text2gloss) or ``"glosses"`` (gloss2text).
    """

    model: str
    domain: str
    source_words: list[str]
    oov_tokens: list[str]
    oov_rate: float
    confidence: float
    in_domain: bool
    warnings: list[str] = field(default_factory=list)
    unit: str = "words"

    def to_json(self) -> dict[str, Any]:
        """``{"model", "oov_rate", "oov_tokens", "confidence", "in_domain", "thresholds", "warnings"}``
        (rates rounded to 4 places)."""
        return {"model": self.model, "oov_rate": round(self.oov_rate, 4), "oov_tokens": list(self.oov_tokens),
                "words": len(self.source_words), "confidence": round(self.confidence, 4),
                "in_domain": self.in_domain,
                "thresholds": {"max_oov_rate": MAX_OOV_RATE, "min_confidence": MIN_CONFIDENCE},
                "warnings": list(self.warnings)}

    def summary(self) -> str:
        """One line, e.g. ``"phoenix14t-text2gloss: 0 of 5 words unknown, confidence 45%"``."""
        return (f"{self.model}: {len(self.oov_tokens)} of {len(self.source_words)} {self.unit} unknown, "
                f"confidence {self.confidence:.0%}")


def is_word(token: str) -> bool:
    """True for a token with a letter or digit (words and glosses; not punctuation, not ``<tag>``)."""
    return bool(re.search(r"\w", token)) and not (token.startswith("<") and token.endswith(">"))


def output_confidence(log_probs: Sequence[float]) -> float:
    """``exp(mean log p)`` of an output's tokens and its ``</s>``
    (:func:`signstudio.decoding.sequence_log_probs`)."""
    return float(np.exp(np.mean(np.asarray(log_probs, dtype=np.float64))))


def assess(model_name: str, dataset: str, direction: str, source: Sequence[str], vocab: Vocabulary,
           confidence: float) -> Reliability:
    """The :class:`Reliability` of one output.

    Args:
        model_name: shown in the warnings. dataset: the training corpus (a key of :data:`DOMAINS`).
        direction: ``"text2gloss"`` (the source is words) or ``"gloss2text"`` (glosses).
        source: the source tokens as the model's tokeniser made them (a language tag is ignored).
        vocab: the model's source vocabulary.
        confidence: from :func:`output_confidence`.
    """
    words = [t for t in source if is_word(t)]
    oov = [t for t in words if t not in vocab.stoi]
    rate = len(oov) / len(words) if words else 0.0
    in_domain = rate <= MAX_OOV_RATE and confidence >= MIN_CONFIDENCE
    domain = DOMAINS.get(dataset, "")
    unit = "glosses" if direction == "gloss2text" else "words"
    output = "the sentence it wrote is" if direction == "gloss2text" else "the glosses it wrote are"
    trained = f", which was trained on {domain}" if domain else ""
    warnings: list[str] = []
    if rate > MAX_OOV_RATE:
        listed = ", ".join(oov[:LISTED_OOV]) + (f" and {len(oov) - LISTED_OOV} more" if len(oov) > LISTED_OOV else "")
        verb = "is" if len(oov) == 1 else "are"
        warnings.append(f"{len(oov)} of {len(words)} {unit} {verb} unknown to {model_name}{trained}: {listed}")
    if confidence < MIN_CONFIDENCE:
        warnings.append(f"{model_name} is unsure of its output: confidence {confidence:.0%} "
                        f"(in-domain input scores {MIN_CONFIDENCE:.0%} or more)")
    if not in_domain:
        warnings.append(f"the input is outside what {model_name} knows: {output} a guess, "
                        "not a translation")
    return Reliability(model_name, domain, words, oov, rate, confidence, in_domain, warnings, unit)
