#!/usr/bin/env sh
# Build the designer's browser bundle into web/dist (the azd prepackage hook; setup.sh does
# the same, stamped). Needs Node.js 20 and npm.
set -eu
cd "$(dirname "$0")/../web"
npm ci --no-audit --no-fund --loglevel=error
node build.mjs
