"""The Produce tab (:class:`~signstudio.gui.produce.tab.ProduceTab`), its player and its jobs."""

from signstudio.gui.produce.tab import ProduceTab

__all__ = ["ProduceTab"]
