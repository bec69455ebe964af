"""The run state machine: given a plan and the results so far, which steps may start now.

Every way of running a plan drives this one machine: the durable orchestrator, file-drop
scoring and the in-process runner. It does no I/O and reads no clock, so an orchestrator
rebuilds it on every replay from the same results and gets the same answers.

A node runs as one *run* step; a scoring node whose input is large answers with mini-batches
instead of outputs, and each mini-batch becomes a *chunk* step; when every chunk has an outcome,
one *join* step finishes the node. A node is ready as soon as every node it reads from has
finished: there are no stage barriers, so a slow node holds back only what depends on it.

A node whose only reader is one plain node (no timeout, no retries) may hand over to it inside
the same activity: its run step carries the chain of such nodes in ``then``, and its answer
carries their results as ``followers``. Nothing waits longer for it: every node in the chain
is the only one that could start next on that branch, so what the orchestrator saves is one
hand-over per node (dispatch, history, replay, and reading the inputs back from storage).
Chains stop where a node has several readers, or a reader that also waits for another branch.
A chain that stops early (a follower that failed to start, or planned mini-batches) leaves
the rest to be dispatched as usual, from the results it did return. The last step of a run
(nothing else in flight, every node not finished in its chain) ``closes`` it: if all of its
nodes finish, the activity records the run finished at once, without waiting for one more
hand-over; the orchestrator's own record of the end then finds it recorded.

Failure semantics (the same everywhere):
- a failed node (its component refused, its activity kept failing, or it ran past its
  timeout) fails; the nodes downstream of it end ``Skipped`` naming it; independent branches
  run to the end;
- with ``continue_on_step_failure`` off, nothing new starts after the first failure (what
  is already running finishes) and every node not started ends ``Skipped``;
- a canceled run ends every unfinished node ``Canceled``; results arriving afterwards, or for
  a node that already timed out, are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.execution.results import NodeResult
from core.pipelines.document import reachable
from core.pipelines.planner import Plan
from core.registry.runs import RunStatus

ENDED = {RunStatus.FINISHED, RunStatus.FAILED, RunStatus.SKIPPED, RunStatus.CANCELED}


class StepKind(StrEnum):
    RUN = "run"
    CHUNK = "chunk"
    JOIN = "join"


class Step(BaseModel):
    """One unit of work to dispatch: a node's run, one of its mini-batches, or their join."""

    model_config = ConfigDict(frozen=True)

    node_id: str
    kind: StepKind = StepKind.RUN
    index: int = 0
    chunk: Any = Field(None, description="The mini-batch (a reference, or a range) of a chunk step")
    then: tuple[str, ...] = Field(
        (), description="A run step's followers: nodes the same activity runs next, in order"
    )
    closes: bool = Field(
        False,
        description="Every node not finished is this step's or a follower's: when they all finish, "
        "the activity may record the run's end itself (the orchestrator's record of it follows)",
    )

    @property
    def key(self) -> str:
        return f"{self.node_id}/{self.kind.value}/{self.index}"


class NodeState(BaseModel):
    node_id: str
    status: RunStatus = RunStatus.NOT_STARTED
    outputs: dict[str, str] = Field(default_factory=dict)
    error: str | None = None
    error_code: str | None = None
    note: str | None = None
    reused: bool = False
    cache_key: str | None = None
    attempts: int = 0
    decided_here: bool = Field(
        False,
        description="Ended by the machine (skipped, timed out, a fault, "
        "canceled): no activity wrote this ending",
    )
    chunks: list[Any] = Field(default_factory=list)
    outcomes: dict[int, Any] = Field(default_factory=dict)


class RunOutcome(BaseModel):
    status: RunStatus
    failed_node: str | None = None
    error: str | None = None
    closing: list[NodeState] = Field(default_factory=list, description="Node endings to record")
    cache_keys: dict[str, str] = Field(default_factory=dict, description="Reuse keys of the finished nodes")


class RunMachine:
    """The state of one run; see the module docstring."""

    def __init__(
        self,
        plan: Plan,
        *,
        continue_on_step_failure: bool = True,
        resolved: Mapping[str, Mapping[str, str]] | None = None,
        resolved_keys: Mapping[str, str] | None = None,
        chains: bool = False,
    ) -> None:
        self._continue = continue_on_step_failure
        # With the run stopping at the first failure, a chain would keep starting nodes after
        # it: only runs that let independent branches finish hand over inside an activity.
        self._chains = chains and continue_on_step_failure
        self._plain = {
            node_id
            for node_id, node in plan.nodes.items()
            if node.run_settings.timeout_seconds is None and node.run_settings.max_retries == 0
        }
        self._order = [node_id for stage in plan.stages for node_id in stage]
        self._inputs = {node_id: dict(node.inputs) for node_id, node in plan.nodes.items()}
        self._downstream: dict[str, list[str]] = {node_id: [] for node_id in self._order}
        for node_id, inputs in self._inputs.items():
            for ref in inputs.values():
                if node_id not in self._downstream[ref.node]:
                    self._downstream[ref.node].append(node_id)
        self.nodes = {node_id: NodeState(node_id=node_id) for node_id in self._order}
        for node_id, outputs in (resolved or {}).items():
            self.nodes[node_id] = NodeState(
                node_id=node_id,
                status=RunStatus.FINISHED,
                outputs=dict(outputs),
                reused=True,
                cache_key=(resolved_keys or {}).get(node_id),
            )
        self._queued: list[Step] = []
        self._in_flight: dict[str, Step] = {}
        self._failures: list[str] = []
        self._stopped = False
        self._canceled = False

    # ---- what to do next -------------------------------------------------------------------
    def take_ready(self) -> list[Step]:
        """The steps that may start now; each is handed out once, then is in flight until recorded."""
        if self._canceled:
            return []
        steps, self._queued = self._queued, []
        if not self._stopped:
            for node_id in self._order:
                state = self.nodes[node_id]
                upstream = (self.nodes[ref.node].status for ref in self._inputs[node_id].values())
                if state.status == RunStatus.NOT_STARTED and all(s == RunStatus.FINISHED for s in upstream):
                    state.status = RunStatus.RUNNING
                    steps.append(Step(node_id=node_id, then=self._chain(node_id)))
        if self._chains and len(steps) == 1 and not self._in_flight and steps[0].kind == StepKind.RUN:
            unfinished = {n for n, state in self.nodes.items() if state.status != RunStatus.FINISHED}
            if unfinished == {steps[0].node_id, *steps[0].then}:
                steps[0] = steps[0].model_copy(update={"closes": True})
        for step in steps:
            self._in_flight[step.key] = step
        return steps

    def cache_keys(self) -> dict[str, str]:
        """The reuse keys of the nodes finished so far."""
        return {
            n: s.cache_key for n, s in self.nodes.items() if s.status == RunStatus.FINISHED and s.cache_key
        }

    def inputs(self, node_id: str) -> dict[str, str]:
        """References to the outputs a node reads (its upstream nodes have finished)."""
        return {port: self.nodes[ref.node].outputs[ref.port] for port, ref in self._inputs[node_id].items()}

    def known_inputs(self, node_id: str) -> dict[str, str]:
        """The inputs of a follower that come from nodes already finished (the rest come from
        the chain before it, in the activity that runs it)."""
        return {
            port: self.nodes[ref.node].outputs[ref.port]
            for port, ref in self._inputs[node_id].items()
            if self.nodes[ref.node].status == RunStatus.FINISHED
        }

    def in_flight(self) -> list[Step]:
        return list(self._in_flight.values())

    def running(self) -> list[str]:
        return [n for n in self._order if self.nodes[n].status == RunStatus.RUNNING]

    @property
    def done(self) -> bool:
        """Nothing in flight and nothing left that could start."""
        if self._in_flight or self._queued:
            return False
        return not any(s.status in (RunStatus.NOT_STARTED, RunStatus.RUNNING) for s in self.nodes.values())

    # ---- recording results -------------------------------------------------------------------
    def record(self, step: Step, result: NodeResult) -> bool:
        """A run or join step's answer. False when it came too late to count (see the module doc).

        The followers' results of a chained run step are recorded after it, in chain order,
        each only while it is still the node that could start next."""
        if not self._accept(step):
            return False
        self._apply(step, result)
        expected = list(step.then)
        for follower in result.followers:
            if not expected or follower.node_id != expected.pop(0) or not self._startable(follower.node_id):
                break
            self.nodes[follower.node_id].status = RunStatus.RUNNING
            self._apply(Step(node_id=follower.node_id), follower)
        return True

    def _apply(self, step: Step, result: NodeResult) -> None:
        state = self.nodes[step.node_id]
        state.attempts = max(state.attempts, result.attempts)
        if result.status == RunStatus.FINISHED:
            state.status, state.outputs, state.reused = (
                RunStatus.FINISHED,
                dict(result.outputs),
                result.reused,
            )
            state.cache_key = result.cache_key
        elif result.status == RunStatus.FAILED:
            self._fail(state, result.error or "failed", None, decided_here=False)
        elif result.status in (RunStatus.CANCELED, RunStatus.SKIPPED):  # its run was ended elsewhere
            self.cancel(result.error or "canceled with the run")
        elif step.kind == StepKind.RUN and result.chunks:
            state.chunks = list(result.chunks)
            self._queued += [
                Step(node_id=step.node_id, kind=StepKind.CHUNK, index=i, chunk=chunk)
                for i, chunk in enumerate(result.chunks)
            ]
        else:
            self._fail(
                state,
                f"unexpected answer {result.status.value!r} without mini-batches",
                "InternalError",
                decided_here=True,
            )

    def split(self, node_id: str, chunks: list[Any]) -> None:
        """A run step that planned mini-batches (for callers whose answer is not a NodeResult)."""
        step = Step(node_id=node_id)
        if self._accept(step):
            self.nodes[node_id].chunks = list(chunks)
            self._queued += [
                Step(node_id=node_id, kind=StepKind.CHUNK, index=i, chunk=chunk)
                for i, chunk in enumerate(chunks)
            ]

    def record_chunk(self, step: Step, outcome: Any) -> bool:
        """One mini-batch's outcome (a model the join step reads); the join is queued after the last."""
        if not self._accept(step):
            return False
        state = self.nodes[step.node_id]
        state.outcomes[step.index] = outcome
        if len(state.outcomes) == len(state.chunks):
            self._queued.append(Step(node_id=step.node_id, kind=StepKind.JOIN))
        return True

    def outcomes(self, node_id: str) -> list[Any]:
        """The mini-batch outcomes of a node, in input order."""
        state = self.nodes[node_id]
        return [state.outcomes[i] for i in sorted(state.outcomes)]

    def step_failed(self, step: Step, error: str, attempts: int | None = None) -> bool:
        """A run or join step whose activity kept failing (retries exhausted): the node fails."""
        if not self._accept(step):
            return False
        state = self.nodes[step.node_id]
        if attempts:
            state.attempts = max(state.attempts, attempts)
        self._fail(state, error, "ActivityFailed", decided_here=True)
        return True

    def time_out(self, node_id: str, seconds: float) -> bool:
        """The node ran past its timeout: it fails, and whatever of it is in flight no longer counts."""
        state = self.nodes[node_id]
        if state.status != RunStatus.RUNNING:
            return False
        self._drop(node_id)
        self._fail(
            state,
            f"Node {node_id!r} timed out after {seconds:g} s (run setting timeout_seconds); it was stopped",
            "Timeout",
            decided_here=True,
        )
        return True

    def cancel(self, reason: str = "canceled") -> None:
        """Every unfinished node ends ``Canceled``; nothing else starts or counts."""
        self._canceled = True
        self._queued, self._in_flight = [], {}
        for state in self.nodes.values():
            if state.status not in ENDED:
                state.status, state.note, state.decided_here = RunStatus.CANCELED, reason, True

    # ---- the result --------------------------------------------------------------------------
    def outcome(self) -> RunOutcome:
        closing = [s for s in self.nodes.values() if s.decided_here]
        if self._canceled:
            return RunOutcome(status=RunStatus.CANCELED, error="The run was canceled", closing=closing)
        if self._failures:
            first = self.nodes[self._failures[0]]
            return RunOutcome(
                status=RunStatus.FAILED, failed_node=first.node_id, error=first.error, closing=closing
            )
        keys = {s.node_id: s.cache_key for s in self.nodes.values() if s.cache_key}
        return RunOutcome(status=RunStatus.FINISHED, closing=closing, cache_keys=keys)

    def progress(self) -> dict[str, Any]:
        """What the orchestrator publishes as its custom status."""
        counts: dict[str, int] = {}
        for state in self.nodes.values():
            counts[state.status.value] = counts.get(state.status.value, 0) + 1
        ended = sum(1 for s in self.nodes.values() if s.status in ENDED)
        return {
            "nodes_done": ended,
            "nodes_total": len(self.nodes),
            "running": self.running(),
            "statuses": counts,
            "failed_nodes": list(self._failures),
        }

    # ---- internals ---------------------------------------------------------------------------
    def _chain(self, head: str) -> tuple[str, ...]:
        """The plain nodes that can run right after ``head`` in its activity (see the module doc)."""
        if not self._chains or head not in self._plain:
            return ()
        chain: list[str] = []
        last = head
        while len(self._downstream[last]) == 1:
            follower = self._downstream[last][0]
            sources = {ref.node for ref in self._inputs[follower].values()}
            ready = all(
                self.nodes[s].status == RunStatus.FINISHED or s == head or s in chain for s in sources
            )
            if (
                follower not in self._plain
                or self.nodes[follower].status != RunStatus.NOT_STARTED
                or not ready
            ):
                break
            chain.append(follower)
            last = follower
        return tuple(chain)

    def _startable(self, node_id: str) -> bool:
        """Not started, every input finished, and the run still starts nodes."""
        state = self.nodes[node_id]
        upstream = (self.nodes[ref.node].status for ref in self._inputs[node_id].values())
        return (
            not self._canceled
            and not self._stopped
            and state.status == RunStatus.NOT_STARTED
            and all(s == RunStatus.FINISHED for s in upstream)
        )

    def _accept(self, step: Step) -> bool:
        if self._in_flight.pop(step.key, None) is None:
            return False
        return self.nodes[step.node_id].status == RunStatus.RUNNING

    def _drop(self, node_id: str) -> None:
        self._queued = [s for s in self._queued if s.node_id != node_id]
        self._in_flight = {k: s for k, s in self._in_flight.items() if s.node_id != node_id}

    def _fail(self, state: NodeState, error: str, code: str | None, decided_here: bool) -> None:
        self._drop(state.node_id)
        state.status, state.error, state.error_code = RunStatus.FAILED, error, code
        state.decided_here = state.decided_here or decided_here
        self._failures.append(state.node_id)
        for node_id in self._descendants(state.node_id):
            skipped = self.nodes[node_id]
            if skipped.status == RunStatus.NOT_STARTED:
                skipped.status, skipped.decided_here = RunStatus.SKIPPED, True
                skipped.note = f"skipped: upstream node {state.node_id!r} failed"
        if not self._continue and not self._stopped:
            self._stopped = True
            for other in self.nodes.values():
                if other.status == RunStatus.NOT_STARTED:
                    other.status, other.decided_here = RunStatus.SKIPPED, True
                    other.note = (
                        f"skipped: node {state.node_id!r} failed and the run stops at the first "
                        "failure (continue_on_step_failure is off)"
                    )

    def _descendants(self, node_id: str) -> set[str]:
        return reachable(self._downstream[node_id], self._downstream.__getitem__)
