"""Schedules of published pipelines: their records and views (the tick is ``core.schedules.tick``).

Two kinds, as Azure ML has them: a *recurrence* (``core.schedules.recurrence``) and a *data change*
(new or changed blobs under a container prefix, polled). Every instance of the app may tick
at the same time; a due time is claimed by writing the schedule row with the ETag it was
read with, so exactly one tick submits it (the others lose the write and move on). A blob
of a data-change schedule is claimed the same way, by its own row (insert, or ETag update
for a new version of the blob). A claimed due time whose submission then crashes is not
retried: a due time runs at most once.

Missed due times (the app was down, or the endpoint was disabled) follow the schedule's
``missed_runs``: ``catch_up_once`` runs once for the latest missed time, ``skip`` runs only
if the latest due time is less than ``MISFIRE_GRACE`` old. A disabled endpoint or version
pauses its schedules: nothing is claimed and the schedule says why until it is enabled.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, model_validator

from core.errors import Conflict, InvalidRequest, NotFound, Problem
from core.execution.job import Job
from core.registry import endpoints, runs
from core.registry.submissions import EndpointSubmission
from core.schedules.recurrence import Recurrence
from core.storage import tables
from core.storage.records import NO_KEY, EntityMap, Key
from core.storage.store import PreconditionFailed, Store

SCHEDULES = tables.SCHEDULES
FIRINGS = tables.SCHEDULE_FIRINGS
BLOBS = tables.SCHEDULE_BLOBS
MISFIRE_GRACE = timedelta(minutes=2)
HISTORY = 10
ScheduleStatus = Literal["Active", "Disabled"]


class Submit(Protocol):
    """What records a run of a published version (endpoint, body, version, by): the run and the
    job to start for it."""

    def __call__(
        self, name: str, body: EndpointSubmission, version: int | None, by: str, /
    ) -> tuple[runs.RunRecord, Job]: ...


class DataChange(BaseModel):
    """Azure ML's data-change trigger: ``datastore`` (a container), ``path_on_datastore``,
    ``polling_interval`` (minutes) and ``data_path_parameter_name``."""

    datastore: Literal["batch-input", "datasets", "exports"]
    path_on_datastore: str = Field("", max_length=900)
    polling_interval: int = Field(5, ge=1, le=1440, description="minutes")
    data_path_parameter_name: str = Field(min_length=1, max_length=80)


class ScheduleSpec(BaseModel):
    """What a client sends to create or replace a schedule."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    pipeline_version: int | None = Field(None, ge=1, description="Pinned version; else the default")
    submission: EndpointSubmission
    recurrence: Recurrence | None = None
    data_change: DataChange | None = None
    missed_runs: Literal["catch_up_once", "skip"] = "catch_up_once"
    max_concurrent_runs: int = Field(1, ge=1, le=100)
    run_now: bool = Field(False, description="Also run once at the next tick after creation")
    status: ScheduleStatus = "Active"

    @model_validator(mode="after")
    def _one_kind(self) -> ScheduleSpec:
        if (self.recurrence is None) == (self.data_change is None):
            raise ValueError("give exactly one of 'recurrence' and 'data_change'")
        if self.submission.PipelineVersion is not None:
            if self.pipeline_version not in (None, self.submission.PipelineVersion):
                raise ValueError("pipeline_version and submission.PipelineVersion differ")
            self.pipeline_version = self.submission.PipelineVersion
        return self

    @property
    def kind(self) -> str:
        return "recurrence" if self.recurrence else "data_change"


class Schedule(BaseModel):
    id: str
    endpoint: str
    spec: ScheduleSpec
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None
    next_due: datetime | None = Field(None, description="None: ended (recurrence past its end time)")
    last_due: datetime | None = None
    paused_reason: str | None = None
    claims: int = 0
    etag: str | None = Field(None, exclude=True)

    @property
    def anchor(self) -> datetime:
        return self.created_at


class Firing(BaseModel):
    """One due time (or one blob) and what became of it."""

    schedule_id: str
    due: datetime
    at: datetime
    outcome: Literal["Submitted", "Skipped", "Failed"]
    run_id: str | None = None
    experiment: str | None = None
    run_status: str | None = None
    blob: str | None = None
    reason: str | None = None


FIRING = EntityMap(Firing, partition=Key("schedule_id"), row=NO_KEY)


# ---- records -------------------------------------------------------------------------------
def create(store: Store, endpoint: str, spec: ScheduleSpec, now: datetime, by: str | None) -> Schedule:
    endpoints.get(store, endpoint)
    schedule = Schedule(
        id=uuid.uuid4().hex, endpoint=endpoint, spec=spec, created_at=now, updated_at=now, created_by=by
    )
    schedule.next_due = _first_due(schedule, now)
    if spec.data_change and not spec.run_now:
        _baseline(store, schedule)  # blobs already there are not "new"
    schedule.etag = store.insert(SCHEDULES, _entity(schedule))
    return schedule


def replace(
    store: Store, endpoint: str, schedule_id: str, spec: ScheduleSpec, now: datetime, etag: str | None
) -> Schedule:
    """A new spec; due times are counted afresh from now (never a run at once unless asked)."""
    schedule = get(store, endpoint, schedule_id)
    kind_changed = schedule.spec.kind != spec.kind or schedule.spec.data_change != spec.data_change
    schedule.spec, schedule.updated_at, schedule.paused_reason = spec, now, None
    schedule.claims = 0  # a fresh start: ``run_now`` is honoured again
    schedule.next_due = _first_due(schedule, now)
    if spec.data_change and kind_changed and not spec.run_now:
        _baseline(store, schedule)
    write(store, schedule, etag or schedule.etag)
    return schedule


def set_status(
    store: Store, endpoint: str, schedule_id: str, status: ScheduleStatus, now: datetime
) -> Schedule:
    for _ in range(20):
        schedule = get(store, endpoint, schedule_id)
        if schedule.spec.status == status:
            return schedule
        schedule.spec.status, schedule.updated_at = status, now
        if status == "Active":
            # Due times while disabled are not missed runs: count from now.
            recurrence = schedule.spec.recurrence
            schedule.next_due = recurrence.next_after(now, schedule.anchor) if recurrence else now
        try:
            write(store, schedule, schedule.etag)
            return schedule
        except PreconditionFailed:
            continue
    raise Conflict(f"Schedule {schedule_id!r} is changing too often; try again")


def get(store: Store, endpoint: str, schedule_id: str) -> Schedule:
    entity = store.get(SCHEDULES, endpoint, schedule_id)
    if entity is None:
        raise NotFound(f"Pipeline endpoint {endpoint!r} has no schedule {schedule_id!r}")
    return _load(entity)


def list_for(store: Store, endpoint: str) -> list[Schedule]:
    return sorted((_load(e) for e in store.partition(SCHEDULES, endpoint)), key=lambda s: s.created_at)


def list_all(store: Store) -> list[Schedule]:
    return [_load(e) for e in store.query(SCHEDULES, "PartitionKey ne ''")]


def delete(store: Store, endpoint: str, schedule_id: str) -> None:
    """The schedule row first (nothing fires after it), then its history and blob receipts."""
    get(store, endpoint, schedule_id)
    store.delete(SCHEDULES, endpoint, schedule_id)
    for table in (FIRINGS, BLOBS):
        rows = store.partition(table, schedule_id)
        if rows:
            store.submit(
                table, [("delete", {"PartitionKey": r["PartitionKey"], "RowKey": r["RowKey"]}) for r in rows]
            )


def firings(store: Store, schedule_id: str, limit: int = HISTORY) -> list[Firing]:
    rows = sorted(store.partition(FIRINGS, schedule_id), key=lambda e: e["RowKey"])[:limit]
    return [FIRING.record(r) for r in rows]


def _first_due(schedule: Schedule, now: datetime) -> datetime | None:
    spec = schedule.spec
    recurrence = spec.recurrence  # None exactly when the schedule waits for a data change
    if spec.status != "Active":
        return None if recurrence is None else recurrence.next_after(now, schedule.anchor)
    if spec.run_now or recurrence is None:
        return now
    return recurrence.next_after(now, schedule.anchor)


# ---- blobs of data-change schedules ----------------------------------------------------------
def blob_row(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def _baseline(store: Store, schedule: Schedule) -> None:
    change = schedule.spec.data_change
    assert change is not None
    rows = [
        ("upsert", {"PartitionKey": schedule.id, "RowKey": blob_row(name), "blob": name, "blob_etag": etag})
        for name, etag in store.list_blob_etags(change.datastore, change.path_on_datastore or None)
    ]
    if rows:
        store.submit(BLOBS, rows)


# ---- entities ------------------------------------------------------------------------------
def write(store: Store, schedule: Schedule, etag: str | None) -> None:
    schedule.etag = store.update(SCHEDULES, _entity(schedule), etag or "*", merge=False)


_MAP = EntityMap(
    Schedule,
    partition=Key("endpoint"),
    row=Key("id"),
    json=frozenset({"spec"}),
    blank=frozenset({"created_by", "paused_reason"}),
)


def _entity(s: Schedule) -> dict[str, Any]:
    """The row; the status is a column of its own too, beside the spec that holds it."""
    return {**_MAP.entity(s), "status": s.spec.status}


def _load(e: dict[str, Any]) -> Schedule:
    return _MAP.record(e)


def check_spec(spec: ScheduleSpec, pipeline_parameters: set[str], dataset_parameters: set[str]) -> None:
    """Problems a schedule would only meet at its first due time, reported at creation instead."""
    problems: list[Problem] = []
    for name in spec.submission.ParameterAssignments:
        if name not in pipeline_parameters:
            problems.append(
                Problem(
                    code="unknown_parameter",
                    field=f"submission.ParameterAssignments.{name}",
                    message=f"The pipeline has no parameter {name!r}; parameters: "
                    f"{sorted(pipeline_parameters)}",
                )
            )
    if spec.data_change and spec.data_change.data_path_parameter_name not in dataset_parameters:
        problems.append(
            Problem(
                code="unknown_dataset_parameter",
                field="data_change.data_path_parameter_name",
                message=f"{spec.data_change.data_path_parameter_name!r} is not a dataset input of "
                f"the pipeline; dataset inputs: {sorted(dataset_parameters)}",
            )
        )
    if problems:
        raise InvalidRequest("The schedule cannot submit this pipeline", problems)


def view(store: Store, schedule: Schedule) -> dict[str, Any]:
    """The schedule, its next due time and its last runs with their current status."""
    history = []
    for firing in firings(store, schedule.id):
        if firing.run_id and firing.run_status in (None, "pending"):
            entity = store.get(runs.RUNS, firing.experiment or "", firing.run_id)
            firing.run_status = entity["status"] if entity else "Deleted"
        history.append(firing.model_dump(mode="json", exclude_none=True))
    return {
        "id": schedule.id,
        "endpoint": schedule.endpoint,
        "kind": schedule.spec.kind,
        **json.loads(schedule.spec.model_dump_json(exclude={"run_now"})),
        "next_due": schedule.next_due.isoformat()
        if schedule.next_due and schedule.spec.status == "Active"
        else None,
        "last_due": schedule.last_due.isoformat() if schedule.last_due else None,
        "paused": schedule.paused_reason is not None,
        "paused_reason": schedule.paused_reason,
        "created_at": schedule.created_at.isoformat(),
        "updated_at": schedule.updated_at.isoformat(),
        "created_by": schedule.created_by,
        "last_runs": history,
    }
