"""Rows per second of blob-upload batch scoring on the local host vs bare pandas + scikit-learn.

A synthetic regression table (8 numeric and 2 categorical features, an id column, a label) is
made with fixed seeds: ``--train-rows`` rows (default 50,000) are registered as a dataset and
``--rows`` rows (default 1,000,000) are written to a CSV file to score. For each learner (Linear
Regression, Boosted Decision Tree Regression), over HTTP: a training pipeline (Dataset -> Split
Data 80/20 -> Train Model <- learner; Score Model on the 20%) runs, its batch inference pipeline
is created, published to a pipeline endpoint, and the endpoint's batch settings are set
(``mini_batch_rows``, output ``ids`` with the id column). Then the timed part: the CSV is
uploaded to ``batch-input/{endpoint}/big.csv`` with azure-storage-blob, and the clock stops when
``batch-output/{endpoint}/big.csv.predictions.csv`` exists (polled every 0.25 s). The run record
(GET /api/experiments/blob-scoring/runs) and the orchestration's history (the durable HTTP API,
``showHistory``) split the time: upload, blob trigger, prepare (the ``batch_prepare`` activity:
plan the mini-batches), scoring (the ``batch_score`` activities, in parallel on the activity
workers: read, score, write each mini-batch), join (``batch_finish``: the results end to end
into the predictions blob).

Bare baseline, in the same run, in one fresh child process (so its peak memory is its own): the
same model class with the same parameters, fitted on the same training rows (the service run's
Split Data output), then the timed part: ``pandas.read_csv`` of the same file from local disk,
``predict``, ``to_csv`` of id + prediction. Its predictions are compared with the service's.

``--py-spy PATH`` samples the host and its activity workers with that py-spy binary while each
file is scored, and adds CPU seconds per activity and per hot function to the results.

    .venv/bin/python -m benchmarks.batch_scoring [--quick] [--rows N] [--mini-batch-rows N]
"""

from __future__ import annotations

import argparse
import collections
import io
import multiprocessing
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from benchmarks.harness import (
    CpuAudit,
    environment,
    local_stack,
    parse_time,
    print_closing,
    ratio,
    table,
    wait_for_quiet,
    wait_for_run,
    write_results,
)

NAME = "batch_scoring"
LABEL = "target"
ID = "row_id"
NUMERIC = [f"x{i}" for i in range(8)]
CATEGORICAL = {"colour": [f"colour_{i}" for i in range(6)], "region": [f"region_{i:02d}" for i in range(24)]}
SPLIT_FRACTION = 0.8
LEARNERS = {
    "linear": {"component": "Linear Regression", "parameters": {}},
    "boosted": {"component": "Boosted Decision Tree Regression", "parameters": {"Random number seed": 0}},
}
SCORING_TIMEOUT = 900.0
PROFILE_RATE = 100  # py-spy samples per second
HOT_FUNCTIONS = [
    "get_range",
    "_owned_lines",
    "_parse_csv",
    "download_to",
    "_record_batches",
    "to_pandas",
    "dataframe_to_parquet",
    "parquet_to_dataframe",
    "Artifacts.put_bytes",
    "Artifacts.get",
    "CompiledPipeline.score",
    "OneHotEncoder.transform",
    "HistGradientBoostingRegressor.predict",
    "Ridge.predict",
    "shape_output",
    "_write_output",
    "write_csv",
    "upload_file",
    "http_logging_policy",
]


# ---- data ---------------------------------------------------------------------------------------


def synthetic(rows: int, seed: int, with_label: bool, with_id: bool) -> pd.DataFrame:
    """A regression table: linear terms, an interaction, a step, category effects and noise."""
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    if with_id:
        data[ID] = np.arange(1, rows + 1, dtype=np.int64)
    x = rng.normal(size=(rows, len(NUMERIC)))
    for i, name in enumerate(NUMERIC):
        data[name] = np.round(x[:, i] * (i + 1) + i, 4)
    codes = {name: rng.integers(0, len(levels), size=rows) for name, levels in CATEGORICAL.items()}
    for name, levels in CATEGORICAL.items():
        data[name] = np.asarray(levels, dtype=object)[codes[name]]
    if with_label:
        effects = {name: np.linspace(-3, 3, len(levels)) for name, levels in CATEGORICAL.items()}
        y = (
            2.0 * x[:, 0]
            - 1.5 * x[:, 1]
            + 0.5 * x[:, 2] * x[:, 3]
            + np.where(x[:, 4] > 0.5, 3.0, 0.0)
            + np.sin(x[:, 5] * 2)
            + 0.3 * x[:, 6] ** 2
            + effects["colour"][codes["colour"]]
            + effects["region"][codes["region"]]
            + rng.normal(scale=0.5, size=rows)
        )
        data[LABEL] = np.round(y * 10 + 100, 4)
    return pd.DataFrame(data)


def training_pipeline(dataset: str, learner: str) -> dict[str, Any]:
    spec = LEARNERS[learner]
    split = {"Fraction of rows in the first output dataset": SPLIT_FRACTION, "Random seed": 0}
    return {
        "name": f"bench batch {learner}",
        "nodes": [
            {"id": "data", "component": "Dataset", "parameters": {"name": dataset}},
            {"id": "split", "component": "Split Data", "parameters": split},
            {"id": "learner", "component": spec["component"], "parameters": spec["parameters"]},
            {"id": "train", "component": "Train Model", "parameters": {"Label column": LABEL}},
            {"id": "score", "component": "Score Model"},
        ],
        "edges": [
            {"source": "data.dataset", "target": "split.dataset"},
            {"source": "learner.untrained_model", "target": "train.untrained_model"},
            {"source": "split.results_dataset1", "target": "train.dataset"},
            {"source": "train.trained_model", "target": "score.trained_model"},
            {"source": "split.results_dataset2", "target": "score.dataset"},
        ],
    }


# ---- the bare baseline (in a child process) --------------------------------------------------------


def bare_estimator(learner: str) -> Any:
    """What the product's learner + Train Model fit: one-hot for text columns, then the estimator
    with the product's default parameters (core/components/learners.py, models.py)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    if learner == "linear":
        model: Any = Ridge(alpha=0.001, fit_intercept=True)
    else:
        model = HistGradientBoostingRegressor(
            max_leaf_nodes=20,
            min_samples_leaf=10,
            learning_rate=0.2,
            max_iter=100,
            early_stopping=False,
            random_state=0,
        )
    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    encoder = ColumnTransformer(
        [("categorical", onehot, list(CATEGORICAL))], remainder="passthrough", verbose_feature_names_out=False
    )
    return Pipeline([("encode", encoder), ("model", model)])


def bare_child(learner: str, train_path: str, input_path: str, output_path: str, queue: Any) -> None:
    try:
        train = pd.read_parquet(train_path)
        features = [c for c in train.columns if c != LABEL]
        t0 = time.perf_counter()
        model = bare_estimator(learner).fit(train[features], train[LABEL])
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        frame = pd.read_csv(input_path)
        t1 = time.perf_counter()
        predicted = model.predict(frame[features])
        t2 = time.perf_counter()
        pd.DataFrame({ID: frame[ID], "Scored Labels": predicted}).to_csv(output_path, index=False)
        t3 = time.perf_counter()
        hwm = next(
            (
                round(int(line.split()[1]) / 1024, 1)
                for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith("VmHWM:")
            ),
            None,
        )
        queue.put(
            {
                "fit_s": fit_s,
                "read_s": t1 - t0,
                "predict_s": t2 - t1,
                "write_s": t3 - t2,
                "total_s": t3 - t0,
                "rows": len(frame),
                "peak_rss_mib": hwm,
            }
        )
    except Exception as exc:
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def run_bare(learner: str, train_path: Path, input_path: Path, output_path: Path) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(
        target=bare_child, args=(learner, str(train_path), str(input_path), str(output_path), queue)
    )
    child.start()
    try:
        result = queue.get(timeout=SCORING_TIMEOUT)
    finally:
        child.join(30)
        if child.is_alive():
            child.kill()
            child.join(5)
    if "error" in result:
        raise RuntimeError(f"bare baseline failed: {result['error']}")
    return result


# ---- the service -------------------------------------------------------------------------------------


def prepare_endpoint(api: httpx.Client, dataset: str, learner: str, mini_batch_rows: int) -> dict[str, Any]:
    """Train over HTTP, make and publish the batch inference pipeline, set the batch settings."""
    t0 = time.monotonic()
    body = {"pipeline": training_pipeline(dataset, learner)}
    submitted = api.post("/experiments/bench-batch/runs", json=body)
    run, _ = wait_for_run(api, submitted.raise_for_status().json()["Id"], timeout=600, interval=0.2)
    if run["status"] != "Finished":
        raise RuntimeError(f"training run {run['run_id']} ended {run['status']}: {run.get('error')}")
    training_s = time.monotonic() - t0
    draft = api.post(f"/runs/{run['run_id']}/inference-pipelines", json={"kind": "batch"}).raise_for_status()
    endpoint = f"bench-{learner}"
    api.post(
        f"/pipelineendpoints/{endpoint}/versions", json={"draft_id": draft.json()["id"]}
    ).raise_for_status()
    api.put(
        f"/pipelineendpoints/{endpoint}/batch-settings",
        json={"mini_batch_rows": mini_batch_rows, "output": "ids", "id_column": ID},
    ).raise_for_status()
    return {"endpoint": endpoint, "training_run": run, "training_wall_s": training_s}


def score_through_blob(stack: Any, api: httpx.Client, endpoint: str, csv_path: Path) -> dict[str, Any]:
    """Upload, wait for the predictions blob; the timings, run record, history and predictions."""
    blobs = stack.blobs()
    name = f"{endpoint}/{csv_path.name}"
    output = blobs.get_blob_client("batch-output", f"{name}.predictions.csv")
    error = blobs.get_blob_client("batch-output", f"{name}.error.json")
    started_wall = time.time()
    t0 = time.monotonic()
    with csv_path.open("rb") as source:
        # Parallel block upload, as azcopy and `az storage blob upload` do by default.
        blobs.get_blob_client("batch-input", name).upload_blob(source, overwrite=True, max_concurrency=4)
    t_uploaded = time.monotonic()
    uploaded_wall = time.time()
    while not output.exists():
        if error.exists():
            raise RuntimeError(f"scoring failed: {error.download_blob().readall().decode()[:2000]}")
        if time.monotonic() > t0 + SCORING_TIMEOUT:
            raise TimeoutError(f"no predictions after {SCORING_TIMEOUT:.0f} s (host log: {stack.log_path})")
        time.sleep(0.25)
    t_done = time.monotonic()
    predictions = pd.read_csv(io.BytesIO(output.download_blob().readall()))
    listed = api.get("/experiments/blob-scoring/runs").raise_for_status().json()["value"]
    run_id = next(r["run_id"] for r in listed if r.get("endpoint") == endpoint)
    run = api.get(f"/runs/{run_id}").raise_for_status().json()
    status = httpx.get(
        f"{stack.url}/runtime/webhooks/durabletask/instances/{run_id}",
        params={"showHistory": "true"},
        headers={"x-functions-key": stack.function_key},
        timeout=60,
    ).json()
    return {
        "upload_s": t_uploaded - t0,
        "after_upload_s": t_done - t_uploaded,
        "total_s": t_done - t0,
        "started_wall": started_wall,
        "uploaded_wall": uploaded_wall,
        "run": run,
        "orchestration": status,
        "predictions": predictions,
    }


def phases(result: dict[str, Any]) -> dict[str, Any]:
    """Where the service's time went, from the orchestration history (the same machine clock)."""
    status = result["orchestration"]
    history = status.get("historyEvents", [])
    # ExecutionStarted has a fine timestamp (createdTime has whole seconds).
    created = next((_ts(e["Timestamp"]) for e in history if e["EventType"] == 0), None)
    if created is None:
        created = _ts(status["createdTime"])
    scheduled = {e["EventId"]: e for e in history if e["EventType"] == 4}
    spans: dict[str, list[tuple[float, float]]] = {}
    for e in history:
        if e["EventType"] in (5, 6):  # TaskCompleted, TaskFailed
            start = scheduled[e["TaskScheduledId"]]
            spans.setdefault(start["Name"], []).append((_ts(start["Timestamp"]), _ts(e["Timestamp"])))
    out: dict[str, Any] = {"trigger_s": created - result["uploaded_wall"]}
    prepare, score, finish = (spans.get(k, []) for k in ("batch_prepare", "batch_score", "batch_finish"))
    if prepare:
        out["start_to_prepare_s"] = prepare[0][0] - created
        out["prepare_s"] = prepare[-1][1] - prepare[0][0]
    if score:
        first = min(s for s, _ in score)
        out["scoring_s"] = max(e for _, e in score) - first
        out["mini_batches"] = len(score)
        out["mini_batch_completed_at_s"] = sorted(round(e - first, 3) for _, e in score)
    if finish:
        out["join_s"] = finish[-1][1] - finish[0][0]
        out["after_join_s"] = result["started_wall"] + result["total_s"] - finish[-1][1]
    run = result["run"]
    out["run_record"] = {
        "created_at": run.get("created_at"),
        "started_at": run.get("started_at"),
        "ended_at": run.get("ended_at"),
        "metrics": run["nodes"].get("score", {}).get("metrics"),
    }
    return out


def _ts(value: str) -> float:
    return parse_time(value.replace("Z", "+00:00")).astimezone(UTC).timestamp()


# ---- optional profile ----------------------------------------------------------------------------------


def start_profile(py_spy: str, pid: int, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--rate",
            str(PROFILE_RATE),
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_profile(process: subprocess.Popen, out: Path) -> dict[str, Any]:
    """CPU seconds (on-CPU samples) per activity and per hot function inside each activity."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
    if not out.exists():
        return {"error": "py-spy wrote no profile"}
    activities: collections.Counter[str] = collections.Counter()
    functions: collections.Counter[str] = collections.Counter()
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f.split(" (", 1)[0] for f in stack.split(";")]
        activity = next((f for f in frames if f in ("batch_prepare", "batch_score", "batch_finish")), None)
        if activity is None and any("_ChunkDownloader" in f or "_ChunkUploader" in f for f in frames):
            activity = "blob transfer threads (parallel chunked download/upload)"
        poller = "BlobPoller._run" in frames or "BlobPoller._scan" in frames
        activity = activity or ("host: blob poller" if poller else "host: other")
        activities[activity] += int(count)
        for name in {h for h in HOT_FUNCTIONS for f in frames if h in f}:
            functions[f"{activity}: {name}"] += int(count)
    return {
        "rate_hz": PROFILE_RATE,
        "cpu_s_by_activity": {k: round(v / PROFILE_RATE, 2) for k, v in activities.most_common()},
        "cpu_s_by_function": {
            k: round(v / PROFILE_RATE, 2) for k, v in sorted(functions.items()) if v / PROFILE_RATE >= 0.05
        },
    }


# ---- main --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.batch_scoring", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run (100,000 rows)")
    parser.add_argument(
        "--rows", type=int, default=None, help="rows to score (default 1,000,000; quick: 100,000)"
    )
    parser.add_argument(
        "--train-rows", type=int, default=None, help="training rows (default 50,000; quick: 10,000)"
    )
    parser.add_argument(
        "--mini-batch-rows",
        type=int,
        default=None,
        help="batch setting mini_batch_rows (default 100,000; quick: 25,000)",
    )
    parser.add_argument("--learners", default="linear,boosted", help="comma-separated: linear, boosted")
    parser.add_argument(
        "--host-log-level", default="info", help="the local host's --log-level (default info)"
    )
    parser.add_argument(
        "--host-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment of the local host, for experiments (e.g. OMP_NUM_THREADS=1)",
    )
    parser.add_argument(
        "--tag",
        default=None,
        help="write results/batch_scoring-TAG.json (default: 'experiment' when --host-env, "
        "--host-log-level or --py-spy is given)",
    )
    parser.add_argument(
        "--py-spy", default=None, metavar="PATH", help="profile the host with this py-spy binary"
    )
    parser.add_argument(
        "--max-wait-quiet",
        type=float,
        default=None,
        help="seconds to wait for other processes to go quiet first (default 300; quick: 30)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet = wait_for_quiet(
        args.max_wait_quiet if args.max_wait_quiet is not None else 30 if args.quick else 300
    )
    host_env = dict(item.split("=", 1) for item in args.host_env)
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    train_rows = args.train_rows or (10_000 if args.quick else 50_000)
    mini_batch_rows = args.mini_batch_rows or (25_000 if args.quick else 100_000)
    learners = [name.strip() for name in args.learners.split(",") if name.strip()]
    began = time.monotonic()
    audit = CpuAudit()

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp_dir:
        tmp = Path(tmp_dir)
        t0 = time.monotonic()
        big = tmp / "big.csv"
        synthetic(rows, seed=2, with_label=False, with_id=True).to_csv(big, index=False)
        train_csv = synthetic(train_rows, seed=1, with_label=True, with_id=False).to_csv(index=False).encode()
        print(
            f"data: {rows:,} rows to score ({big.stat().st_size / 2**20:.0f} MiB CSV), {train_rows:,} to "
            f"train ({time.monotonic() - t0:.1f} s to make)",
            file=sys.stderr,
        )
        per_learner: dict[str, Any] = {}
        with (
            local_stack(NAME, log_level=args.host_log_level, extra_env=host_env) as stack,
            stack.api(timeout=300) as api,
        ):
            print(f"local host {stack.url} (log {stack.log_path})", file=sys.stderr)
            api.post("/datasets/bench-train", content=train_csv).raise_for_status()
            _, artifacts = stack.store_and_artifacts()
            from core.components import PortType

            for learner in learners:
                prepared = prepare_endpoint(api, "bench-train", learner, mini_batch_rows)
                print(
                    f"[{learner}] trained in {prepared['training_wall_s']:.1f} s; scoring {rows:,} rows "
                    "through the blob trigger ...",
                    file=sys.stderr,
                )
                spy = None
                if args.py_spy:
                    spy = start_profile(args.py_spy, stack.host.pid, tmp / f"{learner}.pyspy")
                if spy:
                    time.sleep(2)  # py-spy attaches to every process of the tree
                service = score_through_blob(stack, api, prepared["endpoint"], big)
                profile = stop_profile(spy, tmp / f"{learner}.pyspy") if spy else None
                print(f"[{learner}] service: {service['total_s']:.1f} s; bare baseline ...", file=sys.stderr)
                train_path = tmp / f"train-{learner}.parquet"
                split_ref = prepared["training_run"]["nodes"]["split"]["outputs"]["results_dataset1"]
                artifacts.get(split_ref, PortType.DATA).to_parquet(train_path)
                bare = run_bare(learner, train_path, big, tmp / f"bare-{learner}.csv")
                print(f"[{learner}] bare: {bare['total_s']:.1f} s", file=sys.stderr)
                bare_out = pd.read_csv(tmp / f"bare-{learner}.csv")
                per_learner[learner] = summarise(
                    rows, prepared, service, bare, bare_out, stack.peak_rss(), profile
                )
            rss = stack.peak_rss()

    cpu = audit.stop()
    results = {
        "benchmark": NAME,
        "mode": ("quick" if args.quick else "full"),
        "environment": environment(),
        "settings": {
            "rows": rows,
            "train_rows": train_rows,
            "mini_batch_rows": mini_batch_rows,
            "activity_workers": "host.json maxConcurrentActivityFunctions",
            "host_log_level": args.host_log_level,
            "host_env": host_env,
            "py_spy": bool(args.py_spy),
            "azurite": "in memory",
        },
        "learners": per_learner,
        "peak_rss": rss,
        "cpu_audit": cpu,
        "quiet_at_start": quiet,
        "elapsed_s": time.monotonic() - began,
    }
    experiment = host_env or args.host_log_level != "info" or args.py_spy
    tag = args.tag or ("experiment" if experiment else None)
    path = write_results(f"{NAME}-{tag}" if tag else NAME, results)
    report(results, path)
    agree = all(
        r["checks"]["same_rows_and_order"] and (r["checks"]["max_abs_prediction_diff"] or 0) < 1e-6
        for r in per_learner.values()
    )
    return 0 if agree else 1


def summarise(
    rows: int,
    prepared: dict,
    service: dict,
    bare: dict,
    bare_out: pd.DataFrame,
    rss: dict,
    profile: dict | None,
) -> dict[str, Any]:
    got = service.pop("predictions")
    same = len(got) == len(bare_out) and bool((got[ID].to_numpy() == bare_out[ID].to_numpy()).all())
    diff = (
        float(np.max(np.abs(got["Scored Labels"].to_numpy() - bare_out["Scored Labels"].to_numpy())))
        if same
        else None
    )
    out = {
        "service": {
            "total_s": service["total_s"],
            "upload_s": service["upload_s"],
            "after_upload_s": service["after_upload_s"],
            "rows_per_s": rows / service["total_s"],
            "rows_per_s_after_upload": rows / service["after_upload_s"],
            "phases": phases(service),
            "training_wall_s": prepared["training_wall_s"],
            "orchestration_custom_status": service["orchestration"].get("customStatus"),
        },
        "bare": {**bare, "rows_per_s": rows / bare["total_s"]},
        "ratio_service_over_bare_rows_per_s": ratio(rows / service["total_s"], rows / bare["total_s"]),
        "checks": {"same_rows_and_order": same, "max_abs_prediction_diff": diff, "output_rows": len(got)},
        "peak_rss_so_far": rss,
    }
    if profile:
        out["profile"] = profile
    return out


def report(results: dict[str, Any], path: Path) -> None:
    per_learner = results["learners"]
    settings = results["settings"]
    print(
        f"\nScoring {settings['rows']:,} rows (CSV in, CSV out), {settings['mini_batch_rows']:,}-row "
        f"mini-batches; host env {settings['host_env'] or 'unchanged'}\n"
    )
    rows = []
    for learner, r in per_learner.items():
        rows.append(
            [
                f"{learner}: service (upload -> predictions blob)",
                r["service"]["total_s"],
                r["service"]["rows_per_s"],
                r["ratio_service_over_bare_rows_per_s"],
            ]
        )
        rows.append(
            [
                f"{learner}: bare pandas + sklearn (read, predict, write)",
                r["bare"]["total_s"],
                r["bare"]["rows_per_s"],
                None,
            ]
        )
    print(table(["", "seconds", "rows/s", "service/bare"], rows))
    print()
    steps = [
        ("service: upload to Azurite", "upload_s"),
        ("service: blob trigger fired", "trigger_s"),
        ("service: prepare (plan the mini-batches)", "prepare_s"),
        ("service: scoring (read, score, write; parallel)", "scoring_s"),
        ("service: join (read results, write CSV)", "join_s"),
        ("service: until the poll saw the output", "after_join_s"),
    ]
    lines = [
        [label, *(r["service"]["phases"].get(key, r["service"].get(key)) for r in per_learner.values())]
        for label, key in steps
    ]
    lines += [
        [f"bare: {k}", *(r["bare"][f"{k}_s"] for r in per_learner.values())]
        for k in ("read", "predict", "write")
    ]
    print(table(["where the time went (s)", *per_learner], lines))
    print()
    for learner, r in per_learner.items():
        x = r["ratio_service_over_bare_rows_per_s"]
        verdict = "matches or beats" if x >= 1 else "does NOT match"
        print(
            f"{learner}: the service {verdict} the bare single-process baseline ({x:.2f}x its rows/s); "
            f"predictions {r['checks']}"
        )
        if "profile" in r:
            print(f"  profile (CPU s): {r['profile'].get('cpu_s_by_activity')}")
    rss = results["peak_rss"]
    print(
        f"\npeak RSS: host tree {rss['host_tree_sum_mib']} MiB (sum of per-process peaks: "
        f"{rss['per_process_mib']}), Azurite {rss['azurite_mib']} MiB; bare child "
        + ", ".join(f"{name} {r['bare']['peak_rss_mib']} MiB" for name, r in per_learner.items())
    )
    print_closing(path, results, results["cpu_audit"])


if __name__ == "__main__":
    sys.exit(main())
