"""Pipeline endpoints: a name that holds numbered, immutable pipeline versions and a default.

Version numbers are claimed by inserting the version row (insert fails if the number is
taken; see :func:`core.storage.records.claim_next`), so concurrent publishes never share a
number. The endpoint row (default version, status) is changed only with its ETag; a lost race
is retried on fresh data, so no default change is lost. Every default change leaves an audit
row: who, when, from, to.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from core import names
from core.errors import Conflict, InvalidRequest, NotFound, Problem, check_if_match
from core.storage import tables
from core.storage.records import NO_KEY, EntityMap, Key, claim_next, fixed, version_key
from core.storage.store import PreconditionFailed, Store

ENDPOINTS = tables.ENDPOINTS
VERSIONS = tables.ENDPOINT_VERSIONS
AUDIT = tables.ENDPOINT_AUDIT
PARTITION = "endpoint"
NAME_PATTERN = names.NAME
EndpointStatus = Literal["Active", "Disabled"]


class Endpoint(BaseModel):
    name: str
    description: str = ""
    default_version: int | None = None
    status: EndpointStatus = "Active"
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None
    changes: int = Field(0, description="Counts changes; orders the audit trail")
    batch_settings: dict[str, Any] = Field(default_factory=dict, description="Blob-upload scoring settings")
    etag: str | None = Field(None, exclude=True)


class EndpointVersion(BaseModel):
    endpoint: str
    version: int
    description: str = ""
    kind: str
    pipeline_name: str
    pipeline_ref: str
    parameters: dict[str, Any] = Field(default_factory=dict, description="Pipeline parameters and defaults")
    status: EndpointStatus = "Active"
    created_at: datetime
    created_by: str | None = None
    source: str = ""


class AuditEntry(BaseModel):
    endpoint: str
    at: datetime
    by: str | None
    action: str
    from_version: int | None
    to_version: int | None


_ENDPOINT = EntityMap(
    Endpoint,
    partition=fixed(PARTITION),
    row=Key("name"),
    json=frozenset({"batch_settings"}),
    blank=frozenset({"created_by"}),
    sentinel={"default_version": -1},
)
_VERSION = EntityMap(
    EndpointVersion,
    partition=Key("endpoint"),
    row=version_key("version"),
    json=frozenset({"parameters"}),
    blank=frozenset({"created_by"}),
)
_AUDIT = EntityMap(
    AuditEntry,
    partition=Key("endpoint"),
    row=NO_KEY,
    blank=frozenset({"by"}),
    sentinel={"from_version": -1, "to_version": -1},
)


def _row(version: int) -> str:
    return f"{version:06d}"


# ---- endpoints -----------------------------------------------------------------------------
def get(store: Store, name: str) -> Endpoint:
    _check_name(name)
    entity = store.get(ENDPOINTS, PARTITION, name)
    if entity is None:
        raise NotFound(f"No pipeline endpoint {name!r}")
    return _endpoint(entity)


def list_endpoints(store: Store) -> list[Endpoint]:
    return sorted((_endpoint(e) for e in store.partition(ENDPOINTS, PARTITION)), key=lambda e: e.name)


def _ensure(store: Store, name: str, description: str, by: str | None) -> Endpoint:
    now = datetime.now(UTC)
    endpoint = Endpoint(name=name, description=description, created_at=now, updated_at=now, created_by=by)
    with contextlib.suppress(Conflict):  # it exists already (or a concurrent first publish made it)
        store.insert(ENDPOINTS, _endpoint_entity(endpoint))
    return get(store, name)


def _change(
    store: Store,
    name: str,
    mutate: Callable[[Endpoint], None],
    attempts: int = 50,
    if_match: str | None = None,
) -> Endpoint:
    """Read, change, write with the ETag; on a concurrent change, start again from fresh data.

    With ``if_match`` (the caller's ``If-Match``) a change since the caller read is refused
    instead: the caller decided on data that is no longer there.
    """
    for _ in range(attempts):
        endpoint = get(store, name)
        check_if_match(if_match, endpoint.etag, f"Pipeline endpoint {name!r}")
        mutate(endpoint)
        endpoint.updated_at = datetime.now(UTC)
        endpoint.changes += 1
        try:
            endpoint.etag = store.update(ENDPOINTS, _endpoint_entity(endpoint), endpoint.etag or "*")
            return endpoint
        except PreconditionFailed:
            continue
    raise Conflict(f"Endpoint {name!r} is changing too often; try again")


# ---- versions ------------------------------------------------------------------------------
def publish(
    store: Store,
    name: str,
    *,
    description: str,
    kind: str,
    pipeline_name: str,
    pipeline_ref: str,
    parameters: dict[str, Any],
    set_default: bool,
    by: str | None,
    source: str = "",
    endpoint_description: str = "",
) -> EndpointVersion:
    """Add the next version (creating the endpoint on first publish)."""
    _check_name(name)
    endpoint = _ensure(store, name, endpoint_description or description, by)

    def claim(version: int) -> EndpointVersion:
        entry = EndpointVersion(
            endpoint=name,
            version=version,
            description=description,
            kind=kind,
            pipeline_name=pipeline_name,
            pipeline_ref=pipeline_ref,
            parameters=parameters,
            created_at=datetime.now(UTC),
            created_by=by,
            source=source,
        )
        store.insert(VERSIONS, _version_entity(entry))
        return entry

    latest = max((int(e["RowKey"]) for e in store.partition(VERSIONS, name)), default=0)
    entry = claim_next(latest + 1, claim)
    version = entry.version
    if set_default or endpoint.default_version is None:
        set_default_version(store, name, version, by, only_if_unset=not set_default)
    return entry


def versions(store: Store, name: str) -> list[EndpointVersion]:
    _check_name(name)
    return sorted((_version(e) for e in store.partition(VERSIONS, name)), key=lambda v: v.version)


def get_version(store: Store, name: str, version: int) -> EndpointVersion:
    _check_name(name)
    entity = store.get(VERSIONS, name, _row(version))
    if entity is None:
        raise NotFound(f"Pipeline endpoint {name!r} has no version {version}")
    return _version(entity)


def set_default_version(
    store: Store,
    name: str,
    version: int,
    by: str | None,
    only_if_unset: bool = False,
    action: str = "set_default",
    if_match: str | None = None,
) -> Endpoint:
    if get_version(store, name, version).status != "Active":
        raise Conflict(
            f"Version {version} of {name!r} is disabled",
            [
                Problem(
                    code="version_disabled",
                    field="version",
                    message=f"Version {version} is disabled; only an active version can be the default "
                    "(enable it first)",
                )
            ],
        )
    previous: list[int | None] = []

    def mutate(endpoint: Endpoint) -> None:
        previous[:] = [endpoint.default_version]
        if not (only_if_unset and endpoint.default_version is not None):
            endpoint.default_version = version

    endpoint = _change(store, name, mutate, if_match=if_match)
    if previous[0] != endpoint.default_version:
        _audit(store, endpoint, by, action, previous[0], endpoint.default_version)
    return endpoint


def rollback_default(store: Store, name: str, by: str | None, if_match: str | None = None) -> Endpoint:
    """Back to the default before the latest change."""
    trail = audit_trail(store, name)
    if not trail or trail[0].from_version is None:
        raise InvalidRequest(
            "Nothing to roll back",
            [
                Problem(
                    code="no_previous_default",
                    field="default_version",
                    message=f"Endpoint {name!r} has had no earlier default version",
                )
            ],
        )
    return set_default_version(store, name, trail[0].from_version, by, action="rollback", if_match=if_match)


def set_status(
    store: Store, name: str, status: EndpointStatus, by: str | None, version: int | None = None
) -> None:
    if version is None:
        endpoint = _change(store, name, lambda e: setattr(e, "status", status))
        _audit(store, endpoint, by, f"endpoint_{status.lower()}", None, None)
        return
    entry = get_version(store, name, version)
    entry.status = status
    store.upsert(VERSIONS, _version_entity(entry))
    _audit(store, _change(store, name, lambda e: None), by, f"version_{status.lower()}", version, version)


def set_description(store: Store, name: str, description: str) -> Endpoint:
    """The endpoint's own (name-level) description, not a version's."""
    return _change(store, name, lambda e: setattr(e, "description", description))


def set_batch_settings(store: Store, name: str, settings: dict[str, Any]) -> Endpoint:
    return _change(store, name, lambda e: setattr(e, "batch_settings", settings))


def resolve_for_submit(store: Store, name: str, version: int | None) -> EndpointVersion:
    """The version a submission runs, or why it may not run (404 / 409 with a reason)."""
    endpoint = get(store, name)
    if endpoint.status != "Active":
        raise Conflict(
            f"Pipeline endpoint {name!r} is disabled",
            [
                Problem(
                    code="endpoint_disabled",
                    field="endpoint",
                    message=f"Endpoint {name!r} is disabled; enable it first",
                )
            ],
        )
    if version is None:
        if endpoint.default_version is None:
            raise Conflict(f"Pipeline endpoint {name!r} has no default version")
        version = endpoint.default_version
    entry = get_version(store, name, version)
    if entry.status != "Active":
        raise Conflict(
            f"Version {version} of {name!r} is disabled",
            [
                Problem(
                    code="version_disabled", field="PipelineVersion", message=f"Version {version} is disabled"
                )
            ],
        )
    return entry


# ---- audit ---------------------------------------------------------------------------------
def _audit(
    store: Store, endpoint: Endpoint, by: str | None, action: str, from_v: int | None, to_v: int | None
) -> None:
    """One row per change, keyed by the endpoint's change counter (newest first in key order).

    The counter is bumped inside the ETag-guarded write, so the trail's order is the order
    the changes really happened in, whatever order the audit rows are written in.
    """
    row = f"{10**10 - endpoint.changes:010d}"
    entry = AuditEntry(
        endpoint=endpoint.name,
        at=datetime.now(UTC),
        by=by,
        action=action,
        from_version=from_v,
        to_version=to_v,
    )
    store.insert(AUDIT, _AUDIT.entity(entry, row=row))


def audit_trail(
    store: Store, name: str, actions: tuple[str, ...] = ("set_default", "rollback")
) -> list[AuditEntry]:
    rows = sorted(store.partition(AUDIT, name), key=lambda e: e["RowKey"])
    return [_AUDIT.record(e) for e in rows if e["action"] in actions]


# ---- entities ------------------------------------------------------------------------------
def _check_name(name: str) -> None:
    names.check("pipeline endpoint", name)


def _endpoint_entity(e: Endpoint) -> dict[str, Any]:
    return _ENDPOINT.entity(e)


def _endpoint(e: dict[str, Any]) -> Endpoint:
    return _ENDPOINT.record(e)


def _version_entity(v: EndpointVersion) -> dict[str, Any]:
    return _VERSION.entity(v)


def _version(e: dict[str, Any]) -> EndpointVersion:
    return _VERSION.record(e)
