"""Orchestration state in storage (Azurite): statuses, histories, and resuming after a crash."""

import json
import threading
import time
import uuid

import pytest
from azure.core.exceptions import ServiceRequestError

from devhost.durable import InstanceExistsError, LocalDurableRuntime
from devhost.history import EventType
from devhost.history_store import (
    BlobHistoryStore,
    StopRetrying,
    container_name,
    retry_until,
    split_episodes,
    trusted_prefix,
)
from tests.devhost.helpers import wait_until

TIMEOUT = 20


@pytest.fixture
def store(azurite):
    return BlobHistoryStore(azurite, f"Hub{uuid.uuid4().hex[:10]}")


def runtime_on(index, store):
    return LocalDurableRuntime(index, workers="thread", max_workers=2, history_store=store)


def types(history, *wanted):
    return [e["EventType"] for e in history if e["EventType"] in wanted]


def test_statuses_and_histories_outlive_the_runtime(index, store):
    first = runtime_on(index, store)
    try:
        instance_id = first.start_new("fan_out", json.dumps({"items": ["a", "b"], "seconds": 0}))
        done = first.wait(instance_id, TIMEOUT)
        history = first.get_status(instance_id, show_history=True)["historyEvents"]
    finally:
        first.shutdown()
    second = runtime_on(index, store)
    try:
        assert second.recover() == 0  # nothing was left running
        stored = second.get_status(instance_id, show_history=True)
        assert {k: v for k, v in stored.items() if k != "historyEvents"} == done
        assert stored["runtimeStatus"] == "Completed"
        assert [e["EventType"] for e in stored["historyEvents"]] == [e["EventType"] for e in history]
        assert instance_id in [s["instanceId"] for s in second.list_statuses()]
    finally:
        second.shutdown()


def test_an_interrupted_orchestration_resumes_and_finishes(index, store):
    """A host stops mid-run: the next one replays the stored episodes, keeps recorded
    results and dispatches again what had none."""
    first = runtime_on(index, store)
    instance_id = first.start_new("steps", json.dumps({"items": ["a", "b", "c"], "seconds": 0.4}))
    recorded = wait_until(
        lambda: [e for e in store.load_history(instance_id) if e["EventType"] == EventType.TASK_COMPLETED],
        timeout=TIMEOUT,
    )
    first.shutdown()  # the orchestration is abandoned: storage still says Running
    assert store.load_status(instance_id)["runtimeStatus"] == "Running"
    first_result = json.loads(recorded[0]["Result"])

    second = runtime_on(index, store)
    try:
        assert second.recover() == 1
        done = second.wait(instance_id, TIMEOUT)
        assert done["runtimeStatus"] == "Completed", done
        assert [r["item"] for r in done["output"]] == ["a", "b", "c"]
        assert done["output"][0] == first_result  # replayed from storage, not run again
        history = second.get_status(instance_id, show_history=True)["historyEvents"]
        scheduled = [e["EventId"] for e in history if e["EventType"] == EventType.TASK_SCHEDULED]
        completed = [e["TaskScheduledId"] for e in history if e["EventType"] == EventType.TASK_COMPLETED]
        assert scheduled == completed == [0, 1, 2]  # one record per task, whatever ran twice
        assert store.load_status(instance_id)["runtimeStatus"] == "Completed"
        assert store.load_history(instance_id) == trusted_prefix(store.load_history(instance_id))
    finally:
        second.shutdown()


def test_a_fan_out_interrupted_before_any_result_runs_again(index, store):
    first = runtime_on(index, store)
    instance_id = first.start_new("fan_out", json.dumps({"items": ["x", "y", "z"], "seconds": 0.5}))
    wait_until(lambda: types(store.load_history(instance_id), EventType.TASK_SCHEDULED), timeout=TIMEOUT)
    first.shutdown()
    second = runtime_on(index, store)
    try:
        second.recover()
        done = second.wait(instance_id, TIMEOUT)
        assert [r["item"] for r in done["output"]] == ["x", "y", "z"]
        assert done["customStatus"] == {"stage": "done", "total": 3}
    finally:
        second.shutdown()


def test_continue_as_new_keeps_only_the_latest_execution(index, store):
    runtime = runtime_on(index, store)
    try:
        instance_id = runtime.start_new("counter", "0")
        assert runtime.wait(instance_id, TIMEOUT)["output"] == 3
        history = store.load_history(instance_id)
        started = [e for e in history if e["EventType"] == EventType.EXECUTION_STARTED]
        assert [e["Input"] for e in started] == ["3"]
    finally:
        runtime.shutdown()


def test_a_start_that_storage_refuses_is_not_acknowledged(index):
    unreachable = BlobHistoryStore(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        "BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;",
        "Hub",
    )
    runtime = runtime_on(index, unreachable)
    try:
        with pytest.raises(Exception) as raised:
            runtime.start_new("fan_out", json.dumps({"items": [], "seconds": 0}), "never-stored")
        assert type(raised.value).__module__.startswith("azure")
        with pytest.raises(Exception):  # noqa: B017 - whatever the unreachable storage raises
            runtime.get_status("never-stored")  # not in memory, and storage cannot say
    finally:
        runtime.shutdown()


def test_only_whole_episodes_are_trusted():
    def ev(kind, **fields):
        return {"EventType": int(kind), "EventId": -1, **fields}

    history = [
        ev(EventType.ORCHESTRATOR_STARTED),
        ev(EventType.EXECUTION_STARTED),
        ev(EventType.TASK_SCHEDULED, EventId=0),
        ev(EventType.ORCHESTRATOR_COMPLETED),
        ev(EventType.ORCHESTRATOR_STARTED),
        ev(EventType.TASK_COMPLETED, TaskScheduledId=0),
    ]
    kept = trusted_prefix(history)
    assert kept == history[:4]
    episodes = split_episodes(history)
    assert [len(e.incoming) for e in episodes] == [2, 2]
    assert [len(e.produced) for e in episodes] == [2, 0]


@pytest.mark.parametrize(
    "hub, name",
    [
        ("DesignerLocalHub", "designerlocalhub-durable"),
        ("a_b--c", "ab-c-durable"),
        ("", "devhosthub-durable"),
    ],
)
def test_container_names_are_valid(hub, name):
    assert container_name(hub) == name


def test_a_history_that_ended_before_its_status_was_written_is_closed(index, store):
    runtime = runtime_on(index, store)
    try:
        instance_id = runtime.start_new("fan_out", json.dumps({"items": ["a"], "seconds": 0}))
        done = runtime.wait(instance_id, TIMEOUT)
    finally:
        runtime.shutdown()
    store.save_status({**done, "runtimeStatus": "Running", "output": None})  # the host died here
    second = runtime_on(index, store)
    try:
        assert second.recover() == 0  # nothing to run again
        assert second.get_status(instance_id)["runtimeStatus"] == "Completed"
        assert store.load_status(instance_id)["output"] == done["output"]
    finally:
        second.shutdown()


def test_retry_until_waits_for_storage_and_gives_up_only_at_shutdown():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ServiceRequestError("connection refused")
        return "written"

    assert retry_until(flaky, threading.Event(), "testing", first_delay=0.01) == "written"
    assert len(calls) == 3

    stopping = threading.Event()
    stopping.set()
    with pytest.raises(StopRetrying):
        retry_until(lambda: (_ for _ in ()).throw(ServiceRequestError("down")), stopping, "testing")
    with pytest.raises(ValueError):  # not a storage error: not retried
        retry_until(lambda: int("x"), threading.Event(), "testing")


def test_purge_forgets_an_ended_instance_and_refuses_a_running_one(index, store):
    runtime = runtime_on(index, store)
    try:
        ended = runtime.start_new("fan_out", json.dumps({"items": ["a"], "seconds": 0}))
        runtime.wait(ended, TIMEOUT)
        running = runtime.start_new("fan_out", json.dumps({"items": ["a"], "seconds": 2}))
        with pytest.raises(InstanceExistsError):
            runtime.purge(running)
        assert runtime.purge(ended) is True
        assert runtime.get_status(ended) is None
        assert store.load_status(ended) is None and store.load_history(ended) == []
        assert runtime.purge(ended) is False
        runtime.wait(running, TIMEOUT)
    finally:
        runtime.shutdown()


def test_only_one_runtime_resumes_a_hub_and_the_next_takes_over_when_it_stops(index, azurite):
    hub = f"Hub{uuid.uuid4().hex[:10]}"
    first_store, second_store = BlobHistoryStore(azurite, hub), BlobHistoryStore(azurite, hub)
    first = runtime_on(index, first_store)
    first.recover()  # holds the hub
    instance_id = first.start_new("steps", json.dumps({"items": ["a", "b", "c"], "seconds": 2}))
    wait_until(
        lambda: types(first_store.load_history(instance_id), EventType.TASK_SCHEDULED), timeout=TIMEOUT
    )
    second = runtime_on(index, second_store)
    try:
        second.start_recovery()
        time.sleep(1)  # waits: the first runtime still drives its instance
        assert second.get_status(instance_id)["runtimeStatus"] == "Running"
        with pytest.raises(KeyError):
            second.wait(instance_id, 0)  # not driven here
        first.shutdown()  # releases the hub: the second resumes what the first left
        done = wait_until(lambda: _waited(second, instance_id), timeout=TIMEOUT)
        assert [r["item"] for r in done["output"]] == ["a", "b", "c"]
    finally:
        first.shutdown()
        second.shutdown()


def _waited(runtime, instance_id):
    try:
        return runtime.wait(instance_id, 0.2)
    except (KeyError, TimeoutError):
        return None


def test_the_custom_status_reaches_storage_while_the_orchestration_runs(index, store):
    runtime = runtime_on(index, store)
    try:
        instance_id = runtime.start_new("fan_out", json.dumps({"items": ["a"], "seconds": 2}))
        wanted = {"stage": "fan-out", "total": 1}
        wait_until(lambda: (store.load_status(instance_id) or {}).get("customStatus") == wanted, TIMEOUT)
        assert store.load_status(instance_id)["runtimeStatus"] == "Running"
        done = runtime.wait(instance_id, TIMEOUT)
        assert store.load_status(instance_id) == done  # the end's own write comes last
    finally:
        runtime.shutdown()
