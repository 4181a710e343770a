#!/usr/bin/env bash
# Set up .venv if needed, check the Qt-free core contract, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export SIGNSTUDIO_DATA="${SIGNSTUDIO_DATA:-$(cd .. && pwd)/shared/data}"
.venv/bin/lint-imports
.venv/bin/python -m pytest -q "$@"
