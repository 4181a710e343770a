"""The Train tab (:class:`~signstudio.gui.train.tab.TrainTab`): its config editor and its curves.
Training runs in a child process; the run's events are read by a Qt-free
:class:`~signstudio.training.monitor.TrainingMonitor`."""

from signstudio.gui.train.tab import TrainTab

__all__ = ["TrainTab"]
