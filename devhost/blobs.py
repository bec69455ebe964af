"""Blob triggers: poll the watched containers and call the function once per blob version.

Like the Functions host's container scan, the poller lists the container named in
the trigger path (``batch-input/{endpoint}/{name}``), calls the function for every
blob it has no *receipt* for (blobs that were there before start-up included), and
then writes a receipt blob. Receipts live where the real host keeps them,
``azure-webjobs-hosts/blobreceipts/{hostId}/{function}/{etag}/{container}/{blob}``,
so a restart does not fire again, and a rewritten blob (new ETag) fires once more.
A failing function is retried on the next polls, ``max_attempts`` times in all (the
host's ``maxDequeueCount``), then given up with an error log and a receipt marked
``failed``; it never stops the poller. Blobs are processed one at a time, beside
(never blocking) the HTTP server.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.functions.blob import InputStream
from azure.storage.blob import BlobProperties, BlobServiceClient

from .app_index import BlobTriggerFunction
from .history_store import client_environment
from .invoke import call_async, with_context

log = logging.getLogger(__name__)

RECEIPTS_CONTAINER = "azure-webjobs-hosts"


@dataclass(frozen=True)
class _Watch:
    trigger: BlobTriggerFunction
    client: BlobServiceClient
    name_regex: re.Pattern[str]


@dataclass(frozen=True)
class _Candidate:
    watch: _Watch
    blob: BlobProperties
    receipt: str


class BlobPoller:
    """Watches the containers of ``triggers``; start()/stop() run it beside the server.

    ``settings`` maps connection setting names to connection strings (the app
    settings). ``durable_client_binding`` supplies the binding JSON for blob functions
    that also take a durable client.
    """

    def __init__(
        self,
        triggers: Sequence[BlobTriggerFunction],
        settings: Mapping[str, str],
        *,
        interval: float = 1.0,
        host_id: str = "devhost",
        max_attempts: int = 5,
        durable_client_binding: Callable[[], str] | None = None,
    ) -> None:
        self._interval = interval
        self._host_id = host_id
        self._max_attempts = max_attempts
        self._durable_client_binding = durable_client_binding
        self._clients: dict[str, BlobServiceClient] = {}  # by connection string
        self._watches: list[_Watch] = []
        for trigger in triggers:
            # The host also accepts the setting name with an "AzureWebJobs" prefix.
            connection_string = settings.get(trigger.connection) or settings.get(
                f"AzureWebJobs{trigger.connection}"
            )
            if not connection_string:
                log.error(
                    "blob trigger %s: app setting %r is not set; not watching %s",
                    trigger.name,
                    trigger.connection,
                    trigger.container,
                )
                continue
            if connection_string not in self._clients:
                self._clients[connection_string] = BlobServiceClient.from_connection_string(
                    connection_string, use_env_settings=client_environment()
                )
            self._watches.append(
                _Watch(trigger, self._clients[connection_string], _blob_name_regex(trigger.blob_pattern))
            )
        self._receipts: dict[str, set[str]] = {}  # function name -> receipt blob names
        self._failures: Counter[str] = Counter()  # receipt name -> failed attempts
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._watches:
            self._task = asyncio.create_task(self._run(), name="blob-poller")

    async def stop(self) -> None:
        """Stop polling and close the storage clients (the poller is not restartable)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    async def poll_once(self) -> int:
        """One scan of every watched container; returns how many invocations it made."""
        invocations = 0
        for watch in self._watches:
            for candidate in await asyncio.to_thread(self._scan, watch):
                await self._process(candidate)
                invocations += 1
        return invocations

    async def _run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except Exception:
                log.exception("blob poll failed; trying again in %s s", self._interval)
            await asyncio.sleep(self._interval)

    # -- scanning (blocking storage calls, run in a thread) -----------------------------
    def _scan(self, watch: _Watch) -> list[_Candidate]:
        trigger = watch.trigger
        receipts = self._receipts_of(watch)
        prefix = trigger.blob_pattern.split("{", 1)[0]
        container = watch.client.get_container_client(trigger.container)
        candidates = []
        try:
            for blob in container.list_blobs(name_starts_with=prefix or None, include=["metadata"]):
                if not watch.name_regex.fullmatch(blob.name):
                    continue
                receipt = self._receipt_name(trigger, blob)
                if receipt not in receipts:
                    candidates.append(_Candidate(watch, blob, receipt))
        except ResourceNotFoundError:
            pass  # the container does not exist yet: nothing to do
        return candidates

    def _receipts_of(self, watch: _Watch) -> set[str]:
        """Receipts written by earlier runs are read once, then tracked in memory.
        They are kept in the watched account (the host uses AzureWebJobsStorage)."""
        trigger = watch.trigger
        if trigger.name not in self._receipts:
            prefix = f"blobreceipts/{self._host_id}/{trigger.name}/"
            try:
                names = {
                    b.name
                    for b in watch.client.get_container_client(RECEIPTS_CONTAINER).list_blobs(
                        name_starts_with=prefix
                    )
                }
            except ResourceNotFoundError:
                names = set()
            self._receipts[trigger.name] = names
        return self._receipts[trigger.name]

    def _receipt_name(self, trigger: BlobTriggerFunction, blob: BlobProperties) -> str:
        etag = (blob.etag or "").strip('"')
        return f"blobreceipts/{self._host_id}/{trigger.name}/{etag}/{trigger.container}/{blob.name}"

    # -- invoking -----------------------------------------------------------------------
    async def _process(self, candidate: _Candidate) -> None:
        watch, blob = candidate.watch, candidate.blob
        trigger = watch.trigger
        blob_client = watch.client.get_blob_client(trigger.container, blob.name)
        stream = _LazyBlobStream(
            blob_client,
            blob.etag,
            name=f"{trigger.container}/{blob.name}",
            length=blob.size,
            uri=blob_client.url,
            blob_properties=_properties(blob),
            metadata=dict(blob.metadata or {}),
        )
        kwargs: dict[str, Any] = {trigger.arg: stream}
        if trigger.durable_client_arg and self._durable_client_binding is not None:
            kwargs[trigger.durable_client_arg] = self._durable_client_binding()
        try:
            await call_async(trigger.func, with_context(trigger.func, trigger.name, kwargs))
        except Exception:
            self._failures[candidate.receipt] += 1
            attempts = self._failures[candidate.receipt]
            log.exception(
                "Executed 'Functions.%s' (Failed, attempt %d of %d) for blob %s",
                trigger.name,
                attempts,
                self._max_attempts,
                stream.name,
            )
            if attempts < self._max_attempts:
                return
            log.error("giving up on blob %s for function %s", stream.name, trigger.name)
            outcome = "failed"
        else:
            outcome = "succeeded"
        self._failures.pop(candidate.receipt, None)
        await asyncio.to_thread(self._write_receipt, watch, candidate.receipt, outcome)

    def _write_receipt(self, watch: _Watch, receipt: str, outcome: str) -> None:
        container = watch.client.get_container_client(RECEIPTS_CONTAINER)
        with contextlib.suppress(ResourceExistsError):
            container.create_container()
        container.upload_blob(receipt, b"", overwrite=True, metadata={"outcome": outcome})
        self._receipts[watch.trigger.name].add(receipt)


class _LazyBlobStream(InputStream):
    """An InputStream that downloads the blob on first read.

    The real host hands the function the whole content; locally, a function that needs only the
    name (batch scoring streams the blob itself) then never holds a large upload in memory.
    Reading a blob rewritten since it was listed raises, as the next scan picks it up again.
    """

    def __init__(self, blob_client: Any, etag: str | None, **kwargs: Any) -> None:
        super().__init__(data=b"", **kwargs)
        self._client, self._etag, self._loaded = blob_client, etag, False

    def read(self, size: int | None = -1) -> bytes:
        if not self._loaded:
            self._io = io.BytesIO(_download(self._client, self._etag))
            self._loaded = True
        return self._io.read(size)

    read1 = read


def _download(blob_client: Any, etag: str | None) -> bytes:
    """The very version that was listed: a blob rewritten since then is skipped now
    and picked up (with its new ETag) by the next scan."""
    return blob_client.download_blob(etag=etag, match_condition=MatchConditions.IfNotModified).readall()


def _properties(blob: BlobProperties) -> dict[str, Any]:
    return {
        "Length": blob.size,
        "ContentType": blob.content_settings.content_type if blob.content_settings else None,
        "ETag": blob.etag,
        "LastModified": blob.last_modified.isoformat() if blob.last_modified else None,
    }


def _blob_name_regex(pattern: str) -> re.Pattern[str]:
    """``{endpoint}/{name}``: each parameter is one path segment, except the last,
    which takes the rest of the name (virtual folders included)."""
    parts = re.split(r"\{(\w+)\}", pattern)
    regex = ""
    for i, literal in enumerate(parts[0::2]):
        regex += re.escape(literal)
        names = parts[1::2]
        if i < len(names):
            regex += f"(?P<{names[i]}>.+)" if i == len(names) - 1 else f"(?P<{names[i]}>[^/]+)"
    return re.compile(regex)
