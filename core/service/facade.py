"""The use cases the HTTP layer calls. One :class:`Service` per process, built from settings."""

from __future__ import annotations

import io
import re
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import pyarrow as pa
from pydantic import AfterValidator, BaseModel, Field

from core import names
from core.clock import Clock, SystemClock
from core.components import CATALOGUE, PortType, lookup, plots
from core.components.data import Dataset
from core.components.evaluation import binary_target
from core.errors import ComponentError, Conflict, DesignerError, InvalidRequest, NotFound, Problem
from core.execution.engine import NodeState, RunMachine, RunOutcome
from core.execution.executor import NodeRequest, StoreDataAccess, join_chunks, run_chunk, run_node
from core.execution.job import Job
from core.execution.results import ChunkOutcome, NodeResult
from core.execution.reuse import CachedNode, plan_key, remember_plan, resolve_at_submit
from core.execution.steps import JOIN_CHUNKS, RUN_CHUNK, RUN_NODE, PipelineSteps, run_in_process
from core.pipelines import drafts, inference, run_settings
from core.pipelines.document import (
    Binding,
    Pipeline,
    PipelineParameter,
    canonical_parameter,
    pipeline_parameter_conflicts,
)
from core.pipelines.planner import plan
from core.registry import assets, datasets, endpoints, gc, runs
from core.registry.runs import TERMINAL, NodeRecord, RunRecord, Status
from core.registry.submissions import EndpointSubmission, dataset_choice
from core.service import compare, lifecycle
from core.service.realtime import RealtimeService
from core.service.schedules import SchedulesService
from core.serving import batch, file_drop
from core.serving.batch import BatchScoring
from core.settings import Settings
from core.storage.artifacts import Artifacts, parquet_to_dataframe
from core.storage.store import Store
from core.tables import profile as table_profile

NAME_PATTERN = names.NAME
ASSET_COMPONENTS = {
    "trained_model_asset": PortType.MODEL,
    "cluster_model_asset": PortType.CLUSTER_MODEL,
    "transformation_asset": PortType.TRANSFORM,
}


class RunRequest(BaseModel):
    """The body of a run submission: a pipeline document or a saved draft."""

    pipeline: Pipeline | None = None
    draft_id: names.Id | None = None
    parameter_assignments: Annotated[dict[str, Any], AfterValidator(names.check_assignments)] = Field(
        default_factory=dict
    )
    description: names.Description = ""
    regenerate_outputs: bool = Field(False, description="Run every node; reuse no earlier output")
    continue_on_step_failure: bool = Field(
        True,
        description=(
            "After a node fails, keep running the nodes that do not depend on it (false: start nothing "
            "new after the first failure, as Azure ML's default does)"
        ),
    )


class Submission(RunRequest):
    """A run request into a named experiment (the route names it)."""

    experiment: str = Field(pattern=NAME_PATTERN)


class RunQuery(BaseModel):
    status: Status | None = None
    experiment: str | None = Field(None, max_length=255)
    endpoint: str | None = Field(None, max_length=255, description="Runs submitted to this pipeline endpoint")
    top: int = Field(50, ge=1, le=200)
    skip: int = Field(0, ge=0)


class PipelineInputRequest(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]{0,79}$")
    node: str
    parameter: str
    default: Any = None
    description: names.Description = ""


class Service:
    def __init__(
        self, store: Store, settings: Settings, samples_dir: Path | None = None, clock: Clock | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.samples_dir = samples_dir
        self.artifacts = Artifacts(store, settings.artifact_signing_key)
        self.realtime = RealtimeService(store, self.artifacts, pin=self._pin_datasets, validate=self.validate)
        self.batch = BatchScoring(store, self.artifacts, settings.mini_batch_rows, pin=self._pin_datasets)
        self.clock: Clock = clock or SystemClock()
        self.schedules = SchedulesService(store, self.artifacts, self.clock, self.submit_to_endpoint)
        self.lifecycle = lifecycle.Lifecycle(store, self.artifacts)

    @property
    def features(self) -> dict[str, bool]:
        return {
            "enable_python_script": self.settings.enable_python_script,
            "enable_sql": self.settings.enable_sql,
        }

    # ---- catalogue and datasets ------------------------------------------------------------
    def components(self) -> list[dict[str, Any]]:
        """The catalogue, each entry saying whether this deployment runs it."""
        return [
            {**c.describe(), "run_settings": run_settings.describe(c.id), "enabled": self._enabled(c)}
            for c in CATALOGUE.values()
        ]

    def _enabled(self, component: Any) -> bool:
        return component.feature is None or bool(self.features.get(component.feature[0]))

    def _disabled_problems(self, pipeline: Pipeline) -> list[Problem]:
        """Nodes whose component is switched off here: they would only fail at run time."""
        problems = []
        for node in pipeline.nodes:
            component = lookup(node.component)
            if component is not None and not self._enabled(component):
                problems.append(
                    Problem(
                        code="component_disabled",
                        node=node.id,
                        field="component",
                        message=f"{component.name} is turned off on this service: it runs user code. An "
                        f"administrator can turn it on with the app setting {component.feature[1]}=true",
                    )
                )
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

    # ---- looking at tables: first rows and column profiles, with bounded work ---------------
    def dataset_preview(self, name: str, version: int, rows: int) -> table_profile.Preview:
        df, total = self._head(datasets.get(self.store, name, version).ref, rows)
        return table_profile.preview(df, total)

    def dataset_profile(self, name: str, version: int) -> table_profile.TableProfile:
        df, total = self._head(datasets.get(self.store, name, version).ref, table_profile.PROFILE_ROWS)
        return table_profile.profile(df, total)

    def output_profile(self, run_id: str, node_id: str, port: str) -> table_profile.TableProfile:
        df, total = self._head(self._output_ref(run_id, node_id, port), table_profile.PROFILE_ROWS)
        return table_profile.profile(df, total)

    def _head(self, ref: str, rows: int) -> tuple[pd.DataFrame, int]:
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "table.parquet")
            self.artifacts.download_to(ref, path)
            return table_profile.read_head(path, rows)

    # ---- drafts ------------------------------------------------------------------------------
    def create_draft(self, pipeline: Pipeline) -> tuple[drafts.Draft, list[Problem]]:
        return drafts.create(self.store, self.artifacts, pipeline), self.validate(pipeline)

    def update_draft(
        self, draft_id: str, pipeline: Pipeline, etag: str | None
    ) -> tuple[drafts.Draft, list[Problem]]:
        return drafts.update(self.store, self.artifacts, draft_id, pipeline, etag), self.validate(pipeline)

    def get_draft(self, draft_id: str) -> tuple[drafts.Draft, Pipeline]:
        return drafts.load(self.store, self.artifacts, draft_id)

    def _asset_problems(self, node_id: str, component_id: str, params: dict[str, Any]) -> list[Problem]:
        try:
            found = assets.get(self.store, params["asset"], params.get("version"))
        except NotFound as exc:
            return [Problem(code="unknown_asset", node=node_id, parameter="asset", message=exc.message)]
        if ASSET_COMPONENTS[component_id] != found.kind:
            return [
                Problem(
                    code="asset_kind_mismatch",
                    node=node_id,
                    parameter="asset",
                    message=f"Asset {found.name!r} is a {found.kind.value}, but this node takes "
                    f"a {ASSET_COMPONENTS[component_id].value}",
                )
            ]
        return []

    # ---- inference pipelines, assets, endpoints ----------------------------------------------
    def create_inference_pipeline(
        self, run_id: str, kind: inference.Kind
    ) -> tuple[drafts.Draft, list[Problem]]:
        run = runs.get_run(self.store, run_id)
        pipeline = Pipeline.model_validate(self.artifacts.get_json(run.pipeline_ref))
        converted = inference.convert(run, pipeline, runs.get_nodes(self.store, run_id), kind)
        return self.create_draft(converted)

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

    def use_asset(
        self, draft_id: str, node_id: str, name: str, version: int | None, etag: str | None
    ) -> tuple[drafts.Draft, list[Problem]]:
        """Point an MD-/TD- node of a draft at a registered asset (the designer's model update)."""
        draft, pipeline = self.get_draft(draft_id)
        node = next((n for n in pipeline.nodes if n.id == node_id), None)
        if node is None or node.component not in ASSET_COMPONENTS:
            raise InvalidRequest(
                "Not an asset node",
                [
                    Problem(
                        code="not_an_asset_node",
                        node=node_id,
                        message=f"Draft {draft_id!r} has no MD-/TD- node {node_id!r}",
                    )
                ],
            )
        params = {"asset": name, **({"version": version} if version else {})}
        problems = self._asset_problems(node_id, node.component, params)
        if problems:
            raise InvalidRequest("The asset does not fit this node", problems)
        node.parameters = params
        return self.update_draft(draft_id, pipeline, etag or draft.etag)

    def publish(
        self, draft_id: str, endpoint: str, description: str, set_default: bool, by: str | None
    ) -> endpoints.EndpointVersion:
        """Add a version to ``endpoint`` holding an immutable snapshot of the draft."""
        _, pipeline = self.get_draft(draft_id)
        problems = self.validate(pipeline)
        if problems:
            raise InvalidRequest(
                f"The pipeline has {len(problems)} problem(s); it cannot be published", problems
            )
        snapshot = self._pin_assets(pipeline)
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

    def endpoint_view(self, name: str) -> dict[str, Any]:
        endpoint = endpoints.get(self.store, name)
        return {
            **endpoint.model_dump(mode="json"),
            "versions": [v.model_dump(mode="json") for v in endpoints.versions(self.store, name)],
            "default_history": [a.model_dump(mode="json") for a in endpoints.audit_trail(self.store, name)],
        }

    def submit_to_endpoint(
        self, name: str, body: EndpointSubmission, version: int | None, by: str | None
    ) -> tuple[RunRecord, Job]:
        """Run a published version with new parameter values and datasets (Azure ML's body)."""
        entry = endpoints.resolve_for_submit(self.store, name, body.PipelineVersion or version)
        pipeline = Pipeline.model_validate(self.artifacts.get_json(entry.pipeline_ref))
        pipeline, problems = self._assign_datasets(pipeline, body)
        if problems:  # report the parameter problems in the same answer
            assignments = body.ParameterAssignments
            problems += _locate_assignment_problems(
                pipeline, assignments, self.validate(pipeline, assignments)
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
        return self.submit(submission, by, endpoint=entry)

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

    def clone_endpoint_version(self, name: str, version: int) -> tuple[drafts.Draft, list[Problem]]:
        """A new draft holding a published version (to replace its MD- node and publish again).

        Model nodes pinned from a registered asset name that asset again, so the draft shows
        where they came from and takes a newer version when the asset is changed.
        """
        entry = endpoints.get_version(self.store, name, version)
        pipeline = Pipeline.model_validate(self.artifacts.get_json(entry.pipeline_ref))
        for node in pipeline.nodes:
            label = node.parameters.get("source_asset") if node.component in ASSET_COMPONENTS else None
            if label:
                asset, _, number = str(label).rpartition(":")
                node.parameters = {"asset": asset, "version": int(number)}
        pipeline.name = f"{entry.pipeline_name} (clone of {name} v{version})"[:200]
        return self.create_draft(pipeline)

    def clone_run(self, run_id: str) -> tuple[drafts.Draft, list[Problem]]:
        """A new draft holding exactly what the run ran (dataset versions stay pinned)."""
        run = runs.get_run(self.store, run_id)
        pipeline = Pipeline.model_validate(self.artifacts.get_json(run.pipeline_ref))
        pipeline.name = f"{run.pipeline_name} (clone of run {run_id[:8]})"[:200]
        return self.create_draft(pipeline)

    def add_pipeline_parameter(
        self, draft_id: str, request: PipelineInputRequest, etag: str | None
    ) -> tuple[drafts.Draft, list[Problem]]:
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
            raise InvalidRequest(
                "No such node parameter",
                [
                    Problem(
                        code="unknown_parameter",
                        node=request.node,
                        parameter=request.parameter,
                        message=f"Draft {draft_id!r} has no node {request.node!r} with parameter {request.parameter!r}",
                    )
                ],
            )
        current = {canonical_parameter(component, k) or k: v for k, v in node.parameters.items()}.get(key)
        binding = Binding(node=node.id, parameter=key)
        problems = pipeline_parameter_conflicts(pipeline, request.name, node.id, key)
        if problems:
            raise Conflict(f"Pipeline parameter {request.name!r} cannot be added", problems)
        default = request.default if request.default is not None else current
        pipeline.parameters.append(
            PipelineParameter(
                name=request.name, default=default, description=request.description, bindings=[binding]
            )
        )
        return self.update_draft(draft_id, pipeline, etag or draft.etag)

    def validate(
        self,
        pipeline: Pipeline,
        assignments: dict[str, Any] | None = None,
        found: dict[tuple[Any, Any], datasets.DatasetVersion] | None = None,
    ) -> list[Problem]:
        """Every problem: document rules, parameter assignments, and datasets that do not exist.

        ``found`` collects the dataset versions looked up, so a submit pins them without reading
        them again."""
        assignments = assignments or {}
        problems = pipeline.assignment_problems(assignments)
        resolved = pipeline.with_assignments(assignments)
        problems += resolved.validate()
        problems += self._disabled_problems(resolved)
        problems += self._dataset_problems(resolved, found)
        return problems

    def _dataset_problems(
        self, pipeline: Pipeline, found: dict[tuple[Any, Any], datasets.DatasetVersion] | None = None
    ) -> list[Problem]:
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
                entry = datasets.get(self.store, name, version)
                if found is not None and isinstance(version, int | None):
                    found[(name, version)] = entry
            except NotFound as exc:
                if name in datasets.SAMPLES and version in (None, 1) and self.samples_dir:
                    continue
                problems.append(
                    Problem(code="unknown_dataset", node=node.id, parameter="name", message=exc.message)
                )
        return problems

    def collect_garbage(self, dry_run: bool, grace_minutes: int) -> gc.GcReport:
        """Unreferenced artifacts; the grace period is measured on the real time, never a test clock."""
        return gc.collect(self.store, SystemClock().now(), timedelta(minutes=grace_minutes), dry_run)

    # ---- runs --------------------------------------------------------------------------------
    def submit(
        self,
        submission: Submission,
        submitted_by: str | None = None,
        endpoint: endpoints.EndpointVersion | None = None,
    ) -> tuple[RunRecord, Job]:
        """Validate, pin dataset versions, and record a new run. Nothing is written if invalid."""
        if (submission.pipeline is None) == (submission.draft_id is None):
            raise InvalidRequest(
                "Send either 'pipeline' or 'draft_id'",
                [
                    Problem(
                        code="pipeline_or_draft",
                        field="pipeline",
                        message="Exactly one of 'pipeline' and 'draft_id' is required",
                    )
                ],
            )
        pipeline = submission.pipeline or self.get_draft(submission.draft_id or "")[1]
        looked_up: dict[tuple[Any, Any], datasets.DatasetVersion] = {}
        problems = self.validate(pipeline, submission.parameter_assignments, looked_up)
        problems = _locate_assignment_problems(pipeline, submission.parameter_assignments, problems)
        if problems:
            raise InvalidRequest(f"The pipeline has {len(problems)} problem(s)", problems)
        pinned = self._pin_datasets(pipeline.with_assignments(submission.parameter_assignments), looked_up)
        the_plan = plan(pinned)
        fingerprint = plan_key(the_plan)
        reused = {} if submission.regenerate_outputs else resolve_at_submit(self.store, the_plan, fingerprint)
        now = datetime.now(UTC)
        run = RunRecord(
            run_id=uuid.uuid4().hex,
            experiment=submission.experiment,
            created_at=now,
            pipeline_name=pinned.name,
            description=submission.description,
            pipeline_ref=self.artifacts.put_json(pinned.model_dump(mode="json"), "pipeline"),
            draft_id=submission.draft_id,
            parameter_assignments=submission.parameter_assignments,
            submitted_by=submitted_by,
            node_count=the_plan.node_count,
            regenerate_outputs=submission.regenerate_outputs,
            continue_on_step_failure=submission.continue_on_step_failure,
            endpoint=endpoint.endpoint if endpoint else None,
            endpoint_version=endpoint.version if endpoint else None,
        )
        if len(reused) == the_plan.node_count:  # nothing to run: finished as it is submitted
            run.status, run.started_at, run.ended_at = Status.FINISHED, now, now
        nodes = [
            _reused_record(run.run_id, n.id, n.component, reused[n.id][1], now)
            if n.id in reused
            else NodeRecord(run_id=run.run_id, node_id=n.id, component=n.component)
            for n in the_plan.nodes.values()
        ]
        runs.create(self.store, run, nodes)
        return run, Job(
            run_id=run.run_id,
            experiment=run.experiment,
            plan=the_plan,
            regenerate_outputs=submission.regenerate_outputs,
            continue_on_step_failure=submission.continue_on_step_failure,
            reused={node_id: cached.outputs for node_id, (_, cached) in reused.items()},
            reuse_keys={node_id: key for node_id, (key, _) in reused.items()},
            plan_key=fingerprint,
        )

    def _pin_datasets(
        self, pipeline: Pipeline, known: dict[tuple[Any, Any], datasets.DatasetVersion] | None = None
    ) -> Pipeline:
        """Sources become immutable references: dataset versions, asset artifacts."""
        doc = self._pin_assets(pipeline)
        for node in doc.nodes:
            if lookup(node.component) is Dataset:
                name, version = _dataset_params(node.parameters)
                found = (known or {}).get((name, version)) or datasets.resolve(
                    self.store, name, version, self.samples_dir
                )
                node.parameters = {"name": found.name, "version": found.version}
        return doc

    def _pin_assets(self, pipeline: Pipeline) -> Pipeline:
        doc = pipeline.model_copy(deep=True)
        for node in doc.nodes:
            if node.component in ASSET_COMPONENTS and node.parameters.get("asset"):
                found = assets.get(self.store, node.parameters["asset"], node.parameters.get("version"))
                node.parameters = {"ref": found.ref, "source_asset": f"{found.name}:{found.version}"}
        return doc

    def start_failed(self, run: RunRecord, reason: str) -> None:
        run.status, run.error, run.ended_at = Status.FAILED, reason, datetime.now(UTC)
        runs.update_run(self.store, run, "status", "error", "ended_at")

    def run_started(self, experiment: str, run_id: str) -> None:
        run = runs.find_run(self.store, experiment, run_id) or runs.get_run(self.store, run_id)
        if run.status != Status.NOT_STARTED:  # canceled before its orchestration got this far
            return
        run.status, run.started_at = Status.RUNNING, datetime.now(UTC)
        runs.update_run(self.store, run, "status", "started_at")

    def run_node(self, request: NodeRequest) -> NodeResult:
        return run_node(self.store, self.artifacts, request, self.features, self.settings.mini_batch_rows)

    def run_chunk(self, request: NodeRequest, chunk: str, index: int) -> ChunkOutcome:
        return run_chunk(self.artifacts, request, chunk, index, self.features)

    def join_chunks(self, request: NodeRequest, outcomes: list[ChunkOutcome]) -> NodeResult:
        return join_chunks(self.store, self.artifacts, request, outcomes)

    def run_finished(
        self,
        run_id: str,
        outcome: RunOutcome,
        plan_fingerprint: str | None = None,
        experiment: str | None = None,
    ) -> None:
        """Close the run and record the node endings the run state machine decided.

        A canceled run stays canceled: the orchestration may close it a moment after the cancel.
        """
        run = (runs.find_run(self.store, experiment, run_id) if experiment else None) or runs.get_run(
            self.store, run_id
        )
        if run.status == Status.CANCELED:
            return
        ended = datetime.now(UTC)
        self.nodes_ended(run_id, outcome.closing, ended)
        run.status, run.ended_at = outcome.status, ended
        run.error, run.failed_node = outcome.error, outcome.failed_node
        runs.update_run(self.store, run, "status", "ended_at", "error", "failed_node")
        if (
            plan_fingerprint
            and outcome.status == Status.FINISHED
            and len(outcome.cache_keys) == run.node_count
        ):
            remember_plan(self.store, plan_fingerprint, outcome.cache_keys)

    def nodes_ended(self, run_id: str, states: list[NodeState], ended: datetime | None = None) -> None:
        """Record node endings the run state machine decided (skipped, timed out, faults), as they
        happen: a node still running in an activity can no longer overwrite them."""
        ended = ended or datetime.now(UTC)
        for state in states:
            node = NodeRecord(
                run_id=run_id,
                node_id=state.node_id,
                component="",
                status=state.status,
                ended_at=ended,
                error=state.error,
                error_code=state.error_code,
                note=state.note,
            )
            failed = ["ended_at", "error", "error_code"] if state.status == Status.FAILED else []
            runs.update_node(self.store, node, "status", "note", *failed)

    def run_in_process(self, job: Job) -> RunOutcome:
        """Run a submitted job here, through the same machine, step plan and activities' code."""
        machine = RunMachine(
            job.plan,
            continue_on_step_failure=job.continue_on_step_failure,
            resolved=job.reused,
            resolved_keys=job.reuse_keys,
        )
        if machine.done:  # every node was reused at submit
            return machine.outcome()
        self.run_started(job.experiment, job.run_id)
        run_in_process(machine, PipelineSteps(job), self.activity)
        outcome = machine.outcome()
        self.run_finished(job.run_id, outcome, job.plan_key)
        return outcome

    def activity(self, name: str, payload: Any) -> Any:
        """One run activity by name, JSON in and out, as the durable activities call it."""
        if name == RUN_NODE:
            return self.run_node(NodeRequest.model_validate(payload)).model_dump(mode="json")
        request = NodeRequest.model_validate(payload["request"])
        if name == RUN_CHUNK:
            return {
                "node_id": request.node.id,
                **self.run_chunk(request, payload["chunk"], payload["index"]).model_dump(mode="json"),
            }
        if name == JOIN_CHUNKS:
            outcomes = [ChunkOutcome.model_validate(o) for o in payload["outcomes"]]
            return self.join_chunks(request, outcomes).model_dump(mode="json")
        raise ValueError(f"no run activity {name!r}")

    def cancelable_run(self, run_id: str) -> RunRecord:
        """The run, if it can still be canceled; :class:`Conflict` once it has ended."""
        run = runs.get_run(self.store, run_id)
        if run.status in TERMINAL:
            raise Conflict(
                f"Run {run_id!r} has already ended ({run.status.value}); only a queued or running "
                "run can be canceled",
                [Problem(code="run_ended", field="run_id", message=f"The run is {run.status.value}")],
            )
        return run

    def record_canceled(self, run_id: str, by: str | None = None) -> dict[str, Any]:
        """The run and every node not ended become ``Canceled`` (call after stopping its orchestration)."""
        run = runs.get_run(self.store, run_id)
        ended = datetime.now(UTC)
        if run.status not in TERMINAL:
            run.status, run.ended_at = Status.CANCELED, ended
            run.error = f"Canceled by {by}" if by else "Canceled"
            runs.update_run(self.store, run, "status", "ended_at", "error")
        nodes = runs.get_nodes(self.store, run_id)
        for node in nodes:
            if node.status in (Status.NOT_STARTED, Status.RUNNING):
                node.status, node.ended_at, node.note = Status.CANCELED, ended, "canceled with the run"
                runs.update_node(self.store, node, "status", "ended_at", "note")
        return run_view(run, nodes)

    def fail_orphaned_run(self, run_id: str, reason: str) -> bool:
        """End a run whose orchestration is gone (terminated, failed, purged): it can never
        finish. A run that has ended meanwhile, canceled included, is left as it is."""
        run = runs.fail_if_active(self.store, run_id, reason, datetime.now(UTC))
        if run is None:
            return False
        for node in runs.get_nodes(self.store, run_id):
            if node.status == Status.RUNNING:
                node.status, node.ended_at, node.error = Status.FAILED, run.ended_at, node.error or reason
                runs.update_node(self.store, node, "status", "ended_at", "error")
            elif node.status == Status.NOT_STARTED:
                node.note = "not run: the run's orchestration ended"
                runs.update_node(self.store, node, "note")
        return True

    def get_run(self, run_id: str) -> dict[str, Any]:
        run = runs.get_run(self.store, run_id)
        nodes = runs.get_nodes(self.store, run_id)
        return run_view(run, nodes)

    def list_runs(self, experiment: str) -> list[dict[str, Any]]:
        return [run_view(r) for r in runs.list_runs(self.store, experiment)]

    def find_runs(self, query: RunQuery) -> dict[str, Any]:
        """One page of runs across experiments, newest first (the studio's Jobs list)."""
        found = runs.list_all(self.store, query.status, query.experiment, query.endpoint)
        page = found[query.skip : query.skip + query.top]
        return {
            "value": [run_view(r) for r in page],
            "count": len(found),
            "skip": query.skip,
            "top": query.top,
        }

    def experiments(self) -> list[dict[str, Any]]:
        return [{"name": n, "runs": c} for n, c in runs.list_experiments(self.store).items()]

    def get_node(self, run_id: str, node_id: str) -> dict[str, Any]:
        return node_view(runs.get_node(self.store, run_id, node_id))

    def node_plot(self, run_id: str, node_id: str, name: str) -> bytes:
        node = runs.get_node(self.store, run_id, node_id)
        if name not in node.plots:
            raise NotFound(
                f"Node {node_id!r} of run {run_id!r} has no plot {name!r}; plots: {sorted(node.plots)}"
            )
        return self.artifacts.get_bytes(node.plots[name])

    # ---- file-drop scoring from a client without storage credentials -------------------------
    def drop_file(self, endpoint: str, file: str, data: bytes) -> file_drop.DroppedFile:
        return file_drop.upload(self.store, endpoint, file, data)

    def dropped_file(self, endpoint: str, file: str) -> file_drop.DroppedFile:
        return file_drop.status(self.store, endpoint, file)

    def dropped_files(self, endpoint: str) -> list[str]:
        return file_drop.list_files(self.store, endpoint)

    def dropped_file_predictions(self, endpoint: str, file: str) -> tuple[bytes, str]:
        return file_drop.predictions(self.store, endpoint, file)

    # ---- comparing runs ----------------------------------------------------------------------
    def compare_runs(self, run_ids: list[str]) -> compare.Comparison:
        loaded = [self._run_for_comparison(r) for r in compare.check_run_ids(run_ids)]
        node_metrics = [
            {n.node_id: n.metrics for n in nodes if n.node_id in compare.evaluate_nodes(doc)}
            for _, doc, nodes in loaded
        ]
        curves = any(self._binary_curve(run, doc, nodes) for run, doc, nodes in loaded)
        query = ",".join(run.run_id for run, _, _ in loaded)
        return compare.Comparison(
            runs=[
                compare.ComparedRun(
                    run_id=run.run_id,
                    experiment=run.experiment,
                    pipeline_name=run.pipeline_name,
                    status=run.status.value,
                    created_at=run.created_at.isoformat(),
                    label=_run_label(run),
                )
                for run, _, _ in loaded
            ],
            parameters=compare.compare_parameters(
                [doc for _, doc, _ in loaded], [run.parameter_assignments for run, _, _ in loaded]
            ),
            metrics=compare.compare_metrics(node_metrics),
            plots={name: f"/api/compare/plots/{name}?runs={query}" for name in compare.CURVE_PLOTS}
            if curves
            else {},
        )

    def compare_plot(self, run_ids: list[str], name: str) -> bytes:
        """One plot with the two-class curve of each run's first two-class Evaluate Model."""
        draw = {"roc_curve": plots.roc_curve, "precision_recall_curve": plots.precision_recall_curve}.get(
            name
        )
        if draw is None:
            raise NotFound(f"No comparison plot {name!r}; plots: {list(compare.CURVE_PLOTS)}")
        series = []
        for run, doc, nodes in (self._run_for_comparison(r) for r in compare.check_run_ids(run_ids)):
            curve = self._binary_curve(run, doc, nodes)
            if curve is not None:
                series.append((_run_label(run), *curve))
        if not series:
            raise NotFound("None of these runs has a two-class Evaluate Model result")
        return draw(series)

    def _run_for_comparison(self, run_id: str) -> tuple[RunRecord, Pipeline, list[NodeRecord]]:
        run = runs.get_run(self.store, run_id)
        doc = Pipeline.model_validate(self.artifacts.get_json(run.pipeline_ref))
        return run, doc, runs.get_nodes(self.store, run_id)

    def _binary_curve(self, run: RunRecord, doc: Pipeline, nodes: list[NodeRecord]) -> tuple[Any, Any] | None:
        """(actual is positive, P(positive)) of the first two-class Evaluate Model, if any."""
        records = {n.node_id: n for n in nodes}
        for node_id in compare.evaluate_nodes(doc):
            source = compare.scored_source(doc, node_id)
            record = records.get(source[0]) if source else None
            if source is None or record is None or source[1] not in record.outputs:
                continue
            scored = self.artifacts.get(record.outputs[source[1]], PortType.DATA)
            if scored.attrs.get("task") != "binary":
                continue
            try:
                positive, probability, _ = binary_target(scored)
            except ComponentError:
                continue
            if 0 < positive.sum() < len(positive):
                return positive, probability
        return None

    def node_output(self, run_id: str, node_id: str, port: str, rows: int | None) -> pd.DataFrame:
        ref = self._output_ref(run_id, node_id, port)
        try:
            if ref.endswith(".csv"):  # file-drop scoring's result file, as the client will fetch it
                container, _, name = ref.partition("/")
                df = pd.read_csv(io.BytesIO(self.store.get_blob(container, name)))
                df.attrs["format"] = "csv"
            else:
                df = self.artifacts.get(ref, PortType.DATA)
        except KeyError as exc:  # a result file replaced by a later upload, or deleted with its endpoint
            raise NotFound(f"The output {port!r} of node {node_id!r} is no longer stored") from exc
        return df.head(rows) if rows else df

    def _output_ref(self, run_id: str, node_id: str, port: str) -> str:
        node = runs.get_node(self.store, run_id, node_id)
        if node.component == batch.COMPONENT and port in node.outputs:
            return node.outputs[port]  # the result file in batch-output (CSV or Parquet)
        component = lookup(node.component)
        out_port = component.output_port(port) if component else None
        if out_port is None or out_port.id not in node.outputs:
            raise NotFound(f"Node {node_id!r} of run {run_id!r} has no output {port!r}")
        if out_port.type != PortType.DATA:
            raise InvalidRequest(
                f"Output {port!r} is a {out_port.type.value}, not a dataset",
                [
                    Problem(
                        code="not_a_dataset",
                        node=node_id,
                        port=port,
                        message="Only dataset outputs can be downloaded",
                    )
                ],
            )
        return node.outputs[out_port.id]


def _is_dataset_parameter(doc: Pipeline, param: PipelineParameter) -> bool:
    return all(
        lookup(doc.node(b.node).component) is Dataset
        for b in param.bindings
        if any(n.id == b.node for n in doc.nodes)
    )


def _locate_assignment_problems(
    pipeline: Pipeline, assignments: dict[str, Any], problems: list[Problem]
) -> list[Problem]:
    """Name the assignment behind a bad node parameter, so the caller knows which value to fix."""
    bound = {
        (b.node, b.parameter): p.name
        for p in pipeline.parameters
        for b in p.bindings
        if p.name in assignments
    }
    for problem in problems:
        name = bound.get((problem.node or "", problem.parameter or ""))
        if name and problem.field is None:
            problem.field = f"ParameterAssignments.{name}"
    return problems


def _dataset_params(parameters: dict[str, Any]) -> tuple[Any, Any]:
    component = CATALOGUE["dataset"]
    values = {canonical_parameter(component, k) or k: v for k, v in parameters.items()}
    return values.get("name"), values.get("version")


def _run_label(run: RunRecord) -> str:
    return f"{run.pipeline_name} ({run.run_id[:8]})"


def node_view(node: NodeRecord) -> dict[str, Any]:
    view = node.model_dump(mode="json", exclude={"run_id"})
    view["duration_seconds"] = node.duration_seconds
    view["reused"] = node.reused_from is not None
    view["plots"] = {
        name: f"/api/runs/{node.run_id}/nodes/{node.node_id}/plots/{name}" for name in node.plots
    }
    return view


def run_view(run: RunRecord, nodes: list[NodeRecord] | None = None) -> dict[str, Any]:
    """One shape for a run everywhere (submit answer, get, lists), with Azure ML's ``Id`` and
    ``Status.StatusCode`` beside the service's own ``run_id`` and ``status``."""
    view = run.model_dump(mode="json")
    view.update(
        {
            "Id": run.run_id,
            "Status": {"StatusCode": run.status.value},
            "RunHistoryExperimentName": run.experiment,
            "PipelineEndpointName": run.endpoint,
            "PipelineVersion": run.endpoint_version,
            "status_url": f"/api/runs/{run.run_id}",
        }
    )
    if nodes is not None:
        done = sum(1 for n in nodes if n.status not in (Status.NOT_STARTED, Status.RUNNING))
        view["progress"] = {"nodes_done": done, "nodes_total": len(nodes)}
        view["nodes"] = {n.node_id: node_view(n) for n in nodes}
        view["metrics"] = {n.node_id: n.metrics for n in nodes if n.metrics}
    return view


def _reused_record(run_id: str, node_id: str, component: str, cached: CachedNode, at: datetime) -> NodeRecord:
    """A node resolved at submit from an earlier run's outputs: finished before the run starts."""
    return NodeRecord(
        run_id=run_id,
        node_id=node_id,
        component=component,
        status=Status.FINISHED,
        started_at=at,
        ended_at=at,
        outputs=cached.outputs,
        metrics=cached.metrics,
        plots=cached.plots,
        logs=runs.clip_logs(cached.logs),
        reused_from=f"{cached.run_id}/{cached.node_id}",
    )
