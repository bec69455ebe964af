"""Run and run-node records in Table storage (runs: partition = experiment; nodes: = run id)."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from core import names
from core.errors import NotFound
from core.storage.store import PreconditionFailed, Store

RUNS = "runs"
NODES = "runnodes"
MAX_LOG_CHARS = 30_000  # a Table string property holds 32K characters


class RunStatus(StrEnum):
    """Azure ML's run status codes."""

    NOT_STARTED = "NotStarted"
    RUNNING = "Running"
    FINISHED = "Finished"
    FAILED = "Failed"
    CANCELED = "Canceled"
    SKIPPED = "Skipped"  # a node only: not run because a node it depends on failed


TERMINAL = {RunStatus.FINISHED, RunStatus.FAILED, RunStatus.CANCELED}


class NodeRecord(BaseModel):
    run_id: str
    node_id: str
    component: str
    status: RunStatus = RunStatus.NOT_STARTED
    started_at: datetime | None = None
    ended_at: datetime | None = None
    error: str | None = None
    error_code: str | None = None
    outputs: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    plots: dict[str, str] = Field(default_factory=dict)
    logs: list[str] = Field(default_factory=list)
    attempts: int = 0
    note: str | None = None
    reused_from: str | None = None

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.ended_at:
            return (self.ended_at - self.started_at).total_seconds()
        return None


class RunRecord(BaseModel):
    run_id: str
    experiment: str
    status: RunStatus = RunStatus.NOT_STARTED
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    pipeline_name: str
    pipeline_ref: str
    draft_id: str | None = None
    description: str = ""
    parameter_assignments: dict[str, Any] = Field(default_factory=dict)
    submitted_by: str | None = None
    regenerate_outputs: bool = False
    continue_on_step_failure: bool = True
    endpoint: str | None = None
    endpoint_version: int | None = None
    node_count: int
    error: str | None = None
    failed_node: str | None = None


_JSON_FIELDS = {"outputs", "metrics", "plots", "logs", "parameter_assignments"}


def _entity(model: BaseModel, partition: str, row: str, fields: set[str] | None = None) -> dict[str, Any]:
    data = model.model_dump(include=fields, exclude_none=fields is None)
    entity: dict[str, Any] = {"PartitionKey": partition, "RowKey": row}
    for key, value in data.items():
        if key in _JSON_FIELDS:
            value = json.dumps(value, default=str)
        elif isinstance(value, StrEnum):
            value = value.value
        entity[key] = value
    return entity


def _load(cls: type[BaseModel], entity: dict[str, Any]) -> Any:
    data = {
        k: (json.loads(v) if k in _JSON_FIELDS and isinstance(v, str) else v)
        for k, v in entity.items()
        if k not in ("PartitionKey", "RowKey", "etag", "Timestamp")
    }
    return cls.model_validate(data)


def create(store: Store, run: RunRecord, nodes: list[NodeRecord]) -> None:
    """Nodes first (one batch), then the run: a listed run always has all its nodes."""
    store.submit(NODES, [("upsert", _entity(n, n.run_id, n.node_id)) for n in nodes])
    store.insert(RUNS, _entity(run, run.experiment, run.run_id))


def update_run(store: Store, run: RunRecord, *fields: str) -> None:
    store.upsert(RUNS, _entity(run, run.experiment, run.run_id, set(fields)))


def update_node(store: Store, node: NodeRecord, *fields: str, etag: str | None = None) -> str | None:
    """Write ``fields``; with ``etag``, only if nobody wrote the node since (then the new ETag).

    Raises :class:`core.storage.store.PreconditionFailed` when the node changed meanwhile, e.g. because
    its run was canceled or the node timed out while this write was on its way.
    """
    node.logs = clip_logs(node.logs)
    entity = _entity(node, node.run_id, node.node_id, set(fields))
    if etag is None:
        store.upsert(NODES, entity)
        return None
    return store.update(NODES, entity, etag)


def clip_logs(logs: list[str]) -> list[str]:
    kept: list[str] = []
    size = 0
    for line in reversed(logs):
        size += len(line) + 4
        if size > MAX_LOG_CHARS:
            return ["... earlier lines cut ...", *kept[::-1]]
        kept.append(line)
    return logs


def get_run(store: Store, run_id: str) -> RunRecord:
    names.check("run", run_id, "run_id")
    found = list(store.query(RUNS, "RowKey eq @id", {"id": run_id}))
    if not found:
        raise NotFound(f"No run {run_id!r}")
    return _load(RunRecord, found[0])


def get_node_for_update(store: Store, run_id: str, node_id: str) -> tuple[NodeRecord, str]:
    """The node and its ETag, for writes that must not overwrite someone else's."""
    entity = store.get(NODES, run_id, node_id)
    if entity is None:
        raise NotFound(f"Run {run_id!r} has no node {node_id!r}")
    return _load(NodeRecord, entity), entity["etag"]


def fail_if_active(store: Store, run_id: str, reason: str, now: datetime) -> RunRecord | None:
    """Mark the run Failed with ``reason`` if it is still NotStarted or Running; None if it
    has ended. Conditional on the ETag, so a run that ends meanwhile (finished, canceled)
    keeps its own end."""
    for _ in range(3):
        found = list(store.query(RUNS, "RowKey eq @id", {"id": run_id}))
        if not found:
            raise NotFound(f"No run {run_id!r}")
        run = _load(RunRecord, found[0])
        if run.status in TERMINAL:
            return None
        run.status, run.error, run.ended_at = RunStatus.FAILED, reason, now
        try:
            store.update(
                RUNS,
                _entity(run, run.experiment, run.run_id, {"status", "error", "ended_at"}),
                found[0]["etag"],
            )
        except PreconditionFailed:
            continue  # changed meanwhile: look again
        return run
    return None


def find_run(store: Store, experiment: str, run_id: str) -> RunRecord | None:
    """A point lookup, for callers that know the run's experiment."""
    entity = store.get(RUNS, experiment, run_id)
    return None if entity is None else _load(RunRecord, entity)


def get_nodes(store: Store, run_id: str) -> list[NodeRecord]:
    return [_load(NodeRecord, e) for e in store.partition(NODES, run_id)]


def get_node(store: Store, run_id: str, node_id: str) -> NodeRecord:
    names.check("run", run_id, "run_id")
    names.check("node", node_id, "node_id")
    entity = store.get(NODES, run_id, node_id)
    if entity is None:
        raise NotFound(f"Run {run_id!r} has no node {node_id!r}")
    return _load(NodeRecord, entity)


def list_runs(store: Store, experiment: str) -> list[RunRecord]:
    names.check("experiment", experiment, "experiment")
    runs = [_load(RunRecord, e) for e in store.partition(RUNS, experiment)]
    return sorted(runs, key=lambda r: r.created_at, reverse=True)


def list_all(
    store: Store, status: RunStatus | None = None, experiment: str | None = None, endpoint: str | None = None
) -> list[RunRecord]:
    """Runs of every experiment (or one), newest first, optionally of one status or endpoint."""
    clauses, params = [], {}
    if endpoint is not None:
        clauses.append("endpoint eq @endpoint")
        params["endpoint"] = endpoint
    if experiment is not None:
        clauses.append("PartitionKey eq @experiment")
        params["experiment"] = experiment
    if status is not None:
        clauses.append("status eq @status")
        params["status"] = status.value
    found = [
        _load(RunRecord, e) for e in store.query(RUNS, " and ".join(clauses) or "PartitionKey ne ''", params)
    ]
    return sorted(found, key=lambda r: r.created_at, reverse=True)


def list_experiments(store: Store) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entity in store.query(RUNS, "PartitionKey ne ''"):
        counts[entity["PartitionKey"]] = counts.get(entity["PartitionKey"], 0) + 1
    return dict(sorted(counts.items()))
