#!/usr/bin/env bash
# Set up .venv if needed, check the Qt-free core contract, and run the whole test suite
# (two pytest-xdist workers; SIGNSTUDIO_TEST_WORKERS changes how many).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export SIGNSTUDIO_DATA="${SIGNSTUDIO_DATA:-$(cd .. && pwd)/shared/data}"
.venv/bin/lint-imports
# Two workers, one per core (a test file stays on one worker: its module fixtures are made once),
# each with one torch thread: two threads per process on 2 cores spin against each other.
# Pass -n 0 to run in one process.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
.venv/bin/python -m pytest -q -n "${SIGNSTUDIO_TEST_WORKERS:-2}" --dist loadfile "$@"
