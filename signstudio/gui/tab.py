"""What every tab shares, made explicitly in :class:`JobTab`'s constructor (no mixin, no
attributes a subclass must remember to create): its one :class:`~signstudio.gui.runner.JobRunner`,
its :class:`~signstudio.gui.widgets.MessageBanner`, and the installed models it lists."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from signstudio.gui.models import InstalledModels
from signstudio.gui.runner import JobRunner
from signstudio.gui.widgets import MessageBanner


class JobTab(QWidget):
    """A tab that runs core jobs: the base of the Translate, Produce, Attention and Train tabs.

    Attributes:
        runner: the tab's :class:`JobRunner` (one current job; its signals drive the tab).
        banner: the tab's message banner (the subclass places it in its layout).
        models: the window's shared :class:`InstalledModels`, or one of the tab's own when none
            is given (None for a tab that lists no models).

    Signals:
        status_message(str): a line for the window's status bar.
        busy_changed(bool): a job started from idle (True), or the tab became idle (False).
        error_shown(str): an error appeared in the banner.
        idle(): the tab became idle.
    """

    status_message = Signal(str)
    busy_changed = Signal(bool)
    error_shown = Signal(str)
    idle = Signal()

    def __init__(self, parent: QWidget | None = None, models: InstalledModels | None = None, *,
                 lists_models: bool = True, autoload_models: bool = True) -> None:
        super().__init__(parent)
        self.runner = JobRunner(self)
        self.banner = MessageBanner()
        self._own_models = lists_models and models is None
        self.models = (models if models is not None else
                       InstalledModels(self, autoload=autoload_models) if lists_models else None)

    @property
    def state(self) -> str:
        """The current job's name, or "idle"."""
        return self.runner.state

    def is_busy(self) -> bool:
        """True while a job runs."""
        return self.runner.is_busy()

    def error_text(self) -> str:
        """The error shown in the banner ("" if none, or if the banner shows a note)."""
        return self.banner.text() if self.banner.kind == "error" else ""

    def show_error(self, message: str) -> None:
        """Show a one-line error in the banner (and emit ``error_shown``)."""
        self.banner.show_message(message, "error")
        self.error_shown.emit(message)

    def apply_preferences(self, prefs) -> None:
        """Use the user's :class:`~signstudio.gui.preferences.Preferences` (caption size, default
        model, playback speed ...); a tab without such settings ignores them."""

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel every job and wait (up to ``timeout`` s) for them; for closing the window."""
        self.runner.shutdown(timeout)
        if self._own_models:
            self.models.shutdown(timeout)
