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

With a :class:`~devhost.history_store.HistoryStore`, statuses and histories are also
kept in storage and :meth:`LocalDurableRuntime.recover` resumes, after a crash, every
instance that was still running: its stored episodes are replayed as they were, and
the activities they scheduled without a recorded result are dispatched again.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import functools
import json
import logging
import queue
import threading
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import azure.functions as func

from .activities import ActivityOutcome, ActivityPool, WorkerKind
from .app_index import AppIndex
from .history import (
    UPPER_SCHEMA_VERSION,
    UPPER_SCHEMA_VERSION_NEW,
    ActionType,
    EventType,
    atomic_actions,
    event,
    execution_started,
    format_timestamp,
    parse_timestamp,
    utc_now,
)
from .history_store import HistoryStore, RecordedEpisode, StopRetrying, ending, retry_until, split_episodes

log = logging.getLogger(__name__)

PENDING, RUNNING, COMPLETED, FAILED, TERMINATED = "Pending", "Running", "Completed", "Failed", "Terminated"
ACTIVE_STATUSES = (PENDING, RUNNING)
# An orchestrator exception carries the orchestration state after this marker.
_STATE_MARKER = "$OutOfProcData$:"
# How often a waiting orchestration checks whether the runtime is shutting down.
_WAKE_UP_SECONDS = 0.25
# How long the status writer waits after a deferred write before the next one.
_STATUS_PAUSE_SECONDS = 0.25


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
    input_json: str | None
    created: dt.datetime
    updated: dt.datetime
    status: str = PENDING
    output: Any = None
    custom_status: Any = None
    history: list[dict[str, Any]] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    terminate_reason: str | None = None
    saving: threading.Lock = field(default_factory=threading.Lock)  # one status write at a time
    unsaved: bool = False  # a custom status change storage does not have yet

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

    @classmethod
    def from_status(cls, status: dict[str, Any], history: list[dict[str, Any]]) -> _Instance:
        """An instance as storage knows it; the input is the stored execution's own."""
        started = next((e for e in history if e["EventType"] == EventType.EXECUTION_STARTED), None)
        input_json = (
            started.get("Input")
            if started
            else (None if status.get("input") is None else json.dumps(status["input"]))
        )
        return cls(
            status["instanceId"],
            status["name"],
            input_json,
            created=_parse_status_time(status["createdTime"]),
            updated=_parse_status_time(status["lastUpdatedTime"]),
            status=status["runtimeStatus"],
            output=status.get("output"),
            custom_status=status.get("customStatus"),
        )


@dataclass(frozen=True)
class _Ending:
    """How one execution ended; ``next_input`` is set for ContinueAsNew."""

    status: str
    output: Any = None
    next_input: str | None = None


class LocalDurableRuntime:
    """Runs orchestration instances in memory; see the module docstring.

    ``workers="process"`` (the default) runs activities in ``max_workers`` spawned
    processes that import ``app_module``; ``workers="thread"`` runs them in threads of
    this process (for tests whose app is not importable by name).
    """

    def __init__(
        self,
        index: AppIndex,
        *,
        app_module: str | None = None,
        workers: WorkerKind = "process",
        max_workers: int | None = None,
        history_store: HistoryStore | None = None,
    ) -> None:
        self._store = history_store
        self._orchestrators = dict(index.orchestrators)
        self._pool = ActivityPool(index.activities, kind=workers, size=max_workers, app_ref=app_module)
        self._instances: dict[str, _Instance] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._unsaved: queue.SimpleQueue[_Instance | None] = queue.SimpleQueue()
        if history_store is not None:
            threading.Thread(target=self._write_statuses, daemon=True, name="orchestration-status").start()

    def start_new(self, name: str, input_json: str | None = None, instance_id: str | None = None) -> str:
        """Start orchestrator ``name``; ``input_json`` is the input as JSON text.

        An id that belongs to a finished instance is reused (the old instance is
        replaced); one that is pending or running raises InstanceExistsError.
        """
        if self._stopping.is_set():
            raise RuntimeError("the durable runtime is shut down")
        if name not in self._orchestrators:
            raise UnknownOrchestratorError(
                f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function."
            )
        if input_json is not None:
            json.loads(input_json)  # ValueError now rather than a failed orchestration later
        instance_id = instance_id or uuid.uuid4().hex
        now = utc_now()
        with self._lock:
            existing = self._instances.get(instance_id)
            if existing is not None and existing.status in ACTIVE_STATUSES:
                raise InstanceExistsError(
                    f"An orchestration instance with ID '{instance_id}' already exists "
                    f"and is {existing.status}."
                )
            instance = _Instance(instance_id, name, input_json, created=now, updated=now)
            self._instances[instance_id] = instance
        if self._store is not None:
            try:  # acknowledged means stored: a storage error refuses the start
                self._store.save_status(instance.status_json(show_history=False))
            except Exception:
                with self._lock:
                    if self._instances.get(instance_id) is instance:
                        self._instances.pop(instance_id)
                        if existing is not None:
                            self._instances[instance_id] = existing
                raise
        self._start_thread(instance)
        return instance_id

    def _start_thread(self, instance: _Instance, recorded: list[dict[str, Any]] | None = None) -> None:
        threading.Thread(
            target=self._run,
            args=(instance, recorded),
            daemon=True,
            name=f"orchestration-{instance.instance_id}",
        ).start()

    def recover(self) -> int:
        """Resume the instances storage has as pending or running; return how many.

        Called once at host start. Waits for storage if it is away (until shutdown)."""
        if self._store is None:
            return 0
        store = self._store
        retry_until(lambda: store.hold_hub(self._stopping), self._stopping, "taking the task hub lease")
        statuses = retry_until(
            lambda: store.list_statuses(set(ACTIVE_STATUSES)),
            self._stopping,
            "looking for in-flight orchestrations",
        )
        resumed = 0
        for status in statuses:
            instance_id = status["instanceId"]
            with self._lock:
                if instance_id in self._instances:
                    continue
            history = retry_until(
                functools.partial(store.load_history, instance_id),
                self._stopping,
                f"loading the history of {instance_id}",
            )
            instance = _Instance.from_status(status, history)
            if status["name"] not in self._orchestrators:
                log.error(
                    "orchestration %s: no orchestrator %r any more; marking it failed",
                    instance_id,
                    status["name"],
                )
                self._register(instance)
                self._update(
                    instance,
                    status=FAILED,
                    output=f"The orchestrator function '{status['name']}' no longer exists.",
                )
                instance.done.set()
                continue
            ended = ending(history)
            self._register(instance)
            if ended is not None:  # the host died between recording the end and the status
                self._update(
                    instance, status=ended["OrchestrationStatus"], output=_json_or_text(ended.get("Result"))
                )
                instance.done.set()
                continue
            log.info(
                "resuming orchestration %s (%s) from %d stored events",
                instance_id,
                instance.name,
                len(history),
            )
            self._start_thread(instance, history or None)
            resumed += 1
        return resumed

    def start_recovery(self) -> threading.Thread:
        """:meth:`recover` in the background, so a host whose storage is away still starts."""

        def run() -> None:
            try:
                count = self.recover()
                if count:
                    log.info("resumed %d in-flight orchestration(s)", count)
            except StopRetrying:
                pass
            except Exception:
                log.exception("resuming in-flight orchestrations failed")

        thread = threading.Thread(target=run, daemon=True, name="orchestration-recovery")
        thread.start()
        return thread

    def _register(self, instance: _Instance) -> None:
        with self._lock:
            self._instances.setdefault(instance.instance_id, instance)

    def get_status(self, instance_id: str, *, show_history: bool = False) -> dict[str, Any] | None:
        """The instance's status JSON, or None for an unknown id."""
        with self._lock:
            instance = self._instances.get(instance_id)
            if instance is not None:
                return instance.status_json(show_history)
        if self._store is None:
            return None
        status = self._store.load_status(instance_id)  # ended before this host started
        if status is not None and show_history:
            status["historyEvents"] = self._store.load_history(instance_id)
        return status

    def list_statuses(self) -> list[dict[str, Any]]:
        with self._lock:
            statuses = {i: s.status_json(show_history=False) for i, s in self._instances.items()}
        if self._store is not None:
            for stored in self._store.list_statuses():
                statuses.setdefault(stored["instanceId"], stored)
        return list(statuses.values())

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

    def purge(self, instance_id: str) -> bool:
        """Forget an ended instance, in memory and in storage; False if it is unknown.

        A pending or running instance raises InstanceExistsError (terminate it first)."""
        status = self.get_status(instance_id)
        if status is not None and status["runtimeStatus"] in ACTIVE_STATUSES:
            raise InstanceExistsError(
                f"The orchestration instance '{instance_id}' is "
                f"{status['runtimeStatus']}; only ended instances can be purged."
            )
        with self._lock:
            known = self._instances.pop(instance_id, None) is not None
        deleted = self._store.delete(instance_id) if self._store is not None else False
        return known or deleted

    def shutdown(self) -> None:
        """Stop driving instances and stop the activity workers. Safe to call twice."""
        if not self._stopping.is_set():
            self._stopping.set()
            self._unsaved.put(None)
            self._pool.shutdown()
            if self._store is not None:
                self._store.release_hub()

    # -- driving one instance ---------------------------------------------------------
    def _run(self, instance: _Instance, recorded: list[dict[str, Any]] | None = None) -> None:
        input_json = instance.input_json
        try:
            if not recorded:
                log.info("orchestration %s (%s) started", instance.instance_id, instance.name)
            while True:
                ending = _Execution(self, instance, input_json, recorded).run()
                recorded = None
                if ending.next_input is None:
                    break
                input_json = ending.next_input  # ContinueAsNew: same id, fresh history
                self._update(instance, input_json=input_json)  # the status shows the latest input
            self._update(instance, status=ending.status, output=ending.output)
            outcome = ending.output.get("status") if isinstance(ending.output, dict) else None
            (log.info if ending.status == COMPLETED else log.warning)(
                "orchestration %s (%s) %s%s",
                instance.instance_id,
                instance.name,
                ending.status.lower(),
                f": {outcome}" if isinstance(outcome, str) else "",
            )
        except Exception as error:
            if isinstance(error, (_Stopped, StopRetrying)) or self._stopping.is_set():
                log.info("orchestration %s abandoned at shutdown", instance.instance_id)
            else:  # an SDK-internal error or a devhost bug, not the orchestrator's fault
                log.exception("orchestration %s crashed in devhost", instance.instance_id)
                self._update(
                    instance, status=FAILED, output=f"Orchestrator function '{instance.name}' failed: {error}"
                )
        finally:
            instance.done.set()

    def _update(self, instance: _Instance, *, later: bool = False, **changes: Any) -> None:
        """Change the instance's status, and write it to storage before returning.

        ``later``: a change only the status API shows (the custom status) is written by the
        status writer thread instead, a moment later, coalesced with the changes after it; a
        host that dies first loses nothing, since the replay after a restart sets it again."""
        with self._lock:
            changed = any(getattr(instance, name) != value for name, value in changes.items())
            for name, value in changes.items():
                setattr(instance, name, value)
            instance.updated = utc_now()
        if not changed or self._store is None:
            return
        if later:
            with self._lock:
                queued, instance.unsaved = instance.unsaved, True
            if not queued:  # once in the queue until written
                self._unsaved.put(instance)
        else:
            self._save_status(instance)

    def _save_status(self, instance: _Instance) -> None:
        """Write the instance's latest status; writes of one instance never overtake each other."""
        store = self._store
        if store is None:
            return
        with instance.saving:
            with self._lock:
                instance.unsaved = False
                status = instance.status_json(show_history=False)
            retry_until(
                lambda: store.save_status(status),
                self._stopping,
                f"recording the status of {instance.instance_id}",
            )

    def _write_statuses(self) -> None:
        """The status writer thread: writes what :meth:`_update` left for later."""
        while True:
            instance = self._unsaved.get()
            if instance is None:
                return
            try:
                if instance.unsaved:
                    self._save_status(instance)
                    # Changes meanwhile are written together, after a pause: fewer writes.
                    if self._stopping.wait(_STATUS_PAUSE_SECONDS):
                        return
            except StopRetrying:
                return
            except Exception:
                log.exception("recording the status of %s failed", instance.instance_id)

    def _record(self, instance_id: str, operation: Any) -> None:
        """Write to the history store, waiting for storage if needed; no store, no write."""
        if self._store is not None:
            store = self._store
            retry_until(lambda: operation(store), self._stopping, f"recording the history of {instance_id}")


@dataclass(frozen=True)
class _Task:
    """One activity attempt; retries are new _Task objects with attempt + 1."""

    name: str
    input_json: str | None
    retry_options: dict[str, int] | None = None
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

    def __init__(
        self,
        runtime: LocalDurableRuntime,
        instance: _Instance,
        input_json: str | None,
        recorded: list[dict[str, Any]] | None = None,
    ) -> None:
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
        # Recovery: stored episodes still to replay, and activities they scheduled whose
        # results were never recorded (dispatched once the stored episodes are used up).
        self._recorded: list[RecordedEpisode] = split_episodes(recorded) if recorded else []
        self._recovering = bool(self._recorded)
        self._undispatched: set[int] = set()
        self._persisted = 0  # how many history events storage has
        self._new_blob = False  # the history blob is still to be (re)created

    def run(self) -> _Ending:
        try:
            return self._run()
        except _Terminated:
            return self._end(TERMINATED, self._instance.terminate_reason)
        except _ExecutionError as error:
            log.error("orchestration %s failed: %s", self._instance.instance_id, error)
            return self._end(FAILED, f"Orchestrator function '{self._instance.name}' failed: {error}")

    def _run(self) -> _Ending:
        episode = self._first_episode()
        while True:
            state = self._replay(episode)
            actions = (state.get("actions") or [[]])[0]  # schema V3: one flat list
            self._check_determinism(actions)
            if state.get("error") is not None or state.get("isDone"):
                self._publish(state)
                if state.get("error") is not None:
                    return self._end(
                        FAILED, f"Orchestrator function '{self._instance.name}' failed: {state['error']}"
                    )
                return self._finish(state, actions)
            # Dispatch first: the activities start while this episode's records are written.
            scheduled = self._retry_bookkeeping(episode) + self._schedule(actions)
            self._publish(state)
            self._commit([*scheduled, self._event(EventType.ORCHESTRATOR_COMPLETED)])
            episode = self._next_episode()

    def _publish(self, state: dict[str, Any]) -> None:
        """Running (written now), and the custom status (written later)."""
        if self._instance.status != RUNNING:
            changes = {"custom_status": state["customStatus"]} if "customStatus" in state else {}
            self._runtime._update(self._instance, status=RUNNING, **changes)
        elif "customStatus" in state:  # the SDK only sends it when truthy
            self._runtime._update(self._instance, later=True, custom_status=state["customStatus"])

    # -- storage and recovery ---------------------------------------------------------
    def _first_episode(self) -> list[dict[str, Any]]:
        if self._recorded:
            return self._recorded[0].incoming
        instance_id = self._instance.instance_id
        self._new_blob = True  # created with the first append, after the first dispatch
        now = utc_now()
        return [
            event(EventType.ORCHESTRATOR_STARTED, now),
            execution_started(self._instance.name, instance_id, uuid.uuid4().hex, self._input_json, now),
        ]

    def _commit(self, produced: list[dict[str, Any]]) -> None:
        """End the episode: into the history, and into storage (a recorded one is there)."""
        if self._recorded:
            produced = self._recorded_produce(self._recorded.pop(0), produced)
            self._history.extend(produced)
            self._persisted = len(self._history)
            return
        self._history.extend(produced)
        self._save_history()

    def _save_history(self) -> None:
        events = self._history[self._persisted :]
        if events:
            instance_id = self._instance.instance_id
            if self._new_blob:
                self._runtime._record(instance_id, lambda store: store.new_history(instance_id))
                self._new_blob = False
            self._runtime._record(instance_id, lambda store: store.append_history(instance_id, events))
            self._persisted = len(self._history)

    def _recorded_produce(
        self, recorded: RecordedEpisode, produced: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The stored events of this episode, after checking the replay asked for the same.

        Stored events are kept as they were (their timestamps, a retry timer's FireAt)."""

        def shape(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
            return [(e["EventType"], e["EventId"], e.get("Name"), e.get("Input")) for e in events]

        if shape(produced) != shape(recorded.produced):
            raise _ExecutionError(
                "Non-deterministic workflow detected: the replay of the stored history scheduled "
                f"{shape(produced)} where the history has {shape(recorded.produced)}."
            )
        for stored in recorded.produced:
            if stored["EventType"] == EventType.TIMER_CREATED and stored["EventId"] in self._timers:
                self._timers[stored["EventId"]] = parse_timestamp(stored["FireAt"])
        return recorded.produced

    def _next_recorded_episode(self) -> list[dict[str, Any]] | None:
        """The next stored episode's events; None (and the pending work dispatched) at the end."""
        if self._recorded:
            incoming = self._recorded[0].incoming
            for delivered in incoming:
                if delivered["EventType"] in (EventType.TASK_COMPLETED, EventType.TASK_FAILED):
                    self._undispatched.discard(delivered["TaskScheduledId"])
                elif delivered["EventType"] == EventType.TIMER_FIRED:
                    self._timers.pop(delivered["TimerId"], None)
            return incoming
        self._recovering = False
        if self._undispatched:
            log.info(
                "orchestration %s: dispatching %d activities again that had no recorded result",
                self._instance.instance_id,
                len(self._undispatched),
            )
        for task_id in sorted(self._undispatched):
            self._dispatch(task_id, self._tasks[task_id])
        self._undispatched.clear()
        return None

    # -- one call into the SDK --------------------------------------------------------
    def _replay(self, episode: list[dict[str, Any]]) -> dict[str, Any]:
        for past in self._history:
            past["IsPlayed"] = True  # drives context.is_replaying
        self._history.extend(episode)
        body = json.dumps(
            {
                "history": self._history,
                "input": self._input_json,  # JSON text: get_input() decodes it
                "instanceId": self._instance.instance_id,
                "isReplaying": False,
                "parentInstanceId": None,
                "upperSchemaVersion": UPPER_SCHEMA_VERSION,
                "upperSchemaVersionNew": UPPER_SCHEMA_VERSION_NEW,
            }
        )
        try:
            return json.loads(self._orchestrator(func.OrchestrationContext(body)))
        except Exception as error:  # the orchestrator raised: its state rides in the message
            message = str(error)
            if _STATE_MARKER not in message:
                raise
            return json.loads(message.split(_STATE_MARKER, 1)[1])

    def _check_determinism(self, actions: list[dict[str, Any]]) -> None:
        """A replay must ask for the same actions, in the same order, as before."""
        replayed = actions[: len(self._seen_actions)]
        if _comparable(replayed) != _comparable(self._seen_actions):
            position = next(
                (
                    i
                    for i, (a, b) in enumerate(zip(replayed, self._seen_actions, strict=False))
                    if _comparable(a) != _comparable(b)
                ),
                len(replayed),
            )
            was = json.dumps(self._seen_actions[position])
            now = json.dumps(replayed[position]) if position < len(replayed) else "nothing"
            raise _ExecutionError(
                f"Non-deterministic workflow detected: action {position} was {was} when first run "
                f"but {now} on replay. Orchestrator code must not depend on clocks, random "
                "values, I/O or global state."
            )
        for action, ids in zip(actions, self._action_ids, strict=False):  # a cancelled timer never fires
            for atom, event_id in zip(atomic_actions(action), ids, strict=False):
                if atom["actionType"] == ActionType.CREATE_TIMER and atom.get("isCanceled"):
                    self._timers.pop(event_id, None)

    def _finish(self, state: dict[str, Any], actions: list[dict[str, Any]]) -> _Ending:
        restart = [a for a in actions if a["actionType"] == ActionType.CONTINUE_AS_NEW]
        if restart:
            return _Ending(RUNNING, next_input=restart[-1].get("input"))
        return self._end(COMPLETED, state.get("output"))

    def _end(self, status: str, output: Any) -> _Ending:
        self._history.append(
            self._event(EventType.EXECUTION_COMPLETED, OrchestrationStatus=status, Result=json.dumps(output))
        )
        self._history.append(self._event(EventType.ORCHESTRATOR_COMPLETED))
        self._recorded = []
        self._save_history()
        return _Ending(status, output)

    # -- turning actions into history and work ----------------------------------------
    def _schedule(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        scheduled: list[dict[str, Any]] = []
        for action in actions[len(self._seen_actions) :]:
            self._action_ids.append([self._schedule_atom(atom, scheduled) for atom in atomic_actions(action)])
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
        scheduled.append(
            self._event(EventType.TASK_SCHEDULED, task_id, Name=task.name, Version="", Input=task.input_json)
        )
        self._tasks[task_id] = task
        if self._recovering:  # its result may be in a stored episode still to come
            self._undispatched.add(task_id)
        else:
            self._dispatch(task_id, task)
        return task_id

    def _dispatch(self, task_id: int, task: _Task) -> None:
        future = self._runtime._pool.submit(task.name, task.input_json)
        self._in_flight += 1
        future.add_done_callback(lambda done: self._completions.put((task_id, done)))

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
                    scheduled.append(
                        self._event(EventType.TIMER_CREATED, timer_id, FireAt=format_timestamp(fire_at))
                    )
                    self._timers[timer_id] = fire_at
                    self._retry_timers[timer_id] = task
            elif past["EventType"] == EventType.TIMER_FIRED and past["TimerId"] in self._retry_timers:
                task = self._retry_timers.pop(past["TimerId"])
                # A retry timer exists only for a task scheduled with retry options.
                if task.retry_options and task.attempt < task.retry_options["maxNumberOfAttempts"]:
                    self._start_task(replace(task, attempt=task.attempt + 1), scheduled)
        return scheduled

    # -- waiting for the next episode -------------------------------------------------
    def _next_episode(self) -> list[dict[str, Any]]:
        """Block until something happened; return [OrchestratorStarted, events...]."""
        if self._recovering:
            recorded = self._next_recorded_episode()
            if recorded is not None:
                return recorded
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
                        "(no activity is running and no timer is pending)"
                    )
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
            task_id, future = (
                self._completions.get(timeout=wait) if wait > 0 else self._completions.get_nowait()
            )
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
            outcome = ActivityOutcome(
                reason=f"Activity function '{name}' failed: {type(error).__name__}: {error}", details=""
            )
        if outcome.failed:
            return self._event(
                EventType.TASK_FAILED, TaskScheduledId=task_id, Reason=outcome.reason, Details=outcome.details
            )
        return self._event(EventType.TASK_COMPLETED, TaskScheduledId=task_id, Result=outcome.output_json)

    def _waits_for_real(self, timer_id: int) -> bool:
        """A retry's back-off is waited for in real time, as DTFx does: what the retried
        activity reads may change meanwhile (a file arriving late), so skipping it would
        change the outcome, not just the speed."""
        return timer_id in self._retry_timers and self._timers[timer_id] > utc_now()

    def _fire(self, timer_id: int) -> None:
        fire_at = self._timers.pop(timer_id)
        self._ready.append(
            event(
                EventType.TIMER_FIRED,
                max(fire_at, self._clock()),
                TimerId=timer_id,
                FireAt=format_timestamp(fire_at),
            )
        )

    def _take_episode(self) -> list[dict[str, Any]]:
        """All plain events together, or else one retry-related event alone."""
        plain = [e for e in self._ready if not self._is_retry_event(e)]
        chosen = plain or self._ready[:1]
        self._ready = [e for e in self._ready if not any(e is c for c in chosen)]
        moment = max([self._clock()] + [parse_timestamp(e["Timestamp"]) for e in chosen])
        for chosen_event in chosen:
            chosen_event["Timestamp"] = format_timestamp(moment)
        return [event(EventType.ORCHESTRATOR_STARTED, moment), *chosen]

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


def _json_or_text(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _status_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_status_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
