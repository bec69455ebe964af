"""One way to turn a record (a pydantic model) into a Table entity and back.

A Table entity is flat: strings, numbers, booleans and datetimes. Every record module used to
spell out its own mapping; an :class:`EntityMap` says once, per record type, which fields are
the keys, which hold JSON (lists, dicts, nested models), which store a missing value as ``""``
or as a sentinel number (so a merge write clears them), and under which column a field is kept.
Reading drops the storage metadata and hands the entity's ETag to the record's ``etag`` field.

Also here: :func:`claim_next`, the one "take the next free version number" loop.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from core.errors import Conflict

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
Entity = dict[str, Any]

_METADATA = ("PartitionKey", "RowKey", "etag", "Timestamp")


@dataclass(frozen=True)
class Key:
    """How a record field becomes a key (and back): ``field`` of the record, or a fixed ``value``."""

    field: str | None = None
    value: str = ""
    format: Callable[[Any], str] = str
    parse: Callable[[str], Any] = str

    def of(self, data: Mapping[str, Any]) -> str:
        return self.format(data[self.field]) if self.field else self.value


def version_key(field: str) -> Key:
    """A version number as a zero-padded row key, so key order is version order."""
    return Key(field, format=lambda v: f"{v:06d}", parse=int)


def fixed(value: str) -> Key:
    """A key every record of the table shares (e.g. one partition for all endpoints)."""
    return Key(value=value)


NO_KEY = Key()  # the key is not a record field: the writer passes it, the reader ignores it


@dataclass(frozen=True)
class EntityMap(Generic[M]):
    """The mapping of one record type to its table's entities."""

    model: type[M]
    partition: Key
    row: Key
    json: frozenset[str] = frozenset()
    blank: frozenset[str] = frozenset()  # None is stored as ""
    sentinel: Mapping[str, Any] = field(default_factory=dict)  # None is stored as this value
    columns: Mapping[str, str] = field(default_factory=dict)  # field -> column name
    exclude: frozenset[str] = frozenset({"etag"})

    def entity(
        self,
        record: M,
        fields: Iterable[str] | None = None,
        *,
        partition: str | None = None,
        row: str | None = None,
    ) -> Entity:
        """The entity of ``record``: every field (a missing value left out), or just ``fields``
        (a missing value written as such, for a merge that clears it)."""
        only = set(fields) if fields is not None else None
        data = dict(record)
        entity: Entity = {
            "PartitionKey": partition if partition is not None else self.partition.of(data),
            "RowKey": row if row is not None else self.row.of(data),
        }
        for name, value in data.items():
            if name in self.exclude or name in (self.partition.field, self.row.field):
                continue
            if only is not None and name not in only:
                continue
            value = self._stored(name, value)
            if value is None and only is None:
                continue
            entity[self.columns.get(name, name)] = value
        return entity

    def record(self, entity: Mapping[str, Any]) -> M:
        """The record an entity holds (its ETag in the record's ``etag`` field, if it has one)."""
        names = {column: name for name, column in self.columns.items()}
        data: dict[str, Any] = {}
        for column, value in entity.items():
            if column in _METADATA:
                continue
            name = names.get(column, column)
            if name in self.json and value == "":
                continue  # an empty JSON column: the field's default
            data[name] = self._loaded(name, value)
        for key, column in ((self.partition, "PartitionKey"), (self.row, "RowKey")):
            if key.field:
                data[key.field] = key.parse(entity[column])
        if "etag" in self.model.model_fields and "etag" in entity:
            data["etag"] = entity["etag"]
        return self.model.model_validate(data)

    def _stored(self, name: str, value: Any) -> Any:
        if value is None:
            if name in self.blank:
                return ""
            return self.sentinel.get(name)
        if name in self.json:
            return json.dumps(to_jsonable_python(value, fallback=str, by_alias=False))
        if isinstance(value, Enum):
            return value.value
        return value

    def _loaded(self, name: str, value: Any) -> Any:
        if name in self.json and isinstance(value, str):
            return json.loads(value)
        if name in self.blank and value == "":
            return None
        if name in self.sentinel and value == self.sentinel[name]:
            return None
        return value


def claim_next(first: int, claim: Callable[[int], T]) -> T:
    """``claim(first)``, else ``claim(first + 1)``, ... until one does not raise :class:`Conflict`.

    The claim is an insert that fails if the number is taken (a table row, or a blob written
    without overwrite), so two concurrent writers never share a number.
    """
    version = first
    while True:
        try:
            return claim(version)
        except Conflict:
            version += 1  # taken by a concurrent writer (or an orphan of a crashed one)
