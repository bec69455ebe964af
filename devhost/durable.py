"""A local Durable Functions runtime that drives orchestrators with the SDK's own replay engine.

The Durable extension (DTFx) is not available here, so this module plays its part:
it keeps a history per instance, calls the registered orchestrator with that history
exactly as the extension does (``func.OrchestrationContext`` + schema versions), reads
the actions the SDK returns, runs activities on an :class:`ActivityPool`, and appends
the events DTFx would append, one episode at a time, until the orchestration ends.
Because the real SDK replays the real history, replay bugs (non-determinism, wrong
sequence numbers) show up locally as they would in Azure.

Supported actions: CallActivity, CallActivityWithRetry, CreateTimer, WhenAll, WhenAny,
ContinueAsNew, plus custom status. Timers run in virtual time: a timer fires as soon
as nothing else can happen first (no activity in flight) or when it is really due.
Not supported: sub-orchestrations, external events, entities, durable HTTP; an
orchestrator that uses them fails with a message saying so.
"""
from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import json
import logging
import queue
import threading
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Optional

import azure.functions as func

from .activities import ActivityOutcome, ActivityPool, WorkerKind
from .app_index import AppIndex
from .history import (UPPER_SCHEMA_VERSION, UPPER_SCHEMA_VERSION_NEW, ActionType, EventType,
                      atomic_actions, event, execution_started, format_timestamp,
                      parse_timestamp, utc_now)

log = logging.getLogger(__name__)

PENDING, RUNNING, COMPLETED, FAILED, TERMINATED = "Pending", "Running", "Completed", "Failed", "Terminated"
ACTIVE_STATUSES = (PENDING, RUNNING)
# An orchestrator exception carries the orchestration state after this marker.
_STATE_MARKER = "$OutOfProcData$:"
# How often a waiting orchestration checks whether the runtime is shutting down.
_WAKE_UP_SECONDS = 0.25


class InstanceExistsError(RuntimeError):
    """An instance with this id is still pending or running (the real host refuses too)."""


class UnknownOrchestratorError(LookupError):
    """No orchestrator function with this name is registered."""


class _ExecutionError(RuntimeError):
    """The orchestration cannot go on (non-determinism, unsupported action, stuck)."""


class _Stopped(Exception):
    """The runtime is shutting down."""


class _Terminated(Exception):
    """A client terminated the instance."""


@dataclass
class _Instance:
    instance_id: str
    name: str
    input_json: Optional[str]
    created: dt.datetime
    updated: dt.datetime
    status: str = PENDING
    output: Any = None
    custom_status: Any = None
    history: list[dict[str, Any]] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    terminate_reason: Optional[str] = None

    def status_json(self, show_history: bool) -> dict[str, Any]:
        """The shape of the Durable HTTP API's instance status."""
        status = {
            "name": self.name,
            "instanceId": self.instance_id,
            "runtimeStatus": self.status,
            "input": _json_or_text(self.input_json),
            "customStatus": self.custom_status,
            "output": self.output,
            "createdTime": _status_time(self.created),
            "lastUpdatedTime": _status_time(self.updated),
        }
        if show_history:
            status["historyEvents"] = list(self.history)
        return status


@dataclass(frozen=True)
class _Ending:
    """How one execution ended; ``next_input`` is set for ContinueAsNew."""

    status: str
    output: Any = None
    next_input: Optional[str] = None


class LocalDurableRuntime:
    """Runs orchestration instances in memory; see the module docstring.

    ``workers="process"`` (the default) runs activities in ``max_workers`` spawned
    processes that import ``app_module``; ``workers="thread"`` runs them in threads of
    this process (for tests whose app is not importable by name).
    """

    def __init__(self, index: AppIndex, *, app_module: Optional[str] = None,
                 workers: WorkerKind = "process", max_workers: Optional[int] = None) -> None:
        self._orchestrators = dict(index.orchestrators)
        self._pool = ActivityPool(index.activities, kind=workers, size=max_workers,
                                  app_ref=app_module)
        self._instances: dict[str, _Instance] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def start_new(self, name: str, input_json: Optional[str] = None,
                  instance_id: Optional[str] = None) -> str:
        """Start orchestrator ``name``; ``input_json`` is the input as JSON text.

        An id that belongs to a finished instance is reused (the old instance is
        replaced); one that is pending or running raises InstanceExistsError.
        """
        if self._stopping.is_set():
            raise RuntimeError("the durable runtime is shut down")
        if name not in self._orchestrators:
            raise UnknownOrchestratorError(
                f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function.")
        if input_json is not None:
            json.loads(input_json)  # ValueError now rather than a failed orchestration later
        instance_id = instance_id or uuid.uuid4().hex
        now = utc_now()
        with self._lock:
            existing = self._instances.get(instance_id)
            if existing is not None and existing.status in ACTIVE_STATUSES:
                raise InstanceExistsError(
                    f"An orchestration instance with ID '{instance_id}' already exists "
                    f"and is {existing.status}.")
            instance = _Instance(instance_id, name, input_json, created=now, updated=now)
            self._instances[instance_id] = instance
        threading.Thread(target=self._run, args=(instance,), daemon=True,
                         name=f"orchestration-{instance_id}").start()
        return instance_id

    def get_status(self, instance_id: str, *, show_history: bool = False) -> Optional[dict[str, Any]]:
        """The instance's status JSON, or None for an unknown id."""
        with self._lock:
            instance = self._instances.get(instance_id)
            return None if instance is None else instance.status_json(show_history)

    def list_statuses(self) -> list[dict[str, Any]]:
        with self._lock:
            return [i.status_json(show_history=False) for i in self._instances.values()]

    def wait(self, instance_id: str, timeout: float) -> dict[str, Any]:
        """Block until the instance completes or fails; return its status.

        Raises KeyError for an unknown id and TimeoutError when it takes too long."""
        with self._lock:
            instance = self._instances[instance_id]
        if not instance.done.wait(timeout):
            raise TimeoutError(f"orchestration {instance_id} is still {instance.status} after {timeout} s")
        return instance.status_json(show_history=False)

    def terminate(self, instance_id: str, reason: str) -> bool:
        """Ask an instance to stop (status Terminated, output ``reason``) within a
        fraction of a second. False if it had already ended; KeyError if unknown.
        Activities already running finish, but their results are ignored."""
        with self._lock:
            instance = self._instances[instance_id]
            if instance.status not in ACTIVE_STATUSES:
                return False
            instance.terminate_reason = reason
            return True

    def shutdown(self) -> None:
        """Stop driving instances and stop the activity workers. Safe to call twice."""
        if not self._stopping.is_set():
            self._stopping.set()
            self._pool.shutdown()

    # -- driving one instance ---------------------------------------------------------
    def _run(self, instance: _Instance) -> None:
        self._update(instance, status=RUNNING)
        input_json = instance.input_json
        try:
            while True:
                ending = _Execution(self, instance, input_json).run()
                if ending.next_input is None:
                    break
                input_json = ending.next_input  # ContinueAsNew: same id, fresh history
                self._update(instance, input_json=input_json)  # the status shows the latest input
            self._update(instance, status=ending.status, output=ending.output)
        except Exception as error:
            if isinstance(error, _Stopped) or self._stopping.is_set():
                log.info("orchestration %s abandoned at shutdown", instance.instance_id)
            else:  # an SDK-internal error or a devhost bug, not the orchestrator's fault
                log.exception("orchestration %s crashed in devhost", instance.instance_id)
                self._update(instance, status=FAILED,
                             output=f"Orchestrator function '{instance.name}' failed: {error}")
        finally:
            instance.done.set()

    def _update(self, instance: _Instance, **changes: Any) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(instance, name, value)
            instance.updated = utc_now()


@dataclass(frozen=True)
class _Task:
    """One activity attempt; retries are new _Task objects with attempt + 1."""

    name: str
    input_json: Optional[str]
    retry_options: Optional[dict[str, int]] = None
    attempt: int = 1


class _Execution:
    """One execution of an orchestrator, from ExecutionStarted to its end.

    The sequence numbers (EventIds) handed out here must equal the ones the SDK
    assigns while replaying, or completions are silently ignored and the orchestration
    hangs. The SDK numbers tasks when the generator yields them (compound children in
    order), and a retryable task takes one extra number for the retry timer when it
    fails and one for the new attempt when that timer fires, at the moment it replays
    those events. So: new actions are numbered in action order after the episode's
    retry bookkeeping, and every retry-related event gets an episode of its own.
    """

    def __init__(self, runtime: LocalDurableRuntime, instance: _Instance, input_json: Optional[str]) -> None:
        self._runtime = runtime
        self._instance = instance
        self._input_json = input_json
        self._orchestrator = runtime._orchestrators[instance.name].func
        self._history = instance.history
        self._history.clear()
        self._next_id = 0
        self._seen_actions: list[dict[str, Any]] = []  # top-level actions already scheduled
        self._action_ids: list[list[int]] = []  # EventIds of each top-level action's atoms
        self._tasks: dict[int, _Task] = {}  # TaskScheduledId -> activity attempt
        self._timers: dict[int, dt.datetime] = {}  # pending TimerId -> fire time
        self._retry_timers: dict[int, _Task] = {}  # TimerId -> the failed attempt to retry
        self._in_flight = 0
        self._completions: queue.Queue[tuple[int, cf.Future[ActivityOutcome]]] = queue.Queue()
        self._ready: list[dict[str, Any]] = []  # events not yet given to the orchestrator

    def run(self) -> _Ending:
        try:
            return self._run()
        except _Terminated:
            return self._end(TERMINATED, self._instance.terminate_reason)
        except _ExecutionError as error:
            log.error("orchestration %s failed: %s", self._instance.instance_id, error)
            return self._end(FAILED, f"Orchestrator function '{self._instance.name}' failed: {error}")

    def _run(self) -> _Ending:
        now = utc_now()
        episode = [event(EventType.ORCHESTRATOR_STARTED, now),
                   execution_started(self._instance.name, self._instance.instance_id,
                                     uuid.uuid4().hex, self._input_json, now)]
        while True:
            state = self._replay(episode)
            actions = (state.get("actions") or [[]])[0]  # schema V3: one flat list
            self._check_determinism(actions)
            if "customStatus" in state:  # the SDK only sends it when truthy
                self._runtime._update(self._instance, custom_status=state["customStatus"])
            if state.get("error") is not None:
                return self._end(FAILED, f"Orchestrator function '{self._instance.name}' "
                                         f"failed: {state['error']}")
            if state.get("isDone"):
                return self._finish(state, actions)
            scheduled = self._retry_bookkeeping(episode) + self._schedule(actions)
            self._history.extend(scheduled + [self._event(EventType.ORCHESTRATOR_COMPLETED)])
            episode = self._next_episode()

    # -- one call into the SDK --------------------------------------------------------
    def _replay(self, episode: list[dict[str, Any]]) -> dict[str, Any]:
        for past in self._history:
            past["IsPlayed"] = True  # drives context.is_replaying
        self._history.extend(episode)
        body = json.dumps({
            "history": self._history,
            "input": self._input_json,  # JSON text: get_input() decodes it
            "instanceId": self._instance.instance_id,
            "isReplaying": False,
            "parentInstanceId": None,
            "upperSchemaVersion": UPPER_SCHEMA_VERSION,
            "upperSchemaVersionNew": UPPER_SCHEMA_VERSION_NEW,
        })
        try:
            return json.loads(self._orchestrator(func.OrchestrationContext(body)))
        except Exception as error:  # the orchestrator raised: its state rides in the message
            message = str(error)
            if _STATE_MARKER not in message:
                raise
            return json.loads(message.split(_STATE_MARKER, 1)[1])

    def _check_determinism(self, actions: list[dict[str, Any]]) -> None:
        """A replay must ask for the same actions, in the same order, as before."""
        replayed = actions[:len(self._seen_actions)]
        if _comparable(replayed) != _comparable(self._seen_actions):
            position = next((i for i, (a, b) in enumerate(zip(replayed, self._seen_actions))
                             if _comparable(a) != _comparable(b)), len(replayed))
            was = json.dumps(self._seen_actions[position])
            now = json.dumps(replayed[position]) if position < len(replayed) else "nothing"
            raise _ExecutionError(
                f"Non-deterministic workflow detected: action {position} was {was} when first run "
                f"but {now} on replay. Orchestrator code must not depend on clocks, random "
                "values, I/O or global state.")
        for action, ids in zip(actions, self._action_ids):  # a cancelled timer never fires
            for atom, event_id in zip(atomic_actions(action), ids):
                if atom["actionType"] == ActionType.CREATE_TIMER and atom.get("isCanceled"):
                    self._timers.pop(event_id, None)

    def _finish(self, state: dict[str, Any], actions: list[dict[str, Any]]) -> _Ending:
        restart = [a for a in actions if a["actionType"] == ActionType.CONTINUE_AS_NEW]
        if restart:
            return _Ending(RUNNING, next_input=restart[-1].get("input"))
        return self._end(COMPLETED, state.get("output"))

    def _end(self, status: str, output: Any) -> _Ending:
        self._history.append(self._event(EventType.EXECUTION_COMPLETED, OrchestrationStatus=status,
                                         Result=json.dumps(output)))
        self._history.append(self._event(EventType.ORCHESTRATOR_COMPLETED))
        return _Ending(status, output)

    # -- turning actions into history and work ----------------------------------------
    def _schedule(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        scheduled: list[dict[str, Any]] = []
        for action in actions[len(self._seen_actions):]:
            self._action_ids.append([self._schedule_atom(atom, scheduled)
                                     for atom in atomic_actions(action)])
        self._seen_actions = actions
        return scheduled

    def _schedule_atom(self, atom: dict[str, Any], scheduled: list[dict[str, Any]]) -> int:
        kind = atom["actionType"]
        if kind in (ActionType.CALL_ACTIVITY, ActionType.CALL_ACTIVITY_WITH_RETRY):
            task = _Task(atom["functionName"], atom.get("input"), atom.get("retryOptions"))
            return self._start_task(task, scheduled)
        if kind == ActionType.CREATE_TIMER:
            timer_id = self._new_id()
            scheduled.append(self._event(EventType.TIMER_CREATED, timer_id, FireAt=atom["fireAt"]))
            if not atom.get("isCanceled"):
                self._timers[timer_id] = parse_timestamp(atom["fireAt"])
            return timer_id
        try:
            name = ActionType(kind).name
        except ValueError:
            name = f"actionType {kind}"
        raise _ExecutionError(f"devhost does not support {name} actions")

    def _start_task(self, task: _Task, scheduled: list[dict[str, Any]]) -> int:
        task_id = self._new_id()
        scheduled.append(self._event(EventType.TASK_SCHEDULED, task_id, Name=task.name,
                                     Version="", Input=task.input_json))
        self._tasks[task_id] = task
        future = self._runtime._pool.submit(task.name, task.input_json)
        self._in_flight += 1
        future.add_done_callback(lambda done: self._completions.put((task_id, done)))
        return task_id

    def _retry_bookkeeping(self, episode: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """What DTFx's retry interceptor adds for this episode's retry events:
        a timer after every failed attempt (also after the last one, which the SDK
        waits for before giving up), and a new attempt when such a timer fires."""
        scheduled: list[dict[str, Any]] = []
        for past in episode:
            if past["EventType"] == EventType.TASK_FAILED:
                task = self._tasks[past["TaskScheduledId"]]
                if task.retry_options:
                    timer_id = self._new_id()
                    delay = dt.timedelta(milliseconds=task.retry_options["firstRetryIntervalInMilliseconds"])
                    fire_at = self._clock() + delay
                    scheduled.append(self._event(EventType.TIMER_CREATED, timer_id,
                                                 FireAt=format_timestamp(fire_at)))
                    self._timers[timer_id] = fire_at
                    self._retry_timers[timer_id] = task
            elif past["EventType"] == EventType.TIMER_FIRED and past["TimerId"] in self._retry_timers:
                task = self._retry_timers.pop(past["TimerId"])
                if task.attempt < task.retry_options["maxNumberOfAttempts"]:
                    self._start_task(replace(task, attempt=task.attempt + 1), scheduled)
        return scheduled

    # -- waiting for the next episode -------------------------------------------------
    def _next_episode(self) -> list[dict[str, Any]]:
        """Block until something happened; return [OrchestratorStarted, events...]."""
        while True:
            if self._runtime._stopping.is_set():
                raise _Stopped()
            if self._instance.terminate_reason is not None:
                raise _Terminated()
            self._collect()
            if self._ready:
                return self._take_episode()
            timer_id = min(self._timers, key=self._timers.__getitem__, default=None)
            if self._in_flight == 0:
                if timer_id is None:
                    raise _ExecutionError(
                        "the orchestrator is waiting for something devhost never delivers "
                        "(no activity is running and no timer is pending)")
                if not self._waits_for_real(timer_id):
                    self._fire(timer_id)  # virtual time: nothing can happen before this timer
                    continue
            wait = _WAKE_UP_SECONDS
            if timer_id is not None:
                wait = min(wait, max(0.0, (self._timers[timer_id] - utc_now()).total_seconds()))
            self._collect(wait)
            if not self._ready and timer_id is not None and self._timers[timer_id] <= utc_now():
                self._fire(timer_id)

    def _collect(self, wait: float = 0.0) -> None:
        """Turn finished activities into events, waiting up to ``wait`` s for the first."""
        try:
            task_id, future = (self._completions.get(timeout=wait) if wait > 0
                               else self._completions.get_nowait())
            while True:
                self._in_flight -= 1
                self._ready.append(self._completion_event(task_id, future))
                task_id, future = self._completions.get_nowait()
        except queue.Empty:
            pass

    def _completion_event(self, task_id: int, future: cf.Future[ActivityOutcome]) -> dict[str, Any]:
        if future.cancelled():
            raise _Stopped()
        try:
            outcome = future.result()
        except Exception as error:  # the worker process died
            name = self._tasks[task_id].name
            outcome = ActivityOutcome(reason=f"Activity function '{name}' failed: "
                                             f"{type(error).__name__}: {error}", details="")
        if outcome.failed:
            return self._event(EventType.TASK_FAILED, TaskScheduledId=task_id,
                               Reason=outcome.reason, Details=outcome.details)
        return self._event(EventType.TASK_COMPLETED, TaskScheduledId=task_id,
                           Result=outcome.output_json)

    def _waits_for_real(self, timer_id: int) -> bool:
        """A retry's back-off is waited for in real time, as DTFx does: what the retried
        activity reads may change meanwhile (a file arriving late), so skipping it would
        change the outcome, not just the speed."""
        return timer_id in self._retry_timers and self._timers[timer_id] > utc_now()

    def _fire(self, timer_id: int) -> None:
        fire_at = self._timers.pop(timer_id)
        self._ready.append(event(EventType.TIMER_FIRED, max(fire_at, self._clock()),
                                 TimerId=timer_id, FireAt=format_timestamp(fire_at)))

    def _take_episode(self) -> list[dict[str, Any]]:
        """All plain events together, or else one retry-related event alone."""
        plain = [e for e in self._ready if not self._is_retry_event(e)]
        chosen = plain or self._ready[:1]
        self._ready = [e for e in self._ready if not any(e is c for c in chosen)]
        moment = max([self._clock()] + [parse_timestamp(e["Timestamp"]) for e in chosen])
        for chosen_event in chosen:
            chosen_event["Timestamp"] = format_timestamp(moment)
        return [event(EventType.ORCHESTRATOR_STARTED, moment)] + chosen

    def _is_retry_event(self, candidate: dict[str, Any]) -> bool:
        if candidate["EventType"] == EventType.TASK_FAILED:
            return bool(self._tasks[candidate["TaskScheduledId"]].retry_options)
        return candidate["EventType"] == EventType.TIMER_FIRED and candidate["TimerId"] in self._retry_timers

    # -- small helpers ----------------------------------------------------------------
    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _clock(self) -> dt.datetime:
        """Now, but never before the last event: virtual timers move the clock ahead."""
        now = utc_now()
        if self._history:
            now = max(now, parse_timestamp(self._history[-1]["Timestamp"]))
        return now

    def _event(self, event_type: EventType, event_id: int = -1, **fields: Any) -> dict[str, Any]:
        return event(event_type, self._clock(), event_id, **fields)


def _comparable(actions: Any) -> str:
    """Actions as compared across replays: a timer's ``isCanceled`` may flip later."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "isCanceled"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return json.dumps(strip(actions), sort_keys=True)


def _json_or_text(text: Optional[str]) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _status_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
