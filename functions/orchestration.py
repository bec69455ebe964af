"""The orchestrators and their activities: pipeline runs, and blob-upload batch scoring.

Both orchestrators are thin drivers of the run state machine (:mod:`core.execution.engine`):
every step the machine says is ready is called at once with the node's own retry policy,
``task_any`` waits for whichever finishes first (no stage barriers), and a node with a timeout
races a durable timer. They do no I/O and read no clock but the orchestration's own, so
replays rebuild the same machine. Activities do all the I/O through ``core.service.facade``. Only
references (artifact names) travel through the history.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from core.execution.engine import NodeState, RunMachine, RunOutcome, StepKind
from core.execution.executor import NodeRequest
from core.execution.job import Job
from core.execution.steps import PipelineSteps, StepPlan, first_line
from core.pipelines.run_settings import RunSettings
from core.registry.runs import RunStatus
from core.serving.batch import BatchOutcome, BatchRequest, BatchSteps, Chunk, ChunkResult, Prepared
from functions.common import service

ORCHESTRATOR = "run_pipeline"
SCORE_FILE = "score_file"

bp = df.Blueprint()


def retry_options(settings: RunSettings) -> df.RetryOptions:
    """A node's retry policy: its own attempts and back-off (infrastructure faults get at least 3)."""
    backoff_ms = max(1, int(settings.retry_backoff_seconds * 1000))
    return df.RetryOptions(
        first_retry_interval_in_milliseconds=backoff_ms, max_number_of_attempts=settings.max_attempts
    )


def drive(
    context: df.DurableOrchestrationContext,
    machine: RunMachine,
    steps: StepPlan,
    side: list[Any] | None = None,
) -> Generator[Any, Any, None]:
    """Run the machine to its end: dispatch what is ready, wait for the first to finish, repeat.

    ``side`` tasks (bookkeeping whose answer nothing waits for) run alongside the first
    steps instead of before them, and are awaited before the end.
    """
    in_flight: list[tuple[Any, Any]] = []  # (durable task, step)
    side = list(side or [])
    timers: dict[str, tuple[Any, float]] = {}  # node id -> (durable timer, seconds)
    recorded: set[str] = set()  # nodes whose machine-decided ending is being written
    while True:
        decided = [s for s in machine.nodes.values() if s.decided_here and s.node_id not in recorded]
        endings = steps.endings(decided) if decided else None
        if endings is not None:  # skipped / timed out nodes show as such now, not at the end
            recorded.update(s.node_id for s in decided)
            side.append(
                context.call_activity_with_retry(endings[0], retry_options(RunSettings()), endings[1])
            )
        for step in machine.take_ready():
            name, payload = steps.call(machine, step)
            settings = steps.settings(step.node_id)
            in_flight.append((context.call_activity_with_retry(name, retry_options(settings), payload), step))
            if step.kind == StepKind.RUN and settings.timeout_seconds and step.node_id not in timers:
                fire_at = context.current_utc_datetime + timedelta(seconds=settings.timeout_seconds)
                timers[step.node_id] = (context.create_timer(fire_at), settings.timeout_seconds)
        context.set_custom_status(machine.progress())
        if machine.done:
            break
        # Bookkeeping first: it is short, and queued behind the first nodes it would hold a
        # worker just when the next node of the longest chain becomes ready.
        waiting = side + [task for task, _ in in_flight] + [timer for timer, _ in timers.values()]
        winner = yield context.task_any(waiting)
        late = next((node_id for node_id, (timer, _) in timers.items() if timer is winner), None)
        if any(task is winner for task in side):
            side = [task for task in side if task is not winner]
            if isinstance(winner.result, Exception):
                raise winner.result  # the run's own records could not be written: fail loudly
        elif late is not None:
            machine.time_out(late, timers.pop(late)[1])
        else:
            position = next(i for i, (task, _) in enumerate(in_flight) if task is winner)
            step = in_flight.pop(position)[1]
            if isinstance(winner.result, Exception):  # retries exhausted
                steps.fault(machine, step, first_line(winner.result))
            else:
                steps.accept(machine, step, winner.result)
        for node_id in [n for n in timers if machine.nodes[n].status != RunStatus.RUNNING]:
            timers.pop(node_id)[0].cancel()  # the node ended first: its timer must not keep the run open
        in_flight = [
            (task, step)
            for task, step in in_flight
            if machine.nodes[step.node_id].status == RunStatus.RUNNING
        ]
    if side:
        yield context.task_all(side)


@bp.orchestration_trigger(context_name="context", orchestration=ORCHESTRATOR)
def run_pipeline(context: df.DurableOrchestrationContext):
    job = Job.model_validate(context.get_input())
    started = context.call_activity_with_retry(
        "run_started", retry_options(RunSettings()), {"experiment": job.experiment, "run_id": job.run_id}
    )
    machine = job.machine()
    yield from drive(context, machine, PipelineSteps(job), side=[started])
    outcome = machine.outcome()
    yield context.call_activity(
        "run_finished",
        {
            "run_id": job.run_id,
            "experiment": job.experiment,
            "plan_key": job.plan_key,
            "outcome": outcome.model_dump(mode="json"),
        },
    )
    return {"run_id": job.run_id, "status": outcome.status.value, "failed_node": outcome.failed_node}


@bp.activity_trigger(input_name="payload")
def run_started(payload: dict[str, Any]) -> None:
    service().runs.run_started(payload["experiment"], payload["run_id"])


@bp.activity_trigger(input_name="payload")
def run_node(payload: dict[str, Any]) -> dict[str, Any]:
    return service().runs.activity("run_node", payload)


@bp.activity_trigger(input_name="payload")
def run_chunk(payload: dict[str, Any]) -> dict[str, Any]:
    return service().runs.activity("run_chunk", payload)


@bp.activity_trigger(input_name="payload")
def join_chunks(payload: dict[str, Any]) -> dict[str, Any]:
    return service().runs.activity("join_chunks", payload)


@bp.activity_trigger(input_name="payload")
def nodes_ended(payload: dict[str, Any]) -> None:
    service().runs.nodes_ended(payload["run_id"], [NodeState.model_validate(n) for n in payload["nodes"]])


@bp.activity_trigger(input_name="payload")
def run_finished(payload: dict[str, Any]) -> None:
    outcome = RunOutcome.model_validate(payload["outcome"])
    service().runs.run_finished(
        payload["run_id"], outcome, payload.get("plan_key"), payload.get("experiment")
    )


@bp.orchestration_trigger(context_name="context", orchestration=SCORE_FILE)
def score_file(context: df.DurableOrchestrationContext):
    steps = BatchSteps(BatchRequest.model_validate(context.get_input()))
    machine = steps.machine()
    yield from drive(context, machine, steps)
    return steps.result(machine).model_dump(mode="json")


@bp.activity_trigger(input_name="payload")
def batch_prepare(payload: dict[str, Any]) -> dict[str, Any]:
    return service().batch.prepare(BatchRequest.model_validate(payload)).model_dump(mode="json")


@bp.activity_trigger(input_name="payload")
def batch_score(payload: dict[str, Any]) -> dict[str, Any]:
    result: ChunkResult = service().batch.score_chunk(
        Prepared.model_validate(payload["prepared"]), Chunk.model_validate(payload["chunk"])
    )
    return result.model_dump(mode="json")


@bp.activity_trigger(input_name="payload")
def batch_finish(payload: dict[str, Any]) -> dict[str, Any]:
    outcome: BatchOutcome = service().batch.finish(
        BatchRequest.model_validate(payload["request"]),
        Prepared.model_validate(payload["prepared"]),
        [ChunkResult.model_validate(r) for r in payload["results"]],
        payload.get("error"),
    )
    return outcome.model_dump(mode="json")


__all__ = ["ORCHESTRATOR", "SCORE_FILE", "NodeRequest", "bp", "drive", "retry_options"]
