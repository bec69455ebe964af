"""Components, pipeline drafts, validation, run submission and run inspection."""

from __future__ import annotations

from typing import Literal

import azure.durable_functions as df
import azure.functions as func
from pydantic import BaseModel, Field

from core.execution.job import Job
from core.pipelines.document import Pipeline
from core.registry.runs import TERMINAL, RunRecord
from core.service.pipelines import Drafted, PipelineInputRequest
from core.service.runs import RunQuery, RunRequest, Submission, run_view
from core.tables.profile import TableProfile
from functions import answers as a
from functions import links, run_watch
from functions.common import (
    build,
    cacheable_json,
    caller,
    json_errors,
    json_response,
    log,
    parse_body,
    parse_json,
    service,
)
from functions.http_export import pipeline_body, pipeline_download
from functions.openapi import api, parse_query
from functions.orchestration import ORCHESTRATOR

bp = df.Blueprint()


class OutputQuery(BaseModel):
    format: Literal["json", "csv"] | None = None
    rows: int | None = Field(None, ge=0, le=10_000_000, description="At most this many rows")


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@api("Liveness", response=a.Health, errors=(), security="anonymous")
def health(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"status": "ok"})


@bp.route(route="components", methods=["GET"])
@api("The component catalogue", response=a.ComponentList)
@json_errors
def list_components(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"value": service().pipelines.components()})


# ---- drafts ------------------------------------------------------------------------------------
def draft_view(found: Drafted) -> dict:
    """A draft with its document and problems, as every draft route answers it."""
    return {
        **found.draft.model_dump(mode="json"),
        "pipeline": found.pipeline.model_dump(mode="json"),
        "valid": not found.problems,
        "problems": [p.model_dump(exclude_none=True) for p in found.problems],
    }


def draft_created(found: Drafted, etag: bool = False) -> func.HttpResponse:
    """201 with the new draft and where it lives (and its ETag, for a draft saved from a body)."""
    headers = {"Location": links.draft(found.draft.id)}
    if etag:
        headers["ETag"] = found.draft.etag or ""
    return json_response(draft_view(found), 201, headers)


def draft_saved(found: Drafted) -> func.HttpResponse:
    return json_response(draft_view(found), headers={"ETag": found.draft.etag or ""})


@bp.route(route="pipelines", methods=["GET"])
@api("Pipeline drafts, newest first", response=a.DraftList)
@json_errors
def list_drafts(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"value": [d.model_dump(mode="json") for d in service().pipelines.list_drafts()]})


@bp.route(route="pipelines", methods=["POST"])
@api(
    "Save a new draft (saved even when invalid; the answer lists the problems)",
    body=Pipeline,
    response=a.DraftView,
    status=201,
)
@json_errors
def create_draft(req: func.HttpRequest) -> func.HttpResponse:
    return draft_created(service().pipelines.create_draft(pipeline_body(req)), etag=True)


@bp.route(route="pipelines/{draft_id}", methods=["GET"])
@api("A draft, its document and its problems", response=a.DraftView, errors=(404,))
@json_errors
def get_draft(req: func.HttpRequest) -> func.HttpResponse:
    if req.params.get("format", "json") != "json":  # yaml, python
        return pipeline_download(service().pipelines.get_draft(req.route_params["draft_id"])[1], req)
    return draft_saved(service().pipelines.open_draft(req.route_params["draft_id"]))


@bp.route(route="pipelines/{draft_id}", methods=["PUT"])
@api(
    "Replace a draft's document",
    body=Pipeline,
    response=a.DraftView,
    errors=(404, 412),
    headers=("If-Match",),
)
@json_errors
def update_draft(req: func.HttpRequest) -> func.HttpResponse:
    found = service().pipelines.update_draft(
        req.route_params["draft_id"], pipeline_body(req), req.headers.get("if-match")
    )
    return draft_saved(found)


@bp.route(route="pipelines/{draft_id}", methods=["DELETE"])
@api("Delete a draft", status=204, errors=(404,))
@json_errors
def delete_draft(req: func.HttpRequest) -> func.HttpResponse:
    service().pipelines.delete_draft(req.route_params["draft_id"])
    return func.HttpResponse(status_code=204)


@bp.route(route="pipelines/{draft_id}/parameters", methods=["POST"])
@api(
    "Set a node parameter as a new pipeline parameter",
    body=PipelineInputRequest,
    response=a.DraftView,
    errors=(404, 409, 412),
    headers=("If-Match",),
)
@json_errors
def add_pipeline_parameter(req: func.HttpRequest) -> func.HttpResponse:
    """The designer's "set as pipeline parameter" (also for a dataset node's ``name``)."""
    request = parse_body(req, PipelineInputRequest)
    found = service().pipelines.add_pipeline_parameter(
        req.route_params["draft_id"], request, req.headers.get("if-match")
    )
    return draft_saved(found)


@bp.route(route="validate", methods=["POST"])
@api("Validate a document without saving it", body=Pipeline, response=a.Validation)
@json_errors
def validate_pipeline(req: func.HttpRequest) -> func.HttpResponse:
    problems = service().pipelines.validate(parse_body(req, Pipeline))
    return json_response(
        {"valid": not problems, "problems": [p.model_dump(exclude_none=True) for p in problems]}
    )


# ---- runs --------------------------------------------------------------------------------------
@bp.route(route="experiments/{experiment}/runs", methods=["POST"])
@bp.durable_client_input(client_name="client")
@api("Submit a run", body=RunRequest, response=a.RunAccepted, status=202, errors=(404,))
@json_errors
async def submit_run(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    submission = build(Submission, {**parse_json(req), "experiment": req.route_params["experiment"]})
    run, job = service().runs.submit(submission, caller(req))
    return await start_run(client, run, job)


async def start_run(client: df.DurableOrchestrationClient, run: RunRecord, job: Job) -> func.HttpResponse:
    """Start the orchestration (instance id = run id) and answer 202 as Azure ML does.

    A run whose every node was reused at submit is already finished: nothing is started and
    the answer says ``Finished``.
    """
    if run.status not in TERMINAL:
        try:
            await client.start_new(
                ORCHESTRATOR, instance_id=run.run_id, client_input=job.model_dump(mode="json")
            )
        except Exception as exc:
            log.exception("could not start run %s", run.run_id)
            service().runs.start_failed(run, f"The run could not be started: {exc}")
            raise
    return json_response(links.run(run_view(run)), 202, {"Location": links.run_status(run.run_id)})


@bp.route(route="runs/{run_id}/cancel", methods=["POST"])
@bp.durable_client_input(client_name="client")
@api("Cancel a queued or running run", response=a.RunView, errors=(404, 409))
@json_errors
async def cancel_run(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Stop a queued or running run; its unfinished nodes end ``Canceled``. 409 once it has ended."""
    run = service().runs.cancelable_run(req.route_params["run_id"])
    try:
        await client.terminate(run.run_id, run_watch.CANCEL_REASON)
    except Exception:
        log.info("run %s had no running orchestration to terminate", run.run_id)
    return json_response(links.run(service().runs.record_canceled(run.run_id, caller(req))))


@bp.route(route="experiments", methods=["GET"])
@api("Experiments and their run counts", response=a.ExperimentList)
@json_errors
def list_experiments(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"value": service().runs.experiments()})


@bp.route(route="experiments/{experiment}/runs", methods=["GET"])
@bp.durable_client_input(client_name="client")
@api("An experiment's runs, newest first", response=a.RunList)
@json_errors
async def list_runs(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    views = service().runs.list_runs(req.route_params["experiment"])
    return json_response({"value": links.runs(await run_watch.settle_all(client, views))})


@bp.route(route="runs", methods=["GET"])
@bp.durable_client_input(client_name="client")
@api("Runs of every experiment, newest first, one page", response=a.RunPage, query=RunQuery)
@json_errors
async def find_runs(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """``?status=&experiment=&endpoint=&top=&skip=``: runs of every experiment, newest first, paged."""
    query = parse_query(req, RunQuery)
    page = service().runs.find_runs(query)
    return json_response({**page, "value": links.runs(await run_watch.settle_all(client, page["value"]))})


@bp.route(route="runs/{run_id}", methods=["GET"])
@bp.durable_client_input(client_name="client")
@api("A run with its nodes", response=a.RunView, errors=(404,))
@json_errors
async def get_run(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    view = service().runs.get_run(req.route_params["run_id"])
    return cacheable_json(req, links.run(await run_watch.settle(client, view)))


@bp.route(route="runs/{run_id}/clone", methods=["POST"])
@api("A new draft holding exactly what the run ran", response=a.DraftView, status=201, errors=(404,))
@json_errors
def clone_run(req: func.HttpRequest) -> func.HttpResponse:
    return draft_created(service().pipelines.clone_run(req.route_params["run_id"]))


@bp.route(route="runs/{run_id}/nodes/{node_id}/plots/{name}", methods=["GET"])
@api(
    "A node's plot (drawn from the node's scored inputs the first time it is asked for)",
    response="image/png",
    errors=(404, 409),
    name_kind="plot",
)
@json_errors
def get_node_plot(req: func.HttpRequest) -> func.HttpResponse:
    png = service().runs.node_plot(
        req.route_params["run_id"], req.route_params["node_id"], req.route_params["name"]
    )
    return func.HttpResponse(png, mimetype="image/png")


@bp.route(route="runs/{run_id}/nodes/{node_id}", methods=["GET"])
@api("One node of a run", response=a.NodeView, errors=(404,))
@json_errors
def get_run_node(req: func.HttpRequest) -> func.HttpResponse:
    run_id = req.route_params["run_id"]
    return json_response(links.node(service().runs.get_node(run_id, req.route_params["node_id"]), run_id))


@bp.route(route="runs/{run_id}/nodes/{node_id}/outputs/{port}/profile", methods=["GET"])
@api("Each column of a dataset output profiled", response=TableProfile, errors=(404,))
@json_errors
def get_node_output_profile(req: func.HttpRequest) -> func.HttpResponse:
    """Each column's type, missing and unique counts, statistics and histogram."""
    view = service().runs.output_profile(
        req.route_params["run_id"], req.route_params["node_id"], req.route_params["port"]
    )
    return json_response(view.model_dump(mode="json"))


@bp.route(route="runs/{run_id}/nodes/{node_id}/outputs/{port}", methods=["GET"])
@api(
    "A dataset output (JSON in split orientation, or CSV)",
    response="application/json",
    query=OutputQuery,
    errors=(404,),
)
@json_errors
def get_node_output(req: func.HttpRequest) -> func.HttpResponse:
    query = parse_query(req, OutputQuery)
    df = service().runs.node_output(
        req.route_params["run_id"], req.route_params["node_id"], req.route_params["port"], query.rows
    )
    if (query.format or df.attrs.get("format")) == "csv":  # Convert to CSV makes CSV the default
        return func.HttpResponse(df.to_csv(index=False), mimetype="text/csv")
    return func.HttpResponse(df.to_json(orient="split", index=False), mimetype="application/json")
