"""The Translate tab (:class:`~signstudio.gui.translate.tab.TranslateTab`) and its jobs."""

from signstudio.gui.translate.tab import TranslateTab

__all__ = ["TranslateTab"]
