"""SignStudio's desktop window (PySide6). The only package that may import Qt.

Entry points: :func:`signstudio.gui.app.run` (the ``signstudio`` / ``signstudio gui`` command),
:func:`signstudio.gui.app.screenshot` and ``python -m signstudio.gui.screenshot OUT.png``.

Modules: ``app`` (QApplication, screenshot), ``main_window``, the tabs ``translate_tab``,
``produce_tab``, ``attention_tab`` (with ``attention_jobs``) and ``train_tab`` (training runs in a
child process, :mod:`signstudio.training.process`), ``skeleton3d`` (the 3D skeleton view,
pyqtgraph.opengl), ``player`` (clip playback),
``widgets`` (video view with landmark overlay, captions, message banner), ``workers`` (core jobs
on worker threads, task handle → queued signals), ``jobs`` (thin adapters to core functions),
``frames`` and ``skeleton`` (Qt-free display helpers).
"""
