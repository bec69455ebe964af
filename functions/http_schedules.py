"""Schedules of pipeline endpoints: create, list, get, replace, enable, disable, delete."""

from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

from core.schedules.records import ScheduleSpec
from functions import answers as a
from functions.common import caller, json_errors, json_response, parse_body, service
from functions.openapi import api

bp = df.Blueprint()
BASE = "pipelineendpoints/{name}/schedules"


@bp.route(route=BASE, methods=["POST"])
@api(
    "Create a schedule",
    body=ScheduleSpec,
    response=a.ScheduleView,
    status=201,
    errors=(404,),
    name_kind="pipeline endpoint",
)
@json_errors
def create_schedule(req: func.HttpRequest) -> func.HttpResponse:
    """A new schedule; it first runs at its first due time (``run_now`` for one run at once)."""
    view = service().schedules.create(req.route_params["name"], parse_body(req, ScheduleSpec), caller(req))
    return json_response(view, 201, {"Location": f"/api/{BASE.format(name=view['endpoint'])}/{view['id']}"})


@bp.route(route=BASE, methods=["GET"])
@api("An endpoint's schedules", response=a.ScheduleList, errors=(404,), name_kind="pipeline endpoint")
@json_errors
def list_schedules(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"value": service().schedules.list(req.route_params["name"])})


@bp.route(route=BASE + "/{schedule_id}", methods=["GET"])
@api("A schedule and its last runs", response=a.ScheduleView, errors=(404,), name_kind="pipeline endpoint")
@json_errors
def get_schedule(req: func.HttpRequest) -> func.HttpResponse:
    p = req.route_params
    return json_response(service().schedules.get(p["name"], p["schedule_id"]))


@bp.route(route=BASE + "/{schedule_id}", methods=["PUT"])
@api(
    "Replace a schedule",
    body=ScheduleSpec,
    response=a.ScheduleView,
    errors=(404, 412),
    name_kind="pipeline endpoint",
    headers=("If-Match",),
)
@json_errors
def replace_schedule(req: func.HttpRequest) -> func.HttpResponse:
    p = req.route_params
    return json_response(
        service().schedules.replace(
            p["name"], p["schedule_id"], parse_body(req, ScheduleSpec), req.headers.get("if-match")
        )
    )


@bp.route(route=BASE + "/{schedule_id}/enable", methods=["POST"])
@api("Enable a schedule", response=a.ScheduleView, errors=(404,), name_kind="pipeline endpoint")
@json_errors
def enable_schedule(req: func.HttpRequest) -> func.HttpResponse:
    p = req.route_params
    return json_response(service().schedules.set_status(p["name"], p["schedule_id"], "Active"))


@bp.route(route=BASE + "/{schedule_id}/disable", methods=["POST"])
@api("Disable a schedule", response=a.ScheduleView, errors=(404,), name_kind="pipeline endpoint")
@json_errors
def disable_schedule(req: func.HttpRequest) -> func.HttpResponse:
    p = req.route_params
    return json_response(service().schedules.set_status(p["name"], p["schedule_id"], "Disabled"))


@bp.route(route=BASE + "/{schedule_id}", methods=["DELETE"])
@api("Delete a schedule", status=204, errors=(404,), name_kind="pipeline endpoint")
@json_errors
def delete_schedule(req: func.HttpRequest) -> func.HttpResponse:
    p = req.route_params
    service().schedules.delete(p["name"], p["schedule_id"])
    return func.HttpResponse(status_code=204)
