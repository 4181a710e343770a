"""SignStudio's desktop window (PySide6). The only package that may import Qt.

Entry points: :func:`signstudio.gui.app.run` (the ``signstudio`` / ``signstudio gui`` command),
:func:`signstudio.gui.app.screenshot` and ``python -m signstudio.gui.screenshot OUT.png``.

- ``app`` (QApplication, screenshot), ``main_window`` (the four tabs, one
  :class:`~signstudio.gui.models.InstalledModels` they share);
- one package per tab: ``translate``, ``produce`` (form, 3D player, jobs), ``attention`` (bar,
  view of an :class:`~signstudio.interpret.session.AttentionSession`, plots, jobs) and ``train``
  (config editor, curves; runs are child processes read by a
  :class:`~signstudio.training.monitor.TrainingMonitor`);
- ``runner`` (:class:`~signstudio.gui.runner.JobRunner`: every tab's jobs: start, progress,
  cancel, outcome, shutdown), ``workers`` (core jobs on worker threads or in a child process,
  reported as Qt signals), ``models`` (the installed models and their selectors);
- ``skeleton3d`` (the 3D signer view: images drawn by the Qt-free renderer
  :mod:`signstudio.pose.draw`, the one exported videos use), ``player`` (clip playback),
  ``widgets`` (video view with landmark overlay, captions, message banner), ``frames`` (Qt-free
  display helpers; which landmarks to join is :mod:`signstudio.pose.limbs`).
"""
