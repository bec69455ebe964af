"""Garbage collection of content-addressed artifacts nothing references any more.

Mark and sweep: every string of every table row that names an artifact (``artifacts/<sha256>``)
is a reference, and so is every artifact named inside a referenced pipeline document (drafts,
runs, endpoint versions and real-time endpoints hold their pipelines as artifacts). Scanning
every table, not a list of known fields, keeps records added later safe by default.

Safe beside running runs: an artifact younger than the grace period, or written after the
oldest unfinished run started, is never collected (a node writes its output before
recording it, and mini-batches travel only in the orchestration's history). The tables are
scanned a second time just before deleting, and a blob is deleted only if it was not written
since the cutoff: writing content that already exists touches the blob (``Artifacts``), so a
record made during the collection that names an old artifact keeps it. Dataset blobs with no
version row (an upload that crashed between blob and row) are collected the same way.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from core.registry import datasets, runs
from core.storage import tables
from core.storage.artifacts import ARTIFACTS
from core.storage.store import Store

REF = re.compile(r"artifacts/([0-9a-f]{64})")
DOCUMENT_KINDS = {"pipeline"}
MAX_NAMES = 1000


class Freed(BaseModel):
    count: int = 0
    bytes: int = 0
    names: list[str] = Field(default_factory=list, description=f"At most {MAX_NAMES}")


class GcReport(BaseModel):
    dry_run: bool
    cutoff: datetime = Field(description="Nothing written after this is collected")
    held_back_by_run: str | None = Field(None, description="The unfinished run that moved the cutoff back")
    artifacts_scanned: int
    artifacts_referenced: int
    freed: Freed
    orphan_dataset_blobs: Freed
    orphan_run_nodes: int = Field(
        0, description="Node rows of runs that no longer exist (a delete cut short)"
    )


def collect(store: Store, now: datetime, grace: timedelta, dry_run: bool = True) -> GcReport:
    orphan_nodes = _orphan_node_rows(store)
    listed = {b["name"]: b for b in store.list_blob_details(ARTIFACTS)}
    cutoff, holder = _cutoff(store, now, grace)
    referenced = _mark(store, listed)
    candidates = [n for n, b in listed.items() if n not in referenced and b["last_modified"] < cutoff]
    orphans = _orphan_dataset_blobs(store, cutoff)
    if not dry_run and (candidates or orphans):
        still = _mark(store, listed)  # references written while we looked
        candidates = [
            n
            for n in candidates
            if n not in still and store.delete_blob_unless_modified_since(ARTIFACTS, n, cutoff)
        ]
        orphans = [
            b
            for b in orphans
            if store.delete_blob_unless_modified_since(datasets.CONTAINER, b["name"], cutoff)
        ]
    if not dry_run and orphan_nodes:
        # Orphans at the start and still at the end: not a run being created (nodes go first).
        again = {(r["PartitionKey"], r["RowKey"]) for r in _orphan_node_rows(store)}
        orphan_nodes = [r for r in orphan_nodes if (r["PartitionKey"], r["RowKey"]) in again]
        for row in orphan_nodes:
            store.delete(runs.NODES, row["PartitionKey"], row["RowKey"])
    return GcReport(
        dry_run=dry_run,
        cutoff=cutoff,
        held_back_by_run=holder,
        artifacts_scanned=len(listed),
        artifacts_referenced=len(referenced & listed.keys()),
        freed=_freed([listed[n] for n in candidates], ARTIFACTS),
        orphan_dataset_blobs=_freed(orphans, datasets.CONTAINER),
        orphan_run_nodes=sum(1 for r in orphan_nodes if r["RowKey"] != runs.INDEX_ROW),
    )


def _cutoff(store: Store, now: datetime, grace: timedelta) -> tuple[datetime, str | None]:
    cutoff, holder = now - grace, None
    for entity in store.query(
        runs.RUNS,
        "status eq @a or status eq @b",
        {"a": runs.RunStatus.NOT_STARTED.value, "b": runs.RunStatus.RUNNING.value},
    ):
        started = entity.get("started_at") or entity["created_at"]
        if started - timedelta(minutes=1) < cutoff:
            cutoff, holder = started - timedelta(minutes=1), entity["RowKey"]
    return cutoff, holder


def _mark(store: Store, listed: dict[str, dict[str, Any]]) -> set[str]:
    referenced: set[str] = set()
    for table in tables.ALL:
        for entity in store.query(table, "PartitionKey ne '~'"):
            for value in entity.values():
                if isinstance(value, str) and "artifacts/" in value:
                    referenced.update(REF.findall(value))
    pending = [n for n in referenced if _is_document(listed.get(n))]
    seen: set[str] = set()
    while pending:  # pipeline documents name the models and transformations they run
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            text = store.get_blob(ARTIFACTS, name).decode("utf-8", "replace")
        except KeyError:
            continue
        for found in REF.findall(text):
            if found not in referenced:
                referenced.add(found)
                if _is_document(listed.get(found)):
                    pending.append(found)
    return referenced


def _is_document(blob: dict[str, Any] | None) -> bool:
    if blob is None:
        return False
    return blob["metadata"].get("kind") in DOCUMENT_KINDS or blob.get("content_type") == "application/json"


def _orphan_node_rows(store: Store) -> list[dict[str, Any]]:
    run_ids = {e["RowKey"] for e in store.query(runs.RUNS, "PartitionKey ne '~'")}
    return [e for e in store.query(runs.NODES, "PartitionKey ne '~'") if e["PartitionKey"] not in run_ids]


def _orphan_dataset_blobs(store: Store, cutoff: datetime) -> list[dict[str, Any]]:
    rows = {(e["PartitionKey"], int(e["RowKey"])) for e in store.query(datasets.TABLE, "PartitionKey ne '~'")}
    orphans = []
    for blob in store.list_blob_details(datasets.CONTAINER):
        name, _, rest = blob["name"].partition("/")
        version, _, file = rest.partition("/")
        if version.isdigit() and file and (name, int(version)) not in rows and blob["last_modified"] < cutoff:
            orphans.append(blob)
    return orphans


def _freed(blobs: list[dict[str, Any]], container: str) -> Freed:
    return Freed(
        count=len(blobs),
        bytes=sum(b["size"] for b in blobs),
        names=[f"{container}/{b['name']}" for b in blobs[:MAX_NAMES]],
    )


def as_json(report: GcReport) -> dict[str, Any]:
    return json.loads(report.model_dump_json())
