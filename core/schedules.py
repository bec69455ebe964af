"""Schedules of published pipelines: records, and the tick that starts what is due.

Two kinds, as Azure ML has them: a *recurrence* (``core.recurrence``) and a *data change*
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
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from core import endpoints, runs
from core.clock import Clock
from core.errors import Conflict, DesignerError, InvalidRequest, NotFound, Problem
from core.recurrence import Recurrence
from core.store import PreconditionFailed, Store
from core.submissions import DataPath, EndpointSubmission

SCHEDULES = "schedules"
FIRINGS = "schedulefirings"
BLOBS = "scheduleblobs"
MISFIRE_GRACE = timedelta(minutes=2)
WATCHABLE_CONTAINERS = ("batch-input", "datasets", "exports")
HISTORY = 10
log = logging.getLogger("designer")
Status = Literal["Active", "Disabled"]
Submit = Callable[[str, EndpointSubmission, int | None, str], tuple[runs.RunRecord, Any]]


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
    status: Status = "Active"

    @model_validator(mode="after")
    def _one_kind(self) -> "ScheduleSpec":
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


class Started(BaseModel):
    """A run a tick recorded; the caller starts its orchestration."""

    run: runs.RunRecord
    job: Any


# ---- records -------------------------------------------------------------------------------
def create(store: Store, endpoint: str, spec: ScheduleSpec, now: datetime, by: str | None) -> Schedule:
    endpoints.get(store, endpoint)
    schedule = Schedule(id=uuid.uuid4().hex, endpoint=endpoint, spec=spec, created_at=now, updated_at=now,
                        created_by=by)
    schedule.next_due = _first_due(schedule, now)
    if spec.data_change and not spec.run_now:
        _baseline(store, schedule)  # blobs already there are not "new"
    schedule.etag = store.insert(SCHEDULES, _entity(schedule))
    return schedule


def replace(store: Store, endpoint: str, schedule_id: str, spec: ScheduleSpec, now: datetime,
            etag: str | None) -> Schedule:
    """A new spec; due times are counted afresh from now (never a run at once unless asked)."""
    schedule = get(store, endpoint, schedule_id)
    kind_changed = schedule.spec.kind != spec.kind or schedule.spec.data_change != spec.data_change
    schedule.spec, schedule.updated_at, schedule.paused_reason = spec, now, None
    schedule.next_due = _first_due(schedule, now)
    if spec.data_change and kind_changed and not spec.run_now:
        _baseline(store, schedule)
    _write(store, schedule, etag or schedule.etag)
    return schedule


def set_status(store: Store, endpoint: str, schedule_id: str, status: Status, now: datetime) -> Schedule:
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
            _write(store, schedule, schedule.etag)
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
            store.submit(table, [("delete", {"PartitionKey": r["PartitionKey"], "RowKey": r["RowKey"]})
                                 for r in rows])


def firings(store: Store, schedule_id: str, limit: int = HISTORY) -> list[Firing]:
    rows = sorted(store.partition(FIRINGS, schedule_id), key=lambda e: e["RowKey"])[:limit]
    return [Firing.model_validate({k: v for k, v in r.items() if k in Firing.model_fields}) for r in rows]


def _first_due(schedule: Schedule, now: datetime) -> datetime | None:
    spec = schedule.spec
    if spec.status != "Active":
        return None if spec.data_change else spec.recurrence.next_after(now, schedule.anchor)
    if spec.run_now or spec.data_change:
        return now
    return spec.recurrence.next_after(now, schedule.anchor)


# ---- the tick ------------------------------------------------------------------------------
class Scheduler:
    """Starts what is due, given a store, a clock and the one submission path."""

    def __init__(self, store: Store, clock: Clock, submit: Submit) -> None:
        self._store, self._clock, self._submit = store, clock, submit

    def tick(self) -> list[Started]:
        now = self._clock.now()
        started: list[Started] = []
        for schedule in list_all(self._store):
            if schedule.spec.status != "Active" or schedule.next_due is None or schedule.next_due > now:
                continue
            try:
                if self._paused(schedule, now):
                    continue
                if schedule.spec.recurrence:
                    started += self._recurrence(schedule, now)
                else:
                    started += self._data_change(schedule, now)
            except Exception:  # noqa: BLE001 - one schedule's fault must not stop the others
                log.exception("schedule %s of %s failed this tick", schedule.id, schedule.endpoint)
        return started

    def _paused(self, schedule: Schedule, now: datetime) -> bool:
        """A disabled endpoint or version pauses the schedule; the row says why."""
        reason = pause_reason(self._store, schedule)
        if reason != schedule.paused_reason:
            schedule.paused_reason, schedule.updated_at = reason, now
            try:
                _write(self._store, schedule, schedule.etag)
            except PreconditionFailed:
                return True  # another tick is handling it right now
        return reason is not None

    def _recurrence(self, schedule: Schedule, now: datetime) -> list[Started]:
        recurrence = schedule.spec.recurrence
        assert recurrence is not None and schedule.next_due is not None
        if schedule.spec.run_now and schedule.claims == 0 and schedule.next_due <= now:
            due = schedule.next_due  # the asked-for first run
        else:
            due = recurrence.latest_due(now, schedule.next_due, schedule.anchor)
        schedule.last_due = due or schedule.last_due
        schedule.next_due = recurrence.next_after(now, schedule.anchor)
        schedule.claims += 1
        schedule.updated_at = now
        try:
            _write(self._store, schedule, schedule.etag)  # the claim: one writer wins
        except PreconditionFailed:
            return []
        if due is None:
            return []
        if schedule.spec.missed_runs == "skip" and now - due > MISFIRE_GRACE:
            self._record(schedule, due, now, "Skipped", reason=f"missed by {now - due} (missed_runs: skip)")
            return []
        return self._fire(schedule, due, now)

    def _data_change(self, schedule: Schedule, now: datetime) -> list[Started]:
        change = schedule.spec.data_change
        assert change is not None
        schedule.next_due = now + timedelta(minutes=change.polling_interval)
        schedule.last_due, schedule.claims, schedule.updated_at = now, schedule.claims + 1, now
        try:
            _write(self._store, schedule, schedule.etag)  # the poll is claimed like a due time
        except PreconditionFailed:
            return []
        started: list[Started] = []
        room = schedule.spec.max_concurrent_runs - self._active_runs(schedule)
        for name, etag in self._store.list_blob_etags(change.datastore, change.path_on_datastore or None):
            if room <= 0:
                # Left unclaimed: the next poll picks it up. The next poll comes soon.
                schedule.next_due = min(schedule.next_due, now + timedelta(minutes=1))
                try:
                    self._store.update(SCHEDULES, {"PartitionKey": schedule.endpoint, "RowKey": schedule.id,
                                                   "next_due": schedule.next_due}, schedule.etag or "*")
                except PreconditionFailed:
                    pass  # changed or deleted meanwhile: its own next due time stands
                break
            if not _claim_blob(self._store, schedule.id, name, etag):
                continue
            fired = self._fire(schedule, now, now, blob=name)
            started += fired
            room -= len(fired)
        return started

    def _fire(self, schedule: Schedule, due: datetime, now: datetime, blob: str | None = None) -> list[Started]:
        if blob is None and self._active_runs(schedule) >= schedule.spec.max_concurrent_runs:
            self._record(schedule, due, now, "Skipped",
                         reason=f"{schedule.spec.max_concurrent_runs} run(s) of this schedule still going")
            return []
        body = schedule.spec.submission.model_copy(deep=True)
        body.ScheduleId = schedule.id
        if blob is not None:
            change = schedule.spec.data_change
            assert change is not None
            body.DataPathAssignments[change.data_path_parameter_name] = DataPath(
                DataStoreName=change.datastore, RelativePath=blob)
        try:
            run, job = self._submit(schedule.endpoint, body, schedule.spec.pipeline_version,
                                    f"schedule:{schedule.id}")
        except DesignerError as exc:
            detail = "; ".join(p.located() for p in exc.problems) or exc.message
            self._record(schedule, due, now, "Failed", blob=blob, reason=f"{exc.message}: {detail}"[:4000])
            return []
        self._record(schedule, due, now, "Submitted", run=run, blob=blob)
        return [Started(run=run, job=job)]

    def _active_runs(self, schedule: Schedule) -> int:
        """Runs of this schedule that have not ended (terminal statuses are remembered)."""
        active = 0
        for row in self._store.partition(FIRINGS, schedule.id):
            if row.get("outcome") != "Submitted" or row.get("run_status") in runs.TERMINAL:
                continue
            entity = self._store.get(runs.RUNS, row["experiment"], row["run_id"])
            status = entity["status"] if entity else "Deleted"
            if status in runs.TERMINAL or entity is None:
                self._store.upsert(FIRINGS, {"PartitionKey": row["PartitionKey"], "RowKey": row["RowKey"],
                                             "run_status": status if entity else runs.Status.CANCELED.value})
            else:
                active += 1
        return active

    def _record(self, schedule: Schedule, due: datetime, now: datetime, outcome: str,
                run: runs.RunRecord | None = None, blob: str | None = None, reason: str | None = None) -> None:
        # Newest first in key order; the suffix keeps two blobs of one poll apart.
        row = f"{10**13 - int(now.timestamp() * 1000):013d}-{uuid.uuid4().hex[:8]}"
        entity: dict[str, Any] = {"PartitionKey": schedule.id, "RowKey": row, "schedule_id": schedule.id,
                                  "due": due, "at": now, "outcome": outcome}
        if run is not None:
            entity |= {"run_id": run.run_id, "experiment": run.experiment}
        if blob is not None:
            entity["blob"] = blob
        if reason is not None:
            entity["reason"] = reason
        self._store.insert(FIRINGS, entity)


def pause_reason(store: Store, schedule: Schedule) -> str | None:
    try:
        endpoint = endpoints.get(store, schedule.endpoint)
    except NotFound:
        return "endpoint_deleted: the pipeline endpoint no longer exists"
    if endpoint.status != "Active":
        return f"endpoint_disabled: pipeline endpoint {schedule.endpoint!r} is disabled"
    version = schedule.spec.pipeline_version or endpoint.default_version
    if version is None:
        return "no_default_version: the endpoint has no default version"
    try:
        entry = endpoints.get_version(store, schedule.endpoint, version)
    except NotFound:
        return f"version_missing: version {version} no longer exists"
    if entry.status != "Active":
        return f"version_disabled: version {version} is disabled"
    return None


# ---- blobs of data-change schedules ----------------------------------------------------------
def _blob_row(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def _claim_blob(store: Store, schedule_id: str, name: str, etag: str) -> bool:
    """True for the one tick that first sees this version of the blob."""
    seen = store.get(BLOBS, schedule_id, _blob_row(name))
    entity = {"PartitionKey": schedule_id, "RowKey": _blob_row(name), "blob": name, "blob_etag": etag}
    try:
        if seen is None:
            store.insert(BLOBS, entity)
        elif seen["blob_etag"] == etag:
            return False
        else:
            store.update(BLOBS, entity, seen["etag"])
    except Conflict:  # PreconditionFailed included: a concurrent tick claimed it
        return False
    return True


def _baseline(store: Store, schedule: Schedule) -> None:
    change = schedule.spec.data_change
    assert change is not None
    rows = [("upsert", {"PartitionKey": schedule.id, "RowKey": _blob_row(name), "blob": name, "blob_etag": etag})
            for name, etag in store.list_blob_etags(change.datastore, change.path_on_datastore or None)]
    if rows:
        store.submit(BLOBS, rows)


# ---- entities ------------------------------------------------------------------------------
def _write(store: Store, schedule: Schedule, etag: str | None) -> None:
    schedule.etag = store.update(SCHEDULES, _entity(schedule), etag or "*", merge=False)


def _entity(s: Schedule) -> dict[str, Any]:
    entity: dict[str, Any] = {"PartitionKey": s.endpoint, "RowKey": s.id,
                              "spec": s.spec.model_dump_json(), "status": s.spec.status,
                              "created_at": s.created_at, "updated_at": s.updated_at,
                              "created_by": s.created_by or "", "claims": s.claims,
                              "paused_reason": s.paused_reason or ""}
    for key in ("next_due", "last_due"):
        if getattr(s, key) is not None:
            entity[key] = getattr(s, key)
    return entity


def _load(e: dict[str, Any]) -> Schedule:
    return Schedule(id=e["RowKey"], endpoint=e["PartitionKey"], spec=ScheduleSpec.model_validate_json(e["spec"]),
                    created_at=e["created_at"], updated_at=e["updated_at"], created_by=e.get("created_by") or None,
                    next_due=e.get("next_due"), last_due=e.get("last_due"), paused_reason=e.get("paused_reason") or None,
                    claims=e.get("claims", 0), etag=e["etag"])


def check_spec(spec: ScheduleSpec, pipeline_parameters: set[str], dataset_parameters: set[str]) -> None:
    """Problems a schedule would only meet at its first due time, reported at creation instead."""
    problems: list[Problem] = []
    for name in spec.submission.ParameterAssignments:
        if name not in pipeline_parameters:
            problems.append(Problem(code="unknown_parameter", field=f"submission.ParameterAssignments.{name}",
                                    message=f"The pipeline has no parameter {name!r}; parameters: "
                                            f"{sorted(pipeline_parameters)}"))
    if spec.data_change and spec.data_change.data_path_parameter_name not in dataset_parameters:
        problems.append(Problem(code="unknown_dataset_parameter", field="data_change.data_path_parameter_name",
                                message=f"{spec.data_change.data_path_parameter_name!r} is not a dataset input of "
                                        f"the pipeline; dataset inputs: {sorted(dataset_parameters)}"))
    if problems:
        raise InvalidRequest("The schedule cannot submit this pipeline", problems)


def view(store: Store, schedule: Schedule) -> dict[str, Any]:
    """The schedule, its next due time and its last runs with their current status."""
    history = []
    for firing in firings(store, schedule.id):
        if firing.run_id and firing.run_status is None:
            entity = store.get(runs.RUNS, firing.experiment or "", firing.run_id)
            firing.run_status = entity["status"] if entity else "Deleted"
        history.append(firing.model_dump(mode="json", exclude_none=True))
    return {"id": schedule.id, "endpoint": schedule.endpoint, "kind": schedule.spec.kind,
            **json.loads(schedule.spec.model_dump_json(exclude={"run_now"})),
            "next_due": schedule.next_due.isoformat() if schedule.next_due and schedule.spec.status == "Active"
            else None,
            "last_due": schedule.last_due.isoformat() if schedule.last_due else None,
            "paused": schedule.paused_reason is not None, "paused_reason": schedule.paused_reason,
            "created_at": schedule.created_at.isoformat(), "updated_at": schedule.updated_at.isoformat(),
            "created_by": schedule.created_by, "last_runs": history}
