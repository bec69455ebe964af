"""The run state machine on its own (core/execution/engine.py): no storage, no orchestrator."""

from __future__ import annotations

import pytest

from core.execution.engine import RunMachine, Step, StepKind
from core.execution.results import ChunkOutcome, NodeResult
from core.pipelines.planner import InputRef, NodePlan, Plan
from core.registry.runs import RunStatus


def make_plan(edges: dict[str, list[str]]) -> Plan:
    """node -> the nodes it reads from (one input port per upstream node, output port ``out``)."""
    nodes = {
        node: NodePlan(
            id=node,
            component="c",
            version="1",
            parameters={},
            inputs={f"in_{up}": InputRef(node=up, port="out") for up in ups},
        )
        for node, ups in edges.items()
    }
    return Plan(stages=[sorted(edges)], nodes=nodes)


DIAMOND = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}
BRANCHES = {
    "data": [],
    "split": ["data"],
    "fast": ["split"],
    "slow": ["split"],
    "eval_fast": ["fast"],
    "eval_slow": ["slow"],
}


def finished(node: str, **extra) -> NodeResult:
    return NodeResult(node_id=node, status=RunStatus.FINISHED, outputs={"out": f"artifacts/{node}"}, **extra)


def failed(node: str) -> NodeResult:
    return NodeResult(node_id=node, status=RunStatus.FAILED, error=f"{node} broke")


def ids(steps: list[Step]) -> list[str]:
    return [s.node_id for s in steps]


def test_a_diamond_runs_both_sides_together_and_joins_when_both_are_done():
    machine = RunMachine(make_plan(DIAMOND))
    assert ids(machine.take_ready()) == ["a"]
    assert machine.take_ready() == []  # handed out once
    machine.record(Step(node_id="a"), finished("a"))
    assert ids(machine.take_ready()) == ["b", "c"]
    machine.record(Step(node_id="b"), finished("b"))
    assert machine.take_ready() == []  # d still waits for c
    machine.record(Step(node_id="c"), finished("c"))
    assert ids(machine.take_ready()) == ["d"]
    assert machine.inputs("d") == {"in_b": "artifacts/b", "in_c": "artifacts/c"}
    machine.record(Step(node_id="d"), finished("d"))
    assert machine.done and machine.outcome().status == RunStatus.FINISHED


def test_a_slow_branch_holds_back_only_what_depends_on_it():
    machine = RunMachine(make_plan(BRANCHES))
    for node in ("data", "split"):
        machine.take_ready()
        machine.record(Step(node_id=node), finished(node))
    assert ids(machine.take_ready()) == ["fast", "slow"]
    machine.record(Step(node_id="fast"), finished("fast"))
    assert ids(machine.take_ready()) == ["eval_fast"]  # no stage barrier: slow is still running
    assert sorted(machine.running()) == ["eval_fast", "slow"]


def test_a_failure_skips_its_descendants_and_the_sibling_branch_runs_to_the_end():
    machine = RunMachine(make_plan(BRANCHES))
    for node in ("data", "split"):
        machine.take_ready()
        machine.record(Step(node_id=node), finished(node))
    machine.take_ready()
    machine.record(Step(node_id="slow"), failed("slow"))
    assert machine.nodes["eval_slow"].status == RunStatus.SKIPPED
    assert machine.nodes["eval_slow"].note == "skipped: upstream node 'slow' failed"
    machine.record(Step(node_id="fast"), finished("fast"))
    assert ids(machine.take_ready()) == ["eval_fast"]
    machine.record(Step(node_id="eval_fast"), finished("eval_fast"))
    outcome = machine.outcome()
    assert machine.done and outcome.status == RunStatus.FAILED
    assert (outcome.failed_node, outcome.error) == ("slow", "slow broke")
    assert {s.node_id: s.status for s in outcome.closing} == {"eval_slow": RunStatus.SKIPPED}


def test_stopping_at_the_first_failure_starts_nothing_new_but_lets_running_nodes_finish():
    machine = RunMachine(make_plan(BRANCHES), continue_on_step_failure=False)
    for node in ("data", "split"):
        machine.take_ready()
        machine.record(Step(node_id=node), finished(node))
    machine.take_ready()
    machine.record(Step(node_id="slow"), failed("slow"))
    assert not machine.done  # fast is still in flight
    machine.record(Step(node_id="fast"), finished("fast"))
    assert machine.take_ready() == []
    assert machine.done
    assert machine.nodes["eval_fast"].status == RunStatus.SKIPPED
    assert "continue_on_step_failure is off" in (machine.nodes["eval_fast"].note or "")
    assert machine.nodes["fast"].status == RunStatus.FINISHED


def test_retries_show_as_attempts_and_exhausted_retries_fail_the_node():
    machine = RunMachine(make_plan({"a": [], "b": ["a"], "c": []}))
    machine.take_ready()
    machine.record(Step(node_id="a"), finished("a", attempts=2))  # succeeded on its second attempt
    assert machine.nodes["a"].attempts == 2
    machine.step_failed(Step(node_id="c"), "Activity function 'run_node' failed: OSError: disk", attempts=3)
    state = machine.nodes["c"]
    assert (state.status, state.attempts, state.error_code) == (RunStatus.FAILED, 3, "ActivityFailed")
    assert state.decided_here  # no activity recorded this ending: the run's closing must


def test_a_timeout_fails_the_node_and_its_late_answer_does_not_count():
    machine = RunMachine(make_plan({"a": [], "b": ["a"]}))
    machine.take_ready()
    assert machine.time_out("a", 1.5)
    state = machine.nodes["a"]
    assert state.status == RunStatus.FAILED and state.error_code == "Timeout"
    assert "timed out after 1.5 s" in (state.error or "")
    assert machine.nodes["b"].status == RunStatus.SKIPPED
    assert machine.record(Step(node_id="a"), finished("a")) is False  # arrived too late
    assert machine.nodes["a"].status == RunStatus.FAILED
    assert machine.done and machine.outcome().failed_node == "a"
    assert not machine.time_out("a", 1.5)  # only a running node can time out


def test_cancel_ends_every_unfinished_node_and_ignores_what_arrives_later():
    machine = RunMachine(make_plan(DIAMOND))
    machine.take_ready()
    machine.record(Step(node_id="a"), finished("a"))
    machine.take_ready()
    machine.cancel("canceled by request")
    assert {n: s.status for n, s in machine.nodes.items()} == {
        "a": RunStatus.FINISHED,
        "b": RunStatus.CANCELED,
        "c": RunStatus.CANCELED,
        "d": RunStatus.CANCELED,
    }
    assert machine.record(Step(node_id="b"), finished("b")) is False
    assert machine.take_ready() == [] and machine.done
    assert machine.outcome().status == RunStatus.CANCELED


def test_everything_reused_at_submit_leaves_nothing_to_run():
    plan = make_plan(DIAMOND)
    machine = RunMachine(plan, resolved={n: {"out": f"artifacts/{n}"} for n in plan.nodes})
    assert machine.take_ready() == [] and machine.done
    assert machine.outcome().status == RunStatus.FINISHED
    assert all(s.reused for s in machine.nodes.values())


def test_partly_reused_dispatches_only_what_must_run():
    machine = RunMachine(
        make_plan(DIAMOND), resolved={"a": {"out": "artifacts/a"}, "b": {"out": "artifacts/b"}}
    )
    assert ids(machine.take_ready()) == ["c"]
    assert machine.inputs("c") == {"in_a": "artifacts/a"}


def test_nothing_reused_runs_every_node_once():
    machine = RunMachine(make_plan(DIAMOND))
    ran: list[str] = []
    while not machine.done:
        for step in machine.take_ready():
            ran.append(step.node_id)
            machine.record(step, finished(step.node_id))
    assert sorted(ran) == ["a", "b", "c", "d"] and len(ran) == 4
    assert not any(s.reused for s in machine.nodes.values())


def test_a_split_node_fans_out_its_mini_batches_then_joins_them_in_order():
    machine = RunMachine(make_plan({"score": [], "evaluate": ["score"]}))
    machine.take_ready()
    machine.record(
        Step(node_id="score"),
        NodeResult(node_id="score", status=RunStatus.RUNNING, chunks=["artifacts/c0", "artifacts/c1"]),
    )
    chunks = machine.take_ready()
    assert [(s.kind, s.index, s.chunk) for s in chunks] == [
        (StepKind.CHUNK, 0, "artifacts/c0"),
        (StepKind.CHUNK, 1, "artifacts/c1"),
    ]
    machine.record_chunk(chunks[1], ChunkOutcome(index=1, outputs={"out": "artifacts/s1"}))
    assert machine.take_ready() == []  # the join waits for every mini-batch
    machine.record_chunk(chunks[0], ChunkOutcome(index=0, outputs={"out": "artifacts/s0"}))
    join = machine.take_ready()
    assert [(s.node_id, s.kind) for s in join] == [("score", StepKind.JOIN)]
    assert [o.index for o in machine.outcomes("score")] == [0, 1]
    machine.record(join[0], finished("score"))
    assert ids(machine.take_ready()) == ["evaluate"]


def test_the_same_results_in_the_same_order_give_the_same_steps():
    """What replay needs: the machine is a function of the plan and the results."""

    def trace() -> list[list[str]]:
        machine, seen = RunMachine(make_plan(BRANCHES)), []
        while not machine.done:
            ready = machine.take_ready()
            seen.append([s.key for s in ready])
            for step in ready:
                machine.record(
                    step, failed(step.node_id) if step.node_id == "fast" else finished(step.node_id)
                )
        return seen

    assert trace() == trace()


@pytest.mark.parametrize("answer", [NodeResult(node_id="a", status=RunStatus.RUNNING)])
def test_an_answer_that_is_neither_an_ending_nor_a_split_fails_the_node(answer):
    machine = RunMachine(make_plan({"a": []}))
    machine.take_ready()
    machine.record(Step(node_id="a"), answer)
    assert machine.nodes["a"].status == RunStatus.FAILED and machine.nodes["a"].error_code == "InternalError"


def test_a_node_found_canceled_by_its_activity_cancels_the_run():
    machine = RunMachine(make_plan(DIAMOND))
    machine.take_ready()
    machine.record(Step(node_id="a"), NodeResult(node_id="a", status=RunStatus.CANCELED, error="canceled"))
    assert machine.done and machine.outcome().status == RunStatus.CANCELED


# ---- chains: a node hands over to its only reader inside one activity --------------------------
TUTORIAL = {
    "data": [],
    "learner": [],
    "select": ["data"],
    "clean": ["select"],
    "split": ["clean"],
    "train": ["learner", "split"],
    "score": ["train", "split"],
    "evaluate": ["score"],
}


def with_settings(plan: Plan, node: str, **settings) -> Plan:
    plan.nodes[node].run_settings = plan.nodes[node].run_settings.model_copy(update=settings)
    return plan


def test_a_node_chains_its_only_readers_up_to_where_the_graph_branches_or_joins():
    machine = RunMachine(make_plan(TUTORIAL), chains=True)
    steps = {s.node_id: s for s in machine.take_ready()}
    assert steps["data"].then == ("select", "clean", "split")  # split has two readers: it ends there
    assert steps["learner"].then == ()  # train also waits for split, which is not finished
    head = steps["data"]
    answer = finished("data", followers=[finished("select"), finished("clean"), finished("split")])
    assert machine.record(head, answer)
    assert {n: machine.nodes[n].status for n in ("select", "clean", "split")} == dict.fromkeys(
        ("select", "clean", "split"), RunStatus.FINISHED
    )
    assert machine.take_ready() == []  # train waits for the learner
    machine.record(steps["learner"], finished("learner"))
    [train] = machine.take_ready()
    assert (train.node_id, train.then) == ("train", ("score", "evaluate"))
    machine.record(train, finished("train", followers=[finished("score"), finished("evaluate")]))
    assert machine.done and machine.outcome().status == RunStatus.FINISHED
    assert machine.inputs("evaluate") == {"in_score": "artifacts/score"}


def test_known_inputs_of_a_follower_are_those_of_finished_nodes_only():
    machine = RunMachine(make_plan(TUTORIAL), chains=True)
    for step in machine.take_ready():
        machine.record(step, finished(step.node_id, followers=[finished(n) for n in step.then]))
    [train] = machine.take_ready()
    assert train.then == ("score", "evaluate")
    assert machine.known_inputs("score") == {"in_split": "artifacts/split"}  # train's comes in the chain


def test_a_chain_that_stops_early_leaves_the_rest_to_steps_of_their_own():
    machine = RunMachine(make_plan(TUTORIAL), chains=True)
    head = next(s for s in machine.take_ready() if s.node_id == "data")
    machine.record(head, finished("data", followers=[finished("select")]))  # clean could not start
    assert machine.nodes["clean"].status == RunStatus.NOT_STARTED
    [clean] = [s for s in machine.take_ready() if s.node_id == "clean"]
    assert clean.then == ("split",)
    assert machine.inputs("clean") == {"in_select": "artifacts/select"}


def test_a_failed_follower_fails_its_node_and_skips_what_reads_it():
    machine = RunMachine(make_plan(TUTORIAL), chains=True)
    head = next(s for s in machine.take_ready() if s.node_id == "data")
    machine.record(head, finished("data", followers=[finished("select"), failed("clean")]))
    assert machine.nodes["clean"].status == RunStatus.FAILED
    assert machine.nodes["split"].status == RunStatus.SKIPPED
    assert "'clean' failed" in (machine.nodes["split"].note or "")


def test_followers_out_of_order_or_not_in_the_chain_do_not_count():
    machine = RunMachine(make_plan(TUTORIAL), chains=True)
    head = next(s for s in machine.take_ready() if s.node_id == "data")
    machine.record(head, finished("data", followers=[finished("clean"), finished("select")]))
    assert machine.nodes["select"].status == RunStatus.NOT_STARTED
    assert machine.nodes["clean"].status == RunStatus.NOT_STARTED


def test_a_canceled_run_ignores_a_chain_that_answers_late():
    machine = RunMachine(make_plan(TUTORIAL), chains=True)
    head = next(s for s in machine.take_ready() if s.node_id == "data")
    machine.cancel("canceled by ada")
    assert not machine.record(head, finished("data", followers=[finished("select")]))
    assert machine.nodes["select"].status == RunStatus.CANCELED


def test_nodes_with_a_timeout_or_retries_never_chain():
    plan = with_settings(make_plan(TUTORIAL), "clean", timeout_seconds=5)
    plan = with_settings(plan, "data", max_retries=1)
    machine = RunMachine(plan, chains=True)
    steps = {s.node_id: s for s in machine.take_ready()}
    assert steps["data"].then == ()  # it may be retried: its chain would be too
    machine.record(steps["data"], finished("data"))
    [select] = machine.take_ready()
    assert select.then == ()  # its only reader has a timeout of its own to race


def test_no_chains_when_the_run_stops_at_the_first_failure_or_chains_are_off():
    for machine in (
        RunMachine(make_plan(TUTORIAL), chains=True, continue_on_step_failure=False),
        RunMachine(make_plan(TUTORIAL)),
    ):
        assert all(step.then == () for step in machine.take_ready())


def test_the_last_step_of_a_run_closes_it_and_only_it():
    machine = RunMachine(make_plan(TUTORIAL), chains=True)
    first = machine.take_ready()
    assert not any(step.closes for step in first)  # two branches still to come together
    for step in first:
        machine.record(step, finished(step.node_id, followers=[finished(n) for n in step.then]))
    [train] = machine.take_ready()
    assert train.closes and train.then == ("score", "evaluate")
    assert machine.cache_keys() == {}  # these results carried none


def test_a_run_with_a_failure_or_another_step_in_flight_is_never_closed_by_one_step():
    machine = RunMachine(make_plan(DIAMOND), chains=True)
    [a] = machine.take_ready()
    machine.record(a, finished("a"))
    b, c = machine.take_ready()
    assert not b.closes and not c.closes
    machine.record(b, failed("b"))
    machine.record(c, finished("c"))
    assert machine.take_ready() == []  # d is skipped: nothing is left to close the run
