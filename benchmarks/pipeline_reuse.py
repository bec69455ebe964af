"""Wall time of the designer tutorial pipeline, fresh and fully reused, over HTTP on the local host.

Fresh runs are submitted with ``regenerate_outputs: true`` (every node runs); reused runs submit
the same pipeline unchanged (every deterministic node takes its earlier outputs). Fresh and
reused runs alternate, after warm-up runs that are reported but not counted (the first nodes in
each activity worker pay its imports). Wall time is from the POST to the first poll of
``GET /runs/{id}`` that sees the run ended (polled every 50 ms); the server-side time
(``created_at`` -> ``ended_at``) and every node's own time come from the run record.

A fully reused run is finished in the submit answer itself (its nodes are resolved at submit,
no orchestration starts), so its wall time ends with that answer.

The branchy case runs the german credit sample (a logistic regression and a slow boosted tree
trained on one split, a cross-validation beside them) fresh, and compares the server-side time
with what the same node times would cost with stage barriers (each stage of the plan waiting
for its slowest node) and with the critical path of the node times.

Baselines, measured in the same process and run:
- bare pandas + scikit-learn: read the CSV, drop ``normalized-losses``, drop rows with missing
  values, split 70/30, one-hot + Ridge(alpha=0.001) fit (what Linear Regression + Train Model
  fit), predict, the five regression metrics; sampled before the host starts and again
  between the service's runs (its median is over both; each part is reported too), since this
  machine's speed drifts by a third from minute to minute and a baseline taken at one moment
  only would tilt the ratio;
- the product's own components run in-process on DataFrames (no storage, no orchestration,
  no HTTP): what the component code itself costs (Evaluate Model draws its plots when they are
  first viewed, so neither side draws them).

    .venv/bin/python -m benchmarks.pipeline_reuse [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import graphlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.harness import (
    SAMPLE_DATA,
    CpuAudit,
    environment,
    local_stack,
    parse_time,
    print_closing,
    ratio,
    summary,
    table,
    tutorial,
    wait_for_quiet,
    wait_for_run,
    write_results,
)

NAME = "pipeline_reuse"
EXPERIMENT = "bench-reuse"
RUN_TIMEOUT = 180.0
CREDIT_PIPELINE = (
    Path(__file__).resolve().parents[1] / "samples" / "pipelines" / "german-credit-classification.json"
)
BRANCHY_TREES = 200
BARE_BETWEEN = 4  # bare runs after each fresh + reused pair


def bare_sklearn() -> dict[str, float]:
    """The tutorial's steps in plain pandas + scikit-learn, in this process."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import Ridge
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    df = pd.read_csv(SAMPLE_DATA)
    df = df.drop(columns=["normalized-losses"]).dropna()
    train, test = train_test_split(df, train_size=0.7, random_state=0)
    features = [c for c in df.columns if c != "price"]
    categorical = [c for c in features if not pd.api.types.is_numeric_dtype(df[c])]
    model = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [
                        (
                            "categorical",
                            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                            categorical,
                        )
                    ],
                    remainder="passthrough",
                ),
            ),
            ("model", Ridge(alpha=0.001)),
        ]
    )
    model.fit(train[features], train["price"])
    predicted = model.predict(test[features])
    actual = test["price"].to_numpy()
    mae = mean_absolute_error(actual, predicted)
    return {
        "Mean_Absolute_Error": mae,
        "Root_Mean_Squared_Error": float(np.sqrt(mean_squared_error(actual, predicted))),
        "Relative_Absolute_Error": mae / float(np.mean(np.abs(actual - actual.mean()))),
        "Relative_Squared_Error": float(
            np.sum((actual - predicted) ** 2) / np.sum((actual - actual.mean()) ** 2)
        ),
        "Coefficient_of_Determination": r2_score(actual, predicted),
    }


def time_bare(repeats: int) -> list[float]:
    """Seconds of each of ``repeats`` bare runs."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        bare_sklearn()
        times.append(time.perf_counter() - t0)
    return times


def components_in_process() -> dict[str, float]:
    """The tutorial's own components, run in topological order on in-memory values; node -> seconds."""
    from core.components import RunContext, lookup
    from core.components.data import Dataset
    from core.pipelines.document import Pipeline, parse_parameters

    pipeline = Pipeline.model_validate(tutorial())
    values: dict[tuple[str, str], Any] = {}
    times: dict[str, float] = {}
    for node_id in graphlib.TopologicalSorter(pipeline.dependencies()).static_order():
        node = pipeline.node(node_id)
        component = lookup(node.component)
        assert component is not None
        start = time.perf_counter()
        if component is Dataset:
            values[(node_id, "dataset")] = pd.read_csv(SAMPLE_DATA)
        else:
            inputs = {}
            for edge in pipeline.edges:
                if edge.target.node == node_id:
                    source = lookup(pipeline.node(edge.source.node).component)
                    port_in = component.input_port(edge.target.port)
                    port_out = source.output_port(edge.source.port) if source else None
                    assert port_in is not None and port_out is not None
                    inputs[port_in.id] = values[(edge.source.node, port_out.id)]
            params = parse_parameters(component, node.parameters)
            for port, value in component().run(inputs, params, RunContext()).items():
                values[(node_id, port)] = value
        times[node_id] = time.perf_counter() - start
    return times


def busy_seconds(spans: list[tuple[Any, Any]]) -> float:
    """How long at least one node was running (the union of the nodes' start-end intervals)."""
    total, reach = 0.0, None
    for begin, end in sorted((b, e) for b, e in spans if b and e):
        if reach is None or begin > reach:
            total += (end - begin).total_seconds()
            reach = end
        elif end > reach:
            total += (end - reach).total_seconds()
            reach = end
    return total


def submit(api: Any, regenerate: bool, pipeline: dict[str, Any] | None = None) -> dict[str, Any]:
    """One run, timed from the POST to the answer that shows it ended (the submit answer itself
    for a run whose every node was reused at submit)."""
    body = {"pipeline": pipeline or tutorial(), "regenerate_outputs": regenerate}
    start = time.monotonic()
    answer = api.post(f"/experiments/{EXPERIMENT}/runs", json=body).raise_for_status().json()
    run_id = answer["Id"]
    if answer["Status"]["StatusCode"] in ("Finished", "Failed", "Canceled"):
        seen = time.monotonic()
        run = api.get(f"/runs/{run_id}").raise_for_status().json()  # details, after the clock stopped
    else:
        run, seen = wait_for_run(api, run_id, RUN_TIMEOUT)
    if run["status"] != "Finished":
        raise RuntimeError(f"run {run_id} ended {run['status']}: {run.get('error')}")
    nodes = run["nodes"]
    reused = sum(1 for n in nodes.values() if n.get("reused_from"))
    created, started, ended = (parse_time(run[k]) for k in ("created_at", "started_at", "ended_at"))
    server_s = (ended - created).total_seconds() if ended and created else None
    busy_s = busy_seconds([(parse_time(n["started_at"]), parse_time(n["ended_at"])) for n in nodes.values()])
    return {
        "run_id": run_id,
        "wall_s": seen - start,
        "server_s": server_s,
        "nodes_busy_s": busy_s,
        "orchestration_gaps_s": server_s - busy_s if server_s is not None else None,
        "start_latency_s": (started - created).total_seconds() if started and created else None,
        "nodes_reused": reused,
        "nodes": len(nodes),
        "node_s": {k: n["duration_seconds"] for k, n in nodes.items()},
        "metrics": run["metrics"].get("evaluate", {}),
    }


def branchy_pipeline(trees: int) -> dict[str, Any]:
    """The german credit sample: a logistic regression and a boosted tree (``trees`` trees, the
    slow branch) trained on one split, plus a cross-validation beside them."""
    doc = json.loads(CREDIT_PIPELINE.read_text())
    for node in doc["nodes"]:
        if node["id"] == "boosted":
            node["parameters"] = {"Total number of trees constructed": trees}
    return doc


def stage_barrier_estimate(doc: dict[str, Any], node_s: dict[str, float]) -> dict[str, float]:
    """What the same node times would have cost with stage barriers (each stage waits for its
    slowest node) against the critical path (the least any scheduler can do), from the plan."""
    from core.pipelines.document import Pipeline
    from core.pipelines.planner import plan

    the_plan = plan(Pipeline.model_validate(doc))
    barriers = sum(max(node_s[n] for n in stage) for stage in the_plan.stages)
    finish: dict[str, float] = {}
    for stage in the_plan.stages:
        for node_id in stage:
            ups = [ref.node for ref in the_plan.nodes[node_id].inputs.values()]
            finish[node_id] = max((finish[u] for u in ups), default=0.0) + node_s[node_id]
    return {"stage_barriers_s": barriers, "critical_path_s": max(finish.values())}


def branchy(api: Any, repeats: int, trees: int) -> dict[str, Any]:
    doc = branchy_pipeline(trees)
    submit(api, regenerate=True, pipeline=doc)  # warm-up: the workers import what these nodes need
    runs = [submit(api, regenerate=True, pipeline=doc) for _ in range(repeats)]
    for run in runs:
        run.update(stage_barrier_estimate(doc, run["node_s"]))
    wall = summary([r["wall_s"] for r in runs])
    server = summary([r["server_s"] for r in runs])
    barriers = summary([r["stage_barriers_s"] for r in runs])
    critical = summary([r["critical_path_s"] for r in runs])
    return {
        "pipeline": f"german-credit-classification (boosted tree: {trees} trees)",
        "repeats": repeats,
        "wall_s": wall,
        "server_s": server,
        "stage_barriers_estimate_s": barriers,
        "critical_path_s": critical,
        "ratios": {
            "stage_barriers_over_server_median": ratio(barriers["median"], server["median"]),
            "server_over_critical_path_median": ratio(server["median"], critical["median"]),
        },
        "runs": runs,
    }


def server_side(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        key: summary([r[key] for r in runs])
        for key in ("server_s", "start_latency_s", "nodes_busy_s", "orchestration_gaps_s")
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.pipeline_reuse", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run (3 repetitions, 1 warm-up)")
    parser.add_argument("--repeats", type=int, default=None, help="runs of each kind (default 15; quick: 3)")
    parser.add_argument(
        "--warmup", type=int, default=None, help="fresh runs before measuring (default 2; quick: 1)"
    )
    parser.add_argument(
        "--max-wait-quiet",
        type=float,
        default=None,
        help="seconds to wait for other processes to go quiet first (default 300; quick: 30)",
    )
    args = parser.parse_args(argv)
    quiet = wait_for_quiet(
        args.max_wait_quiet if args.max_wait_quiet is not None else 30 if args.quick else 300
    )
    repeats = args.repeats or (3 if args.quick else 15)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    bare_repeats = 10 if args.quick else 50
    began = time.monotonic()
    audit = CpuAudit()

    # Baselines first (in this process, before the host competes for the two cores), and bare
    # runs again between the service's runs (the host idle then): a machine whose speed drifts
    # during the run moves both sides of the ratio alike.
    bare_sklearn()  # imports and first-call costs out of the way
    bare_metrics = bare_sklearn()
    bare_before = time_bare(bare_repeats)
    bare_between: list[float] = []
    components_in_process()
    component_runs = [components_in_process() for _ in range(max(3, bare_repeats // 5))]
    component_totals = [sum(r.values()) for r in component_runs]

    with local_stack(NAME) as stack, stack.api() as api:
        print(f"local host {stack.url} (log {stack.log_path})", file=sys.stderr)
        cold = [submit(api, regenerate=True) for _ in range(warmup)]
        fresh: list[dict] = []
        reused: list[dict] = []
        for i in range(repeats):
            fresh.append(submit(api, regenerate=True))
            reused.append(submit(api, regenerate=False))
            bare_between += time_bare(BARE_BETWEEN)
            print(
                f"  {i + 1}/{repeats}: fresh {fresh[-1]['wall_s']:.2f} s, "
                f"reused {reused[-1]['wall_s']:.2f} s",
                file=sys.stderr,
            )
        branch = branchy(api, 2 if args.quick else 5, BRANCHY_TREES)
        rss = stack.peak_rss()
    not_reused = [r["run_id"] for r in reused if r["nodes_reused"] != r["nodes"]]
    ran_reused = [r["run_id"] for r in fresh if r["nodes_reused"]]

    fresh_wall = summary([r["wall_s"] for r in fresh])
    reused_wall = summary([r["wall_s"] for r in reused])
    bare_times = bare_before + bare_between
    bare = summary(bare_times)
    comps = summary(component_totals)
    node_ids = list(fresh[0]["node_s"])
    per_node = {
        n: {
            "fresh_median_s": statistics.median(r["node_s"][n] for r in fresh),
            "reused_median_s": statistics.median(r["node_s"][n] for r in reused),
            "in_process_median_s": statistics.median(r[n] for r in component_runs),
        }
        for n in node_ids
    }
    cpu = audit.stop()
    results = {
        "benchmark": NAME,
        "mode": "quick" if args.quick else "full",
        "repeats": repeats,
        "warmup_runs": warmup,
        "environment": environment(),
        "fresh": {"wall_s": fresh_wall, **server_side(fresh)},
        "reused": {"wall_s": reused_wall, **server_side(reused)},
        "cold_runs_wall_s": [r["wall_s"] for r in cold],
        "baseline_bare_sklearn_s": bare,
        "baseline_bare_sklearn_before_s": summary(bare_before),
        "baseline_bare_sklearn_between_runs_s": summary(bare_between),
        "baseline_components_in_process_s": comps,
        "per_node": per_node,
        "ratios": {
            "fresh_over_reused_median": ratio(fresh_wall["median"], reused_wall["median"]),
            "fresh_over_reused_min": ratio(fresh_wall["min"], reused_wall["min"]),
            "fresh_over_bare_median": ratio(fresh_wall["median"], bare["median"]),
            "reused_over_bare_median": ratio(reused_wall["median"], bare["median"]),
            "fresh_over_components_in_process_median": ratio(fresh_wall["median"], comps["median"]),
            "components_in_process_over_bare_median": ratio(comps["median"], bare["median"]),
        },
        "metrics": {"service": fresh[-1]["metrics"], "bare_sklearn": bare_metrics},
        "branchy": branch,
        "checks": {"reused_runs_not_fully_reused": not_reused, "fresh_runs_with_reused_nodes": ran_reused},
        "peak_rss": rss,
        "runs": {"fresh": fresh, "reused": reused, "cold": cold},
        "cpu_audit": cpu,
        "quiet_at_start": quiet,
        "elapsed_s": time.monotonic() - began,
    }
    path = write_results(NAME, results)

    print(f"\nTutorial pipeline ({len(node_ids)} nodes), {repeats} runs of each kind, local host over HTTP\n")
    print(
        table(
            ["", "median s", "min s", "max s"],
            [
                ["fresh (regenerate_outputs)", fresh_wall["median"], fresh_wall["min"], fresh_wall["max"]],
                [
                    "reused (unchanged resubmit)",
                    reused_wall["median"],
                    reused_wall["min"],
                    reused_wall["max"],
                ],
                ["bare pandas + sklearn", bare["median"], bare["min"], bare["max"]],
                *(
                    [f"  {label}", part["median"], part["min"], part["max"]]
                    for label, part in (
                        ("of which before the host started", summary(bare_before)),
                        ("of which between the service's runs", summary(bare_between)),
                    )
                ),
                ["product components in-process", comps["median"], comps["min"], comps["max"]],
            ],
        )
    )
    print()
    print(
        table(
            ["node", "fresh s", "reused s", "in-process s"],
            [
                [n, v["fresh_median_s"], v["reused_median_s"], v["in_process_median_s"]]
                for n, v in per_node.items()
            ]
            + [
                [f"(run: {label})", results["fresh"][key]["median"], results["reused"][key]["median"], None]
                for label, key in [
                    ("server side, created -> ended", "server_s"),
                    ("created -> started", "start_latency_s"),
                    ("some node running", "nodes_busy_s"),
                    ("no node running", "orchestration_gaps_s"),
                ]
            ],
        )
    )
    print()
    r = results["ratios"]
    print(
        table(
            ["ratio (medians)", "x"],
            [
                ["fresh / reused", r["fresh_over_reused_median"]],
                ["fresh / bare sklearn  (service overhead, fresh)", r["fresh_over_bare_median"]],
                ["reused / bare sklearn", r["reused_over_bare_median"]],
                ["fresh / components in-process", r["fresh_over_components_in_process_median"]],
                ["components in-process / bare sklearn", r["components_in_process_over_bare_median"]],
            ],
        )
    )
    b = results["branchy"]
    print(f"\nBranchy: {b['pipeline']}, {b['repeats']} fresh runs (medians)\n")
    print(
        table(
            ["", "s"],
            [
                ["wall, POST -> seen ended", b["wall_s"]["median"]],
                ["server side, readiness scheduling (this run)", b["server_s"]["median"]],
                ["same node times with stage barriers (estimate)", b["stage_barriers_estimate_s"]["median"]],
                ["critical path of the node times", b["critical_path_s"]["median"]],
            ],
        )
    )
    if not_reused or ran_reused:
        print(f"\nWARNING: reuse did not behave as expected: {results['checks']}")
    print(
        f"\npeak RSS: host tree {rss['host_tree_sum_mib']} MiB (sum of per-process peaks), "
        f"Azurite {rss['azurite_mib']} MiB"
    )
    print_closing(path, results, cpu)
    return 1 if not_reused or ran_reused else 0


if __name__ == "__main__":
    sys.exit(main())
