"""The orchestrators, stepped as generators with a mocked context (no host, no storage).

The fake context hands out task objects; at each ``task_any`` the test picks the winner (the
order activities "finish" in) and gives it its answer, as the durable runtime would.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import pytest

from core.pipelines.document import Pipeline
from core.pipelines.planner import plan
from core.service.facade import Job
from functions.orchestration import run_pipeline, score_file

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "pipelines"
SAMPLE = SAMPLES / "automobile-price-training.json"
CREDIT = SAMPLES / "german-credit-classification.json"
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class Call:
    """Stands for the task an activity call returns; records what was asked."""

    def __init__(self, name: str, payload: Any, retry: Any = None) -> None:
        self.name, self.payload, self.retry, self.result = name, payload, retry, None

    @property
    def node(self) -> str:
        request = self.payload.get("request", self.payload)
        return request["node"]["id"] if "node" in request else ""  # run_started/run_finished: none


class Timer:
    def __init__(self, fire_at: dt.datetime) -> None:
        self.fire_at, self.canceled, self.result = fire_at, False, None

    def cancel(self) -> None:
        self.canceled = True


class AnyOf:
    def __init__(self, tasks: list) -> None:
        self.tasks = list(tasks)


def make_context(job_input: Any, calls: list[Call]) -> Mock:
    def call(name: str, payload: Any, retry: Any = None) -> Call:
        calls.append(Call(name, payload, retry))
        return calls[-1]

    ctx = Mock()
    ctx.get_input.return_value = job_input
    ctx.current_utc_datetime = START
    ctx.call_activity.side_effect = call
    ctx.call_activity_with_retry.side_effect = lambda name, retry, payload: call(name, payload, retry)
    ctx.create_timer.side_effect = Timer
    ctx.task_any.side_effect = AnyOf
    return ctx


def job_of(path: Path = SAMPLE, **changes: Any) -> Job:
    doc = json.loads(path.read_text())
    for node in doc["nodes"]:
        node.update(changes.get(node["id"], {}))
    return Job(
        run_id="r1",
        experiment="e",
        plan=plan(Pipeline.model_validate(doc)),
        continue_on_step_failure=changes.get("continue_on_step_failure", True),
        reused=changes.get("reused", {}),
    )


def outputs_of(node_id: str) -> dict[str, str]:
    return {
        port: f"artifacts/{node_id}-{port}"
        for port in (
            "dataset",
            "results_dataset",
            "cleaned_dataset",
            "cleaning_transformation",
            "results_dataset1",
            "results_dataset2",
            "untrained_model",
            "trained_model",
            "scored_dataset",
            "evaluation_results",
        )
    }


def finished(call: Call) -> dict[str, Any]:
    return {"node_id": call.node, "status": "Finished", "outputs": outputs_of(call.node)}


Pick = Callable[[AnyOf], tuple[Any, Any]]  # (winner, its result)


def first_activity(answer: Callable[[Call], Any] = finished) -> Pick:
    def pick(any_of: AnyOf) -> tuple[Any, Any]:
        call = next(t for t in any_of.tasks if isinstance(t, Call))
        return call, answer(call)

    return pick


class Run:
    """Steps one orchestration to its end and keeps what it did."""

    def __init__(self, orchestrator: Any, job_input: Any, pick: Pick) -> None:
        self.calls: list[Call] = []  # every activity, in call order
        self.ctx = make_context(job_input, self.calls)
        self.waits: list[AnyOf] = []
        gen = orchestrator.build().get_user_function().orchestrator_function(self.ctx)
        answer: Any = None
        try:
            task = next(gen)
            while True:
                if isinstance(task, AnyOf):
                    self.waits.append(task)
                    side = [
                        t
                        for t in task.tasks
                        if isinstance(t, Call) and t.name in ("run_started", "nodes_ended")
                    ]
                    winner, result = (side[0], None) if side else pick(task)  # bookkeeping ends first
                    winner.result = result
                    answer = winner
                else:
                    answer = None
                task = gen.send(answer)
        except StopIteration as stop:
            self.value = stop.value

    def activity(self, name: str) -> list[dict]:
        return [c.payload for c in self.calls if c.name == name]

    @property
    def finished_payload(self) -> dict:
        return self.activity("run_finished")[-1]


def test_independent_nodes_start_together_and_each_node_as_soon_as_its_inputs_exist():
    run = Run(run_pipeline, job_of().model_dump(mode="json"), first_activity())
    first = [t.name if not t.node else t.node for t in run.waits[0].tasks]
    assert sorted(first) == [
        "automobile",
        "learner",
        "run_started",
    ]  # the run opens alongside its first nodes
    started = [p["node"]["id"] for p in run.activity("run_node")]
    assert sorted(started) == sorted(job_of().plan.nodes) and len(started) == 8
    assert run.value == {"run_id": "r1", "status": "Finished", "failed_node": None}


def test_a_slow_learner_holds_back_only_its_own_branch():
    """German credit: two learners on one split. Finish everything but the boosted branch first."""
    slow = {"boosted", "train_boosted", "score_boosted"}

    def pick(any_of: AnyOf) -> tuple[Any, Any]:
        calls = [t for t in any_of.tasks if isinstance(t, Call)]
        call = next((c for c in calls if c.node not in slow), calls[0])
        return call, finished(call)

    run = Run(run_pipeline, job_of(CREDIT).model_dump(mode="json"), pick)
    order = [p["node"]["id"] for p in run.activity("run_node")]
    # score_logistic was dispatched while train_boosted was still in flight: no stage barrier
    assert order.index("score_logistic") < order.index("score_boosted")
    in_flight_when_scoring = next(w for w in run.waits if "score_logistic" in [t.node for t in w.tasks])
    assert "train_boosted" in [t.node for t in in_flight_when_scoring.tasks] or "boosted" in [
        t.node for t in in_flight_when_scoring.tasks
    ]
    assert run.value["status"] == "Finished"


def test_each_node_receives_references_to_its_upstream_outputs():
    run = Run(run_pipeline, job_of().model_dump(mode="json"), first_activity())
    requests = {p["node"]["id"]: p for p in run.activity("run_node")}
    assert requests["train"]["inputs"] == {
        "untrained_model": "artifacts/learner-untrained_model",
        "dataset": "artifacts/split-results_dataset1",
    }
    assert requests["score"]["inputs"]["dataset"] == "artifacts/split-results_dataset2"


def test_each_node_gets_its_own_retry_policy():
    job = job_of(train={"run_settings": {"max_retries": 5, "retry_backoff_seconds": 0.5}})
    run = Run(run_pipeline, job.model_dump(mode="json"), first_activity())
    policies = {
        c.args[2]["node"]["id"]: c.args[1]
        for c in run.ctx.call_activity_with_retry.call_args_list
        if "node" in c.args[2]
    }
    assert (
        policies["train"].max_number_of_attempts,
        policies["train"].first_retry_interval_in_milliseconds,
    ) == (6, 500)
    assert (
        policies["split"].max_number_of_attempts,
        policies["split"].first_retry_interval_in_milliseconds,
    ) == (3, 2000)  # infrastructure faults are retried even without run settings


def test_run_is_opened_and_closed_by_activities():
    run = Run(run_pipeline, job_of().model_dump(mode="json"), first_activity())
    assert run.calls[0].name == "run_started"
    assert run.finished_payload["outcome"]["status"] == "Finished"
    assert run.finished_payload["outcome"]["closing"] == []


def test_a_failed_node_skips_what_depends_on_it_and_the_run_fails_naming_it():
    def answer(call: Call) -> dict:
        if call.node == "train":
            return {"node_id": "train", "status": "Failed", "error": "Column 'price' not found"}
        return finished(call)

    run = Run(run_pipeline, job_of().model_dump(mode="json"), first_activity(answer))
    ran = [p["node"]["id"] for p in run.activity("run_node")]
    assert "score" not in ran and "evaluate" not in ran
    outcome = run.finished_payload["outcome"]
    assert (outcome["status"], outcome["failed_node"], outcome["error"]) == (
        "Failed",
        "train",
        "Column 'price' not found",
    )
    assert {c["node_id"]: c["status"] for c in outcome["closing"]} == {
        "score": "Skipped",
        "evaluate": "Skipped",
    }
    assert run.value["status"] == "Failed"


def test_a_failed_branch_lets_the_sibling_branch_finish():
    def answer(call: Call) -> dict:
        if call.node == "train_boosted":
            return {"node_id": call.node, "status": "Failed", "error": "boom"}
        return finished(call)

    run = Run(run_pipeline, job_of(CREDIT).model_dump(mode="json"), first_activity(answer))
    ran = [p["node"]["id"] for p in run.activity("run_node")]
    assert "score_logistic" in ran and "cross_validate" in ran and "score_boosted" not in ran
    closing = {c["node_id"]: c["note"] for c in run.finished_payload["outcome"]["closing"]}
    assert closing == {
        "score_boosted": "skipped: upstream node 'train_boosted' failed",
        "evaluate": "skipped: upstream node 'train_boosted' failed",
    }


def test_exhausted_retries_fail_the_node_with_the_activity_error():
    def answer(call: Call) -> Any:
        if call.node == "split":
            return Exception("Activity function 'run_node' failed: OSError: disk \n Traceback ...")
        return finished(call)

    run = Run(run_pipeline, job_of().model_dump(mode="json"), first_activity(answer))
    outcome = run.finished_payload["outcome"]
    assert outcome["failed_node"] == "split"
    assert outcome["error"] == "Activity function 'run_node' failed: OSError: disk"
    split = next(c for c in outcome["closing"] if c["node_id"] == "split")
    assert (split["status"], split["error_code"], split["attempts"]) == ("Failed", "ActivityFailed", 3)


def test_a_node_past_its_timeout_fails_saying_so_and_its_timer_races_the_activity():
    job = job_of(train={"run_settings": {"timeout_seconds": 30}})

    def pick(any_of: AnyOf) -> tuple[Any, Any]:
        calls = [t for t in any_of.tasks if isinstance(t, Call)]
        if [c.node for c in calls] == ["train"]:  # train is the only thing left: its timer fires
            timer = next(t for t in any_of.tasks if isinstance(t, Timer))
            return timer, None
        call = next(c for c in calls if c.node != "train")
        return call, finished(call)

    run = Run(run_pipeline, job.model_dump(mode="json"), pick)
    timer = run.ctx.create_timer.call_args.args[0]
    assert timer == START + dt.timedelta(seconds=30)
    outcome = run.finished_payload["outcome"]
    train = next(c for c in outcome["closing"] if c["node_id"] == "train")
    assert train["status"] == "Failed" and train["error_code"] == "Timeout"
    assert "timed out after 30 s" in train["error"]
    assert outcome["failed_node"] == "train"


def test_a_timer_is_canceled_when_its_node_finishes_first():
    job = job_of(split={"run_settings": {"timeout_seconds": 600}})
    run = Run(run_pipeline, job.model_dump(mode="json"), first_activity())
    timers = [w for wait in run.waits for w in wait.tasks if isinstance(w, Timer)]
    assert timers and all(t.canceled for t in timers)
    assert run.value["status"] == "Finished"


def test_stop_at_first_failure_when_continue_on_step_failure_is_off():
    job = job_of(CREDIT, continue_on_step_failure=False)

    def answer(call: Call) -> dict:
        if call.node == "cross_validate":
            return {"node_id": call.node, "status": "Failed", "error": "bad folds"}
        return finished(call)

    def pick(any_of: AnyOf) -> tuple[Any, Any]:  # cross_validate fails before split finishes
        calls = [t for t in any_of.tasks if isinstance(t, Call)]
        call = next((c for c in calls if c.node == "cross_validate"), calls[0])
        return call, answer(call)

    run = Run(run_pipeline, job.model_dump(mode="json"), pick)
    ran = {p["node"]["id"] for p in run.activity("run_node")}
    assert "split" in ran and "train_logistic" not in ran  # split finished; nothing new started
    notes = {c["node_id"]: c["status"] for c in run.finished_payload["outcome"]["closing"]}
    assert notes["train_logistic"] == "Skipped" and notes["evaluate"] == "Skipped"


def test_nodes_reused_at_submit_are_not_dispatched():
    reused = {n: outputs_of(n) for n in ("automobile", "learner", "select", "clean")}
    run = Run(run_pipeline, job_of(reused=reused).model_dump(mode="json"), first_activity())
    ran = [p["node"]["id"] for p in run.activity("run_node")]
    assert sorted(ran) == ["evaluate", "score", "split", "train"]
    split = next(p for p in run.activity("run_node") if p["node"]["id"] == "split")
    assert split["inputs"] == {"dataset": "artifacts/clean-cleaned_dataset"}


def test_progress_is_published_as_nodes_end():
    run = Run(run_pipeline, job_of().model_dump(mode="json"), first_activity())
    statuses = [c.args[0] for c in run.ctx.set_custom_status.call_args_list]
    assert statuses[0]["nodes_done"] == 0 and statuses[0]["nodes_total"] == 8
    assert sorted(statuses[0]["running"]) == ["automobile", "learner"]
    assert [s["nodes_done"] for s in statuses] == sorted(s["nodes_done"] for s in statuses)
    assert statuses[-1]["nodes_done"] == 8 and statuses[-1]["running"] == []


@pytest.mark.parametrize("bad", [{"run_id": "x"}, {}])
def test_a_malformed_input_fails_fast(bad):
    ctx = Mock()
    ctx.get_input.return_value = bad
    gen = run_pipeline.build().get_user_function().orchestrator_function(ctx)
    with pytest.raises(Exception, match="validation error"):
        next(gen)


def test_a_split_scoring_node_fans_out_its_mini_batches_then_joins_them():
    def answer(call: Call) -> dict:
        if call.name == "run_node" and call.node == "score":
            return {"node_id": "score", "status": "Running", "chunks": ["artifacts/c0", "artifacts/c1"]}
        if call.name == "run_chunk":
            return {
                "index": call.payload["index"],
                "outputs": {"scored_dataset": f"artifacts/s{call.payload['index']}"},
            }
        if call.name == "join_chunks":
            assert [o["index"] for o in call.payload["outcomes"]] == [0, 1]
            return {
                "node_id": "score",
                "status": "Finished",
                "outputs": {"scored_dataset": "artifacts/joined"},
            }
        return finished(call)

    run = Run(run_pipeline, job_of().model_dump(mode="json"), first_activity(answer))
    chunks = run.activity("run_chunk")
    assert [(c["index"], c["chunk"]) for c in chunks] == [(0, "artifacts/c0"), (1, "artifacts/c1")]
    assert len(run.activity("join_chunks")) == 1
    evaluate = next(p for p in run.activity("run_node") if p["node"]["id"] == "evaluate")
    assert evaluate["inputs"] == {"scored_dataset": "artifacts/joined"}
    assert run.value["status"] == "Finished"


def test_a_lost_mini_batch_fails_its_node_at_the_join():
    def answer(call: Call) -> Any:
        if call.name == "run_node" and call.node == "score":
            return {"node_id": "score", "status": "Running", "chunks": ["artifacts/c0", "artifacts/c1"]}
        if call.name == "run_chunk" and call.payload["index"] == 1:
            return Exception("Activity function 'run_chunk' failed: OSError: gone")
        if call.name == "run_chunk":
            return {"index": 0, "outputs": {"scored_dataset": "artifacts/s0"}}
        if call.name == "join_chunks":
            errors = [o["error"] for o in call.payload["outcomes"]]
            assert errors == [None, "Activity function 'run_chunk' failed: OSError: gone"]
            return {"node_id": "score", "status": "Failed", "error": "1 of 2 mini-batches failed"}
        return finished(call)

    run = Run(run_pipeline, job_of().model_dump(mode="json"), first_activity(answer))
    assert run.finished_payload["outcome"]["failed_node"] == "score"


def test_an_untyped_answer_is_refused():
    def answer(call: Call) -> Any:
        return {"node_id": call.node, "status": "Done"}  # not a status the result model knows

    with pytest.raises(Exception, match="validation error"):
        Run(run_pipeline, job_of().model_dump(mode="json"), first_activity(answer))


# ---- score_file ---------------------------------------------------------------------------------
REQUEST = {
    "instance_id": "batch-1",
    "blob": "batch-input/ep/f.csv",
    "etag": "e",
    "endpoint": "ep",
    "file": "f.csv",
}


def prepared(n: int) -> dict:
    return {
        "status": "Ready",
        "run_id": "batch-1",
        "pipeline_ref": "artifacts/p",
        "settings": {"mini_batch_rows": 10, "output": "all", "id_column": None, "error_threshold": 0},
        "chunks": [{"index": i, "ref": f"artifacts/c{i}"} for i in range(n)],
    }


def batch_answers(prepare: dict, fail_index: int | None = None) -> Pick:
    def answer(call: Call) -> Any:
        if call.name == "batch_prepare":
            return prepare
        if call.name == "batch_score":
            index = call.payload["chunk"]["index"]
            if index == fail_index:
                return Exception("Activity function 'batch_score' failed: OSError: gone")
            return {"index": index, "ref": f"artifacts/{index}", "rows": 10, "rows_in": 10}
        return {"status": "Finished", "run_id": "batch-1", "output": "batch-output/ep/f.csv.predictions.csv"}

    def pick(any_of: AnyOf) -> tuple[Any, Any]:
        call = any_of.tasks[-1]  # the last one first: answers arrive out of order
        return call, answer(call)

    return pick


def test_score_file_fans_out_one_activity_per_mini_batch_then_joins_in_order():
    run = Run(score_file, REQUEST, batch_answers(prepared(4)))
    names = [c.name for c in run.calls]
    assert names == ["batch_prepare"] + ["batch_score"] * 4 + ["batch_finish"]
    assert [p["chunk"]["index"] for p in run.activity("batch_score")] == [0, 1, 2, 3]
    assert all(p["prepared"]["chunks"] == [] for p in run.activity("batch_score"))  # not N times over
    assert [r["index"] for r in run.activity("batch_finish")[0]["results"]] == [0, 1, 2, 3]
    assert run.value["status"] == "Finished"


def test_score_file_stops_after_prepare_for_duplicates_and_bad_files():
    for status in ("Duplicate", "Failed"):
        run = Run(score_file, REQUEST, batch_answers({"status": status, "run_id": "batch-1", "error": "why"}))
        assert [c.name for c in run.calls] == ["batch_prepare"]
        assert run.value["status"] == status


def test_score_file_counts_a_mini_batch_that_kept_failing_as_a_failed_mini_batch():
    run = Run(score_file, REQUEST, batch_answers(prepared(3), fail_index=1))
    results = run.activity("batch_finish")[0]["results"]
    assert [r["error"] for r in results] == [
        None,
        "Activity function 'batch_score' failed: OSError: gone",
        None,
    ]


def test_skipped_and_timed_out_nodes_are_recorded_as_they_happen_not_only_at_the_end():
    job = job_of(CREDIT, train_logistic={"run_settings": {"timeout_seconds": 60}})

    def pick(any_of: AnyOf) -> tuple[Any, Any]:
        calls = [t for t in any_of.tasks if isinstance(t, Call)]
        if any(c.node == "train_logistic" for c in calls) and len(calls) == 1:
            return next(t for t in any_of.tasks if isinstance(t, Timer)), None  # train_logistic hangs
        call = next(c for c in calls if c.node != "train_logistic")
        if call.node == "train_boosted":
            return call, {"node_id": call.node, "status": "Failed", "error": "boom"}
        return call, finished(call)

    run = Run(run_pipeline, job.model_dump(mode="json"), pick)
    names = [c.name for c in run.calls]
    ended = [{n["node_id"]: n["status"] for n in p["nodes"]} for p in run.activity("nodes_ended")]
    # the skip is written when train_boosted fails, before train_logistic's timer fires
    assert ended == [
        {"score_boosted": "Skipped", "evaluate": "Skipped"},
        {"train_logistic": "Failed", "score_logistic": "Skipped"},
    ]
    assert names.index("nodes_ended") < names.index("run_finished")
