"""Text recipe: text-to-gloss and gloss-to-text :class:`~signstudio.models.seq2seq.TextTransformer` s.

One recipe serves both directions (``data.direction``); the sign language enters as a
Prompt2LangGloss tag (SignLLM, Sec. 3): in ``text2gloss`` the decoder starts from ``<gsg>``
instead of ``<s>``, in ``gloss2text`` the tag is the first source token. Loss: label-smoothed
cross-entropy. With ``train.word_dropout`` p, each source token of a training batch is replaced
by ``<unk>`` with probability p (source word dropout, a regulariser for low-resource NMT: Sennrich
& Zhang 2019, Sec. 3.2, after Gal & Ghahramani 2016; the gloss2text language tag is kept). With
``data.subwords`` the spoken-language side is sentencepiece pieces (:mod:`signstudio.runtime.subwords`),
scored after joining them back into words. With ``data.back_translation`` (text2gloss only) a
gloss2text model translates every training gloss sequence back into text (greedy), and these
synthetic pairs join the real ones, their source starting with ``<bt>`` (tagged back-translation:
Sennrich et al. 2016; Caswell et al. 2019).
Batches: length-bucketed (shuffled buckets of 20 batches sorted by source length).
Dev: greedy BLEU-4 selects the checkpoint. After the last epoch, with ``train.average_last`` N > 1,
the weights of the last N dev evaluations are averaged (checkpoint averaging, Vaswani et al. 2017,
Sec. 6.1) and replace the best checkpoint if their greedy dev BLEU-4 is higher; then the beam
search is tuned on dev (beam ``train.beam_size``; the GNMT length penalty, and n-gram blocking
``train.no_repeat_ngram`` against none) and stored with the model; if no beam setting beats greedy
search on dev, the model keeps greedy search. The averaged snapshots live in memory: after a
resume, only evaluations since the resume count, and a resume after the last epoch keeps the
weights (averaged or not) that the first finish chose.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from signstudio.data.phoenix import PHOENIX_LANGUAGE
from signstudio.data.vocabulary import Vocabulary
from signstudio.errors import ConfigError
from signstudio.models.registry import count_parameters
from signstudio.runtime.checkpoint import DecodingOptions, load_model, save_model
from signstudio.runtime.subwords import Subwords
from signstudio.runtime.text import (DIRECTIONS, TEXT_DATASETS, Pair, batch_pairs, language_tag, load_sentence_model,
                                     load_text_splits, score, translate_tokens)
from signstudio.tasks import TaskHandle, check_cancelled
from signstudio.training.config import DataConfig, TrainConfig
from signstudio.training.recipe import Evaluation, Recipe, StepLoss, smoothed_nll


#: GNMT length penalties tried on dev after training (with ``train.length_penalty``). PHOENIX-2014-T
#: text-to-gloss outputs run short (greedy: 0.91 of the dev reference length), so the grid goes
#: past the usual 0.6-1.0.
LENGTH_PENALTIES = (0.0, 0.6, 1.0, 1.5, 2.0, 3.0)


@dataclass
class TextData(DataConfig):
    """``data:`` of a text-to-gloss or gloss-to-text config."""

    dataset: str = "phoenix14t"  # one of signstudio.runtime.text.TEXT_DATASETS
    direction: str = "text2gloss"  # "text2gloss" or "gloss2text"
    language: str = ""  # sign language code of the glosses (the Prompt2LangGloss tag), e.g. "gsg"
    path: str = ""  # a folder of annotation files that replaces the dataset's location
    markers: bool = True  # keep annotation markers (__ON__, __OFF__, __PU__...) in the glosses; false drops them
    repeats: bool = True  # keep runs of one gloss (REGEN REGEN); false merges them into one
    subwords: int = 0  # spoken-language side as about N sentencepiece unigram pieces (0: whole words)
    back_translation: str = ""  # text2gloss: a gloss2text model (name or folder) whose back-translations are added

    LIMITS = {"subwords": (0, 100_000)}
    CHOICES = {"direction": DIRECTIONS, "dataset": TEXT_DATASETS}


@dataclass
class TextTrain(TrainConfig):
    """``train:`` of a text config: the shared settings plus smoothing and the beam."""

    label_smoothing: float = 0.1  # on the cross-entropy
    beam_size: int = 4  # beam for the final dev tuning and the stored decoding options
    length_penalty: float = 1.0  # GNMT alpha (tuned on dev at the end; this value is one candidate)
    average_last: int = 1  # average the weights of the last N dev evaluations at the end (1: off)
    no_repeat_ngram: int = 0  # n-gram blocking tried against none when the search is tuned on dev (0: only none)
    word_dropout: float = 0.0  # probability that a source token reads as <unk> in a training batch

    LIMITS = {**TrainConfig.LIMITS, "label_smoothing": (0.0, 0.99), "beam_size": (1, 64),
              "length_penalty": (0.0, None), "average_last": (1, 100),
              "no_repeat_ngram": (0, 10), "word_dropout": (0.0, 0.9)}


def text_vocabularies(train: list[Pair], direction: str, tag: str) -> tuple[Vocabulary, Vocabulary]:
    """Source and target vocabularies of the training pairs; a text2gloss target starts with ``tag``."""
    src = Vocabulary.build(p.source for p in train)
    tgt_tokens = Vocabulary.build(p.target for p in train).itos[4:]
    tgt = Vocabulary(([tag] if direction == "text2gloss" else []) + tgt_tokens)
    return src, tgt


class TextRecipe(Recipe):
    """Training of text-to-gloss and gloss-to-text transformers (see the module)."""

    data_config = TextData
    train_config = TextTrain
    metric = "dev_bleu4"
    lower_is_better = False
    metric_label = "dev BLEU-4"
    betas = (0.9, 0.98)
    unit = "sentences"

    def prepare(self, task: TaskHandle):
        d = self.cfg.data
        splits = load_text_splits(d.dataset, d.direction, d.language, d.path, d.markers, d.repeats)
        self.train_set, self.dev_set = splits["train"], splits["dev"]
        synthetic = back_translate(d.back_translation, self.train_set, d, task) if d.back_translation else []
        self.subwords = None
        if d.subwords:
            text_side = "source" if d.direction == "text2gloss" else "target"
            self.subwords = Subwords.train((getattr(p, text_side) for p in self.train_set), d.subwords)
            self.train_set, synthetic = ([replace(p, **{text_side: self.subwords.encode(getattr(p, text_side))})
                                          for p in pairs] for pairs in (self.train_set, synthetic))
        self.train_set += [replace(p, source=[BT_TAG] + p.source) for p in synthetic]
        self.train_size = len(self.train_set)
        self.language = d.language or PHOENIX_LANGUAGE
        tag = language_tag(self.language)
        self.src_vocab, self.tgt_vocab = text_vocabularies(self.train_set, d.direction, tag)
        self.bos = self.tgt_vocab.stoi[tag] if d.direction == "text2gloss" else Vocabulary.bos_index
        self.kept = self.src_vocab.stoi.get(BT_TAG, Vocabulary.eos_index)  # a tag word dropout never hides
        src_key, tgt_key = ("text", "gloss") if d.direction == "text2gloss" else ("gloss", "text")
        self.features = {"kind": "tokens", "direction": d.direction, "language": self.language,
                         "source": src_key, "target": tgt_key, "bos": self.tgt_vocab.itos[self.bos]}
        if self.subwords:
            self.features["subwords"] = self.subwords.to_text()
        self.vocabs = {f"{src_key}_vocab": self.src_vocab, f"{tgt_key}_vocab": self.tgt_vocab}
        self.snapshots: deque = deque(maxlen=self.cfg.train.average_last)
        return replace(self.cfg, model=replace(self.cfg.model, src_vocab_size=len(self.src_vocab),
                                               tgt_vocab_size=len(self.tgt_vocab)))

    def batches(self, epoch: int, rng: np.random.Generator) -> list[Any]:
        # Length-bucketed batches (shuffled buckets of similar source length) waste less padding.
        bs = self.cfg.train.batch_size
        order = rng.permutation(self.train_size)
        batches = []
        for i in range(0, len(order), bs * 20):
            chunk = sorted(order[i : i + bs * 20], key=lambda j: len(self.train_set[j].source))
            batches += [chunk[k : k + bs] for k in range(0, len(chunk), bs)]
        rng.shuffle(batches)
        return batches

    def loss(self, net: torch.nn.Module, batch: Any, rng: np.random.Generator) -> StepLoss:
        src, lengths, tin, tout = (t.to(self.device) for t in
                                   batch_pairs([self.train_set[i] for i in batch], self.src_vocab, self.tgt_vocab,
                                               self.bos))
        src = self.drop_words(src, rng)
        loss = smoothed_nll(net(src, lengths, tin), tout, self.cfg.train.label_smoothing)
        return StepLoss(loss, {"loss": loss.item()})

    def drop_words(self, src: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        """``src`` (B, S) token ids with each real token (not padding, not the gloss2text language
        tag at position 0, not ``<bt>``) replaced by ``<unk>`` with probability ``train.word_dropout``."""
        p = self.cfg.train.word_dropout
        if p <= 0:
            return src
        drop = torch.from_numpy(rng.random(tuple(src.shape)) < p).to(src.device) & (src > Vocabulary.eos_index)
        drop &= src != self.kept
        if self.cfg.data.direction == "gloss2text":
            drop[:, 0] = False
        return src.masked_fill(drop, Vocabulary.unk_index)

    def _dev(self, model, beam_size: int = 1, alpha: float = 1.0, block: int = 0) -> dict[str, float]:
        pieces = self.subwords and self.cfg.data.direction == "text2gloss"
        sources = [self.subwords.encode(p.source) if pieces else p.source for p in self.dev_set]
        hyps = translate_tokens(model, sources, self.src_vocab, self.tgt_vocab, self.bos,
                                beam_size, alpha, no_repeat_ngram=block)
        if self.subwords and not pieces:
            hyps = [self.subwords.decode(h) for h in hyps]
        return score([p.target for p in self.dev_set], hyps)

    def evaluate(self, model: torch.nn.Module, epoch: int, task: TaskHandle) -> Evaluation:
        if self.cfg.train.average_last > 1:
            self.snapshots.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        dev = self._dev(model)
        return Evaluation({"dev_bleu4": dev["bleu4"], "dev_rouge_l": dev["rouge_l"]}, {"dev_greedy": dev})

    def save(self, path: Path, model: torch.nn.Module, metrics: dict[str, Any],
             decoding: DecodingOptions | None = None) -> None:
        save_model(path, name=self.cfg.name, model_type=self.cfg.model_type, model=model,
                   gloss_vocab=self.vocabs["gloss_vocab"], text_vocab=self.vocabs["text_vocab"],
                   features=self.features, metrics=metrics, config=self.cfg.to_dict(),
                   decoding=decoding or DecodingOptions(beam_size=1, length_penalty=self.cfg.train.length_penalty))

    def finish(self, model: torch.nn.Module, out_dir: Path, best: tuple, task: TaskHandle) -> dict[str, Any] | None:
        tc = self.cfg.train
        loaded = load_model(out_dir / "model.pt")
        model.load_state_dict(loaded.model.state_dict())
        dev_greedy, averaged, averaged_dev = best[2]["dev_greedy"], 0, None
        if not self.snapshots and "averaged" in loaded.metrics:
            # resumed after the end: model.pt already holds the weights the first finish chose (averaged or not)
            m = loaded.metrics
            dev_greedy, averaged, averaged_dev = m["dev_greedy"], m["averaged"], m["dev_greedy_averaged_bleu4"]
        elif len(self.snapshots) > 1:
            check_cancelled(task)
            task.set_status(f"averaging the last {len(self.snapshots)} evaluations' weights")
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
            model.load_state_dict(average_weights(list(self.snapshots)))
            dev = self._dev(model)
            averaged_dev = dev["bleu4"]
            if dev["bleu4"] > dev_greedy["bleu4"]:
                dev_greedy, averaged = dev, len(self.snapshots)
            else:
                model.load_state_dict(best_state)
        tuned = (-1.0, (tc.length_penalty, tc.no_repeat_ngram), {})
        for block in sorted({0, tc.no_repeat_ngram}):
            for alpha in sorted({*LENGTH_PENALTIES, tc.length_penalty}):
                check_cancelled(task)
                task.set_status(f"tuning the search on dev: length penalty {alpha}, n-gram blocking {block}")
                dev = self._dev(model, tc.beam_size, alpha, block)
                if dev["bleu4"] > tuned[0]:
                    tuned = (dev["bleu4"], (alpha, block), dev)
        beam = tc.beam_size
        if dev_greedy["bleu4"] > tuned[0]:  # no beam setting beats greedy on dev: the model decodes greedily
            tuned, beam = (dev_greedy["bleu4"], (tc.length_penalty, 0), dev_greedy), 1
        metrics = {"dev": tuned[2], "dev_greedy": dev_greedy, "epoch": best[1], "averaged": averaged,
                   "dev_greedy_averaged_bleu4": averaged_dev, "parameters": count_parameters(model)}
        decoding = DecodingOptions(beam_size=beam, length_penalty=tuned[1][0], no_repeat_ngram=tuned[1][1])
        self.save(out_dir / "model.pt", model, metrics, decoding)
        return metrics


#: First source token of a back-translated text2gloss pair (tagged back-translation, Caswell et al.
#: 2019): the model learns which sources are synthetic; real input never starts with it.
BT_TAG = "<bt>"


def back_translate(model: str, pairs: list[Pair], data: TextData, task: TaskHandle,
                   batch: int = 256) -> list[Pair]:
    """Synthetic text2gloss pairs (back-translation, Sennrich et al. 2016): each pair's glosses
    with the text that gloss2text ``model`` writes for them (greedy search; deterministic, so a
    resumed run gets the same pairs). Empty outputs are dropped; the ``<bt>`` tag is added later.

    Raises:
        ConfigError: a gloss2text run, or a model of another sign language.
        ModelError: ``model`` is unknown or does not translate glosses to text.
    """
    if data.direction != "text2gloss":
        raise ConfigError("data.back_translation adds synthetic sources to text2gloss; this run is gloss2text")
    translator = load_sentence_model(model)
    if data.language and translator.language != data.language:
        raise ConfigError(f"data.back_translation: {translator.name} writes {translator.language} glosses "
                          f"as text, this run learns {data.language}")
    out: list[Pair] = []
    for i in range(0, len(pairs), batch):
        check_cancelled(task)
        task.set_status(f"back-translating the training glosses with {translator.name}: {i}/{len(pairs)}")
        chunk = pairs[i : i + batch]
        texts = translator.translate([p.target for p in chunk], beam_size=1)
        out += [Pair(f"{p.id}/bt", text, p.target) for p, text in zip(chunk, texts) if text]
    return out


def average_weights(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of state dicts with the same keys and shapes (integer buffers are
    taken from the last)."""
    out = {}
    for key, last in states[-1].items():
        out[key] = (torch.stack([s[key] for s in states]).mean(0) if last.is_floating_point() else last.clone())
    return out
