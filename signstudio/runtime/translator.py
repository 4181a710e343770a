"""Sign-to-text at run time, whichever backend runs the model: :class:`Translation` (the
result), :func:`load_translator`, :func:`translator_for` and :func:`translate_file`.

This module imports neither PyTorch nor the training code: a landmark recogniser exported to ONNX
(:mod:`signstudio.runtime.onnx`) translates a file with onnxruntime alone. The PyTorch
encoder-decoder path (:mod:`signstudio.runtime.sign2text`) is imported only for such a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from signstudio.runtime.clip import read_clip
from signstudio.runtime.installed import load_installed
from signstudio.tasks import NullTask, TaskHandle


@dataclass
class Translation:
    """The result of translating one clip.

    Attributes:
        text: the translation (words joined by spaces; for a gloss-only corpus such as BOSTON-104
            the words are glosses).
        glosses: the recognised gloss sequence, empty if the model recognises none.
        model: the model's name.
        frames: frames in the input pose.
        seconds: wall time in seconds: ``{"pose": extraction (0 for a .pose input), "model": ...}``.
        segments: for a recogniser, each sign as ``{"gloss", "start", "end", "confidence",
            "alternatives"}`` (frame indices of the input; ``gloss`` None when unsure).
        note: why nothing (or less) is shown, e.g. "no hand is visible in the clip"; "" otherwise.
        decoding: how the output was read, in words, e.g. "whole clip at once; glosses by CTC
            prefix beam search (beam 10) with the gloss LM (weight 0.5)" or "streaming CTC, ...":
            two views of one model that decode differently say so.
    """

    text: str
    glosses: list[str]
    model: str
    frames: int
    seconds: dict[str, float] = field(default_factory=dict)
    segments: list[dict] = field(default_factory=list)
    note: str = ""
    decoding: str = ""



def translator_for(loaded):
    """The runtime of a loaded sign-to-text model: a :class:`~signstudio.runtime.recognize.Recognizer`
    for a landmark recogniser (PyTorch or its ONNX export), a
    :class:`~signstudio.runtime.video.VideoTranslator` for a model that reads video frames
    (``translate_video``), else a :class:`~signstudio.runtime.sign2text.Translator`
    (``translate_pose``).

    Raises:
        ModelError: features this version cannot compute.
    """
    from signstudio.runtime.recognize import FEATURE_KIND, Recognizer
    from signstudio.runtime.video import FEATURE_KIND as VIDEO_KIND

    if loaded.features.get("kind") == FEATURE_KIND:
        return Recognizer(loaded)
    if loaded.features.get("kind") == VIDEO_KIND:
        from signstudio.runtime.video import VideoTranslator

        return VideoTranslator(loaded)
    from signstudio.runtime.spamo import FEATURE_KIND as SPAMO_KIND

    if loaded.features.get("kind") == SPAMO_KIND:
        from signstudio.runtime.spamo import SpaMoTranslator

        return SpaMoTranslator(loaded)
    from signstudio.runtime.sign2text import Translator

    return Translator(loaded)


def load_translator(name_or_path: str | Path | None = None, backend: str = "torch",
                    notes: list[str] | None = None):
    """Load a sign-to-text model by name or checkpoint path (None: the default model), ready to
    translate (:func:`translator_for`); ``backend`` and ``notes`` as in
    :func:`~signstudio.runtime.installed.load_installed`.

    Raises:
        ModelError: unknown name, unreadable checkpoint, another kind of model, unsupported
            features, or (``backend="onnx"``) no up-to-date export.
    """
    return translator_for(load_installed(name_or_path, "sign-to-text", backend, notes))


def translate_file(path: str | Path, translator, task: TaskHandle | None = None,
                   emit_frames: bool = False) -> Translation:
    """Translate a video (MediaPipe Holistic first) or a `.pose` file.

    Args:
        emit_frames: pass video frames with landmarks to ``task.partial`` (for the GUI overlay).

    Raises:
        InputError: missing or unreadable file, zero frames, unsupported suffix;
        NoSignerError: nobody in the video; Cancelled: the task was cancelled.
    """
    from signstudio.capture.holistic import BODY_AND_HANDS

    if getattr(translator, "reads_video", False):  # a model of video frames, not landmarks
        from signstudio.errors import InputError
        from signstudio.files import check_input_file

        path = check_input_file(path)
        if Path(path).suffix.lower() == ".pose":
            raise InputError(f"{path}: {translator.name} reads video frames, not landmarks; give it the video")
        return translator.translate_video(path, task)
    # A video keeps only what a model reads (body and hands); the window's overlay keeps the face.
    clip = read_clip(path, task or NullTask(), emit_frames=emit_frames,
                     components=None if emit_frames else BODY_AND_HANDS)
    result = translator.translate_pose(clip.pose)
    result.seconds["pose"] = clip.seconds
    return result
