"""The use cases the HTTP layer calls. One :class:`Service` per process, built from settings."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import pyarrow as pa
from pydantic import AfterValidator, BaseModel, Field

from core import assets, datasets, drafts, endpoints, inference, names, runs
from core.artifacts import Artifacts, parquet_to_dataframe
from core.components import CATALOGUE, PortType, lookup
from core.components.data import Dataset
from core.errors import ComponentError, Conflict, DesignerError, InvalidRequest, NotFound, Problem
from core.executor import NodeRequest, NodeResult, StoreDataAccess, join_chunks, run_chunk, run_node
from core.minibatch import ChunkOutcome
from core.graph import Binding, Pipeline, PipelineParameter, canonical_parameter, pipeline_parameter_conflicts
from core.planner import Plan, plan
from core.runs import NodeRecord, RunRecord, Status
from core.settings import Settings
from core.store import Store
from core.batch import BatchScoring
from core.realtime_service import RealtimeService
from core.submissions import EndpointSubmission, dataset_choice

NAME_PATTERN = names.NAME
ASSET_COMPONENTS = {"trained_model_asset": PortType.MODEL, "cluster_model_asset": PortType.CLUSTER_MODEL,
                    "transformation_asset": PortType.TRANSFORM}


class Job(BaseModel):
    """The orchestration input: a run id and its plan (references only)."""

    run_id: str
    experiment: str
    plan: Plan
    regenerate_outputs: bool = False

    def request(self, node_id: str, outputs: dict[str, dict[str, str]]) -> NodeRequest:
        node = self.plan.nodes[node_id]
        inputs = {port: outputs[ref.node][ref.port] for port, ref in node.inputs.items()}
        return NodeRequest(run_id=self.run_id, node=node, inputs=inputs,
                           regenerate=self.regenerate_outputs or node.regenerate)


class RunRequest(BaseModel):
    """The body of a run submission: a pipeline document or a saved draft."""

    pipeline: Pipeline | None = None
    draft_id: names.Id | None = None
    parameter_assignments: Annotated[dict[str, Any], AfterValidator(names.check_assignments)] = Field(
        default_factory=dict)
    description: names.Description = ""
    regenerate_outputs: bool = Field(False, description="Run every node; reuse no earlier output")


class Submission(RunRequest):
    """A run request into a named experiment (the route names it)."""

    experiment: str = Field(pattern=NAME_PATTERN)


class PipelineInputRequest(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]{0,79}$")
    node: str
    parameter: str
    default: Any = None
    description: names.Description = ""


class Service:
    def __init__(self, store: Store, settings: Settings, samples_dir: Path | None = None) -> None:
        self.store = store
        self.settings = settings
        self.samples_dir = samples_dir
        self.artifacts = Artifacts(store, settings.artifact_signing_key)
        self.realtime = RealtimeService(store, self.artifacts, pin=self._pin_datasets, validate=self.validate)
        self.batch = BatchScoring(store, self.artifacts, settings.mini_batch_rows, pin=self._pin_datasets)

    @property
    def features(self) -> dict[str, bool]:
        return {"enable_python_script": self.settings.enable_python_script,
                "enable_sql": self.settings.enable_sql}

    # ---- catalogue and datasets ------------------------------------------------------------
    def components(self) -> list[dict[str, Any]]:
        """The catalogue, each entry saying whether this deployment runs it."""
        return [{**c.describe(), "enabled": self._enabled(c)} for c in CATALOGUE.values()]

    def _enabled(self, component: Any) -> bool:
        return component.feature is None or bool(self.features.get(component.feature[0]))

    def _disabled_problems(self, pipeline: Pipeline) -> list[Problem]:
        """Nodes whose component is switched off here: they would only fail at run time."""
        problems = []
        for node in pipeline.nodes:
            component = lookup(node.component)
            if component is not None and not self._enabled(component):
                problems.append(Problem(
                    code="component_disabled", node=node.id, field="component",
                    message=f"{component.name} is turned off on this service: it runs user code. An "
                            f"administrator can turn it on with the app setting {component.feature[1]}=true"))
        return problems

    def register_csv(self, name: str, data: bytes, description: str = "") -> datasets.DatasetVersion:
        datasets.check_name(name)
        return datasets.register(self.store, name, datasets.parse_csv(data), description=description)

    def register_sample(self, name: str) -> datasets.DatasetVersion:
        if self.samples_dir is None:
            raise NotFound("Built-in samples are not available in this deployment")
        return datasets.register_sample(self.store, name, self.samples_dir)

    def samples(self) -> list[dict[str, str]]:
        return [{"name": n, "description": d} for n, d in datasets.SAMPLES.items()]

    # ---- drafts ------------------------------------------------------------------------------
    def create_draft(self, pipeline: Pipeline) -> tuple[drafts.Draft, list[Problem]]:
        return drafts.create(self.store, self.artifacts, pipeline), self.validate(pipeline)

    def update_draft(self, draft_id: str, pipeline: Pipeline, etag: str | None) -> tuple[drafts.Draft, list[Problem]]:
        return drafts.update(self.store, self.artifacts, draft_id, pipeline, etag), self.validate(pipeline)

    def get_draft(self, draft_id: str) -> tuple[drafts.Draft, Pipeline]:
        return drafts.load(self.store, self.artifacts, draft_id)

    def _asset_problems(self, node_id: str, component_id: str, params: dict[str, Any]) -> list[Problem]:
        try:
            found = assets.get(self.store, params["asset"], params.get("version"))
        except NotFound as exc:
            return [Problem(code="unknown_asset", node=node_id, parameter="asset", message=exc.message)]
        if ASSET_COMPONENTS[component_id] != found.kind:
            return [Problem(code="asset_kind_mismatch", node=node_id, parameter="asset",
                            message=f"Asset {found.name!r} is a {found.kind.value}, but this node takes "
                                    f"a {ASSET_COMPONENTS[component_id].value}")]
        return []

    # ---- inference pipelines, assets, endpoints ----------------------------------------------
    def create_inference_pipeline(self, run_id: str, kind: inference.Kind) -> tuple[drafts.Draft, list[Problem]]:
        run = runs.get_run(self.store, run_id)
        pipeline = Pipeline.model_validate(self.artifacts.get_json(run.pipeline_ref))
        converted = inference.convert(run, pipeline, runs.get_nodes(self.store, run_id), kind)
        return self.create_draft(converted)

    def register_output(self, run_id: str, node_id: str, port: str, name: str, description: str,
                        by: str | None) -> dict[str, Any]:
        """A node output as a named, versioned asset (a model, a transformation) or dataset."""
        node = runs.get_node(self.store, run_id, node_id)
        component = lookup(node.component)
        out_port = component.output_port(port) if component else None
        if out_port is None or out_port.id not in node.outputs:
            raise NotFound(f"Node {node_id!r} of run {run_id!r} has no output {port!r}")
        ref, source = node.outputs[out_port.id], f"{run_id}/{node_id}/{out_port.id}"
        if out_port.type == PortType.DATA:
            df = self.artifacts.get(ref, PortType.DATA)
            entry = datasets.register(self.store, name, df, description=description or f"output of {source}",
                                      source=source)
            return {"type": "dataset", **entry.model_dump(mode="json")}
        if out_port.type not in assets.REGISTRABLE:
            raise InvalidRequest(f"A {out_port.type.value} output cannot be registered", [Problem(
                code="not_registrable", node=node_id, port=port, message="Register a trained model, a "
                "transformation or a dataset")])
        asset = assets.register(self.store, name, out_port.type, ref, description=description,
                                source=source, created_by=by)
        return {"type": "asset", **asset.model_dump(mode="json")}

    def use_asset(self, draft_id: str, node_id: str, name: str, version: int | None,
                  etag: str | None) -> tuple[drafts.Draft, list[Problem]]:
        """Point an MD-/TD- node of a draft at a registered asset (the designer's model update)."""
        draft, pipeline = self.get_draft(draft_id)
        node = next((n for n in pipeline.nodes if n.id == node_id), None)
        if node is None or node.component not in ASSET_COMPONENTS:
            raise InvalidRequest("Not an asset node", [Problem(
                code="not_an_asset_node", node=node_id,
                message=f"Draft {draft_id!r} has no MD-/TD- node {node_id!r}")])
        params = {"asset": name, **({"version": version} if version else {})}
        problems = self._asset_problems(node_id, node.component, params)
        if problems:
            raise InvalidRequest("The asset does not fit this node", problems)
        node.parameters = params
        return self.update_draft(draft_id, pipeline, etag or draft.etag)

    def publish(self, draft_id: str, endpoint: str, description: str, set_default: bool,
                by: str | None) -> endpoints.EndpointVersion:
        """Add a version to ``endpoint`` holding an immutable snapshot of the draft."""
        _, pipeline = self.get_draft(draft_id)
        problems = self.validate(pipeline)
        if problems:
            raise InvalidRequest(f"The pipeline has {len(problems)} problem(s); it cannot be published", problems)
        snapshot = self._pin_assets(pipeline)
        return endpoints.publish(
            self.store, endpoint, description=description, kind=snapshot.kind, pipeline_name=snapshot.name,
            pipeline_ref=self.artifacts.put_json(snapshot.model_dump(mode="json"), "pipeline"),
            parameters={p.name: p.default for p in snapshot.parameters}, set_default=set_default, by=by,
            source=f"draft {draft_id}")

    def endpoint_view(self, name: str) -> dict[str, Any]:
        endpoint = endpoints.get(self.store, name)
        return {**endpoint.model_dump(mode="json"),
                "versions": [v.model_dump(mode="json") for v in endpoints.versions(self.store, name)],
                "default_history": [a.model_dump(mode="json") for a in endpoints.audit_trail(self.store, name)]}

    def submit_to_endpoint(self, name: str, body: EndpointSubmission, version: int | None,
                           by: str | None) -> tuple[RunRecord, Job]:
        """Run a published version with new parameter values and datasets (Azure ML's body)."""
        entry = endpoints.resolve_for_submit(self.store, name, body.PipelineVersion or version)
        pipeline = Pipeline.model_validate(self.artifacts.get_json(entry.pipeline_ref))
        pipeline, problems = self._assign_datasets(pipeline, body)
        if problems:  # report the parameter problems in the same answer
            assignments = body.ParameterAssignments
            problems += _locate_assignment_problems(pipeline, assignments, self.validate(pipeline, assignments))
        if problems:
            raise InvalidRequest(f"The submission has {len(problems)} problem(s)", problems)
        submission = Submission(experiment=body.ExperimentName, pipeline=pipeline, description=body.Description,
                                parameter_assignments=body.ParameterAssignments,
                                regenerate_outputs=body.RegenerateOutputs)
        return self.submit(submission, by, endpoint=entry)

    def _assign_datasets(self, pipeline: Pipeline, body: EndpointSubmission) -> tuple[Pipeline, list[Problem]]:
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
                problems.append(Problem(code="unknown_dataset_parameter", field=field, message=(
                    f"{param!r} is not a dataset input of this pipeline; dataset inputs: "
                    f"{sorted(p.name for p in doc.parameters if _is_dataset_parameter(doc, p))}")))
                continue
            if path is not None:
                try:
                    imported = self._import_blob(path)
                except (DesignerError, ComponentError) as exc:
                    problems.append(Problem(code="unreadable_data_path", field=field, message=str(exc)))
                    continue
                name, version = imported.name, imported.version
            for node in targets:
                node.parameters = {"name": name, **({"version": version} if version else {})}
            doc.parameters = [p for p in doc.parameters if p.name != param]  # value given: no default
        return doc, problems

    def _import_blob(self, path: str) -> datasets.DatasetVersion:
        """A blob path given to a submission, registered as a dataset version of its own."""
        data = StoreDataAccess(self.store).read_blob(path)
        try:
            df = parquet_to_dataframe(data) if path.lower().endswith(".parquet") else datasets.parse_csv(data)
        except (pa.ArrowException, OSError, ValueError) as exc:  # Arrow's words quote the file: not shown
            raise InvalidRequest(f"{path!r} is not a readable Parquet file") from exc
        name = re.sub(r"[^A-Za-z0-9_.\-]", ".", path.strip("/"))[:100]
        return datasets.register(self.store, name, df, description=f"imported from {path}", source=path)

    def clone_run(self, run_id: str) -> tuple[drafts.Draft, list[Problem]]:
        """A new draft holding exactly what the run ran (dataset versions stay pinned)."""
        run = runs.get_run(self.store, run_id)
        pipeline = Pipeline.model_validate(self.artifacts.get_json(run.pipeline_ref))
        pipeline.name = f"{run.pipeline_name} (clone of run {run_id[:8]})"[:200]
        return self.create_draft(pipeline)

    def add_pipeline_parameter(self, draft_id: str, request: "PipelineInputRequest",
                               etag: str | None) -> tuple[drafts.Draft, list[Problem]]:
        """The designer's "set as pipeline parameter": bind a node parameter to a new named input.

        The default is the node's current value unless one is given. A name already in use, or
        a node parameter another pipeline parameter already sets, is refused: two inputs
        setting one value would make a run's value depend on their order (a document may
        still bind one parameter to several node parameters).
        """
        draft, pipeline = self.get_draft(draft_id)
        node = next((n for n in pipeline.nodes if n.id == request.node), None)
        component = lookup(node.component) if node else None
        key = canonical_parameter(component, request.parameter) if component else None
        if node is None or component is None or key is None:
            raise InvalidRequest("No such node parameter", [Problem(
                code="unknown_parameter", node=request.node, parameter=request.parameter,
                message=f"Draft {draft_id!r} has no node {request.node!r} with parameter {request.parameter!r}")])
        current = {canonical_parameter(component, k) or k: v for k, v in node.parameters.items()}.get(key)
        binding = Binding(node=node.id, parameter=key)
        problems = pipeline_parameter_conflicts(pipeline, request.name, node.id, key)
        if problems:
            raise Conflict(f"Pipeline parameter {request.name!r} cannot be added", problems)
        default = request.default if request.default is not None else current
        pipeline.parameters.append(PipelineParameter(name=request.name, default=default,
                                                     description=request.description, bindings=[binding]))
        return self.update_draft(draft_id, pipeline, etag or draft.etag)

    def validate(self, pipeline: Pipeline, assignments: dict[str, Any] | None = None) -> list[Problem]:
        """Every problem: document rules, parameter assignments, and datasets that do not exist."""
        assignments = assignments or {}
        problems = pipeline.assignment_problems(assignments)
        resolved = pipeline.with_assignments(assignments)
        problems += resolved.validate()
        problems += self._disabled_problems(resolved)
        problems += self._dataset_problems(resolved)
        return problems

    def _dataset_problems(self, pipeline: Pipeline) -> list[Problem]:
        problems = []
        for node in pipeline.nodes:
            if node.component in ASSET_COMPONENTS and node.parameters.get("asset"):
                problems += self._asset_problems(node.id, node.component, node.parameters)
        for node in pipeline.nodes:
            if lookup(node.component) is not Dataset:
                continue
            name, version = _dataset_params(node.parameters)
            if not isinstance(name, str) or not name:
                continue  # already reported as a parameter problem
            try:
                datasets.get(self.store, name, version)
            except NotFound as exc:
                if name in datasets.SAMPLES and version in (None, 1) and self.samples_dir:
                    continue
                problems.append(Problem(code="unknown_dataset", node=node.id, parameter="name",
                                        message=exc.message))
        return problems

    # ---- runs --------------------------------------------------------------------------------
    def submit(self, submission: Submission, submitted_by: str | None = None,
               endpoint: endpoints.EndpointVersion | None = None) -> tuple[RunRecord, Job]:
        """Validate, pin dataset versions, and record a new run. Nothing is written if invalid."""
        if (submission.pipeline is None) == (submission.draft_id is None):
            raise InvalidRequest("Send either 'pipeline' or 'draft_id'", [Problem(
                code="pipeline_or_draft", field="pipeline", message="Exactly one of 'pipeline' "
                "and 'draft_id' is required")])
        pipeline = submission.pipeline or self.get_draft(submission.draft_id or "")[1]
        problems = self.validate(pipeline, submission.parameter_assignments)
        problems = _locate_assignment_problems(pipeline, submission.parameter_assignments, problems)
        if problems:
            raise InvalidRequest(f"The pipeline has {len(problems)} problem(s)", problems)
        pinned = self._pin_datasets(pipeline.with_assignments(submission.parameter_assignments))
        the_plan = plan(pinned)
        run = RunRecord(
            run_id=uuid.uuid4().hex, experiment=submission.experiment, created_at=datetime.now(UTC),
            pipeline_name=pinned.name, description=submission.description,
            pipeline_ref=self.artifacts.put_json(pinned.model_dump(mode="json"), "pipeline"),
            draft_id=submission.draft_id, parameter_assignments=submission.parameter_assignments,
            submitted_by=submitted_by, node_count=the_plan.node_count,
            regenerate_outputs=submission.regenerate_outputs,
            endpoint=endpoint.endpoint if endpoint else None,
            endpoint_version=endpoint.version if endpoint else None)
        nodes = [NodeRecord(run_id=run.run_id, node_id=n.id, component=n.component)
                 for n in the_plan.nodes.values()]
        runs.create(self.store, run, nodes)
        return run, Job(run_id=run.run_id, experiment=run.experiment, plan=the_plan,
                        regenerate_outputs=submission.regenerate_outputs)

    def _pin_datasets(self, pipeline: Pipeline) -> Pipeline:
        """Sources become immutable references: dataset versions, asset artifacts."""
        doc = self._pin_assets(pipeline)
        for node in doc.nodes:
            if lookup(node.component) is Dataset:
                name, version = _dataset_params(node.parameters)
                found = datasets.resolve(self.store, name, version, self.samples_dir)
                node.parameters = {"name": found.name, "version": found.version}
        return doc

    def _pin_assets(self, pipeline: Pipeline) -> Pipeline:
        doc = pipeline.model_copy(deep=True)
        for node in doc.nodes:
            if node.component in ASSET_COMPONENTS and node.parameters.get("asset"):
                found = assets.get(self.store, node.parameters["asset"], node.parameters.get("version"))
                node.parameters = {"ref": found.ref}
        return doc

    def start_failed(self, run: RunRecord, reason: str) -> None:
        run.status, run.error, run.ended_at = Status.FAILED, reason, datetime.now(UTC)
        runs.update_run(self.store, run, "status", "error", "ended_at")

    def run_started(self, experiment: str, run_id: str) -> None:
        run = runs.get_run(self.store, run_id)
        run.status, run.started_at = Status.RUNNING, datetime.now(UTC)
        runs.update_run(self.store, run, "status", "started_at")

    def run_node(self, request: NodeRequest) -> NodeResult:
        return run_node(self.store, self.artifacts, request, self.features, self.settings.mini_batch_rows)

    def run_chunk(self, request: NodeRequest, chunk: str, index: int) -> ChunkOutcome:
        return run_chunk(self.artifacts, request, chunk, index, self.features)

    def join_chunks(self, request: NodeRequest, outcomes: list[ChunkOutcome]) -> NodeResult:
        return join_chunks(self.store, self.artifacts, request, outcomes)

    def run_finished(self, run_id: str, failed_node: str | None, error: str | None) -> None:
        """Close the run; nodes that never started say why."""
        run = runs.get_run(self.store, run_id)
        run.status = Status.FAILED if error else Status.FINISHED
        run.ended_at, run.error, run.failed_node = datetime.now(UTC), error, failed_node
        runs.update_run(self.store, run, "status", "ended_at", "error", "failed_node")
        for node in runs.get_nodes(self.store, run_id):
            if node.status == Status.NOT_STARTED:
                node.note = f"not run: node {failed_node!r} failed" if failed_node else "not run"
                runs.update_node(self.store, node, "note")
            elif node.status == Status.RUNNING and error:
                node.status, node.ended_at = Status.FAILED, run.ended_at
                node.error = node.error or error
                runs.update_node(self.store, node, "status", "ended_at", "error")

    def get_run(self, run_id: str) -> dict[str, Any]:
        run = runs.get_run(self.store, run_id)
        nodes = runs.get_nodes(self.store, run_id)
        return run_view(run, nodes)

    def list_runs(self, experiment: str) -> list[dict[str, Any]]:
        return [run_view(r) for r in runs.list_runs(self.store, experiment)]

    def experiments(self) -> list[dict[str, Any]]:
        return [{"name": n, "runs": c} for n, c in runs.list_experiments(self.store).items()]

    def get_node(self, run_id: str, node_id: str) -> dict[str, Any]:
        return node_view(runs.get_node(self.store, run_id, node_id))

    def node_plot(self, run_id: str, node_id: str, name: str) -> bytes:
        node = runs.get_node(self.store, run_id, node_id)
        if name not in node.plots:
            raise NotFound(f"Node {node_id!r} of run {run_id!r} has no plot {name!r}; plots: {sorted(node.plots)}")
        return self.artifacts.get_bytes(node.plots[name])

    def node_output(self, run_id: str, node_id: str, port: str, rows: int | None) -> pd.DataFrame:
        node = runs.get_node(self.store, run_id, node_id)
        component = lookup(node.component)
        out_port = component.output_port(port) if component else None
        if out_port is None or out_port.id not in node.outputs:
            raise NotFound(f"Node {node_id!r} of run {run_id!r} has no output {port!r}")
        if out_port.type != PortType.DATA:
            raise InvalidRequest(f"Output {port!r} is a {out_port.type.value}, not a dataset",
                                 [Problem(code="not_a_dataset", node=node_id, port=port,
                                          message="Only dataset outputs can be downloaded")])
        df = self.artifacts.get(node.outputs[out_port.id], PortType.DATA)
        return df.head(rows) if rows else df


def _is_dataset_parameter(doc: Pipeline, param: PipelineParameter) -> bool:
    return all(lookup(doc.node(b.node).component) is Dataset for b in param.bindings
               if any(n.id == b.node for n in doc.nodes))


def _locate_assignment_problems(pipeline: Pipeline, assignments: dict[str, Any],
                                problems: list[Problem]) -> list[Problem]:
    """Name the assignment behind a bad node parameter, so the caller knows which value to fix."""
    bound = {(b.node, b.parameter): p.name for p in pipeline.parameters for b in p.bindings if p.name in assignments}
    for problem in problems:
        name = bound.get((problem.node or "", problem.parameter or ""))
        if name and problem.field is None:
            problem.field = f"ParameterAssignments.{name}"
    return problems


def _dataset_params(parameters: dict[str, Any]) -> tuple[Any, Any]:
    component = CATALOGUE["dataset"]
    values = {canonical_parameter(component, k) or k: v for k, v in parameters.items()}
    return values.get("name"), values.get("version")


def node_view(node: NodeRecord) -> dict[str, Any]:
    view = node.model_dump(mode="json", exclude={"run_id"})
    view["duration_seconds"] = node.duration_seconds
    view["reused"] = node.reused_from is not None
    view["plots"] = {name: f"/api/runs/{node.run_id}/nodes/{node.node_id}/plots/{name}" for name in node.plots}
    return view


def run_view(run: RunRecord, nodes: list[NodeRecord] | None = None) -> dict[str, Any]:
    view = run.model_dump(mode="json")
    if nodes is not None:
        done = sum(1 for n in nodes if n.status in (Status.FINISHED, Status.FAILED))
        view["progress"] = {"nodes_done": done, "nodes_total": len(nodes)}
        view["nodes"] = {n.node_id: node_view(n) for n in nodes}
        view["metrics"] = {n.node_id: n.metrics for n in nodes if n.metrics}
    return view
