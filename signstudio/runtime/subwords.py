"""Subword units for the spoken-language side of a text model: a sentencepiece unigram model
(Kudo 2018) trained on the training sentences and stored inside the checkpoint.

German compounds (``wintereinbruch``, ``nordirland``) become pieces the model has seen
(``▁winter ein bru ch``), so an unseen compound is not one ``<unk>``. Glosses stay whole words.
The model is trained in memory (no files, no downloads) and travels base64-encoded in the
checkpoint's feature spec (``features["subwords"]``), so PyTorch and ONNX runs read it alike.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Sequence

from signstudio.errors import ConfigError, ModelError


class Subwords:
    """A trained sentencepiece model: words to pieces and back.

    Raises:
        ModelError: ``proto`` is not a sentencepiece model.
    """

    def __init__(self, proto: bytes) -> None:
        import sentencepiece as spm

        self.proto = proto
        self._sp = spm.SentencePieceProcessor()
        try:
            self._sp.LoadFromSerializedProto(proto)
        except (RuntimeError, OSError) as e:
            raise ModelError(f"the checkpoint's subword model cannot be read: {e}") from None

    @classmethod
    def train(cls, sentences: Iterable[Sequence[str]], size: int) -> Subwords:
        """Train a unigram model of about ``size`` pieces on tokenised sentences (one thread,
        fixed seed: the same sentences give the same model).

        Raises:
            ConfigError: ``size`` below 50 or no sentences.
        """
        import sentencepiece as spm

        lines = [" ".join(s) for s in sentences if s]
        if size < 50 or not lines:
            raise ConfigError(f"subwords needs at least 50 pieces and some sentences (got {size} pieces, "
                              f"{len(lines)} sentences)")
        out = io.BytesIO()
        spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=out, vocab_size=size,
                                       model_type="unigram", character_coverage=1.0, hard_vocab_limit=False,
                                       num_threads=1, minloglevel=2, bos_id=-1, eos_id=-1, pad_id=-1, unk_id=0)
        return cls(out.getvalue())

    def encode(self, words: Sequence[str]) -> list[str]:
        """Words ``["nordirland", "."]`` -> pieces ``["▁nord", "i", "rland", "▁."]``."""
        return self._sp.encode(" ".join(words), out_type=str) if words else []

    def decode(self, pieces: Sequence[str]) -> list[str]:
        """Pieces back to words (the inverse of :meth:`encode` for any piece sequence)."""
        return self._sp.decode(list(pieces)).split()

    def to_text(self) -> str:
        """The model as base64 text, for a checkpoint's feature spec."""
        return base64.b64encode(self.proto).decode("ascii")

    @classmethod
    def from_features(cls, features: dict) -> Subwords | None:
        """The model stored in a checkpoint's ``features["subwords"]``, or None for word-level."""
        text = features.get("subwords")
        return cls(base64.b64decode(text)) if text else None
