"""What a production job returns: a pose sequence and which gloss is signed in which frames."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pose_format import Pose

#: Where a segment's frames come from.
Source = Literal["lexicon", "fingerspelled", "model"]


@dataclass(frozen=True)
class Segment:
    """One gloss of a production: frames ``[start, end)`` of the pose (indices at the pose's fps)."""

    gloss: str
    start: int
    end: int
    source: Source


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
        ``{"glosses", "frames", "fps", "segments": [{"gloss", "start", "end", "source"}]}``."""
        return {
            "glosses": list(self.glosses),
            "frames": self.frames,
            "fps": self.fps,
            "segments": [asdict(s) for s in self.segments],
        }
