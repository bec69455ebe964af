"""Orchestration state in storage, so that runs survive the host that drives them.

The Durable extension on Azure Storage keeps each instance's status and history in
the task hub's tables; a host that dies mid-run leaves both behind and the next host
replays the history and carries on. devhost does the same with blobs in one container
per task hub (``<hub>-durable``): blobs have no 64 KB property limit, so large inputs
and results need no second "large messages" store.

* ``instances/<id>.json``: the instance's status JSON (what the status API answers),
  rewritten when the status, custom status or output changes; its metadata carries
  the runtime status so start-up finds the in-flight instances without reading them all.
* ``history/<id>.jsonl``: an append blob, one history event per line, one append per
  orchestrator episode (its incoming events, what it scheduled and OrchestratorCompleted).

Only one host resumes a hub's instances: recovery first takes a lease on the hub's
``host.lock`` blob (renewed while the host runs, released when it stops; a killed
host's lease expires after ``LEASE_SECONDS``), so a second host on the same hub waits
and takes over only when the first is gone.

Appends happen after the episode's activities were dispatched, so a crash can lose the
record of a dispatch but never invent one: the replay after a restart asks for those
activities again, and dispatching one twice is harmless because activities must be
idempotent (node outputs are content-addressed). An episode is only trusted up to its
OrchestratorCompleted; a torn tail (a crash between append blocks) is dropped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, unquote

from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobLeaseClient, BlobServiceClient, BlobType, LinearRetry

from .history import EventType

log = logging.getLogger(__name__)

T = TypeVar("T")

_INSTANCES, _HISTORY = "instances/", "history/"
_STATUS_METADATA = "runtimestatus"
_LOCK = "host.lock"
LEASE_SECONDS = 15  # the shortest lease Blob storage grants
# Events the host delivers to an orchestrator at the start of an episode.
_INCOMING = {
    EventType.EXECUTION_STARTED,
    EventType.TASK_COMPLETED,
    EventType.TASK_FAILED,
    EventType.TIMER_FIRED,
}


class HistoryStore(Protocol):
    """Where a :class:`~devhost.durable.LocalDurableRuntime` keeps its instances."""

    def save_status(self, status: dict[str, Any]) -> None: ...

    def load_status(self, instance_id: str) -> dict[str, Any] | None: ...

    def list_statuses(self, runtime_statuses: set[str] | None = None) -> list[dict[str, Any]]: ...

    def new_history(self, instance_id: str) -> None: ...

    def append_history(self, instance_id: str, events: list[dict[str, Any]]) -> None: ...

    def load_history(self, instance_id: str) -> list[dict[str, Any]]: ...

    def delete(self, instance_id: str) -> bool: ...

    def hold_hub(self, stopping: threading.Event) -> None: ...

    def release_hub(self) -> None: ...


def container_name(task_hub: str) -> str:
    """A valid container name for the hub (3-63 lower-case letters, digits, single hyphens)."""
    base = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "", task_hub.lower())).strip("-")[:54] or "devhosthub"
    return f"{base}-durable"


def client_environment() -> bool:
    """Whether the storage SDK's HTTP client must read proxy settings from the environment
    (on every request: most of a millisecond of CPU each); only if it sets any. The local
    host talks to Azurite over plain HTTP, so a CA bundle does not matter here."""
    names = {"http_proxy", "https_proxy", "all_proxy"}
    return any(key.lower() in names and value for key, value in os.environ.items())


class BlobHistoryStore:
    """:class:`HistoryStore` on Azure Blob storage (Azurite locally).

    The SDK's own retries are kept short (its default waits over a minute before
    giving up): callers that must not give up wrap calls in :func:`retry_until`.
    """

    def __init__(self, connection_string: str, task_hub: str) -> None:
        service = BlobServiceClient.from_connection_string(
            connection_string,
            # The SDK annotates both as int but takes seconds as floats (it calls random.uniform).
            retry_policy=LinearRetry(backoff=0.5, retry_total=2, random_jitter_range=0.2),  # type: ignore[arg-type]
            use_env_settings=client_environment(),
        )
        self._container = service.get_container_client(container_name(task_hub))
        self._ensured = False
        self._lease: BlobLeaseClient | None = None
        self._released = threading.Event()

    def _ensure(self) -> None:
        if not self._ensured:
            with contextlib.suppress(ResourceExistsError):
                self._container.create_container()
            self._ensured = True

    def save_status(self, status: dict[str, Any]) -> None:
        self._ensure()
        self._container.upload_blob(
            _INSTANCES + _blob_id(status["instanceId"]) + ".json",
            json.dumps(status).encode(),
            overwrite=True,
            metadata={_STATUS_METADATA: status["runtimeStatus"]},
        )

    def load_status(self, instance_id: str) -> dict[str, Any] | None:
        self._ensure()
        try:
            data = self._container.download_blob(_INSTANCES + _blob_id(instance_id) + ".json").readall()
        except ResourceNotFoundError:
            return None
        return json.loads(data)

    def list_statuses(self, runtime_statuses: set[str] | None = None) -> list[dict[str, Any]]:
        self._ensure()
        found = []
        for blob in self._container.list_blobs(name_starts_with=_INSTANCES, include=["metadata"]):
            if runtime_statuses is None or (blob.metadata or {}).get(_STATUS_METADATA) in runtime_statuses:
                instance_id = unquote(blob.name[len(_INSTANCES) : -len(".json")])
                status = self.load_status(instance_id)
                if status is not None:
                    found.append(status)
        return found

    def new_history(self, instance_id: str) -> None:
        self._ensure()
        self._container.get_blob_client(_HISTORY + _blob_id(instance_id) + ".jsonl").create_append_blob()

    def append_history(self, instance_id: str, events: list[dict[str, Any]]) -> None:
        if events:
            data = "".join(json.dumps(e) + "\n" for e in events).encode()
            # overwrite=False on an append blob appends (in blocks of at most 4 MiB)
            self._container.upload_blob(
                _HISTORY + _blob_id(instance_id) + ".jsonl",
                data,
                blob_type=BlobType.APPENDBLOB,
                overwrite=False,
            )

    def load_history(self, instance_id: str) -> list[dict[str, Any]]:
        self._ensure()
        try:
            data = self._container.download_blob(_HISTORY + _blob_id(instance_id) + ".jsonl").readall()
        except ResourceNotFoundError:
            return []
        return trusted_prefix([json.loads(line) for line in _complete_lines(data)])

    def delete(self, instance_id: str) -> bool:
        """Purge the instance's status and history; False if storage had neither."""
        self._ensure()
        deleted = False
        for name in (
            _INSTANCES + _blob_id(instance_id) + ".json",
            _HISTORY + _blob_id(instance_id) + ".jsonl",
        ):
            with contextlib.suppress(ResourceNotFoundError):
                self._container.delete_blob(name)
                deleted = True
        return deleted

    def hold_hub(self, stopping: threading.Event) -> None:
        """Block until this host holds the hub's lease (or raise StopRetrying at shutdown);
        a thread renews it until :meth:`release_hub`."""
        if self._lease is not None:
            return
        waiting_logged = False
        while self._lease is None:
            try:
                self._ensure()
                lock = self._container.get_blob_client(_LOCK)
                with contextlib.suppress(ResourceExistsError):
                    lock.upload_blob(b"", overwrite=False)
                self._lease = lock.acquire_lease(lease_duration=LEASE_SECONDS)
            except HttpResponseError as error:
                if error.status_code != 409:  # 409: another host holds it
                    raise
                if not waiting_logged:
                    log.warning(
                        "another host holds task hub %s; resuming its orchestrations once it is gone",
                        self._container.container_name,
                    )
                    waiting_logged = True
                if stopping.wait(2.0):
                    raise StopRetrying("waiting for the task hub lease") from error
        self._released = threading.Event()
        threading.Thread(
            target=self._renew, args=(self._lease, self._released), daemon=True, name="hub-lease"
        ).start()

    def _renew(self, lease: BlobLeaseClient, released: threading.Event) -> None:
        while not released.wait(LEASE_SECONDS / 3):
            try:
                lease.renew()
            except AzureError as error:
                log.warning("could not renew the task hub lease: %s", type(error).__name__)

    def release_hub(self) -> None:
        self._released.set()
        if self._lease is not None:
            with contextlib.suppress(AzureError):  # it expires on its own
                self._lease.release()
            self._lease = None


def _blob_id(instance_id: str) -> str:
    return quote(instance_id, safe="")


def _complete_lines(data: bytes) -> Iterator[str]:
    """Lines ending in a newline: a torn last line (a crash mid-append) is not one."""
    text = data.decode("utf-8")
    for line in text.split("\n")[:-1]:
        if line.strip():
            yield line


def trusted_prefix(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history up to its last OrchestratorCompleted (whole episodes only)."""
    for end in range(len(history), 0, -1):
        if history[end - 1]["EventType"] == EventType.ORCHESTRATOR_COMPLETED:
            return history[:end]
    return []


@dataclass
class RecordedEpisode:
    """One episode as stored: what the orchestrator was given, and what it produced."""

    incoming: list[dict[str, Any]]  # OrchestratorStarted + delivered events
    produced: list[dict[str, Any]]  # scheduled events (+ ExecutionCompleted) + OrchestratorCompleted


def split_episodes(history: list[dict[str, Any]]) -> list[RecordedEpisode]:
    """Cut a stored history at its OrchestratorStarted events."""
    episodes: list[RecordedEpisode] = []
    for item in history:
        kind = item["EventType"]
        if kind == EventType.ORCHESTRATOR_STARTED:
            episodes.append(RecordedEpisode([item], []))
        elif not episodes:
            raise ValueError("a stored history must begin with OrchestratorStarted")
        elif kind in _INCOMING and not episodes[-1].produced:
            episodes[-1].incoming.append(item)
        else:
            episodes[-1].produced.append(item)
    return episodes


def ending(history: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The ExecutionCompleted event of a stored history, if the execution ended."""
    return next((e for e in reversed(history) if e["EventType"] == EventType.EXECUTION_COMPLETED), None)


def retry_until(
    operation: Callable[[], T],
    stopping: threading.Event,
    what: str,
    first_delay: float = 0.5,
    max_delay: float = 5.0,
) -> T:
    """Run ``operation`` until storage answers, or raise StopRetrying once ``stopping`` is set.

    Used where giving up would lose a run: storage that is away for a while only
    delays it. The first failure is logged as a warning, the recovery as info.
    """
    delay, failures = first_delay, 0
    while True:
        try:
            result = operation()
        except AzureError as error:
            failures += 1
            if failures == 1:
                log.warning("storage unavailable while %s (%s); retrying", what, type(error).__name__)
            if stopping.wait(delay):
                raise StopRetrying(what) from error
            delay = min(max_delay, delay * 2)
            continue
        if failures:
            log.info("storage is back: %s after %d retries", what, failures)
        return result


class StopRetrying(Exception):
    """The runtime shut down while waiting for storage."""
