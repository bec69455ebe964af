"""Which orchestration states mean a still-active run can never finish."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

from functions.run_watch import START_GRACE, gone_reason

NOW = datetime(2026, 1, 1, tzinfo=UTC)
OLD = NOW - START_GRACE - timedelta(seconds=1)


def status(runtime: str | None, output=None) -> DurableOrchestrationStatus:
    if runtime is None:
        return DurableOrchestrationStatus.from_json("")  # what the client returns on 404
    return DurableOrchestrationStatus.from_json({"runtimeStatus": runtime, "output": output})


@pytest.mark.parametrize(
    "runtime, output, expected",
    [
        ("Terminated", "operator said stop", "The run's orchestration was terminated: operator said stop"),
        (
            "Failed",
            "Orchestrator function 'run_pipeline' failed: boom\nTraceback",
            "The run's orchestration failed: Orchestrator function 'run_pipeline' failed: boom",
        ),
        (
            "Completed",
            {"status": "Finished"},
            "The run's orchestration ended without recording the run's end.",
        ),
        (None, None, "The run's orchestration no longer exists (purged, or lost with its host)."),
        ("Running", None, None),
        ("Pending", None, None),
    ],
)
def test_reasons(runtime, output, expected):
    assert gone_reason(status(runtime, output), OLD, NOW) == expected


def test_a_missing_orchestration_of_a_run_just_recorded_is_not_yet_gone():
    assert gone_reason(status(None), NOW - timedelta(seconds=5), NOW) is None
    assert gone_reason(status("Terminated", "x"), NOW - timedelta(seconds=5), NOW) is not None


def test_a_watched_run_s_orchestration_is_asked_about_at_most_every_few_seconds(monkeypatch):
    from functions import run_watch

    clock = [100.0]
    monkeypatch.setattr(run_watch.time, "monotonic", lambda: clock[0])
    run_id = "r" * 32
    assert run_watch._due(run_id)  # the first read asks
    clock[0] += run_watch.CHECK_EVERY / 2
    assert not run_watch._due(run_id)  # a poll a moment later does not
    assert run_watch._due("s" * 32)  # another run is asked about on its own
    clock[0] += run_watch.CHECK_EVERY
    assert run_watch._due(run_id)  # a few seconds on, it asks again
