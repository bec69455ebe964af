"""Pipelines and models out of the service (YAML, Python, MLflow, ONNX), graph diffs, lineage."""

from __future__ import annotations

from typing import Literal

import azure.functions as func
from pydantic import BaseModel, Field

from core.pipelines.diff import PipelineDiff
from core.pipelines.document import Pipeline
from core.pipelines.yaml_io import from_yaml, is_yaml
from core.service.portability import Download, Portability, int_param
from functions import answers as a
from functions.common import build, json_errors, json_response, parse_body, service
from functions.openapi import api, parse_query

bp = func.Blueprint()


def portability() -> Portability:
    return service().portability


def download(file: Download) -> func.HttpResponse:
    return func.HttpResponse(
        file.body,
        mimetype=file.media_type.split(";")[0],
        charset="utf-8" if "charset" in file.media_type else None,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
    )


def pipeline_download(pipeline: Pipeline, req: func.HttpRequest) -> func.HttpResponse:
    """``?format=yaml|python`` for the routes that answer a pipeline document."""
    return download(portability().render(pipeline, req.params.get("format", "json")))


def pipeline_body(req: func.HttpRequest) -> Pipeline:
    """A pipeline document sent as JSON, or as YAML (``Content-Type: application/yaml``)."""
    if is_yaml(req.headers.get("content-type")):
        return build(Pipeline, from_yaml(req.get_body()))
    return parse_body(req, Pipeline)


PIPELINE_MEDIA = {"application/json": Pipeline, "application/yaml": None, "text/x-python": None}
MODEL_MEDIA = {"application/zip": None, "application/octet-stream": None}


class PipelineFormatQuery(BaseModel):
    format: Literal["json", "yaml", "python"] = "json"


class ModelFormatQuery(BaseModel):
    format: Literal["mlflow", "onnx"] = "mlflow"


class AssetModelQuery(ModelFormatQuery):
    version: int | None = Field(None, ge=1, description="Else the latest")


class RealtimeModelQuery(ModelFormatQuery):
    node: str | None = Field(
        None, max_length=80, description="The model node, where the endpoint has several"
    )


class LineageQuery(BaseModel):
    """One of: asset, pipeline_endpoint or dataset (each with an optional version), realtime, or run
    and node (and port)."""

    asset: str | None = Field(None, max_length=100)
    pipeline_endpoint: str | None = Field(None, max_length=100)
    dataset: str | None = Field(None, max_length=100)
    version: int | None = Field(None, ge=1)
    realtime: str | None = Field(None, max_length=100)
    run: str | None = Field(None, max_length=100)
    node: str | None = Field(None, max_length=80)
    port: str | None = Field(None, max_length=100)


class DiffRequest(BaseModel):
    before: Pipeline
    after: Pipeline


@bp.route(route="runs/{run_id}/pipeline", methods=["GET"])
@api(
    "The pipeline document a run ran (JSON, YAML or Python)",
    response=PIPELINE_MEDIA,
    errors=(404,),
    query=PipelineFormatQuery,
)
@json_errors
def get_run_pipeline(req: func.HttpRequest) -> func.HttpResponse:
    pipeline = portability().run_pipeline(req.route_params["run_id"])
    if req.params.get("format", "json") == "json":
        return json_response(pipeline.model_dump(mode="json"))
    return pipeline_download(pipeline, req)


@bp.route(route="pipelineendpoints/{name}/versions/{a:int}/diff/{b:int}", methods=["GET"])
@api(
    "What changed between two published versions",
    response=a.VersionDiff,
    errors=(404,),
    name_kind="pipeline endpoint",
)
@json_errors
def diff_versions(req: func.HttpRequest) -> func.HttpResponse:
    p = req.route_params
    return json_response(portability().diff_versions(p["name"], int(p["a"]), int(p["b"])))


@bp.route(route="diff", methods=["POST"])
@api("What changed between two pipeline documents", body=DiffRequest, response=PipelineDiff)
@json_errors
def diff_documents(req: func.HttpRequest) -> func.HttpResponse:
    body = parse_body(req, DiffRequest)
    return json_response(Portability.diff_documents(body.before, body.after))


@bp.route(route="runs/{run_id}/nodes/{node_id}/model", methods=["GET"])
@api(
    "A trained model of a run as an MLflow model (zip) or ONNX",
    response=MODEL_MEDIA,
    errors=(404,),
    query=ModelFormatQuery,
)
@json_errors
def export_run_model(req: func.HttpRequest) -> func.HttpResponse:
    p = req.route_params
    source = portability().sources.from_run(p["run_id"], p["node_id"])
    fmt = req.params.get("format", "mlflow")
    return download(portability().export_model(source, fmt, f"{p['node_id']}-model"))


@bp.route(route="assets/{name}/model", methods=["GET"])
@api(
    "A registered model as an MLflow model (zip) or ONNX",
    response=MODEL_MEDIA,
    errors=(404,),
    query=AssetModelQuery,
    name_kind="asset",
)
@json_errors
def export_asset_model(req: func.HttpRequest) -> func.HttpResponse:
    name = req.route_params["name"]
    source = portability().sources.from_asset(name, int_param(dict(req.params), "version"))
    return download(portability().export_model(source, req.params.get("format", "mlflow"), name))


@bp.route(route="realtime/{name}/model", methods=["GET"])
@api(
    "A real-time endpoint's model as an MLflow model (zip) or ONNX",
    response=MODEL_MEDIA,
    errors=(404,),
    query=RealtimeModelQuery,
    name_kind="real-time endpoint",
)
@json_errors
def export_realtime_model(req: func.HttpRequest) -> func.HttpResponse:
    name = req.route_params["name"]
    source = portability().sources.from_realtime(name, req.params.get("node"))
    return download(portability().export_model(source, req.params.get("format", "mlflow"), name))


@bp.route(route="lineage", methods=["GET"])
@api(
    "Where an asset, dataset, endpoint or output came from",
    response="application/json",
    errors=(404,),
    query=LineageQuery,
)
@json_errors
def lineage(req: func.HttpRequest) -> func.HttpResponse:
    query = parse_query(req, LineageQuery).model_dump(exclude_none=True)
    return json_response(portability().lineage_of({key: str(value) for key, value in query.items()}))
