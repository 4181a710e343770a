"""The installed models, listed once for the whole window: :class:`InstalledModels`.

Every tab that offers models (Translate, Attention) shows a :class:`ModelSelector` that subscribes
to the window's one :class:`InstalledModels` object and filters its list by task; no tab reads
checkpoints itself. Listing reads each
checkpoint's metadata (not its weights) once and keeps it, keyed by path, modification time and
size (:func:`scan_models`), so a refresh after a training run reads only the new checkpoint. The
list is refreshed when a training run finishes (the Train tab asks) and on demand.
"""

from __future__ import annotations

import threading
from typing import Any, Iterable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from signstudio.gui.workers import Worker

#: What a user's own model is called beside its name in the selectors.
YOURS = "yours"

_CACHE: dict[tuple[str, str], tuple[tuple[int, int], Any]] = {}
_CACHE_LOCK = threading.Lock()
#: How many checkpoints :func:`scan_models` has read (for tests: a second scan reads none).
reads = 0


def scan_models() -> list[Any]:
    """Installed models (:class:`signstudio.runtime.installed.ModelInfo`): the user's, then the
    shipped ones, each sorted by name — as :func:`signstudio.runtime.installed.list_models`, but a
    checkpoint whose path, modification time and size are unchanged since the last scan is not
    read again. An unreadable checkpoint is skipped (and not retried until it changes).
    Thread-safe; imports torch, so call it off the GUI thread."""
    global reads
    from signstudio.errors import SignStudioError
    from signstudio.runtime.installed import model_folders, model_info

    out = []
    for origin, root in model_folders():
        try:
            found = sorted(root.glob("*/model.pt")) if root.is_dir() else []
        except OSError:
            found = []
        for ckpt in found:
            try:
                stat = ckpt.stat()
            except OSError:
                continue
            key, stamp = (str(ckpt), origin), (stat.st_mtime_ns, stat.st_size)
            with _CACHE_LOCK:
                hit = _CACHE.get(key)
            if hit is not None and hit[0] == stamp:
                info = hit[1]
            else:
                try:
                    info = model_info(ckpt, origin)
                except (SignStudioError, OSError, ValueError, KeyError, TypeError):
                    info = None
                with _CACHE_LOCK:
                    reads += 1
                    _CACHE[key] = (stamp, info)
            if info is not None:
                out.append(info)
    return out


def _default_model() -> str:
    from signstudio.runtime.installed import DEFAULT_MODEL

    return str(DEFAULT_MODEL)


class InstalledModels(QObject):
    """The models installed in the user's and the shipped models folders, for every tab.

    The list is made on a worker thread (reading checkpoints imports torch); :attr:`changed`
    fires each time it has been (re)made, and tabs refill their selectors from
    :meth:`models`. Until the first list is there, :meth:`is_ready` is False.

    Args:
        autoload: list the models at once (default).

    Signals:
        changed(): the list was (re)made; read it with :meth:`models`.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None, autoload: bool = True) -> None:
        super().__init__(parent)
        self._models: list[Any] = []
        self._default = ""
        self._problem = ""
        self._ready = False
        self._worker: Worker | None = None
        self._again = False
        self._shut_down = False
        if autoload:
            self.refresh()

    # --- reading -------------------------------------------------------------------------------
    def is_ready(self) -> bool:
        """True once the models have been listed (even if none was found)."""
        return self._ready

    def models(self, tasks: str | Iterable[str] | None = None) -> list[Any]:
        """The installed models (``ModelInfo``), the user's first, then the shipped ones, each by
        name; only those whose task is ``tasks`` (one task or several) if given."""
        if tasks is None:
            return list(self._models)
        wanted = {tasks} if isinstance(tasks, str) else set(tasks)
        return [m for m in self._models if m.task in wanted]

    @property
    def default_name(self) -> str:
        """The model used when none is named ("" if unknown)."""
        return self._default

    @property
    def problem(self) -> str:
        """Why the list could not be made ("" when it could)."""
        return self._problem

    def choice(self, info: Any) -> str:
        """What to load ``info`` by: its name, or its checkpoint path when a user model of the
        same name hides it (a name finds the user's model first)."""
        hidden = info.origin != "user" and any(
            m.name == info.name and m.origin == "user" for m in self._models)
        return str(info.path) if hidden else info.name

    def info(self, choice: str | None) -> Any | None:
        """The ``ModelInfo`` a selector value (:meth:`choice`; None: the default model) names —
        the user's model first, as loading by name does — or None if it is not listed."""
        name = self._default if choice is None else choice
        for info in self._models:
            if name and name in (info.name, str(info.path)):
                return info
        return None

    def task_of(self, choice: str | None) -> str | None:
        """The task of the model a selector value (:meth:`choice`) names, or None if unknown."""
        for info in self._models:
            if choice in (info.name, str(info.path)):
                return info.task
        return None

    @staticmethod
    def label(info: Any) -> str:
        """How a selector names a model: "name", or "name (yours)" for one trained here."""
        return f"{info.name} ({YOURS})" if getattr(info, "origin", "") == "user" else info.name

    @staticmethod
    def tooltip(info: Any) -> str:
        """Several lines about a model: name, task, language, size, metrics, where it is."""
        parts = [str(info.name)]
        if getattr(info, "origin", "") == "user":
            parts.append("trained by you")
        if info.task:
            parts.append(f"task: {info.task}")
        if getattr(info, "language", ""):
            parts.append(f"sign language: {info.language}")
        params = getattr(info, "parameters", None)
        if isinstance(params, (int, float)) and params:
            parts.append(f"{params / 1e6:.1f} M parameters" if params >= 1e5 else f"{params:,} parameters")
        metrics = {k: v for k, v in (getattr(info, "metrics", None) or {}).items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if metrics:
            parts.append(", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                                   for k, v in list(metrics.items())[:4]))
        parts.append(str(info.path))
        return "\n".join(parts)

    # --- refreshing ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """List the models again on a worker thread; :attr:`changed` fires when done. A refresh
        asked for while one runs is done after it."""
        if self._shut_down:
            return
        if self._worker is not None:
            self._again = True
            return
        worker = Worker(lambda task: (scan_models(), _default_model()), name="models")
        self._worker = worker
        worker.signals.finished.connect(lambda result: self._listed(result[0], result[1], ""))
        worker.signals.failed.connect(lambda message: self._listed([], "", message))
        worker.start()

    def _listed(self, models: list[Any], default: str, problem: str) -> None:
        self._worker = None
        if self._shut_down:
            return
        self._models, self._problem, self._ready = list(models), problem, True
        self._default = default or self._default
        self.changed.emit()
        if self._again:
            self._again = False
            self.refresh()

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until a running listing has finished (its result arrives later as ``changed``)."""
        worker = self._worker
        return worker is None or worker.wait(timeout)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop refreshing and wait (up to ``timeout`` s) for a listing that runs; for closing
        the window."""
        self._shut_down = True
        self.wait(timeout)


class ModelSelector(QComboBox):
    """A selector of the installed models of some tasks, refilled whenever ``models`` changes.

    Its items' data is what to load a model by (:meth:`InstalledModels.choice`); user models are
    named "name (yours)". Refilling keeps the choice when it is still there and emits no
    ``currentIndexChanged``.

    Args:
        models: the installed models to follow.
        tasks: the tasks offered (one or several of ``signstudio.runtime.installed.TASKS``).
        default_entry: first offer "Default (name)" (data ``None``: the default model), and list
            the default model itself no further.
        show_task: name each model's task beside it.
        order: reorders the models before they are offered (default: as listed).
        tip: the tooltip when the list is fine.
        empty_tip: the tooltip (with ``default_entry``) when no model of these tasks is installed.

    Signals:
        models_loaded(): the selector was (re)filled.
    """

    models_loaded = Signal()

    def __init__(self, models: InstalledModels, tasks: str | Iterable[str], *, default_entry: bool = False,
                 show_task: bool = False, order=None, tip: str = "",
                 empty_tip: str = "No model of this kind is installed yet.", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = models
        self._tasks = tasks
        self._default_entry = default_entry
        self._show_task = show_task
        self._order = order
        self._tip, self._empty_tip = tip, empty_tip
        self._ready = False
        self._preferred = ""
        self.addItem("Default model" if default_entry else "Looking for models…", None)
        self.setToolTip("Looking for installed models…")
        models.changed.connect(self.refill)
        self.refill()

    def is_ready(self) -> bool:
        """True once the selector has been filled."""
        return self._ready

    def selected(self) -> str | None:
        """The model chosen (a name or a checkpoint path; None: the default model, or none)."""
        return self.currentData()

    def choices(self) -> list[tuple[str, str]]:
        """``(model, task)`` of the models offered, in order (not the default entry)."""
        values = [self.itemData(i) for i in range(self.count())]
        return [(v, self.models.task_of(v) or "") for v in values if v is not None]

    def select(self, choice: str | None) -> bool:
        """Choose ``choice`` without emitting ``currentIndexChanged``; False if not offered."""
        index = self.findData(choice) if choice is not None else -1
        if index < 0:
            return False
        if index != self.currentIndex():
            self.blockSignals(True)
            self.setCurrentIndex(index)
            self.blockSignals(False)
        return True

    def set_preferred(self, name: str) -> None:
        """Select model ``name`` ("" = the default) now if it is offered, and after each refill
        until the user picks another."""
        self._preferred = name or ""
        if not self._ready:
            return
        index = self.findData(name) if name else (0 if self._default_entry else -1)
        if index >= 0 and index != self.currentIndex():
            self.setCurrentIndex(index)  # emits currentIndexChanged: the tab reacts as to a pick

    def refill(self) -> None:
        """Fill the selector from the installed models (once they are listed)."""
        models = self.models
        if not models.is_ready():
            return
        offered = models.models(self._tasks)
        if self._order is not None:
            offered = self._order(offered)
        default, problem = models.default_name, models.problem
        names = [m.name for m in offered]
        current = self.currentData()
        self.blockSignals(True)
        self.clear()
        default_shown = False
        if self._default_entry:
            label = "Default model"
            if default:
                label = (f"Default ({default})" if default in names or problem
                         else f"Default ({default}, not installed)")
            self.addItem(label, None)
            self.setItemData(0, "The model SignStudio ships as its default", Qt.ItemDataRole.ToolTipRole)
        for info in offered:
            if self._default_entry and info.name == default and not default_shown:
                default_shown = True  # "Default" loads it (a user's model of that name first)
                continue
            label = models.label(info) + (f"  ({info.task})" if self._show_task else "")
            self.addItem(label, models.choice(info))
            self.setItemData(self.count() - 1, models.tooltip(info), Qt.ItemDataRole.ToolTipRole)
        if self.count() == 0:
            self.addItem("No model installed", None)
        if problem:
            tip = f"Could not list the models: {problem}"
        elif self._default_entry and not names:
            tip = self._empty_tip
        elif self._default_entry and default and default not in names:
            tip = f"The default model ({default}) is not installed; pick another."
        else:
            tip = self._tip
        self.setToolTip(tip)
        if not self._ready and self._preferred:  # the first listing: the user's default model
            current = self._preferred
        self.setCurrentIndex(max(self.findData(current), 0) if current is not None else 0)
        self.blockSignals(False)
        self._ready = True
        self.models_loaded.emit()
