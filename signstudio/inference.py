"""Sign-to-text inference: installed models, and translating a `.pose` file or a video.

A model is named either by an installed model's name (a folder under ``models/`` holding
``model.pt``) or by a path to a checkpoint file or folder.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from signstudio.errors import InputError, ModelError
from signstudio.paths import models_dir
from signstudio.pose.features import track_features, tracks_from_holistic
from signstudio.tasks import NullTask, TaskHandle

#: The model used when none is named.
DEFAULT_MODEL = "boston104-signformer"
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")


@dataclass
class Translation:
    """The result of translating one clip.

    Attributes:
        text: the translation (words joined by spaces; for a gloss-only corpus such as BOSTON-104
            the words are glosses).
        glosses: the recognised gloss sequence (CTC head), empty if the model has none.
        model: the model's name.
        frames: frames in the input pose.
        seconds: wall time in seconds: ``{"pose": extraction (0 for a .pose input), "model": ...}``.
    """

    text: str
    glosses: list[str]
    model: str
    frames: int
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class ModelInfo:
    """An installed model, as ``signstudio models`` lists it."""

    name: str
    task: str  # "sign-to-text", "text-to-gloss", "gloss-to-text" or "gloss-to-pose"
    path: str
    parameters: int
    metrics: dict[str, Any]
    language: str = ""  # sign language code(s) of its glosses, comma-separated (e.g. "gsg")


def resolve_model(name_or_path: str | None) -> Path:
    """The checkpoint file for an installed model name or a path (None: :data:`DEFAULT_MODEL`).

    Raises:
        ModelError: no installed model of that name and no such file; lists the installed ones.
    """
    name_or_path = name_or_path or DEFAULT_MODEL
    p = Path(name_or_path).expanduser()
    if p.is_file():
        return p
    if p.is_dir() and (p / "model.pt").is_file():
        return p / "model.pt"
    installed = models_dir() / name_or_path / "model.pt"
    if installed.is_file():
        return installed
    names = ", ".join(m.name for m in list_models()) or "none"
    raise ModelError(f"unknown model {name_or_path!r}; installed models: {names}")


def model_task(model_type: str, features: dict[str, Any]) -> str:
    """What a checkpoint does, from its model type and feature spec."""
    if model_type == "text-transformer":
        return "text-to-gloss" if features.get("direction") == "text2gloss" else "gloss-to-text"
    if model_type == "signllm":
        return "gloss-to-pose"
    return "sign-to-text"


def list_models(task: str | None = None) -> list[ModelInfo]:
    """Installed models (folders of :func:`signstudio.paths.models_dir` with ``model.pt``), by name.

    Args:
        task: keep only models of this task (see :func:`model_task`); None: all.

    A folder whose checkpoint cannot be read is skipped.
    """
    from signstudio.training.checkpoint import read_metadata
    from signstudio.errors import SignStudioError

    out = []
    root = models_dir()
    for ckpt in sorted(root.glob("*/model.pt")) if root.is_dir() else []:
        try:
            meta = read_metadata(ckpt)
        except SignStudioError:
            continue
        features = meta.get("features") or {}
        info = ModelInfo(ckpt.parent.name, model_task(meta["model_type"], features), str(ckpt),
                         meta["parameters"], meta["metrics"], ",".join(meta.get("languages", [])))
        if task is None or info.task == task:
            out.append(info)
    return out


class Translator:
    """A loaded sign-to-text model that turns poses into :class:`Translation` s.

    Args:
        loaded: a :class:`signstudio.training.checkpoint.LoadedModel`.
    """

    def __init__(self, loaded) -> None:
        self.loaded = loaded
        self.name = loaded.name
        kind = loaded.features.get("kind")
        if kind != "hand_nose_tracks":
            raise ModelError(f"model {self.name!r} needs {kind!r} features, which this version cannot compute")

    def translate_pose(self, pose) -> Translation:
        """Translate a MediaPipe Holistic pose-format ``Pose`` (x, y in pixels).

        Raises:
            InputError: the pose is not in Holistic layout or lacks hands; NoSignerError: nobody
                appears in it.
        """
        from signstudio.training.evaluation import best_glosses, decode_features

        t0 = time.perf_counter()
        fps = float(pose.body.fps)
        feats = track_features(tracks_from_holistic(pose), fps)
        with torch.no_grad():
            decoded = decode_features(self.loaded.model, [feats], self.loaded.gloss_vocab, self.loaded.text_vocab,
                                      self.loaded.decoding, self.loaded.gloss_lm)
        glosses = best_glosses(decoded)[0]
        # A gloss-only corpus (BOSTON-104: text == glosses) writes its glosses as the text; a
        # translation model writes its decoder output.
        same = self.loaded.gloss_vocab is not None and self.loaded.text_vocab is not None and (
            self.loaded.gloss_vocab.itos == self.loaded.text_vocab.itos)
        text = " ".join(glosses if same or "decoder" not in decoded else decoded["decoder"][0])
        return Translation(text=text, glosses=glosses, model=self.name, frames=int(pose.body.data.shape[0]),
                           seconds={"pose": 0.0, "model": time.perf_counter() - t0})


def load_translator(name_or_path: str | None = None) -> Translator:
    """Load an installed model by name, or a checkpoint by path (None: :data:`DEFAULT_MODEL`).

    Raises:
        ModelError: unknown name, unreadable checkpoint, or unsupported features.
    """
    from signstudio.training.checkpoint import load_model

    return Translator(load_model(resolve_model(name_or_path)))


def load_sentence_model(name_or_path: str):
    """Load a gloss-to-text model (e.g. ``phoenix14t-gloss2text``) that turns recognised glosses
    into a spoken-language sentence: a :class:`signstudio.training.text.TextTranslator`.

    Raises:
        ModelError: unknown model, or one that does not translate glosses to text.
    """
    from signstudio.training.checkpoint import load_model
    from signstudio.training.text import TextTranslator

    loaded = load_model(resolve_model(name_or_path))
    if loaded.model_type != "text-transformer" or loaded.features.get("direction") != "gloss2text":
        raise ModelError(f"model {loaded.name!r} does not translate glosses to text; "
                         "pick a gloss-to-text model from `signstudio models`")
    return TextTranslator(loaded)


def glosses_to_sentence(glosses: list[str], sentence_model) -> str:
    """The sentence ``sentence_model`` (from :func:`load_sentence_model`) writes for ``glosses``
    (beam search with the model's tuned options); ``""`` for no glosses.

    Raises:
        InputError: more glosses than :data:`signstudio.training.text.MAX_INPUT_TOKENS`.
    """
    if not glosses:
        return ""
    return " ".join(sentence_model.translate_text(" ".join(glosses)))


def translate_file(path: str | Path, translator: Translator, task: TaskHandle | None = None,
                   emit_frames: bool = False) -> Translation:
    """Translate a video (MediaPipe Holistic first) or a `.pose` file.

    Args:
        emit_frames: pass video frames with landmarks to ``task.partial`` (for the GUI overlay).

    Raises:
        InputError: missing or unreadable file, zero frames, unsupported suffix;
        NoSignerError: nobody in the video; Cancelled: the task was cancelled.
    """
    from signstudio.pose.io import read_pose

    task = task or NullTask()
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() == ".pose":
        return translator.translate_pose(read_pose(path))
    from signstudio.capture.holistic import extract_pose

    extraction = extract_pose(path, task, emit_frames=emit_frames)
    result = translator.translate_pose(extraction.pose)
    result.seconds["pose"] = extraction.seconds
    return result
