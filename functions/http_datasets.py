"""Datasets: register a CSV upload as a new version, list, get; built-in samples."""

from __future__ import annotations

import azure.functions as func
from pydantic import BaseModel, Field

from core.registry.datasets import DatasetVersion
from core.tables import profile
from functions import answers as a
from functions.common import json_errors, json_response, row_count, service
from functions.openapi import api, parse_query

bp = func.Blueprint()


class PreviewQuery(BaseModel):
    rows: int = Field(50, ge=1, le=profile.PREVIEW_MAX_ROWS)


class DatasetQuery(BaseModel):
    # It travels in the URL: bounded by what a request line can carry once percent-encoded.
    description: str = Field("", max_length=1000)


def _view(d: DatasetVersion) -> dict:
    return {**d.model_dump(mode="json"), "ref": d.ref}


@bp.route(route="datasets", methods=["GET"])
@api("The latest version of every dataset", response=a.DatasetList)
@json_errors
def list_datasets(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"value": [_view(d) for d in service().datasets.latest()]})


@bp.route(route="datasets/{name}", methods=["POST"])
@api(
    "Register a CSV upload as the next version",
    body="text/csv",
    response=a.DatasetView,
    status=201,
    query=DatasetQuery,
    name_kind="dataset",
)
@json_errors
def register_dataset(req: func.HttpRequest) -> func.HttpResponse:
    query = parse_query(req, DatasetQuery)
    entry = service().datasets.register_csv(req.route_params["name"], req.get_body(), query.description)
    return json_response(_view(entry), 201)


@bp.route(route="datasets/{name}", methods=["GET"])
@api("A dataset with all its versions", response=a.DatasetDetail, errors=(404,), name_kind="dataset")
@json_errors
def get_dataset(req: func.HttpRequest) -> func.HttpResponse:
    found = service().datasets.versions(req.route_params["name"])
    return json_response({**_view(found[-1]), "versions": [_view(d) for d in found]})


@bp.route(route="datasets/{name}/versions/{version:int}", methods=["GET"])
@api("One version of a dataset", response=a.DatasetView, errors=(404,), name_kind="dataset")
@json_errors
def get_dataset_version(req: func.HttpRequest) -> func.HttpResponse:
    entry = service().datasets.get(req.route_params["name"], int(req.route_params["version"]))
    return json_response(_view(entry))


@bp.route(route="datasets/{name}/versions/{version:int}/preview", methods=["GET"])
@api(
    "The first rows of a dataset version",
    response=profile.Preview,
    errors=(404,),
    query=PreviewQuery,
    name_kind="dataset",
)
@json_errors
def preview_dataset_version(req: func.HttpRequest) -> func.HttpResponse:
    """The first rows (``?rows=``, default 50, at most 1,000): only those are read."""
    rows = row_count(req, default=50, most=profile.PREVIEW_MAX_ROWS)
    view = service().datasets.preview(req.route_params["name"], int(req.route_params["version"]), rows)
    return json_response(view.model_dump(mode="json"))


@bp.route(route="datasets/{name}/versions/{version:int}/profile", methods=["GET"])
@api(
    "Each column's type, counts, statistics and histogram",
    response=profile.TableProfile,
    errors=(404,),
    name_kind="dataset",
)
@json_errors
def profile_dataset_version(req: func.HttpRequest) -> func.HttpResponse:
    view = service().datasets.profile(req.route_params["name"], int(req.route_params["version"]))
    return json_response(view.model_dump(mode="json"))


@bp.route(route="samples", methods=["GET"])
@api("The built-in sample datasets", response=a.SampleList)
@json_errors
def list_samples(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"value": service().datasets.samples()})


@bp.route(route="samples/{name}", methods=["POST"])
@api("Register a built-in sample", response=a.DatasetView, status=201, errors=(404,), name_kind="dataset")
@json_errors
def register_sample(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(_view(service().datasets.register_sample(req.route_params["name"])), 201)
