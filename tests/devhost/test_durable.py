"""The local durable runtime, driving the sample orchestrators through the SDK's replay engine."""

import json
import os
import time

import pytest

from devhost.durable import InstanceExistsError, UnknownOrchestratorError
from devhost.history import EventType

TIMEOUT = 15


def run(runtime, name, payload=None, instance_id=None):
    instance_id = runtime.start_new(name, json.dumps(payload), instance_id)
    return runtime.wait(instance_id, TIMEOUT)


def event_types(runtime, instance_id, *wanted):
    history = runtime.get_status(instance_id, show_history=True)["historyEvents"]
    return [e["EventType"] for e in history if not wanted or e["EventType"] in wanted]


def test_fan_out_returns_results_in_order_with_custom_status(thread_runtime):
    status = run(thread_runtime, "fan_out", {"items": ["a", "b", "c", "d"], "seconds": 0})
    assert status["runtimeStatus"] == "Completed"
    assert [r["item"] for r in status["output"]] == ["a", "b", "c", "d"]
    assert status["customStatus"] == {"stage": "done", "total": 4}
    assert status["input"] == {"items": ["a", "b", "c", "d"], "seconds": 0}
    assert set(status) == {
        "name",
        "instanceId",
        "runtimeStatus",
        "input",
        "customStatus",
        "output",
        "createdTime",
        "lastUpdatedTime",
    }


def test_fan_out_runs_activities_in_parallel_worker_processes(process_runtime):
    started = time.perf_counter()
    status = run(process_runtime, "fan_out", {"items": ["x", "y"], "seconds": 1})
    elapsed = time.perf_counter() - started
    assert status["runtimeStatus"] == "Completed", status["output"]
    first, second = status["output"]
    assert elapsed < 1.8
    assert first["pid"] != second["pid"] and os.getpid() not in (first["pid"], second["pid"])
    assert first["start"] < second["end"] and second["start"] < first["end"]  # overlapping


@pytest.mark.parametrize("workers", ["thread", "process"])
def test_retry_succeeds_after_failures(workers, thread_runtime, process_runtime, tmp_path):
    runtime = thread_runtime if workers == "thread" else process_runtime
    job = {"counter": str(tmp_path / "attempts"), "failures": 2, "attempts": 3}
    status = run(runtime, "with_retry", job)
    assert status["output"] == "ok after 3 attempts"
    # each failed attempt is followed by a retry timer, then a new TaskScheduled
    assert event_types(runtime, status["instanceId"], 4, 5, 6, 10, 11) == [4, 6, 10, 11, 4, 6, 10, 11, 4, 5]


def test_retry_gives_up_after_max_attempts(thread_runtime, tmp_path):
    job = {"counter": str(tmp_path / "attempts"), "failures": 5, "attempts": 2}
    status = run(thread_runtime, "with_retry", job)
    assert status["runtimeStatus"] == "Failed"
    assert "Activity function 'flaky' failed: RuntimeError: flaky failure 2" in status["output"]
    assert (tmp_path / "attempts").read_text() == "xx"
    # DTFx waits for one more retry timer after the last failed attempt
    assert event_types(thread_runtime, status["instanceId"], 4, 5, 6, 10, 11) == [4, 6, 10, 11, 4, 6, 10, 11]


def test_activity_failure_can_be_caught(thread_runtime):
    status = run(thread_runtime, "catches_failure")
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == ("Activity function 'always_fails' failed: ValueError: always fails: caught ")


def test_uncaught_activity_failure_fails_the_orchestration(thread_runtime):
    status = run(thread_runtime, "lets_failure_through")
    assert status["runtimeStatus"] == "Failed"
    assert status["output"].startswith(
        "Orchestrator function 'lets_failure_through' failed: "
        "Activity function 'always_fails' failed: "
        "ValueError: always fails: uncaught"
    )
    assert "Traceback" in status["output"]  # TaskFailed Details carry the activity's traceback


def test_non_determinism_is_detected(thread_runtime):
    status = run(thread_runtime, "nondeterministic")
    assert status["runtimeStatus"] == "Failed"
    assert "Non-deterministic workflow detected" in status["output"]
    assert event_types(thread_runtime, status["instanceId"])[-2:] == [
        EventType.EXECUTION_COMPLETED,
        EventType.ORCHESTRATOR_COMPLETED,
    ]


def test_timers_run_in_virtual_time(thread_runtime):
    started = time.perf_counter()
    status = run(thread_runtime, "timeout_race")
    assert status["output"] == {"winner": "fast", "slept_seconds": 3600.0}
    assert time.perf_counter() - started < 5


def test_continue_as_new_restarts_with_new_input(thread_runtime):
    status = run(thread_runtime, "counter", 0)
    assert (status["runtimeStatus"], status["output"], status["input"]) == ("Completed", 3, 3)


def test_missing_activity_fails_the_orchestration(thread_runtime):
    status = run(thread_runtime, "calls_missing_activity")
    assert status["runtimeStatus"] == "Failed"
    assert "The function 'no_such_activity' doesn't exist" in status["output"]


def test_unsupported_actions_fail_with_a_clear_message(thread_runtime):
    status = run(thread_runtime, "waits_for_event")
    assert status["runtimeStatus"] == "Failed"
    assert "devhost does not support WAIT_FOR_EXTERNAL_EVENT actions" in status["output"]


def test_a_running_instance_id_cannot_be_started_twice(thread_runtime):
    job = json.dumps({"items": ["a"], "seconds": 0.5})
    instance_id = thread_runtime.start_new("fan_out", job, "fixed-id")
    with pytest.raises(InstanceExistsError, match="fixed-id"):
        thread_runtime.start_new("fan_out", job, "fixed-id")
    assert thread_runtime.wait(instance_id, TIMEOUT)["runtimeStatus"] == "Completed"
    assert thread_runtime.start_new("fan_out", job, "fixed-id") == "fixed-id"  # finished: replaced


def test_terminate(thread_runtime):
    instance_id = thread_runtime.start_new("fan_out", json.dumps({"items": ["a"], "seconds": 0.5}))
    assert thread_runtime.terminate(instance_id, "no longer needed") is True
    status = thread_runtime.wait(instance_id, TIMEOUT)
    assert (status["runtimeStatus"], status["output"]) == ("Terminated", "no longer needed")
    assert thread_runtime.terminate(instance_id, "again") is False
    with pytest.raises(KeyError):
        thread_runtime.terminate("no-such-instance", "reason")


def test_unknown_orchestrators_and_instances(thread_runtime):
    with pytest.raises(UnknownOrchestratorError, match="doesn't exist"):
        thread_runtime.start_new("nope")
    assert thread_runtime.get_status("no-such-instance") is None
    with pytest.raises(ValueError):
        thread_runtime.start_new("fan_out", "{not json")
