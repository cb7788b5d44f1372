#!/usr/bin/env bash
# Lint, format check and type check, read-only (settings in pyproject.toml).
#   scripts/lint.sh            # all three; exit 1 if any finds something
#   ruff check --fix src tests && ruff format src tests   # to fix (not run here)
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
status=0
echo "== ruff check" && "$BIN/ruff" check src tests || status=1
echo "== ruff format --check" && "$BIN/ruff" format --check src tests || status=1
echo "== mypy" && "$BIN/mypy" src/fewtag || status=1
exit $status
