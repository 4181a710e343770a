"""The Train tab's config editor: YAML checked as you type, and where the model will be saved.

:class:`ConfigEditor` validates the editor's text with the training core's own parser
(:func:`~signstudio.training.config.parse_config_text`), shows the first line of what is wrong
(or what the config trains), and the output folder the tab gives it. :func:`template_items` lists
the config templates of a folder for the tab's selector.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from signstudio.errors import ConfigError
from signstudio.gui.preferences import set_role
from signstudio.paths import user_models_dir
from signstudio.training.config import parse_config_text

#: How long the editor waits after the last keystroke before validating, in milliseconds.
VALIDATE_DELAY_MS = 300
#: What each model type does, for the template list and the validation line.
TASKS = {
    "signformer": "sign video → glosses/text",
    "text-transformer": "text ↔ glosses",
    "signllm": "glosses → signing pose",
}
_DIRECTIONS = {"text2gloss": "text → glosses", "gloss2text": "glosses → text"}



def task_of(cfg: Any) -> str:
    """What a config trains, in words (e.g. "text → glosses on phoenix14t")."""
    what = TASKS.get(cfg.model_type, cfg.model_type)
    if cfg.model_type == "text-transformer":
        what = _DIRECTIONS.get(getattr(cfg.data, "direction", ""), what)
    return f"{what} on {cfg.data.dataset}"


def template_items(folder: Path) -> list[tuple[str, str, str]]:
    """``(label, path, tooltip)`` of the ``*.yaml`` configs in ``folder``, by name: the label
    says what the config trains, the tooltip is its first comment lines."""
    items = []
    try:
        paths = sorted(Path(folder).glob("*.yaml"))
    except OSError:
        paths = []
    for path in paths:
        label, tip = path.stem, str(path)
        try:
            text = path.read_text(encoding="utf-8")
            label = f"{path.stem} ({task_of(parse_config_text(text, build=False))})"
            comments = [ln.lstrip("# ").rstrip() for ln in text.splitlines() if ln.startswith("#")]
            tip = " ".join(comments[:2]) or tip
        except (OSError, UnicodeDecodeError, ConfigError):
            pass
        items.append((label, str(path), tip))
    return items


class ConfigEditor(QWidget):
    """A YAML editor for a training config, validated a moment after each change.

    Signals:
        validated(bool): the text was checked (True: valid; read :attr:`config`).
    """

    validated = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config: Any = None
        self.error = ""
        self.editor = QPlainTextEdit()
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setTabChangesFocus(True)
        self.editor.setAccessibleName("Training config (YAML)")
        self.editor.setToolTip("The training config in YAML; unknown keys are errors")
        self.validation_label = QLabel()
        self.validation_label.setWordWrap(True)
        self.validation_label.setTextFormat(Qt.TextFormat.PlainText)
        self.validation_label.setAccessibleName("Config check")
        self.output_label = QLabel()
        self.output_label.setWordWrap(True)
        self.output_label.setTextFormat(Qt.TextFormat.PlainText)
        self.output_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.output_label.setAccessibleName("Output folder")
        self.output_label.setToolTip("Set `name:` or `output:` in the config to change it; `output:` is "
                                     f"a folder inside your models folder, {user_models_dir()}")
        set_role(self.output_label, "muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.validation_label)
        layout.addWidget(self.output_label)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("x") * 34)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(VALIDATE_DELAY_MS)
        self._timer.timeout.connect(self.validate)
        self.editor.textChanged.connect(self._timer.start)

    def text(self) -> str:
        """The YAML in the editor."""
        return self.editor.toPlainText()

    def set_text(self, text: str) -> bool:
        """Put YAML ``text`` in the editor and check it now; returns whether it is valid."""
        self.editor.setPlainText(text)
        return self.validate()

    def set_read_only(self, read_only: bool) -> None:
        """Lock the text (while a run uses it) or unlock it."""
        self.editor.setReadOnly(read_only)

    def stop(self) -> None:
        """Stop a pending check (for closing the window)."""
        self._timer.stop()

    def validate(self) -> bool:
        """Check the YAML now; show the result under it; emit :attr:`validated`."""
        self._timer.stop()
        try:
            cfg = parse_config_text(self.editor.toPlainText())
        except ConfigError as exc:
            self.config, self.error = None, str(exc).splitlines()[0] if str(exc) else "invalid config"
            self.validation_label.setText(f"✗ {self.error}")
            set_role(self.validation_label, "error")
        else:
            self.config, self.error = cfg, ""
            tc = cfg.train
            self.validation_label.setText(f"✓ Config OK: {cfg.name}, {task_of(cfg)}; {tc.epochs} epochs, "
                                          f"checked on dev every {tc.eval_every}")
            set_role(self.validation_label, "ok")
        self.validated.emit(self.config is not None)
        return self.config is not None

    def show_output(self, text: str) -> None:
        """Say where the model will be saved (and what is there already)."""
        self.output_label.setText(text)
