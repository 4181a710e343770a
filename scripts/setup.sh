#!/usr/bin/env bash
# Create .venv with SignStudio and its pinned dependencies (Python 3.11 or 3.12).
# Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if [ ! -f .venv/.signstudio-installed ] || [ pyproject.toml -nt .venv/.signstudio-installed ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test]"
  touch .venv/.signstudio-installed
fi
