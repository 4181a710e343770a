"""Text-to-gloss and gloss-to-text at run time: a :class:`~signstudio.models.seq2seq.TextTransformer`
checkpoint turns token sequences into token sequences.

One model class serves both directions (the checkpoint's ``features["direction"]``). The sign
language enters as a Prompt2LangGloss tag (SignLLM, Sec. 3): in ``text2gloss`` the decoder starts
from ``<gsg>`` instead of ``<s>``; in ``gloss2text`` the tag is the first source token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from signstudio.data.phoenix import PHOENIX_LANGUAGE, TextGlossPair, load_phoenix_annotations
from signstudio.data.vocabulary import Vocabulary
from signstudio.decoding import beam_search, greedy_decode, sequence_log_probs
from signstudio.errors import ConfigError, InputError, ModelError
from signstudio.metrics import bleu, bleu_slt, rouge_l
from signstudio.runtime.installed import load_installed
from signstudio.runtime.reliability import Reliability, assess, output_confidence
from signstudio.runtime.subwords import Subwords

DIRECTIONS = ("text2gloss", "gloss2text")
TEXT_DATASETS = ("phoenix14t",)
#: Longest input accepted at inference, in tokens (longer input gets a clear error, not a crash).
MAX_INPUT_TOKENS = 120
SPLITS = ("train", "dev", "test")


def language_tag(language: str) -> str:
    """The Prompt2LangGloss attribute token of a sign language code, e.g. ``"<gsg>"``."""
    return f"<{language}>"


def tokenize(text: str) -> list[str]:
    """Lowercase and split into words and punctuation, like the PHOENIX-2014-T text files."""
    return re.findall(r"\w+(?:-\w+)*|[^\w\s]", text.lower())


@dataclass(frozen=True)
class Pair:
    """A source/target token pair of one direction."""

    id: str
    source: list[str]
    target: list[str]


#: An annotation marker among PHOENIX-2014-T's train glosses, not a sign: ``__ON__``, ``__OFF__``,
#: ``__PU__``, ``__HOLD__``, ``__EMP__``, ``__LEFTHAND__``, ``__??REGEN__``... (about 7,600 in
#: train; none in dev or test).
MARKER = re.compile(r"^__.*__$")


def clean_glosses(glosses: Sequence[str], markers: bool = True, repeats: bool = True) -> list[str]:
    """``glosses`` without annotation markers (:data:`MARKER`) unless ``markers``, and with runs
    of the same gloss merged into one (``REGEN REGEN`` -> ``REGEN``) unless ``repeats``."""
    out = [g for g in glosses if markers or not MARKER.match(g)]
    return out if repeats else [g for i, g in enumerate(out) if i == 0 or g != out[i - 1]]


def load_text_splits(dataset: str, direction: str, language: str = "", path: str = "",
                     markers: bool = True, repeats: bool = True) -> dict[str, list[Pair]]:
    """``{"train", "dev", "test"}`` token pairs of a text dataset in one direction.

    Args:
        dataset: one of :data:`TEXT_DATASETS`. direction: one of :data:`DIRECTIONS`.
        language: sign language code of the glosses (default: the dataset's own, ``gsg``).
        path: a folder of annotation files that replaces the dataset's location.
        markers: keep annotation markers (:data:`MARKER`) in the train glosses; False drops
            them (PHOENIX-2014-T's train glosses hold about 7,600, its dev and test glosses none).
        repeats: keep runs of the same gloss in the train glosses; False merges them
            (PHOENIX-2014-T's train glosses repeat a gloss in 2,849 of 7,096 sentences, e.g.
            ``REGEN REGEN``; dev in 1 of 519, test in 4 of 642). Dev and test always stay as
            distributed: they are the references scores are measured against.

    Raises:
        ConfigError: unknown dataset or direction. InputError: missing files.
    """
    if direction not in DIRECTIONS:
        raise ConfigError(f"unknown data.direction {direction!r}; known: {', '.join(DIRECTIONS)}")
    if dataset not in TEXT_DATASETS:
        raise ConfigError(f"unknown dataset {dataset!r} for a text model; known: {', '.join(TEXT_DATASETS)}")
    tag = language_tag(language or PHOENIX_LANGUAGE)

    def pairs(split: str) -> list[Pair]:
        rows: list[TextGlossPair] = load_phoenix_annotations(split, path or None)
        if split == "train" and not (markers and repeats):
            rows = [replace(r, glosses=clean_glosses(r.glosses, markers, repeats)) for r in rows]
        if direction == "text2gloss":
            return [Pair(r.id, r.text, r.glosses) for r in rows]
        return [Pair(r.id, [tag] + r.glosses, r.text) for r in rows]

    return {s: pairs(s) for s in SPLITS}


def batch_pairs(pairs: Sequence[Pair], src_vocab: Vocabulary, tgt_vocab: Vocabulary, bos: int):
    """Pad a batch of pairs.

    Returns:
        ``(source (B, S), source lengths (B,), decoder input (B, U), decoder target (B, U))``
        token ids, 0-padded; the decoder input starts with ``bos``, the target ends with ``</s>``.
    """
    import torch

    src = [src_vocab.encode(p.source) for p in pairs]
    tgt = [tgt_vocab.encode(p.target) for p in pairs]
    s_len = max(len(s) for s in src)
    u_len = max(len(t) for t in tgt) + 1
    src_t = torch.zeros(len(pairs), s_len, dtype=torch.long)
    tin = torch.zeros(len(pairs), u_len, dtype=torch.long)
    tout = torch.zeros(len(pairs), u_len, dtype=torch.long)
    for i, (s, t) in enumerate(zip(src, tgt)):
        src_t[i, : len(s)] = torch.tensor(s)
        tin[i, : len(t) + 1] = torch.tensor([bos] + t)
        tout[i, : len(t) + 1] = torch.tensor(t + [Vocabulary.eos_index])
    lengths = torch.tensor([len(s) for s in src])
    return src_t, lengths, tin, tout


def encode_sources(sources: Sequence[Sequence[str]], vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
    """``(B, S)`` int64 token ids, 0-padded, and ``(B,)`` lengths of token lists (an empty one
    reads as ``<unk>``)."""
    ids = [vocab.encode(list(s) or ["<unk>"]) for s in sources]
    lengths = np.array([len(i) for i in ids], dtype=np.int64)
    out = np.zeros((len(ids), int(lengths.max())), dtype=np.int64)
    for row, i in zip(out, ids):
        row[: len(i)] = i
    return out, lengths


def translate_tokens(model, sources: Sequence[Sequence[str]], src_vocab: Vocabulary, tgt_vocab: Vocabulary,
                     bos: int, beam_size: int = 1, alpha: float = 1.0, batch_size: int = 64,
                     no_repeat_ngram: int = 0) -> list[list[str]]:
    """Decode token sequences: greedy (batched) when ``beam_size == 1``, else beam search
    (``no_repeat_ngram``: n-gram blocking, :func:`signstudio.decoding.repeated_ngram_tokens`).

    Args:
        model: a :class:`~signstudio.models.seq2seq.TextTransformer` (its decoder recomputes the
            whole prefix at each step, the reference) or a network of
            :func:`~signstudio.runtime.nets.text_net` (an ONNX export: a key/value cache).

    Returns one list of target tokens per source (specials removed).
    """
    from signstudio.runtime.nets import text_net

    net = text_net(model)
    out: list[list[str]] = []
    for i in range(0, len(sources), batch_size):
        src, lengths = encode_sources(sources[i : i + batch_size], src_vocab)
        decoder = net.decoder(net.encode(src, lengths))
        max_len = output_limit(net.max_output_length, int(lengths.max()))
        if beam_size <= 1:
            ids = greedy_decode(decoder, len(src), max_len, bos=bos, no_repeat_ngram=no_repeat_ngram)
        else:
            ids = beam_search(decoder, len(src), max_len, beam_size, alpha, bos=bos, no_repeat_ngram=no_repeat_ngram)
        out.extend(tgt_vocab.decode(row) for row in ids)
    return out


def output_limit(max_output_length: int, source_length: int) -> int:
    """Most tokens decoded for a source of ``source_length`` tokens: twice it plus ten, at most
    the model's ``max_output_length``."""
    return min(max_output_length, source_length * 2 + 10)


def score(references: Sequence[Sequence[str]], hypotheses: Sequence[Sequence[str]]) -> dict[str, float]:
    """BLEU-1..4 and chrF (sacrebleu) and ROUGE-L (rouge-score), all 0-100, on lowercased tokens;
    and ``bleu4_slt``, BLEU-4 as slt computes it (:func:`signstudio.metrics.bleu_slt`)."""
    refs = [" ".join(r) for r in references]
    hyps = [" ".join(h) for h in hypotheses]
    return {**bleu(refs, hyps), "rouge_l": rouge_l(refs, hyps), "bleu4_slt": bleu_slt(refs, hyps)}


@dataclass
class CheckedOutput:
    """One sentence's output and how far the model trusts it.

    Attributes:
        tokens: the output tokens (glosses for text2gloss, words for gloss2text), specials removed.
        reliability: the model's out-of-vocabulary rate and confidence for this input
            (:class:`~signstudio.runtime.reliability.Reliability`).
    """

    tokens: list[str]
    reliability: Reliability


class TextTranslator:
    """A loaded text-to-gloss or gloss-to-text model ready to translate (beam search).

    Raises:
        ModelError: the checkpoint is not a text transformer.
    """

    def __init__(self, loaded) -> None:
        if loaded.model_type != "text-transformer":
            raise ModelError(f"{loaded.name} is a {loaded.model_type} model, not a text/gloss translator")
        from signstudio.runtime.nets import text_net

        f = loaded.features
        self.loaded = loaded
        self.backend = getattr(loaded, "backend", "torch")
        self.net = text_net(loaded)
        self.direction: str = f["direction"]
        self.language: str = f["language"]
        self.src_vocab = self.net.text_vocab if f["source"] == "text" else self.net.gloss_vocab
        self.tgt_vocab = self.net.gloss_vocab if f["target"] == "gloss" else self.net.text_vocab
        self.bos = self.tgt_vocab.stoi[f["bos"]]
        self.decoding = self.net.decoding
        self.subwords = Subwords.from_features(f)

    @property
    def name(self) -> str:
        """The model's name."""
        return self.loaded.name

    def source_tokens(self, tokens: Sequence[str]) -> list[str]:
        """``tokens`` as the encoder reads them (gloss2text: the language tag first; text2gloss
        with subwords: sentencepiece pieces)."""
        tokens = [str(t) for t in tokens]
        if self.direction == "gloss2text":
            tag = language_tag(self.language)
            return tokens if tokens[:1] == [tag] else [tag] + tokens
        return self.subwords.encode(tokens) if self.subwords else tokens

    def output_tokens(self, tokens: list[str]) -> list[str]:
        """Decoder tokens as words (gloss2text with subwords: pieces joined into words)."""
        return self.subwords.decode(tokens) if self.subwords and self.direction == "gloss2text" else tokens

    def split(self, text: str) -> list[str]:
        """One sentence as tokens: words for text2gloss (:func:`tokenize`), glosses for gloss2text."""
        return tokenize(text) if self.direction == "text2gloss" else text.split()

    def translate(self, sources: Sequence[Sequence[str]], beam_size: int | None = None) -> list[list[str]]:
        """Translate token lists (words for text2gloss, glosses for gloss2text) to token lists."""
        sources = [self.source_tokens(s) for s in sources]
        out = translate_tokens(self.net, sources, self.src_vocab, self.tgt_vocab, self.bos,
                               beam_size or self.decoding.beam_size, self.decoding.length_penalty,
                               no_repeat_ngram=self.decoding.no_repeat_ngram)
        return [self.output_tokens(o) for o in out]

    def translate_text(self, text: str) -> list[str]:
        """One sentence of raw text (text2gloss) or space-separated glosses (gloss2text).

        Raises:
            InputError: empty or over-long input (more than ``MAX_INPUT_TOKENS`` tokens).
        """
        return self.translate_checked(text).tokens

    @property
    def dataset(self) -> str:
        """The corpus the model was trained on (its stored ``data.dataset``), e.g. ``"phoenix14t"``."""
        return str(((self.loaded.config or {}).get("data") or {}).get("dataset", ""))

    def translate_checked(self, text: str) -> CheckedOutput:
        """Translate one sentence as :meth:`translate_text` does (the same search, the same
        output) and say how reliable the output is: the source's out-of-vocabulary rate and the
        confidence of the chosen output (see :mod:`signstudio.runtime.reliability`).

        Raises:
            InputError: empty or over-long input (more than ``MAX_INPUT_TOKENS`` tokens).
        """
        tokens = self.split(text)
        if not tokens:
            raise InputError("nothing to translate: the text is empty")
        if len(tokens) > MAX_INPUT_TOKENS:
            raise InputError(f"too long: {len(tokens)} tokens (the limit is {MAX_INPUT_TOKENS}); "
                             "split the text into sentences")
        source = self.source_tokens(tokens)
        decoder = self.net.decoder(self.net.encode(*encode_sources([source], self.src_vocab)))
        max_len = output_limit(self.net.max_output_length, len(source))
        beam, block = self.decoding.beam_size, self.decoding.no_repeat_ngram
        if beam <= 1:
            ids = greedy_decode(decoder, 1, max_len, bos=self.bos, no_repeat_ngram=block)[0]
        else:
            ids = beam_search(decoder, 1, max_len, beam, self.decoding.length_penalty, bos=self.bos,
                              no_repeat_ngram=block)[0]
        confidence = output_confidence(sequence_log_probs(decoder, 0, ids, bos=self.bos))
        reliability = assess(self.loaded.name, self.dataset, self.direction, source, self.src_vocab, confidence)
        return CheckedOutput(self.output_tokens(self.tgt_vocab.decode(ids)), reliability)


def load_sentence_model(name_or_path: str | Path) -> TextTranslator:
    """Load a gloss-to-text model (e.g. ``phoenix14t-gloss2text``) that turns recognised glosses
    into a spoken-language sentence.

    Raises:
        ModelError: unknown model, or one that does not translate glosses to text.
    """
    return TextTranslator(load_installed(name_or_path, "gloss-to-text"))


def glosses_to_sentence(glosses: list[str], sentence_model: TextTranslator) -> str:
    """The sentence ``sentence_model`` writes for ``glosses`` (beam search with the model's tuned
    options); ``""`` for no glosses.

    Raises:
        InputError: more glosses than :data:`MAX_INPUT_TOKENS`.
    """
    return checked_sentence(glosses, sentence_model)[0]


def checked_sentence(glosses: list[str], sentence_model: TextTranslator) -> tuple[str, Reliability | None]:
    """``(sentence, reliability)``: :func:`glosses_to_sentence` and how far the model trusts it
    (None for no glosses).

    Raises:
        InputError: more glosses than :data:`MAX_INPUT_TOKENS`.
    """
    if not glosses:
        return "", None
    out = sentence_model.translate_checked(" ".join(glosses))
    return " ".join(out.tokens), out.reliability


def model_text_splits(loaded) -> dict[str, list[Pair]]:
    """The token pairs of the dataset a text model was trained on, from its stored config.

    Raises:
        ConfigError, InputError: as :func:`load_text_splits`.
    """
    data: dict[str, Any] = (loaded.config or {}).get("data") or {}
    return load_text_splits(data.get("dataset", "phoenix14t"), loaded.features.get("direction", ""),
                            data.get("language", ""), data.get("path", ""), data.get("markers", True),
                            data.get("repeats", True))


def evaluate_text_model(loaded, split: str = "test", beam_size: int | None = None) -> dict:
    """Decode a split of the model's dataset and score it (BLEU-1..4, chrF, ROUGE-L).

    Returns ``{"model", "split", "n", "direction", "beam_size", "length_penalty", "bleu4", ...,
    "rouge_l", "bleu4_slt", "examples": [first five {"source", "reference", "output"}]}``.

    Raises:
        InputError: unknown split or missing data.
    """
    splits = model_text_splits(loaded)
    if split not in splits:
        raise InputError(f"unknown split {split!r}; known: {', '.join(splits)}")
    pairs = splits[split]
    translator = TextTranslator(loaded)
    hyps = translator.translate([p.source for p in pairs], beam_size)
    scores = score([p.target for p in pairs], hyps)
    return {"model": loaded.name, "split": split, "n": len(pairs), "direction": translator.direction,
            "beam_size": beam_size or translator.decoding.beam_size,
            "length_penalty": translator.decoding.length_penalty, **{k: round(v, 2) for k, v in scores.items()},
            "examples": [{"source": " ".join(p.source), "reference": " ".join(p.target), "output": " ".join(h)}
                         for p, h in zip(pairs[:5], hyps[:5])]}
