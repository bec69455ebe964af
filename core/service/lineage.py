"""Where a model, an endpoint version or a real-time deployment came from, and what uses what.

Nothing extra is recorded for this: every answer is read from what the service keeps anyway.
A registered asset names the run output it was made from (``run/node/port``); a run keeps the
pinned pipeline it ran (dataset names with versions); a published or deployed pipeline keeps
its ``MD-``/``TD-`` nodes pinned to artifact references, which lead back to the asset registered
from them or to the output of the training run the inference pipeline was made from.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from core.components import lookup
from core.components.data import Dataset
from core.errors import DesignerError, NotFound
from core.pipelines.document import Pipeline, canonical_parameter
from core.registry import assets, endpoints, runs
from core.serving import deployments
from core.storage.artifacts import Artifacts
from core.storage.store import Store

SOURCE_COMPONENTS = {"trained_model_asset", "cluster_model_asset", "transformation_asset"}
_FROM_ENDPOINT = re.compile(r"^pipeline endpoint (?P<name>\S+) version (?P<version>\d+)$")


class DatasetVersionRef(BaseModel):
    name: str
    version: int | None = None


class AssetRef(BaseModel):
    name: str
    version: int


class Origin(BaseModel):
    """The run output an artifact is: the run, its node and port, its pipeline, its datasets."""

    ref: str
    run_id: str | None = None
    experiment: str | None = None
    node: str | None = None
    port: str | None = None
    component: str | None = None
    pipeline_name: str | None = None
    draft_id: str | None = None
    pipeline_endpoint: str | None = None
    pipeline_version: int | None = None
    trained_on: list[DatasetVersionRef] = Field(default_factory=list)
    assets: list[AssetRef] = Field(default_factory=list, description="Assets registered from this artifact")


class SourceNode(BaseModel):
    node: str
    component: str
    origin: Origin


class PipelineLineage(BaseModel):
    source_run: str | None = None
    models: list[SourceNode] = Field(default_factory=list)
    datasets: list[DatasetVersionRef] = Field(default_factory=list, description="Datasets the pipeline reads")
    trained_on: list[DatasetVersionRef] = Field(
        default_factory=list, description="Datasets its models and transformations were fitted on"
    )


class Lineage:
    """Lineage queries over one store (and the artifacts it holds)."""

    def __init__(self, store: Store, artifacts: Artifacts) -> None:
        self.store, self.artifacts = store, artifacts

    # ---- where things came from -----------------------------------------------------------
    def of_output(self, run_id: str, node_id: str, port: str, ref: str | None = None) -> Origin:
        run = runs.get_run(self.store, run_id)
        node = runs.get_node(self.store, run_id, node_id)
        pipeline = Pipeline.model_validate(self.artifacts.get_json(run.pipeline_ref))
        component = lookup(node.component)
        found = component.output_port(port) if component else None
        port_id = found.id if found else port
        ref = ref or node.outputs.get(port_id, "")
        return Origin(
            ref=ref,
            run_id=run.run_id,
            experiment=run.experiment,
            node=node_id,
            port=port_id,
            component=component.name if component else node.component,
            pipeline_name=run.pipeline_name,
            draft_id=run.draft_id,
            pipeline_endpoint=run.endpoint,
            pipeline_version=run.endpoint_version,
            trained_on=datasets_upstream(pipeline, node_id),
            assets=self._assets_of(ref),
        )

    def of_ref(self, ref: str, source_run: str | None = None) -> Origin:
        """An artifact's origin: the given training run if it made it, else the run of an asset
        registered from it. Artifacts are content-addressed: the same bytes from two runs are one
        artifact, and the run the pipeline was made from is the one named then."""
        if source_run:
            try:
                for node in runs.get_nodes(self.store, source_run):
                    for port, out in node.outputs.items():
                        if out == ref:
                            return self.of_output(source_run, node.node_id, port, ref)
            except NotFound:
                pass
        registered = [a for a in self._all_assets() if a.ref == ref]
        for asset in registered:
            run_id, node_id, port = _split_source(asset.source)
            if run_id:
                try:
                    return self.of_output(run_id, node_id, port, ref)
                except NotFound:
                    continue
        return Origin(ref=ref, assets=[AssetRef(name=a.name, version=a.version) for a in registered])

    def of_pipeline(self, pipeline: Pipeline) -> PipelineLineage:
        out = PipelineLineage(source_run=pipeline.source_run)
        for node in pipeline.nodes:
            component = lookup(node.component)
            if component is None:
                continue
            if component is Dataset:
                params = _canonical(component, node.parameters)
                out.datasets.append(
                    DatasetVersionRef(name=str(params.get("name")), version=params.get("version"))
                )
            elif component.id in SOURCE_COMPONENTS:
                ref = self._pinned_ref(node.parameters)
                if ref is None:
                    continue
                origin = self.of_ref(ref, pipeline.source_run)
                out.models.append(SourceNode(node=node.id, component=component.name, origin=origin))
        out.trained_on = _unique([d for m in out.models for d in m.origin.trained_on])
        return out

    def _pinned_ref(self, params: dict[str, Any]) -> str | None:
        if params.get("ref"):
            return str(params["ref"])
        if params.get("asset"):
            try:
                return assets.get(self.store, params["asset"], params.get("version")).ref
            except NotFound:
                return None
        return None

    # ---- per kind of thing ----------------------------------------------------------------
    def asset(self, name: str, version: int | None) -> dict[str, Any]:
        entry = assets.get(self.store, name, version)
        run_id, node_id, port = _split_source(entry.source)
        origin = self.of_output(run_id, node_id, port, entry.ref) if run_id else Origin(ref=entry.ref)
        return {
            "asset": {"name": entry.name, "version": entry.version, "kind": entry.kind.value},
            "origin": origin.model_dump(mode="json"),
            "used_by": self.used_by(ref=entry.ref),
        }

    def endpoint_version(self, name: str, version: int | None) -> dict[str, Any]:
        if version is None:
            endpoint = endpoints.get(self.store, name)
            version = endpoint.default_version
            if version is None:
                raise NotFound(f"Pipeline endpoint {name!r} has no version")
        entry = endpoints.get_version(self.store, name, version)
        pipeline = Pipeline.model_validate(self.artifacts.get_json(entry.pipeline_ref))
        deployed = [
            d.name for d in deployments.list_endpoints(self.store) if _deployed_from(d) == (name, version)
        ]
        return {
            "pipeline_endpoint": name,
            "version": version,
            "kind": entry.kind,
            "published_from": entry.source,
            **self.of_pipeline(pipeline).model_dump(mode="json"),
            "used_by": {"realtime_endpoints": deployed},
        }

    def realtime(self, name: str) -> dict[str, Any]:
        deployed = deployments.get(self.store, name)
        pipeline = Pipeline.model_validate(self.artifacts.get_json(deployed.pipeline_ref))
        origin = _deployed_from(deployed)
        return {
            "realtime_endpoint": name,
            "deployment": deployed.deployment,
            "deployed_from": deployed.source,
            "pipeline_endpoint": origin[0] if origin else None,
            "pipeline_version": origin[1] if origin else None,
            **self.of_pipeline(pipeline).model_dump(mode="json"),
        }

    def run_output(self, run_id: str, node_id: str, port: str) -> dict[str, Any]:
        origin = self.of_output(run_id, node_id, port)
        used = self.used_by(ref=origin.ref) if origin.ref else {}
        return {"origin": origin.model_dump(mode="json"), "used_by": used}

    def dataset(self, name: str, version: int | None) -> dict[str, Any]:
        return {
            "dataset": {"name": name, "version": version},
            "used_by": self.used_by(dataset=(name, version)),
        }

    # ---- the other way round ---------------------------------------------------------------
    def used_by(
        self, ref: str | None = None, dataset: tuple[str, int | None] | None = None
    ) -> dict[str, Any]:
        """Endpoint versions and real-time deployments using an artifact, or reading or trained on
        a dataset version (any version when ``version`` is None)."""

        def uses(lineage: PipelineLineage) -> list[str]:
            how = []
            if ref is not None and any(m.origin.ref == ref for m in lineage.models):
                how.append("model")
            if dataset is not None:
                if any(_matches(d, dataset) for d in lineage.trained_on):
                    how.append("trained_on")
                if any(_matches(d, dataset) for d in lineage.datasets):
                    how.append("reads")
            return how

        versions, realtimes = [], []
        for endpoint in endpoints.list_endpoints(self.store):
            for entry in endpoints.versions(self.store, endpoint.name):
                if how := uses(self._of_stored(entry.pipeline_ref)):
                    versions.append(
                        {"pipeline_endpoint": endpoint.name, "version": entry.version, "uses": how}
                    )
        for deployed in deployments.list_endpoints(self.store):
            if how := uses(self._of_stored(deployed.pipeline_ref)):
                realtimes.append(
                    {"realtime_endpoint": deployed.name, "deployment": deployed.deployment, "uses": how}
                )
        out: dict[str, Any] = {"endpoint_versions": versions, "realtime_endpoints": realtimes}
        if dataset is not None:
            out["assets"] = self._assets_trained_on(dataset)
        return out

    def _of_stored(self, pipeline_ref: str) -> PipelineLineage:
        """The lineage of a stored pipeline; an empty one where what it names is gone (a forced
        delete, a collected artifact): it can then use nothing that still exists."""
        try:
            return self.of_pipeline(Pipeline.model_validate(self.artifacts.get_json(pipeline_ref)))
        except (DesignerError, KeyError, ValueError):
            return PipelineLineage()

    def _assets_trained_on(self, dataset: tuple[str, int | None]) -> list[dict[str, Any]]:
        found = []
        for name in sorted({a.name for a in self._all_assets()}):
            for entry in assets.versions(self.store, name):
                run_id, node_id, port = _split_source(entry.source)
                if not run_id:
                    continue
                try:
                    origin = self.of_output(run_id, node_id, port, entry.ref)
                except NotFound:
                    continue
                if any(_matches(d, dataset) for d in origin.trained_on):
                    found.append({"name": entry.name, "version": entry.version})
        return found

    def _all_assets(self) -> list[assets.AssetVersion]:
        latest = assets.list_assets(self.store)
        return [v for a in latest for v in assets.versions(self.store, a.name)]

    def _assets_of(self, ref: str) -> list[AssetRef]:
        return [AssetRef(name=a.name, version=a.version) for a in self._all_assets() if a.ref == ref]


def datasets_upstream(pipeline: Pipeline, node_id: str) -> list[DatasetVersionRef]:
    """The Dataset nodes ``node_id`` reads from, directly or through other nodes (pinned versions)."""
    seen = pipeline.upstream(node_id)
    found = []
    for node in pipeline.nodes:
        if node.id in seen and lookup(node.component) is Dataset:
            params = _canonical(Dataset, node.parameters)
            found.append(DatasetVersionRef(name=str(params.get("name")), version=params.get("version")))
    return _unique(found)


def _canonical(component: Any, params: dict[str, Any]) -> dict[str, Any]:
    return {canonical_parameter(component, k) or k: v for k, v in params.items()}


def _unique(refs: list[DatasetVersionRef]) -> list[DatasetVersionRef]:
    seen: dict[tuple[str, int | None], DatasetVersionRef] = {}
    for ref in refs:
        seen.setdefault((ref.name, ref.version), ref)
    return list(seen.values())


def _matches(ref: DatasetVersionRef, wanted: tuple[str, int | None]) -> bool:
    return ref.name == wanted[0] and (wanted[1] is None or ref.version == wanted[1])


def _split_source(source: str) -> tuple[str, str, str]:
    parts = source.split("/")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else ("", "", "")


def _deployed_from(deployed: deployments.RealtimeEndpoint) -> tuple[str, int] | None:
    match = _FROM_ENDPOINT.match(deployed.source)
    return (match["name"], int(match["version"])) if match else None
