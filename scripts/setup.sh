#!/usr/bin/env bash
# Create .venv with SignStudio and its pinned dependencies (Python 3.11 or 3.12).
# Re-installs only when pyproject.toml changed since the last install.
# Prints each step; pip lists every package as it is fetched and installed (about 4-5 minutes
# the first time: PyTorch, MediaPipe and Qt are large downloads).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
START=$SECONDS
step() { printf '\n[setup %s] %s\n' "$1" "$2"; }
if [ ! -x .venv/bin/python ]; then
  step 1/3 "creating the virtual environment .venv with $("$PY" --version 2>&1)"
  "$PY" -m venv .venv
else
  step 1/3 "using the existing .venv"
fi
if [ ! -f .venv/.signstudio-installed ] || [ pyproject.toml -nt .venv/.signstudio-installed ]; then
  step 2/3 "updating pip"
  .venv/bin/python -m pip install -q --upgrade pip
  step 3/3 "installing SignStudio and its dependencies (first time: about 4-5 minutes; each package is listed below)"
  # pip's own progress (one line per package, download bars); its "already satisfied" lines are dropped.
  set +o pipefail
  .venv/bin/python -m pip install --progress-bar on -e ".[train,test,llm]" 2>&1 \
    | { grep --line-buffered -v "^Requirement already satisfied" || true; }
  status=${PIPESTATUS[0]}
  set -o pipefail
  if [ "$status" -ne 0 ]; then
    printf '\n[setup failed] pip could not install the dependencies (exit %s); see the lines above\n' "$status" >&2
    exit "$status"
  fi
  touch .venv/.signstudio-installed
else
  step 2/3 "dependencies are up to date (pyproject.toml unchanged since the last install)"
fi
printf '\n[setup done] in %d s. Open the window: .venv/bin/signstudio   (or `.venv/bin/signstudio --help`)\n' \
  $((SECONDS - START))
