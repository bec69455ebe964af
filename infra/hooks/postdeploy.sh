#!/bin/sh
# azd postdeploy hook: subscribe the batch-scoring blob trigger to blob events.
#
# Flex Consumption only runs the Event Grid flavour of the blob trigger
# (source=EventGrid). Its webhook URL carries the blobs_extension system key,
# which the Functions host creates only once the code is deployed and running,
# so the event subscription cannot be part of the Bicep template.
#
# azd passes the environment values (Bicep outputs) as environment variables.
# Optional override: BATCH_SCORING_FUNCTION_NAME (otherwise the function with
# a blobTrigger binding is discovered with `az functionapp function list`).
set -eu

: "${AZURE_RESOURCE_GROUP:?run through azd (azd up / azd deploy) or export the azd env values}"
: "${AZURE_FUNCTION_APP_NAME:?missing}"
: "${EVENTGRID_SYSTEM_TOPIC_NAME:?missing}"
BATCH_INPUT_CONTAINER="${BATCH_INPUT_CONTAINER:-batch-input}"
SUBSCRIPTION_NAME="${BATCH_SCORING_SUBSCRIPTION_NAME:-batch-scoring}"
ATTEMPTS="${POSTDEPLOY_ATTEMPTS:-20}"
DELAY="${POSTDEPLOY_DELAY_SECONDS:-15}"

if ! command -v az >/dev/null 2>&1; then
  echo "postdeploy: the Azure CLI (az) is required to create the Event Grid subscription" >&2
  exit 1
fi

retry() {
  # retry <description> <command...>: prints the command's stdout once it is non-empty.
  what="$1"; shift
  i=1
  while [ "$i" -le "$ATTEMPTS" ]; do
    out="$("$@" 2>/dev/null || true)"
    if [ -n "$out" ]; then
      printf '%s\n' "$out"
      return 0
    fi
    echo "postdeploy: waiting for $what ($i/$ATTEMPTS)" >&2
    sleep "$DELAY"
    i=$((i + 1))
  done
  return 1
}

fn="${BATCH_SCORING_FUNCTION_NAME:-}"
if [ -z "$fn" ]; then
  # Wait until the deployed functions are indexed, then pick the blob trigger (if any).
  retry "the deployed functions to be listed" \
    az functionapp function list \
      --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
      --query "[].name" --output tsv >/dev/null || {
    echo "postdeploy: no functions are listed for $AZURE_FUNCTION_APP_NAME; did the deployment succeed?" >&2
    exit 1
  }
  fn="$(az functionapp function list \
      --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
      --query "[?config.bindings[?type=='blobTrigger']].name | [0]" --output tsv)"
  fn="${fn##*/}"   # the list returns <app>/<function>
fi
if [ -z "$fn" ] || [ "$fn" = "None" ]; then
  echo "postdeploy: no blob-triggered function found; skipping the Event Grid subscription"
  exit 0
fi

key="$(retry "the blobs_extension system key" \
  az functionapp keys list \
    --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
    --query "systemKeys.blobs_extension" --output tsv)" || {
  echo "postdeploy: the blobs_extension key did not appear; is '$fn' a blob trigger with source=EventGrid?" >&2
  exit 1
}

host="$(az functionapp show --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
  --query defaultHostName --output tsv)"
endpoint="https://${host}/runtime/webhooks/blobs?functionName=Host.Functions.${fn}&code=${key}"

echo "postdeploy: subscribing function '$fn' to BlobCreated events in container '$BATCH_INPUT_CONTAINER'"
az eventgrid system-topic event-subscription create \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --system-topic-name "$EVENTGRID_SYSTEM_TOPIC_NAME" \
  --name "$SUBSCRIPTION_NAME" \
  --endpoint-type webhook \
  --endpoint "$endpoint" \
  --included-event-types Microsoft.Storage.BlobCreated \
  --subject-begins-with "/blobServices/default/containers/${BATCH_INPUT_CONTAINER}/" \
  --output none
echo "postdeploy: Event Grid subscription '$SUBSCRIPTION_NAME' is in place"
