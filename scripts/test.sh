#!/usr/bin/env bash
# Set up, then run the whole test suite. The tests start their own Azurite and local host
# on free loopback ports, so nothing needs to be running first. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
