"""Components, pipeline drafts, validation, run submission and run inspection."""
from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

from core import drafts
from core.errors import InvalidRequest, Problem
from core.graph import Pipeline
from core.runs import RunRecord
from core.service import Job, PipelineInputRequest, Submission
from functions.common import (
    build, cacheable_json, caller, json_errors, json_response, log, parse_body, parse_json, service,
)
from functions.orchestration import ORCHESTRATOR

bp = df.Blueprint()


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"status": "ok"})


@bp.route(route="components", methods=["GET"])
@json_errors
def list_components(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"value": service().components()})


# ---- drafts ------------------------------------------------------------------------------------
def draft_view(draft, pipeline: Pipeline | None = None, problems: list[Problem] | None = None) -> dict:
    view = draft.model_dump(mode="json")
    if pipeline is not None:
        view["pipeline"] = pipeline.model_dump(mode="json")
    if problems is not None:
        view["valid"] = not problems
        view["problems"] = [p.model_dump(exclude_none=True) for p in problems]
    return view


@bp.route(route="pipelines", methods=["GET"])
@json_errors
def list_drafts(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"value": [draft_view(d) for d in drafts.list_drafts(service().store)]})


@bp.route(route="pipelines", methods=["POST"])
@json_errors
def create_draft(req: func.HttpRequest) -> func.HttpResponse:
    pipeline = parse_body(req, Pipeline)
    draft, problems = service().create_draft(pipeline)
    return json_response(draft_view(draft, pipeline, problems), 201,
                         {"Location": f"/api/pipelines/{draft.id}", "ETag": draft.etag or ""})


@bp.route(route="pipelines/{draft_id}", methods=["GET"])
@json_errors
def get_draft(req: func.HttpRequest) -> func.HttpResponse:
    draft, pipeline = service().get_draft(req.route_params["draft_id"])
    return json_response(draft_view(draft, pipeline, service().validate(pipeline)),
                         headers={"ETag": draft.etag or ""})


@bp.route(route="pipelines/{draft_id}", methods=["PUT"])
@json_errors
def update_draft(req: func.HttpRequest) -> func.HttpResponse:
    pipeline = parse_body(req, Pipeline)
    draft, problems = service().update_draft(req.route_params["draft_id"], pipeline,
                                             req.headers.get("if-match"))
    return json_response(draft_view(draft, pipeline, problems), headers={"ETag": draft.etag or ""})


@bp.route(route="pipelines/{draft_id}", methods=["DELETE"])
@json_errors
def delete_draft(req: func.HttpRequest) -> func.HttpResponse:
    drafts.delete(service().store, req.route_params["draft_id"])
    return func.HttpResponse(status_code=204)


@bp.route(route="pipelines/{draft_id}/parameters", methods=["POST"])
@json_errors
def add_pipeline_parameter(req: func.HttpRequest) -> func.HttpResponse:
    """The designer's "set as pipeline parameter" (also for a dataset node's ``name``)."""
    request = parse_body(req, PipelineInputRequest)
    draft, problems = service().add_pipeline_parameter(req.route_params["draft_id"], request,
                                                       req.headers.get("if-match"))
    return json_response(draft_view(draft, service().get_draft(draft.id)[1], problems),
                         headers={"ETag": draft.etag or ""})


@bp.route(route="validate", methods=["POST"])
@json_errors
def validate_pipeline(req: func.HttpRequest) -> func.HttpResponse:
    problems = service().validate(parse_body(req, Pipeline))
    return json_response({"valid": not problems,
                          "problems": [p.model_dump(exclude_none=True) for p in problems]})


# ---- runs --------------------------------------------------------------------------------------
@bp.route(route="experiments/{experiment}/runs", methods=["POST"])
@bp.durable_client_input(client_name="client")
@json_errors
async def submit_run(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    submission = build(Submission, {**parse_json(req), "experiment": req.route_params["experiment"]})
    run, job = service().submit(submission, caller(req))
    return await start_run(client, run, job)


async def start_run(client: df.DurableOrchestrationClient, run: RunRecord, job: Job) -> func.HttpResponse:
    """Start the orchestration (instance id = run id) and answer 202 as Azure ML does."""
    try:
        await client.start_new(ORCHESTRATOR, instance_id=run.run_id, client_input=job.model_dump(mode="json"))
    except Exception as exc:
        log.exception("could not start run %s", run.run_id)
        service().start_failed(run, f"The run could not be started: {exc}")
        raise
    status_url = f"/api/runs/{run.run_id}"
    return json_response({"Id": run.run_id, "run_id": run.run_id, "experiment": run.experiment,
                          "RunHistoryExperimentName": run.experiment,
                          "PipelineEndpointName": run.endpoint, "PipelineVersion": run.endpoint_version,
                          "Status": {"StatusCode": run.status.value}, "status_url": status_url},
                         202, {"Location": status_url})


@bp.route(route="experiments", methods=["GET"])
@json_errors
def list_experiments(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"value": service().experiments()})


@bp.route(route="experiments/{experiment}/runs", methods=["GET"])
@json_errors
def list_runs(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"value": service().list_runs(req.route_params["experiment"])})


@bp.route(route="runs/{run_id}", methods=["GET"])
@json_errors
def get_run(req: func.HttpRequest) -> func.HttpResponse:
    return cacheable_json(req, service().get_run(req.route_params["run_id"]))


@bp.route(route="runs/{run_id}/clone", methods=["POST"])
@json_errors
def clone_run(req: func.HttpRequest) -> func.HttpResponse:
    draft, problems = service().clone_run(req.route_params["run_id"])
    return json_response(draft_view(draft, service().get_draft(draft.id)[1], problems), 201,
                         {"Location": f"/api/pipelines/{draft.id}"})


@bp.route(route="runs/{run_id}/nodes/{node_id}/plots/{name}", methods=["GET"])
@json_errors
def get_node_plot(req: func.HttpRequest) -> func.HttpResponse:
    png = service().node_plot(req.route_params["run_id"], req.route_params["node_id"], req.route_params["name"])
    return func.HttpResponse(png, mimetype="image/png")


@bp.route(route="runs/{run_id}/nodes/{node_id}", methods=["GET"])
@json_errors
def get_run_node(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(service().get_node(req.route_params["run_id"], req.route_params["node_id"]))


@bp.route(route="runs/{run_id}/nodes/{node_id}/outputs/{port}", methods=["GET"])
@json_errors
def get_node_output(req: func.HttpRequest) -> func.HttpResponse:
    fmt = req.params.get("format")
    rows_param = req.params.get("rows")
    if fmt not in (None, "json", "csv") or (rows_param is not None and not rows_param.isdigit()):
        raise InvalidRequest("Bad query", [Problem(code="invalid_query", field="format/rows",
                                                   message="format is json or csv; rows is a whole number")])
    df = service().node_output(req.route_params["run_id"], req.route_params["node_id"],
                               req.route_params["port"], int(rows_param) if rows_param else None)
    if (fmt or df.attrs.get("format")) == "csv":  # Convert to CSV makes CSV the default
        return func.HttpResponse(df.to_csv(index=False), mimetype="text/csv")
    return func.HttpResponse(df.to_json(orient="split", index=False), mimetype="application/json")
