"""File-drop scoring from a browser: put a file where the blob trigger looks, then follow it.

A browser holds no storage credentials, so the API writes the upload to
``batch-input/{endpoint}/{file}`` itself; from there it is scored exactly like a file dropped
with any storage tool (see :mod:`core.serving.batch`). Following a file means finding its run (its id
comes from the blob's name and ETag) and the result or error report it left in ``batch-output``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from core import names
from core.errors import InvalidRequest, NotFound, Problem
from core.registry import endpoints, runs
from core.serving import batch
from core.storage.store import Store

FILE_PATTERN = names.FILE
SUFFIXES = (".csv", ".parquet")
CONTENT_TYPES = {".csv": "text/csv", ".parquet": "application/vnd.apache.parquet"}
MAX_LISTED = 100


class DroppedFile(BaseModel):
    endpoint: str
    file: str
    size: int
    etag: str
    run_id: str
    status: str
    error: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    predictions: str | None = None
    error_report: dict[str, Any] | None = None


def check_file_name(file: str) -> None:
    if not names.is_valid("file", file) or not file.lower().endswith(SUFFIXES):
        raise InvalidRequest(
            "Invalid file name",
            [
                Problem(
                    code="invalid_name",
                    field="file",
                    message="A file name has letters, digits, spaces, '.', '_' or '-' (at most 200), starts "
                    "with a letter or digit and ends in .csv or .parquet",
                )
            ],
        )


def upload(store: Store, endpoint: str, file: str, data: bytes) -> DroppedFile:
    """Store the file for scoring; the endpoint must exist so nothing is dropped into a void."""
    check_file_name(file)
    endpoints.get(store, endpoint)
    if not data:
        raise InvalidRequest(
            "The upload is empty",
            [Problem(code="empty_body", field="body", message="Send the file as the body")],
        )
    suffix = "." + file.rsplit(".", 1)[-1].lower()
    store.put_blob(batch.INPUT_CONTAINER, f"{endpoint}/{file}", data, content_type=CONTENT_TYPES[suffix])
    return status(store, endpoint, file)


def status(store: Store, endpoint: str, file: str) -> DroppedFile:
    """Where the latest upload of ``file`` stands: waiting, scoring, scored or failed."""
    check_file_name(file)
    request = batch.request_for(store, f"{batch.INPUT_CONTAINER}/{endpoint}/{file}")
    props = store.blob_metadata(batch.INPUT_CONTAINER, f"{endpoint}/{file}")
    if request is None or props is None:
        raise NotFound(f"No file {file!r} was dropped for endpoint {endpoint!r}")
    found = DroppedFile(
        endpoint=endpoint,
        file=file,
        size=int(props["size"]),
        etag=request.etag,
        run_id=request.instance_id,
        status="Waiting",
    )
    run = runs.find_run(store, batch.EXPERIMENT, request.instance_id)
    if run is not None:
        found.status, found.error = run.status.value, run.error
        found.started_at, found.ended_at = run.started_at, run.ended_at
        if run.status == runs.RunStatus.FINISHED:  # this run wrote (or overwrote) the result
            found.predictions = _result_name(store, request)
        if run.status in runs.TERMINAL:
            found.error_report = _error_report(store, request)
    return found


def list_files(store: Store, endpoint: str) -> list[str]:
    endpoints.get(store, endpoint)
    found = store.list_blobs(batch.INPUT_CONTAINER, prefix=f"{endpoint}/")
    return [n.partition("/")[2] for n in found][:MAX_LISTED]


def predictions(store: Store, endpoint: str, file: str) -> tuple[bytes, str]:
    found = status(store, endpoint, file)
    if found.predictions is None:
        raise NotFound(f"{file!r} has no predictions yet (status {found.status})")
    suffix = ".parquet" if found.predictions.endswith(".parquet") else ".csv"
    return store.get_blob(batch.OUTPUT_CONTAINER, found.predictions), CONTENT_TYPES[suffix]


def _result_name(store: Store, request: batch.BatchRequest) -> str | None:
    for suffix in (".predictions.csv", ".predictions.parquet"):
        name = batch.output_name(request, suffix)
        props = store.blob_metadata(batch.OUTPUT_CONTAINER, name)
        if props is not None:
            return name
    return None


def _error_report(store: Store, request: batch.BatchRequest) -> dict[str, Any] | None:
    try:
        report = json.loads(store.get_blob(batch.OUTPUT_CONTAINER, batch.output_name(request, ".error.json")))
    except KeyError:
        return None
    # A report left by an earlier upload of the same name belongs to another run.
    return report if report.get("run_id") == request.instance_id else None
