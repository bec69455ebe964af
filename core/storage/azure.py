"""The :class:`~core.storage.store.Store` on Azure Blob and Table storage: the one place that
talks to Azure Storage.

Azurite (a connection string) locally; account URLs with DefaultAzureCredential in Azure.
Only the composition roots (the function app, benchmarks, tests) build one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from datetime import datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, UpdateMode
from azure.storage.blob import BlobServiceClient, ContentSettings

from core.errors import Conflict
from core.settings import Settings
from core.storage.store import CONTAINERS, TABLES, Entity, PreconditionFailed
from core.storage.store import props as _props


class AzureStore:
    """Blob containers and tables of one storage account (see :class:`Store` for the promises)."""

    def __init__(self, blobs: BlobServiceClient, tables: TableServiceClient) -> None:
        self._blobs = blobs
        self._tables = tables
        self._table_clients: dict[str, TableClient] = {}  # clients are thread-safe; building one is not free

    @classmethod
    def from_settings(cls, settings: Settings) -> AzureStore:
        # Each client gets a transport of its own (one connection pool per service, as by default).
        options: dict[str, Any] = {"use_env_settings": settings.storage_client_environment}
        if settings.storage_ca_bundle and not settings.storage_client_environment:
            options["connection_verify"] = settings.storage_ca_bundle  # what the environment said
        if settings.storage_connection_string:
            conn = settings.storage_connection_string
            return cls(
                BlobServiceClient.from_connection_string(conn, **options),
                TableServiceClient.from_connection_string(conn, **options),
            )
        if not (settings.blob_url and settings.table_url):
            raise ValueError(
                "set DESIGNER_STORAGE_CONNECTION_STRING, or both DESIGNER_BLOB_URL and DESIGNER_TABLE_URL"
            )
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential(managed_identity_client_id=settings.managed_identity_client_id)
        return cls(
            BlobServiceClient(settings.blob_url, credential=credential, **options),
            TableServiceClient(settings.table_url, credential=credential, **options),
        )

    def _table(self, name: str) -> TableClient:
        client = self._table_clients.get(name)
        if client is None:
            client = self._table_clients.setdefault(name, self._tables.get_table_client(name))
        return client

    def ensure(self) -> None:
        """Create the containers and tables the app uses (idempotent; Azure has them already)."""
        for name in CONTAINERS:
            with suppress(ResourceExistsError):
                self._blobs.create_container(name)
        for name in TABLES:
            self._tables.create_table_if_not_exists(name)

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
        settings = ContentSettings(content_type=content_type) if content_type else None
        try:
            self._blobs.get_blob_client(container, name).upload_blob(
                data, overwrite=overwrite, metadata=metadata, content_settings=settings, max_concurrency=4
            )
        except ResourceExistsError as exc:
            raise Conflict(f"blob {container}/{name} already exists") from exc

    def get_blob(self, container: str, name: str) -> bytes:
        try:
            return self._blobs.get_blob_client(container, name).download_blob(max_concurrency=4).readall()
        except ResourceNotFoundError as exc:
            raise KeyError(f"{container}/{name}") from exc

    def get_range(self, container: str, name: str, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer at the end of the blob)."""
        try:
            return (
                self._blobs.get_blob_client(container, name)
                .download_blob(offset=offset, length=length)
                .readall()
            )
        except ResourceNotFoundError as exc:
            raise KeyError(f"{container}/{name}") from exc

    def download_to(self, container: str, name: str, path: str) -> None:
        """Stream a blob to a local file: large inputs never sit whole in memory."""
        try:
            downloader = self._blobs.get_blob_client(container, name).download_blob(max_concurrency=4)
        except ResourceNotFoundError as exc:
            raise KeyError(f"{container}/{name}") from exc
        with open(path, "wb") as out:
            downloader.readinto(out)

    def upload_file(
        self,
        container: str,
        name: str,
        path: str,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """Stream a local file to a blob, in blocks."""
        settings = ContentSettings(content_type=content_type) if content_type else None
        with open(path, "rb") as data:
            self._blobs.get_blob_client(container, name).upload_blob(
                data, overwrite=True, content_settings=settings, metadata=metadata, max_concurrency=4
            )

    def blob_metadata(self, container: str, name: str) -> dict[str, str] | None:
        try:
            props = self._blobs.get_blob_client(container, name).get_blob_properties()
        except ResourceNotFoundError:
            return None
        return {**(props.metadata or {}), "etag": props.etag, "size": str(props.size)}

    def list_blobs(self, container: str, prefix: str | None = None) -> list[str]:
        return [
            b.name for b in self._blobs.get_container_client(container).list_blobs(name_starts_with=prefix)
        ]

    def list_blob_etags(self, container: str, prefix: str | None = None) -> list[tuple[str, str]]:
        """(name, ETag) of each blob: what a change watcher compares."""
        return [
            (b.name, b.etag)
            for b in self._blobs.get_container_client(container).list_blobs(name_starts_with=prefix)
        ]

    def list_blob_details(self, container: str, prefix: str | None = None) -> list[dict[str, Any]]:
        """Name, size in bytes, last modified time and metadata of each blob."""
        return [
            {
                "name": b.name,
                "size": b.size,
                "last_modified": b.last_modified,
                "metadata": b.metadata or {},
                "content_type": b.content_settings.content_type if b.content_settings else None,
            }
            for b in self._blobs.get_container_client(container).list_blobs(
                name_starts_with=prefix, include=["metadata"]
            )
        ]

    def touch_blob(self, container: str, name: str) -> bool:
        """Make an existing blob count as just written (its last-modified time), metadata kept.

        False if there is no such blob.
        """
        client = self._blobs.get_blob_client(container, name)
        try:
            props = client.get_blob_properties()
            client.set_blob_metadata(
                props.metadata, etag=props.etag, match_condition=MatchConditions.IfNotModified
            )
        except (ResourceNotFoundError, ResourceModifiedError):
            return False
        return True

    def delete_blob_unless_modified_since(self, container: str, name: str, since: datetime) -> bool:
        """Delete only if nobody wrote (or touched) the blob after ``since``; True if deleted."""
        try:
            self._blobs.get_blob_client(container, name).delete_blob(if_unmodified_since=since)
        except ResourceNotFoundError:
            return False
        except ResourceModifiedError:
            return False
        return True

    def delete_blob(self, container: str, name: str) -> None:
        with suppress(ResourceNotFoundError):
            self._blobs.get_blob_client(container, name).delete_blob()

    # ---- tables ------------------------------------------------------------------------
    def insert(self, table: str, entity: Entity) -> str:
        """Add a new entity; :class:`Conflict` if the key exists. Returns the ETag."""
        try:
            meta = self._table(table).create_entity(_props(entity))
        except ResourceExistsError as exc:
            raise Conflict(f"{table} {entity['PartitionKey']}/{entity['RowKey']} already exists") from exc
        return meta["etag"]

    def upsert(self, table: str, entity: Entity, *, merge: bool = True) -> None:
        mode = UpdateMode.MERGE if merge else UpdateMode.REPLACE
        self._table(table).upsert_entity(_props(entity), mode=mode)

    def update(self, table: str, entity: Entity, etag: str, *, merge: bool = True) -> str:
        """Write only if the entity still has ``etag`` (optimistic concurrency)."""
        mode = UpdateMode.MERGE if merge else UpdateMode.REPLACE
        try:
            meta = self._table(table).update_entity(
                _props(entity), mode=mode, etag=etag, match_condition=MatchConditions.IfNotModified
            )
        except (ResourceModifiedError, ResourceNotFoundError) as exc:
            raise PreconditionFailed(
                f"{table} {entity['PartitionKey']}/{entity['RowKey']} changed concurrently"
            ) from exc
        return meta["etag"]

    def get(self, table: str, partition: str, row: str) -> Entity | None:
        """The entity with its ETag under the key ``etag``, or None."""
        try:
            entity = self._table(table).get_entity(partition, row)
        except ResourceNotFoundError:
            return None
        return {**entity, "etag": entity.metadata["etag"]}

    def query(self, table: str, filter: str, parameters: dict[str, Any] | None = None) -> Iterator[Entity]:
        client = self._table(table)
        for entity in client.query_entities(filter, parameters=parameters or {}):
            yield {**entity, "etag": entity.metadata["etag"]}

    def partition(self, table: str, partition: str) -> list[Entity]:
        return list(self.query(table, "PartitionKey eq @pk", {"pk": partition}))

    def delete(self, table: str, partition: str, row: str) -> None:
        self._table(table).delete_entity(partition, row)

    def submit(self, table: str, operations: list[tuple[str, Entity]]) -> list[str | None]:
        """One atomic batch (same partition, at most 100 operations)."""
        etags: list[str | None] = []
        for start in range(0, len(operations), 100):
            answers = self._table(table).submit_transaction(operations[start : start + 100])
            etags += [
                None if kind == "delete" else answer.get("etag")
                for (kind, *_), answer in zip(operations[start : start + 100], answers, strict=True)
            ]
        return etags
