"""The main window: four tabs (Translate, Produce, Attention, Train), a menu and a status bar."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QCursor, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QTabWidget, QToolTip, QWidget

from signstudio.gui.attention import AttentionTab
from signstudio.gui.models import InstalledModels
from signstudio.gui.preferences import Preferences, apply_theme, load_preferences, save_preferences
from signstudio.gui.produce import ProduceTab
from signstudio.gui.shortcuts import ShortcutsDialog, keys_of
from signstudio.gui.train import TrainTab
from signstudio.gui.translate import TranslateTab

DEFAULT_SIZE = (1280, 800)


class MainWindow(QMainWindow):
    """SignStudio's window: ``translate_tab``, ``produce_tab``, ``attention_tab`` and ``train_tab``.

    The tabs share one :class:`~signstudio.gui.models.InstalledModels` (:attr:`models`): a model
    that finishes training is offered at once in the Translate and Attention tabs. Closing the
    window cancels running jobs (and a training process) and waits for their threads.

    :attr:`preferences` (saved with QSettings) are applied at start and after the Settings dialog
    (Ctrl+,): theme, caption size and font, default models, playback speed. The focused control's
    tooltip is also shown in the status bar (and by Shift+F1), so no help needs a mouse hover.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("SignStudio")
        self.resize(*DEFAULT_SIZE)
        self.setMinimumSize(800, 560)

        self.models = InstalledModels(self)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.translate_tab = TranslateTab(models=self.models)
        self.tabs.addTab(self.translate_tab, "&Translate")
        self.tabs.setTabToolTip(0, "Turn signing in a video or from your webcam into text")
        self.produce_tab = ProduceTab()
        index = self.tabs.addTab(self.produce_tab, "&Produce")
        self.tabs.setTabToolTip(index, "Turn written text into signing by a 3D signer")
        self.attention_tab = AttentionTab(models=self.models)
        index = self.tabs.addTab(self.attention_tab, "&Attention")
        self.tabs.setTabToolTip(index, "See what a translation model looked at: attention heatmaps and alignment")
        self.train_tab = TrainTab(models=self.models)
        index = self.tabs.addTab(self.train_tab, "Trai&n")
        self.tabs.setTabToolTip(index, "Train or fine-tune a model in the background, with live curves")
        self.setCentralWidget(self.tabs)

        for tab in self._tabs():
            tab.status_message.connect(self._show_status)
        self.statusBar().showMessage(
            "Ready. Open a video of signing, or start the webcam.")
        self._build_menus()
        self.preferences = load_preferences()
        self.apply_preferences(self.preferences)
        QApplication.instance().installEventFilter(self)

    def _build_menus(self) -> None:
        tab = self.translate_tab
        file_menu = self.menuBar().addMenu("&File")
        self._add_action(file_menu, "Open &video…", QKeySequence.StandardKey.Open, tab.choose_video)
        self._add_action(file_menu, "Open .&pose file…", QKeySequence("Ctrl+Shift+O"),
                         tab.choose_pose)
        self._add_action(file_menu, "Start/stop &webcam", QKeySequence("Ctrl+R"),
                         tab.toggle_webcam)
        self._add_action(file_menu, "&Cancel job", None, tab.cancel)
        file_menu.addSeparator()
        self._add_action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        edit_menu = self.menuBar().addMenu("&Edit")
        self.settings_action = self._add_action(edit_menu, "&Settings…", keys_of("settings"), self.open_settings)
        help_menu = self.menuBar().addMenu("&Help")
        self._add_action(help_menu, "&Keyboard shortcuts", keys_of("help_keys"), self.show_shortcuts)
        self._add_action(help_menu, "Help on the &focused control", QKeySequence("Shift+F1"), self.show_focus_help)
        self._add_action(help_menu, "&About SignStudio", None, self._about)

    def _add_action(self, menu, text: str, shortcut, slot) -> QAction:
        action = QAction(text, self)
        if isinstance(shortcut, list):
            action.setShortcuts(shortcut)
        elif shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _tabs(self) -> tuple:
        return (self.translate_tab, self.produce_tab, self.attention_tab, self.train_tab)

    def _show_status(self, text: str) -> None:
        self.statusBar().showMessage(text)

    # ------------------------------------------------------------------------------------------
    # preferences, keyboard help
    def apply_preferences(self, prefs: Preferences) -> None:
        """Use ``prefs`` now: the theme for the whole application, then each tab's part."""
        self.preferences = prefs
        apply_theme(prefs.make_theme())
        for tab in self._tabs():
            tab.apply_preferences(prefs)

    def settings_dialog(self):
        """A Settings dialog filled with the current preferences and what the tabs offer."""
        from signstudio.gui.settings_dialog import SettingsDialog

        def offered(combo) -> list[tuple[str, str]]:
            return [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())
                    if isinstance(combo.itemData(i), str) and combo.itemData(i)]

        return SettingsDialog(self.preferences, offered(self.translate_tab.model_combo),
                              offered(self.attention_tab.model_combo),
                              offered(self.produce_tab.form.language_combo), parent=self)

    def open_settings(self) -> None:
        """Show the Settings dialog; OK applies and saves the preferences."""
        dialog = self.settings_dialog()
        if dialog.exec():
            prefs = dialog.preferences()
            save_preferences(prefs)
            self.apply_preferences(prefs)
            self.statusBar().showMessage("Settings saved." + (
                " The interface scale applies when SignStudio next starts."
                if prefs.ui_scale != self.preferences.ui_scale else ""))

    def show_shortcuts(self) -> None:
        """The F1 list of keys."""
        ShortcutsDialog(self).exec()

    def show_focus_help(self) -> None:
        """Show the focused control's tooltip beside it (Shift+F1), for keyboard users."""
        widget = QApplication.focusWidget()
        tip = _tip_of(widget)
        if widget is not None and tip:
            QToolTip.showText(widget.mapToGlobal(widget.rect().bottomLeft()), tip, widget)
        elif tip == "" and widget is not None:
            QToolTip.showText(QCursor.pos(), "No help for this control.", widget)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """On focus, put the focused control's tooltip in the status bar."""
        if event.type() == QEvent.Type.FocusIn and isinstance(obj, QWidget) and obj.window() is self:
            tip = _tip_of(obj)
            if tip:
                self.statusBar().showMessage(tip)
        return False

    def _about(self) -> None:
        QMessageBox.about(
            self, "About SignStudio",
            "<b>SignStudio</b><br>A local-first studio for sign languages.<br><br>"
            "Everything runs on this computer: videos and webcam images are never uploaded.<br>"
            "Landmarks: MediaPipe Holistic. Pose files: pose-format.")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Cancel running jobs and wait for their threads before closing."""
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        for tab in self._tabs():
            tab.shutdown()
        self.models.shutdown()
        super().closeEvent(event)


def _tip_of(widget: QWidget | None) -> str:
    """The tooltip of ``widget`` or of the nearest parent that has one (plain text)."""
    while widget is not None:
        tip = widget.toolTip()
        if tip:
            return _plain(tip)
        widget = widget.parentWidget()
    return ""


def _plain(text: str) -> str:
    """Tooltips may be rich text; the status bar shows plain text."""
    if "<" not in text:
        return text
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(text)
    return doc.toPlainText()
