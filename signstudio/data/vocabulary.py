"""Token vocabularies for glosses and spoken-language words."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
SPECIALS = (PAD, UNK, BOS, EOS)


class Vocabulary:
    """A token <-> index map with the specials ``<pad>=0, <unk>=1, <s>=2, </s>=3``.

    Index 0 (``<pad>``) doubles as the CTC blank: padding is never a target, so the two never meet.
    """

    def __init__(self, tokens: Sequence[str]) -> None:
        self.itos: list[str] = list(SPECIALS) + [t for t in tokens if t not in SPECIALS]
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("duplicate tokens in vocabulary")

    pad_index, unk_index, bos_index, eos_index = 0, 1, 2, 3

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], min_freq: int = 1) -> Vocabulary:
        """A vocabulary of every token seen at least ``min_freq`` times, most frequent first."""
        counts = Counter(t for s in sentences for t in s)
        tokens = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        return cls(tokens)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Token indices (unknown tokens map to ``<unk>``), without ``<s>``/``</s>``."""
        return [self.stoi.get(t, self.unk_index) for t in tokens]

    def decode(self, indices: Iterable[int]) -> list[str]:
        """Tokens for ``indices``, stopping at ``</s>`` and skipping the other specials."""
        out = []
        for i in indices:
            i = int(i)
            if i == self.eos_index:
                break
            if i >= len(SPECIALS):
                out.append(self.itos[i])
        return out

    def to_list(self) -> list[str]:
        """The tokens in index order, for checkpoints."""
        return list(self.itos)

    @classmethod
    def from_list(cls, itos: Sequence[str]) -> Vocabulary:
        """Rebuild from :meth:`to_list` output.

        Raises:
            ValueError: the list does not start with the specials.
        """
        if tuple(itos[: len(SPECIALS)]) != SPECIALS:
            raise ValueError("vocabulary does not start with the special tokens")
        return cls(list(itos[len(SPECIALS):]))
