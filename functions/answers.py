"""The shapes of the main answers, for the API document (requests use the parsing models).

Each extends the record it is built from with what the view adds, so a record's change shows
in the document too. Answers may carry more keys than listed; the listed ones are promised.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from core.errors import Problem
from core.pipelines.diff import PipelineDiff
from core.pipelines.drafts import Draft
from core.registry import runs
from core.registry.assets import AssetVersion
from core.registry.datasets import DatasetVersion
from core.registry.endpoints import AuditEntry, Endpoint, EndpointVersion
from core.registry.runs import NodeRecord, RunRecord
from core.schedules.records import Firing, ScheduleSpec
from core.service.compare import ComparedRun, MetricRow, ParameterRow
from core.serving.deployments import RealtimeEndpoint
from core.serving.file_drop import DroppedFile


class Health(BaseModel):
    status: Literal["ok"]


class PortEntry(BaseModel):
    id: str
    name: str
    type: str
    optional: bool


class ComponentEntry(BaseModel):
    id: str
    name: str
    category: str
    version: str
    description: str
    deterministic: bool = Field(description="False: always runs; its outputs are never reused")
    enabled: bool = Field(description="False: switched off on this service (user code); validation says so")
    inputs: list[PortEntry]
    outputs: list[PortEntry]
    parameters: dict[str, Any] = Field(description="JSON schema of the parameters")


class ComponentList(BaseModel):
    value: list[ComponentEntry]


class Sample(BaseModel):
    name: str
    description: str


class SampleList(BaseModel):
    value: list[Sample]


with warnings.catch_warnings():  # the views' keys are the records' properties, as answered
    warnings.simplefilter("ignore", UserWarning)

    class DatasetView(DatasetVersion):
        ref: str = Field(...)

    class NodeView(NodeRecord):
        # Not repeated in a node view: the view widens the record's field, which mypy reads as
        # breaking substitutability; nothing assigns a node view where a record is expected.
        run_id: str | None = None  # type: ignore[assignment]
        duration_seconds: float | None = Field(...)
        reused: bool

    class DatasetDetail(DatasetView):
        ref: str = Field(...)
        versions: list[DatasetView]


class DatasetList(BaseModel):
    value: list[DatasetView]


class DraftView(Draft):
    pipeline: dict[str, Any] | None = None
    valid: bool | None = None
    problems: list[Problem] | None = None


class DraftList(BaseModel):
    value: list[DraftView]


class Validation(BaseModel):
    valid: bool
    problems: list[Problem]


class RunStatus(BaseModel):
    StatusCode: runs.RunStatus


class RunAccepted(BaseModel):
    """Azure ML's submit answer, plus where to follow the run."""

    Id: str
    run_id: str
    experiment: str
    RunHistoryExperimentName: str
    PipelineEndpointName: str | None
    PipelineVersion: int | None
    Status: RunStatus
    status_url: str


class Experiment(BaseModel):
    name: str
    runs: int


class ExperimentList(BaseModel):
    value: list[Experiment]


class Progress(BaseModel):
    nodes_done: int
    nodes_total: int


class RunView(RunRecord):
    progress: Progress | None = None
    nodes: dict[str, NodeView] | None = None
    metrics: dict[str, Any] | None = None


class RunList(BaseModel):
    value: list[RunView]


class Registered(BaseModel):
    type: Literal["dataset", "asset"]
    name: str
    version: int


class AssetDetail(AssetVersion):
    versions: list[AssetVersion]


class AssetList(BaseModel):
    value: list[AssetVersion]


class EndpointList(BaseModel):
    value: list[Endpoint]


class EndpointDetail(Endpoint):
    versions: list[EndpointVersion]
    default_history: list[AuditEntry]


class EndpointVersionDetail(EndpointVersion):
    pipeline: dict[str, Any]


class Comparison(BaseModel):
    """Runs side by side, with the link of each overlaid two-class curve."""

    runs: list[ComparedRun]
    parameters: list[ParameterRow]
    metrics: list[MetricRow]
    plots: dict[str, str] = {}


class RealtimeView(RealtimeEndpoint):
    scoring_uri: str
    swagger_uri: str


class RealtimeDeployed(RealtimeView):
    keys: dict[str, str] = Field(description="primary and secondary key, shown only here")


class RealtimeList(BaseModel):
    value: list[RealtimeView]


class NewKey(BaseModel):
    keyType: Literal["primary", "secondary"]
    key: str


class ScoreRequest(BaseModel):
    """The designer's body; MLflow's ``dataframe_split``, ``dataframe_records`` and ``instances``
    are accepted too. The columns are each endpoint's own: see its ``swagger.json``."""

    Inputs: dict[str, list[dict[str, Any]]] | None = None
    GlobalParameters: dict[str, Any] | None = None
    dataframe_split: dict[str, Any] | None = None
    dataframe_records: list[dict[str, Any]] | None = None
    instances: list[Any] | None = None


class ScoreAnswer(BaseModel):
    Results: dict[str, list[dict[str, Any]]] | None = None
    predictions: list[Any] | None = None


class RunPage(RunList):
    count: int
    skip: int
    top: int


class VersionDiff(PipelineDiff):
    pipeline_endpoint: str
    from_version: int
    to_version: int


class DroppedFileList(BaseModel):
    value: list[str]


class DroppedFileView(DroppedFile):
    predictions_url: str | None = None


class DeletedVersions(BaseModel):
    deleted: str
    versions: list[int]


class DeletedEndpoint(BaseModel):
    deleted: str
    versions: int
    schedules: int


class DeletedExperiment(BaseModel):
    deleted: str
    runs: int


# The schedule as sent (its spec's fields, ``run_now`` not kept), with its state; built from the
# spec's own fields so a change to the spec shows here too.
_SPEC_FIELDS: dict[str, Any] = {
    name: (f.annotation, f) for name, f in ScheduleSpec.model_fields.items() if name != "run_now"
}
_STATE_FIELDS: dict[str, Any] = {
    "id": (str, ...),
    "endpoint": (str, ...),
    "kind": (Literal["recurrence", "data_change"], ...),
    "next_due": (str | None, ...),
    "last_due": (str | None, ...),
    "paused": (bool, ...),
    "paused_reason": (str | None, ...),
    "created_at": (str, ...),
    "updated_at": (str, ...),
    "created_by": (str | None, ...),
    "last_runs": (list[Firing], ...),
}
ScheduleView = create_model("ScheduleView", **_SPEC_FIELDS, **_STATE_FIELDS)


class ScheduleList(BaseModel):
    value: list[ScheduleView]


class StartedRun(BaseModel):
    Id: str
    experiment: str
    status_url: str


class TickAnswer(BaseModel):
    """What a schedule tick started."""

    started: list[StartedRun]
