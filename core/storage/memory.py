"""The :class:`~core.storage.store.Store` in one process's memory, for fast tests of use cases.

It keeps the promises callers build on, the way Table and Blob storage keep them: ETags change
on every write, a stale ``update`` raises :class:`PreconditionFailed`, an ``insert`` of an
existing key raises :class:`Conflict`, queries answer in key order and evaluate the OData
filter subset the product uses, values are stored as the Azure SDK would send them (``None``
dropped, enums as strings, datetimes in UTC, unsupported types a ``TypeError``), blob Last-Modified
has whole seconds as the service reports it, and a batch is atomic within one partition.
One lock makes every operation atomic, so racing threads see what racing clients would.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any
from uuid import UUID

from core.errors import Conflict
from core.storage.odata import compile_filter, substitute
from core.storage.store import CONTAINERS, TABLES, Entity, PreconditionFailed, props

BATCH_LIMIT = 100
_DEFAULT_TYPE = "application/octet-stream"  # what Blob storage records when none is given
_MAX_STRING = 32 * 1024  # characters: Table storage caps a string property at 64 KiB of UTF-16


class MissingResource(LookupError):
    """A container or table that was never created (``ensure`` creates the app's)."""


@dataclass
class _Blob:
    data: bytes
    etag: str
    last_modified: datetime
    metadata: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None


class MemoryStore:
    """Blob containers and tables held in dictionaries (see :class:`Store` for the promises)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._containers: dict[str, dict[str, _Blob]] = {}
        self._tables: dict[str, dict[tuple[str, str], tuple[Entity, str]]] = {}
        self._versions = itertools.count(1)
        self._stamp = datetime.min.replace(tzinfo=UTC)

    def ensure(self) -> None:
        with self._lock:
            for name in CONTAINERS:
                self._containers.setdefault(name, {})
            for name in TABLES:
                self._tables.setdefault(name, {})

    def create_table(self, name: str) -> None:
        """A table beyond the app's (tests keep their own)."""
        with self._lock:
            self._tables.setdefault(name, {})

    def create_container(self, name: str) -> None:
        """A container beyond the app's (tests keep their own)."""
        with self._lock:
            self._containers.setdefault(name, {})

    # ---- blobs -------------------------------------------------------------------------
    def _container(self, container: str) -> dict[str, _Blob]:
        try:
            return self._containers[container]
        except KeyError:
            raise MissingResource(f"no container {container}") from None

    def _blob(self, container: str, name: str) -> _Blob:
        blob = self._containers.get(container, {}).get(name)
        if blob is None:
            raise KeyError(f"{container}/{name}")
        return blob

    def _blob_etag(self) -> str:
        return f"0x{next(self._versions):015X}"

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
        with self._lock:
            blobs = self._container(container)
            if not overwrite and name in blobs:
                raise Conflict(f"blob {container}/{name} already exists")
            blobs[name] = _Blob(
                data.encode() if isinstance(data, str) else bytes(data),
                self._blob_etag(),
                _now(),
                dict(metadata or {}),
                content_type or _DEFAULT_TYPE,
            )

    def get_blob(self, container: str, name: str) -> bytes:
        with self._lock:
            return self._blob(container, name).data

    def get_range(self, container: str, name: str, offset: int, length: int) -> bytes:
        with self._lock:
            return self._blob(container, name).data[offset : offset + length]

    def download_to(self, container: str, name: str, path: str) -> None:
        data = self.get_blob(container, name)
        with open(path, "wb") as out:
            out.write(data)

    def upload_file(
        self,
        container: str,
        name: str,
        path: str,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        with open(path, "rb") as source:
            data = source.read()
        self.put_blob(container, name, data, metadata=metadata, content_type=content_type)

    def blob_metadata(self, container: str, name: str) -> dict[str, str] | None:
        with self._lock:
            blob = self._containers.get(container, {}).get(name)
            if blob is None:
                return None
            # The properties quote the ETag, as the HTTP header does; listings give it bare.
            return {**blob.metadata, "etag": f'"{blob.etag}"', "size": str(len(blob.data))}

    def _listed(self, container: str, prefix: str | None) -> list[tuple[str, _Blob]]:
        with self._lock:
            blobs = self._container(container)
            return sorted((n, b) for n, b in blobs.items() if n.startswith(prefix or ""))

    def list_blobs(self, container: str, prefix: str | None = None) -> list[str]:
        return [name for name, _ in self._listed(container, prefix)]

    def list_blob_etags(self, container: str, prefix: str | None = None) -> list[tuple[str, str]]:
        return [(name, blob.etag) for name, blob in self._listed(container, prefix)]

    def list_blob_details(self, container: str, prefix: str | None = None) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "size": len(blob.data),
                "last_modified": blob.last_modified,
                "metadata": dict(blob.metadata),
                "content_type": blob.content_type,
            }
            for name, blob in self._listed(container, prefix)
        ]

    def touch_blob(self, container: str, name: str) -> bool:
        with self._lock:
            blob = self._containers.get(container, {}).get(name)
            if blob is None:
                return False
            blob.etag, blob.last_modified = self._blob_etag(), _now()
            return True

    def delete_blob_unless_modified_since(self, container: str, name: str, since: datetime) -> bool:
        with self._lock:
            blob = self._containers.get(container, {}).get(name)
            # The condition travels as an HTTP date: whole seconds, like Last-Modified.
            if blob is None or blob.last_modified > _whole_seconds(since):
                return False
            del self._containers[container][name]
            return True

    def delete_blob(self, container: str, name: str) -> None:
        with self._lock:
            self._containers.get(container, {}).pop(name, None)

    # ---- tables ------------------------------------------------------------------------
    def _table(self, table: str) -> dict[tuple[str, str], tuple[Entity, str]]:
        try:
            return self._tables[table]
        except KeyError:
            raise MissingResource(f"no table {table}") from None

    def _entity_etag(self) -> str:
        """Like the service's (a timestamp), and never the same twice."""
        self._stamp = max(_now_precise(), self._stamp + timedelta(microseconds=1))
        return "W/\"datetime'" + self._stamp.strftime("%Y-%m-%dT%H%%3A%M%%3A%S.%fZ") + "'\""

    def insert(self, table: str, entity: Entity) -> str:
        with self._lock:
            rows = self._table(table)
            key = _key(entity)
            if key in rows:
                raise Conflict(f"{table} {key[0]}/{key[1]} already exists")
            etag = self._entity_etag()
            rows[key] = (_stored(entity), etag)
            return etag

    def upsert(self, table: str, entity: Entity, *, merge: bool = True) -> None:
        with self._lock:
            rows = self._table(table)
            key = _key(entity)
            old = rows[key][0] if merge and key in rows else {}
            rows[key] = ({**old, **_stored(entity)}, self._entity_etag())

    def update(self, table: str, entity: Entity, etag: str, *, merge: bool = True) -> str:
        with self._lock:
            rows = self._tables.get(table, {})
            key = _key(entity)
            current = rows.get(key)
            if current is None or etag not in (current[1], "*"):  # If-Match: * is any version
                raise PreconditionFailed(f"{table} {key[0]}/{key[1]} changed concurrently")
            new_etag = self._entity_etag()
            rows[key] = ({**(current[0] if merge else {}), **_stored(entity)}, new_etag)
            return new_etag

    def get(self, table: str, partition: str, row: str) -> Entity | None:
        with self._lock:
            found = self._tables.get(table, {}).get((partition, row))
            return None if found is None else _read(*found)

    def query(self, table: str, filter: str, parameters: dict[str, Any] | None = None) -> Iterator[Entity]:
        matches = compile_filter(substitute(filter, parameters))
        with self._lock:
            found = [_read(*value) for _, value in sorted(self._table(table).items()) if matches(value[0])]
        yield from found

    def partition(self, table: str, partition: str) -> list[Entity]:
        return list(self.query(table, "PartitionKey eq @pk", {"pk": partition}))

    def delete(self, table: str, partition: str, row: str) -> None:
        with self._lock:
            self._tables.get(table, {}).pop((partition, row), None)

    def submit(self, table: str, operations: list[tuple[str, Entity]]) -> list[str | None]:
        etags: list[str | None] = []
        for start in range(0, len(operations), BATCH_LIMIT):
            etags += self._transaction(table, operations[start : start + BATCH_LIMIT])
        return etags

    def _transaction(self, table: str, operations: list[tuple[str, Entity]]) -> list[str | None]:
        """All or nothing: the operations run on a copy that replaces the table if all succeed."""
        with self._lock:
            partitions = {_key(operation[1])[0] for operation in operations}
            if len(partitions) > 1:
                raise ValueError("a batch must stay within one partition")
            keys = [_key(operation[1]) for operation in operations]
            if len(set(keys)) != len(keys):
                raise ValueError("a batch may touch each entity once")
            original = self._table(table)
            self._tables[table] = dict(original)
            try:
                for operation in operations:
                    self._apply(table, *operation)
            except Exception:
                self._tables[table] = original
                raise
            rows = self._tables[table]
            return [
                None if kind == "delete" else rows[key][1]
                for (kind, *_), key in zip(operations, keys, strict=True)
            ]

    def _apply(self, table: str, kind: str, entity: Entity, *extra: Any) -> None:
        """One batch operation; a third element is the SDK's keyword arguments (``mode``)."""
        options = extra[0] if extra and isinstance(extra[0], dict) else {}
        mode = options.get("mode")
        merge = getattr(mode, "value", mode) != "replace"
        rows = self._table(table)
        if kind == "create":
            self.insert(table, entity)
        elif kind == "upsert":
            self.upsert(table, entity, merge=merge)
        elif kind in ("update", "delete"):
            key = _key(entity)
            if key not in rows:  # in a batch, a missing entity fails the whole batch
                raise KeyError(f"{table} {key[0]}/{key[1]}")
            if kind == "delete":
                del rows[key]
            else:
                self.upsert(table, entity, merge=merge)
        else:
            raise ValueError(f"unknown batch operation {kind!r}")


def _now_precise() -> datetime:
    return datetime.now(UTC)


def _now() -> datetime:
    """Last-Modified as the service reports it: UTC, whole seconds."""
    return _whole_seconds(_now_precise())


def _whole_seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _key(entity: Entity) -> tuple[str, str]:
    partition, row = entity["PartitionKey"], entity["RowKey"]
    for value in (partition, row):
        if not isinstance(value, str):
            raise TypeError(f"keys are strings, not {type(value).__name__}")
        if any(c in value for c in "/\\#?") or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
            raise ValueError(f"{value!r} is not a valid table key")
    return partition, row


def _stored(entity: Entity) -> Entity:
    """The properties as Table storage keeps them: what the Azure SDK would send, read back."""
    out: Entity = {}
    for name, value in props(entity).items():
        converted = _convert(value)
        if converted is not None:
            out[name] = converted
    return out


def _convert(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Enum):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, tuple):  # (value, EdmType), as the SDK's EntityProperty
        return _convert(value[0])
    kind = type(value)
    if kind is int and not -(2**31) <= value < 2**31:
        raise TypeError(f"{value} is too large to be cast to type Edm.Int32")
    if kind is str and len(value) > _MAX_STRING:
        raise ValueError("a string property is limited to 64 KiB")
    if kind is UUID:
        return str(value)
    if kind not in (int, bool, float, str, bytes):
        raise TypeError(f"Type not supported when sending data to the service: {kind}.")
    return value


def _read(entity: Entity, etag: str) -> Entity:
    return {**entity, "etag": etag}
