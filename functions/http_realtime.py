"""Real-time endpoints: deploy and manage (function key), score and describe (endpoint key)."""

from __future__ import annotations

import asyncio
from typing import Literal

import azure.functions as func
from pydantic import BaseModel, Field

from core import names
from core.service.realtime import RealtimeSource, swagger
from core.serving import deployments as realtime
from functions import answers as a
from functions.common import caller, json_errors, json_response, parse_body, service
from functions.openapi import api

bp = func.Blueprint()


class DeployRequest(RealtimeSource):
    name: names.RealtimeName
    description: names.Description = ""


class UpdateRequest(RealtimeSource):
    description: names.Description | None = None


class RegenerateRequest(BaseModel):
    key_type: Literal["primary", "secondary", "Primary", "Secondary"] = Field(alias="keyType")

    model_config = {"populate_by_name": True}


def _view(endpoint: realtime.RealtimeEndpoint) -> dict:
    view = endpoint.model_dump(mode="json", by_alias=True)
    view["scoring_uri"] = f"/api/realtime/{endpoint.name}/score"
    view["swagger_uri"] = f"/api/realtime/{endpoint.name}/swagger.json"
    return view


def endpoint_key(req: func.HttpRequest) -> str | None:
    """``Authorization: Bearer <key>`` (as Azure ML) or ``api-key: <key>``."""
    auth = req.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return req.headers.get("api-key")


@bp.route(route="realtime", methods=["POST"])
@api(
    "Deploy a real-time endpoint; the answer shows its keys, once",
    body=DeployRequest,
    response=a.RealtimeDeployed,
    status=201,
    errors=(404, 409),
)
@json_errors
def deploy_realtime(req: func.HttpRequest) -> func.HttpResponse:
    body = parse_body(req, DeployRequest)
    endpoint, keys = service().realtime.deploy(
        body.name,
        RealtimeSource(**body.model_dump(include={"draft_id", "pipeline_endpoint", "pipeline_version"})),
        body.description,
        caller(req),
    )
    return json_response(
        {**_view(endpoint), "keys": keys}, 201, {"Location": f"/api/realtime/{endpoint.name}"}
    )


@bp.route(route="realtime", methods=["GET"])
@api("Real-time endpoints", response=a.RealtimeList)
@json_errors
def list_realtime(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"value": [_view(e) for e in realtime.list_endpoints(service().store)]})


@bp.route(route="realtime/{name}", methods=["GET"])
@api(
    "A real-time endpoint with its input schema",
    response=a.RealtimeView,
    errors=(404,),
    name_kind="real-time endpoint",
)
@json_errors
def get_realtime(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(_view(realtime.get(service().store, req.route_params["name"])))


@bp.route(route="realtime/{name}", methods=["PUT"])
@api(
    "Redeploy another version",
    body=UpdateRequest,
    response=a.RealtimeView,
    errors=(404, 409),
    name_kind="real-time endpoint",
)
@json_errors
def update_realtime(req: func.HttpRequest) -> func.HttpResponse:
    body = parse_body(req, UpdateRequest)
    source = RealtimeSource(**body.model_dump(include={"draft_id", "pipeline_endpoint", "pipeline_version"}))
    endpoint = service().realtime.update(req.route_params["name"], source, body.description, caller(req))
    return json_response(_view(endpoint))


@bp.route(route="realtime/{name}", methods=["DELETE"])
@api("Delete a real-time endpoint", status=204, errors=(404,), name_kind="real-time endpoint")
@json_errors
def delete_realtime(req: func.HttpRequest) -> func.HttpResponse:
    realtime.delete(service().store, req.route_params["name"])
    service().realtime.forget(req.route_params["name"])
    return func.HttpResponse(status_code=204)


@bp.route(route="realtime/{name}/keys/regenerate", methods=["POST"])
@api(
    "A new primary or secondary key",
    body=RegenerateRequest,
    response=a.NewKey,
    errors=(404,),
    name_kind="real-time endpoint",
)
@json_errors
def regenerate_key(req: func.HttpRequest) -> func.HttpResponse:
    """One key at a time, so callers can move to the other key first."""
    kind = parse_body(req, RegenerateRequest).key_type.lower()
    key = realtime.regenerate_key(service().store, req.route_params["name"], kind)  # type: ignore[arg-type]
    service().realtime.forget(req.route_params["name"])
    return json_response({"keyType": kind, "key": key})


@bp.route(route="realtime/{name}/score", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@api(
    "Score rows (each endpoint's swagger.json has its columns)",
    body=a.ScoreRequest,
    response=a.ScoreAnswer,
    errors=(401, 404),
    security="endpoint_key",
    name_kind="real-time endpoint",
)
@json_errors
async def score(req: func.HttpRequest) -> func.HttpResponse:
    """Checked by the endpoint's own keys, not the function key (callers hold only those); the key
    is checked before the body is parsed, and the answer comes serialised.

    A warm endpoint (record, keys and scorer in memory) scores on the event loop: a fraction of a
    millisecond of CPU, cheaper than the hand-off to a thread. Anything that may wait on storage
    (the first call, a record older than the refresh interval) runs on a thread.
    """
    name, key, body = req.route_params["name"], endpoint_key(req), req.get_body()
    loaded = service() if service.cache_info().currsize else None
    if loaded is not None and loaded.realtime.warm(name):
        answer = loaded.realtime.score_json(name, key, body)
    else:
        answer = await asyncio.to_thread(lambda: service().realtime.score_json(name, key, body))
    return func.HttpResponse(answer, status_code=200, mimetype="application/json", headers=_CORS)


_CORS = {"Access-Control-Allow-Origin": "*"}


@bp.route(route="realtime/{name}/test", methods=["POST"])
@api(
    "Score rows as /score does, authorised by the function key (the studio's Test tab)",
    body=a.ScoreRequest,
    response=a.ScoreAnswer,
    errors=(400, 404),
    name_kind="real-time endpoint",
)
@json_errors
def test_score(req: func.HttpRequest) -> func.HttpResponse:
    """The management key stands for the endpoint key here: whoever holds it can read and
    regenerate the endpoint's keys anyway."""
    answer = service().realtime.test_json(req.route_params["name"], req.get_body())
    return func.HttpResponse(answer, status_code=200, mimetype="application/json")


@bp.route(route="realtime/{name}/swagger.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@api(
    "The endpoint's own OpenAPI document",
    response="application/json",
    errors=(401, 404),
    security="endpoint_key",
    name_kind="real-time endpoint",
)
@json_errors
def realtime_swagger(req: func.HttpRequest) -> func.HttpResponse:
    endpoint = service().realtime.authorised(req.route_params["name"], endpoint_key(req))
    base = req.url.split("/api/", 1)[0]
    return json_response(swagger(endpoint, base))
