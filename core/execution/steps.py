"""What each step of a run calls, and how its answer enters the run state machine.

A *step plan* maps a :class:`~core.execution.engine.Step` to an activity (name + JSON payload of
references) and validates the activity's answer into its result model before the machine sees
it. The durable orchestrator and the in-process runner (:func:`run_in_process`) use the same
step plans, so both call the same activities with the same payloads and read the answers the
same way; they differ only in how they wait.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from core.execution.engine import NodeState, RunMachine, Step, StepKind
from core.execution.executor import NodeRequest, RunClose
from core.execution.job import Job
from core.execution.results import ChunkOutcome, NodeResult
from core.pipelines.run_settings import RunSettings

RUN_NODE, RUN_CHUNK, JOIN_CHUNKS, NODES_ENDED = "run_node", "run_chunk", "join_chunks", "nodes_ended"


class StepPlan(Protocol):
    def settings(self, node_id: str) -> RunSettings: ...

    def call(self, machine: RunMachine, step: Step) -> tuple[str, Any]: ...

    def accept(self, machine: RunMachine, step: Step, answer: Any) -> None: ...

    def fault(self, machine: RunMachine, step: Step, message: str) -> None: ...

    def endings(self, states: list[NodeState]) -> tuple[str, Any] | None:
        """The activity recording node endings the machine decided, if this kind of run has one."""
        ...


class PipelineSteps:
    """A pipeline run: ``run_node``, then for split scoring nodes ``run_chunk`` and ``join_chunks``."""

    def __init__(self, job: Job) -> None:
        self.job = job

    def settings(self, node_id: str) -> RunSettings:
        return self.job.plan.nodes[node_id].run_settings

    def call(self, machine: RunMachine, step: Step) -> tuple[str, Any]:
        node_request = self.job.node_request(step.node_id, machine.inputs(step.node_id))
        if step.kind == StepKind.RUN:
            node_request.then = [self.job.node_request(n, machine.known_inputs(n)) for n in step.then]
            if step.closes:
                node_request.close = RunClose(
                    experiment=self.job.experiment,
                    plan_key=self.job.plan_key,
                    cache_keys=machine.cache_keys(),
                )
            return RUN_NODE, _payload(node_request)
        request = _payload(node_request)
        if step.kind == StepKind.CHUNK:
            return RUN_CHUNK, {"request": request, "chunk": step.chunk, "index": step.index}
        return JOIN_CHUNKS, {
            "request": request,
            "outcomes": [o.model_dump(mode="json") for o in machine.outcomes(step.node_id)],
        }

    def accept(self, machine: RunMachine, step: Step, answer: Any) -> None:
        if step.kind == StepKind.CHUNK:
            machine.record_chunk(step, ChunkOutcome.model_validate(answer))
        else:
            machine.record(step, NodeResult.model_validate(answer))

    def fault(self, machine: RunMachine, step: Step, message: str) -> None:
        if step.kind == StepKind.CHUNK:  # a lost mini-batch fails its node at the join, like a refused one
            machine.record_chunk(step, ChunkOutcome(index=step.index, error=message))
        else:
            machine.step_failed(step, message, self.settings(step.node_id).max_attempts)

    def endings(self, states: list[NodeState]) -> tuple[str, Any] | None:
        return NODES_ENDED, {"run_id": self.job.run_id, "nodes": [s.model_dump(mode="json") for s in states]}


def _payload(request: NodeRequest) -> dict[str, Any]:
    """A request as JSON; fields added since (followers, the record's ETag) only when set, so
    histories recorded before them replay as they were."""
    unset = {name for name in ("then", "etag", "close") if not getattr(request, name)}
    return request.model_dump(mode="json", exclude=unset or None)


def first_line(error: BaseException | str) -> str:
    """An activity failure as one line (the durable runtime appends the traceback)."""
    return str(error).strip().split("\n")[0].strip()


def run_in_process(machine: RunMachine, steps: StepPlan, call: Callable[[str, Any], Any]) -> RunMachine:
    """Drive ``machine`` to its end here, one step at a time, through ``call(activity, payload)``.

    Retries follow each node's run settings (without waiting the back-off: nothing else runs
    meanwhile); timeouts need a clock to race and are honoured by the durable orchestrator only.
    """
    while not machine.done:
        ready = machine.take_ready()
        if not ready:
            raise RuntimeError("the run can make no progress")  # a machine bug, never a user error
        for step in ready:
            name, payload = steps.call(machine, step)
            attempts = steps.settings(step.node_id).max_attempts
            for attempt in range(1, attempts + 1):
                try:
                    answer = call(name, payload)
                except Exception as exc:
                    if attempt == attempts:
                        message = (
                            f"Activity function '{name}' failed: {type(exc).__name__}: {first_line(exc)}"
                        )
                        steps.fault(machine, step, message)
                    continue
                steps.accept(machine, step, answer)
                break
    return machine
