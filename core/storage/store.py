"""What the product asks of storage: blob containers and tables of one account.

Every other module receives a :class:`Store` and never builds clients of its own. Two
implementations keep the same promises (a contract suite runs against both):
:class:`core.storage.azure.AzureStore` on Blob and Table storage (Azurite locally) and
:class:`core.storage.memory.MemoryStore` in one process, which use-case tests use to run fast.

The promises a caller may build on: reads of an entity carry its ETag under the key ``etag``;
:meth:`Store.update` with a stale ETag raises :class:`PreconditionFailed`; :meth:`Store.insert`
of an existing key raises :class:`~core.errors.Conflict` (so of two racing inserts exactly one
wins); a query answers in (PartitionKey, RowKey) order; missing blobs read as ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol

from core.errors import PreconditionFailed as _Stale
from core.storage import tables

# Names shared with infra/ (the template creates exactly these; a test keeps them in step).
CONTAINERS: tuple[str, ...] = ("datasets", "artifacts", "batch-input", "batch-output", "exports")
TABLES: tuple[str, ...] = tables.ALL

Entity = dict[str, Any]


class PreconditionFailed(_Stale):
    """An ETag no longer matches: someone else changed the entity first."""


def props(entity: Entity) -> Entity:
    """The entity without the ``etag`` key that reads add (it is metadata, not a property)."""
    return {k: v for k, v in entity.items() if k != "etag"}


class Store(Protocol):
    """Blob containers and tables of one storage account."""

    def ensure(self) -> None:
        """Create the containers and tables the app uses (idempotent)."""
        ...

    # ---- blobs -------------------------------------------------------------------------
    def put_blob(
        self,
        container: str,
        name: str,
        data: bytes,
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        overwrite: bool = True,
    ) -> None:
        """Write a blob; with ``overwrite=False``, :class:`~core.errors.Conflict` if it exists."""
        ...

    def get_blob(self, container: str, name: str) -> bytes:
        """The blob's bytes; ``KeyError`` if there is none."""
        ...

    def get_range(self, container: str, name: str, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer at the end of the blob); ``KeyError`` if none."""
        ...

    def download_to(self, container: str, name: str, path: str) -> None:
        """Stream a blob to a local file: large inputs never sit whole in memory."""
        ...

    def upload_file(
        self,
        container: str,
        name: str,
        path: str,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """Stream a local file to a blob (overwriting)."""
        ...

    def blob_metadata(self, container: str, name: str) -> dict[str, str] | None:
        """The blob's metadata plus ``etag`` and ``size`` (a string), or None if there is none."""
        ...

    def list_blobs(self, container: str, prefix: str | None = None) -> list[str]:
        """Names of the blobs (starting with ``prefix``), in name order."""
        ...

    def list_blob_etags(self, container: str, prefix: str | None = None) -> list[tuple[str, str]]:
        """(name, ETag) of each blob: what a change watcher compares."""
        ...

    def list_blob_details(self, container: str, prefix: str | None = None) -> list[dict[str, Any]]:
        """Name, size, last modified time (UTC, whole seconds), metadata and content type."""
        ...

    def touch_blob(self, container: str, name: str) -> bool:
        """Make an existing blob count as just written (last modified, ETag), metadata kept.

        False if there is no such blob (or it changed meanwhile).
        """
        ...

    def delete_blob_unless_modified_since(self, container: str, name: str, since: datetime) -> bool:
        """Delete only if nobody wrote (or touched) the blob after ``since``; True if deleted."""
        ...

    def delete_blob(self, container: str, name: str) -> None:
        """Delete a blob; a missing one is not an error."""
        ...

    # ---- tables ------------------------------------------------------------------------
    def insert(self, table: str, entity: Entity) -> str:
        """Add a new entity; :class:`~core.errors.Conflict` if the key exists. Returns the ETag."""
        ...

    def upsert(self, table: str, entity: Entity, *, merge: bool = True) -> None:
        """Write whatever is there; ``merge`` keeps properties ``entity`` does not name."""
        ...

    def update(self, table: str, entity: Entity, etag: str, *, merge: bool = True) -> str:
        """Write only if the entity still has ``etag``; :class:`PreconditionFailed` otherwise
        (also when it is gone). Returns the new ETag."""
        ...

    def get(self, table: str, partition: str, row: str) -> Entity | None:
        """The entity with its ETag under the key ``etag``, or None."""
        ...

    def query(self, table: str, filter: str, parameters: dict[str, Any] | None = None) -> Iterator[Entity]:
        """Entities matching an OData filter (``@name`` words are ``parameters``), with ETags."""
        ...

    def partition(self, table: str, partition: str) -> list[Entity]:
        """Every entity of one partition, in RowKey order."""
        ...

    def delete(self, table: str, partition: str, row: str) -> None:
        """Delete an entity; a missing one is not an error."""
        ...

    def submit(self, table: str, operations: list[tuple[str, Entity]]) -> list[str | None]:
        """Atomic batches (one partition, applied 100 operations at a time):
        ``("upsert" | "create" | "update" | "delete", entity)``; the ETag each entity has
        after its operation, in order (None for a delete)."""
        ...
