"""Deleting things, and what still needs them.

A delete that would break something refuses (409) and names each user, unless forced.
Deletes are ordered so a crash part-way leaves a consistent state: the row that makes a
thing visible (and usable) goes first, so what is left behind is unreachable and is swept
by the garbage collector (``core.registry.gc``), or the parent stays visible, disabled, and a second
delete finishes the job. Content-addressed artifacts are never deleted here: they may be
shared, and only the collector knows whether anything else still names them.
"""

from __future__ import annotations

import logging
from typing import Any

from core.components import lookup
from core.components.data import Dataset
from core.errors import Conflict, NotFound, Problem
from core.execution import reuse
from core.pipelines import drafts
from core.registry import assets, datasets, endpoints, runs
from core.schedules import records as schedules
from core.serving import deployments
from core.storage.artifacts import Artifacts
from core.storage.store import Store

log = logging.getLogger("designer")
ASSET_COMPONENTS = {"trained_model_asset", "cluster_model_asset", "transformation_asset"}


class InUse(Conflict):
    """Something still needs what was to be deleted; ``?force=true`` deletes it anyway."""


class Lifecycle:
    def __init__(self, store: Store, artifacts: Artifacts) -> None:
        self._store, self._artifacts = store, artifacts

    # ---- who uses what -----------------------------------------------------------------------
    def _documents(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(kind, id, pipeline document) of everything that will run a pipeline again."""
        holders: list[tuple[str, str, str]] = []
        for endpoint in endpoints.list_endpoints(self._store):
            holders += [
                ("pipeline_endpoint_version", f"{endpoint.name}/{v.version}", v.pipeline_ref)
                for v in endpoints.versions(self._store, endpoint.name)
            ]
        holders += [("draft", d.id, d.pipeline_ref) for d in drafts.list_drafts(self._store)]
        holders += [
            ("realtime_endpoint", rt.name, rt.pipeline_ref) for rt in deployments.list_endpoints(self._store)
        ]
        docs: list[tuple[str, str, dict[str, Any]]] = []
        for kind, ident, ref in holders:
            try:
                docs.append((kind, ident, self._artifacts.get_json(ref)))
            except KeyError:  # a record whose document is gone uses nothing
                log.warning("%s %s: its pipeline document %s is missing", kind, ident, ref)
        return docs

    def dataset_users(self, name: str, version: int | None) -> list[Problem]:
        """Pipelines pinned to the version (or, for the whole dataset, naming it at all) and
        schedules that submit with it; a pipeline naming the latest version needs some version."""
        remaining = [v.version for v in datasets.versions(self._store, name) if v.version != version]
        problems = []
        for kind, ident, doc in self._documents():
            for node in doc.get("nodes", []):
                if lookup(node["component"]) is not Dataset or node.get("parameters", {}).get("name") != name:
                    continue
                pinned = node["parameters"].get("version")
                if version is None or pinned == version or (pinned is None and not remaining):
                    problems.append(
                        _used(
                            kind,
                            ident,
                            node["id"],
                            f"dataset {name!r}"
                            + (f" version {pinned}" if pinned else " (its latest version)"),
                        )
                    )
        for schedule in schedules.list_all(self._store):
            for param, value in schedule.spec.submission.DataSetDefinitionValueAssignments.items():
                ref = (
                    value.SavedDataSetReference.Id
                    if value.SavedDataSetReference
                    else (
                        value.DataSetReference.Name or value.DataSetReference.Id
                        if value.DataSetReference
                        else None
                    )
                )
                ref_name, _, ref_version = (ref or "").partition(":")
                if ref_name == name and (version is None or not ref_version or int(ref_version) == version):
                    problems.append(
                        Problem(
                            code="used_by_schedule",
                            field=f"schedule {schedule.id}",
                            parameter=param,
                            message=f"Schedule {schedule.id!r} of endpoint "
                            f"{schedule.endpoint!r} submits with dataset {name!r}",
                        )
                    )
        return problems

    def asset_users(self, name: str, version: int | None) -> list[Problem]:
        """Nodes naming the asset (a version deleted, or none left for "latest"), and published
        snapshots pinned from it (their ``source_asset``)."""
        found = assets.versions(self._store, name)
        labels = {f"{a.name}:{a.version}" for a in found if version is None or a.version == version}
        none_left = version is None or all(a.version == version for a in found)
        problems = []
        for kind, ident, doc in self._documents():
            for node in doc.get("nodes", []):
                params = node.get("parameters", {})
                if node["component"] not in ASSET_COMPONENTS:
                    continue
                named = params.get("asset") == name and (
                    version is None
                    or params.get("version") == version
                    or (params.get("version") is None and none_left)
                )
                if named or params.get("source_asset") in labels:
                    problems.append(_used(kind, ident, node["id"], f"asset {name!r}"))
        return problems

    # ---- deletes -------------------------------------------------------------------------------
    def delete_dataset(self, name: str, version: int | None, force: bool) -> list[int]:
        found = [v for v in datasets.versions(self._store, name) if version is None or v.version == version]
        if not found:
            datasets.get(self._store, name, version)  # raises NotFound naming what is missing
        _refuse_if(self.dataset_users(name, version), f"Dataset {name!r}", force)
        for entry in found:  # row first: the version stops resolving; a left-over blob is swept
            self._store.delete(datasets.TABLE, name, f"{entry.version:06d}")
            self._store.delete_blob(datasets.CONTAINER, datasets.blob_name(name, entry.version))
        return [e.version for e in found]

    def delete_asset(self, name: str, version: int | None, force: bool) -> list[int]:
        found = [a for a in assets.versions(self._store, name) if version is None or a.version == version]
        if not found:
            assets.get(self._store, name, version)
        _refuse_if(self.asset_users(name, version), f"Asset {name!r}", force)
        for entry in found:
            self._store.delete(assets.TABLE, name, f"{entry.version:06d}")
        return [a.version for a in found]

    def delete_draft(self, draft_id: str) -> None:
        """Nothing depends on a draft: runs and published versions keep their own snapshot."""
        drafts.delete(self._store, draft_id)

    def delete_pipeline_endpoint(self, name: str, force: bool, by: str | None) -> dict[str, int]:
        endpoint = endpoints.get(self._store, name)
        found = schedules.list_for(self._store, name)
        users = [
            Problem(
                code="has_schedules",
                field=f"schedule {s.id}",
                message=(f"Schedule {s.spec.name!r} ({s.id}) runs this endpoint; it is deleted with it"),
            )
            for s in found
        ]
        _refuse_if(users, f"Pipeline endpoint {name!r}", force)
        if endpoint.status == "Active":  # first: no submission starts while the rest goes
            endpoints.set_status(self._store, name, "Disabled", by)
        for schedule in found:
            schedules.delete(self._store, name, schedule.id)
        versions = self._store.partition(endpoints.VERSIONS, name)
        _delete_rows(self._store, endpoints.VERSIONS, versions)
        _delete_rows(self._store, endpoints.AUDIT, self._store.partition(endpoints.AUDIT, name))
        self._store.delete(endpoints.ENDPOINTS, endpoints.PARTITION, name)
        return {"versions": len(versions), "schedules": len(found)}

    def delete_run(self, run_id: str) -> None:
        run = runs.get_run(self._store, run_id)
        if run.status not in runs.TERMINAL:
            raise Conflict(
                f"Run {run_id!r} is {run.status.value}",
                [
                    Problem(
                        code="run_in_progress",
                        field="run",
                        message="A run that has not ended cannot be deleted; "
                        "wait for it to end (or cancel it) first",
                    )
                ],
            )
        self._store.delete(runs.RUNS, run.experiment, run_id)  # first: the run stops being listed
        _delete_rows(self._store, runs.NODES, self._store.partition(runs.NODES, run_id))
        # Reuse entries that point at this run go too (their outputs stay while referenced).
        cached = list(self._store.query(reuse.TABLE, "run_id eq @id", {"id": run_id}))
        for row in cached:
            self._store.delete(reuse.TABLE, row["PartitionKey"], row["RowKey"])

    def delete_experiment(self, experiment: str) -> int:
        found = runs.list_runs(self._store, experiment)
        if not found:
            raise NotFound(f"No experiment {experiment!r}")
        going = [r for r in found if r.status not in runs.TERMINAL]
        if going:
            raise Conflict(
                f"Experiment {experiment!r} has {len(going)} run(s) that have not ended",
                [
                    Problem(
                        code="run_in_progress",
                        field=f"run {r.run_id}",
                        message=f"Run {r.run_id} is {r.status.value}",
                    )
                    for r in going
                ],
            )
        for run in found:
            self.delete_run(run.run_id)
        return len(found)

    # ---- registration ------------------------------------------------------------------------
    def registered_output(self, name: str, ref: str, source: str) -> dict[str, Any] | None:
        return registered_output(self._store, name, ref, source)


def registered_output(store: Store, name: str, ref: str, source: str) -> dict[str, Any] | None:
    """The version that already holds this very output under ``name``, if there is one."""
    for asset in assets.versions(store, name):
        if asset.ref == ref:
            return {"type": "asset", **asset.model_dump(mode="json")}
    sha = ref.rpartition("/")[2]
    for entry in datasets.versions(store, name):
        if entry.source == source or entry.sha256 == sha:
            return {"type": "dataset", **entry.model_dump(mode="json")}
    return None


def _used(kind: str, ident: str, node: str, what: str) -> Problem:
    return Problem(
        code=f"used_by_{kind}",
        node=node,
        field=f"{kind} {ident}",
        message=f"{kind.replace('_', ' ').capitalize()} {ident!r} uses {what} in node {node!r}",
    )


def _refuse_if(problems: list[Problem], what: str, force: bool) -> None:
    if problems and not force:
        raise InUse(
            f"{what} is still used by {len(problems)} thing(s); delete or change them first, or "
            "add ?force=true",
            problems,
        )


def _delete_rows(store: Store, table: str, rows: list[dict[str, Any]]) -> None:
    by_partition: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for row in rows:
        by_partition.setdefault(row["PartitionKey"], []).append(
            ("delete", {"PartitionKey": row["PartitionKey"], "RowKey": row["RowKey"]})
        )
    for partition_ops in by_partition.values():
        store.submit(table, partition_ops)
