"""Deletes (with what still uses the thing), clone of a published version, endpoint edits."""

from __future__ import annotations

from typing import Literal

import azure.durable_functions as df
import azure.functions as func
from pydantic import BaseModel, Field

from core.registry.endpoints import Endpoint
from functions import answers as a
from functions.common import caller, json_errors, json_response, parse_body, service
from functions.http_pipelines import draft_created
from functions.openapi import api, parse_query

bp = df.Blueprint()


class DescriptionRequest(BaseModel):
    description: str = Field(max_length=2000)


class ForceQuery(BaseModel):
    force: Literal["true", "false"] = Field("false", description="true: delete even what is still used")


def force(req: func.HttpRequest) -> bool:
    return parse_query(req, ForceQuery).force == "true"


def deleted(what: str, **details: object) -> func.HttpResponse:
    return json_response({"deleted": what, **details})


@bp.route(route="datasets/{name}", methods=["DELETE"])
@api(
    "Delete every version of a dataset",
    response=a.DeletedVersions,
    errors=(404, 409),
    query=ForceQuery,
    name_kind="dataset",
)
@json_errors
def delete_dataset(req: func.HttpRequest) -> func.HttpResponse:
    """Every version; 409 naming each pipeline or schedule that uses it, unless ``?force=true``."""
    name = req.route_params["name"]
    return deleted(f"dataset {name}", versions=service().lifecycle.delete_dataset(name, None, force(req)))


@bp.route(route="datasets/{name}/versions/{version:int}", methods=["DELETE"])
@api(
    "Delete one version of a dataset",
    response=a.DeletedVersions,
    errors=(404, 409),
    query=ForceQuery,
    name_kind="dataset",
)
@json_errors
def delete_dataset_version(req: func.HttpRequest) -> func.HttpResponse:
    name, version = req.route_params["name"], int(req.route_params["version"])
    return deleted(f"dataset {name}", versions=service().lifecycle.delete_dataset(name, version, force(req)))


@bp.route(route="assets/{name}", methods=["DELETE"])
@api(
    "Delete every version of an asset",
    response=a.DeletedVersions,
    errors=(404, 409),
    query=ForceQuery,
    name_kind="asset",
)
@json_errors
def delete_asset(req: func.HttpRequest) -> func.HttpResponse:
    name = req.route_params["name"]
    return deleted(f"asset {name}", versions=service().lifecycle.delete_asset(name, None, force(req)))


@bp.route(route="assets/{name}/versions/{version:int}", methods=["DELETE"])
@api(
    "Delete one version of an asset",
    response=a.DeletedVersions,
    errors=(404, 409),
    query=ForceQuery,
    name_kind="asset",
)
@json_errors
def delete_asset_version(req: func.HttpRequest) -> func.HttpResponse:
    name, version = req.route_params["name"], int(req.route_params["version"])
    return deleted(f"asset {name}", versions=service().lifecycle.delete_asset(name, version, force(req)))


@bp.route(route="pipelineendpoints/{name}", methods=["DELETE"])
@api(
    "Delete a pipeline endpoint with its versions and schedules",
    response=a.DeletedEndpoint,
    errors=(404, 409),
    query=ForceQuery,
    name_kind="pipeline endpoint",
)
@json_errors
def delete_pipeline_endpoint(req: func.HttpRequest) -> func.HttpResponse:
    """With its versions and schedules; 409 while it has schedules, unless ``?force=true``."""
    name = req.route_params["name"]
    return deleted(
        f"pipeline endpoint {name}",
        **service().lifecycle.delete_pipeline_endpoint(name, force(req), caller(req)),
    )


@bp.route(route="runs/{run_id}", methods=["DELETE"])
@api("Delete a run that has ended", status=204, errors=(404, 409))
@json_errors
def delete_run(req: func.HttpRequest) -> func.HttpResponse:
    """A run that has ended, with its node records (409 while it goes on)."""
    service().lifecycle.delete_run(req.route_params["run_id"])
    return func.HttpResponse(status_code=204)


@bp.route(route="experiments/{experiment}", methods=["DELETE"])
@api("Delete an experiment and its runs", response=a.DeletedExperiment, errors=(404, 409))
@json_errors
def delete_experiment(req: func.HttpRequest) -> func.HttpResponse:
    experiment = req.route_params["experiment"]
    return deleted(f"experiment {experiment}", runs=service().lifecycle.delete_experiment(experiment))


@bp.route(route="pipelineendpoints/{name}/versions/{version:int}/clone", methods=["POST"])
@api(
    "A new draft holding a published version",
    response=a.DraftView,
    status=201,
    errors=(404,),
    name_kind="pipeline endpoint",
)
@json_errors
def clone_endpoint_version(req: func.HttpRequest) -> func.HttpResponse:
    """A new draft holding the published version, to change and publish again."""
    found = service().pipelines.clone_endpoint_version(
        req.route_params["name"], int(req.route_params["version"])
    )
    return draft_created(found)


@bp.route(route="pipelineendpoints/{name}/description", methods=["PUT"])
@api(
    "Set a pipeline endpoint's description",
    body=DescriptionRequest,
    response=Endpoint,
    errors=(404,),
    name_kind="pipeline endpoint",
)
@json_errors
def set_endpoint_description(req: func.HttpRequest) -> func.HttpResponse:
    body = parse_body(req, DescriptionRequest)
    endpoint = service().endpoints.set_description(req.route_params["name"], body.description)
    return json_response(endpoint.model_dump(mode="json"))


@bp.route(route="pipelineendpoints/{name}/batch-settings", methods=["GET"])
@api(
    "A pipeline endpoint's file-drop scoring settings",
    response="application/json",
    errors=(404,),
    name_kind="pipeline endpoint",
)
@json_errors
def get_batch_settings(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(service().endpoints.batch_settings(req.route_params["name"]))
