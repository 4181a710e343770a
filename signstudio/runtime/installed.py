"""Installed models: the user's own (trained here) and the shipped ones, found by name or path.

A model is a folder holding ``model.pt`` in :func:`signstudio.paths.user_models_dir` (the
user's, searched first) or :func:`signstudio.paths.models_dir` (shipped with SignStudio). Anywhere
a model is asked for, a path to a checkpoint file or folder works too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from signstudio.errors import ModelError, SignStudioError
from signstudio.paths import models_dir, user_models_dir

#: The sign-to-text model used when none is named (translate, live, the window).
DEFAULT_MODEL = "wlasl100-continuous"
#: The model whose attention `signstudio attention` records when none is named: it needs an
#: attention decoder, which the (CTC-only) default model does not have.
ATTENTION_MODEL = "boston104-signformer"
#: What a checkpoint does (see :func:`model_task`).
TASKS = ("sign-to-text", "text-to-gloss", "gloss-to-text", "gloss-to-pose")
#: Sign languages of the datasets whose checkpoints predate storing one.
DATASET_LANGUAGES = {"boston104": "ase", "wlasl": "ase", "wlasl100": "ase", "phoenix14t": "gsg"}
#: Where an installed model comes from.
ORIGINS = ("user", "shipped")


@dataclass(frozen=True)
class ModelInfo:
    """An installed model, as ``signstudio models`` and the window's model lists show it.

    Attributes:
        name: the folder's name, by which commands find the model.
        task: one of :data:`TASKS`.
        path: the ``model.pt`` file.
        parameters: trainable parameters.
        metrics: the checkpoint's stored metrics (dev and, once recorded, test scores).
        language: sign language code(s) of its glosses, comma-separated (e.g. ``"gsg"``).
        origin: ``"user"`` (trained here) or ``"shipped"``.
        model_type: its registry type (``"signformer"``, ``"text-transformer"``, ...).
        features: what it reads (the checkpoint's feature spec).
        vocabulary: the glosses it knows (words for a gloss-to-text model).
        dataset: what it was trained on (a dataset name or folder).
        streams: it can caption a live stream (``signstudio live``, the webcam in the window).
    """

    name: str
    task: str
    path: str
    parameters: int
    metrics: dict[str, Any]
    language: str = ""
    origin: str = "shipped"
    model_type: str = ""
    features: dict[str, Any] | None = None
    vocabulary: int = 0
    dataset: str = ""
    streams: bool = False

    @property
    def purpose(self) -> str:
        """What the model is for, in a few words (e.g. "ASL signs, 100 glosses (wlasl)")."""
        data = Path(self.dataset).name if self.dataset else ""
        code = self.language.split(",")[0] or DATASET_LANGUAGES.get(data, "")
        lang = {"ase": "ASL", "gsg": "DGS"}.get(code, code.upper())
        what = {"sign-to-text": f"{lang or 'signing'} to glosses", "text-to-gloss": f"text to {lang} glosses",
                "gloss-to-text": f"{lang} glosses to text", "gloss-to-pose": f"{lang} glosses to poses"}
        text = what.get(self.task, self.task)
        kind = (self.features or {}).get("kind")
        if kind == "video_maps":  # reads frames, not landmarks
            text = text.replace(" to glosses", " video to glosses", 1)
        elif kind == "spamo_features":  # video to sentences through an LLM
            text = f"{lang or 'sign'} video to {(self.features or {}).get('spoken_language', 'spoken')} text"
        if self.vocabulary:
            text += f", {self.vocabulary} {'words' if self.task == 'gloss-to-text' else 'glosses'}"
        return text + (f" ({data})" if data else "")


def model_task(model_type: str, features: dict[str, Any]) -> str:
    """What a checkpoint does (one of :data:`TASKS`), from its family's registry entry and, for a
    text model, the direction in its feature spec."""
    from signstudio.models.registry import REGISTRY

    family = REGISTRY.get(model_type)
    task = family.task if family is not None else "sign-to-text"
    if task == "text":
        return "text-to-gloss" if features.get("direction") == "text2gloss" else "gloss-to-text"
    return task


def checkpoint_file(path: str | Path) -> Path:
    """``path`` itself, or ``path/model.pt`` for a folder.

    Raises:
        ModelError: there is no such file.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "model.pt"
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    return path


def model_folders() -> list[tuple[str, Path]]:
    """``(origin, folder)`` of the places searched for models, the user's first."""
    return [("user", user_models_dir()), ("shipped", models_dir())]


def model_info(path: str | Path, origin: str = "user") -> ModelInfo:
    """The :class:`ModelInfo` of one checkpoint (file or folder), read without building the model.

    Raises:
        ModelError: missing, unreadable or foreign checkpoint.
    """
    from signstudio.runtime.onnx import export_metadata

    ckpt = checkpoint_file(path)
    meta = export_metadata(ckpt)
    if meta is None:  # no export to read it from: PyTorch reads the checkpoint
        from signstudio.runtime.checkpoint import read_metadata

        meta = read_metadata(ckpt)
    features = meta.get("features") or {}
    name = ckpt.parent.name if ckpt.name == "model.pt" else ckpt.stem
    task = meta.get("task") or model_task(meta["model_type"], features)  # an export's metadata says
    return ModelInfo(name, task, str(ckpt), meta["parameters"],
                     meta["metrics"], ",".join(meta.get("languages", [])), origin, meta["model_type"], features,
                     meta["vocabulary"], meta["dataset"], meta["streams"])


def list_models(task: str | None = None) -> list[ModelInfo]:
    """Installed models: the user's, then the shipped ones, each sorted by name.

    Args:
        task: keep only models of this task (one of :data:`TASKS`); None: all.

    A folder whose checkpoint cannot be read is skipped, and so is, in a runtime-only install
    (no PyTorch), a model without an ONNX export; a folder that cannot be listed counts as empty. A user model may have the same name as a shipped one: both are listed, and the user's
    is the one a name finds (:func:`resolve_model`).
    """
    out = []
    for origin, root in model_folders():
        try:
            found = sorted(root.glob("*/model.pt")) if root.is_dir() else []
        except OSError:
            found = []
        for ckpt in found:
            try:
                info = model_info(ckpt, origin)
            except (SignStudioError, OSError, ImportError):  # ImportError: no export, and no PyTorch to read it
                continue
            if task is None or info.task == task:
                out.append(info)
    return out


def resolve_model(name_or_path: str | Path | None) -> Path:
    """The checkpoint file for a model name or a path (None: :data:`DEFAULT_MODEL`).

    A name is looked up in the user's models first, then in the shipped ones; a path to a
    checkpoint file, or to a folder holding ``model.pt``, is used as it is.

    Raises:
        ModelError: no model of that name and no such file; the message lists the installed ones.
    """
    name_or_path = str(name_or_path or DEFAULT_MODEL)
    p = Path(name_or_path).expanduser()
    if p.is_file():
        return p
    if p.is_dir() and (p / "model.pt").is_file():
        return p / "model.pt"
    if "/" not in name_or_path and "\\" not in name_or_path and name_or_path not in (".", ".."):
        for _, root in model_folders():
            if (root / name_or_path / "model.pt").is_file():
                return root / name_or_path / "model.pt"
    names = ", ".join(sorted({m.name for m in list_models()})) or "none"
    raise ModelError(f"unknown model {name_or_path!r}; installed models: {names}")


def load_installed(name_or_path: str | Path | None, task: str | None = None, backend: str = "torch",
                   notes: list[str] | None = None):
    """Load a model by name or path: a :class:`~signstudio.runtime.checkpoint.LoadedModel`
    (PyTorch), or with ``backend`` "onnx"/"auto" its up-to-date ONNX export, an
    :class:`~signstudio.runtime.onnx.OnnxModel` (onnxruntime; PyTorch is not imported).

    Args:
        task: if given, the model must do this (one of :data:`TASKS`).
        backend: "torch"; "onnx" (the export or an error; INT8 where there is an INT8 export,
            else fp32), "onnx-fp32" or "onnx-int8" (that one or an error); or "auto" (the export
            if there is an up-to-date one, else PyTorch, with the reason appended to ``notes``).
        notes: collects one line when "auto" falls back to PyTorch.

    Raises:
        ModelError: unknown or unreadable model, one that does another task, an unknown backend,
            or with "onnx" a missing, stale or unreadable export.
    """
    from signstudio.runtime.onnx import BACKENDS

    if backend not in BACKENDS:
        raise ModelError(f"unknown backend {backend!r}; use {', '.join(BACKENDS)}")
    checkpoint = resolve_model(name_or_path)
    loaded, reason = None, ""
    if backend != "torch":
        from signstudio.runtime.onnx import find_export

        precision = backend.split("-")[1] if "-" in backend else None
        loaded, reason = find_export(checkpoint, precision)
        if loaded is None and backend != "auto":
            raise ModelError(f"--backend {backend}: {reason}")
    if loaded is None:
        from signstudio.runtime.checkpoint import load_model
        from signstudio.runtime.onnx import EXPORTABLE

        loaded = load_model(checkpoint)
        # A family that cannot be exported runs in PyTorch without a word; one that can, says why not.
        if reason and notes is not None and loaded.model_type in EXPORTABLE:
            notes.append(f"running PyTorch: {reason}")
    if task is not None:
        # an export knows its task (the registry would import the model families, and PyTorch)
        actual = loaded.task if getattr(loaded, "backend", "torch") == "onnx" else model_task(
            loaded.model_type, loaded.features)
        if actual != task:
            raise ModelError(f"model {loaded.name!r} is a {actual} model, not a {task} model; "
                             f"see `signstudio models`")
    return loaded
