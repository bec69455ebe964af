"""Schedules against a real Azurite, with a clock the test moves."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from core.clock import ManualClock
from core.errors import InvalidRequest
from core.execution.engine import RunOutcome
from core.registry import endpoints, runs
from core.registry.runs import RunStatus
from core.schedules import records as schedules
from core.schedules.records import ScheduleSpec
from core.service.facade import Service
from tests.conftest import ROOT
from tests.core.schedules.helpers import publish_endpoint, unique

T0 = datetime(2031, 1, 6, 10, 0, 30, tzinfo=UTC)  # a Monday; later than any real blob


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture(autouse=True)
def no_schedules_left(store):
    """Every schedule of a test is deleted after it, so later ticks see only their own."""
    yield
    for schedule in schedules.list_all(store):
        schedules.delete(store, schedule.endpoint, schedule.id)


@pytest.fixture
def svc(store, settings, clock) -> Service:
    return Service(store, settings, ROOT / "samples" / "datasets", clock=clock)


def hourly(experiment: str, **extra) -> ScheduleSpec:
    return ScheduleSpec.model_validate(
        {
            "name": "hourly",
            "submission": {"ExperimentName": experiment},
            "recurrence": {"frequency": "Hour", "interval": 1, "start_time": "2031-01-06T09:00:00Z"},
            **extra,
        }
    )


def run_ids(svc: Service, endpoint: str, schedule_id: str) -> list[str]:
    view = svc.schedules.get(endpoint, schedule_id)
    return [f["run_id"] for f in view["last_runs"] if f.get("run_id")]


def finish(svc: Service, started) -> None:
    for s in started:
        svc.run_finished(s.run.run_id, RunOutcome(status=RunStatus.FINISHED))


def test_a_recurrence_fires_once_per_due_time_and_never_at_creation(svc, clock):
    endpoint, _ = publish_endpoint(svc)
    experiment = unique("exp")
    created = svc.schedules.create(endpoint, hourly(experiment), "tester")
    assert created["next_due"] == "2031-01-06T11:00:00+00:00"
    assert svc.schedules.tick() == []  # not due yet: creation runs nothing
    clock.set(T0 + timedelta(minutes=30))  # 10:30:30
    assert svc.schedules.tick() == []
    clock.set(datetime(2031, 1, 6, 11, 0, 5, tzinfo=UTC))
    first = svc.schedules.tick()
    assert len(first) == 1 and svc.schedules.tick() == []  # the same due time never twice
    finish(svc, first)
    clock.set(datetime(2031, 1, 6, 12, 0, 1, tzinfo=UTC))
    second = svc.schedules.tick()
    assert len(second) == 1
    view = svc.schedules.get(endpoint, created["id"])
    assert view["next_due"] == "2031-01-06T13:00:00+00:00"
    assert [f["due"] for f in view["last_runs"]] == ["2031-01-06T12:00:00Z", "2031-01-06T11:00:00Z"]
    run = runs.get_run(svc.store, second[0].run.run_id)
    assert (
        run.experiment == experiment
        and run.endpoint == endpoint
        and run.submitted_by == f"schedule:{created['id']}"
    )
    assert view["last_runs"][1]["run_status"] == "Finished"


def test_run_now_is_honoured_once(svc, clock):
    endpoint, _ = publish_endpoint(svc)
    created = svc.schedules.create(endpoint, hourly(unique("exp"), run_now=True), None)
    assert len(svc.schedules.tick()) == 1
    assert svc.schedules.tick() == []
    assert svc.schedules.get(endpoint, created["id"])["next_due"] == "2031-01-06T11:00:00+00:00"


def test_concurrent_ticks_of_two_instances_start_each_due_time_once(store, settings, clock):
    instances = [Service(store, settings, ROOT / "samples" / "datasets", clock=clock) for _ in range(2)]
    endpoint, _ = publish_endpoint(instances[0])
    spec = hourly(unique("exp"), max_concurrent_runs=10)
    created = [instances[0].schedules.create(endpoint, spec, None) for _ in range(3)]
    for hour in (11, 12, 13):
        clock.set(datetime(2031, 1, 6, hour, 0, 2, tzinfo=UTC))
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda i: instances[i % 2].schedules.tick(), range(8)))
        assert sum(len(r) for r in results) == 3  # one run per schedule per due time
    for schedule in created:
        assert len(run_ids(instances[0], endpoint, schedule["id"])) == 3


def test_missed_times_run_once_to_catch_up_or_are_skipped(svc, clock):
    endpoint, _ = publish_endpoint(svc)
    catch_up = svc.schedules.create(endpoint, hourly(unique("exp")), None)
    skip = svc.schedules.create(endpoint, hourly(unique("exp"), missed_runs="skip"), None)
    clock.set(datetime(2031, 1, 6, 17, 20, tzinfo=UTC))  # down from 10:30 to 17:20: six due times missed
    started = svc.schedules.tick()
    assert len(started) == 1
    caught = svc.schedules.get(endpoint, catch_up["id"])
    assert [f["due"] for f in caught["last_runs"]] == ["2031-01-06T17:00:00Z"]
    skipped = svc.schedules.get(endpoint, skip["id"])["last_runs"]
    assert [(f["outcome"], f["due"]) for f in skipped] == [("Skipped", "2031-01-06T17:00:00Z")]
    assert "missed_runs: skip" in skipped[0]["reason"]
    assert svc.schedules.get(endpoint, skip["id"])["next_due"] == "2031-01-06T18:00:00+00:00"


def test_max_concurrent_runs_skips_a_due_time_while_the_last_run_goes_on(svc, clock):
    endpoint, _ = publish_endpoint(svc)
    created = svc.schedules.create(endpoint, hourly(unique("exp")), None)
    clock.set(datetime(2031, 1, 6, 11, 0, 1, tzinfo=UTC))
    first = svc.schedules.tick()
    clock.set(datetime(2031, 1, 6, 12, 0, 1, tzinfo=UTC))
    assert svc.schedules.tick() == []  # the 11:00 run has not ended
    finish(svc, first)
    clock.set(datetime(2031, 1, 6, 13, 0, 1, tzinfo=UTC))
    assert len(svc.schedules.tick()) == 1
    outcomes = [
        (f["outcome"], f["due"][11:16]) for f in svc.schedules.get(endpoint, created["id"])["last_runs"]
    ]
    assert outcomes == [("Submitted", "13:00"), ("Skipped", "12:00"), ("Submitted", "11:00")]


def test_a_disabled_endpoint_or_version_pauses_the_schedule(svc, clock):
    endpoint, _ = publish_endpoint(svc)
    created = svc.schedules.create(endpoint, hourly(unique("exp")), None)
    endpoints.set_status(svc.store, endpoint, "Disabled", "ops")
    clock.set(datetime(2031, 1, 6, 11, 0, 1, tzinfo=UTC))
    assert svc.schedules.tick() == []
    view = svc.schedules.get(endpoint, created["id"])
    assert (
        view["paused"] and view["paused_reason"].startswith("endpoint_disabled") and view["last_runs"] == []
    )
    endpoints.set_status(svc.store, endpoint, "Active", "ops")
    endpoints.set_status(svc.store, endpoint, "Disabled", "ops", version=1)
    clock.set(datetime(2031, 1, 6, 12, 0, 1, tzinfo=UTC))
    assert svc.schedules.tick() == []
    assert svc.schedules.get(endpoint, created["id"])["paused_reason"].startswith("version_disabled")
    endpoints.set_status(svc.store, endpoint, "Active", "ops", version=1)
    clock.set(datetime(2031, 1, 6, 12, 30, tzinfo=UTC))
    assert len(svc.schedules.tick()) == 1  # resumed: the missed 12:00 runs once (catch_up_once)
    view = svc.schedules.get(endpoint, created["id"])
    assert not view["paused"] and view["last_runs"][0]["due"] == "2031-01-06T12:00:00Z"


def test_a_disabled_schedule_does_not_run_and_counts_afresh_when_enabled(svc, clock):
    endpoint, _ = publish_endpoint(svc)
    created = svc.schedules.create(endpoint, hourly(unique("exp")), None)
    svc.schedules.set_status(endpoint, created["id"], "Disabled")
    clock.set(datetime(2031, 1, 6, 15, 0, 1, tzinfo=UTC))
    assert svc.schedules.tick() == []
    view = svc.schedules.set_status(endpoint, created["id"], "Active")
    assert view["next_due"] == "2031-01-06T16:00:00+00:00"
    assert svc.schedules.tick() == []


def test_a_data_change_schedule_starts_one_run_per_new_or_changed_blob(svc, clock):
    endpoint, _ = publish_endpoint(svc)
    prefix = f"{unique('drop')}/"
    csv = b"a,b,c\n1,2,3\n"
    svc.store.put_blob("batch-input", f"{prefix}old.csv", csv)  # there before: not new
    spec = ScheduleSpec.model_validate(
        {
            "name": "on new files",
            "submission": {"ExperimentName": unique("exp")},
            "max_concurrent_runs": 5,
            "data_change": {
                "datastore": "batch-input",
                "path_on_datastore": prefix,
                "polling_interval": 5,
                "data_path_parameter_name": "input_data",
            },
        }
    )
    created = svc.schedules.create(endpoint, spec, None)
    assert svc.schedules.tick() == []
    svc.store.put_blob("batch-input", f"{prefix}one.csv", csv)
    svc.store.put_blob("batch-input", f"{prefix}two.csv", csv)
    clock.set(T0 + timedelta(minutes=2))
    assert svc.schedules.tick() == []  # the next poll is 5 minutes after the last
    clock.set(T0 + timedelta(minutes=5, seconds=1))
    with ThreadPoolExecutor(4) as pool:
        started = [s for r in pool.map(lambda _: svc.schedules.tick(), range(4)) for s in r]
    assert len(started) == 2
    svc.store.put_blob("batch-input", f"{prefix}one.csv", b"a,b,c\n7,8,9\n")  # changed
    clock.set(T0 + timedelta(minutes=11))
    again = svc.schedules.tick()
    assert len(again) == 1
    blobs = sorted(f["blob"] for f in svc.schedules.get(endpoint, created["id"])["last_runs"])
    assert blobs == [f"{prefix}one.csv", f"{prefix}one.csv", f"{prefix}two.csv"]
    run = runs.get_run(svc.store, again[0].run.run_id)
    pinned = svc.artifacts.get_json(run.pipeline_ref)
    data_node = next(n for n in pinned["nodes"] if n["id"] == "data")
    assert data_node["parameters"]["name"].startswith(f"batch-input.{prefix[:-1]}.one.csv")


def test_schedules_that_could_not_submit_are_refused_at_creation(svc):
    endpoint, _ = publish_endpoint(svc)
    spec = ScheduleSpec.model_validate(
        {
            "name": "bad",
            "submission": {"ExperimentName": "e", "ParameterAssignments": {"nope": 1}},
            "pipeline_version": 7,
            "data_change": {"datastore": "batch-input", "data_path_parameter_name": "input_data"},
        }
    )
    with pytest.raises(InvalidRequest) as caught:
        svc.schedules.create(endpoint, spec, None)
    assert [p.code for p in caught.value.problems] == ["unknown_version"]
    spec.pipeline_version = None
    spec.data_change.data_path_parameter_name = "not_a_dataset"
    with pytest.raises(InvalidRequest) as caught:
        svc.schedules.create(endpoint, spec, None)
    assert {p.field for p in caught.value.problems} == {
        "submission.ParameterAssignments.nope",
        "data_change.data_path_parameter_name",
    }
    assert svc.schedules.list(endpoint) == []


def test_a_pinned_version_runs_even_when_the_default_moves_and_pauses_when_it_is_disabled(svc, clock):
    endpoint, _ = publish_endpoint(svc)
    entry = endpoints.get_version(svc.store, endpoint, 1)
    endpoints.publish(
        svc.store,
        endpoint,
        description="v2",
        kind=entry.kind,
        pipeline_name=entry.pipeline_name,
        pipeline_ref=entry.pipeline_ref,
        parameters=entry.parameters,
        set_default=True,
        by="t",
    )
    spec = hourly(unique("exp"))
    spec = ScheduleSpec.model_validate(
        {
            **spec.model_dump(mode="json"),
            "submission": {**spec.submission.model_dump(mode="json"), "PipelineVersion": 1},
        }
    )
    assert spec.pipeline_version == 1  # Azure ML's body field pins it as well
    created = svc.schedules.create(endpoint, spec, None)
    clock.set(datetime(2031, 1, 6, 11, 0, 1, tzinfo=UTC))
    (started,) = svc.schedules.tick()
    assert started.run.endpoint_version == 1
    endpoints.set_status(svc.store, endpoint, "Disabled", "ops", version=1)
    clock.set(datetime(2031, 1, 6, 12, 0, 1, tzinfo=UTC))
    assert svc.schedules.tick() == []
    assert svc.schedules.get(endpoint, created["id"])["paused_reason"].startswith(
        "version_disabled: version 1"
    )


def test_old_firings_are_pruned_but_a_run_still_going_is_kept(svc, clock):
    from core.schedules.tick import Scheduler

    endpoint, _ = publish_endpoint(svc)
    spec = ScheduleSpec.model_validate(
        {
            "name": "every minute",
            "submission": {"ExperimentName": unique("exp")},
            "recurrence": {"frequency": "Minute", "start_time": "2031-01-06T10:00:00Z"},
        }
    )
    created = svc.schedules.create(endpoint, spec, None)
    scheduler = Scheduler(svc.store, clock, svc.submit_to_endpoint, keep_firings=3, prune_every=4)
    for minute in range(1, 13):  # the first due time submits; its run never ends, so the rest are skipped
        clock.set(T0 + timedelta(minutes=minute))
        scheduler.tick()
    rows = sorted(svc.store.partition(schedules.FIRINGS, created["id"]), key=lambda r: r["RowKey"])
    outcomes = [r["outcome"] for r in rows]
    # Pruned at the 12th claim: the newest three, and the run that may still be going.
    assert outcomes == ["Skipped", "Skipped", "Skipped", "Submitted"]


def test_replacing_a_schedule_counts_afresh_and_honours_run_now(svc, clock):
    endpoint, _ = publish_endpoint(svc)
    created = svc.schedules.create(endpoint, hourly(unique("exp")), None)
    clock.set(datetime(2031, 1, 6, 11, 0, 1, tzinfo=UTC))
    finish(svc, svc.schedules.tick())
    clock.set(datetime(2031, 1, 6, 11, 20, tzinfo=UTC))
    daily = ScheduleSpec.model_validate(
        {
            "name": "daily",
            "submission": {"ExperimentName": unique("exp")},
            "recurrence": {"frequency": "Day", "time_of_day": "06:00"},
            "run_now": True,
        }
    )
    view = svc.schedules.replace(endpoint, created["id"], daily, None)
    assert view["name"] == "daily" and view["next_due"] == "2031-01-06T11:20:00+00:00"
    assert len(svc.schedules.tick()) == 1
    assert svc.schedules.get(endpoint, created["id"])["next_due"] == "2031-01-07T06:00:00+00:00"
