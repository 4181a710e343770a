"""What a production job returns: a pose sequence and which gloss is signed in which frames."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pose_format import Pose

if TYPE_CHECKING:
    from signstudio.production.langcheck import LanguageCheck
    from signstudio.runtime.reliability import Reliability

#: Where a segment's frames come from.
Source = Literal["lexicon", "fingerspelled", "model"]


@dataclass(frozen=True)
class Segment:
    """One gloss of a production: frames ``[start, end)`` of the pose (indices at the pose's fps).

    ``letters``: for a fingerspelled gloss, the alphabet keys spelled (``("b", "o", "b")``); empty
    otherwise.
    """

    gloss: str
    start: int
    end: int
    source: Source
    letters: tuple[str, ...] = ()

    def letter_at(self, frame: int) -> int | None:
        """Index into :attr:`letters` of the letter being spelled at ``frame``, or ``None``
        (not fingerspelled, or ``frame`` outside the segment).

        Approximate: the segment is split into equal parts, one per letter. The fingerspelling
        lexicon's letters are all capped at the same duration (0.8 s; measured: every letter of
        the ASL alphabet lasts 20 frames at 25 fps after the cap), so the parts are nearly right;
        the trimming at the word's start and end can shift them by a few frames.
        """
        if not self.letters or not self.start <= frame < self.end:
            return None
        return min(int((frame - self.start) * len(self.letters) / max(self.end - self.start, 1)),
                   len(self.letters) - 1)


@dataclass
class Glossing:
    """Text turned into glosses, with what the glossing knows about its own reliability.

    Attributes:
        text: the text that was glossed. language: the sign language's code, e.g. ``"gsg"``.
        items: ``(word, gloss)`` pairs to sign, in order (a model's glosses pair with themselves).
        glosser: what glossed it: a model's name or ``"rule-based glosser (simplemma lemmas)"``.
        reliability: a model glosser's out-of-vocabulary rate and confidence
            (:class:`~signstudio.runtime.reliability.Reliability`); None for the rule-based glosser.
        language_check: whether the text is in the sign language's spoken language
            (:class:`~signstudio.production.langcheck.LanguageCheck`).
        dropped: words left out because the sign language does not sign them (ASL: articles
            and the copula, :mod:`signstudio.production.asl`).
    """

    text: str
    language: str
    items: list[tuple[str, str]]
    glosser: str
    reliability: Reliability | None = None
    language_check: LanguageCheck | None = None
    dropped: list[str] = field(default_factory=list)

    @property
    def glosses(self) -> list[str]:
        """The glosses to sign, in order."""
        return [g for _, g in self.items]

    @property
    def warnings(self) -> list[str]:
        """Plain-language warnings, one line each: the language first, then the model's."""
        out = [self.language_check.warning] if self.language_check and self.language_check.mismatch else []
        return out + (list(self.reliability.warnings) if self.reliability else [])

    @property
    def needs_confirmation(self) -> bool:
        """True when the user should choose to go on: the text is not in the expected language,
        or it is outside what the glossing model knows."""
        return bool((self.language_check and self.language_check.mismatch)
                    or (self.reliability and not self.reliability.in_domain))

    def summary(self) -> str:
        """One line: who glossed it and, for a model, its OOV rate and confidence."""
        line = f"glossed by {self.reliability.summary() if self.reliability else self.glosser}"
        if self.dropped:
            line += f"; not signed in ASL: {', '.join(self.dropped)}"
        return line

    def to_json(self) -> dict[str, Any]:
        """``{"glosser", "glosses", "dropped", "reliability", "language_check", "needs_confirmation",
        "warnings"}``."""
        return {"glosser": self.glosser, "glosses": self.glosses, "dropped": list(self.dropped),
                "reliability": self.reliability.to_json() if self.reliability else None,
                "language_check": self.language_check.to_json() if self.language_check else None,
                "needs_confirmation": self.needs_confirmation, "warnings": self.warnings}


@dataclass
class Production:
    """A produced sign sequence.

    Attributes:
        pose: a pose-format ``Pose``; ``pose.body.data`` is ``(T, 1, J, 3)`` (one person).
        glosses: the glosses that were signed, in order.
        segments: one :class:`Segment` per gloss (lexicon/fingerspelled/model), in frame order.
        language: the sign language's code (see :mod:`signstudio.languages`), e.g. ``"ase"``.
        notes: human-readable remarks (e.g. "FOO was fingerspelled"), shown by the CLI and GUI.
        glossing: how the text was glossed and how reliable that is (:class:`Glossing`); None
            when the glosses were given.
    """

    pose: Pose
    glosses: list[str]
    segments: list[Segment]
    language: str
    notes: list[str] = field(default_factory=list)
    glossing: Glossing | None = None

    @property
    def warnings(self) -> list[str]:
        """The glossing's warnings (:attr:`Glossing.warnings`); empty for given glosses."""
        return self.glossing.warnings if self.glossing else []

    @property
    def fps(self) -> float:
        """Frames per second of the pose."""
        return float(self.pose.body.fps)

    @property
    def frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.pose.body.data.shape[0])

    def segment_at(self, frame: int) -> int | None:
        """Index of the segment that contains ``frame``, or ``None`` (a transition)."""
        for i, s in enumerate(self.segments):
            if s.start <= frame < s.end:
                return i
        return None

    def to_json(self) -> dict[str, Any]:
        """The ``signstudio produce --json`` object:
        ``{"glosses", "frames", "fps", "segments": [{"gloss", "start", "end", "source", "letters"}],
        "warnings", "notes"}`` (``letters``: the fingerspelled letters, ``[]`` for a recorded sign;
        ``notes``: how it was made, e.g. which model and backend) and, for
        glossed text, ``"glossing"`` (:meth:`Glossing.to_json`: reliability, language check)."""
        out = {
            "glosses": list(self.glosses),
            "frames": self.frames,
            "fps": self.fps,
            "segments": [{**asdict(s), "letters": list(s.letters)} for s in self.segments],
            "warnings": self.warnings,
            "notes": list(self.notes),
        }
        if self.glossing is not None:
            out["glossing"] = self.glossing.to_json()
        return out
