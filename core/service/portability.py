"""Use cases that take pipelines and models out of the service, and say where things came from.

Kept apart from :class:`core.service.facade.Service` (which it is built on) so the HTTP layer stays a
few lines per route: pipeline documents as JSON, YAML or a Python script; graph diffs; trained
models as MLflow models or ONNX files; lineage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from core.errors import InvalidRequest, Problem
from core.pipelines import diff as graph_diff
from core.pipelines.document import Pipeline
from core.pipelines.script_export import to_script
from core.pipelines.yaml_io import from_yaml, to_yaml
from core.registry import endpoints, runs
from core.service.lineage import Lineage
from core.serving.model_export import ExportSource, mlflow_model_zip, onnx_model_bytes
from core.serving.sources import ModelSources
from core.storage.artifacts import Artifacts
from core.storage.store import Store

PipelineFormat = Literal["json", "yaml", "python"]
ModelFormat = Literal["mlflow", "onnx"]
PIPELINE_FORMATS = ("json", "yaml", "python")
MODEL_FORMATS = ("mlflow", "onnx")


@dataclass
class Download:
    """A file to answer with: its bytes, media type and suggested file name."""

    body: bytes
    media_type: str
    filename: str


class Stored(Protocol):
    """Where the documents and models are kept (a :class:`core.service.facade.Service` is one)."""

    store: Store
    artifacts: Artifacts


class Portability:
    def __init__(self, service: Stored) -> None:
        self.service = service
        self.lineage = Lineage(service.store, service.artifacts)
        self.sources = ModelSources(service.store, service.artifacts)

    # ---- pipelines --------------------------------------------------------------------------
    def run_pipeline(self, run_id: str) -> Pipeline:
        run = runs.get_run(self.service.store, run_id)
        return Pipeline.model_validate(self.service.artifacts.get_json(run.pipeline_ref))

    def version_pipeline(self, name: str, version: int) -> Pipeline:
        entry = endpoints.get_version(self.service.store, name, version)
        return Pipeline.model_validate(self.service.artifacts.get_json(entry.pipeline_ref))

    def render(self, pipeline: Pipeline, fmt: str) -> Download:
        """The document as YAML or a Python script (JSON stays with the route's usual answer)."""
        check_format(fmt, PIPELINE_FORMATS)
        stem = _file_stem(pipeline.name)
        if fmt == "python":
            return Download(to_script(pipeline).encode(), "text/x-python; charset=utf-8", f"{stem}.py")
        if fmt == "yaml":
            text = to_yaml(pipeline.model_dump(mode="json"))
            return Download(text.encode(), "application/yaml; charset=utf-8", f"{stem}.yaml")
        return Download(pipeline.model_dump_json().encode(), "application/json", f"{stem}.json")

    def diff_versions(self, name: str, a: int, b: int) -> dict[str, Any]:
        found = graph_diff.diff(self.version_pipeline(name, a), self.version_pipeline(name, b))
        return {
            "pipeline_endpoint": name,
            "from_version": a,
            "to_version": b,
            **found.model_dump(mode="json"),
        }

    @staticmethod
    def diff_documents(before: Pipeline, after: Pipeline) -> dict[str, Any]:
        return graph_diff.diff(before, after).model_dump(mode="json")

    # ---- models -----------------------------------------------------------------------------
    def export_model(self, source: ExportSource, fmt: str, name: str) -> Download:
        check_format(fmt, MODEL_FORMATS)
        stem = _file_stem(name)
        if fmt == "onnx":
            data, _ = onnx_model_bytes(source)
            return Download(data, "application/octet-stream", f"{stem}.onnx")
        return Download(mlflow_model_zip(source, stem), "application/zip", f"{stem}-mlflow.zip")

    # ---- lineage ----------------------------------------------------------------------------
    def lineage_of(self, query: dict[str, str]) -> dict[str, Any]:
        """One of: asset, pipeline_endpoint or dataset (each with an optional version), realtime,
        or run and node (and port)."""
        version = int_param(query, "version")
        if query.get("asset"):
            return self.lineage.asset(query["asset"], version)
        if query.get("pipeline_endpoint"):
            return self.lineage.endpoint_version(query["pipeline_endpoint"], version)
        if query.get("realtime"):
            return self.lineage.realtime(query["realtime"])
        if query.get("dataset"):
            return self.lineage.dataset(query["dataset"], version)
        if query.get("run") and query.get("node"):
            return self.lineage.run_output(query["run"], query["node"], query.get("port") or "trained_model")
        raise InvalidRequest(
            "Say what to trace",
            [
                Problem(
                    code="invalid_query",
                    field="query",
                    message="Give asset, pipeline_endpoint, realtime or dataset "
                    "(each with an optional version), or run and node",
                )
            ],
        )


def parse_pipeline_yaml(text: bytes) -> dict[str, Any]:
    return from_yaml(text)


def check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        raise InvalidRequest(
            f"Unknown format {fmt!r}",
            [Problem(code="invalid_format", field="format", message=f"format is one of {list(allowed)}")],
        )


def int_param(query: dict[str, str], key: str) -> int | None:
    value = query.get(key)
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise InvalidRequest(
            f"{key} must be a whole number",
            [Problem(code="invalid_query", field=key, message=f"{key} must be a whole number")],
        )
    return int(value)


def _file_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:80] or "pipeline"
