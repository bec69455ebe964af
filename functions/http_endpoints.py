"""Inference pipelines, registered assets, and pipeline endpoints (publish, manage, submit)."""

from __future__ import annotations

from typing import Literal

import azure.durable_functions as df
import azure.functions as func
from pydantic import BaseModel, Field

from core import names
from core.pipelines.document import Pipeline
from core.registry.submissions import EndpointSubmission
from core.serving.batch import BatchSettings
from functions import answers as a
from functions import links
from functions.common import caller, json_errors, json_response, parse_body, service
from functions.http_export import pipeline_download
from functions.http_pipelines import draft_created, draft_saved, start_run
from functions.openapi import api, parse_query

bp = df.Blueprint()


class InferenceRequest(BaseModel):
    kind: Literal["batch", "realtime"] = "batch"


class RegisterRequest(BaseModel):
    name: names.Name
    description: names.Description = ""


class AssetChoice(BaseModel):
    asset: names.Name
    version: int | None = Field(None, ge=1)


class PublishRequest(BaseModel):
    draft_id: names.Id
    description: names.Description = ""
    set_default: bool = False


class StatusRequest(BaseModel):
    status: Literal["Active", "Disabled"]


class DefaultRequest(BaseModel):
    version: int = Field(ge=1)


class SubmitQuery(BaseModel):
    pipelineVersion: int | None = Field(
        None, ge=1, description="The version to run, as the Azure ML SDK sends it"
    )


@bp.route(route="runs/{run_id}/inference-pipelines", methods=["POST"])
@api(
    "A batch or real-time inference draft from a training run",
    body=InferenceRequest,
    response=a.DraftView,
    status=201,
    errors=(404,),
)
@json_errors
def create_inference_pipeline(req: func.HttpRequest) -> func.HttpResponse:
    kind = parse_body(req, InferenceRequest).kind
    return draft_created(service().pipelines.create_inference_pipeline(req.route_params["run_id"], kind))


@bp.route(route="runs/{run_id}/nodes/{node_id}/outputs/{port}/register", methods=["POST"])
@api(
    "Register a node output as a named, versioned asset or dataset",
    body=RegisterRequest,
    response=a.Registered,
    status=201,
    errors=(404, 409),
)
@json_errors
def register_output(req: func.HttpRequest) -> func.HttpResponse:
    body = parse_body(req, RegisterRequest)
    p = req.route_params
    return json_response(
        service().endpoints.register_output(
            p["run_id"], p["node_id"], p["port"], body.name, body.description, caller(req)
        ),
        201,
    )


@bp.route(route="assets", methods=["GET"])
@api("The latest version of every asset", response=a.AssetList)
@json_errors
def list_assets(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"value": [v.model_dump(mode="json") for v in service().endpoints.list_assets()]})


@bp.route(route="assets/{name}", methods=["GET"])
@api("An asset with all its versions", response=a.AssetDetail, errors=(404,), name_kind="asset")
@json_errors
def get_asset(req: func.HttpRequest) -> func.HttpResponse:
    found = service().endpoints.asset_versions(req.route_params["name"])
    return json_response(
        {**found[-1].model_dump(mode="json"), "versions": [v.model_dump(mode="json") for v in found]}
    )


@bp.route(route="pipelines/{draft_id}/nodes/{node_id}/asset", methods=["PUT"])
@api(
    "Point an MD-/TD- node at a registered asset",
    body=AssetChoice,
    response=a.DraftView,
    errors=(404, 412),
    headers=("If-Match",),
)
@json_errors
def use_asset(req: func.HttpRequest) -> func.HttpResponse:
    body = parse_body(req, AssetChoice)
    found = service().pipelines.use_asset(
        req.route_params["draft_id"],
        req.route_params["node_id"],
        body.asset,
        body.version,
        req.headers.get("if-match"),
    )
    return draft_saved(found)


# ---- pipeline endpoints ------------------------------------------------------------------------
@bp.route(route="pipelineendpoints", methods=["GET"])
@api("Pipeline endpoints", response=a.EndpointList)
@json_errors
def list_pipeline_endpoints(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"value": [e.model_dump(mode="json") for e in service().endpoints.list_endpoints()]})


@bp.route(route="pipelineendpoints/{name}", methods=["GET"])
@api(
    "An endpoint with its versions and default history",
    response=a.EndpointDetail,
    errors=(404,),
    name_kind="pipeline endpoint",
)
@json_errors
def get_pipeline_endpoint(req: func.HttpRequest) -> func.HttpResponse:
    found = service().endpoints.detail(req.route_params["name"])
    return json_response(found.view, headers={"ETag": found.etag})


@bp.route(route="pipelineendpoints/{name}/versions", methods=["POST"])
@api(
    "Publish a draft as the next version",
    body=PublishRequest,
    response=a.EndpointVersion,
    status=201,
    errors=(404, 409),
    name_kind="pipeline endpoint",
)
@json_errors
def publish_version(req: func.HttpRequest) -> func.HttpResponse:
    """Publish a draft as the endpoint's next version (the first publish creates the endpoint)."""
    body = parse_body(req, PublishRequest)
    entry = service().endpoints.publish(
        body.draft_id, req.route_params["name"], body.description, body.set_default, caller(req)
    )
    return json_response(
        entry.model_dump(mode="json"),
        201,
        {"Location": links.endpoint_version(entry.endpoint, entry.version)},
    )


@bp.route(route="pipelineendpoints/{name}/versions/{version:int}", methods=["GET"])
@api(
    "One version with its pipeline",
    response=a.EndpointVersionDetail,
    errors=(404,),
    name_kind="pipeline endpoint",
)
@json_errors
def get_endpoint_version(req: func.HttpRequest) -> func.HttpResponse:
    entry, document = service().endpoints.version(req.route_params["name"], int(req.route_params["version"]))
    if req.params.get("format", "json") != "json":  # yaml, python
        return pipeline_download(Pipeline.model_validate(document), req)
    return json_response({**entry.model_dump(mode="json"), "pipeline": document})


@bp.route(route="pipelineendpoints/{name}/default", methods=["PUT"])
@api(
    "Change the default version",
    body=DefaultRequest,
    response=a.Endpoint,
    errors=(404, 409, 412),
    headers=("If-Match",),
    name_kind="pipeline endpoint",
)
@json_errors
def set_default_version(req: func.HttpRequest) -> func.HttpResponse:
    body = parse_body(req, DefaultRequest)
    endpoint = service().endpoints.set_default(
        req.route_params["name"], body.version, caller(req), req.headers.get("if-match")
    )
    return json_response(endpoint.model_dump(mode="json"), headers={"ETag": endpoint.etag or ""})


@bp.route(route="pipelineendpoints/{name}/rollback", methods=["POST"])
@api(
    "Back to the previous default",
    response=a.Endpoint,
    errors=(404, 409, 412),
    headers=("If-Match",),
    name_kind="pipeline endpoint",
)
@json_errors
def rollback_default(req: func.HttpRequest) -> func.HttpResponse:
    endpoint = service().endpoints.rollback(
        req.route_params["name"], caller(req), req.headers.get("if-match")
    )
    return json_response(endpoint.model_dump(mode="json"), headers={"ETag": endpoint.etag or ""})


@bp.route(route="pipelineendpoints/{name}/status", methods=["PUT"])
@api(
    "Enable or disable an endpoint",
    body=StatusRequest,
    response=a.EndpointDetail,
    errors=(404, 409),
    name_kind="pipeline endpoint",
)
@json_errors
def set_endpoint_status(req: func.HttpRequest) -> func.HttpResponse:
    """Enable or disable an endpoint: a disabled one refuses submissions."""
    status = parse_body(req, StatusRequest).status
    return json_response(service().endpoints.set_status(req.route_params["name"], status, caller(req)))


@bp.route(route="pipelineendpoints/{name}/versions/{version:int}/status", methods=["PUT"])
@api(
    "Enable or disable one version",
    body=StatusRequest,
    response=a.EndpointDetail,
    errors=(404, 409),
    name_kind="pipeline endpoint",
)
@json_errors
def set_version_status(req: func.HttpRequest) -> func.HttpResponse:
    view = service().endpoints.set_status(
        req.route_params["name"],
        parse_body(req, StatusRequest).status,
        caller(req),
        version=int(req.route_params["version"]),
    )
    return json_response(view)


@bp.route(route="pipelineendpoints/{name}/batch-settings", methods=["PUT"])
@api(
    "File-drop scoring settings",
    body=BatchSettings,
    response=a.Endpoint,
    errors=(404, 409),
    name_kind="pipeline endpoint",
)
@json_errors
def set_batch_settings(req: func.HttpRequest) -> func.HttpResponse:
    """How files uploaded to batch-input/{name}/ are scored: mini-batch size, kept columns..."""
    settings = parse_body(req, BatchSettings)
    endpoint = service().endpoints.set_batch_settings(
        req.route_params["name"], settings.model_dump(exclude_none=True)
    )
    return json_response(endpoint.model_dump(mode="json"))


@bp.route(route="pipelineendpoints/{name}/submit", methods=["POST"])
@bp.durable_client_input(client_name="client")
@api(
    "Run the default (or a named) version with Azure ML's body",
    body=EndpointSubmission,
    response=a.RunAccepted,
    status=202,
    errors=(404, 409),
    query=SubmitQuery,
    name_kind="pipeline endpoint",
)
@json_errors
async def submit_to_endpoint(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Azure ML's submit body; ``?pipelineVersion=`` as the SDK sends it, or ``PipelineVersion``."""
    body = parse_body(req, EndpointSubmission)
    query = parse_query(req, SubmitQuery)
    run, job = service().endpoints.submit_to_endpoint(
        req.route_params["name"], body, query.pipelineVersion, caller(req)
    )
    return await start_run(client, run, job)
