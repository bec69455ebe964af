"""A file uploaded to ``batch-input/{endpoint}/{file}`` starts its scoring orchestration."""

from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

from functions.common import log, service
from functions.orchestration import SCORE_FILE

bp = df.Blueprint()


# Flex Consumption runs blob triggers from Event Grid events; elsewhere the host polls.
@bp.blob_trigger(
    arg_name="blob",
    path="batch-input/{name}",
    connection="DESIGNER_STORAGE",
    source=func.BlobSource.EVENT_GRID,
)
@bp.durable_client_input(client_name="client")
async def on_batch_input(blob: func.InputStream, client: df.DurableOrchestrationClient) -> None:
    """Start one scoring run per upload: the instance id comes from the blob name and ETag,
    so a second delivery of the same upload finds its run and stops."""
    request = service().batch.request_for(blob.name or "")
    if request is None:
        service().batch.misplaced_upload(blob.name or "")
        log.warning("ignored %s: upload files to batch-input/<endpoint>/<file>", blob.name)
        return
    status = await client.get_status(request.instance_id)
    if status and status.runtime_status is not None:
        log.info("%s (ETag %s) is already being scored as %s", blob.name, request.etag, request.instance_id)
        return
    await client.start_new(SCORE_FILE, instance_id=request.instance_id, client_input=request.model_dump())
