"""``python -m signstudio`` is the ``signstudio`` command."""

from signstudio.cli import main

raise SystemExit(main())
