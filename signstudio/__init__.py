"""SignStudio: a local-first studio for sign languages.

The core (everything outside :mod:`signstudio.gui`) never imports Qt, so the CLI, tests and
training processes run headless.
"""

__version__ = "0.1.0"
