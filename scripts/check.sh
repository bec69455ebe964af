#!/usr/bin/env bash
# The gates CI runs before the tests: lint, formatting, types and the layer contracts
# (configured in pyproject.toml). Every gate runs, each one's time is printed, and the script
# fails if any of them found a problem. Run after scripts/setup.sh.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=()
gate() {
  local name=$1
  shift
  local start=$EPOCHREALTIME output status=ok
  output=$("$@" 2>&1) || status=FAIL
  awk -v n="$name" -v r="$status" -v s="$start" -v e="$EPOCHREALTIME" \
    'BEGIN { printf "gate %-13s %-4s %5.1f s\n", n, r, e - s }'
  if [ "$status" = FAIL ]; then
    printf '%s\n' "$output" >&2  # what it found, only when it found something
    failed+=("$name")
  fi
}

gate "ruff check" .venv/bin/ruff check --quiet .
gate "ruff format" .venv/bin/ruff format --check --quiet .
gate "mypy" .venv/bin/mypy --no-error-summary
gate "lint-imports" .venv/bin/lint-imports --no-cache

if [ ${#failed[@]} -gt 0 ]; then
  echo "Failed gates: ${failed[*]}" >&2
  exit 1
fi
