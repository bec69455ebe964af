"""The run orchestrator, stepped as a generator with a mocked context (no host, no storage)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import pytest

from core.graph import Pipeline
from core.planner import plan
from core.service import Job
from functions.orchestration import RETRY, run_pipeline

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "pipelines" / "automobile-price-training.json"


class Call:
    """Stands for the task an activity call returns; records what was asked."""

    def __init__(self, name: str, payload: Any) -> None:
        self.name, self.payload = name, payload


def make_context(job: Job) -> Mock:
    ctx = Mock()
    ctx.get_input.return_value = job.model_dump(mode="json")
    ctx.call_activity.side_effect = lambda name, payload: Call(name, payload)
    ctx.call_activity_with_retry.side_effect = lambda name, retry, payload: Call(name, payload)
    ctx.task_all.side_effect = lambda tasks: list(tasks)
    return ctx


def the_job() -> Job:
    return Job(run_id="r1", experiment="e", plan=plan(Pipeline.model_validate(json.loads(SAMPLE.read_text()))))


def fake_outputs(node_id: str) -> dict[str, str]:
    return {port: f"artifacts/{node_id}-{port}" for port in
            ("dataset", "results_dataset", "cleaned_dataset", "cleaning_transformation",
             "results_dataset1", "results_dataset2", "untrained_model", "trained_model",
             "scored_dataset", "evaluation_results")}


def drive(job: Job, fail_node: str | None = None, raise_in: str | None = None) -> tuple[Mock, list, Any]:
    """Run the generator to the end, answering each yield like the durable runtime would."""
    ctx = make_context(job)
    gen = run_pipeline.build().get_user_function().orchestrator_function(ctx)
    yielded: list = []
    answer: Any = None
    try:
        while True:
            task = gen.send(answer) if yielded else next(gen)
            yielded.append(task)
            if isinstance(task, list):  # a task_all over run_node calls
                ids = [t.payload["node"]["id"] for t in task]
                if raise_in in ids:
                    answer = None
                    task = gen.throw(Exception("Activity function 'run_node' failed: OSError: disk"))
                    yielded.append(task)
                    continue
                answer = [{"node_id": i, "status": "Failed" if i == fail_node else "Finished",
                           "outputs": {} if i == fail_node else fake_outputs(i),
                           "error": "Column 'price' not found" if i == fail_node else None} for i in ids]
            else:
                answer = None
    except StopIteration as stop:
        return ctx, yielded, stop.value


def test_stages_fan_out_in_plan_order_with_retry_policy():
    ctx, yielded, result = drive(the_job())
    stages = [[t.payload["node"]["id"] for t in y] for y in yielded if isinstance(y, list)]
    assert stages == the_job().plan.stages
    assert stages[0] == ["automobile", "learner"]  # independent nodes run side by side
    assert all(c.args[1] is RETRY for c in ctx.call_activity_with_retry.call_args_list)
    assert result == {"run_id": "r1", "status": "Finished", "failed_node": None}


def test_each_node_receives_references_to_its_upstream_outputs():
    _, yielded, _ = drive(the_job())
    requests = {t.payload["node"]["id"]: t.payload for y in yielded if isinstance(y, list) for t in y}
    assert requests["train"]["inputs"] == {"untrained_model": "artifacts/learner-untrained_model",
                                           "dataset": "artifacts/split-results_dataset1"}
    assert requests["score"]["inputs"]["dataset"] == "artifacts/split-results_dataset2"


def test_run_is_opened_and_closed_by_activities():
    _, yielded, _ = drive(the_job())
    assert yielded[0].name == "run_started"
    assert yielded[-1].name == "run_finished"
    assert yielded[-1].payload == {"run_id": "r1", "failed_node": None, "error": None}


def test_a_failed_node_stops_later_stages_and_fails_the_run():
    _, yielded, result = drive(the_job(), fail_node="train")
    ran = [t.payload["node"]["id"] for y in yielded if isinstance(y, list) for t in y]
    assert "score" not in ran and "evaluate" not in ran
    assert yielded[-1].payload == {"run_id": "r1", "failed_node": "train", "error": "Column 'price' not found"}
    assert result["status"] == "Failed"


def test_exhausted_retries_fail_the_run_with_the_activity_error():
    _, yielded, result = drive(the_job(), raise_in="split")
    assert yielded[-1].name == "run_finished"
    assert yielded[-1].payload["failed_node"] == "split"
    assert "OSError: disk" in yielded[-1].payload["error"]
    assert result["status"] == "Failed"


def test_progress_is_published_per_stage():
    ctx, _, _ = drive(the_job())
    statuses = [c.args[0] for c in ctx.set_custom_status.call_args_list]
    assert statuses[0]["nodes_done"] == 0 and statuses[0]["nodes_total"] == 8
    assert [s["nodes_done"] for s in statuses[1:-1]] == [2, 3, 4, 5, 6, 7]
    assert statuses[-1] == {"stage": "finished", "nodes_done": 8, "nodes_total": 8, "failed_node": None}


@pytest.mark.parametrize("bad", [{"run_id": "x"}, {}])
def test_a_malformed_input_fails_fast(bad):
    ctx = Mock()
    ctx.get_input.return_value = bad
    gen = run_pipeline.build().get_user_function().orchestrator_function(ctx)
    with pytest.raises(Exception, match="validation error"):
        next(gen)


# ---- score_file ---------------------------------------------------------------------------------
from functions.orchestration import score_file  # noqa: E402

REQUEST = {"instance_id": "batch-1", "blob": "batch-input/ep/f.csv", "etag": "e", "endpoint": "ep", "file": "f.csv"}


def drive_score_file(prepared: dict, fail_batches: bool = False) -> tuple[list, Any]:
    ctx = make_context(Job(run_id="x", experiment="e", plan=plan(Pipeline.model_validate(
        json.loads(SAMPLE.read_text())))))
    ctx.get_input.return_value = REQUEST
    gen = score_file.build().get_user_function().orchestrator_function(ctx)
    yielded: list = []
    answer: Any = None
    try:
        task = next(gen)
        while True:
            yielded.append(task)
            if isinstance(task, list):
                if fail_batches:
                    task = gen.throw(Exception("Activity function 'batch_score' failed: OSError: gone"))
                    continue
                answer = [{"index": t.payload["chunk"]["index"], "ref": f"artifacts/{t.payload['chunk']['index']}",
                           "rows": 10, "error": None} for t in task]
            elif task.name == "batch_prepare":
                answer = prepared
            else:
                answer = {"status": "done"}
            task = gen.send(answer)
    except StopIteration as stop:
        return yielded, stop.value


def prepared(n: int) -> dict:
    return {"status": "Ready", "run_id": "batch-1", "pipeline_ref": "artifacts/p",
            "settings": {"mini_batch_rows": 10, "output": "all", "id_column": None, "error_threshold": 0},
            "chunks": [{"index": i, "ref": f"artifacts/c{i}", "rows": 10, "first_row": 10 * i} for i in range(n)]}


def test_score_file_fans_out_one_activity_per_mini_batch_then_joins():
    yielded, result = drive_score_file(prepared(4))
    assert [getattr(t, "name", "fan-out") for t in yielded] == ["batch_prepare", "fan-out", "batch_finish"]
    assert [t.payload["chunk"]["index"] for t in yielded[1]] == [0, 1, 2, 3]
    finish = yielded[2].payload
    assert [r["index"] for r in finish["results"]] == [0, 1, 2, 3] and finish["error"] is None
    assert result == {"status": "done"}


def test_score_file_stops_after_prepare_for_duplicates_and_bad_files():
    for status in ("Duplicate", "Failed"):
        yielded, result = drive_score_file({"status": status, "run_id": "batch-1", "error": "why"})
        assert [t.name for t in yielded] == ["batch_prepare"]
        assert result["status"] == status


def test_score_file_reports_mini_batches_that_kept_failing():
    yielded, _ = drive_score_file(prepared(3), fail_batches=True)
    finish = yielded[-1].payload
    assert finish["results"] is None and "OSError: gone" in finish["error"]


# ---- mini-batches inside a run ------------------------------------------------------------------
def test_a_split_scoring_node_fans_out_its_mini_batches_then_joins_them():
    ctx = make_context(the_job())
    gen = run_pipeline.build().get_user_function().orchestrator_function(ctx)
    fan_outs: list[list[str]] = []
    task = next(gen)
    try:
        while True:
            if isinstance(task, list):
                names = [t.name for t in task]
                fan_outs.append(names)
                if names[0] == "run_node":
                    answer = [{"node_id": t.payload["node"]["id"], "status": "Running" if t.payload["node"]["id"] == "score"
                               else "Finished", "outputs": {} if t.payload["node"]["id"] == "score"
                               else fake_outputs(t.payload["node"]["id"]), "error": None,
                               "chunks": ["artifacts/c0", "artifacts/c1"] if t.payload["node"]["id"] == "score" else []}
                              for t in task]
                elif names[0] == "run_chunk":
                    assert [t.payload["index"] for t in task] == [0, 1]
                    assert [t.payload["chunk"] for t in task] == ["artifacts/c0", "artifacts/c1"]
                    answer = [{"node_id": "score", "index": t.payload["index"],
                               "outputs": {"scored_dataset": f"artifacts/s{t.payload['index']}"}, "error": None}
                              for t in task]
                else:
                    assert [len(t.payload["outcomes"]) for t in task] == [2]
                    answer = [{"node_id": "score", "status": "Finished",
                               "outputs": {"scored_dataset": "artifacts/joined"}, "error": None, "chunks": []}]
            else:
                answer = None
                if task.name == "run_finished":
                    assert task.payload["error"] is None
            task = gen.send(answer)
    except StopIteration as stop:
        assert stop.value["status"] == "Finished"
    assert ["run_chunk", "run_chunk"] in fan_outs and ["join_chunks"] in fan_outs
    evaluate = next(t for t in ctx.call_activity_with_retry.call_args_list
                    if t.args[0] == "run_node" and t.args[2]["node"]["id"] == "evaluate")
    assert evaluate.args[2]["inputs"] == {"scored_dataset": "artifacts/joined"}
