"""A small Functions app exercising what devhost must serve (imported by name by the
activity worker processes, so it lives in a module, not inside a test)."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func
from azure.storage.blob import BlobServiceClient

bp = df.Blueprint()

# Written to by functions that run in the test process (thread workers, blob poller).
BLOB_CALLS: list[tuple[str, bytes, str]] = []
SLOW_STARTED = threading.Event()
_FLIP = {"value": False}


# -- HTTP ---------------------------------------------------------------------------
@bp.route(route="orchestrators/{name}", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def start_orchestration(req: func.HttpRequest, client: df.DurableOrchestrationClient):
    body = req.get_json() if req.get_body() else None
    instance_id = await client.start_new(
        req.route_params["name"], instance_id=req.params.get("instanceId"), client_input=body
    )
    return client.create_check_status_response(req, instance_id)


@bp.route(route="orchestrations/{instance_id}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def orchestration_status(req: func.HttpRequest, client: df.DurableOrchestrationClient):
    status = await client.get_status(req.route_params["instance_id"])
    if not status:
        return func.HttpResponse(status_code=404)
    return func.HttpResponse(json.dumps(status.to_json()), mimetype="application/json")


@bp.route(
    route="orchestrations/{instance_id}/terminate", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS
)
@bp.durable_client_input(client_name="client")
async def terminate_orchestration(req: func.HttpRequest, client: df.DurableOrchestrationClient):
    await client.terminate(req.route_params["instance_id"], req.params.get("reason", ""))
    return func.HttpResponse(status_code=202)


@bp.route(route="hello/{name}", methods=["GET", "POST"])  # FUNCTION auth level (the app default)
def hello(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(
            {
                "name": req.route_params["name"],
                "params": dict(req.params),
                "method": req.method,
                "url": req.url,
                "agent": req.headers.get("x-test-agent"),
                "body": req.get_body().decode(),
                "function": context.function_name,
            }
        ),
        mimetype="application/json",
        headers={"x-served-by": "hello"},
    )


@bp.route(route="public/ping", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def ping(req: func.HttpRequest) -> str:
    return "pong"


@bp.route(route="items/{id:int}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def item_by_id(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"item {int(req.route_params['id'])}")


@bp.route(route="items/special", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def special_item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("special")


@bp.route(route="items/{name}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def item_by_name(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"named {req.route_params['name']}")


@bp.route(route="files/{*path}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def files(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(req.route_params.get("path", ""))


@bp.route(route="boom", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise ValueError("kaboom")


@bp.route(route="slow", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def slow(req: func.HttpRequest) -> func.HttpResponse:
    SLOW_STARTED.set()
    time.sleep(float(req.params.get("seconds", "1")))
    return func.HttpResponse("slept")


@bp.route(route="admin-only", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
def admin_only(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(status_code=204)


# -- orchestrators ------------------------------------------------------------------
@bp.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    """Input {"items": [...], "seconds": s}: one retried `sleepy` activity per item."""
    job = context.get_input()
    context.set_custom_status({"stage": "fan-out", "total": len(job["items"])})
    retry = df.RetryOptions(first_retry_interval_in_milliseconds=100, max_number_of_attempts=2)
    tasks = [
        context.call_activity_with_retry("sleepy", retry, {"item": item, "seconds": job["seconds"]})
        for item in job["items"]
    ]
    results = yield context.task_all(tasks)
    context.set_custom_status({"stage": "done", "total": len(results)})
    return results


@bp.orchestration_trigger(context_name="context")
def steps(context: df.DurableOrchestrationContext):
    """Input {"items": [...], "seconds": s}: one `sleepy` activity per item, one after another."""
    job = context.get_input()
    results = []
    for item in job["items"]:
        results.append((yield context.call_activity("sleepy", {"item": item, "seconds": job["seconds"]})))
    return results


@bp.orchestration_trigger(context_name="context")
def with_retry(context: df.DurableOrchestrationContext):
    """Input {"counter": path, "failures": n, "attempts": m}."""
    job = context.get_input()
    retry = df.RetryOptions(first_retry_interval_in_milliseconds=50, max_number_of_attempts=job["attempts"])
    return (yield context.call_activity_with_retry("flaky", retry, job))


@bp.orchestration_trigger(context_name="context")
def catches_failure(context: df.DurableOrchestrationContext):
    try:
        yield context.call_activity("always_fails", "caught")
    except Exception as error:
        return str(error).splitlines()[0]


@bp.orchestration_trigger(context_name="context")
def lets_failure_through(context: df.DurableOrchestrationContext):
    yield context.call_activity("always_fails", "uncaught")
    return "unreachable"


@bp.orchestration_trigger(context_name="context")
def nondeterministic(context: df.DurableOrchestrationContext):
    _FLIP["value"] = not _FLIP["value"]  # BAD: differs between replays
    yield context.call_activity("echo", "a" if _FLIP["value"] else "b")
    yield context.call_activity("echo", "c")
    return "done"


@bp.orchestration_trigger(context_name="context")
def timeout_race(context: df.DurableOrchestrationContext):
    """An hour-long timer against a short activity; then an hour-long sleep."""
    deadline = context.current_utc_datetime + dt.timedelta(hours=1)
    timer = context.create_timer(deadline)
    work = context.call_activity("echo", "fast")
    winner = yield context.task_any([work, timer])
    if winner == work:
        timer.cancel()
    started = context.current_utc_datetime
    yield context.create_timer(started + dt.timedelta(hours=1))
    return {
        "winner": winner.result,
        "slept_seconds": (context.current_utc_datetime - started).total_seconds(),
    }


@bp.orchestration_trigger(context_name="context")
def counter(context: df.DurableOrchestrationContext):
    value = context.get_input()
    if value < 3:
        yield context.call_activity("echo", value)
        context.continue_as_new(value + 1)
        return None
    return value


@bp.orchestration_trigger(context_name="context")
def calls_missing_activity(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("no_such_activity", 1))


@bp.orchestration_trigger(context_name="context")
def waits_for_event(context: df.DurableOrchestrationContext):
    return (yield context.wait_for_external_event("Approval"))


# -- activities ---------------------------------------------------------------------
@bp.activity_trigger(input_name="job")
def sleepy(job: dict) -> dict:
    start = time.time()
    time.sleep(job["seconds"])
    return {"item": job["item"], "pid": os.getpid(), "start": start, "end": time.time()}


@bp.activity_trigger(input_name="job")
def flaky(job: dict) -> str:
    """Fails the first ``failures`` calls; the count lives in a file so that it is
    shared by every worker process."""
    counter_file = Path(job["counter"])
    with counter_file.open("a") as handle:
        handle.write("x")
    attempt = len(counter_file.read_text())
    if attempt <= job["failures"]:
        raise RuntimeError(f"flaky failure {attempt}")
    return f"ok after {attempt} attempts"


@bp.activity_trigger(input_name="message")
def always_fails(message: str) -> str:
    raise ValueError(f"always fails: {message}")


@bp.activity_trigger(input_name="value")
async def echo(value):
    return value


# -- blob trigger -------------------------------------------------------------------
@bp.blob_trigger(arg_name="blob", path="batch-input/{endpoint}/{name}", connection="AzureWebJobsStorage")
def on_batch_input(blob: func.InputStream) -> None:
    """Copies each input blob to batch-output/{path}/{unique id}, so that the number
    of outputs counts the invocations even when the function runs in another process."""
    data = blob.read()
    BLOB_CALLS.append((blob.name, data, blob.uri))
    if data == b"fail":
        raise RuntimeError("refusing this blob")
    service = BlobServiceClient.from_connection_string(os.environ["AzureWebJobsStorage"])  # noqa: SIM112 - the Functions host's name
    output = service.get_container_client("batch-output")
    if not output.exists():
        output.create_container()
    path = blob.name.split("/", 1)[1]
    output.upload_blob(f"{path}/{time.time_ns()}", data)


@bp.blob_trigger(arg_name="blob", path="start-input/{name}.json", connection="AzureWebJobsStorage")
@bp.durable_client_input(client_name="client")
async def start_from_blob(blob: func.InputStream, client: df.DurableOrchestrationClient) -> None:
    """Starts fan_out with the blob's JSON as input and the blob's name as instance id."""
    instance_id = blob.name.rsplit("/", 1)[1].removesuffix(".json")
    await client.start_new("fan_out", instance_id=instance_id, client_input=json.loads(blob.read()))


app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(bp)
