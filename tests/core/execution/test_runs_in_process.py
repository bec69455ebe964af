"""The run engine against a real Azurite: reuse at submit, run settings, retries, late writes."""

from __future__ import annotations

import uuid

import pytest

from core.execution.engine import RunMachine
from core.execution.steps import PipelineSteps, run_in_process
from core.pipelines.document import Pipeline
from core.registry import runs
from core.registry.runs import RunStatus
from core.service.facade import Submission
from tests.core.service.test_service import tutorial


def unique_fraction() -> float:
    """A training fraction of our own (tests/core/execution/test_reuse.py draws from 0.4-0.5: a split of
    the same rows would be reused from its runs by content, and theirs from ours)."""
    return round(0.6 + uuid.uuid4().int % 10**6 / 10**6 * 0.3, 7)


def experiment() -> str:
    return f"engine-{uuid.uuid4().hex[:6]}"


def with_settings(**per_node: dict) -> Pipeline:
    doc = tutorial().model_dump(mode="json")
    for node in doc["nodes"]:
        node["run_settings"] = per_node.get(node["id"], {})
    return Pipeline.model_validate(doc)


def test_a_fully_reused_run_is_finished_when_submitted_and_dispatches_nothing(service):
    fraction = {"training_fraction": unique_fraction()}
    run, job = service.submit(
        Submission(experiment=experiment(), pipeline=tutorial(), parameter_assignments=fraction)
    )
    assert run.status == RunStatus.NOT_STARTED and job.reused.keys() <= {
        "automobile",
        "learner",
        "select",
        "clean",
    }
    service.run_in_process(job)
    again, job2 = service.submit(
        Submission(experiment=experiment(), pipeline=tutorial(), parameter_assignments=fraction)
    )
    assert again.status == RunStatus.FINISHED and set(job2.reused) == set(job2.plan.nodes)
    view = service.get_run(again.run_id)
    assert view["status"] == view["Status"]["StatusCode"] == "Finished" and view["Id"] == again.run_id
    first_train = service.get_node(run.run_id, "train")  # itself reused if an earlier split had these rows
    assert view["nodes"]["train"]["reused_from"] == (first_train["reused_from"] or f"{run.run_id}/train")
    assert view["metrics"]["evaluate"] == service.get_run(run.run_id)["metrics"]["evaluate"]


def test_a_partly_reused_run_dispatches_only_what_must_run(service):
    fraction = {"training_fraction": unique_fraction()}
    _first, job = service.submit(
        Submission(experiment=experiment(), pipeline=tutorial(), parameter_assignments=fraction)
    )
    service.run_in_process(job)
    _, changed = service.submit(
        Submission(
            experiment=experiment(),
            pipeline=tutorial(),
            parameter_assignments={"training_fraction": unique_fraction()},
        )
    )
    assert set(changed.reused) == {"automobile", "learner", "select", "clean"}
    machine = RunMachine(changed.plan, resolved=changed.reused)
    assert [s.node_id for s in machine.take_ready()] == ["split"]


def test_run_settings_are_not_part_of_the_reuse_key(service):
    fraction = {"training_fraction": unique_fraction()}
    _, job = service.submit(
        Submission(experiment=experiment(), pipeline=tutorial(), parameter_assignments=fraction)
    )
    service.run_in_process(job)
    settings = {"timeout_seconds": 600, "max_retries": 2, "retry_backoff_seconds": 1}
    run, job2 = service.submit(
        Submission(
            experiment=experiment(),
            parameter_assignments=fraction,
            pipeline=with_settings(train=settings, score={"mini_batch_rows": 7}),
        )
    )
    assert run.status == RunStatus.FINISHED and set(job2.reused) == set(job2.plan.nodes)
    assert job2.plan.nodes["train"].run_settings.max_retries == 2


def test_a_scoring_node_takes_its_own_mini_batch_size(service):
    _, job = service.submit(
        Submission(
            experiment=experiment(),
            regenerate_outputs=True,
            pipeline=with_settings(score={"mini_batch_rows": 20}),
        )
    )
    service.run_in_process(job)
    view = service.get_run(job.run_id)
    assert view["status"] == "Finished"
    assert view["nodes"]["score"]["note"] == "scored in 3 mini-batches of up to 20 rows"


def test_a_refused_node_with_retries_left_is_tried_again_and_shows_its_attempts(service):
    doc = with_settings(train={"max_retries": 2}).model_dump(mode="json")
    doc["nodes"][5]["parameters"]["Label column"] = "no-such-column"
    _, job = service.submit(Submission(experiment=experiment(), pipeline=Pipeline.model_validate(doc)))
    outcome = service.run_in_process(job)
    train = service.get_node(job.run_id, "train")
    assert outcome.failed_node == "train" and train["status"] == "Failed" and train["attempts"] == 3
    assert any("attempt 2 of 3 failed; trying again" in line for line in train["logs"])
    assert service.get_node(job.run_id, "score")["status"] == "Skipped"


def test_a_late_activity_does_not_overwrite_a_canceled_node(service):
    _, job = service.submit(Submission(experiment=experiment(), pipeline=tutorial(), regenerate_outputs=True))
    service.record_canceled(job.run_id)
    machine = RunMachine(job.plan)
    step = machine.take_ready()[0]
    name, payload = PipelineSteps(job).call(machine, step)
    answer = service.activity(name, payload)  # the activity was already on its way when the run ended
    assert answer["status"] == "Canceled"
    record = runs.get_node(service.store, job.run_id, step.node_id)
    assert record.status == RunStatus.CANCELED and record.outputs == {} and record.attempts == 0
    with pytest.raises(Exception, match="has already ended"):
        service.cancelable_run(job.run_id)


def test_the_in_process_runner_retries_infrastructure_faults_like_the_orchestrator(service):
    _, job = service.submit(Submission(experiment=experiment(), pipeline=tutorial(), regenerate_outputs=True))
    calls: list[str] = []

    def flaky(name: str, payload: dict) -> dict:
        calls.append(payload["node"]["id"])
        if payload["node"]["id"] == "select" and calls.count("select") < 3:
            raise OSError("storage hiccup")
        return service.activity(name, payload)

    machine = run_in_process(RunMachine(job.plan), PipelineSteps(job), flaky)
    assert calls.count("select") == 3 and machine.outcome().status == RunStatus.FINISHED
