"""Pipeline endpoint use cases: publish, manage versions and defaults, submit to an endpoint
(Azure ML's body), registered assets, and file-drop scoring through an endpoint."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from core.components import PortType, lookup
from core.components.data import Dataset
from core.errors import ComponentError, DesignerError, InvalidRequest, NotFound, Problem
from core.execution.executor import StoreDataAccess
from core.execution.job import Job
from core.pipelines.document import Pipeline, PipelineParameter
from core.registry import assets, datasets, endpoints, runs
from core.registry.assets import AssetVersion
from core.registry.endpoints import Endpoint, EndpointStatus, EndpointVersion
from core.registry.runs import RunRecord
from core.registry.submissions import EndpointSubmission, dataset_choice
from core.service import lifecycle
from core.service.pipelines import Pipelines, locate_assignment_problems
from core.service.runs import Runs, Submission
from core.serving import file_drop
from core.storage.artifacts import Artifacts, parquet_to_dataframe
from core.storage.store import Store


@dataclass
class EndpointDetail:
    """An endpoint with its versions and default history, and the ETag a change must quote."""

    view: dict[str, Any]
    etag: str


class Endpoints:
    def __init__(self, store: Store, artifacts: Artifacts, pipelines: Pipelines, runs: Runs) -> None:
        self.store, self.artifacts, self.pipelines, self.runs = store, artifacts, pipelines, runs

    # ---- endpoints and their versions --------------------------------------------------------
    def list_endpoints(self) -> list[Endpoint]:
        return endpoints.list_endpoints(self.store)

    def detail(self, name: str) -> EndpointDetail:
        endpoint = endpoints.get(self.store, name)
        view = {
            **endpoint.model_dump(mode="json"),
            "versions": [v.model_dump(mode="json") for v in endpoints.versions(self.store, name)],
            "default_history": [a.model_dump(mode="json") for a in endpoints.audit_trail(self.store, name)],
        }
        return EndpointDetail(view, endpoint.etag or "")

    def endpoint_view(self, name: str) -> dict[str, Any]:
        return self.detail(name).view

    def version(self, name: str, version: int) -> tuple[EndpointVersion, dict[str, Any]]:
        """One published version with the pipeline document it holds, as it was stored."""
        entry = endpoints.get_version(self.store, name, version)
        return entry, self.artifacts.get_json(entry.pipeline_ref)

    def set_default(self, name: str, version: int, by: str | None, if_match: str | None) -> Endpoint:
        return endpoints.set_default_version(self.store, name, version, by, if_match=if_match)

    def rollback(self, name: str, by: str | None, if_match: str | None) -> Endpoint:
        return endpoints.rollback_default(self.store, name, by, if_match)

    def set_status(
        self, name: str, status: EndpointStatus, by: str | None, version: int | None = None
    ) -> dict[str, Any]:
        """Enable or disable the endpoint (or one version); the answer is the endpoint's view."""
        endpoints.set_status(self.store, name, status, by, version=version)
        return self.endpoint_view(name)

    def set_description(self, name: str, description: str) -> Endpoint:
        return endpoints.set_description(self.store, name, description)

    def batch_settings(self, name: str) -> dict[str, Any]:
        return endpoints.get(self.store, name).batch_settings

    def set_batch_settings(self, name: str, settings: dict[str, Any]) -> Endpoint:
        return endpoints.set_batch_settings(self.store, name, settings)

    # ---- registered assets -------------------------------------------------------------------
    def list_assets(self) -> list[AssetVersion]:
        """The latest version of every asset."""
        return assets.list_assets(self.store)

    def asset_versions(self, name: str) -> list[AssetVersion]:
        """Every version, oldest first; :class:`NotFound` when there is none."""
        found = assets.versions(self.store, name)
        if not found:
            assets.get(self.store, name)  # raises NotFound with the message
        return found

    def publish(
        self, draft_id: str, endpoint: str, description: str, set_default: bool, by: str | None
    ) -> endpoints.EndpointVersion:
        """Add a version to ``endpoint`` holding an immutable snapshot of the draft."""
        _, pipeline = self.pipelines.get_draft(draft_id)
        problems = self.pipelines.validate(pipeline)
        if problems:
            raise InvalidRequest(
                f"The pipeline has {len(problems)} problem(s); it cannot be published", problems
            )
        snapshot = self.pipelines.pin_assets(pipeline)
        return endpoints.publish(
            self.store,
            endpoint,
            description=description,
            kind=snapshot.kind,
            pipeline_name=snapshot.name,
            pipeline_ref=self.artifacts.put_json(snapshot.model_dump(mode="json"), "pipeline"),
            parameters={p.name: p.default for p in snapshot.parameters},
            set_default=set_default,
            by=by,
            source=f"draft {draft_id}",
        )

    def submit_to_endpoint(
        self, name: str, body: EndpointSubmission, version: int | None, by: str | None
    ) -> tuple[RunRecord, Job]:
        """Run a published version with new parameter values and datasets (Azure ML's body)."""
        entry = endpoints.resolve_for_submit(self.store, name, body.PipelineVersion or version)
        pipeline = Pipeline.model_validate(self.artifacts.get_json(entry.pipeline_ref))
        pipeline, problems = self._assign_datasets(pipeline, body)
        if problems:  # report the parameter problems in the same answer
            assignments = body.ParameterAssignments
            problems += locate_assignment_problems(
                pipeline, assignments, self.pipelines.validate(pipeline, assignments)
            )
        if problems:
            raise InvalidRequest(f"The submission has {len(problems)} problem(s)", problems)
        submission = Submission(
            experiment=body.ExperimentName,
            pipeline=pipeline,
            description=body.Description,
            parameter_assignments=body.ParameterAssignments,
            regenerate_outputs=body.RegenerateOutputs,
            continue_on_step_failure=body.ContinueRunOnStepFailure is not False,
        )
        return self.runs.submit(submission, by, endpoint=entry)

    def _assign_datasets(
        self, pipeline: Pipeline, body: EndpointSubmission
    ) -> tuple[Pipeline, list[Problem]]:
        doc = pipeline.model_copy(deep=True)
        problems: list[Problem] = []
        choices: dict[str, tuple[str | None, int | None, str | None, str]] = {}
        for param, value in body.DataSetDefinitionValueAssignments.items():
            name, version, path, found = dataset_choice(param, value)
            problems += found
            choices[param] = (name, version, path, f"DataSetDefinitionValueAssignments.{param}")
        for param, data_path in body.DataPathAssignments.items():
            choices[param] = (None, None, data_path.path, f"DataPathAssignments.{param}")
        for param, (name, version, path, field) in choices.items():
            bound = next((p for p in doc.parameters if p.name == param), None)
            targets = [doc.node(b.node) for b in bound.bindings] if bound else []
            if not targets or any(lookup(n.component) is not Dataset for n in targets):
                problems.append(
                    Problem(
                        code="unknown_dataset_parameter",
                        field=field,
                        message=(
                            f"{param!r} is not a dataset input of this pipeline; dataset inputs: "
                            f"{sorted(p.name for p in doc.parameters if _is_dataset_parameter(doc, p))}"
                        ),
                    )
                )
                continue
            if path is not None:
                try:
                    imported = self.import_blob(path)
                except (DesignerError, ComponentError) as exc:
                    problems.append(Problem(code="unreadable_data_path", field=field, message=str(exc)))
                    continue
                name, version = imported.name, imported.version
            for node in targets:
                node.parameters = {"name": name, **({"version": version} if version else {})}
            doc.parameters = [p for p in doc.parameters if p.name != param]  # value given: no default
        return doc, problems

    def import_blob(self, path: str) -> datasets.DatasetVersion:
        """A blob path given to a submission, registered as a dataset version of its own."""
        data = StoreDataAccess(self.store).read_blob(path)
        try:
            df = parquet_to_dataframe(data) if path.lower().endswith(".parquet") else datasets.parse_csv(data)
        except (pa.ArrowException, OSError, ValueError) as exc:  # Arrow's words quote the file: not shown
            raise InvalidRequest(f"{path!r} is not a readable Parquet file") from exc
        name = re.sub(r"[^A-Za-z0-9_.\-]", ".", path.strip("/"))[:100]
        return datasets.register(self.store, name, df, description=f"imported from {path}", source=path)

    def register_output(
        self, run_id: str, node_id: str, port: str, name: str, description: str, by: str | None
    ) -> dict[str, Any]:
        """A node output as a named, versioned asset (a model, a transformation) or dataset."""
        node = runs.get_node(self.store, run_id, node_id)
        component = lookup(node.component)
        out_port = component.output_port(port) if component else None
        if out_port is None or out_port.id not in node.outputs:
            raise NotFound(f"Node {node_id!r} of run {run_id!r} has no output {port!r}")
        ref, source = node.outputs[out_port.id], f"{run_id}/{node_id}/{out_port.id}"
        same = lifecycle.registered_output(self.store, name, ref, source)
        if same is not None:  # the same output registered again: the same version, not a duplicate
            return same
        if out_port.type == PortType.DATA:
            df = self.artifacts.get(ref, PortType.DATA)
            entry = datasets.register(
                self.store, name, df, description=description or f"output of {source}", source=source
            )
            return {"type": "dataset", **entry.model_dump(mode="json")}
        if out_port.type not in assets.REGISTRABLE:
            raise InvalidRequest(
                f"A {out_port.type.value} output cannot be registered",
                [
                    Problem(
                        code="not_registrable",
                        node=node_id,
                        port=port,
                        message="Register a trained model, a transformation or a dataset",
                    )
                ],
            )
        asset = assets.register(
            self.store, name, out_port.type, ref, description=description, source=source, created_by=by
        )
        return {"type": "asset", **asset.model_dump(mode="json")}

    # ---- file-drop scoring from a client without storage credentials -------------------------
    def drop_file(self, endpoint: str, file: str, data: bytes) -> file_drop.DroppedFile:
        return file_drop.upload(self.store, endpoint, file, data)

    def dropped_file(self, endpoint: str, file: str) -> file_drop.DroppedFile:
        return file_drop.status(self.store, endpoint, file)

    def dropped_files(self, endpoint: str) -> list[str]:
        return file_drop.list_files(self.store, endpoint)

    def dropped_file_predictions(self, endpoint: str, file: str) -> tuple[bytes, str]:
        return file_drop.predictions(self.store, endpoint, file)


def _is_dataset_parameter(doc: Pipeline, param: PipelineParameter) -> bool:
    return all(
        lookup(doc.node(b.node).component) is Dataset
        for b in param.bindings
        if any(n.id == b.node for n in doc.nodes)
    )
