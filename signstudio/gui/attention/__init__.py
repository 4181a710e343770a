"""The Attention tab (:class:`~signstudio.gui.attention.tab.AttentionTab`): its view of an
:class:`~signstudio.interpret.session.AttentionSession`, its plots and its jobs."""

from signstudio.gui.attention.tab import AttentionTab

__all__ = ["AttentionTab"]
