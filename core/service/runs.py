"""Run use cases: submit, the run's life (started, node endings, finished, canceled, orphaned),
and the views of runs and nodes with their outputs and plots.

The views name plots and runs only; the HTTP layer turns those names into links.
"""

from __future__ import annotations

import io
import logging
import threading
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Annotated, Any

import pandas as pd
from pydantic import AfterValidator, BaseModel, Field

from core import names
from core.components import PortType, evaluation, lookup
from core.components.base import PLOT_NOT_DRAWN
from core.errors import ComponentError, Conflict, InvalidRequest, NotFound, Problem
from core.execution.engine import NodeState, RunOutcome
from core.execution.executor import NodeRequest, RunClose, join_chunks, run_chain, run_chunk
from core.execution.job import Job
from core.execution.results import ChunkOutcome, NodeResult
from core.execution.reuse import CachedNode, plan_key, remember_plan, resolve_at_submit
from core.execution.steps import JOIN_CHUNKS, RUN_CHUNK, RUN_NODE, PipelineSteps, run_in_process
from core.pipelines.document import Pipeline
from core.pipelines.planner import plan
from core.registry import datasets, endpoints, runs
from core.registry.runs import TERMINAL, NodeRecord, RunRecord, RunStatus
from core.service.compare import scored_sources
from core.service.datasets import head
from core.service.pipelines import Pipelines, locate_assignment_problems
from core.serving import batch
from core.storage.artifacts import Artifacts
from core.storage.store import PreconditionFailed, Store
from core.tables import profile as table_profile

NAME_PATTERN = names.NAME
log = logging.getLogger(__name__)
_KNOWN_RUNS = 10_000
_RECORD_TRIES = 8  # the UI asks for a node's plots at once: a try loses only to another plot's write


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
    status: RunStatus | None = None
    experiment: str | None = Field(None, max_length=255)
    endpoint: str | None = Field(None, max_length=255, description="Runs submitted to this pipeline endpoint")
    top: int = Field(50, ge=1, le=200)
    skip: int = Field(0, ge=0)


class Runs:
    def __init__(
        self, store: Store, artifacts: Artifacts, pipelines: Pipelines, mini_batch_rows: int
    ) -> None:
        self.store, self.artifacts, self.pipelines = store, artifacts, pipelines
        self.mini_batch_rows = mini_batch_rows
        # run id -> experiment, as learned from reads: a run never moves, so a watched run is
        # read with one lookup instead of two (its index row, then the run).
        self._experiments: OrderedDict[str, str] = OrderedDict()
        self._experiments_lock = threading.Lock()

    def _run(self, run_id: str, experiment: str | None = None) -> RunRecord:
        run = runs.get_run(self.store, run_id, experiment or self._experiments.get(run_id))
        with self._experiments_lock:
            self._experiments[run_id] = run.experiment
            self._experiments.move_to_end(run_id)
            while len(self._experiments) > _KNOWN_RUNS:
                self._experiments.popitem(last=False)
        return run

    # ---- submit ------------------------------------------------------------------------------
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
        pipeline = submission.pipeline or self.pipelines.get_draft(submission.draft_id or "")[1]
        looked_up: dict[tuple[Any, Any], datasets.DatasetVersion] = {}
        problems = self.pipelines.validate(pipeline, submission.parameter_assignments, looked_up)
        problems = locate_assignment_problems(pipeline, submission.parameter_assignments, problems)
        if problems:
            raise InvalidRequest(f"The pipeline has {len(problems)} problem(s)", problems)
        pinned = self.pipelines.pin(pipeline.with_assignments(submission.parameter_assignments), looked_up)
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
            run.status, run.started_at, run.ended_at = RunStatus.FINISHED, now, now
        nodes = [
            _reused_record(run.run_id, n.id, n.component, reused[n.id][1], now)
            if n.id in reused
            else NodeRecord(run_id=run.run_id, node_id=n.id, component=n.component)
            for n in the_plan.nodes.values()
        ]
        etags = runs.create(self.store, run, nodes)
        return run, Job(
            run_id=run.run_id,
            experiment=run.experiment,
            plan=the_plan,
            regenerate_outputs=submission.regenerate_outputs,
            continue_on_step_failure=submission.continue_on_step_failure,
            reused={node_id: cached.outputs for node_id, (_, cached) in reused.items()},
            reuse_keys={node_id: key for node_id, (key, _) in reused.items()},
            plan_key=fingerprint,
            node_etags={node_id: etag for node_id, etag in etags.items() if node_id not in reused},
        )

    def start_failed(self, run: RunRecord, reason: str) -> None:
        run.status, run.error, run.ended_at = RunStatus.FAILED, reason, datetime.now(UTC)
        runs.update_run(self.store, run, "status", "error", "ended_at")

    def run_started(self, experiment: str, run_id: str) -> None:
        run = self._run(run_id, experiment)
        if run.status != RunStatus.NOT_STARTED:  # canceled before its orchestration got this far
            return
        run.status, run.started_at = RunStatus.RUNNING, datetime.now(UTC)
        runs.update_run(self.store, run, "status", "started_at")

    def run_node(self, request: NodeRequest) -> NodeResult:
        """A node, and the followers chained to it (see :mod:`core.execution.engine`); on a run's
        last step, the run's end when they all finished."""
        result = run_chain(self.store, self.artifacts, request, self.pipelines.features, self.mini_batch_rows)
        if request.close is not None:
            self._close_if_finished(request, request.close, result)
        return result

    def _close_if_finished(self, request: NodeRequest, close: RunClose, result: NodeResult) -> None:
        results = [result, *result.followers]
        if len(results) != 1 + len(request.then) or any(
            r.status != RunStatus.FINISHED or r.chunks for r in results
        ):
            return  # the orchestrator records how it ended
        keys = {**close.cache_keys, **{r.node_id: r.cache_key for r in results if r.cache_key}}
        try:
            self.run_finished(
                request.run_id,
                RunOutcome(status=RunStatus.FINISHED, cache_keys=keys),
                close.plan_key,
                close.experiment,
            )
        except Exception:  # the orchestrator's record of the end comes next and will retry it
            log.warning("could not record the end of run %s here", request.run_id, exc_info=True)

    def run_chunk(self, request: NodeRequest, chunk: str, index: int) -> ChunkOutcome:
        return run_chunk(self.artifacts, request, chunk, index, self.pipelines.features)

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

        A run's end is recorded once: a canceled run stays canceled (the orchestration may close
        it a moment after the cancel), and a run its last step closed keeps that end.
        """
        run = self._run(run_id, experiment)
        if run.status in TERMINAL:  # recorded once: by its last step, or canceled meanwhile
            return
        ended = datetime.now(UTC)
        self.nodes_ended(run_id, outcome.closing, ended)
        run.status, run.ended_at = outcome.status, ended
        run.error, run.failed_node = outcome.error, outcome.failed_node
        runs.update_run(self.store, run, "status", "ended_at", "error", "failed_node")
        if (
            plan_fingerprint
            and outcome.status == RunStatus.FINISHED
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
            failed = ["ended_at", "error", "error_code"] if state.status == RunStatus.FAILED else []
            runs.update_node(self.store, node, "status", "note", *failed)

    def run_in_process(self, job: Job) -> RunOutcome:
        """Run a submitted job here, through the same machine, step plan and activities' code."""
        machine = job.machine()
        if machine.done:  # every node was reused at submit
            return machine.outcome()
        self.run_started(job.experiment, job.run_id)
        run_in_process(machine, PipelineSteps(job), self.activity)
        outcome = machine.outcome()
        self.run_finished(job.run_id, outcome, job.plan_key, job.experiment)
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
            run.status, run.ended_at = RunStatus.CANCELED, ended
            run.error = f"Canceled by {by}" if by else "Canceled"
            runs.update_run(self.store, run, "status", "ended_at", "error")
        nodes = runs.get_nodes(self.store, run_id)
        for node in nodes:
            if node.status in (RunStatus.NOT_STARTED, RunStatus.RUNNING):
                node.status, node.ended_at, node.note = RunStatus.CANCELED, ended, "canceled with the run"
                runs.update_node(self.store, node, "status", "ended_at", "note")
        return run_view(run, nodes)

    def fail_orphaned(self, run_id: str, reason: str) -> dict[str, Any] | None:
        """End a run whose orchestration is gone (terminated, failed, purged): it can never
        finish. A run that has ended meanwhile, canceled included, is left as it is (``None``);
        otherwise the answer is the run as it now is."""
        run = runs.fail_if_active(self.store, run_id, reason, datetime.now(UTC))
        if run is None:
            return None
        nodes = runs.get_nodes(self.store, run_id)
        for node in nodes:
            if node.status == RunStatus.RUNNING:
                node.status, node.ended_at, node.error = RunStatus.FAILED, run.ended_at, node.error or reason
                runs.update_node(self.store, node, "status", "ended_at", "error")
            elif node.status == RunStatus.NOT_STARTED:
                node.note = "not run: the run's orchestration ended"
                runs.update_node(self.store, node, "note")
        return run_view(run, nodes)

    def get_run(self, run_id: str) -> dict[str, Any]:
        run = self._run(run_id)
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
        """A node's plot as PNG bytes, drawn the first time it is asked for.

        Evaluate Model only names its plots during the run (:data:`PLOT_NOT_DRAWN`): the run's
        critical path should not pay for pictures nobody may look at. The first view draws the
        plot from the scored datasets that fed the node in this run (a reused node's inputs are
        the same content-addressed outputs, so the same picture), stores it and records its
        reference on the node, so later views read it and garbage collection keeps it. A
        reference recorded by the run itself (older runs) is served as it is.
        """
        node = runs.get_node(self.store, run_id, node_id)
        if name not in node.plots:
            raise NotFound(
                f"Node {node_id!r} of run {run_id!r} has no plot {name!r}; plots: {sorted(node.plots)}"
            )
        if node.plots[name] != PLOT_NOT_DRAWN:
            return self._stored(node.plots[name], f"Plot {name!r} of node {node_id!r}")
        if node.status != RunStatus.FINISHED:
            raise NotFound(f"Node {node_id!r} of run {run_id!r} did not finish: it has no plot {name!r}")
        png = self._draw_plot(run_id, node, name)
        self._record_plot(run_id, node_id, name, self.artifacts.put_bytes(png, "plot", "image/png"))
        return png

    def _draw_plot(self, run_id: str, node: NodeRecord, name: str) -> bytes:
        """Draw from the node's scored inputs as this run's upstream nodes recorded them."""
        if node.component != evaluation.EvaluateModel.id:
            raise NotFound(f"Node {node.node_id!r} of run {run_id!r} does not draw plots on request")
        run = runs.get_run(self.store, run_id)
        doc = Pipeline.model_validate(self.artifacts.get_json(run.pipeline_ref))
        records = {n.node_id: n for n in runs.get_nodes(self.store, run_id)}
        inputs = {
            port: self._upstream_output(records.get(source), source, output)
            for port, (source, output) in scored_sources(doc, node.node_id).items()
        }
        named = evaluation.named_inputs(inputs)
        if not named:
            raise NotFound(f"Node {node.node_id!r} of run {run_id!r} has no scored dataset to draw from")
        try:
            return evaluation.draw_plot(named, name)
        except ComponentError as exc:
            raise Conflict(f"Plot {name!r} of node {node.node_id!r} cannot be drawn: {exc}") from exc

    def _upstream_output(self, record: NodeRecord | None, node_id: str, port: str) -> pd.DataFrame:
        ref = record.outputs.get(port) if record else None
        if ref is None:
            raise NotFound(f"Node {node_id!r} recorded no output {port!r} to draw a plot from")
        try:
            return self.artifacts.get(ref, PortType.DATA)
        except KeyError as exc:
            raise NotFound(f"The output {port!r} of node {node_id!r} is no longer stored") from exc

    def _stored(self, ref: str, what: str) -> bytes:
        try:
            return self.artifacts.get_bytes(ref)
        except KeyError as exc:
            raise NotFound(f"{what} is no longer stored") from exc

    def _record_plot(self, run_id: str, node_id: str, name: str, ref: str) -> None:
        """Record one drawn plot on its node without losing one drawn beside it: the write is
        conditional on the node's ETag and retried with the newer record. Should every try
        lose, the plot stays undrawn on record and the next view draws it again (same bytes)."""
        for _ in range(_RECORD_TRIES):
            node, etag = runs.get_node_for_update(self.store, run_id, node_id)
            if node.plots.get(name) != PLOT_NOT_DRAWN:
                return  # recorded meanwhile, by a view that drew the same bytes
            node.plots[name] = ref
            try:
                runs.update_node(self.store, node, "plots", etag=etag)
            except PreconditionFailed:
                continue
            return

    def output_profile(self, run_id: str, node_id: str, port: str) -> table_profile.TableProfile:
        df, total = head(self.artifacts, self._output_ref(run_id, node_id, port), table_profile.PROFILE_ROWS)
        return table_profile.profile(df, total)

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


def node_view(node: NodeRecord) -> dict[str, Any]:
    view = node.model_dump(mode="json", exclude={"run_id"})
    view["duration_seconds"] = node.duration_seconds
    view["reused"] = node.reused_from is not None
    view["plots"] = sorted(node.plots)  # names only: where each is served is the HTTP layer's say
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
        }
    )
    if nodes is not None:
        done = sum(1 for n in nodes if n.status not in (RunStatus.NOT_STARTED, RunStatus.RUNNING))
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
        status=RunStatus.FINISHED,
        started_at=at,
        ended_at=at,
        outputs=cached.outputs,
        metrics=cached.metrics,
        plots=cached.plots,
        logs=runs.clip_logs(cached.logs),
        reused_from=f"{cached.run_id}/{cached.node_id}",
    )
