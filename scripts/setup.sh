#!/usr/bin/env bash
# Install everything the project needs into the checkout: a Python venv, Azurite (npm) and
# the designer's browser bundle (web/dist).
# Idempotent and quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

# Infrastructure checks (pycep, checkov) live in their own venv: checkov pins many packages.
if [ ! -x .venv-iac/bin/python ]; then
  "$PYTHON" -m venv .venv-iac
fi
iac_stamp=.venv-iac/.requirements.sha256
iac_want=$(sha256sum requirements-iac.txt | cut -d' ' -f1)
if [ "$(cat "$iac_stamp" 2>/dev/null)" != "$iac_want" ]; then
  .venv-iac/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-iac.txt
  echo "$iac_want" > "$iac_stamp"
fi

npm_stamp=node_modules/.package-lock.sha256
npm_want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -x node_modules/.bin/azurite ] || [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_want" > "$npm_stamp"
fi

# The designer's browser bundle (web/dist, git-ignored): npm ci when the lock file changed,
# esbuild when the sources changed.
web_stamp=web/node_modules/.package-lock.sha256
web_want=$(sha256sum web/package-lock.json | cut -d' ' -f1)
if [ ! -x web/node_modules/.bin/esbuild ] || [ "$(cat "$web_stamp" 2>/dev/null)" != "$web_want" ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
  echo "$web_want" > "$web_stamp"
fi
build_stamp=web/dist/.sources.sha256
build_want=$(find web/src web/build.mjs web/package-lock.json -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ ! -f web/dist/index.html ] || [ "$(cat "$build_stamp" 2>/dev/null)" != "$build_want" ]; then
  (cd web && node build.mjs)
  echo "$build_want" > "$build_stamp"
fi
