"""The door the HTTP layer comes through: one :class:`Service` per process, built from settings.

``Service`` composes the sub-services, each holding the use cases of one responsibility:
``pipelines`` (catalogue, validation, pinning, drafts), ``datasets``, ``runs`` (submit, the run's
life, views), ``endpoints`` (publish, versions, submit to an endpoint, assets, file drop),
``compare``, ``realtime``, ``batch`` (file-drop scoring), ``schedules``, ``lifecycle`` and
``portability``. A sub-service gets the collaborators it calls as typed objects. The methods
on ``Service`` itself are the names callers have long used; each hands over to a sub-service.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from core import names
from core.clock import Clock, SystemClock
from core.errors import Problem
from core.execution.engine import NodeState, RunOutcome
from core.execution.executor import NodeRequest
from core.execution.job import Job
from core.execution.results import ChunkOutcome, NodeResult
from core.pipelines import drafts, inference
from core.pipelines.document import Pipeline
from core.registry import datasets, endpoints, gc
from core.registry.runs import RunRecord
from core.registry.submissions import EndpointSubmission
from core.service import lifecycle
from core.service.compare import Comparison, RunComparison
from core.service.datasets import Datasets
from core.service.endpoints import Endpoints
from core.service.pipelines import ASSET_COMPONENTS, Found, PipelineInputRequest, Pipelines
from core.service.portability import Portability
from core.service.realtime import RealtimeService
from core.service.runs import RunQuery, RunRequest, Runs, Submission, node_view, run_view
from core.service.schedules import SchedulesService
from core.serving import file_drop
from core.serving.batch import BatchScoring
from core.settings import Settings
from core.storage.artifacts import Artifacts
from core.storage.store import Store
from core.tables import profile as table_profile

NAME_PATTERN = names.NAME

__all__ = [
    "ASSET_COMPONENTS",
    "NAME_PATTERN",
    "Job",
    "PipelineInputRequest",
    "RunQuery",
    "RunRequest",
    "Service",
    "Submission",
    "node_view",
    "run_view",
]


class Service:
    def __init__(
        self, store: Store, settings: Settings, samples_dir: Path | None = None, clock: Clock | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.samples_dir = samples_dir
        self.clock: Clock = clock or SystemClock()
        self.artifacts = Artifacts(store, settings.artifact_signing_key)
        features = {"enable_python_script": settings.enable_python_script, "enable_sql": settings.enable_sql}
        self.pipelines = Pipelines(store, self.artifacts, features, samples_dir)
        self.datasets = Datasets(store, self.artifacts, samples_dir)
        self.runs = Runs(store, self.artifacts, self.pipelines, settings.mini_batch_rows)
        self.endpoints = Endpoints(store, self.artifacts, self.pipelines, self.runs)
        self.compare = RunComparison(store, self.artifacts)
        self.realtime = RealtimeService(store, self.artifacts, self.pipelines)
        self.batch = BatchScoring(store, self.artifacts, settings.mini_batch_rows, self.pipelines)
        self.schedules = SchedulesService(
            store, self.artifacts, self.clock, self.endpoints.submit_to_endpoint
        )
        self.lifecycle = lifecycle.Lifecycle(store, self.artifacts)
        self.portability = Portability(self)

    @property
    def features(self) -> dict[str, bool]:
        return self.pipelines.features

    def trusts_client_principal(self) -> bool:
        """Whether App Service authentication vouches for the caller's principal header."""
        return self.settings.trust_client_principal

    def collect_garbage(self, dry_run: bool, grace_minutes: int) -> gc.GcReport:
        """Unreferenced artifacts; the grace period is measured on the real time, never a test clock."""
        return gc.collect(self.store, SystemClock().now(), timedelta(minutes=grace_minutes), dry_run)

    # ---- pipelines and drafts (``self.pipelines``) -------------------------------------------
    def components(self) -> list[dict[str, Any]]:
        return self.pipelines.components()

    def validate(
        self, pipeline: Pipeline, assignments: dict[str, Any] | None = None, found: Found | None = None
    ) -> list[Problem]:
        return self.pipelines.validate(pipeline, assignments, found)

    def create_draft(self, pipeline: Pipeline) -> tuple[drafts.Draft, list[Problem]]:
        return self.pipelines.create_draft(pipeline).pair()

    def update_draft(
        self, draft_id: str, pipeline: Pipeline, etag: str | None
    ) -> tuple[drafts.Draft, list[Problem]]:
        return self.pipelines.update_draft(draft_id, pipeline, etag).pair()

    def get_draft(self, draft_id: str) -> tuple[drafts.Draft, Pipeline]:
        return self.pipelines.get_draft(draft_id)

    def use_asset(
        self, draft_id: str, node_id: str, name: str, version: int | None, etag: str | None
    ) -> tuple[drafts.Draft, list[Problem]]:
        return self.pipelines.use_asset(draft_id, node_id, name, version, etag).pair()

    def add_pipeline_parameter(
        self, draft_id: str, request: PipelineInputRequest, etag: str | None
    ) -> tuple[drafts.Draft, list[Problem]]:
        return self.pipelines.add_pipeline_parameter(draft_id, request, etag).pair()

    def create_inference_pipeline(
        self, run_id: str, kind: inference.InferenceKind
    ) -> tuple[drafts.Draft, list[Problem]]:
        return self.pipelines.create_inference_pipeline(run_id, kind).pair()

    def clone_run(self, run_id: str) -> tuple[drafts.Draft, list[Problem]]:
        return self.pipelines.clone_run(run_id).pair()

    def clone_endpoint_version(self, name: str, version: int) -> tuple[drafts.Draft, list[Problem]]:
        return self.pipelines.clone_endpoint_version(name, version).pair()

    # ---- datasets (``self.datasets``) --------------------------------------------------------
    def register_csv(self, name: str, data: bytes, description: str = "") -> datasets.DatasetVersion:
        return self.datasets.register_csv(name, data, description)

    def register_sample(self, name: str) -> datasets.DatasetVersion:
        return self.datasets.register_sample(name)

    def samples(self) -> list[dict[str, str]]:
        return self.datasets.samples()

    def dataset_preview(self, name: str, version: int, rows: int) -> table_profile.Preview:
        return self.datasets.preview(name, version, rows)

    def dataset_profile(self, name: str, version: int) -> table_profile.TableProfile:
        return self.datasets.profile(name, version)

    # ---- runs (``self.runs``) ----------------------------------------------------------------
    def submit(
        self,
        submission: Submission,
        submitted_by: str | None = None,
        endpoint: endpoints.EndpointVersion | None = None,
    ) -> tuple[RunRecord, Job]:
        return self.runs.submit(submission, submitted_by, endpoint)

    def start_failed(self, run: RunRecord, reason: str) -> None:
        self.runs.start_failed(run, reason)

    def run_started(self, experiment: str, run_id: str) -> None:
        self.runs.run_started(experiment, run_id)

    def run_node(self, request: NodeRequest) -> NodeResult:
        return self.runs.run_node(request)

    def run_chunk(self, request: NodeRequest, chunk: str, index: int) -> ChunkOutcome:
        return self.runs.run_chunk(request, chunk, index)

    def join_chunks(self, request: NodeRequest, outcomes: list[ChunkOutcome]) -> NodeResult:
        return self.runs.join_chunks(request, outcomes)

    def run_finished(self, run_id: str, outcome: RunOutcome, plan_fingerprint: str | None = None) -> None:
        self.runs.run_finished(run_id, outcome, plan_fingerprint)

    def nodes_ended(self, run_id: str, states: list[NodeState], ended: datetime | None = None) -> None:
        self.runs.nodes_ended(run_id, states, ended)

    def run_in_process(self, job: Job) -> RunOutcome:
        return self.runs.run_in_process(job)

    def activity(self, name: str, payload: Any) -> Any:
        return self.runs.activity(name, payload)

    def cancelable_run(self, run_id: str) -> RunRecord:
        return self.runs.cancelable_run(run_id)

    def record_canceled(self, run_id: str, by: str | None = None) -> dict[str, Any]:
        return self.runs.record_canceled(run_id, by)

    def fail_orphaned_run(self, run_id: str, reason: str) -> bool:
        return self.runs.fail_orphaned(run_id, reason) is not None

    def get_run(self, run_id: str) -> dict[str, Any]:
        return self.runs.get_run(run_id)

    def list_runs(self, experiment: str) -> list[dict[str, Any]]:
        return self.runs.list_runs(experiment)

    def find_runs(self, query: RunQuery) -> dict[str, Any]:
        return self.runs.find_runs(query)

    def experiments(self) -> list[dict[str, Any]]:
        return self.runs.experiments()

    def get_node(self, run_id: str, node_id: str) -> dict[str, Any]:
        return self.runs.get_node(run_id, node_id)

    def node_plot(self, run_id: str, node_id: str, name: str) -> bytes:
        return self.runs.node_plot(run_id, node_id, name)

    def node_output(self, run_id: str, node_id: str, port: str, rows: int | None) -> pd.DataFrame:
        return self.runs.node_output(run_id, node_id, port, rows)

    def output_profile(self, run_id: str, node_id: str, port: str) -> table_profile.TableProfile:
        return self.runs.output_profile(run_id, node_id, port)

    # ---- endpoints and assets (``self.endpoints``) -------------------------------------------
    def register_output(
        self, run_id: str, node_id: str, port: str, name: str, description: str, by: str | None
    ) -> dict[str, Any]:
        return self.endpoints.register_output(run_id, node_id, port, name, description, by)

    def publish(
        self, draft_id: str, endpoint: str, description: str, set_default: bool, by: str | None
    ) -> endpoints.EndpointVersion:
        return self.endpoints.publish(draft_id, endpoint, description, set_default, by)

    def endpoint_view(self, name: str) -> dict[str, Any]:
        return self.endpoints.endpoint_view(name)

    def submit_to_endpoint(
        self, name: str, body: EndpointSubmission, version: int | None, by: str | None
    ) -> tuple[RunRecord, Job]:
        return self.endpoints.submit_to_endpoint(name, body, version, by)

    def _import_blob(self, path: str) -> datasets.DatasetVersion:
        return self.endpoints.import_blob(path)

    def drop_file(self, endpoint: str, file: str, data: bytes) -> file_drop.DroppedFile:
        return self.endpoints.drop_file(endpoint, file, data)

    def dropped_file(self, endpoint: str, file: str) -> file_drop.DroppedFile:
        return self.endpoints.dropped_file(endpoint, file)

    def dropped_files(self, endpoint: str) -> list[str]:
        return self.endpoints.dropped_files(endpoint)

    def dropped_file_predictions(self, endpoint: str, file: str) -> tuple[bytes, str]:
        return self.endpoints.dropped_file_predictions(endpoint, file)

    # ---- comparing runs (``self.compare``) ---------------------------------------------------
    def compare_runs(self, run_ids: list[str]) -> Comparison:
        return self.compare.compare_runs(run_ids)

    def compare_plot(self, run_ids: list[str], name: str) -> bytes:
        return self.compare.compare_plot(run_ids, name)
