"""The Settings dialog (Ctrl+,): captions, colours, interface scale, default models, playback.

It edits a copy of :class:`~signstudio.gui.preferences.Preferences`; :meth:`SettingsDialog.preferences`
gives the result. Every control has a label with a mnemonic and the dialog is reached and used
with the keyboard alone. Colour choices show their WCAG contrast ratio, so a user sees that the
caption colours they pick are readable.
"""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel,
                               QSpinBox, QVBoxLayout, QWidget)

from signstudio.gui.preferences import (BACKEND_CHOICES, CAPTION_SCALE_RANGE, SPEEDS, UI_SCALE_RANGE,
                                        Preferences)
from signstudio.gui.theme import CAPTION_SCHEMES, THEMES, contrast_ratio, make_theme


class SettingsDialog(QDialog):
    """Edit preferences; OK keeps them, Cancel (Esc) drops them.

    Args:
        prefs: the current preferences (not modified).
        translate_models / attention_models: ``(label, name)`` of the models each tab offers.
        languages: ``(label, code)`` of the sign languages the Produce tab offers.
    """

    def __init__(self, prefs: Preferences, translate_models: list[tuple[str, str]] = (),
                 attention_models: list[tuple[str, str]] = (), languages: list[tuple[str, str]] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._prefs = prefs.checked()
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)

        self.caption_scale = QSpinBox()
        self.caption_scale.setRange(*CAPTION_SCALE_RANGE)
        self.caption_scale.setSingleStep(25)
        self.caption_scale.setSuffix(" %")
        self.caption_scale.setValue(self._prefs.caption_scale)
        self.caption_scale.setAccessibleName("Caption size in percent")
        self._row(form, "Caption &size", self.caption_scale)

        self.caption_font = QComboBox()
        self.caption_font.setAccessibleName("Caption font")
        self.caption_font.addItem("(as the window)", "")
        for family in QFontDatabase.families():
            self.caption_font.addItem(family, family)
        self.caption_font.setCurrentIndex(max(self.caption_font.findData(self._prefs.caption_font), 0))
        self._row(form, "Caption &font", self.caption_font)

        self.theme = QComboBox()
        for key, theme in THEMES.items():
            self.theme.addItem(theme.label, key)
        self.theme.setCurrentIndex(max(self.theme.findData(self._prefs.theme), 0))
        self.theme.setAccessibleName("Colour theme")
        self._row(form, "&Theme", self.theme)

        self.caption_colors = QComboBox()
        for key, (label, *_rest) in CAPTION_SCHEMES.items():
            self.caption_colors.addItem(label, key)
        self.caption_colors.setCurrentIndex(max(self.caption_colors.findData(self._prefs.caption_colors), 0))
        self.caption_colors.setAccessibleName("Caption colours")
        self._row(form, "Caption &colours", self.caption_colors)

        self.contrast_label = QLabel()
        self.contrast_label.setProperty("role", "muted")
        self.contrast_label.setWordWrap(True)
        form.addRow("", self.contrast_label)

        self.ui_scale = QSpinBox()
        self.ui_scale.setRange(*UI_SCALE_RANGE)
        self.ui_scale.setSingleStep(25)
        self.ui_scale.setSuffix(" %")
        self.ui_scale.setValue(self._prefs.ui_scale)
        self.ui_scale.setAccessibleName("Interface scale in percent, applied at the next start")
        self._row(form, "&Interface scale", self.ui_scale, "applied when SignStudio next starts")

        self.translate_model = self._model_combo(translate_models, self._prefs.translate_model)
        self.translate_model.setAccessibleName("Default model of the Translate tab")
        self._row(form, "T&ranslate model", self.translate_model)
        self.attention_model = self._model_combo(attention_models, self._prefs.attention_model)
        self.attention_model.setAccessibleName("Default model of the Attention tab")
        self._row(form, "Atte&ntion model", self.attention_model)
        self.produce_language = self._model_combo(languages, self._prefs.produce_language)
        self.produce_language.setAccessibleName("Sign language the Produce tab starts with")
        self._row(form, "&Produce language", self.produce_language)

        self.speed = QComboBox()
        for speed in SPEEDS:
            self.speed.addItem(f"{speed:g}×", speed)
        self.speed.setCurrentIndex(SPEEDS.index(self._prefs.playback_speed))
        self.speed.setAccessibleName("Playback speed")
        self._row(form, "Play&back speed", self.speed)

        self.backend = QComboBox()
        for key, label in BACKEND_CHOICES.items():
            self.backend.addItem(label, key)
        self.backend.setCurrentIndex(max(self.backend.findData(self._prefs.backend), 0))
        self.backend.setAccessibleName("What runs the models")
        self._row(form, "Run models &with", self.backend, "onnxruntime is faster and needs no PyTorch")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.RestoreDefaults)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        for combo in (self.theme, self.caption_colors):
            combo.currentIndexChanged.connect(self._show_contrast)
        self._show_contrast()
        self.caption_scale.setFocus()

    @staticmethod
    def _row(form: QFormLayout, text: str, field: QWidget, note: str = "") -> None:
        label = QLabel(text)
        label.setBuddy(field)
        form.addRow(label, field)
        if note:
            hint = QLabel(note)
            hint.setProperty("role", "muted")
            form.addRow("", hint)

    @staticmethod
    def _model_combo(choices, current: str) -> QComboBox:
        combo = QComboBox()
        combo.addItem("Default", "")
        for label, value in choices:
            combo.addItem(label, value)
        index = combo.findData(current)
        if index < 0 and current:  # a model no longer installed stays chosen, and says so
            combo.addItem(f"{current} (not installed)", current)
            index = combo.count() - 1
        combo.setCurrentIndex(max(index, 0))
        return combo

    def _show_contrast(self) -> None:
        theme = make_theme(self.theme.currentData(), self.caption_colors.currentData())
        text = contrast_ratio(theme.caption_text, theme.caption_bg)
        gloss = contrast_ratio(theme.caption_gloss, theme.caption_bg)
        self.contrast_label.setText(f"Caption contrast {text:.1f}:1 (glosses {gloss:.1f}:1); "
                                    "WCAG AA asks at least 4.5:1.")

    def restore_defaults(self) -> None:
        """Put every control back to the first-start value."""
        defaults = Preferences()
        self.caption_scale.setValue(defaults.caption_scale)
        self.caption_font.setCurrentIndex(0)
        self.theme.setCurrentIndex(self.theme.findData(defaults.theme))
        self.caption_colors.setCurrentIndex(self.caption_colors.findData(defaults.caption_colors))
        self.ui_scale.setValue(defaults.ui_scale)
        for combo in (self.translate_model, self.attention_model, self.produce_language):
            combo.setCurrentIndex(0)
        self.speed.setCurrentIndex(SPEEDS.index(defaults.playback_speed))
        self.backend.setCurrentIndex(self.backend.findData(defaults.backend))

    def preferences(self) -> Preferences:
        """The preferences as the dialog shows them."""
        font = self.caption_font.currentData() or ""
        return Preferences(
            caption_scale=self.caption_scale.value(), caption_font=font, theme=self.theme.currentData(),
            caption_colors=self.caption_colors.currentData(), ui_scale=self.ui_scale.value(),
            translate_model=self.translate_model.currentData() or "",
            attention_model=self.attention_model.currentData() or "",
            produce_language=self.produce_language.currentData() or "",
            playback_speed=float(self.speed.currentData()), backend=self.backend.currentData()).checked()
