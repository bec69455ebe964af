"""Chains (core/execution/executor.run_chain): a node and its followers in one activity.

What must hold: each node still gets its own record (status, times, attempts, outputs), a node
is recorded Finished only once its outputs are stored, the answer comes after every write, a
follower that cannot start is left to a step of its own, and a canceled run stops the chain.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from core.execution import executor
from core.execution.steps import PipelineSteps, run_in_process
from core.registry import runs
from core.registry.runs import RunStatus
from core.service.facade import Submission
from tests.core.service.test_service import tutorial


def submitted(service) -> Any:
    _, job = service.submit(
        Submission(experiment=f"chains-{uuid.uuid4().hex[:6]}", pipeline=tutorial(), regenerate_outputs=True)
    )
    return job


def run_counting(service, job) -> tuple[Any, list[tuple[str, tuple[str, ...]]]]:
    """Run ``job`` in process; the activities called, as (node, followers)."""
    calls: list[tuple[str, tuple[str, ...]]] = []

    def call(name: str, payload: dict) -> Any:
        calls.append((payload["node"]["id"], tuple(f["node"]["id"] for f in payload.get("then", []))))
        return service.activity(name, payload)

    return run_in_process(job.machine(), PipelineSteps(job), call), calls


def stored(service, ref: str) -> bool:
    container, _, name = ref.partition("/")
    return service.store.blob_metadata(container, name) is not None


def test_the_tutorial_runs_in_three_activities_and_every_node_keeps_its_own_record(service):
    job = submitted(service)
    machine, calls = run_counting(service, job)
    assert machine.outcome().status == RunStatus.FINISHED
    assert sorted(calls) == [
        ("automobile", ("select", "clean", "split")),
        ("learner", ()),
        ("train", ("score", "evaluate")),
    ]
    records = {n.node_id: n for n in runs.get_nodes(service.store, job.run_id)}
    assert {r.status for r in records.values()} == {RunStatus.FINISHED}
    for record in records.values():
        assert record.attempts == 1 and record.started_at <= record.ended_at
        assert record.outputs and all(stored(service, ref) for ref in record.outputs.values())
    assert records["select"].ended_at <= records["clean"].started_at  # one after the other
    assert "Coefficient_of_Determination" in records["evaluate"].metrics


def test_a_follower_that_cannot_start_is_left_to_a_step_of_its_own(service, monkeypatch):
    job = submitted(service)
    real, faults = executor._inputs, []

    def flaky(component, request, artifacts):
        if request.node.id == "clean" and not faults:
            faults.append(request.node.id)
            raise OSError("storage hiccup")
        return real(component, request, artifacts)

    monkeypatch.setattr(executor, "_inputs", flaky)
    machine, calls = run_counting(service, job)
    assert machine.outcome().status == RunStatus.FINISHED
    assert ("clean", ("split",)) in calls  # the rest of the chain, dispatched again from clean
    clean = runs.get_node(service.store, job.run_id, "clean")
    assert clean.status == RunStatus.FINISHED and clean.attempts == 2


def test_a_failed_write_behind_fails_the_whole_chain_and_nothing_is_finished_without_its_outputs(
    service, monkeypatch
):
    job = submitted(service)
    real = executor._finished

    def broken(writer, *args, **kwargs):
        if writer.record.node_id == "clean":
            raise OSError("storage went away")
        return real(writer, *args, **kwargs)

    monkeypatch.setattr(executor, "_finished", broken)
    machine = job.machine()
    [head] = [s for s in machine.take_ready() if s.node_id == "automobile"]
    name, payload = PipelineSteps(job).call(machine, head)
    with pytest.raises(OSError, match="storage went away"):  # the orchestrator retries the chain
        service.activity(name, payload)
    records = {r.node_id: r for r in runs.get_nodes(service.store, job.run_id)}
    assert records["clean"].status == RunStatus.RUNNING
    assert records["select"].status == RunStatus.FINISHED
    for record in records.values():
        if record.status == RunStatus.FINISHED:
            assert all(stored(service, ref) for ref in record.outputs.values())


def test_a_run_canceled_mid_chain_stops_it_and_keeps_the_canceled_records(service, monkeypatch):
    job = submitted(service)
    real = executor._run

    def cancel_during_select(component, params, values, ctx):
        produced = real(component, params, values, ctx)
        if component.__name__ == "SelectColumnsInDataset":
            service.record_canceled(job.run_id, "ada")
        return produced

    monkeypatch.setattr(executor, "_run", cancel_during_select)
    machine = job.machine()
    [head] = [s for s in machine.take_ready() if s.node_id == "automobile"]
    name, payload = PipelineSteps(job).call(machine, head)
    answer = service.activity(name, payload)
    followers = [f["node_id"] for f in answer["followers"]]
    assert "split" not in followers  # nothing after the cancel ran
    for node_id in ("select", "clean", "split"):
        record = runs.get_node(service.store, job.run_id, node_id)
        assert record.status == RunStatus.CANCELED and record.outputs == {}


def test_a_node_s_first_claim_is_one_write_without_reading_it(service, monkeypatch):
    job = submitted(service)
    assert set(job.node_etags) == set(job.plan.nodes)
    reads: list[str] = []
    real = type(service.store).get

    def counting(self, table, partition, row):
        if table == runs.NODES and partition == job.run_id:
            reads.append(row)
        return real(self, table, partition, row)

    monkeypatch.setattr(type(service.store), "get", counting)
    machine, _ = run_counting(service, job)
    assert machine.outcome().status == RunStatus.FINISHED
    assert [r for r in reads if r in job.plan.nodes] == []
    assert {n.attempts for n in runs.get_nodes(service.store, job.run_id)} == {1}


def test_the_last_step_records_the_run_finished_and_the_orchestrator_keeps_that_end(service):
    job = submitted(service)
    machine = job.machine()
    steps = PipelineSteps(job)
    for step in machine.take_ready():
        steps.accept(machine, step, service.activity(*steps.call(machine, step)))
    [last] = machine.take_ready()
    name, payload = steps.call(machine, last)
    assert last.closes and payload["close"]["experiment"] == job.experiment
    steps.accept(machine, last, service.activity(name, payload))
    run = runs.get_run(service.store, job.run_id)
    assert run.status == RunStatus.FINISHED and run.ended_at is not None  # before the orchestrator said so
    assert service.get_run(job.run_id)["metrics"]["evaluate"]
    service.run_finished(job.run_id, machine.outcome(), job.plan_key)  # what the orchestrator does next
    assert runs.get_run(service.store, job.run_id).ended_at == run.ended_at
