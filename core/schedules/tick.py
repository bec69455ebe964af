"""The schedule tick: start what is due, once, however many instances tick at the same time.

A due time is claimed by writing the schedule row with the ETag it was read with, so exactly
one tick submits it (the others lose the write and move on). A blob of a data-change schedule
is claimed the same way, by its own row (insert, or ETag update for a new version of the
blob). A claimed due time whose submission then crashes is not retried: a due time runs at
most once. Missed due times follow the schedule's ``missed_runs``; a disabled endpoint or
version pauses the schedule (nothing is claimed, the row says why) until it is enabled.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from core.clock import Clock
from core.errors import Conflict, DesignerError, NotFound
from core.registry import endpoints, runs
from core.registry.submissions import DataPath
from core.schedules.records import (
    BLOBS,
    FIRING,
    FIRINGS,
    MISFIRE_GRACE,
    SCHEDULES,
    Firing,
    Schedule,
    Submit,
    blob_row,
    list_all,
    write,
)
from core.storage.store import PreconditionFailed, Store

log = logging.getLogger("designer")
KEEP_FIRINGS = 200  # ended firings kept per schedule (the view shows the latest few)
PRUNE_EVERY = 50  # claims between prunes
PENDING = "pending"  # run_status of a firing whose run has not been seen to end


class Started(BaseModel):
    """A run a tick recorded; the caller starts its orchestration."""

    run: runs.RunRecord
    job: Any


class Scheduler:
    """Starts what is due, given a store, a clock and the one submission path."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        submit: Submit,
        *,
        keep_firings: int = KEEP_FIRINGS,
        prune_every: int = PRUNE_EVERY,
    ) -> None:
        self._store, self._clock, self._submit = store, clock, submit
        self._keep, self._prune_every = keep_firings, prune_every

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
            except Exception:
                log.exception("schedule %s of %s failed this tick", schedule.id, schedule.endpoint)
        return started

    def _paused(self, schedule: Schedule, now: datetime) -> bool:
        """A disabled endpoint or version pauses the schedule; the row says why."""
        reason = pause_reason(self._store, schedule)
        if reason != schedule.paused_reason:
            schedule.paused_reason, schedule.updated_at = reason, now
            try:
                write(self._store, schedule, schedule.etag)
            except PreconditionFailed:
                return True  # another tick is handling it right now
        return reason is not None

    def _recurrence(self, schedule: Schedule, now: datetime) -> list[Started]:
        recurrence = schedule.spec.recurrence
        assert recurrence is not None and schedule.next_due is not None
        if schedule.spec.run_now and schedule.claims == 0:
            due: datetime | None = schedule.next_due  # the asked-for first run
        else:
            due = recurrence.latest_due(now, schedule.next_due, schedule.anchor)
        schedule.last_due = due or schedule.last_due
        schedule.next_due = recurrence.next_after(now, schedule.anchor)
        schedule.claims += 1
        schedule.updated_at = now
        try:
            write(self._store, schedule, schedule.etag)  # the claim: one writer wins
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
            write(self._store, schedule, schedule.etag)  # the poll is claimed like a due time
        except PreconditionFailed:
            return []
        seen = {row["RowKey"]: row for row in self._store.partition(BLOBS, schedule.id)}
        started: list[Started] = []
        room = schedule.spec.max_concurrent_runs - self._active_runs(schedule)
        for name, etag in self._store.list_blob_etags(change.datastore, change.path_on_datastore or None):
            known = seen.get(blob_row(name))
            if known is not None and known["blob_etag"] == etag:
                continue
            if room <= 0:  # left unclaimed for the next poll, which comes sooner
                self._poll_again_soon(schedule, now)
                break
            if not _claim_blob(self._store, schedule.id, name, etag, known):
                continue
            fired = self._fire(schedule, now, now, blob=name)
            started += fired
            room -= len(fired)
        return started

    def _poll_again_soon(self, schedule: Schedule, now: datetime) -> None:
        soon = min(schedule.next_due or now, now + timedelta(minutes=1))
        # Changed or deleted meanwhile: its own next due time stands.
        with contextlib.suppress(PreconditionFailed):
            self._store.update(
                SCHEDULES,
                {"PartitionKey": schedule.endpoint, "RowKey": schedule.id, "next_due": soon},
                schedule.etag or "*",
            )

    def _fire(
        self, schedule: Schedule, due: datetime, now: datetime, blob: str | None = None
    ) -> list[Started]:
        if blob is None and self._active_runs(schedule) >= schedule.spec.max_concurrent_runs:
            self._record(
                schedule,
                due,
                now,
                "Skipped",
                reason=f"{schedule.spec.max_concurrent_runs} run(s) of this schedule still going",
            )
            return []
        body = schedule.spec.submission.model_copy(deep=True)
        body.ScheduleId = schedule.id
        if blob is not None:
            change = schedule.spec.data_change
            assert change is not None
            body.DataPathAssignments[change.data_path_parameter_name] = DataPath(
                DataStoreName=change.datastore, RelativePath=blob
            )
        try:
            run, job = self._submit(
                schedule.endpoint, body, schedule.spec.pipeline_version, f"schedule:{schedule.id}"
            )
        except DesignerError as exc:
            detail = "; ".join(p.located() for p in exc.problems) or exc.message
            self._record(schedule, due, now, "Failed", blob=blob, reason=f"{exc.message}: {detail}"[:4000])
            return []
        self._record(schedule, due, now, "Submitted", run=run, blob=blob)
        return [Started(run=run, job=job)]

    def _active_runs(self, schedule: Schedule) -> int:
        """Runs of this schedule that have not ended (an ended one is remembered as such)."""
        active = 0
        for row in self._store.query(
            FIRINGS, "PartitionKey eq @s and run_status eq @p", {"s": schedule.id, "p": PENDING}
        ):
            entity = self._store.get(runs.RUNS, row["experiment"], row["run_id"])
            if entity is None or entity["status"] in runs.TERMINAL:
                self._store.upsert(
                    FIRINGS,
                    {
                        "PartitionKey": row["PartitionKey"],
                        "RowKey": row["RowKey"],
                        "run_status": entity["status"] if entity else "Deleted",
                    },
                )
            else:
                active += 1
        return active

    def _record(
        self,
        schedule: Schedule,
        due: datetime,
        now: datetime,
        outcome: Literal["Submitted", "Skipped", "Failed"],
        run: runs.RunRecord | None = None,
        blob: str | None = None,
        reason: str | None = None,
    ) -> None:
        # Newest first in key order; the suffix keeps two blobs of one poll apart.
        row = f"{10**13 - int(now.timestamp() * 1000):013d}-{uuid.uuid4().hex[:8]}"
        firing = Firing(
            schedule_id=schedule.id,
            due=due,
            at=now,
            outcome=outcome,
            run_id=run.run_id if run else None,
            experiment=run.experiment if run else None,
            run_status=PENDING if run else None,
            blob=blob,
            reason=reason,
        )
        self._store.insert(FIRINGS, FIRING.entity(firing, row=row))
        if schedule.claims % self._prune_every == 0:
            self._prune(schedule.id)

    def _prune(self, schedule_id: str) -> None:
        """Keep the newest firings; one whose run may still go is kept for the concurrency count."""
        rows = sorted(self._store.partition(FIRINGS, schedule_id), key=lambda e: e["RowKey"])
        old = [r for r in rows[self._keep :] if r.get("run_status") != PENDING]
        for start in range(0, len(old), 100):
            self._store.submit(
                FIRINGS,
                [
                    ("delete", {"PartitionKey": r["PartitionKey"], "RowKey": r["RowKey"]})
                    for r in old[start : start + 100]
                ],
            )


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


def _claim_blob(store: Store, schedule_id: str, name: str, etag: str, seen: dict[str, Any] | None) -> bool:
    """True for the one tick that first claims this version of the blob."""
    entity = {"PartitionKey": schedule_id, "RowKey": blob_row(name), "blob": name, "blob_etag": etag}
    try:
        if seen is None:
            store.insert(BLOBS, entity)
        else:
            store.update(BLOBS, entity, seen["etag"])
    except Conflict:  # PreconditionFailed included: a concurrent tick claimed it
        return False
    return True
