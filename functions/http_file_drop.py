"""File-drop scoring through the API: upload into ``batch-input/{endpoint}/``, follow, download."""

from __future__ import annotations

import azure.functions as func

from core.serving.file_drop import CONTENT_TYPES, DroppedFile
from functions import answers as a
from functions.common import json_errors, json_response, service
from functions.openapi import api

bp = func.Blueprint()


@bp.route(route="pipelineendpoints/{name}/files", methods=["GET"])
@api(
    "The files dropped for an endpoint",
    response=a.DroppedFileList,
    errors=(404,),
    name_kind="pipeline endpoint",
)
@json_errors
def list_dropped_files(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"value": service().endpoints.dropped_files(req.route_params["name"])})


@bp.route(route="pipelineendpoints/{name}/files/{file}", methods=["PUT"])
@api(
    "Drop a CSV or Parquet file to be scored",
    body="application/octet-stream",
    response=DroppedFile,
    status=202,
    errors=(404,),
    name_kind="pipeline endpoint",
)
@json_errors
def drop_file(req: func.HttpRequest) -> func.HttpResponse:
    """The body is the CSV or Parquet file; it is scored as if dropped into the container."""
    name, file = req.route_params["name"], req.route_params["file"]
    found = service().endpoints.drop_file(name, file, req.get_body())
    return json_response(
        found.model_dump(mode="json"), 202, {"Location": f"/api/pipelineendpoints/{name}/files/{file}"}
    )


@bp.route(route="pipelineendpoints/{name}/files/{file}", methods=["GET"])
@api(
    "A dropped file and the run scoring it",
    response=a.DroppedFileView,
    errors=(404,),
    name_kind="pipeline endpoint",
)
@json_errors
def get_dropped_file(req: func.HttpRequest) -> func.HttpResponse:
    name, file = req.route_params["name"], req.route_params["file"]
    found = service().endpoints.dropped_file(name, file).model_dump(mode="json")
    if found["predictions"]:
        found["predictions_url"] = f"/api/pipelineendpoints/{name}/files/{file}/predictions"
    return json_response(found)


@bp.route(route="pipelineendpoints/{name}/files/{file}/predictions", methods=["GET"])
@api(
    "A dropped file's predictions, in the file's own format",
    errors=(404,),
    name_kind="pipeline endpoint",
    response={media: None for media in CONTENT_TYPES.values()},
)
@json_errors
def get_dropped_file_predictions(req: func.HttpRequest) -> func.HttpResponse:
    data, content_type = service().endpoints.dropped_file_predictions(
        req.route_params["name"], req.route_params["file"]
    )
    return func.HttpResponse(data, mimetype=content_type)
