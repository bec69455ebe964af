"""Single-row latency (p50/p99) and requests per second of the tutorial model, three ways, one run.

1. the real-time endpoint: train the tutorial over HTTP, create its real-time inference pipeline,
   deploy it (POST /api/realtime) and POST single rows to /api/realtime/{name}/score;
2. bare scikit-learn in this process: the very fitted model (the train node's TrainedModel
   artifact, loaded through core.storage.artifacts with the host's signing key) and ``predict`` on a
   one-row DataFrame; also, for the breakdown, the product's own scoring code in this process
   (``Service.realtime.score``: schema check, Select Columns, Clean Missing Data, Score Model,
   JSON records) without HTTP or the host; and, where the endpoint scores with ONNX Runtime
   (its ``acceleration``), the product's own verified ONNX conversion of the model, bare;
3. the peer, MLflow's own model server: the same fitted scikit-learn pipeline saved with
   ``mlflow.sklearn.save_model`` in the separate venv ``.venv-bench`` (requirements-bench.txt: the
   same scikit-learn, pandas and numpy), served by ``mlflow models serve --env-manager local``
   (one uvicorn worker, its default) and sent the same rows as ``{"dataframe_records": [row]}``.

Batches: 100-row requests to the endpoint (over HTTP and in process) against bare scikit-learn
``predict`` on a 100-row DataFrame of the same rows, in rows per second.

Latency: sequential requests on one keep-alive httpx client, after a warm-up. Throughput: a few
client threads, each with its own keep-alive client, until a request count or a time limit,
whichever comes first. The clients run on the same two cores as the servers (for both servers
alike). If MLflow cannot be installed or started, the other two are still measured and the
reason is printed.

    .venv/bin/python -m benchmarks.realtime_latency [--quick] [--no-mlflow]
"""

from __future__ import annotations

import argparse
import itertools
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import joblib
import pandas as pd

from benchmarks.harness import (
    ROOT,
    SAMPLE_DATA,
    CpuAudit,
    environment,
    local_stack,
    percentile,
    print_closing,
    ratio,
    stop_process,
    table,
    train_tutorial,
    wait_for_quiet,
    write_results,
)

NAME = "realtime_latency"
BATCH_ROWS = 100
BENCH_VENV = ROOT / ".venv-bench"
MLFLOW_START_TIMEOUT = 180.0


def complete_rows() -> list[dict[str, Any]]:
    """The sample's rows that the tutorial scores (no missing value once normalized-losses is
    dropped), without the label: what a caller would send."""
    cars = pd.read_csv(SAMPLE_DATA).drop(columns=["price", "normalized-losses"]).dropna()
    return json.loads(cars.to_json(orient="records"))


# ---- measuring ------------------------------------------------------------------------------------


def latency_stats(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p90_ms": percentile(ms, 90),
        "p99_ms": percentile(ms, 99),
        "mean_ms": sum(ms) / len(ms),
        "min_ms": min(ms),
        "max_ms": max(ms),
    }


def measure_calls(
    call: Callable[[int], None],
    sequential: int,
    warmup: int,
    threads: int,
    total: int,
    max_seconds: float,
    make_call: Callable[[], Callable[[int], None]] | None = None,
) -> dict[str, Any]:
    """Latency of ``sequential`` calls in a row, then throughput of ``threads`` callers (each with
    its own ``make_call()``) until ``total`` calls or ``max_seconds``."""
    for i in range(warmup):
        call(i)
    latencies = []
    deadline = time.monotonic() + max_seconds
    for i in range(sequential):
        start = time.perf_counter()
        call(i)
        latencies.append(time.perf_counter() - start)
        if time.monotonic() > deadline:
            break
    counter = itertools.count()
    errors: list[str] = []
    done = [0] * threads

    def worker(slot: int) -> None:
        own = make_call() if make_call else call
        for _ in range(total):
            n = next(counter)
            if n >= total or time.monotonic() > stop_at:
                return
            try:
                own(n)
                done[slot] += 1
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])

    stop_at = time.monotonic() + max_seconds
    pool = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(threads)]
    began = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join(max_seconds + 30)
    elapsed = time.perf_counter() - began
    completed = sum(done)
    return {
        "latency": latency_stats(latencies),
        "throughput": {
            "threads": threads,
            "requests": completed,
            "seconds": elapsed,
            "rps": completed / elapsed if elapsed else None,
            "errors": len(errors),
            "first_errors": errors[:3],
        },
    }


class HttpCallers:
    """Callers that post body ``i % len(bodies)``, each with its own keep-alive client."""

    def __init__(self, url: str, headers: dict[str, str], bodies: list[bytes]) -> None:
        self.url, self.bodies = url, bodies
        self.headers = {**headers, "content-type": "application/json"}
        self.clients: list[httpx.Client] = []

    def make(self) -> Callable[[int], None]:
        client = httpx.Client(headers=self.headers, timeout=30)
        self.clients.append(client)

        def call(i: int) -> None:
            expect_ok(client.post(self.url, content=self.bodies[i % len(self.bodies)]))

        return call

    def measure(self, **options: Any) -> dict[str, Any]:
        try:
            return measure_calls(self.make(), make_call=self.make, **options)
        finally:
            for client in self.clients:
                client.close()


def expect_ok(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")


# ---- the MLflow peer ------------------------------------------------------------------------------


class PeerUnavailable(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_mlflow(model: Any, rows: list[dict], workdir: Path) -> tuple[subprocess.Popen, str, dict, Path]:
    """Save ``model`` with MLflow in .venv-bench and serve it; (process, url, info, log path)."""
    python = BENCH_VENV / "bin" / "python"
    mlflow_cli = BENCH_VENV / "bin" / "mlflow"
    if not python.exists() or not mlflow_cli.exists():
        raise PeerUnavailable(
            f"{BENCH_VENV} has no mlflow: create it with `python3 -m venv .venv-bench && "
            ".venv-bench/bin/pip install -r requirements-bench.txt`"
        )
    model_file, rows_file = workdir / "model.joblib", workdir / "rows.json"
    model_dir = workdir / "mlflow-model"
    joblib.dump(model, model_file)
    rows_file.write_text(json.dumps(rows))
    saved = subprocess.run(
        [
            str(python),
            str(ROOT / "benchmarks" / "mlflow_peer.py"),
            str(model_file),
            str(rows_file),
            str(model_dir),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if saved.returncode != 0:
        raise PeerUnavailable(f"saving the model with MLflow failed: {saved.stderr.strip()[-1500:]}")
    info = json.loads(saved.stdout.strip().splitlines()[-1])
    port = _free_port()
    log_path = workdir / "mlflow-serve.log"
    env = {
        **_clean_env(),
        "PATH": f"{BENCH_VENV / 'bin'}:{_clean_env().get('PATH', '')}",
        "MLFLOW_TRACKING_URI": (workdir / "mlruns").as_uri(),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(mlflow_cli),
                "models",
                "serve",
                "-m",
                str(model_dir),
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + MLFLOW_START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise PeerUnavailable(
                f"mlflow models serve exited ({process.returncode}): "
                f"{log_path.read_text(errors='replace')[-1500:]}"
            )
        try:
            if httpx.get(f"{url}/ping", timeout=2).status_code == 200:
                return process, url, info, log_path
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop_process(process, 10)
            tail = log_path.read_text(errors="replace")[-1500:]
            raise PeerUnavailable(
                f"mlflow models serve did not answer /ping in {MLFLOW_START_TIMEOUT:.0f} s: {tail}"
            )
        time.sleep(0.2)


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}


# ---- main -------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.realtime_latency", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--no-mlflow", action="store_true", help="skip the MLflow peer")
    parser.add_argument("--threads", type=int, default=4, help="client threads for throughput (default 4)")
    parser.add_argument(
        "--host-log-level", default="info", help="the local host's --log-level (default info)"
    )
    parser.add_argument(
        "--max-wait-quiet",
        type=float,
        default=None,
        help="seconds to wait for other processes to go quiet first (default 300; quick: 30)",
    )
    return parser.parse_args(argv)


def deploy(api: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train the tutorial, make its real-time inference pipeline and deploy it: (run, endpoint)."""
    run = train_tutorial(api, "bench-realtime")
    draft = api.post(f"/runs/{run['run_id']}/inference-pipelines", json={"kind": "realtime"})
    body = {"name": f"cars-{uuid.uuid4().hex[:6]}", "draft_id": draft.raise_for_status().json()["id"]}
    deployed = api.post("/realtime", json=body)
    deployed.raise_for_status()
    return run, deployed.json()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet = wait_for_quiet(
        args.max_wait_quiet if args.max_wait_quiet is not None else 30 if args.quick else 300
    )
    options = {
        "sequential": 200 if args.quick else 2000,
        "warmup": 30 if args.quick else 200,
        "threads": args.threads,
        "total": 500 if args.quick else 6000,
        "max_seconds": 15.0 if args.quick else 60.0,
    }
    began = time.monotonic()
    audit = CpuAudit()
    rows = complete_rows()
    measured: dict[str, Any] = {}
    peer_missing: str | None = None
    check: dict[str, Any] = {}

    with (
        local_stack(NAME, log_level=args.host_log_level) as stack,
        stack.api() as api,
        tempfile.TemporaryDirectory(prefix="bench-realtime-") as tmp,
    ):
        print(f"local host {stack.url} (log {stack.log_path})", file=sys.stderr)
        run, endpoint = deploy(api)
        key = endpoint["keys"]["primary"]
        score_url = f"{stack.url}{endpoint['scoring_uri']}"

        # The fitted model, exactly as stored: the train node's TrainedModel artifact.
        from core.components import PortType
        from core.service.facade import Service
        from core.settings import Settings

        store, artifacts = stack.store_and_artifacts()
        trained = artifacts.get(run["nodes"]["train"]["outputs"]["trained_model"], PortType.MODEL)
        sk_model = trained.pipeline
        frames = [pd.DataFrame.from_records([r])[trained.feature_columns] for r in rows]
        bodies = [json.dumps({"dataframe_records": [r]}).encode() for r in rows]

        # The endpoint and the bare model must agree before anything is timed.
        headers = {"api-key": key, "content-type": "application/json"}
        answers = [
            httpx.post(score_url, content=bodies[i], headers=headers)
            .raise_for_status()
            .json()["predictions"][0]["Scored Labels"]
            for i in range(5)
        ]
        bare_answers = [float(sk_model.predict(frames[i])[0]) for i in range(5)]
        check["endpoint_vs_bare_max_abs_diff"] = max(
            abs(a - b) for a, b in zip(answers, bare_answers, strict=True)
        )
        check["endpoint_acceleration"] = endpoint.get("acceleration")

        print("measuring: bare scikit-learn predict ...", file=sys.stderr)
        measured["bare_sklearn_predict"] = measure_calls(
            lambda i: sk_model.predict(frames[i % len(frames)]), **options
        )
        onnx_model = onnx_twin(trained, rows)
        if onnx_model is not None:  # what the endpoint runs when its acceleration says "onnx"
            print("measuring: bare ONNX Runtime predict ...", file=sys.stderr)
            measured["bare_onnx_predict"] = measure_calls(
                lambda i: onnx_model.predict(frames[i % len(frames)]), **options
            )
        print("measuring: product scoring code in-process ...", file=sys.stderr)
        settings = Settings(
            storage_connection_string=stack.connection_string, artifact_signing_key=stack.signing_key
        )
        service = Service(store, settings, ROOT / "samples" / "datasets")
        parsed = [json.loads(b) for b in bodies]
        measured["product_score_in_process"] = measure_calls(
            lambda i: json.dumps(service.realtime.score(endpoint["name"], key, parsed[i % len(parsed)])),
            **options,
        )
        print("measuring: real-time endpoint over HTTP ...", file=sys.stderr)
        measured["endpoint_http"] = HttpCallers(score_url, {"api-key": key}, bodies).measure(**options)

        batch_options = {
            **options,
            "sequential": 50 if args.quick else 300,
            "warmup": 10 if args.quick else 30,
            "total": 100 if args.quick else 600,
            "max_seconds": 10.0 if args.quick else 30.0,
        }
        batch_frames, batch_bodies = batches(rows, trained.feature_columns)
        parsed_batches = [json.loads(b) for b in batch_bodies]
        check["batch_endpoint_vs_bare_max_abs_diff"] = max(
            abs(a["Scored Labels"] - b)
            for a, b in zip(
                httpx.post(score_url, content=batch_bodies[0], headers=headers)
                .raise_for_status()
                .json()["predictions"],
                sk_model.predict(batch_frames[0]).tolist(),
                strict=True,
            )
        )
        print(f"measuring: {BATCH_ROWS}-row batches (bare, in-process, HTTP) ...", file=sys.stderr)
        measured["batch_bare_sklearn_predict"] = measure_calls(
            lambda i: sk_model.predict(batch_frames[i % len(batch_frames)]), **batch_options
        )
        measured["batch_product_in_process"] = measure_calls(
            lambda i: json.dumps(
                service.realtime.score(endpoint["name"], key, parsed_batches[i % len(parsed_batches)])
            ),
            **batch_options,
        )
        measured["batch_endpoint_http"] = HttpCallers(score_url, {"api-key": key}, batch_bodies).measure(
            **batch_options
        )
        check["endpoint_serving"] = endpoint.get("serving")
        rss = stack.peak_rss()

        if args.no_mlflow:
            peer_missing = "skipped (--no-mlflow)"
        else:
            try:
                measured["mlflow_http"] = measure_peer(
                    sk_model, rows, frames, bodies, Path(tmp), check, options
                )
            except (PeerUnavailable, OSError, subprocess.TimeoutExpired, httpx.HTTPError, ValueError) as exc:
                peer_missing = f"{type(exc).__name__}: {exc}"

    cpu = audit.stop()
    results = {
        "benchmark": NAME,
        "mode": "quick" if args.quick else "full",
        "environment": environment(),
        "settings": {
            **options,
            "rows_cycled": len(rows),
            "host_log_level": args.host_log_level,
            "mlflow_workers": 1,
        },
        "measured": measured,
        "ratios": ratios(measured),
        "mlflow_peer_missing": peer_missing,
        "checks": check,
        "peak_rss": rss,
        "cpu_audit": cpu,
        "quiet_at_start": quiet,
        "elapsed_s": time.monotonic() - began,
    }
    path = write_results(NAME, results)
    report(results, path)
    return 0


def batches(rows: list[dict], features: list[str]) -> tuple[list[pd.DataFrame], list[bytes]]:
    """``BATCH_ROWS``-row slices of the rows (cycling), as DataFrames and as request bodies."""
    slices = [[rows[(start + i) % len(rows)] for i in range(BATCH_ROWS)] for start in range(0, len(rows), 37)]
    return (
        [pd.DataFrame.from_records(s)[features] for s in slices],
        [json.dumps({"dataframe_records": s}).encode() for s in slices],
    )


def onnx_twin(trained: Any, rows: list[dict]) -> Any:
    """The product's own verified ONNX conversion of the model (core.serving.onnx), if any."""
    try:
        from core.serving.onnx import convert
    except ImportError:  # a tree without ONNX acceleration
        return None
    return convert(trained, pd.DataFrame.from_records(rows))


def measure_peer(
    sk_model: Any,
    rows: list[dict],
    frames: list[pd.DataFrame],
    bodies: list[bytes],
    tmp: Path,
    check: dict[str, Any],
    options: dict[str, Any],
) -> dict[str, Any]:
    print("starting the MLflow peer ...", file=sys.stderr)
    process, url, info, _ = start_mlflow(sk_model, rows, tmp)
    try:
        check["mlflow_versions"] = {k: v for k, v in info.items() if k != "predictions"}
        check["mlflow_vs_bare_max_abs_diff"] = max(
            abs(a - float(sk_model.predict(f)[0]))
            for a, f in zip(info["predictions"][:20], frames[:20], strict=True)
        )
        answer = httpx.post(
            f"{url}/invocations", content=bodies[0], headers={"content-type": "application/json"}
        )
        check["mlflow_http_vs_bare_abs_diff"] = abs(
            answer.raise_for_status().json()["predictions"][0] - float(sk_model.predict(frames[0])[0])
        )
        print("measuring: MLflow model server over HTTP ...", file=sys.stderr)
        return HttpCallers(f"{url}/invocations", {}, bodies).measure(**options)
    finally:
        stop_process(process, 20)


def ratios(measured: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    def lat(name: str, field: str) -> float | None:
        return measured[name]["latency"][field] if name in measured else None

    def rps(name: str) -> float | None:
        return measured[name]["throughput"]["rps"] if name in measured else None

    def rows_per_s(name: str) -> float | None:
        p50 = lat(name, "p50_ms")
        return BATCH_ROWS * 1000 / p50 if p50 else None

    def versus(a: str, b: str) -> dict[str, float | None]:
        return {
            "p50": ratio(lat(a, "p50_ms"), lat(b, "p50_ms")),
            "p99": ratio(lat(a, "p99_ms"), lat(b, "p99_ms")),
            "rps": ratio(rps(a), rps(b)),
        }

    return {
        "endpoint_over_bare": versus("endpoint_http", "bare_sklearn_predict"),
        "endpoint_over_mlflow": versus("endpoint_http", "mlflow_http"),
        "endpoint_over_bare_onnx": versus("endpoint_http", "bare_onnx_predict"),
        "product_in_process_over_bare": versus("product_score_in_process", "bare_sklearn_predict"),
        "endpoint_over_product_in_process": versus("endpoint_http", "product_score_in_process"),
        "product_in_process_over_bare_onnx": versus("product_score_in_process", "bare_onnx_predict"),
        "batch_rows_per_s": {
            "bare_sklearn": rows_per_s("batch_bare_sklearn_predict"),
            "product_in_process": rows_per_s("batch_product_in_process"),
            "endpoint_http": rows_per_s("batch_endpoint_http"),
            "in_process_over_bare": ratio(
                rows_per_s("batch_product_in_process"), rows_per_s("batch_bare_sklearn_predict")
            ),
            "http_over_bare": ratio(
                rows_per_s("batch_endpoint_http"), rows_per_s("batch_bare_sklearn_predict")
            ),
        },
    }


LABELS = {
    "endpoint_http": "real-time endpoint (HTTP)",
    "mlflow_http": "mlflow models serve (HTTP)",
    "bare_sklearn_predict": "bare sklearn predict (in-process)",
    "bare_onnx_predict": "bare ONNX Runtime predict (in-process)",
    "product_score_in_process": "product scoring code (in-process)",
    "batch_bare_sklearn_predict": f"{BATCH_ROWS} rows: bare sklearn predict",
    "batch_product_in_process": f"{BATCH_ROWS} rows: product scoring code (in-process)",
    "batch_endpoint_http": f"{BATCH_ROWS} rows: real-time endpoint (HTTP)",
}


def report(results: dict[str, Any], path: Path) -> None:
    measured, r = results["measured"], results["ratios"]
    print(
        f"\nTutorial model, single-row requests; throughput with {results['settings']['threads']} client "
        "threads\n"
    )
    print(
        table(
            ["", "p50 ms", "p99 ms", "mean ms", "req/s", "errors"],
            [
                [
                    LABELS[k],
                    v["latency"]["p50_ms"],
                    v["latency"]["p99_ms"],
                    v["latency"]["mean_ms"],
                    v["throughput"]["rps"],
                    v["throughput"]["errors"],
                ]
                for k, v in measured.items()
            ],
        )
    )
    print()
    print(
        table(
            ["ratio", "p50", "p99", "req/s"],
            [
                [label, r[key]["p50"], r[key]["p99"], r[key]["rps"]]
                for label, key in [
                    ("endpoint / bare sklearn", "endpoint_over_bare"),
                    ("endpoint / mlflow", "endpoint_over_mlflow"),
                    ("endpoint / bare ONNX Runtime", "endpoint_over_bare_onnx"),
                    ("product in-process / bare sklearn", "product_in_process_over_bare"),
                    ("product in-process / bare ONNX Runtime", "product_in_process_over_bare_onnx"),
                ]
            ],
        )
    )
    b = r["batch_rows_per_s"]
    print(
        f"\n{BATCH_ROWS}-row batches, rows/s (from p50): bare sklearn {_num(b['bare_sklearn'])}, in-process "
        f"{_num(b['product_in_process'])} ({_num(b['in_process_over_bare'])}x), HTTP "
        f"{_num(b['endpoint_http'])} "
        f"({_num(b['http_over_bare'])}x)"
    )
    if results["mlflow_peer_missing"]:
        print(f"\nMLflow peer missing: {results['mlflow_peer_missing']}")
    print(f"\nchecks: {json.dumps(results['checks'])}")
    print_closing(path, results, results["cpu_audit"])


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.3g}" if value < 100 else f"{value:,.0f}"


if __name__ == "__main__":
    sys.exit(main())
