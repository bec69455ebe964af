"""Run and run-node records in Table storage (runs: partition = experiment; nodes: = run id).

A run is found by its id alone through a small index row in its nodes' partition (row key
:data:`INDEX_ROW`, which no node id can be) that names its experiment: written in the same
batch as the nodes, before the run row, so a run is never visible half-written, and read with
two point lookups instead of a scan over every experiment. Runs written before the index
existed are still found by the scan.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from core import names
from core.errors import NotFound
from core.storage import tables
from core.storage.records import EntityMap, Key
from core.storage.store import PreconditionFailed, Store

RUNS = tables.RUNS
NODES = tables.RUN_NODES
INDEX_ROW = "~run"  # in the nodes' partition: names the run's experiment (node ids start alnum)
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


_JSON = frozenset({"outputs", "metrics", "plots", "logs", "parameter_assignments"})
_RUN = EntityMap(RunRecord, partition=Key("experiment"), row=Key("run_id"), json=_JSON)
_NODE = EntityMap(NodeRecord, partition=Key("run_id"), row=Key("node_id"), json=_JSON)


def _index_row(run: RunRecord) -> dict[str, Any]:
    return {"PartitionKey": run.run_id, "RowKey": INDEX_ROW, "experiment": run.experiment}


def create(store: Store, run: RunRecord, nodes: list[NodeRecord]) -> dict[str, str]:
    """Nodes and the run's index row first (one batch), then the run: a listed run always
    has all its nodes. Each node's ETag as written: a node's first claim is then one
    conditional write instead of a read and a write."""
    rows = [("upsert", _index_row(run))] + [("upsert", _NODE.entity(n)) for n in nodes]
    etags = store.submit(NODES, rows)[1:]
    store.insert(RUNS, _RUN.entity(run))
    return {node.node_id: etag for node, etag in zip(nodes, etags, strict=True) if etag}


def update_run(store: Store, run: RunRecord, *fields: str) -> None:
    store.upsert(RUNS, _RUN.entity(run, fields))


def update_node(store: Store, node: NodeRecord, *fields: str, etag: str | None = None) -> str | None:
    """Write ``fields``; with ``etag``, only if nobody wrote the node since (then the new ETag).

    Raises :class:`core.storage.store.PreconditionFailed` when the node changed meanwhile, e.g. because
    its run was canceled or the node timed out while this write was on its way.
    """
    node.logs = clip_logs(node.logs)
    entity = _NODE.entity(node, fields)
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


def get_run(store: Store, run_id: str, experiment: str | None = None) -> RunRecord:
    """The run; ``experiment``, when the caller knows it, saves the index lookup (a run never
    moves to another experiment)."""
    names.check("run", run_id, "run_id")
    entity = store.get(RUNS, experiment, run_id) if experiment else None
    entity = entity or _run_entity(store, run_id)
    if entity is None:
        raise NotFound(f"No run {run_id!r}")
    return _RUN.record(entity)


def _run_entity(store: Store, run_id: str) -> dict[str, Any] | None:
    """The run's row by two point lookups (its index row, then the run), else by the scan."""
    index = store.get(NODES, run_id, INDEX_ROW)
    if index is not None:
        return store.get(RUNS, index["experiment"], run_id)
    found = list(store.query(RUNS, "RowKey eq @id", {"id": run_id}))  # a run from before the index
    return found[0] if found else None


def get_node_for_update(store: Store, run_id: str, node_id: str) -> tuple[NodeRecord, str]:
    """The node and its ETag, for writes that must not overwrite someone else's."""
    entity = store.get(NODES, run_id, node_id)
    if entity is None:
        raise NotFound(f"Run {run_id!r} has no node {node_id!r}")
    return _NODE.record(entity), entity["etag"]


def fail_if_active(store: Store, run_id: str, reason: str, now: datetime) -> RunRecord | None:
    """Mark the run Failed with ``reason`` if it is still NotStarted or Running; None if it
    has ended. Conditional on the ETag, so a run that ends meanwhile (finished, canceled)
    keeps its own end."""
    for _ in range(3):
        entity = _run_entity(store, run_id)
        if entity is None:
            raise NotFound(f"No run {run_id!r}")
        run = _RUN.record(entity)
        if run.status in TERMINAL:
            return None
        run.status, run.error, run.ended_at = RunStatus.FAILED, reason, now
        try:
            store.update(RUNS, _RUN.entity(run, ("status", "error", "ended_at")), entity["etag"])
        except PreconditionFailed:
            continue  # changed meanwhile: look again
        return run
    return None


def find_run(store: Store, experiment: str, run_id: str) -> RunRecord | None:
    """A point lookup, for callers that know the run's experiment."""
    entity = store.get(RUNS, experiment, run_id)
    return None if entity is None else _RUN.record(entity)


def get_nodes(store: Store, run_id: str) -> list[NodeRecord]:
    return [_NODE.record(e) for e in store.partition(NODES, run_id) if e["RowKey"] != INDEX_ROW]


def get_node(store: Store, run_id: str, node_id: str) -> NodeRecord:
    names.check("run", run_id, "run_id")
    names.check("node", node_id, "node_id")
    entity = store.get(NODES, run_id, node_id)
    if entity is None:
        raise NotFound(f"Run {run_id!r} has no node {node_id!r}")
    return _NODE.record(entity)


def list_runs(store: Store, experiment: str) -> list[RunRecord]:
    names.check("experiment", experiment, "experiment")
    runs = [_RUN.record(e) for e in store.partition(RUNS, experiment)]
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
    found = [_RUN.record(e) for e in store.query(RUNS, " and ".join(clauses) or "PartitionKey ne ''", params)]
    return sorted(found, key=lambda r: r.created_at, reverse=True)


def list_experiments(store: Store) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entity in store.query(RUNS, "PartitionKey ne ''"):
        counts[entity["PartitionKey"]] = counts.get(entity["PartitionKey"], 0) + 1
    return dict(sorted(counts.items()))
