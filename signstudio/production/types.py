"""What a production job returns: a pose sequence and which gloss is signed in which frames."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pose_format import Pose

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
class Production:
    """A produced sign sequence.

    Attributes:
        pose: a pose-format ``Pose``; ``pose.body.data`` is ``(T, 1, J, 3)`` (one person).
        glosses: the glosses that were signed, in order.
        segments: one :class:`Segment` per gloss (lexicon/fingerspelled/model), in frame order.
        language: the sign language's code (see :mod:`signstudio.languages`), e.g. ``"ase"``.
        notes: human-readable remarks (e.g. "FOO was fingerspelled"), shown by the CLI and GUI.
    """

    pose: Pose
    glosses: list[str]
    segments: list[Segment]
    language: str
    notes: list[str] = field(default_factory=list)

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
        ``{"glosses", "frames", "fps", "segments": [{"gloss", "start", "end", "source",
        "letters"}]}`` (``letters``: the fingerspelled letters, ``[]`` for a recorded sign)."""
        return {
            "glosses": list(self.glosses),
            "frames": self.frames,
            "fps": self.fps,
            "segments": [{**asdict(s), "letters": list(s.letters)} for s in self.segments],
        }
