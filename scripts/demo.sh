#!/usr/bin/env bash
# Set up, start Azurite and the local Functions host, and run the designer tutorial pipeline
# end to end over HTTP, then print the designer's address. In a terminal it keeps serving until
# Ctrl-C; otherwise (CI, pipes) it stops what it started on exit. KEEP_RUNNING=1 leaves both running.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

PORT=${DESIGNER_PORT:-7071}
mkdir -p .local/azurite
secret() { [ -s "$1" ] || .venv/bin/python -c "import secrets; print(secrets.token_hex(24))" > "$1"; cat "$1"; }
FUNCTION_KEY=$(secret .local/function-key)
SIGNING_KEY=$(secret .local/signing-key)
AZURITE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CONN="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_KEY;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"

pids=()
cleanup() {
  if [ "${KEEP_RUNNING:-0}" = 1 ]; then
    echo "left running: host http://127.0.0.1:$PORT (key in .local/function-key), Azurite on 10000-10002"
    return
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

answers() { .venv/bin/python -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $1)))"; }

if answers 10000; then
  echo "Azurite already running on 127.0.0.1:10000"
else
  node_modules/.bin/azurite --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 \
    --location .local/azurite --skipApiVersionCheck --silent --disableTelemetry > .local/azurite.log 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do answers 10000 && answers 10001 && answers 10002 && break; sleep 0.05; done
  echo "Azurite started (data in .local/azurite)"
fi

if answers "$PORT"; then
  echo "port $PORT is busy: stop what runs there or set DESIGNER_PORT" >&2
  exit 1
fi
env DESIGNER_STORAGE_CONNECTION_STRING="$CONN" AzureWebJobsStorage="$CONN" DESIGNER_STORAGE="$CONN" \
    DESIGNER_ARTIFACT_SIGNING_KEY="$SIGNING_KEY" DEVHOST_FUNCTION_KEY="$FUNCTION_KEY" \
    .venv/bin/python -m devhost --app function_app --port "$PORT" > .local/devhost.log 2>&1 &
pids+=($!)
for _ in $(seq 600); do answers "$PORT" && break; sleep 0.1; done
answers "$PORT" || { cat .local/devhost.log; exit 1; }
echo "local host on http://127.0.0.1:$PORT (log: .local/devhost.log)"

.venv/bin/python -m samples.run_tutorial --url "http://127.0.0.1:$PORT" --key "$FUNCTION_KEY" --ui

if [ "${KEEP_RUNNING:-0}" != 1 ] && [ -z "${CI:-}" ] && [ -t 0 ] && [ -t 1 ]; then
  echo
  echo "Serving the designer until Ctrl-C (the key is kept in the browser tab, not in the address bar)."
  wait "${pids[@]}"
fi
