"""The main window: four tabs (Translate, Produce, Attention, Train), a menu and a status bar."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox, QTabWidget, QWidget

from signstudio.gui.attention import AttentionTab
from signstudio.gui.models import InstalledModels
from signstudio.gui.produce import ProduceTab
from signstudio.gui.train import TrainTab
from signstudio.gui.translate import TranslateTab

DEFAULT_SIZE = (1280, 800)


class MainWindow(QMainWindow):
    """SignStudio's window: ``translate_tab``, ``produce_tab``, ``attention_tab`` and ``train_tab``.

    The tabs share one :class:`~signstudio.gui.models.InstalledModels` (:attr:`models`): a model
    that finishes training is offered at once in the Translate and Attention tabs. Closing the
    window cancels running jobs (and a training process) and waits for their threads.
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
        index = self.tabs.addTab(self.train_tab, "T&rain")
        self.tabs.setTabToolTip(index, "Train or fine-tune a model in the background, with live curves")
        self.setCentralWidget(self.tabs)

        for tab in self._tabs():
            tab.status_message.connect(self._show_status)
        self.statusBar().showMessage(
            "Ready. Open a video of signing, or start the webcam.")
        self._build_menus()

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
        help_menu = self.menuBar().addMenu("&Help")
        self._add_action(help_menu, "&About SignStudio", None, self._about)

    def _add_action(self, menu, text: str, shortcut, slot) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _tabs(self) -> tuple:
        return (self.translate_tab, self.produce_tab, self.attention_tab, self.train_tab)

    def _show_status(self, text: str) -> None:
        self.statusBar().showMessage(text)

    def _about(self) -> None:
        QMessageBox.about(
            self, "About SignStudio",
            "<b>SignStudio</b><br>A local-first studio for sign languages.<br><br>"
            "Everything runs on this computer: videos and webcam images are never uploaded.<br>"
            "Landmarks: MediaPipe Holistic. Pose files: pose-format.")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Cancel running jobs and wait for their threads before closing."""
        for tab in self._tabs():
            tab.shutdown()
        self.models.shutdown()
        super().closeEvent(event)
