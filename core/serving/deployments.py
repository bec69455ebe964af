"""Real-time endpoints: the record of a deployed real-time inference pipeline, its input schema
and its keys (the requests it answers are read by :mod:`core.serving.requests`).

Keys are random, shown once, stored only as SHA-256 hashes and compared in constant time. The
input schema is captured from the training data when the endpoint is deployed: column names and
types, and which columns scoring really needs (found by scoring sample rows without each column),
so callers are not asked for the label or for columns the pipeline drops.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from core import names
from core.errors import Conflict, NotFound, Problem
from core.storage import tables
from core.storage.records import EntityMap, Key, fixed
from core.storage.store import Store

ENDPOINTS = tables.REALTIME_ENDPOINTS
KEYS = tables.REALTIME_KEYS
PARTITION = "realtime"
NAME_PATTERN = names.REALTIME_NAME
KeyType = Literal["primary", "secondary"]
ColumnType = Literal["integer", "number", "string", "boolean"]


class ColumnSpec(BaseModel):
    name: str
    type: ColumnType
    dtype: str = Field(description="The pandas dtype the column had in training")
    required: bool = True
    nullable: bool = Field(
        True,
        description="False if a missing value cannot be scored: the model needs "
        "the column and no step of the pipeline cleans it",
    )


class RealtimeEndpoint(BaseModel):
    name: str
    description: str = ""
    deployment: int = Field(1, description="Bumped by every update; scorers reload on change")
    pipeline_ref: str
    source: str
    input_name: str
    output_name: str
    schema_: list[ColumnSpec] = Field(alias="input_schema")
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None
    acceleration: dict[str, str] = Field(
        default_factory=dict,
        description="Per Score Model node: 'onnx' if single rows and small batches are scored with ONNX "
        "Runtime (checked equal to scikit-learn at deployment), else 'scikit-learn: <why not>'",
    )
    serving: dict[str, str] = Field(
        default_factory=dict,
        description="How requests are scored: {'path': 'compiled' (the pipeline compiled into one row "
        "function, checked at deployment to answer as the DataFrame path on the training rows) "
        "or 'dataframe', 'reason': why}",
    )
    etag: str | None = Field(None, exclude=True)

    model_config = {"populate_by_name": True}


def column_type(dtype: str) -> ColumnType:
    if dtype.startswith(("int", "uint", "Int", "UInt")):
        return "integer"
    if dtype.startswith(("float", "Float")):
        return "number"
    if dtype in ("bool", "boolean"):
        return "boolean"
    return "string"


# ---- records -------------------------------------------------------------------------------
def check_name(name: str) -> None:
    names.check("real-time endpoint", name)


def create(store: Store, endpoint: RealtimeEndpoint) -> dict[str, str]:
    """Store the endpoint and return its two new keys (the only time they are visible)."""
    check_name(endpoint.name)
    try:
        store.insert(ENDPOINTS, _entity(endpoint))
    except Conflict as exc:
        raise Conflict(
            f"A real-time endpoint named {endpoint.name!r} exists; update it instead",
            [Problem(code="endpoint_exists", field="name", message=str(exc))],
        ) from exc
    return {kind: _new_key(store, endpoint.name, kind) for kind in ("primary", "secondary")}


def update(store: Store, endpoint: RealtimeEndpoint) -> RealtimeEndpoint:
    current = get(store, endpoint.name)
    endpoint.deployment = current.deployment + 1
    endpoint.created_at, endpoint.created_by = current.created_at, current.created_by
    endpoint.updated_at = datetime.now(UTC)
    store.update(ENDPOINTS, _entity(endpoint), current.etag or "*", merge=False)
    return endpoint


def get(store: Store, name: str) -> RealtimeEndpoint:
    check_name(name)
    entity = store.get(ENDPOINTS, PARTITION, name)
    if entity is None:
        raise NotFound(f"No real-time endpoint {name!r}")
    return _load(entity)


def list_endpoints(store: Store) -> list[RealtimeEndpoint]:
    return sorted((_load(e) for e in store.partition(ENDPOINTS, PARTITION)), key=lambda e: e.name)


def delete(store: Store, name: str) -> None:
    get(store, name)
    for kind in ("primary", "secondary"):
        with contextlib.suppress(Exception):  # a key row already gone: the endpoint still goes
            store.delete(KEYS, name, kind)
    store.delete(ENDPOINTS, PARTITION, name)


_MAP = EntityMap(
    RealtimeEndpoint,
    partition=fixed(PARTITION),
    row=Key("name"),
    json=frozenset({"schema_", "acceleration", "serving"}),
    blank=frozenset({"created_by"}),
    columns={"schema_": "input_schema"},
)


def _entity(e: RealtimeEndpoint) -> dict[str, Any]:
    return _MAP.entity(e)


def _load(e: dict[str, Any]) -> RealtimeEndpoint:
    return _MAP.record(e)


# ---- keys ----------------------------------------------------------------------------------
def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key(store: Store, name: str, kind: KeyType) -> str:
    key = secrets.token_urlsafe(32)
    store.upsert(
        KEYS,
        {"PartitionKey": name, "RowKey": kind, "hash": _hash(key), "created_at": datetime.now(UTC)},
        merge=False,
    )
    return key


def regenerate_key(store: Store, name: str, kind: KeyType) -> str:
    get(store, name)
    return _new_key(store, name, kind)


def key_hashes(store: Store, name: str) -> list[str]:
    return [e["hash"] for e in store.partition(KEYS, name)]


def key_matches(presented: str | None, hashes: list[str]) -> bool:
    """Constant-time comparison against every stored hash (no early exit on the first match)."""
    if not presented:
        return False
    digest = _hash(presented)
    found = False
    for stored in hashes:
        found |= hmac.compare_digest(digest, stored)
    return found
