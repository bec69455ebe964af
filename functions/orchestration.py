"""The orchestrators and their activities: pipeline runs, and blob-upload batch scoring.

Orchestrators are deterministic and do no I/O: ``run_pipeline`` walks the plan's stages, fans
each stage out as one activity per node and stops at the first failed node; ``score_file`` fans
a file's mini-batches out and joins them. Activities do all the I/O through ``core.service``.
Only references (artifact names) travel through the history.
"""
from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from core.batch import BatchRequest, Chunk, ChunkResult, Prepared
from core.executor import NodeRequest
from core.minibatch import ChunkOutcome
from core.service import Job
from functions.common import service

ORCHESTRATOR = "run_pipeline"
SCORE_FILE = "score_file"
# Infrastructure faults (storage hiccups) are retried; a component's refusal is not an
# exception, so it is never retried.
RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=2_000, max_number_of_attempts=3)

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context", orchestration=ORCHESTRATOR)
def run_pipeline(context: df.DurableOrchestrationContext):
    job = Job.model_validate(context.get_input())
    yield context.call_activity("run_started", {"experiment": job.experiment, "run_id": job.run_id})
    outputs: dict[str, dict[str, str]] = {}
    done, total = 0, job.plan.node_count
    failed_node: str | None = None
    error: str | None = None
    for number, stage in enumerate(job.plan.stages, start=1):
        context.set_custom_status({"stage": number, "stages": len(job.plan.stages), "running": stage,
                                   "nodes_done": done, "nodes_total": total})
        tasks = [context.call_activity_with_retry("run_node", RETRY,
                                                  job.request(node_id, outputs).model_dump(mode="json"))
                 for node_id in stage]
        try:
            results = yield context.task_all(tasks)
            results = yield from _mini_batches(context, job, outputs, results)
        except Exception as exc:  # retries exhausted on an infrastructure fault
            failed_node, error = ",".join(stage), str(exc).split("\n")[0]
            break
        for result in results:
            outputs[result["node_id"]] = result["outputs"]
            if result["status"] == "Failed" and failed_node is None:
                failed_node, error = result["node_id"], result["error"]
        done += len(stage)
        if failed_node:
            break
    context.set_custom_status({"stage": "finished", "nodes_done": done, "nodes_total": total,
                               "failed_node": failed_node})
    yield context.call_activity("run_finished", {"run_id": job.run_id, "failed_node": failed_node,
                                                 "error": error})
    return {"run_id": job.run_id, "status": "Failed" if error else "Finished", "failed_node": failed_node}


def _mini_batches(context: df.DurableOrchestrationContext, job: Job, outputs: dict[str, dict[str, str]],
                  results: list[dict[str, Any]]):
    """Scoring nodes that split their input: fan every mini-batch out, then join per node."""
    split = [r for r in results if r.get("chunks")]
    if not split:
        return results
    requests = {r["node_id"]: job.request(r["node_id"], outputs).model_dump(mode="json") for r in split}
    scored = yield context.task_all([
        context.call_activity_with_retry("run_chunk", RETRY, {"request": requests[r["node_id"]],
                                                               "chunk": chunk, "index": index})
        for r in split for index, chunk in enumerate(r["chunks"])])
    joined = yield context.task_all([
        context.call_activity_with_retry("join_chunks", RETRY, {
            "request": requests[r["node_id"]],
            "outcomes": [o for o in scored if o["node_id"] == r["node_id"]]})
        for r in split])
    by_node = {r["node_id"]: r for r in joined}
    return [by_node.get(r["node_id"], r) for r in results]


@bp.activity_trigger(input_name="payload")
def run_started(payload: dict[str, Any]) -> None:
    service().run_started(payload["experiment"], payload["run_id"])


@bp.activity_trigger(input_name="payload")
def run_node(payload: dict[str, Any]) -> dict[str, Any]:
    return service().run_node(NodeRequest.model_validate(payload)).model_dump(mode="json")


@bp.activity_trigger(input_name="payload")
def run_chunk(payload: dict[str, Any]) -> dict[str, Any]:
    request = NodeRequest.model_validate(payload["request"])
    outcome = service().run_chunk(request, payload["chunk"], payload["index"])
    return {"node_id": request.node.id, **outcome.model_dump(mode="json")}


@bp.activity_trigger(input_name="payload")
def join_chunks(payload: dict[str, Any]) -> dict[str, Any]:
    outcomes = [ChunkOutcome.model_validate(o) for o in payload["outcomes"]]
    return service().join_chunks(NodeRequest.model_validate(payload["request"]), outcomes).model_dump(mode="json")


@bp.activity_trigger(input_name="payload")
def run_finished(payload: dict[str, Any]) -> None:
    service().run_finished(payload["run_id"], payload["failed_node"], payload["error"])


@bp.orchestration_trigger(context_name="context", orchestration=SCORE_FILE)
def score_file(context: df.DurableOrchestrationContext):
    request = BatchRequest.model_validate(context.get_input())
    prepared = Prepared.model_validate((yield context.call_activity_with_retry(
        "batch_prepare", RETRY, request.model_dump())))
    if prepared.status != "Ready":
        return {"status": prepared.status, "run_id": prepared.run_id, "error": prepared.error}
    context.set_custom_status({"mini_batches": len(prepared.chunks), "stage": "scoring"})
    shared = prepared.model_copy(update={"chunks": []}).model_dump(mode="json")  # not N times over
    tasks = [context.call_activity_with_retry("batch_score", RETRY, {"prepared": shared, "chunk": chunk.model_dump()})
             for chunk in prepared.chunks]
    results, error = None, None
    try:
        results = yield context.task_all(tasks)
    except Exception as exc:  # a mini-batch kept failing after its retries
        error = str(exc).split("\n")[0]
    context.set_custom_status({"mini_batches": len(prepared.chunks), "stage": "joining"})
    outcome = yield context.call_activity_with_retry("batch_finish", RETRY, {
        "request": request.model_dump(), "prepared": prepared.model_dump(), "results": results, "error": error})
    return outcome


@bp.activity_trigger(input_name="payload")
def batch_prepare(payload: dict[str, Any]) -> dict[str, Any]:
    return service().batch.prepare(BatchRequest.model_validate(payload)).model_dump(mode="json")


@bp.activity_trigger(input_name="payload")
def batch_score(payload: dict[str, Any]) -> dict[str, Any]:
    result = service().batch.score_chunk(Prepared.model_validate(payload["prepared"]),
                                         Chunk.model_validate(payload["chunk"]))
    return result.model_dump(mode="json")


@bp.activity_trigger(input_name="payload")
def batch_finish(payload: dict[str, Any]) -> dict[str, Any]:
    results = [ChunkResult.model_validate(r) for r in payload["results"]] if payload["results"] is not None else None
    return service().batch.finish(BatchRequest.model_validate(payload["request"]),
                                  Prepared.model_validate(payload["prepared"]), results, payload["error"])
