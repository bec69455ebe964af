"""Blob-upload batch scoring against a real Azurite, its steps run inline (no orchestrator)."""

from __future__ import annotations

import io
import itertools
import json
import uuid

import numpy as np
import pandas as pd
import pytest

from core.errors import ComponentError
from core.registry import endpoints, runs
from core.service.facade import Submission
from core.serving import batch
from core.serving.batch import BatchSettings
from tests.core.service.test_service import run_inline, tutorial


@pytest.fixture(scope="module")
def endpoint(service) -> str:
    run, job = service.submit(Submission(experiment="batch", pipeline=tutorial()))
    run_inline(service, job)
    draft, _ = service.create_inference_pipeline(run.run_id, "batch")
    name = f"cars-{uuid.uuid4().hex[:6]}"
    service.publish(draft.id, name, "", True, None)
    return name


@pytest.fixture(scope="module")
def cars(service) -> pd.DataFrame:
    raw = pd.read_csv(service.samples_dir / "automobile-price-raw.csv").drop(columns=["price"])
    big = pd.concat([raw] * 5, ignore_index=True)
    big.insert(0, "car_id", [f"car-{i:04d}" for i in range(len(big))])
    return big


def upload(store, endpoint: str, frame: pd.DataFrame | bytes, name: str = "cars.csv") -> str:
    data = frame if isinstance(frame, bytes) else frame.to_csv(index=False).encode()
    path = f"{endpoint}/{uuid.uuid4().hex[:6]}-{name}"
    store.put_blob("batch-input", path, data)
    return f"batch-input/{path}"


def score_inline(service, blob: str) -> tuple[batch.BatchRequest, dict]:
    """Score an upload in this process (the same run state machine the orchestrator drives)."""
    request = batch.request_for(service.store, blob)
    return request, service.batch.score_in_process(request).model_dump()


def read_output(store, path: str) -> pd.DataFrame:
    container, name = path.split("/", 1)
    return pd.read_csv(io.BytesIO(store.get_blob(container, name)))


def test_mini_batches_keep_input_order_and_ids(service, store, endpoint, cars):
    endpoints.set_batch_settings(
        store, endpoint, {"mini_batch_rows": 64, "output": "ids", "id_column": "car_id"}
    )
    request, outcome = score_inline(service, upload(store, endpoint, cars))
    assert outcome["status"] == "Finished", outcome
    out = read_output(store, outcome["output"])
    assert list(out.columns) == ["car_id", "Scored Labels"]
    ids = out["car_id"].tolist()
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # input order; cleaning drops a few rows
    endpoints.set_batch_settings(
        store, endpoint, {"mini_batch_rows": 100_000, "output": "ids", "id_column": "car_id"}
    )
    _, whole = score_inline(service, upload(store, endpoint, cars))
    pd.testing.assert_frame_equal(read_output(store, whole["output"]), out)
    node = runs.get_node(store, request.instance_id, "score")
    assert node.metrics["mini_batches"] == int(np.ceil(len(cars) / 64)) and node.metrics["rows_in"] == len(
        cars
    )


def test_same_predictions_whatever_the_mini_batch_size(service, store, endpoint, cars):
    results = {}
    for rows in (50, 100_000):
        endpoints.set_batch_settings(store, endpoint, {"mini_batch_rows": rows, "output": "all"})
        _, outcome = score_inline(service, upload(store, endpoint, cars))
        results[rows] = read_output(store, outcome["output"])
    pd.testing.assert_frame_equal(results[50], results[100_000])
    assert list(results[50].columns[:2]) == ["car_id", "symboling"] and "Scored Labels" in results[50].columns


def test_predictions_only_and_parquet_in_parquet_out(service, store, endpoint, cars):
    endpoints.set_batch_settings(store, endpoint, {"mini_batch_rows": 300, "output": "predictions"})
    buffer = io.BytesIO()
    cars.to_parquet(buffer, index=False)
    _, outcome = score_inline(service, upload(store, endpoint, buffer.getvalue(), "cars.parquet"))
    assert outcome["output"].endswith("cars.parquet.predictions.parquet")
    out = pd.read_parquet(io.BytesIO(store.get_blob("batch-output", outcome["output"].split("/", 1)[1])))
    assert list(out.columns) == ["Scored Labels"] and len(out) > 900


def test_the_same_upload_is_scored_once(service, store, endpoint, cars):
    blob = upload(store, endpoint, cars.head(20))
    request = batch.request_for(store, blob)
    assert service.batch.prepare(request).status == "Ready"
    assert service.batch.prepare(request).status == "Duplicate"
    store.put_blob("batch-input", blob.split("/", 1)[1], cars.head(21).to_csv(index=False).encode())
    assert batch.request_for(store, blob).instance_id != request.instance_id  # a new version is new work


@pytest.mark.parametrize("case", ["unknown_endpoint", "wrong_schema", "not_a_table", "garbage"])
def test_files_that_cannot_be_scored_get_an_error_report(service, store, endpoint, cars, case):
    target, name, data = endpoint, "cars.csv", cars.head(10).to_csv(index=False).encode()
    if case == "unknown_endpoint":
        target = f"nope-{uuid.uuid4().hex[:6]}"
    elif case == "wrong_schema":
        data = pd.DataFrame({"colour": ["red"], "size": [3]}).to_csv(index=False).encode()
    elif case == "not_a_table":
        name = "notes.txt"
    else:
        data = b"\x00\x01garbage\xff" * 100
        name = "cars.parquet"
    request, outcome = score_inline(service, upload(store, target, data, name))
    assert outcome["status"] == "Failed"
    report = json.loads(store.get_blob("batch-output", batch.output_name(request, ".error.json")))
    assert report["blob"] == request.blob and report["error"]
    assert runs.get_run(store, request.instance_id).status == "Failed"
    if case == "wrong_schema":
        assert "make" in report["error"]


def test_error_threshold_names_the_failing_mini_batches(service, store, endpoint, cars, monkeypatch):
    endpoints.set_batch_settings(store, endpoint, {"mini_batch_rows": 100, "error_threshold": 1})
    original = service.batch.score_chunk

    def flaky(prepared, chunk):
        if chunk.index in (2, 5):
            raise ComponentError(f"bad data in batch {chunk.index}")
        return original(prepared, chunk)

    request = batch.request_for(store, upload(store, endpoint, cars))
    prepared = service.batch.prepare(request)
    results = []
    for chunk in prepared.chunks:
        try:
            results.append(flaky(prepared, chunk))
        except ComponentError as exc:
            results.append(batch.ChunkResult(index=chunk.index, error=str(exc)))
    outcome = service.batch.finish(request, prepared, results, None).model_dump()
    assert outcome["status"] == "Failed"
    assert [b.split(" (")[0] for b in outcome["failed_batches"]] == ["mini-batch 2", "mini-batch 5"]
    assert "bytes " in outcome["failed_batches"][0]
    prepared.settings = BatchSettings(error_threshold=2)
    assert service.batch.finish(request, prepared, results, None).status == "Finished"


@pytest.mark.parametrize("trailing_newline", [True, False])
def test_byte_ranges_own_every_line_exactly_once(store, trailing_newline):
    lines = [f"{i},{'x' * (i % 7)}" for i in range(200)]
    body = ("\n".join(lines) + ("\n" if trailing_newline else "")).encode()
    name = f"ranges/{uuid.uuid4().hex[:6]}.csv"
    store.put_blob("batch-input", name, b"a,b\n" + body)
    start, size = 4, 4 + len(body)
    for step in (1, 7, 10, 64, 333, 5000):
        cuts = [*list(range(start, size, step)), size]
        got = b"".join(batch._owned_lines(store, name, s, e) for s, e in itertools.pairwise(cuts))
        assert got.decode().splitlines() == lines, step


def test_row_numbers_continue_across_mini_batches(service, store, endpoint, cars):
    endpoints.set_batch_settings(store, endpoint, {"mini_batch_rows": 64, "output": "ids"})
    _, outcome = score_inline(service, upload(store, endpoint, cars.drop(columns=["car_id"])))
    rows = read_output(store, outcome["output"])["Row"]
    assert rows.is_monotonic_increasing and rows.is_unique and rows.max() < len(cars) and rows.max() > 900


def test_a_bad_cell_fails_only_its_mini_batch_and_is_named_without_its_value(service, store, endpoint, cars):
    bad = cars.copy()
    bad["horsepower"] = bad["horsepower"].astype(object)
    bad.loc[250, "horsepower"] = "lots"
    endpoints.set_batch_settings(store, endpoint, {"mini_batch_rows": 100, "error_threshold": 1})
    request, outcome = score_inline(service, upload(store, endpoint, bad))
    assert outcome["status"] == "Finished", outcome
    node = runs.get_node(store, request.instance_id, "score")
    assert node.metrics["failed_mini_batches"] == 1
    assert node.metrics["rows_in"] < len(cars) and outcome["rows"] < len(cars)
    endpoints.set_batch_settings(store, endpoint, {"mini_batch_rows": 100, "error_threshold": 0})
    request, outcome = score_inline(service, upload(store, endpoint, bad))
    assert outcome["status"] == "Failed" and len(outcome["failed_batches"]) == 1
    report = store.get_blob("batch-output", batch.output_name(request, ".error.json")).decode()
    detail = json.loads(report)["failed_batches"][0]
    assert "horsepower" in detail and "row " in detail.lower() and "mini-batch" in detail
    assert "lots" not in report and "Arrow" not in report


def test_a_file_at_the_container_root_gets_an_error_report(store):
    name = f"loose-{uuid.uuid4().hex[:6]}.csv"
    store.put_blob("batch-input", name, b"a\n1\n")
    assert batch.request_for(store, f"batch-input/{name}") is None
    assert batch.misplaced_upload(store, f"batch-input/{name}")
    report = json.loads(store.get_blob("batch-output", f"{name}.error.json"))
    assert "endpoint folder" in report["error"]
