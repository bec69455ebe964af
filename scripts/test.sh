#!/usr/bin/env bash
# Set up, pass the gates (scripts/check.sh), then run the whole test suite. The tests start
# their own Azurite and local host on free loopback ports, so nothing needs to be running first.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# Lint, formatting, types and layer contracts first: any problem fails the run before the tests.
bash scripts/check.sh

# The UI tests drive the OS's Chromium (Playwright downloads no browser).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "Installing Chromium from the OS packages for the UI tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core > /dev/null
  else
    echo "The UI tests need Chromium at /usr/bin/chromium. Install it as root, e.g." >&2
    echo "  sudo apt-get update && sudo apt-get install -y chromium fonts-dejavu-core" >&2
    echo "then run this script again (tests/ui fails without it)." >&2
  fi
fi

# Unit tests of the UI's own logic (Node's test runner).
(cd web && node --test test/)
# Two workers, each with its own Azurite and local host, take whole test files (and the browser
# files all together: tests/conftest.py groups them): most tests wait on a host or a browser, so
# two run in about the time of one. TEST_WORKERS=0 runs them in this process.
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
